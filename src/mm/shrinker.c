/* shrinker.c - the shrinker registry and mm_shrink() (mm/shrinker.h).
 *
 * A list of caches willing to give memory back, and a walk over it guarded
 * against re-entry. The guard flag and list edits are taken under the mm
 * lock; the scans themselves run without it because they kfree. Not a
 * policy: which cache frees what is up to each shrinker. */
#include "mm/shrinker.h"
#include "mm/mm_env.h"

static struct list_head shrinkers = LIST_HEAD_INIT(shrinkers);
static bool shrinking;
static struct shrinker_stats stats;

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

/* Take the walk, or say it is taken (we are inside a shrinker). */
static bool shrink_enter(void)
{
	unsigned long f = mm_lock();
	bool ok = !shrinking;

	if (ok)
		shrinking = true;
	else
		stats.reentries++;
	stats.calls++;
	mm_unlock(f);
	return ok;
}

unsigned long mm_shrink(unsigned long bytes_wanted)
{
	struct list_head *p, *n;
	unsigned long freed = 0, f;

	if (bytes_wanted == 0 || !shrink_enter())
		return 0;
	list_for_each_safe(p, n, &shrinkers) {
		struct shrinker *s = list_entry(p, struct shrinker, link);

		if (freed >= bytes_wanted)
			break;
		if (!s->scan || (s->count && s->count(s) == 0))
			continue;
		stats.scans++;
		freed += s->scan(s, bytes_wanted - freed);
	}
	f = mm_lock();
	stats.bytes_freed += freed;
	shrinking = false;
	mm_unlock(f);
	return freed;
}

void shrinker_get_stats(struct shrinker_stats *out)
{
	unsigned long f = mm_lock();

	*out = stats;
	mm_unlock(f);
}
