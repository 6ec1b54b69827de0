/* oomhog - takes memory until the system runs out.
 *
 *   oomhog [max_mib]      maps 1 MiB at a time (anonymous, no MAP_POPULATE)
 *                         and writes every page of it, so each page costs
 *                         a frame at its first touch; stops after max_mib
 *                         MiB (default: no limit). On Tally it is meant to
 *                         be stopped by the OOM killer (the kernel names it
 *                         and its RSS) or to see mmap fail with ENOMEM,
 *                         whichever comes first; both leave the kernel
 *                         running.
 *   oomhog hold [leave_kib]
 *                         takes memory with MAP_POPULATE, 1 MiB at a time,
 *                         then in halves after each ENOMEM down to one
 *                         page, so it holds all a process can get without
 *                         a page fault ever finding no frame (no OOM
 *                         kill); gives leave_kib KiB of it back (default
 *                         0: a mapping of that size taken first, unmapped
 *                         last); then keeps the rest, giving its hart away
 *                         (sched_yield) until it is killed.
 *   oomhog populate mib   one mapping of mib MiB with MAP_POPULATE: all
 *                         its frames, or ENOMEM and nothing mapped.
 *   oomhog noreserve mib  maps mib MiB at once with MAP_NORESERVE (not
 *                         committed: mmap does not compare it with free
 *                         memory) and writes every page of it, so a page
 *                         fault may find no frame: the OOM decision then.
 *
 * Prints "oomhog: touched_mib=N" every 8 MiB, then at the end
 * "oomhog: mmap: ENOMEM at N MiB" or "oomhog: limit N MiB", and exits 0
 * (populate: "oomhog: populate: ENOMEM" or "oomhog: populated N MiB").
 * A kill leaves no last line: the kernel's report says why. hold prints
 * "oomhog: holding N KiB" once it has all it keeps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "tally/syscall.h"

#define CHUNK (1UL << 20)
#define PAGE  4096UL
#define RW    (PROT_READ | PROT_WRITE)

static int hold(size_t leave)
{
	size_t chunk = CHUNK, held = 0;
	void *spare = NULL;

	printf("oomhog: hold\n");   /* the stack printf needs, faulted in now */
	if (leave) {
		spare = mmap(NULL, leave, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (!check(spare != MAP_FAILED, "cannot take the %zu bytes to leave: errno %d",
			   leave, errno))
			return 1;
	}
	while (chunk >= PAGE) {
		unsigned char *p = mmap(NULL, chunk, RW,
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
	if (spare && !check(munmap(spare, leave) == 0, "munmap: errno %d", errno))
		return 1;
	printf("oomhog: holding %zu KiB\n", held >> 10);
	for (;;)
		tally_syscall0(__NR_sched_yield);
}

/* Touch every page of [p, p + bytes), saying so every 8 MiB. */
static void touch(unsigned char *p, size_t bytes, size_t *mib)
{
	for (size_t off = 0; off < bytes; off += PAGE) {
		p[off] = (unsigned char)(*mib + off);
		if ((off + PAGE) % CHUNK == 0 && ++*mib % 8 == 0)
			printf("oomhog: touched_mib=%zu\n", *mib);
	}
}

int main(int argc, char **argv)
{
	size_t max = (size_t)-1, mib = 0;
	unsigned char *p;

	if (argc > 1 && !strcmp(argv[1], "hold"))
		return hold(argc > 2 ? strtoul(argv[2], NULL, 0) * 1024 : 0);
	if (argc > 2 && !strcmp(argv[1], "populate")) {
		max = strtoul(argv[2], NULL, 0);
		p = mmap(NULL, max * CHUNK, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED) {
			printf("oomhog: populate: %s\n", errno == ENOMEM ? "ENOMEM" : "error");
			return check(errno == ENOMEM, "mmap failed with errno %d", errno) ? 0 : 1;
		}
		printf("oomhog: populated %zu MiB\n", max);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "noreserve")) {
		max = strtoul(argv[2], NULL, 0);
		p = mmap(NULL, max * CHUNK, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (!check(p != MAP_FAILED, "mmap MAP_NORESERVE failed with errno %d", errno))
			return 1;
		touch(p, max * CHUNK, &mib);
		printf("oomhog: limit %zu MiB\n", max);
		return 0;
	}
	if (argc > 1)
		max = strtoul(argv[1], NULL, 0);
	while (mib < max) {
		p = mmap(NULL, CHUNK, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			printf("oomhog: mmap: %s at %zu MiB\n", errno == ENOMEM ? "ENOMEM" : "error", mib);
			return check(errno == ENOMEM, "mmap failed with errno %d", errno) ? 0 : 1;
		}
		touch(p, CHUNK, &mib);
	}
	printf("oomhog: limit %zu MiB\n", max);
	return 0;
}
