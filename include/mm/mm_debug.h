/* mm_debug.h - run-time switchable debug checks for the object allocators.
 *
 * Poison (0x6b written over freed objects, verified when the object is
 * handed out again) and red zones (0xcc around objects, verified on free).
 * Both are off by default; when off they cost the fast paths nothing
 * beyond the one load of mm_slow_paths (below). Slab caches and the SimpleHeap honour them; large kmalloc
 * blocks (whole pages) do not. What each allocator does exactly is in the
 * layout comments of slab.c and heap.c. This is not a leak tracker. */
#ifndef TALLY_MM_DEBUG_H
#define TALLY_MM_DEBUG_H

#include <stdbool.h>
#include <stddef.h>

#define MM_DEBUG_POISON  (1u << 0)
#define MM_DEBUG_REDZONE (1u << 1)
#define MM_DEBUG_ALL     (MM_DEBUG_POISON | MM_DEBUG_REDZONE)

#define MM_POISON_FREE   0x6b /* freed object bytes (Linux POISON_FREE) */
#define MM_REDZONE_BYTE  0xcc /* red zone bytes (Linux SLUB_RED_ACTIVE) */

struct mm_debug_stats {
	unsigned long poison_violations;  /* freed object written to */
	unsigned long redzone_violations; /* write outside an object */
	unsigned long corruptions;        /* allocator metadata found broken */
};

/* Read on hot paths; change it only through mm_debug_set(). */
extern unsigned mm_debug_flags;


/* Turn the checks in mask on or off. Objects allocated before a change keep
 * the layout they were allocated with, so toggling with live objects is
 * safe. Returns 0; -EINVAL when mask has bits other than MM_DEBUG_ALL. */
int mm_debug_set(unsigned mask, bool on);

/* The MM_DEBUG_* bits currently on. */
unsigned mm_debug_get(void);

/* A snapshot of the violation counters. */
void mm_debug_get_stats(struct mm_debug_stats *out);

/* The hook mm_debug_set() calls (mm lock held) when it turns poisoning
 * on: a layer above that keeps freed objects unpoisoned (kmalloc's
 * magazines) puts them back, so they are poisoned and checked when
 * reused. kmalloc_init sets it; NULL for none. */
void mm_debug_on_poison(unsigned long (*fn)(void));

/* Turn every check off and zero the counters (kmalloc_init calls it). */
void mm_debug_reset(void);

/* For the allocators: count a violation (mm_report is the caller's job). */
void mm_debug_count_poison(void);
void mm_debug_count_redzone(void);
void mm_debug_count_corruption(void);

/* Index of the first byte in [p, p + n) that is not c, or n if all are. */
size_t mm_debug_find_not(const void *p, size_t n, unsigned char c);

#endif
