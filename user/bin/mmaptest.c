/* mmaptest - mmap, munmap and mprotect: partial unmaps that split a
 * mapping, protection changes, MAP_FIXED and MAP_FIXED_NOREPLACE, bad
 * arguments; then the accesses that must fault, each in a child of its own
 * (spawned from argv[0], which must be the program's path, as `run`
 * passes it) whose exit status must be 139, a segmentation
 * fault as a shell shows it.
 *
 *   mmaptest              everything: the checks, then each fault case
 *   mmaptest nofault      only the checks in this process
 *   mmaptest fault CASE   do one faulting access (the child's part):
 *                         unmapped, readonly, none, exec
 *
 * Prints "mmaptest: ..." progress, "fault CASE: status 139" per child,
 * "result: PASS|FAIL". A child whose access does not fault prints
 * "FAIL: CASE survived" and exits 1. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tally/syscall.h"

#define PAGE 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static const char *const fault_cases[] = { "unmapped", "readonly", "none", "exec" };

static unsigned char *map_pages(size_t n, int prot)
{
	unsigned char *p = mmap(NULL, n * PAGE, prot, ANON, -1, 0);

	check(p != MAP_FAILED, "mmap %zu pages: errno %d", n, errno);
	return p == MAP_FAILED ? NULL : p;
}

static int page_holds(const unsigned char *p, unsigned char v)
{
	for (size_t i = 0; i < PAGE; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* 8 pages, the middle two unmapped: the pages either side keep their
 * contents; the hole refilled with MAP_FIXED reads zero;
 * MAP_FIXED_NOREPLACE over it is refused. */
