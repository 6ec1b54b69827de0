/* kbench - the kernel's costs as a process sees them, in instructions
 * counted from U-mode (rdinstret; the kernel lets U-mode read it through
 * scounteren.IR). Exact only under QEMU -icount shift=0 on one hart
 * (`make bench`): QEMU's instret is one count for the whole machine, and
 * without -icount it follows host time. The figures include the timer
 * ticks that fall inside a run (one per 10 ms: a few hundred
 * instructions in ten million).
 *
 *   kbench getpid N        N getpid calls (ecall in a loop, as
 *                          selftest proc's round trip)
 *   kbench fault N         N anonymous pages of a fresh mapping touched
 *                          once each (a store: zero-fill fault, map,
 *                          return), less the same loop over them again
 *                          (no faults)
 *   kbench spawn N [PATH]  N times spawn PATH (default /bin/hello) with no
 *                          arguments, then wait4 for it
 *
 * Prints one line "kbench WHAT n=N instructions=I per_op=P.P" (P to one
 * decimal place, I the total net of the loop's baseline where one is
 * named above) and exits 0; a failed call prints "kbench: ..." and
 * exits 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tally/syscall.h"

static inline unsigned long instret(void)
{
	unsigned long n;

	__asm__ volatile("rdinstret %0" : "=r"(n) :: "memory");
	return n;
}

static void report(const char *what, unsigned long n, unsigned long instr)
{
	unsigned long tenths = n ? (instr * 10 + n / 2) / n : 0;

	printf("kbench %s n=%lu instructions=%lu per_op=%lu.%lu\n", what, n, instr,
	       tenths / 10, tenths % 10);
}

static int bench_getpid(unsigned long n)
{
	register long a7 __asm__("a7") = __NR_getpid;
	register long a0 __asm__("a0");
	unsigned long t0 = instret();

	for (unsigned long i = 0; i < n; i++)
		__asm__ volatile("ecall" : "=r"(a0) : "r"(a7) : "memory");
	report("getpid", n, instret() - t0);
	return 0;
}

static int bench_fault(unsigned long n)
{
	size_t len = n * 4096;
	volatile char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long t0, t1, t2;

	if (m == MAP_FAILED) {
		printf("kbench: mmap of %lu pages: errno %d\n", n, errno);
		return 1;
	}
	t0 = instret();
	for (size_t off = 0; off < len; off += 4096)
		m[off] = 1;
	t1 = instret();
	for (size_t off = 0; off < len; off += 4096)
		m[off] = 2;
	t2 = instret();
	munmap((void *)m, len);
	report("fault", n, (t1 - t0) - (t2 - t1));
	return 0;
}

static int bench_spawn(unsigned long n, const char *path)
{
	char *args[] = { (char *)path, NULL };
	unsigned long t0 = instret();

	for (unsigned long i = 0; i < n; i++) {
		int status;
		pid_t pid = tally_spawn(path, args, NULL);

		if (pid < 0) {
			printf("kbench: spawn %s: errno %d\n", path, errno);
			return 1;
		}
		if (wait4(pid, &status, 0, NULL) != pid || tally_exit_code(status) != 0) {
			printf("kbench: %s: wait4 or its exit status failed\n", path);
			return 1;
		}
	}
	report("spawn", n, instret() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;

	if (argc < 3 || !n) {
		printf("kbench: usage: kbench getpid|fault|spawn N [PATH]\n");
		return 1;
	}
	if (!strcmp(argv[1], "getpid"))
		return bench_getpid(n);
	if (!strcmp(argv[1], "fault"))
		return bench_fault(n);
	if (!strcmp(argv[1], "spawn"))
		return bench_spawn(n, argc > 3 ? argv[3] : "/bin/hello");
	printf("kbench: unknown benchmark %s\n", argv[1]);
	return 1;
}
