/* shrinker.h - caches that give memory back when the allocator runs dry.
 *
 * A cache that holds memory it could drop (clean block-cache buffers, ...)
 * registers a shrinker. When an allocation is about to fail, the
 * allocator's slow path calls mm_shrink(bytes) and retries once. This is
 * only the registry and the walk; what to free is each cache's decision.
 * Not a reclaim thread and not a page cache. */
#ifndef TALLY_MM_SHRINKER_H
#define TALLY_MM_SHRINKER_H

#include "lib/list.h"

struct shrinker {
	/* Bytes the cache could free right now (an estimate; 0 = skip me). */
	unsigned long (*count)(struct shrinker *s);
	/* Free about nr_bytes_wanted bytes; return the bytes freed. Called
	 * without the mm lock held; may kfree, must not allocate. */
	unsigned long (*scan)(struct shrinker *s, unsigned long nr_bytes_wanted);
	struct list_head link;  /* on the registry; owned by shrinker.c */
};

/* Add s (count and scan set) to the registry. Registering an already
 * registered shrinker is reported and ignored; NULL is ignored. */
void shrinker_register(struct shrinker *s);

/* Remove s; unregistered or NULL is a no-op. Must not race with
 * mm_shrink() (callers serialize; the kernel is single-threaded here). */
void shrinker_unregister(struct shrinker *s);

/* Ask every registered shrinker, oldest first, to free memory until
 * bytes_wanted bytes have been freed or all were asked. Returns the bytes
 * freed (0 too when called from inside a shrinker: the walk is guarded
 * against re-entry, so a scan whose kfree lands back here cannot recurse).
 * Call without the mm lock held. */
unsigned long mm_shrink(unsigned long bytes_wanted);

/* Counters for memstat: walks started, walks refused as re-entrant,
 * bytes freed in total. */
struct shrinker_stats {
	unsigned long calls, reentries, scans;
	unsigned long long bytes_freed;
};
void shrinker_get_stats(struct shrinker_stats *out);

#endif