static void check_split(void)
{
	unsigned char *p = map_pages(8, RW), *q;

	if (!p)
		return;
	for (size_t i = 0; i < 8; i++)
		memset(p + i * PAGE, (int)(0xA0 + i), PAGE);
	check(munmap(p + 3 * PAGE, 2 * PAGE) == 0, "munmap pages 3-4: errno %d", errno);
	check(page_holds(p + 2 * PAGE, 0xA2) && page_holds(p + 5 * PAGE, 0xA5) &&
	      page_holds(p, 0xA0) && page_holds(p + 7 * PAGE, 0xA7), "pages around the hole changed");
	q = mmap(p + 3 * PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	check(q == p + 3 * PAGE, "MAP_FIXED_NOREPLACE into the hole: %p, errno %d", (void *)q, errno);
	check(q == MAP_FAILED || page_holds(q, 0), "refilled page not zero");
	errno = 0;
	q = mmap(p + 2 * PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	check(q == MAP_FAILED && errno == EEXIST, "MAP_FIXED_NOREPLACE over a mapping: %p errno %d",
	      (void *)q, errno);
	q = mmap(p + 5 * PAGE, PAGE, RW, ANON | MAP_FIXED, -1, 0);
	check(q == p + 5 * PAGE && page_holds(q, 0), "MAP_FIXED over page 5: %p", (void *)q);
	check(page_holds(p + 6 * PAGE, 0xA6), "page after MAP_FIXED changed");
	check(munmap(p, 8 * PAGE) == 0, "munmap all 8 (with a hole in it): errno %d", errno);
	printf("mmaptest: split checked\n");
}

/* mprotect of one page in the middle to read-only keeps its data;
 * back to read-write it can be written again. */
static void check_protect(void)
{
	unsigned char *p = map_pages(4, RW);

	if (!p)
		return;
	memset(p, 0x5A, 4 * PAGE);
	check(mprotect(p + PAGE, PAGE, PROT_READ) == 0, "mprotect read-only: errno %d", errno);
	check(page_holds(p + PAGE, 0x5A), "read-only page lost its data");
	p[0] = 1;
	p[2 * PAGE] = 1;
	check(mprotect(p + PAGE, PAGE, RW) == 0, "mprotect back: errno %d", errno);
	p[PAGE] = 2;
	check(p[PAGE] == 2, "write after mprotect back");
	check(munmap(p, 4 * PAGE) == 0, "munmap: errno %d", errno);
	printf("mmaptest: protect checked\n");
}

static void expect_einval(long r, const char *what)
{
	check(r == -EINVAL, "%s: %ld, not -EINVAL", what, r);
}

static void check_bad_args(void)
{
	unsigned char *p = map_pages(1, RW), *q;

	expect_einval(tally_syscall6(__NR_mmap, 0, 0, RW, ANON, -1, 0), "mmap length 0");
	expect_einval(tally_syscall2(__NR_munmap, (long)p + 1, PAGE), "munmap unaligned");
	expect_einval(tally_syscall2(__NR_munmap, (long)p, 0), "munmap length 0");
	expect_einval(tally_syscall3(__NR_mprotect, (long)p + 1, PAGE, PROT_READ), "mprotect unaligned");
	q = mmap(p, PAGE, RW, ANON, -1, 0);   /* a hint that is taken: somewhere else */
	check(q != MAP_FAILED && q != p && ((uintptr_t)q & (PAGE - 1)) == 0,
	      "hint over a mapping: %p", (void *)q);
	if (q != MAP_FAILED)
		munmap(q, PAGE);
	q = mmap(NULL, 3 * PAGE, RW, ANON | MAP_POPULATE, -1, 0);
	check(q != MAP_FAILED && page_holds(q, 0) && page_holds(q + 2 * PAGE, 0),
	      "MAP_POPULATE: %p", (void *)q);
	if (q != MAP_FAILED)
		munmap(q, 3 * PAGE);
	if (p)
		munmap(p, PAGE);
	printf("mmaptest: arguments checked\n");
}

/* The child's part: one access that must kill it. */
static int do_fault(const char *what)
{
	volatile unsigned char *p = map_pages(2, RW);

	if (!p)
		return 2;
	/* Both pages present first: each fault is a protection fault, not a
	 * first touch. */
	p[0] = 0;
	p[PAGE] = 0;
	if (!strcmp(what, "unmapped")) {
		munmap((void *)p, 2 * PAGE);
		(void)p[PAGE];
	} else if (!strcmp(what, "readonly")) {
		mprotect((void *)p, 2 * PAGE, PROT_READ);
		p[PAGE] = 1;
	} else if (!strcmp(what, "none")) {
		mprotect((void *)p, 2 * PAGE, PROT_NONE);
		(void)p[0];
	} else if (!strcmp(what, "exec")) {
		((void (*)(void))(uintptr_t)p)();
	} else {
		printf("FAIL: no fault case %s\n", what);
		return 2;
	}
	printf("FAIL: %s survived\n", what);
	return 1;
}

static void run_fault(const char *self, const char *what)
{
	char *argv[] = { (char *)self, "fault", (char *)what, NULL };
	int status = 0;
	pid_t pid = tally_spawn(self, argv, NULL), got;

	if (!check(pid > 0, "spawn %s fault %s: errno %d", self, what, errno))
		return;
	got = waitpid(pid, &status, 0);
	check(got == pid, "waitpid %d: %d errno %d", (int)pid, (int)got, errno);
	printf("fault %s: status %d\n", what, tally_exit_code(status));
	check(tally_exit_code(status) == 139, "fault %s: exit status %d, not 139", what,
	      tally_exit_code(status));
}

/* A page of the program's own initialised data, and its code. */
static _Alignas(4096) unsigned char file_data[PAGE] = { 1, 2, 3, 4, 5, 6, 7, 8 };

__attribute__((noinline)) static int text_probe(int x)
{
	return x * 3 + 1;
}

/* madvise(MADV_DONTNEED) over pages of the executable's own segments:
 * Linux reads a private file mapping's pages from the file again at the
 * next touch, so the data keeps its initial bytes and the code runs; a
 * zeroed page in their place would lose the one and make the other an
 * illegal instruction. */
static void check_madvise_file(void)
{
	uintptr_t code = (uintptr_t)&text_probe & ~(PAGE - 1);
	int (*volatile probe)(int) = text_probe;

	check(madvise(file_data, PAGE, MADV_DONTNEED) == 0, "madvise data: errno %d", errno);
	check(!memcmp(file_data, (const unsigned char[]){ 1, 2, 3, 4, 5, 6, 7, 8 }, 8),
	      "data page after MADV_DONTNEED: its initial bytes (%u %u ...)", file_data[0], file_data[1]);
	check(madvise((void *)code, PAGE, MADV_DONTNEED) == 0, "madvise text: errno %d", errno);
	check(probe(4) == 13, "text page after MADV_DONTNEED: the code runs");
	printf("mmaptest: file pages checked\n");
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "fault"))
		return do_fault(argv[2]);
	check_split();
	check_protect();
	check_bad_args();
	check_madvise_file();
	if (!(argc > 1 && !strcmp(argv[1], "nofault")))
		for (size_t i = 0; i < sizeof(fault_cases) / sizeof(fault_cases[0]); i++)
			run_fault(argv[0], fault_cases[i]);
	return finish();
}
