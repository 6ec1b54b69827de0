/* txn_internal.h - what mm/txn.c needs from the object allocators to make
 * a rollback exact (see "Cache growth" in txn.c). Not an interface for
 * anything else. Call with the mm lock held. */
#ifndef TALLY_TXN_INTERNAL_H
#define TALLY_TXN_INTERNAL_H

#include <stdbool.h>
#include "mm/page.h"
#include "mm/mm_debug.h"

/* True while txn.c undoes a transaction (MM_SLOW_TXN): slab.c keeps every
 * slab that empties and heap.c every run that becomes free, instead of
 * trimming to SLAB_RESERVE / HEAP_SPARE_RUNS, so txn.c can choose which
 * ones stay. */
static inline bool mm_txn_holding(void)
{
	return (mm_slow_paths & MM_SLOW_TXN) != 0;
}

/* slab.c: store the heads of up to max empty slabs (all caches, both
 * layouts) in out; return how many there are. */
unsigned slab_txn_retained(struct page **out, unsigned max);

/* slab.c: release every empty slab whose head is not in keep[0..n).
 * Returns the frames given back. */
unsigned long slab_txn_trim(struct page *const *keep, unsigned n);

/* heap.c: the same for runs that are entirely free. */
unsigned heap_txn_retained(struct page **out, unsigned max);
unsigned long heap_txn_trim(struct page *const *keep, unsigned n);

#endif
