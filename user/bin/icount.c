/* icount - run a program and count the instructions the machine retired
 * while it ran: rdinstret just before spawning it and just after wait4
 * reaped it.
 *
 *   icount PATH [ARGS...]        PATH gets ARGS and icount's environment
 *
 * Prints, after the program's own output, "icount: PATH instructions=N
 * status=S" (S as a shell shows it: 128 + a signal's number when killed)
 * and exits with S; 127 and a line on stderr when PATH cannot be spawned.
 * N is exact under QEMU -smp 1 -icount shift=0, where instret is one
 * counter for the one hart (and repeats within about 0.1%: where the
 * timer ticks land moves): it counts the program's own
 * instructions and everything the kernel did for it (loading it, its page
 * faults and system calls, its exit), plus what else ran meanwhile --
 * timer ticks, and icount's own spawn and wait4 (an idle hart waiting in
 * wfi retires nothing). With more harts or without -icount it follows
 * host time and says little. make bench runs /lua/bench.lua under it in
 * each TALLY_MODE (tools/bench/user_bench.py). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tally/syscall.h"

extern char **environ;

static inline uint64_t instret(void)
{
	uint64_t n;

	__asm__ volatile("rdinstret %0" : "=r"(n) : : "memory");
	return n;
}

int main(int argc, char **argv)
{
	uint64_t start, end;
	int ws = 0, code;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: icount PATH [ARGS...]\n");
		return 2;
	}
	start = instret();
	pid = tally_spawn(argv[1], argv + 1, environ);
	if (pid < 0) {
		fprintf(stderr, "icount: %s: %s\n", argv[1], strerror(errno));
		return 127;
	}
	if (waitpid(pid, &ws, 0) != pid) {
		fprintf(stderr, "icount: wait for %s: %s\n", argv[1], strerror(errno));
		return 127;
	}
	end = instret();
	code = tally_exit_code(ws);
	printf("icount: %s instructions=%llu status=%d\n", argv[1],
	       (unsigned long long)(end - start), code);
	return code;
}
