/* mm_internal.h - what page.c and buddy.c share; not an interface for
 * other layers (they use mm/page.h and mm/buddy.h). */
#ifndef TALLY_MM_INTERNAL_H
#define TALLY_MM_INTERNAL_H

#include "mm/page.h"
#include "mm/buddy.h"

/* The zones; spans are set by page.c, free lists kept by buddy.c. */
extern struct zone mm_zones[NR_ZONES];

/* The buddy counters (buddy.c); read under mm_lock. */
extern struct buddy_stats buddy_stats;

/* Empty every free list and zero the counters. */
void buddy_reset(void);

/* Put a free block on its zone's list during set-up: no merging, the
 * caller guarantees it is aligned, inside one zone and maximal. */
void buddy_add_initial_block(struct zone *z, uint64_t pfn, unsigned order);

/* Compute the zone's watermarks from its present_pages. */
void buddy_zone_set_watermarks(struct zone *z);

#endif
