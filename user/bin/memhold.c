/* memhold - holds a known amount of memory and waits, for the accounting
 * tests (ps, memstat PID, memmap, memstat's user line): grows the heap by
 * heap_kib with brk and writes every page; maps mmap_kib anonymous
 * read-write and writes every page; maps one PROT_NONE page (an area
 * never touched); maps peak_kib more, writes every page and unmaps it
 * (so its peak RSS stays peak_kib above its RSS); then writes
 * "memhold: ready pid P" and waits, yielding its hart, until `seconds`
 * have passed (0: until it is killed), and exits 0. With `zombie` after
 * the seconds it first spawns `memhold exit` (a child that exits at once)
 * and never waits for it, so the child stays a zombie while memhold
 * lives; the ready line then ends " child C". With `churn` it does not
 * sit still while it waits: it maps peak_kib (or a page), writes every
 * page and unmaps it again, over and over, so its areas and RSS change
 * all the time (for readers on another hart).
 *
 *   memhold heap_kib mmap_kib peak_kib [seconds [zombie|churn]]
 *   memhold exit
 *
 * Nothing it does after the unmap touches a new page (the ready line is
 * formatted by hand into a buffer on main's stack, not by stdio), so
 * its RSS and peak RSS stay as they were while it waits. A failed call
 * prints "memhold: ... failed" and exits 1. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tally/syscall.h"

#define PAGE 4096UL

static int fail(const char *what)
{
	write(1, "memhold: ", 9);
	write(1, what, __builtin_strlen(what));
	write(1, " failed\n", 8);
	return 1;
}

static void touch(volatile char *p, size_t bytes)
{
	for (size_t off = 0; off < bytes; off += PAGE)
		p[off] = 1;
}

/* The decimal digits of v at buf + n; the new length. */
static size_t put_num(char *buf, size_t n, long v)
{
	char digits[24];
	size_t d = 0;

	do
		digits[d++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (d)
		buf[n++] = digits[--d];
	return n;
}

/* "memhold: ready pid P[ child C]\n" into buf; its length. */
static size_t ready_line(char *buf, long pid, long child)
{
	static const char head[] = "memhold: ready pid ", tail[] = " child ";
	size_t n = sizeof(head) - 1;

	__builtin_memcpy(buf, head, n);
	n = put_num(buf, n, pid);
	if (child > 0) {
		__builtin_memcpy(buf + n, tail, sizeof(tail) - 1);
		n = put_num(buf, n + sizeof(tail) - 1, child);
	}
	buf[n++] = '\n';
	return n;
}

int main(int argc, char **argv)
{
	size_t heap = argc > 3 ? strtoul(argv[1], NULL, 0) * 1024 : 0;
	size_t map = argc > 3 ? strtoul(argv[2], NULL, 0) * 1024 : 0;
	size_t peak = argc > 3 ? strtoul(argv[3], NULL, 0) * 1024 : 0;
	long seconds = argc > 4 ? atol(argv[4]) : 0;
	struct linux_timespec start, now;
	char line[64];
	char *brk0, *p;
	long child = 0;
	int churn = argc > 5 && !__builtin_strcmp(argv[5], "churn");

	if (argc == 2 && !__builtin_strcmp(argv[1], "exit"))
		return 0;
	if (argc < 4 || heap % PAGE || map % PAGE || peak % PAGE) {
		static const char usage[] = "usage: memhold heap_kib mmap_kib peak_kib [seconds]"
					    " (KiB: multiples of 4)\n";

		write(2, usage, sizeof(usage) - 1);
		return 1;
	}
	brk0 = (char *)tally_syscall1(__NR_brk, 0);
	if ((char *)tally_syscall1(__NR_brk, brk0 + heap) != brk0 + heap)
		return fail("brk");
	touch(brk0, heap);
	if (map) {
		p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return fail("mmap");
		touch(p, map);
	}
	if (mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		return fail("mmap PROT_NONE");
	if (peak) {
		p = mmap(NULL, peak, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return fail("mmap peak");
		touch(p, peak);
		if (munmap(p, peak) != 0)
			return fail("munmap");
	}
	if (argc > 5 && !__builtin_strcmp(argv[5], "zombie")) {
		char *args[] = { argv[0], "exit", NULL };

		child = tally_spawn(argv[0], args, NULL);
		if (child <= 0)
			return fail("spawn");
	}
	tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &start);
	write(1, line, ready_line(line, getpid(), child));
	do {
		if (churn) {
			size_t len = peak ? peak : PAGE;

			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				return fail("mmap churn");
			touch(p, len);
			if (munmap(p, len) != 0)
				return fail("munmap churn");
		}
		tally_syscall0(__NR_sched_yield);
		tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &now);
	} while (seconds <= 0 || now.tv_sec - start.tv_sec < seconds);
	return 0;
}
