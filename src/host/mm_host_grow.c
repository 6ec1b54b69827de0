/* mm_host_grow.c - mm_host_init_growing() (mm/mm_host.h): an arena that
 * grows by hot-adding more of a reservation (page_hot_add) when the mm
 * layer runs short, and gives free 4 MiB blocks back (madvise).
 *
 * Host glue only (Linux's mmap, mprotect, madvise); not in the kernel,
 * not in Tally's user programs. */
#include "mm/mm_host.h"
#include "mm/buddy.h"
#include "mm/page.h"
#include "mm/kmalloc.h"
#include "mm/shrinker.h"
#include "mm/stats.h"
#include "mm/txn.h"
#include "kerrno.h"

#include <sys/mman.h>
#include <unistd.h>

/* The growing arena: [base, base + reserved) of address space, of which
 * [base, base + used) is usable and given to the mm layer. Changed only
 * by grow(), which mm_reclaim calls one walker at a time. */
static struct {
	uintptr_t base;
	size_t reserved, used, step;
	struct page *array;
	size_t array_bytes;
} grow_arena;

/* Unmap the growing arena, if any (the mm layer is being set up anew). */
static void grow_forget(void)
{
	if (!grow_arena.base)
		return;
	munmap((void *)grow_arena.base, grow_arena.reserved);
	munmap(grow_arena.array, grow_arena.array_bytes);
	grow_arena.base = 0;
	grow_arena.used = 0;
}

/* mm_set_grow's hook: make the next part of the reservation usable and
 * hot-add it. At least bytes (in whole MAX_ORDER blocks), the step and an
 * eighth of what the arena has (geometric, so a growing program grows
 * the arena a logarithmic number of times); all that is left when less.
 * Returns the bytes added, 0 when the reservation is used up or the
 * system refuses. */
static unsigned long grow(unsigned long bytes)
{
	const size_t block = PAGE_SIZE << MAX_ORDER;
	size_t left = grow_arena.reserved - grow_arena.used, add = bytes;
	uintptr_t at = grow_arena.base + grow_arena.used;

	if (add < grow_arena.step)
		add = grow_arena.step;
	if (add < grow_arena.used / 8)
		add = grow_arena.used / 8;
	add = (add + block - 1) / block * block;
	if (add > left)
		add = left;
	if (!add || mprotect((void *)at, add, PROT_READ | PROT_WRITE) != 0)
		return 0;
	if (page_hot_add(MM_HOST_GROW_PHYS_BASE + grow_arena.used, add) != 0) {
		mprotect((void *)at, add, PROT_NONE);
		return 0;
	}
	grow_arena.used += add;
	return add;
}

/* mm_set_release's hook: the frames of a free block go back to the
 * system; the next touch gets zeroed ones. */
static void release(void *addr, size_t bytes)
{
	madvise(addr, bytes, MADV_DONTNEED);
}

static void *reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int mm_host_init_growing(size_t initial, size_t reserved, size_t step)
{
	const size_t block = PAGE_SIZE << MAX_ORDER;
	struct mm_region ram;
	struct mm_layout l = { 0 };
	size_t frames;
	int ret;

	if (!initial || initial > reserved || reserved > (size_t)UINT32_MAX * PAGE_SIZE)
		return -EINVAL;
	initial = (initial + block - 1) / block * block;
	reserved = (reserved + block - 1) / block * block;
	if (initial > reserved)
		initial = reserved;
	grow_forget();   /* again: the last one is forgotten */
	mm_host_before_init = grow_forget;
	frames = reserved / PAGE_SIZE;
	grow_arena.array_bytes = (frames * sizeof(struct page) + PAGE_SIZE - 1) & PAGE_MASK;
	grow_arena.array = reserve(grow_arena.array_bytes);
	grow_arena.base = (uintptr_t)reserve(reserved);
	if (!grow_arena.array || !grow_arena.base ||
	    mprotect(grow_arena.array, grow_arena.array_bytes, PROT_READ | PROT_WRITE) ||
	    mprotect((void *)grow_arena.base, initial, PROT_READ | PROT_WRITE)) {
		if (grow_arena.array)
			munmap(grow_arena.array, grow_arena.array_bytes);
		if (grow_arena.base)
			munmap((void *)grow_arena.base, reserved);
		grow_arena.base = 0;
		return -ENOMEM;
	}
	grow_arena.reserved = reserved;
	grow_arena.used = initial;
	grow_arena.step = step ? step : block;
	ram.base = MM_HOST_GROW_PHYS_BASE;
	ram.size = initial;
	l.ram = &ram;
	l.nram = 1;
	l.virt_offset = grow_arena.base - (uintptr_t)MM_HOST_GROW_PHYS_BASE;
	l.frame_array = grow_arena.array;
	l.hotadd_frames = (reserved - initial) / PAGE_SIZE;
	ret = page_alloc_init(&l);
	if (!ret)
		ret = kmalloc_init();
	mm_txn_reset();
	mm_stats_reset();
	if (!ret) {
		mm_set_grow(grow);
		mm_set_release(release);
	}
	return ret;
}

size_t mm_host_arena_bytes(void)
{
	return grow_arena.base ? grow_arena.used : 0;
}

void mm_host_arena_span(uintptr_t *lo, uintptr_t *hi)
{
	*lo = grow_arena.base;
	*hi = grow_arena.base ? grow_arena.base + grow_arena.reserved : 0;
}
