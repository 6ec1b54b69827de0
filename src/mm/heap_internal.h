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

#endif
