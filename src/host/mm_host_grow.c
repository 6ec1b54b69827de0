/* mm_host_grow.c - mm_host_init_growing() (mm/mm_host.h): the growing
 * arena of common/mm_grow.h over Linux's calls -- a reservation mapped
 * PROT_NONE with MAP_NORESERVE, made usable by mprotect, free blocks of
 * 2 MiB and more given back with madvise(MADV_DONTNEED).
 *
 * Host glue only; Tally's user programs hand Tally's calls to the same
 * arena (user/lib/malloc.c). */
#include "mm/mm_host.h"
#include "common/mm_grow.h"
#include "mm/page.h"
#include "kerrno.h"

#include <sys/mman.h>

static void *host_reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int host_commit(void *addr, size_t bytes)
{
	return mprotect(addr, bytes, PROT_READ | PROT_WRITE);
}

static void host_decommit(void *addr, size_t bytes)
{
	mprotect(addr, bytes, PROT_NONE);
}

static void host_release(void *addr, size_t bytes)
{
	madvise(addr, bytes, MADV_DONTNEED);
}

static void host_unreserve(void *addr, size_t bytes)
{
	munmap(addr, bytes);
}

static const struct mm_grow_ops host_ops = {
	.reserve = host_reserve,
	.commit = host_commit,
	.decommit = host_decommit,
	.release = host_release,
	.unreserve = host_unreserve,
};

int mm_host_init_growing(size_t initial, size_t reserved, size_t step)
{
	const size_t block = PAGE_SIZE << MAX_ORDER;

	if (!initial || initial > reserved || reserved > (size_t)UINT32_MAX * PAGE_SIZE)
		return -EINVAL;
	mm_host_before_init = mm_grow_forget;
	return mm_grow_init(&host_ops, (initial + block - 1) / block * block,
			    (reserved + block - 1) / block * block, step);
}

size_t mm_host_arena_bytes(void)
{
	return mm_grow_bytes();
}

void mm_host_arena_span(uintptr_t *lo, uintptr_t *hi)
{
	mm_grow_span(lo, hi);
}
