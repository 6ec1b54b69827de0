/* slab_internal.h - what kmalloc.c needs from slab.c beyond mm/slab.h.
 *
 * The double-underscore functions do not take the mm lock (the caller
 * holds it) and carry the address of the public entry's caller, so a
 * wrong free is reported once, naming the code that made it. */
#ifndef TALLY_SLAB_INTERNAL_H
#define TALLY_SLAB_INTERNAL_H

#include <stdbool.h>
#include "mm/slab.h"

void *__kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp, void *caller);

/* c NULL: free to whichever cache owns obj (kfree). Same errors as
 * kmem_cache_free(); the refusal is reported and counted here. On success
 * *from (when from is not NULL) is the cache the object went back to. */
int __kmem_cache_free(struct kmem_cache *c, void *obj, void *caller,
		      struct kmem_cache **from);

/* The cache of an allocated object at an object boundary, else NULL.
 * Quiet: reports nothing. */
struct kmem_cache *slab_obj_cache(const void *obj);

bool kmem_cache_is_kmalloc(const struct kmem_cache *c);

/* kmalloc's fast paths, mm lock held. They do only the common case and
 * return NULL for anything else (no ready plain slab, debug checks or fault
 * injection on, a free list or pointer that does not pass, a slab about to
 * become empty), and the caller then takes the full path, which does the
 * same work with every check, report and repair. */
void *slab_alloc_fast(struct kmem_cache *c);
/* pg: the compound head of obj's frame, owned by a slab. Returns the cache
 * the object went back to. */
struct kmem_cache *slab_free_fast(struct page *pg, void *obj);

#endif
