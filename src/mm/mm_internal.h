/* mm_internal.h - what page.c and buddy.c share; not an interface for
 * other layers (they use mm/page.h and mm/buddy.h). */
#ifndef TALLY_MM_INTERNAL_H
#define TALLY_MM_INTERNAL_H

#include "mm/page.h"
#include "mm/buddy.h"
#include "mm/mm_env.h"

/* The zones; spans are set by page.c, free lists kept by buddy.c, each
 * behind its own lock (buddy.c: what it guards, the lock order). */
extern struct zone mm_zones[NR_ZONES];

static inline unsigned long zone_lock(struct zone *z)
{
	return mm_spin_lock(&z->lock);
}

static inline void zone_unlock(struct zone *z, unsigned long state)
{
	mm_spin_unlock(&z->lock, state);
}

/* Every zone's lock, in ascending id (the one order two zone locks are
 * ever held in); the states go back to buddy_zones_unlock, which drops
 * them in reverse. For readers of every zone at once. */
void buddy_zones_lock(unsigned long state[NR_ZONES]);
void buddy_zones_unlock(const unsigned long state[NR_ZONES]);

/* The buddy allocator's failures and refused frees (buddy.c): atomic
 * adds of buddy_fail_count, anywhere, no lock. */
struct buddy_fails {
	unsigned long nomem, inval, injected, wrong_frees;
};
extern struct buddy_fails buddy_fails;

static inline void buddy_fail_count(unsigned long *n, unsigned long v)
{
	__atomic_fetch_add(n, v, __ATOMIC_RELAXED);
}

/* An exact pages-in-use figure summed at a fold (the mm lock held): the
 * peak if higher (buddy.c: what the peak is a peak of). */
void buddy_peak_see(unsigned long in_use);

/* The counters summed into out (every zone locked, the gates stopped):
 * the zones', the page lists' (buddy_pcp_fold) and the failures;
 * peak_pages_in_use left 0. */
void buddy_sum_locked(struct buddy_stats *out);

/* Empty every free list, zero the counters, set up the zone locks. */
void buddy_reset(void);

/* page.c: page_owner_pages()'s bookkeeping -- order's frames of a block
 * leaving (sign -1) or joining (+1) owner (a no-op for owners not
 * counted: a process's frames and tables only). Inline, so the zone
 * path's free pays one compare for every other owner, not a call. */
static inline bool page_owner_counted(unsigned owner)
{
	return owner == PAGE_OWNER_USER || owner == PAGE_OWNER_USER_PGTABLE;
}

void page_owner_count_add(unsigned owner, unsigned order, int sign);

static inline void page_owner_count(unsigned owner, unsigned order, int sign)
{
	if (page_owner_counted(owner))
		page_owner_count_add(owner, order, sign);
}

/* Put a free block on its zone's list during set-up (under the zone's
 * lock): no merging, the caller guarantees it is aligned, inside one zone
 * and maximal. */
void buddy_add_initial_block(struct zone *z, uint64_t pfn, unsigned order);

/* A block of frames a hot-add brought (page_hot_add), freed into z
 * through the coalescing path and counted in its present pages; z's lock
 * held. */
void buddy_hot_add_block(struct zone *z, uint64_t pfn, unsigned order);

/* Compute the zone's watermarks and page-list batch from its
 * present_pages (set-up, and a hot-add under every zone lock; stored
 * atomically for the readers without the zone lock). */
void buddy_zone_set_watermarks(struct zone *z);

/* ---- buddy.c for buddy_pcp.c (the zone's lock held) ------------------------ */

/* A free head's kind when its memory went back to the system
 * (mm_set_release; the invariants at the top of buddy.c, checked by
 * buddy_check). */
#define BUDDY_RELEASED 1

/* A free block made an allocated head owned by alloc_pages(): owner and
 * the fields other owners use cleared, flags PG_HEAD stored last as one
 * word (a free on another CPU reads them). Its order is the caller's. */
static inline void buddy_head_reset(struct page *pg)
{
	pg->owner = PAGE_OWNER_PAGES;
	pg->kind = 0;
	pg->head_off = 0;
	pg->inuse = 0;
	pg->priv = NULL;
	pg->mem = NULL;
	mm_store32(&pg->flags, PG_HEAD);
}

/* The free pages a request with gfp must leave in z (mm/gfp.h): high for
 * GFP_USER, else min; 0 when dip (a GFP_RESERVE request's last try,
 * never a GFP_USER one's). */
