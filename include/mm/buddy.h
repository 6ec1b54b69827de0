/* buddy.h - the page allocator: a binary buddy allocator per zone.
 *
 * Hands out naturally aligned blocks of 2^order frames (order 0..MAX_ORDER)
 * from the zones set up by page_alloc_init() (mm/page.h). Never panics:
 * running out is a NULL / -ENOMEM, a wrong free is refused, reported with
 * the caller's address, counted, and changes nothing. Not a small-object
 * allocator (see slab / kmalloc). */
#ifndef TALLY_MM_BUDDY_H
#define TALLY_MM_BUDDY_H

#include <stdbool.h>

#include "mm/gfp.h"
#include "mm/page.h"

struct buddy_stats {
	unsigned long requests;          /* alloc calls */
	unsigned long successes;
	unsigned long fail_nomem;        /* no zone could serve */
	unsigned long fail_inval;        /* order > MAX_ORDER */
	unsigned long fail_injected;     /* failed by fault injection (mm/faultinj.h) */
	unsigned long frees;             /* accepted frees */
	unsigned long wrong_frees;       /* refused frees */
	unsigned long pages_in_use;      /* frames in allocated blocks now */
	unsigned long peak_pages_in_use;
};

/* Allocate 2^order contiguous frames, naturally aligned. Zones tried:
 * GFP_DMA -> DMA only; GFP_DMA32 -> Normal, DMA; otherwise High, Normal,
 * DMA. A zone refuses a request that would leave its free_pages below
 * wmark_min unless GFP_RESERVE. GFP_ZERO zeroes the block. The head gets
 * PG_HEAD, order, owner PAGE_OWNER_PAGES, priv/mem NULL, kind 0, inuse 0.
 * Returns 0 and *out = head; -ENOMEM when no zone can serve; -EINVAL when
 * order > MAX_ORDER or out is NULL. */
int buddy_try_alloc(gfp_t gfp, unsigned order, struct page **out);

/* buddy_try_alloc() with reclaim: when the zones really ran out (not by
 * fault injection), the reclaim path (mm/shrinker.h) gives back what the
 * caches keep for reuse, then what the shrinkers can drop, and the request
 * is tried again while anything came back. Same results as
 * buddy_try_alloc(). Call without the mm lock held (the kernel's lock
 * nests today; a real spinlock would not). The object allocators call
 * buddy_try_alloc() (their entry points reclaim). */
int buddy_alloc(gfp_t gfp, unsigned order, struct page **out);

/* buddy_alloc() returning the head, or NULL on any failure. */
struct page *alloc_pages(gfp_t gfp, unsigned order);

/* Free the block of 2^order frames headed by pg, merging with free buddies.
 * Returns 0; -EINVAL (refused, reported, counted in wrong_frees, nothing
 * changed) when pg is NULL or not an element of the frame array, order >
 * MAX_ORDER, pg's pfn is not aligned to order, the frame is free or inside
 * a free block, reserved, a compound tail, interior to an allocated block,
 * or its block was allocated with another order. A compound block's tail
 * marks are cleared (O(2^order)). */
int free_pages(struct page *pg, unsigned order);

/* free_pages() by the block's virtual address. Also -EINVAL when addr is
 * not page aligned or not covered by the frame array. */
int free_pages_addr(const void *addr, unsigned order);

/* For the allocators built on this one (slab, heap, page tables, kmalloc
 * large blocks): free_pages() of a block whose owner must be `owner`.
 * free_pages() itself accepts only PAGE_OWNER_PAGES blocks, so a stray
 * free can never pull a page out from under a slab or a heap run. */
int free_pages_owned(struct page *pg, unsigned order, unsigned owner);

/* Walk every zone's free lists and the frame array and check the buddy
 * invariants (list membership, flags, order, zone, alignment, counts,
 * coalescing, no overlap). Returns the number of violations (0 = sound);
 * each is reported with mm_report (the first few in full). */
int buddy_check(void);

/* Free frames in all zones. */
unsigned long buddy_free_pages(void);

/* A snapshot of the counters. */
void buddy_get_stats(struct buddy_stats *out);

/* Whether the zones ordinary requests come from first (Normal and above)
 * have more free frames than their low watermarks together: for caches
 * deciding whether to take a batch ahead of need (the slab magazines'
 * refill), as Linux shrinks its per-cpu batches under pressure. */
bool buddy_plenty(void);

/* Linux's unusable free space index of zone z for order, in per mille:
 * the share of free frames in blocks smaller than 2^order. 0 when the zone
 * has no free frames (or z is invalid); 1000 for order > MAX_ORDER. */
unsigned buddy_unusable_index(enum zone_id z, unsigned order);

#endif
