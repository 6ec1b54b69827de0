/* shrinker.h - the one reclaim path: what the mm layer asks for memory
 * back before any request fails.
 *
 * Two kinds of cache register here, each with a struct shrinker:
 *  - keepers (keeper = true) hold only free memory kept for reuse: the
 *    CPUs' page lists, the allocators' empty slabs and magazines,
 *    SimpleHeap's free runs, kmalloc's kept large blocks. Emptying one loses nothing, so they are
 *    asked first, and even for GFP_NOSHRINK requests.
 *  - shrinkers hold data that can be dropped (clean block-cache buffers).
 *    They are asked only when the keepers were not enough, and never for a
 *    GFP_NOSHRINK request.
 * Every allocation entry point (alloc_pages, kmalloc and kmem_try_alloc in
 * each mode, kmem_cache_alloc, heap_alloc, the transactions' allocations)
 * runs out of memory the same way: while mm_reclaim() says something came
 * back, try once more. So a request fails with -ENOMEM only after every
 * registered cache gave back what it could. Not a reclaim thread and not a
 * page cache; what to free is each cache's own decision. */
#ifndef TALLY_MM_SHRINKER_H
#define TALLY_MM_SHRINKER_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/list.h"
#include "mm/gfp.h"

struct shrinker {
	/* Bytes the cache could free right now (an estimate; 0 = skip me).
	 * Optional. */
	unsigned long (*count)(struct shrinker *s);
	/* Free about nr_bytes_wanted bytes (a keeper frees all it keeps);
	 * return the bytes freed. Called without the mm lock held; may free,
	 * must not allocate. */
	unsigned long (*scan)(struct shrinker *s, unsigned long nr_bytes_wanted);
	bool keeper;            /* holds only free memory kept for reuse */
	struct list_head link;  /* on the registry; owned by shrinker.c */
};

/* Add s (scan set) to the registry, after those already there. Registering
 * an already registered shrinker is reported and ignored; NULL is ignored. */
void shrinker_register(struct shrinker *s);

/* Remove s; unregistered or NULL is a no-op. Must not race with a walk
 * (its owner unregisters it when nothing scans it: bcache_destroy). */
void shrinker_unregister(struct shrinker *s);

/* Empty the registry and zero the counters: the state of a fresh process
 * (page_alloc_init calls it before the allocators register their keepers:
 * the page lists' first, then kmalloc_init's layers). */
void shrinker_reset(void);

/* One step of reclaim for a request of bytes that just failed with
 * -ENOMEM (not by fault injection), with the mm lock NOT held. *round
 * starts at 0 and is advanced here:
 *   round 0:  every keeper gives back what it keeps;
 *   round 1..: unless gfp has GFP_NOSHRINK, the shrinkers are asked for
 *              a batch (the request's size, at least MM_RECLAIM_BATCH),
 *              then the keepers again (the shrinkers' frees may have
 *              landed in them) -- a batch a round, as long as the
 *              request still fails, since what a batch frees need not be
 *              contiguous.
 * Returns true after round 0 always (retry the request: objects a keeper
 * put back serve their own size class though no frame came back, so the
 * request tries them before any data is dropped), then when something
 * came back; false when nothing did or can (fail it). Usage:
 *     unsigned round = 0;
 *     while (ret == -ENOMEM && !injected && mm_reclaim(size, gfp, &round))
 *             ret = try_again();
 * Returns false at once when called from inside this CPU's walk
 * (re-entry); waits for another CPU's walk to end.
 * With a grower (mm_set_grow), every round after the first asks it first
 * (GFP_NOSHRINK requests too: growing drops nothing) and returns true
 * when it added memory: what the system can still give comes before any
 * data is dropped, and before a request fails. */
bool mm_reclaim(size_t bytes, gfp_t gfp, unsigned *round);

/* The environment's source of more memory (the host's growing arenas:
 * mm/mm_host.h): grow(bytes) adds at least bytes of RAM if it can
 * (page_hot_add) and returns the bytes added, 0 when nothing more can be
 * had. Called by mm_reclaim without the mm lock, one walker at a time.
 * NULL, the default and the kernel's, is none; shrinker_reset forgets
 * it. */
void mm_set_grow(unsigned long (*grow)(unsigned long bytes));
#define MM_RECLAIM_BATCH (128ul * 1024)

/* Ask the shrinkers (not the keepers), oldest first, to free memory until
 * bytes_wanted bytes have been freed or all were asked. Returns the bytes
 * freed (0 too from inside a walk: a scan whose free lands back here
 * cannot recurse). Call without the mm lock held. */
unsigned long mm_shrink(unsigned long bytes_wanted);

/* Every keeper gives back everything it keeps. Returns the bytes freed
 * (0 from inside a walk). Call without the mm lock held. */
unsigned long mm_drain_keepers(void);

/* Counters for memstat: walks started, walks refused as re-entrant,
 * scans (shrinkers and keepers asked), bytes freed in total. */
struct shrinker_stats {
	unsigned long calls, reentries, scans;
	unsigned long long bytes_freed;
	unsigned long long bytes_grown;   /* added by the grower (mm_set_grow) */
};
void shrinker_get_stats(struct shrinker_stats *out);

#endif
