/* stats.c - accounting and health (include/mm/stats.h): gathers the
 * allocators' own counters (and kmalloc's failure window), computes rates
 * and fragmentation, and judges health. Its own state: the last integrity
 * check's result and what passing self-tests provoked (excused).
 *
 * Lock order (mm_stats_get): the mm lock -> every CPU's gate -> each slab
 * cache's lock in turn, then heap_lock, then every zone's lock (none of
 * the three kinds held with another). */
#include <string.h>
#include "mm/stats.h"
#include "mm/slab.h"
#include "mm/mm_env.h"
#include "lib/printf.h"
#include "mm_internal.h"
#include "slab_internal.h"
#include "kmalloc_internal.h"

static unsigned long checks_run;
static int last_violations;

/* What passing self-tests provoked (mm_stats_excuse). */
static struct {
	unsigned long fail_nomem, fail_inval, fail_injected, wrong_frees;
	struct mm_debug_stats debug;
} excused;

void mm_stats_reset(void)
{
	checks_run = 0;
	last_violations = 0;
	memset(&excused, 0, sizeof(excused));
}

int mm_check(void)
{
	int v = buddy_check() + kmalloc_check();
	unsigned long irq = mm_lock();

	checks_run++;
	last_violations = v;
	mm_unlock(irq);
	return v;
}

static unsigned per_mille(uint64_t part, uint64_t whole)
{
	return whole ? (unsigned)(part * 1000 / whole) : 0;
}

static unsigned frag_buddy(const struct buddy_zone_info *zi)
{
	uint64_t free = 0, usable = 0;

	for (int z = 0; z < NR_ZONES; z++) {
		free += zi[z].free_pages;
		for (int o = MM_FRAG_ORDER; o <= MAX_ORDER; o++)
			usable += (uint64_t)zi[z].nr_free[o] << o;
	}
	return per_mille(free - usable, free);
}

static unsigned frag_slab(uint64_t *held)
{
	struct kmem_cache_stats cs;
	uint64_t partial_free = 0, total = 0;

	*held = 0;
	for (unsigned i = 0; kmem_cache_info_locked(i, &cs) == 0; i++) {
		partial_free += cs.partial_free + cs.cached;
		total += cs.total_objs;
		*held += (uint64_t)cs.pages * PAGE_SIZE;
	}
	return per_mille(partial_free, total);
}

/* The figures computed from the snapshot; free_bytes already set. */
static void totals(struct mm_stats *s)
{
	uint64_t present = 0;

	for (int z = 0; z < NR_ZONES; z++)
		present += zone_get(z)->present_pages;
	s->total_bytes = present * PAGE_SIZE;
	s->used_bytes = s->total_bytes - s->free_bytes;
	for (int m = 0; m < MM_MODE_NR; m++) {
		const struct mm_alloc_counters *c = &s->km.mode[m];

		s->requests += c->requests;
		s->allocs += c->successes;
		s->fail_nomem += c->fail_nomem;
		s->fail_inval += c->fail_inval;
		s->fail_injected += c->fail_injected;
	}
	for (int b = 0; b < KM_BACKEND_NR; b++)
		s->frees += s->km.backend[b].frees;
	s->fail_nomem -= excused.fail_nomem;
	s->fail_inval -= excused.fail_inval;
	s->fail_injected -= excused.fail_injected;
	s->failures = s->fail_nomem + s->fail_inval;
	s->failure_rate_pm = per_mille(s->failures, s->requests);
	s->wrong_frees = s->buddy.wrong_frees + s->km.wrong_frees + kmem_cache_refused_frees() +
			 s->heap.api_wrong_frees - excused.wrong_frees;
	s->debug.poison_violations -= excused.debug.poison_violations;
	s->debug.redzone_violations -= excused.debug.redzone_violations;
	s->debug.corruptions -= excused.debug.corruptions;
}

/* kmalloc's failure window as of the snapshot. */
static void window(struct mm_stats *s, const struct kmalloc_window *w0)
{
	struct kmalloc_window w = *w0;

	s->window_ms = w.ms;
	s->window_requests = w.requests;
	s->window_failures = w.failures;
	s->window_failure_rate_pm = per_mille(w.failures, w.requests);
}

void mm_stats_excuse(const struct mm_stats *before)
{
	struct mm_stats now;
	unsigned long irq;

	mm_stats_get(&now);
	irq = mm_lock();
	excused.fail_nomem += now.fail_nomem - before->fail_nomem;
	excused.fail_inval += now.fail_inval - before->fail_inval;
	excused.fail_injected += now.fail_injected - before->fail_injected;
	excused.wrong_frees += now.wrong_frees - before->wrong_frees;
	excused.debug.poison_violations += now.debug.poison_violations -
					   before->debug.poison_violations;
	excused.debug.redzone_violations += now.debug.redzone_violations -
					    before->debug.redzone_violations;
	excused.debug.corruptions += now.debug.corruptions - before->debug.corruptions;
	last_violations = before->last_check_violations;
	mm_unlock(irq);
	kmalloc_forget_failures(now.failures - before->failures);
}

