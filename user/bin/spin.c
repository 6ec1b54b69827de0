/* spin - a CPU-bound process for the scheduler's tests: loops without a
 * system call (so only the timer tick can take its hart away) until
 * `seconds` have passed on CLOCK_MONOTONIC (default 0: until killed),
 * looking at the clock every few million iterations. Prints
 * "spin: pid P done" and exits 0 when its time is up.
 *
 *   spin [seconds] */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tally/syscall.h"

int main(int argc, char **argv)
{
	long seconds = argc > 1 ? atol(argv[1]) : 0;
	struct linux_timespec start, now;
	volatile unsigned long sink = 0;

	tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &start);
	for (;;) {
		for (unsigned long i = 0; i < 4000000; i++)
			sink += i;
		tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &now);
		if (seconds > 0 && now.tv_sec - start.tv_sec >= seconds)
			break;
	}
	printf("spin: pid %d done\n", (int)getpid());
	return 0;
}
