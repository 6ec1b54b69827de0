/* oomhog - takes memory until the system runs out.
 *
 *   oomhog [max_mib]   maps 1 MiB at a time (anonymous, no MAP_POPULATE)
 *                      and writes every page of it, so each page costs a
 *                      frame at its first touch; stops after max_mib MiB
 *                      (default: no limit). On Tally it is meant to be
 *                      stopped by the OOM killer (the kernel names it and
 *                      its RSS) or to see mmap fail with ENOMEM, whichever
 *                      comes first; both leave the kernel running.
 *   oomhog hold        takes memory with MAP_POPULATE, 1 MiB at a time,
 *                      then in halves after each ENOMEM down to one page,
 *                      so it holds all a process can get without a page
 *                      fault ever finding no frame (no OOM kill); then it
 *                      keeps it, giving its hart away (sched_yield) until
 *                      it is killed.
 *
 * Prints "oomhog: touched_mib=N" every 8 MiB, then at the end
 * "oomhog: mmap: ENOMEM at N MiB" or "oomhog: limit N MiB", and exits 0.
 * A kill leaves no last line: the kernel's report says why. hold prints
 * "oomhog: holding N KiB" once it has all it can get. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "tally/syscall.h"

#define CHUNK (1UL << 20)
#define PAGE  4096UL

static int hold(void)
{
	size_t chunk = CHUNK, held = 0;

	printf("oomhog: hold\n");   /* the stack printf needs, faulted in now */
	while (chunk >= PAGE) {
		unsigned char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (p == MAP_FAILED) {
			if (!check(errno == ENOMEM, "mmap failed with errno %d", errno))
				return 1;
			chunk /= 2;
			continue;
		}
		p[0] = 1;   /* populated: no fault */
		held += chunk;
	}
	printf("oomhog: holding %zu KiB\n", held >> 10);
	for (;;)
		tally_syscall0(__NR_sched_yield);
}

int main(int argc, char **argv)
{
	size_t max = (size_t)-1, mib;

	if (argc > 1 && !strcmp(argv[1], "hold"))
		return hold();
	if (argc > 1)
		max = strtoul(argv[1], NULL, 0);
	for (mib = 0; mib < max; mib++) {
		unsigned char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			printf("oomhog: mmap: %s at %zu MiB\n", errno == ENOMEM ? "ENOMEM" : "error", mib);
			return check(errno == ENOMEM, "mmap failed with errno %d", errno) ? 0 : 1;
		}
		for (size_t off = 0; off < CHUNK; off += 4096)
			p[off] = (unsigned char)(mib + off);
		if ((mib + 1) % 8 == 0)
			printf("oomhog: touched_mib=%zu\n", mib + 1);
	}
	printf("oomhog: limit %zu MiB\n", max);
	return 0;
}
