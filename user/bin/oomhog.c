/* oomhog - takes memory until the system runs out: maps 1 MiB at a time
 * (anonymous, no MAP_POPULATE) and writes every page of it, so each page
 * costs a frame at its first touch. On Tally it is meant to be stopped by
 * the OOM killer (the kernel names it and its RSS) or to see mmap fail
 * with ENOMEM, whichever comes first; both leave the kernel running.
 *
 *   oomhog [max_mib]      stop after max_mib MiB (default: no limit)
 *
 * Prints "oomhog: touched_mib=N" every 8 MiB, then at the end
 * "oomhog: mmap: ENOMEM at N MiB" or "oomhog: limit N MiB", and exits 0.
 * A kill leaves no last line: the kernel's report says why. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "check.h"

#define CHUNK (1UL << 20)

int main(int argc, char **argv)
{
	size_t max = argc > 1 ? strtoul(argv[1], NULL, 0) : (size_t)-1, mib;

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
