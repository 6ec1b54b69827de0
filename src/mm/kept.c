/* kept.c - kept blocks: freed large kmalloc blocks kept for reuse, a small
 * allocator of its own in front of the buddy allocator (Linux has no
 * equivalent; jemalloc's thread cache keeps large sizes the same way).
 *
 * kfree's fast path keeps a freed large block of order 1 .. KEPT_ORDERS
 * (8..32 KiB), up to KEPT_PER_ORDER per order, for kmalloc's fast path to
 * hand out again (under Linux's size classes: with the fine table those
 * sizes are classes, and nothing is kept), instead of the buddy
 * allocator splitting and merging it on every request. A kept block stays an allocated compound block whose
 * owner is PAGE_OWNER_KEPT, so kfree, ksize and krealloc refuse it as they
 * refuse any block that is not allocated. Not kept: ZONE_DMA blocks
 * (devices need them back). Only kmalloc's fast paths use them (a request
 * with flags, or a free while the caches are bypassed, goes to the buddy
 * allocator); they all go back through their keeper (mm/shrinker.h) when
 * memory runs short, and on kmalloc_shrink(). The take and put of the fast
 * paths are inline (kmalloc_internal.h); mm lock held throughout. */
#include <string.h>
#include "mm/buddy.h"
#include "mm/mm_env.h"
#include "mm/shrinker.h"
#include "kmalloc_internal.h"

struct kept_order kept[KEPT_ORDERS + 1];

const uint8_t kept_order_of[KEPT_MAX_SIZE / PAGE_SIZE] = {
	0, 1, 2, 2, 3, 3, 3, 3
};

/* Give every kept block back to the buddy allocator. Returns the frames
 * given back. */
static unsigned long kept_drain(void)
{
	unsigned long frames = 0;

	for (unsigned o = 1; o <= KEPT_ORDERS; o++) {
		struct kept_order *k = &kept[o];

		while (k->n)   /* a refusal is reported and counted by buddy.c */
			if (free_pages_owned(k->blk[--k->n], o, PAGE_OWNER_KEPT) == 0)
				frames += 1ul << o;
	}
	return frames;
}

/* The keeper (mm/shrinker.h): every kept block given back. */
static unsigned long kept_keeper_scan(struct shrinker *sh, unsigned long want)
{
	unsigned long s = mm_lock(), frames = kept_drain();

	(void)sh;
	(void)want;
	mm_unlock(s);
	return frames * PAGE_SIZE;
}

static struct shrinker kept_keeper = { .scan = kept_keeper_scan, .keeper = true };

void kept_reset(void)
{
	memset(kept, 0, sizeof(kept));
	shrinker_register(&kept_keeper);
}

const char *kept_why(const void *p)
{
	struct page *pg = virt_to_page(p);

	if (!pg || compound_head(pg)->owner != PAGE_OWNER_KEPT)
		return NULL;
	return p == page_address(compound_head(pg)) ? "block already freed (double free?)"
						     : "pointer into a freed large block";
}

int kept_check(void)
{
	int bad = 0;

	for (unsigned o = 1; o <= KEPT_ORDERS; o++) {
		const struct kept_order *k = &kept[o];

		if (k->n > KEPT_PER_ORDER) {
			mm_report("kmalloc_check: %u kept blocks of order %u", k->n, o);
			bad++;
			continue;
		}
		for (unsigned i = 0; i < k->n; i++) {
			const struct page *pg = k->blk[i];
			bool dup = false;

			for (unsigned j = 0; j < i; j++)
				dup |= k->blk[j] == pg;
			if (dup || !(pg->flags & PG_HEAD) || pg->owner != PAGE_OWNER_KEPT ||
			    pg->order != o) {
				mm_report("kmalloc_check: kept block %u of order %u (%p) is not a kept block",
					  i, o, (const void *)pg);
				bad++;
			}
		}
	}
	return bad;
}

void kept_count(unsigned long *blocks, uint64_t *bytes)
{
	for (unsigned o = 1; o <= KEPT_ORDERS; o++) {
		*blocks += kept[o].n;
		*bytes += (uint64_t)kept[o].n * (PAGE_SIZE << o);
	}
}
