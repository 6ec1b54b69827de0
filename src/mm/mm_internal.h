/* mm_internal.h - what page.c and buddy.c share; not an interface for
 * other layers (they use mm/page.h and mm/buddy.h). */
#ifndef TALLY_MM_INTERNAL_H
#define TALLY_MM_INTERNAL_H

#include "mm/page.h"
#include "mm/buddy.h"
#include "mm/mm_env.h"

/* The zones; spans are set by page.c, free lists kept by buddy.c. */
extern struct zone mm_zones[NR_ZONES];

/* The buddy counters (buddy.c); read under mm_lock. */
extern struct buddy_stats buddy_stats;

/* Empty every free list and zero the counters. */
void buddy_reset(void);

/* Put a free block on its zone's list during set-up: no merging, the
 * caller guarantees it is aligned, inside one zone and maximal. */
void buddy_add_initial_block(struct zone *z, uint64_t pfn, unsigned order);

/* Compute the zone's watermarks and page-list batch from its
 * present_pages. */
void buddy_zone_set_watermarks(struct zone *z);

/* ---- buddy.c for buddy_pcp.c (mm lock held) ------------------------------- */

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

/* A 2^order block from z's free lists, or NULL (empty, fragmented, or
 * below min unless dip). The head is off every list, flags 0; its order
 * field is not set yet. */
struct page *buddy_zone_take(struct zone *z, unsigned order, bool dip);

/* Put the free block pg (flags 0, owner FREE, on no list) back on its
 * zone's lists, merging with free buddies upward. */
void buddy_merge(struct page *pg, unsigned order);

/* ---- the per-CPU page lists (buddy_pcp.c; layout and invariants there) ---- */

struct buddy_pcp_list {
	struct list_head blocks;   /* PG_PCP heads, newest first */
	unsigned long count;       /* blocks on it */
};

/* One CPU's lists and counters: touched by that CPU inside its gate (the
 * fast paths) or under the mm lock (the slow paths), by others only under
 * the mm lock with every gate stopped (mm/mm_env.h). Counters are stored
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
	unsigned long b = z->pcp_batch >> order;

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
 * when the lists do not take it (order above BUDDY_PCP_ORDER, fault
 * injection on, the CPU's lists bypassed): the zone path serves it. A
 * refusal (-ENOMEM) is counted, as the zone path counts one. */
int buddy_pcp_alloc(gfp_t gfp, unsigned order, struct page **out);

/* Free pg to the calling CPU's list: 0, or -EAGAIN when the block is not
 * one the lists take (anything but a plain allocated PAGES head of order
 * <= BUDDY_PCP_ORDER, the lists off or bypassed): the zone path frees it
 * with every check and report. */
int buddy_pcp_free(struct page *pg, unsigned order);

/* mm lock held, gates stopped: add every CPU's list counters to st; the
 * pages on the lists per zone into pages[] (when not NULL); returns the
 * pages on all lists. */
unsigned long buddy_pcp_fold(struct buddy_stats *st, unsigned long pages[NR_ZONES]);

/* Sum of the CPUs' pages_out at the last fold (mm lock): what the zone
 * path adds to its own count for the peak. */
extern unsigned long buddy_pcp_out_seen;

#endif
