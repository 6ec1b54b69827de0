/* slab.h - slab caches: fixed-size objects carved from page runs.
 *
 * Linux's kmem_cache interface. Each cache hands out objects of one size
 * from slabs (2^order frames from the buddy allocator). The cache owning an
 * object is found in O(1) from its frame's struct page, so a wrong free is
 * always caught: refused, reported once with the caller, counted. Running
 * out is a NULL return, never a panic. Not a general allocator: variable
 * sizes go through kmalloc (mm/kmalloc.h). Layout and invariants: slab.c. */
#ifndef TALLY_MM_SLAB_H
#define TALLY_MM_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include "mm/gfp.h"

struct kmem_cache;

#define SLAB_NAME_MAX     24  /* including the NUL; longer names are cut */
#define SLAB_MAX_CACHES   48  /* caches that can exist at once (kmalloc's fine
				 * table takes 40 of them, its Linux one 12) */
#define SLAB_MAX_ALIGN    4096
#define SLAB_RESERVE      1   /* empty slabs a cache keeps per layout */

/* kmem_cache_create() flags */
#define SLAB_KMALLOC      (1u << 0) /* a kmalloc size class (set by kmalloc) */

struct kmem_cache_stats {
	char name[SLAB_NAME_MAX];
	size_t object_size;         /* what the user asked for */
	size_t align;
	size_t stride;              /* bytes per object in a plain slab */
	unsigned order;             /* slab order of a plain slab */
	unsigned objs_per_slab;     /* in a plain slab */
	unsigned long active_objs;  /* objects in use */
	unsigned long total_objs;   /* objects in all slabs */
	unsigned long slabs;        /* slabs of both layouts */
	unsigned long full, partial, empty; /* full (on no list), partial, empty */
	unsigned long active_slabs; /* with an object in use (not all in the magazine) */
	unsigned long withdrawn;    /* slabs taken out of service (broken map): lost */
	unsigned long cached;       /* freed objects in the magazine (not active) */
	unsigned long debug_slabs;  /* slabs with red-zone layout */
	unsigned long partial_free; /* free objects in partial slabs */
	unsigned long pages;        /* frames held */
	unsigned long requests, failures, frees, wrong_frees;
	unsigned long injected;     /* of the failures, by fault injection */
};

/* Create a cache of objects of size bytes aligned to align (0 = 8).
 * Returns the cache, or NULL when name is NULL, size is 0 or over 1 MiB,
 * align is not a power of two or over SLAB_MAX_ALIGN, or all
 * SLAB_MAX_CACHES caches exist. No memory is taken until the first alloc. */
struct kmem_cache *kmem_cache_create(const char *name, size_t size,
				     size_t align, unsigned flags);

/* An object of the cache, or NULL when the buddy allocator cannot supply a
 * new slab even after reclaim (mm/shrinker.h; counted in failures) or c is
 * not a live cache. GFP_ZERO zeroes
 * it; the other flags go to alloc_pages for a new slab (so zone flags only
 * place new slabs: an object may come from an existing slab elsewhere). */
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp);

/* Give obj back to c. Returns 0; -EINVAL (refused, reported with the
 * caller's address, counted in c's wrong_frees, nothing changed) when obj
 * is not an allocated object of c: NULL, not in a slab, in another cache's
 * slab, not at an object boundary, already free, or in a slab withdrawn
 * for a broken map. */
int kmem_cache_free(struct kmem_cache *c, void *obj);

/* Frees kmem_cache_free() refused since slab_init(), every cache and no
 * cache (kfree's refusals are kmalloc's count, and each cache's). */
unsigned long kmem_cache_refused_frees(void);

/* Destroy an empty cache and release its slabs. Returns 0; -EBUSY (cache
 * left intact, reported) when objects are still allocated; -EINVAL when c
 * is not a live cache or is one of kmalloc's size classes. */
int kmem_cache_destroy(struct kmem_cache *c);

/* Put the objects waiting in c's magazine back on their slabs, then
 * release every empty slab of c (NULL = all caches), the reserve
 * included. Returns the number of frames given back to the buddy
 * allocator. */
unsigned long kmem_cache_shrink(struct kmem_cache *c);

/* The object size the cache was created with (0 for NULL). */
size_t kmem_cache_size(const struct kmem_cache *c);

/* /proc/slabinfo: statistics of the idx-th live cache (0, 1, ...).
 * Returns 0; -ENOENT when there are no more caches; -EINVAL if out NULL. */
int kmem_cache_info(unsigned idx, struct kmem_cache_stats *out);

/* Statistics of one cache. Returns 0; -EINVAL for a NULL or dead cache. */
int kmem_cache_get_stats(const struct kmem_cache *c,
			 struct kmem_cache_stats *out);

/* One CPU's magazines over every cache that has them (kmalloc's): objects
 * loaded now (its loaded and previous magazines; the depots are the
 * caches'), their bytes (object sizes), and what its fast paths served:
 * allocations from and frees into its magazines since the cache was made. */
struct kmem_cpu_stats {
	unsigned long objects;
	uint64_t bytes;
	unsigned long allocs, frees;
};

/* The magazines of CPU cpu (0 .. MM_MAX_CPUS-1, mm_cpu()'s numbers: the
 * kernel's hart index), exact: read with the gates stopped. Returns 0;
 * -EINVAL when cpu is out of range or out is NULL. */
int kmem_cache_cpu_stats(unsigned cpu, struct kmem_cpu_stats *out);

/* Walk every slab of every cache and check the invariants in slab.c (list
 * placement and counts, full slabs through the frame array, owner and
 * cache in struct page, header, alloc map vs. inuse and its padding, red
 * zones of live objects, poison of free ones, magazines against the cached
 * maps). Returns the number of violations; each is reported. */
int slab_check(void);

/* Forget every cache (host tests, after page_alloc_init reset the frames)
 * and register the slab layer's keeper (mm/shrinker.h: magazines and empty
 * slabs given back when memory runs out). Called by kmalloc_init(), after
 * shrinker_reset(); it does not give slabs back. */
void slab_init(void);

#endif
