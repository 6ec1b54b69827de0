/* brkgrow - grows the heap with brk until the kernel says no: each step
 * moves the break up by STEP KiB (default 1024) with sbrk and writes the
 * first and last byte of the new range. The run must end with sbrk
 * failing with ENOMEM and the break exactly where it was before that
 * call (brk(0) reads it back); then the break is moved back to where it
 * started and grown once more, which must succeed again.
 *
 *   brkgrow [step_kib] [max_mib]   max_mib: stop there, as a pass, if the
 *                                  kernel never refuses (default: no limit)
 *
 * Prints "brkgrow: step_kib=N", "grown_kib: N", "stopped: enomem|limit",
 * "break_unchanged: yes|no", "regrow: ok|bad", "result: PASS|FAIL". */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "tally/syscall.h"

int main(int argc, char **argv)
{
	size_t step = (argc > 1 ? strtoul(argv[1], NULL, 0) : 1024) * 1024;
	size_t max = argc > 2 ? strtoul(argv[2], NULL, 0) << 20 : SIZE_MAX;
	char *start = sbrk(0), *before, *p;
	size_t grown = 0;
	int err = 0;

	printf("brkgrow: step_kib=%zu\n", step / 1024);
	if (!check(step > 0 && start != (char *)-1, "bad step or no break"))
		return finish();
	for (;;) {
		if (grown + step > max)
			break;
		before = (char *)tally_syscall1(__NR_brk, 0);
		p = sbrk((intptr_t)step);
		if (p == (char *)-1) {
			err = errno;
			break;
		}
		p[0] = 1;
		p[step - 1] = 1;
		grown += step;
	}
	printf("grown_kib: %zu\nstopped: %s\n", grown / 1024, err ? "enomem" : "limit");
	if (err) {
		check(err == ENOMEM, "sbrk failed with errno %d, not ENOMEM", err);
		char *after = (char *)tally_syscall1(__NR_brk, 0);
		printf("break_unchanged: %s\n", after == before ? "yes" : "no");
		check(after == before, "break moved from %p to %p on a failed call", before, after);
	}
	check(brk(start) == 0, "brk back to the start: errno %d", errno);
	p = sbrk((intptr_t)step);
	printf("regrow: %s\n", p == start ? "ok" : "bad");
	check(p == start, "regrow from %p gave %p", start, p);
	return finish();
}