static inline unsigned long buddy_zone_mark(const struct zone *z, gfp_t gfp, bool dip)
{
	/* atomic: a hot-add recomputes them (buddy_zone_set_watermarks) */
	if (gfp & GFP_USER)
		return __atomic_load_n(&z->wmark_high, __ATOMIC_RELAXED);
	return dip ? 0 : __atomic_load_n(&z->wmark_min, __ATOMIC_RELAXED);
}

/* A 2^order block from z's free lists, or NULL (empty, fragmented, or
 * it would leave fewer than mark free pages). The head is off every
 * list, flags 0; its order field is not set yet. */
struct page *buddy_zone_take(struct zone *z, unsigned order, unsigned long mark);

/* Put the free block pg (flags 0, owner FREE, on no list) back on its
 * zone's lists, merging with free buddies upward. */
void buddy_merge(struct page *pg, unsigned order);

/* ---- the per-CPU page lists (buddy_pcp.c; layout and invariants there) ---- */

struct buddy_pcp_list {
	struct list_head blocks;   /* PG_PCP heads, newest first */
	unsigned long count;       /* blocks on it */
};

/* One CPU's lists and counters: touched by that CPU inside its gate (the
 * fast paths, and the refill and trim, which take a zone lock there), by
 * others only under the mm lock with every gate stopped (mm/mm_env.h).
 * bypass is the CPU's own, changed under the mm lock. Counters are stored
 * with mm_cpu_count and summed by a reader with the gates stopped. */
struct buddy_pcp_cpu {
	struct buddy_pcp_list list[NR_ZONES][BUDDY_PCP_ORDER + 1];
	unsigned long allocs, frees;   /* blocks handed out by the lists / put on them */
	unsigned long pages_out;       /* pages handed out less pages put back (mod 2^64) */
	unsigned long refills, trims;  /* batches taken from / given back to a zone */
	unsigned long drained;         /* pages the keeper took back to the zones */
	unsigned bypass;               /* buddy_pcp_bypass() holders: lists not used */
} __attribute__((aligned(64)));

extern struct buddy_pcp_cpu buddy_pcp[MM_MAX_CPUS];

/* Blocks a list takes from its zone at a refill, and gives back when it
 * holds more than high = BUDDY_PCP_HIGH batches. */
static inline unsigned long buddy_pcp_batch(const struct zone *z, unsigned order)
{
	unsigned long b = __atomic_load_n(&z->pcp_batch, __ATOMIC_RELAXED) >> order;

	return b ? b : 1;
}

static inline unsigned long buddy_pcp_high(const struct zone *z, unsigned order)
{
	return BUDDY_PCP_HIGH * buddy_pcp_batch(z, order);
}

/* Empty every CPU's lists and zero their counters (set-up: the frames are
 * being laid out afresh), and register the page lists' keeper. */
void buddy_pcp_reset(void);

/* For free_pages() / buddy_alloc() (mm lock NOT held): serve the request
 * from the calling CPU's lists, refilling them from the zones; -EAGAIN
 * when the lists do not take it (order above BUDDY_PCP_ORDER, GFP_COMP,
 * fault injection on, the CPU's lists bypassed): the zone path serves it. A
 * refusal (-ENOMEM) is counted, as the zone path counts one. */
int buddy_pcp_alloc(gfp_t gfp, unsigned order, struct page **out);

/* Free pg to the calling CPU's list: 0, or -EAGAIN when the block is not
 * one the lists take (anything but a plain allocated PAGES head of order
 * <= BUDDY_PCP_ORDER, the lists off or bypassed): the zone path frees it
 * with every check and report. */
int buddy_pcp_free(struct page *pg, unsigned order);

/* mm lock held, gates stopped: add every CPU's list counters to st (when
 * not NULL: successes, frees, pages_in_use); returns the pages
 * on all lists. */
unsigned long buddy_pcp_fold(struct buddy_stats *st);

/* buddy_pcp_get() for a caller that holds the mm lock and stopped the
 * gates: cpu's lists (or every CPU's, BUDDY_PCP_ALL) into out. */
void buddy_pcp_sum_locked(unsigned cpu, struct buddy_pcp_stats *out);

/* ---- for mm_stats_get's one snapshot (stats.c) --------------------------- */

/* buddy_get_stats(), buddy_pcp_get(BUDDY_PCP_ALL) and buddy_zone_info()
 * under one hold of every zone lock, with the mm lock held and every
 * CPU's gate stopped by the caller (once for all of a snapshot's figures;
 * the public ones do both themselves). Returns the free pages, on the
 * zones' lists and the page lists (buddy_free_pages()). */
unsigned long buddy_snapshot_locked(struct buddy_stats *st, struct buddy_pcp_stats *pcp,
				    struct buddy_zone_info zi[NR_ZONES]);

#endif
