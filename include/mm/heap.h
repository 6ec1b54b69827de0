/* heap.h - SimpleHeap: a first-fit, address-ordered, boundary-tag heap.
 *
 * A complete allocator on its own: any size up to HEAP_MAX_ALLOC, any
 * power-of-two alignment up to 4096. Its arena is made of runs (buddy
 * blocks of 2^order frames) taken on demand and given back when fully free.
 * A block's run is found in O(1) from its frame metadata, and every free is
 * checked against the block's header and both neighbours, so wrong frees
 * are refused, reported once with the caller, counted. Layout and
 * invariants: heap.c. Not a slab: no per-size caching. */
#ifndef TALLY_MM_HEAP_H
#define TALLY_MM_HEAP_H

#include <stddef.h>
#include <stdint.h>
#include "mm/gfp.h"
#include "mm/page.h"

/* Largest block: one maximal run (4 MiB) minus the run and chunk overhead.
 * Blocks never span runs; bigger requests fail with -ENOMEM. */
#define HEAP_MAX_ALLOC   ((PAGE_SIZE << MAX_ORDER) - 128)
#define HEAP_MAX_ALIGN   4096
#define HEAP_MIN_ORDER   2  /* runs are at least 16 KiB */
#define HEAP_SPARE_RUNS  1  /* fully free runs kept instead of released */

struct heap_stats {
	size_t arena_bytes;            /* bytes in all runs */
	size_t free_bytes;             /* in free chunks (headers included) */
	size_t largest_free;           /* usable bytes of the largest free chunk */
	size_t largest_free_chunk;     /* the same chunk with its tags (as free_bytes) */
	unsigned long runs, free_runs; /* free_runs: runs entirely free */
	unsigned long used_blocks, free_blocks;
	unsigned long requests, successes, fail_nomem, fail_inval;
	unsigned long fail_injected;   /* of fail_nomem, by fault injection */
	unsigned long frees, wrong_frees;
	unsigned long api_wrong_frees; /* of wrong_frees, refused by heap_free()
					* (kfree's are kmalloc's count too) */
	uint64_t bytes_requested, bytes_granted; /* granted = usable sizes */
	uint64_t bytes_in_use, peak_bytes_in_use;
};

/* Allocate size bytes aligned to align (0 = 16). GFP_ZERO zeroes them;
 * other flags go to alloc_pages when the arena grows. Returns 0 and *out;
 * -EINVAL (*out = NULL) when out is NULL, size is 0, align is not a power of
 * two or over HEAP_MAX_ALIGN; -ENOMEM when size > HEAP_MAX_ALLOC or no run
 * has room and the buddy allocator cannot supply one, even after reclaim
 * (mm/shrinker.h). */
int heap_alloc(size_t size, size_t align, gfp_t gfp, void **out);

/* Free a block. Returns 0; -EINVAL (refused, reported with the caller's
 * address, counted, nothing changed) when p is NULL, not in a heap run, not
 * the start of a block (interior pointer, never allocated), a free block
 * (double free, pointer into free space), or its header or a neighbour's
 * is inconsistent (overwritten). */
int heap_free(void *p);

/* Usable bytes of the allocated block p, or 0 when p is not one. */
size_t heap_usable_size(const void *p);

/* Give every fully free run back to the buddy allocator (the spare too).
 * Returns the number of frames released. */
unsigned long heap_shrink(void);

/* Walk every run and check the invariants listed in heap.c. Returns the
 * number of violations; each is reported. */
int heap_check(void);

void heap_get_stats(struct heap_stats *out);

/* Forget every run (host tests, after page_alloc_init reset the frames)
 * and register SimpleHeap's keeper (mm/shrinker.h: free runs given back
 * when memory runs out). Called by kmalloc_init(), after shrinker_reset();
 * it does not give runs back. */
void heap_init(void);

#endif
