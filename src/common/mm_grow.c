/* mm_grow.c - mm_grow_init() (common/mm_grow.h): the mm layer over an
 * arena that grows by hot-adding more of a reservation and gives free
 * blocks of 2 MiB and more back, with the operating system's calls
 * handed in.
 *
 * Not an allocator and not the kernel's: the environments that run src/mm
 * inside a program (src/host/mm_host_grow.c, user/lib/malloc.c) share it.
 *
 * Layout: two reservations, the arena [base, base + reserved) and the
 * frame array (a struct page per frame of the whole reservation). Of the
 * arena, [base, base + used) is committed and hot-added, the rest is
 * reserved only; of the array, the first array_used bytes (page-rounded)
 * are committed, always covering the entries of the used frames. Both
 * grow only, by grow(), which mm_reclaim calls one walker at a time. */
#include "common/mm_grow.h"
#include "mm/mm_host.h"
#include "mm/buddy.h"
#include "mm/page.h"
#include "mm/kmalloc.h"
#include "mm/shrinker.h"
#include "mm/stats.h"
#include "mm/txn.h"
#include "kerrno.h"

#define GROW_BLOCK (PAGE_SIZE << MAX_ORDER)

static struct {
	const struct mm_grow_ops *ops;
	uintptr_t base;            /* 0: no arena */
	size_t reserved, used, step;
	struct page *array;
	size_t array_bytes, array_used;
} ga;

static size_t page_up(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) & PAGE_MASK;
}

/* Commit the array entries of the first `frames` frames: 0, or the
 * commit hook's refusal. */
static int array_commit(size_t frames)
{
	size_t need = page_up(frames * sizeof(struct page));

	if (need <= ga.array_used)
		return 0;
	if (ga.ops->commit((char *)ga.array + ga.array_used, need - ga.array_used) != 0)
		return -ENOMEM;
	ga.array_used = need;
	return 0;
}

void mm_grow_forget(void)
{
	if (!ga.base)
		return;
	ga.ops->unreserve((void *)ga.base, ga.reserved);
	ga.ops->unreserve(ga.array, ga.array_bytes);
	ga.base = 0;
	ga.used = 0;
	ga.array_used = 0;
}

/* mm_set_grow's hook: commit the next part of the reservation (and its
 * array entries) and hot-add it; how much: common/mm_grow.h. Returns the
 * bytes added, 0 when the reservation is used up or the system refuses. */
static unsigned long grow(unsigned long bytes)
{
	size_t left = ga.reserved - ga.used, add = bytes;
	void *at = (void *)(ga.base + ga.used);

	if (add < ga.step)
		add = ga.step;
	if (add < ga.used / 8)
		add = ga.used / 8;
	add = (add + GROW_BLOCK - 1) / GROW_BLOCK * GROW_BLOCK;
	if (add > left)
		add = left;
	if (!add || array_commit((ga.used + add) / PAGE_SIZE) != 0)
		return 0;
	if (ga.ops->commit(at, add) != 0)
		return 0;
	if (page_hot_add(MM_HOST_GROW_PHYS_BASE + ga.used, add) != 0) {
		ga.ops->decommit(at, add);
		return 0;
	}
	ga.used += add;
	return add;
}

/* Both reservations and the first commits: 0, or -ENOMEM with nothing
 * left reserved. */
static int grow_reserve(size_t initial)
{
	ga.array_bytes = page_up(ga.reserved / PAGE_SIZE * sizeof(struct page));
	ga.array = ga.ops->reserve(ga.array_bytes);
	ga.base = (uintptr_t)ga.ops->reserve(ga.reserved);
	if (ga.array && ga.base && array_commit(initial / PAGE_SIZE) == 0 &&
	    ga.ops->commit((void *)ga.base, initial) == 0)
		return 0;
	if (ga.array)
		ga.ops->unreserve(ga.array, ga.array_bytes);
	if (ga.base)
		ga.ops->unreserve((void *)ga.base, ga.reserved);
	ga.base = 0;
	ga.array_used = 0;
	return -ENOMEM;
}

int mm_grow_init(const struct mm_grow_ops *ops, size_t initial, size_t reserved, size_t step)
{
	struct mm_region ram;
	struct mm_layout l = { 0 };
	int ret;

	reserved = page_up(reserved);
	initial = page_up(initial);
	if (!initial || reserved / PAGE_SIZE > UINT32_MAX)
		return -EINVAL;
	if (initial > reserved)
		initial = reserved;
	mm_grow_forget();   /* again: the last one is given back */
	ga.ops = ops;
	ga.reserved = reserved;
	ga.used = initial;
	ga.step = step ? step : GROW_BLOCK;
	if (grow_reserve(initial) != 0)
		return -ENOMEM;
	ram.base = MM_HOST_GROW_PHYS_BASE;
	ram.size = initial;
	l.ram = &ram;
	l.nram = 1;
	l.virt_offset = ga.base - (uintptr_t)MM_HOST_GROW_PHYS_BASE;
	l.frame_array = ga.array;
	l.hotadd_frames = (reserved - initial) / PAGE_SIZE;
	ret = page_alloc_init(&l);
	if (!ret)
		ret = kmalloc_init();
	mm_txn_reset();
	mm_stats_reset();
	if (!ret) {
		mm_set_grow(grow);
		mm_set_release(ops->release);
	}
	return ret;
}

size_t mm_grow_bytes(void)
{
	return ga.base ? ga.used : 0;
}

void mm_grow_span(uintptr_t *lo, uintptr_t *hi)
{
	*lo = ga.base;
	*hi = ga.base ? ga.base + ga.reserved : 0;
}
