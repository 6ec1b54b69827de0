/* heap_internal.h - what kmalloc.c needs from heap.c beyond mm/heap.h.
 * The double-underscore functions expect the mm lock held and carry the
 * public entry's caller address for reports. */
#ifndef TALLY_HEAP_INTERNAL_H
#define TALLY_HEAP_INTERNAL_H

#include "mm/heap.h"

int __heap_alloc(size_t size, size_t align, gfp_t gfp, void **out,
		 void *caller);
int __heap_free(void *p, void *caller);
size_t __heap_usable_size(const void *p);

/* Which free runs stay (mm lock held) -- for a caller that must leave the
 * heap holding exactly the runs it held before (txn.c's exact undo):
 *   heap_set_keep_free_runs(on): while on, a run that becomes entirely
 *     free stays, instead of going back beyond HEAP_SPARE_RUNS;
 *   heap_list_free_runs(): store the heads of up to max entirely free runs in
 *     out; return how many there are;
 *   heap_release_free_except(): give back every entirely free run whose
 *     head is not in keep[0..n); return the frames given back. */
void heap_set_keep_free_runs(bool on);
unsigned heap_list_free_runs(struct page **out, unsigned max);
unsigned long heap_release_free_except(struct page *const *keep, unsigned n);

#endif
