/* kmalloc_internal.h - the files of kmalloc's layer among themselves:
 * kmalloc.c, its kept blocks (kept.c) and its failure window
 * (kmalloc_window.c). Mm lock held for all of it. */
#ifndef TALLY_KMALLOC_INTERNAL_H
#define TALLY_KMALLOC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "mm/kmalloc.h"
#include "mm/page.h"

/* The fast paths count lightly: each class's cache (and each order of the
 * kept blocks) counts its own fast allocations, frees and the bytes asked
 * for, and kmalloc's km_fold() moves what accumulated since the last fold
 * into its statistics. */
struct km_counts {
	unsigned long allocs, frees;
	uint64_t bytes;
};

/* ---- kept blocks (kept.c) -------------------------------------------------- */

#define KEPT_MAX_SIZE (PAGE_SIZE << KEPT_ORDERS)

struct kept_order {
	unsigned n;
	struct page *blk[KEPT_PER_ORDER];   /* heads, newest last */
	struct km_counts fast, folded;
};
extern struct kept_order kept[KEPT_ORDERS + 1];   /* by order; [0] unused */

/* The order of a large request of size bytes, by 4 KiB steps. */
extern const uint8_t kept_order_of[KEPT_MAX_SIZE / PAGE_SIZE];

/* A kept block for a request of size bytes (0 < size <= KEPT_MAX_SIZE),
 * its owner LARGE again, counted; NULL when none of its order is kept. */
static inline struct page *kept_take(size_t size)
{
	struct kept_order *k = &kept[kept_order_of[(size - 1) >> PAGE_SHIFT]];
	struct page *pg;

	if (!k->n)
		return NULL;
	pg = k->blk[--k->n];
	pg->owner = PAGE_OWNER_LARGE;
	k->fast.allocs++;
	k->fast.bytes += size;
	return pg;
}

/* Keep the freed large block pg (a head, owner LARGE) if its order is kept,
 * it is not ZONE_DMA and there is room. */
static inline bool kept_put(struct page *pg)
{
	unsigned o = pg->order;
	struct kept_order *k;

	if (o - 1u >= KEPT_ORDERS || pg->zone == ZONE_DMA)
		return false;
	k = &kept[o];
	if (k->n == KEPT_PER_ORDER)
		return false;
	pg->owner = PAGE_OWNER_KEPT;
	k->blk[k->n++] = pg;
	k->fast.frees++;
	return true;
}

/* Forget them all and register their keeper (kmalloc_init); the reason p,
 * which no backend owns, is refused when it is a kept block's start or
 * inside one (NULL: not a kept block); the integrity check (violations,
 * each reported); their number and bytes, added to *blocks and *bytes. */
void kept_reset(void);
const char *kept_why(const void *p);
int kept_check(void);
void kept_count(unsigned long *blocks, uint64_t *bytes);

/* ---- the failure window (kmalloc_window.c) -------------------------------- */

/* The failure window (kmalloc_window.c): reset at kmalloc_init; a failed
 * request counted (the caller takes a checkpoint when one is due); a checkpoint of the request count when a
 * second began since the last (km_window_due says whether one has); read
 * as of now for `requests` so far; n failures forgotten (excused). */
void km_window_reset(void);
void km_window_fail(void);
bool km_window_due(unsigned long long now);
void km_window_note(unsigned long long now, uint64_t requests);
void km_window_get(uint64_t requests, struct kmalloc_window *out);
void km_window_forget(uint64_t n);

/* ---- for mm_stats_get's one snapshot (stats.c) --------------------------- */

/* kmalloc_get_stats() and kmalloc_get_window() as of one fold, with the
 * mm lock held and every CPU's gate stopped by the caller; when heap is
 * not NULL, heap_get_stats() too, in the same hold of heap_lock as the
 * fold of the SimpleHeap path's counts (each cache's lock and heap_lock
 * are taken here, one at a time). */
struct heap_stats;
void kmalloc_get_stats_locked(struct kmalloc_stats *out, struct kmalloc_window *w,
			      struct heap_stats *heap);

#endif
