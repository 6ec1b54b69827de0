/* shrinker.c - the reclaim path (mm/shrinker.h): the registry of keepers
 * and shrinkers, and the walks over it (mm_reclaim, mm_shrink,
 * mm_drain_keepers), guarded against re-entry.
 *
 * The guard flag and list edits are taken under the mm lock; the scans
 * themselves run without it because they free. Not a policy: which cache
 * frees what is up to each of them. */
#include "mm/shrinker.h"
#include "mm/mm_env.h"

/* Rounds of one request's reclaim at most: each frees a batch of a finite
 * pool, so the bound only guards against a scan that claims what it does
 * not free. */
#define MM_RECLAIM_MAX_ROUNDS 1024

static struct list_head shrinkers = LIST_HEAD_INIT(shrinkers);
static int walker = -1;   /* the CPU walking the registry, -1: none */
static struct shrinker_stats stats;
static unsigned long (*grow_fn)(unsigned long bytes);   /* mm_set_grow */

void mm_set_grow(unsigned long (*grow)(unsigned long bytes))
{
	__atomic_store_n(&grow_fn, grow, __ATOMIC_RELEASE);
}

static bool shrinker_on_list(struct shrinker *s)
{
	struct list_head *p;

	list_for_each(p, &shrinkers)
		if (p == &s->link)
			return true;
	return false;
}

void shrinker_register(struct shrinker *s)
{
	unsigned long f;

	if (!s)
		return;
	f = mm_lock();
	if (shrinker_on_list(s)) {
		mm_unlock(f);
		mm_report("shrinker_register: %p already registered", (void *)s);
		return;
	}
	list_add_tail(&s->link, &shrinkers);
	mm_unlock(f);
}

void shrinker_unregister(struct shrinker *s)
{
	unsigned long f;

	if (!s)
		return;
	f = mm_lock();
	if (shrinker_on_list(s))
		list_del(&s->link);
	mm_unlock(f);
}

void shrinker_reset(void)
{
	unsigned long f = mm_lock();

	list_init(&shrinkers);
	walker = -1;
	stats = (struct shrinker_stats){ 0 };
	__atomic_store_n(&grow_fn, NULL, __ATOMIC_RELEASE);
	mm_unlock(f);
}

/* Take the walk. Refused (false) when this CPU is walking already (a scan
 * whose free landed back here); another CPU's walk is waited for, since
 * what it frees is what this one would have asked for. */
static bool walk_enter(void)
{
	unsigned long f = mm_lock();
	int me = (int)mm_cpu();
	bool ok;

	stats.calls++;
	while (walker != -1 && walker != me) {
		mm_unlock(f);
		/* wait without the lock: the walker takes it for every scan */
		while (__atomic_load_n(&walker, __ATOMIC_RELAXED) != -1)
			;
		f = mm_lock();
	}
	ok = walker == -1;
	if (ok)
		__atomic_store_n(&walker, me, __ATOMIC_RELAXED);
	else
		stats.reentries++;
	mm_unlock(f);
	return ok;
}

static void walk_leave(unsigned long freed)
{
	unsigned long f = mm_lock();

	stats.bytes_freed += freed;
	__atomic_store_n(&walker, -1, __ATOMIC_RELAXED);
	mm_unlock(f);
}

/* Ask the registered caches of one kind (keepers or shrinkers), oldest
 * first, until bytes_wanted bytes came back (keepers: all of them). Walk
 * taken by the caller. */
static unsigned long walk(bool keepers, unsigned long bytes_wanted)
{
	struct list_head *p, *n;
	unsigned long freed = 0;

	list_for_each_safe(p, n, &shrinkers) {
		struct shrinker *s = list_entry(p, struct shrinker, link);

		if (s->keeper != keepers || !s->scan || (s->count && s->count(s) == 0))
			continue;
		if (!keepers && freed >= bytes_wanted)
			break;
		stats.scans++;
		freed += s->scan(s, keepers ? ~0ul : bytes_wanted - freed);
	}
	return freed;
}

unsigned long mm_shrink(unsigned long bytes_wanted)
{
	unsigned long freed;

	if (bytes_wanted == 0 || !walk_enter())
		return 0;
	freed = walk(false, bytes_wanted);
	walk_leave(freed);
	return freed;
}

unsigned long mm_drain_keepers(void)
{
	unsigned long freed;

	if (!walk_enter())
		return 0;
	freed = walk(true, ~0ul);
	walk_leave(freed);
	return freed;
}

bool mm_reclaim(size_t bytes, gfp_t gfp, unsigned *round)
{
	unsigned long (*grow)(unsigned long) = __atomic_load_n(&grow_fn, __ATOMIC_ACQUIRE);
	unsigned long freed = 0;

	while (!freed && *round < MM_RECLAIM_MAX_ROUNDS) {
		unsigned r = (*round)++;

		if (r > 0 && (gfp & GFP_NOSHRINK) && !grow)
			break;
		if (!walk_enter())
			return false;
		if (r > 0 && grow && (freed = grow(bytes)) != 0) {
			stats.bytes_grown += freed;   /* the walk's: one grower at a time */
			walk_leave(0);
			return true;   /* memory the system has, before any data is dropped */
		}
		if (r > 0 && (gfp & GFP_NOSHRINK)) {
			walk_leave(0);
			break;
		}
		if (r > 0)
			freed = walk(false, bytes > MM_RECLAIM_BATCH ? bytes : MM_RECLAIM_BATCH);
		freed += walk(true, ~0ul);
		walk_leave(freed);
		if (r == 0)
			return true;   /* try again before any data is dropped: objects the
					* keepers put back serve their own class, frames or not */
		if (!freed)
			break;   /* the shrinkers have nothing left */
	}
	return freed != 0;
}

void shrinker_get_stats(struct shrinker_stats *out)
{
	unsigned long f = mm_lock();

	*out = stats;
	mm_unlock(f);
}