/* The first zone below the watermark `which` (0 min, 1 low), or NULL.
 * Its free pages are those on its free lists and on the harts' page lists
 * (one moment's, buddy_zone_info): all of them are free (the allocator
 * itself never takes a zone's lists below min for an ordinary request,
 * page lists or not). */
static const struct zone *zone_below(const struct buddy_zone_info *zi, int which)
{
	for (int z = 0; z < NR_ZONES; z++) {
		const struct zone *zn = zone_get(z);
		unsigned long mark = which ? zn->wmark_low : zn->wmark_min;

		if (zn->present_pages && zi[z].free_pages + zi[z].pcp_pages < mark)
			return zn;
	}
	return NULL;
}

static void judge(struct mm_stats *s, const struct buddy_zone_info *zi)
{
	const struct zone *z;

	s->health = MM_CRITICAL;
	if ((z = zone_below(zi, 0)))
		ksnprintf(s->reason, sizeof(s->reason), "zone %s below its min watermark", z->name);
	else if (s->last_check_violations)
		ksnprintf(s->reason, sizeof(s->reason), "integrity check found %d violations",
			  s->last_check_violations);
	else if (s->window_failure_rate_pm >= 500)
		ksnprintf(s->reason, sizeof(s->reason), "%u.%u%% of recent requests failed",
			  s->window_failure_rate_pm / 10, s->window_failure_rate_pm % 10);
	else if ((s->health = MM_DEGRADED), (z = zone_below(zi, 1)))
		ksnprintf(s->reason, sizeof(s->reason), "zone %s below its low watermark", z->name);
	else if (s->free_bytes * 100 < s->total_bytes * MM_LOW_FREE_PCT)
		ksnprintf(s->reason, sizeof(s->reason), "only %lu KiB of %lu KiB free",
			  (unsigned long)(s->free_bytes >> 10), (unsigned long)(s->total_bytes >> 10));
	else if (s->wrong_frees)
		ksnprintf(s->reason, sizeof(s->reason), "%lu wrong frees refused", s->wrong_frees);
	else if (s->window_failure_rate_pm >= 50)
		ksnprintf(s->reason, sizeof(s->reason), "%u.%u%% of recent requests failed",
			  s->window_failure_rate_pm / 10, s->window_failure_rate_pm % 10);
	else if (s->frag_pm >= 500 && s->frag_held_bytes >= MM_FRAG_MIN_BYTES)
		ksnprintf(s->reason, sizeof(s->reason), "%s fragmentation %u%%",
			  s->frag_measure, s->frag_pm / 10);
	else {
		s->health = MM_HEALTHY;
		s->reason[0] = 0;
	}
}

/* One snapshot: the mm lock held throughout, so nothing a full path
 * changes moves; every CPU's gate stopped once while the figures the fast
 * paths change are read; heap_lock held from the fold of the SimpleHeap
 * path's counts to the heap's figures (that path counts under it alone);
 * the slab caches
 * read after kmalloc's fold, each under its lock, and the zones after the
 * caches, all under their locks at once. So the figures agree: free and
 * in-use pages make up memory, kmalloc's requests are its successes and
 * failures, its slab bytes in use fit in the slabs. Not frozen: a CPU
 * holding only a cache's lock may get or give back a slab's frames while
 * the caches and the zones are read, so the slabs' pages and the pages
 * in use agree only at rest. The layers' other getters take the mm lock
 * again (it nests). */
void mm_stats_get(struct mm_stats *s)
{
	struct buddy_zone_info zi[NR_ZONES];
	struct kmalloc_window w;
	uint64_t slab_held;
	unsigned long irq;

	memset(s, 0, sizeof(*s));
	irq = mm_lock();
	mm_gates_stop();
	s->mode = mm_get_mode();
	kmalloc_get_stats_locked(&s->km, &w, &s->heap);
	s->frag_slab_pm = frag_slab(&slab_held);
	s->free_bytes = (uint64_t)buddy_snapshot_locked(&s->buddy, &s->pcp, zi) * PAGE_SIZE;
	mm_gates_start();
	mm_debug_get_stats(&s->debug);
	faultinj_get(NULL, &s->faultinj);
	leak_get_stats(&s->leak);
	s->checks_run = checks_run;
	s->last_check_violations = last_violations;
	totals(s);
	window(s, &w);
	mm_unlock(irq);
	s->frag_buddy_pm = frag_buddy(zi);
	s->frag_heap_pm = s->heap.free_bytes ?
		1000 - per_mille(s->heap.largest_free_chunk, s->heap.free_bytes) : 0;
	s->frag_measure = s->mode == MM_MODE_SIMPLE ? "heap" : "slab";
	s->frag_pm = s->mode == MM_MODE_SIMPLE ? s->frag_heap_pm : s->frag_slab_pm;
	s->frag_held_bytes = s->mode == MM_MODE_SIMPLE ? s->heap.arena_bytes : slab_held;
	judge(s, zi);
}

const char *mm_health_name(enum mm_health h)
{
	return h == MM_HEALTHY ? "healthy" : h == MM_DEGRADED ? "degraded" : "critical";
}
