/* test_stats.c - accounting, health, leak tracking and the integrity
 * check on the host: every figure mm_stats_get() reports is compared with
 * the state it claims to describe. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "kerrno.h"
#include "mm/mm_host.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/faultinj.h"
#include "mm/slab.h"
#include "mm/stats.h"
#include "lib/xorshift.h"
#include "../../src/host/mm_host.h"

#define ARENA (16ul << 20)

static void *arena;

static void fresh(void)
{
	if (mm_host_init(arena, ARENA) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
	mm_host_quiet = 1;
}

/* Every case: a fresh system on the real clock. A case that moves time
 * by hand sets mm_host_clock and calls fresh() again, since the window's
 * first checkpoint is taken at init. */
static void before(void)
{
	mm_host_clock = NULL;
	fresh();
}

static void test_totals(void)
{
	struct mm_stats s;
	void *p[10];

	mm_stats_get(&s);
	tap_ok(s.health == MM_HEALTHY && s.reason[0] == 0, "fresh arena is healthy");
	tap_ok(s.free_bytes == buddy_free_pages() * PAGE_SIZE &&
	       s.used_bytes == s.total_bytes - s.free_bytes, "free/used from the buddy allocator");
	for (int i = 0; i < 10; i++)
		p[i] = kmalloc(100, 0);
	for (int i = 0; i < 4; i++)
		kfree(p[i]);
	kmalloc(0, 0);
	mm_stats_get(&s);
	tap_ok(s.allocs == 10 && s.frees == 4 && s.requests == 11 && s.failures == 1 &&
	       s.fail_inval == 1, "allocs 10, frees 4, one invalid request");
	tap_ok(s.failure_rate_pm == 90, "failure rate 1/11 = 90 per mille (%u)", s.failure_rate_pm);
	for (int i = 4; i < 10; i++)
		kfree(p[i]);
}

static unsigned long long fake_ms = 5000000;
static unsigned long long fake_clock(void)
{
	return fake_ms;
}

/* Without ticks the window stretches back to the checkpoint it has, and
 * says how far; a passing self-test's provoked faults are excused. */
static void test_window_untick_and_excuse(void)
{
	struct faultinj_config fi = { .probability = 100, .interval = 1, .times = 10,
				      .scope = FI_ALL, .seed = 2 };
	struct mm_stats s, before;
	int local;

	mm_host_clock = fake_clock;   /* before init: the first checkpoint on it */
	fresh();                      /* again, on the fake clock */
	faultinj_set(&fi);
	for (int i = 0; i < 20; i++)
		kfree(kmalloc(64, 0));
	faultinj_off();
	fake_ms += 30000;
	mm_stats_get(&s);
	tap_ok(s.window_ms == 30000 && s.window_requests == 20 && s.window_failures == s.failures &&
	       s.failures > 0,
	       "no tick for 30 s: the window spans them and says so (%llu ms, %llu of %llu)",
	       s.window_ms, (unsigned long long)s.window_failures,
	       (unsigned long long)s.window_requests);
	fake_ms += 1000;
	mm_stats_get(&before);
	faultinj_set(&fi);
	for (int i = 0; i < 20; i++)
		kfree(kmalloc(64, 0));
	faultinj_off();
	kfree(&local);
	heap_free(&local);
	mm_stats_excuse(&before);
	mm_stats_get(&s);
	tap_ok(s.failures == before.failures && s.fail_injected == before.fail_injected &&
	       s.wrong_frees == before.wrong_frees && s.window_failures == before.window_failures &&
	       s.requests == before.requests + 20,
	       "excused: the provoked failures and wrong frees are out of every figure, the "
	       "requests stay");
	tap_ok(s.health == before.health, "... and health is as before (%s)",
	       mm_health_name(s.health));
	kmalloc(0, 0);
	mm_stats_get(&s);
	tap_ok(s.failures == before.failures + 1 && s.window_failures == before.window_failures + 1,
	       "a failure after the excuse counts");
	mm_host_clock = NULL;
}

/* A storm of failures (fault injection at probability 100: every request
 * fails on the full path) stops every CPU's gates at most once a second,
 * at the failure that takes the second's checkpoint, not once per
 * failure; the window still counts every request, the fast paths' too. */
static void test_failure_storm_folds(void)
{
	struct faultinj_config fi = { .probability = 100, .interval = 1, .times = -1,
				      .scope = FI_ALL, .seed = 3 };
	struct kmalloc_window w;
	unsigned long stops, fails = 0;
	void *p[50];

	mm_host_clock = fake_clock;   /* before init: the first checkpoint on it */
	fresh();
	for (int i = 0; i < 50; i++)
		p[i] = kmalloc(64, 0);   /* fast path: counted per CPU, unfolded */
	faultinj_set(&fi);
	stops = mm_host_gate_stops;
	for (int i = 0; i < 1000; i++)
		fails += kmalloc(64, 0) == NULL;
	stops = mm_host_gate_stops - stops;
	tap_ok(fails == 1000 && stops == 0,
	       "1000 failures within the checkpoint's second: %lu gate stops (%lu failed)",
	       stops, fails);
	fake_ms += 1000;
	stops = mm_host_gate_stops;
	for (int i = 0; i < 10; i++)
		fails += kmalloc(64, 0) == NULL;
	stops = mm_host_gate_stops - stops;
	tap_ok(fails == 1010 && stops == 1,
	       "10 more in a new second: one fold for its checkpoint (%lu gate stops)", stops);
	faultinj_off();
	for (int i = 0; i < 50; i++)
		kfree(p[i]);
	kmalloc_get_window(&w);
	tap_ok(w.requests == 1060 && w.failures == 1010,
	       "the window counts them all: %llu requests, %llu failures",
	       (unsigned long long)w.requests, (unsigned long long)w.failures);
	mm_host_clock = NULL;
}

static void test_window_and_health(void)
{
	struct faultinj_config fi = { .probability = 100, .interval = 1, .times = -1,
				      .scope = FI_ALL, .seed = 1 };
	struct mm_stats s;
	int local;
	struct kmem_cache *c;

	mm_host_clock = fake_clock;   /* before init: the first checkpoint on it */
	fresh();                      /* again, on the fake clock */
	c = kmem_cache_create("stats-test", 32, 0, 0);
	faultinj_set(&fi);
	for (int i = 0; i < 100; i++)
		kmalloc(64, 0);
	faultinj_off();
	mm_stats_get(&s);
	tap_ok(s.window_requests == 100 && s.window_failures == 100 && s.fail_injected == 100,
	       "window counts 100 injected failures");
	tap_ok(s.health == MM_CRITICAL && strstr(s.reason, "recent requests failed"),
	       "all recent requests failing is critical (%s)", s.reason);
	for (int sec = 1; sec <= 11; sec++) {   /* eleven quiet seconds, ticking */
		fake_ms += 1000;
		kmalloc_tick();
	}
	mm_stats_get(&s);
	tap_ok(s.window_failures == 0 && s.window_requests == 0 && s.window_ms == 10000 &&
	       s.failure_rate_pm > 0,
	       "11 s later the window (%llu ms) has forgotten them, the total has not",
	       s.window_ms);
	tap_ok(s.health == MM_HEALTHY, "healthy again once the pressure is gone (%s)", s.reason);
	for (int i = 0; i < 20; i++)
		kfree(kmalloc(64, 0));
	fake_ms += 500;
	mm_stats_get(&s);
	tap_ok(s.window_requests == 20 && s.window_failures == 0 && s.window_ms == 10500,
	       "requests since count in the window (%llu of them over %llu ms)",
	       (unsigned long long)s.window_requests, s.window_ms);
	kfree(&local);
	mm_stats_get(&s);
	tap_ok(s.health == MM_DEGRADED && strstr(s.reason, "1 wrong frees"),
	       "a refused free degrades health (%s)", s.reason);
	mm_host_quiet = 1;
	kmem_cache_free(c, &local);   /* not an object of c */
	heap_free(&local);
	kfree(&local);
	mm_host_quiet = 0;
	mm_stats_get(&s);
	tap_ok(s.wrong_frees == 4 && strstr(s.reason, "4 wrong frees"),
	       "frees refused by kmem_cache_free and heap_free count too, once each (%s)", s.reason);
	kmem_cache_destroy(c);
}

static void test_watermark_health(void)
{
	struct page *chain = NULL, *pg;
	struct mm_stats s;

	while ((pg = alloc_pages(GFP_RESERVE, 0))) {
		*(struct page **)page_address(pg) = chain;
		chain = pg;
	}
	mm_stats_get(&s);
	tap_ok(s.health == MM_CRITICAL && strstr(s.reason, "below its min watermark"),
	       "memory exhausted past min is critical (%s)", s.reason);
	while (chain && buddy_free_pages() * 100 < (ARENA / PAGE_SIZE) * 3) {
		pg = chain;               /* give back until about 3% is free */
		chain = *(struct page **)page_address(pg);
		free_pages(pg, 0);
	}
	mm_stats_get(&s);
	tap_ok(s.health == MM_DEGRADED && strstr(s.reason, "KiB free"),
	       "under 5%% free is degraded (%s)", s.reason);
	while (chain) {
		pg = chain;
		chain = *(struct page **)page_address(pg);
		free_pages(pg, 0);
	}
	mm_stats_get(&s);
	tap_ok(s.health == MM_HEALTHY, "and healthy once released");
}

static void test_fragmentation(void)
{
	struct heap_stats hs;
	struct mm_stats s;
	void *p[64];

	mm_set_mode(MM_MODE_SIMPLE);
	for (int i = 0; i < 64; i++)
		p[i] = kmalloc(1000, 0);
	for (int i = 0; i < 64; i += 2)
		kfree(p[i]);
	mm_stats_get(&s);
	heap_get_stats(&hs);
	tap_ok(!strcmp(s.frag_measure, "heap") && s.frag_pm == s.frag_heap_pm,
	       "simple mode reports heap fragmentation");
	tap_ok(s.frag_heap_pm == 1000 - hs.largest_free_chunk * 1000 / hs.free_bytes &&
	       s.frag_heap_pm > 500, "heap: 1 - largest free / free = %u per mille", s.frag_heap_pm);
	for (int i = 1; i < 64; i += 2)
		kfree(p[i]);
	mm_set_mode(MM_MODE_TWOTIER);
	for (int i = 0; i < 64; i++)
		p[i] = kmalloc(64, 0);
	for (int i = 0; i < 64; i += 2)
		kfree(p[i]);
	mm_stats_get(&s);
	struct kmem_cache_stats cs;
	kmem_cache_get_stats(kmalloc_cache(3), &cs);
	tap_ok(!strcmp(s.frag_measure, "slab") && cs.partial_free > 0 && cs.cached > 0 &&
	       s.frag_slab_pm == (cs.partial_free + cs.cached) * 1000 / cs.total_objs,
	       "slab: free objects in partial slabs and the magazine / capacity = %u per mille",
	       s.frag_slab_pm);
	for (int i = 1; i < 64; i += 2)
		kfree(p[i]);
	mm_set_mode(MM_MODE_HYBRID);
	for (int i = 0; i < 64; i++)   /* splinter the buddy lists a little */
		p[i] = alloc_pages(0, 0);
	for (int i = 0; i < 64; i += 2)
		free_pages(p[i], 0);
	mm_stats_get(&s);
	uint64_t free = 0, usable = 0;
	for (int z = 0; z < NR_ZONES; z++) {
		free += zone_get(z)->free_pages;
		for (int o = MM_FRAG_ORDER; o <= MAX_ORDER; o++)
			usable += (uint64_t)zone_get(z)->area[o].nr_free << o;
	}
	tap_ok(s.frag_buddy_pm == (free - usable) * 1000 / free && s.frag_buddy_pm > 0,
	       "buddy: unusable free index for order %d = %u per mille", MM_FRAG_ORDER,
	       s.frag_buddy_pm);
	for (int i = 1; i < 64; i += 2)
		free_pages(p[i], 0);
}

/* Call sites that stay the caller: no tail call out of them. */
#define SITE __attribute__((noinline, optimize("no-optimize-sibling-calls")))
static SITE void *site_a(void) { return kmalloc(100, 0); }
static SITE void *site_b(void) { return kmalloc(300, 0); }
static SITE void *site_c(void) { return kzalloc(50, 0); }

static int caller_in(const struct leak_site *s, void *fn)
{
	return (uintptr_t)s->caller > (uintptr_t)fn && (uintptr_t)s->caller - (uintptr_t)fn < 256;
}

static void test_leaks(void)
{
	struct leak_site sites[8];
	struct leak_stats ls;
	void *a[5], *b[3], *c[2];
	unsigned long free0;
	int n;

	free0 = buddy_free_pages();
	kfree(kmalloc(10, 0));                 /* before tracking: not tracked */
	leak_track(true);
	for (int i = 0; i < 5; i++)
		a[i] = site_a();
	for (int i = 0; i < 3; i++)
		b[i] = site_b();
	kfree(a[0]);
	kfree(a[1]);
	n = leak_report(sites, 8, false);
	tap_ok(n == 2 && sites[0].blocks == 3 && sites[0].bytes == 900 && caller_in(&sites[0], site_b) &&
	       sites[1].blocks == 3 && sites[1].bytes == 300 && caller_in(&sites[1], site_a),
	       "live blocks grouped by call site, most bytes first");
	leak_mark();
	c[0] = site_c();
	c[1] = site_c();
	n = leak_report(sites, 8, true);
	tap_ok(n == 1 && sites[0].blocks == 2 && caller_in(&sites[0], site_c),
	       "since the mark: only the two new blocks");
	leak_get_stats(&ls);
	tap_ok(ls.live == 8 && ls.tracking && ls.untracked == 0, "8 blocks tracked live");
	for (int i = 2; i < 5; i++)
		kfree(a[i]);
	for (int i = 0; i < 3; i++)
		kfree(b[i]);
	kfree(c[0]);
	kfree(c[1]);
	tap_ok(leak_report(sites, 8, false) == 0, "all freed: nothing reported");
	leak_track(false);
	kmalloc_shrink();
	tap_ok(buddy_free_pages() == free0, "tracking off gives its pages back");
}

/* Corrupt one structure of each allocator; mm_check() must see it and
 * health must say so; undoing the damage makes it clean again. */
static void test_integrity(void)
{
	struct mm_stats s;
	unsigned char *h, saved;
	struct page *pg;
	uint32_t flags;

	tap_ok(mm_check() == 0, "fresh arena passes mm_check");
	mm_set_mode(MM_MODE_SIMPLE);
	h = kmalloc(200, 0);
	saved = h[-4];
	h[-4] ^= 0x5a;                          /* the heap header's check word */
	tap_ok(mm_check() > 0, "heap header corruption found");
	mm_stats_get(&s);
	tap_ok(s.health == MM_CRITICAL && strstr(s.reason, "integrity check"),
	       "and health is critical (%s)", s.reason);
	h[-4] = saved;
	kfree(h);
	mm_set_mode(MM_MODE_TWOTIER);
	pg = virt_to_page(kmalloc(64, 0));
	pg = compound_head(pg);
	pg->inuse++;                            /* slab count disagrees with its map */
	tap_ok(mm_check() > 0, "slab count corruption found");
	pg->inuse--;
	pg = NULL;
	for (int z = 0; z < NR_ZONES && !pg; z++)
		for (int o = 0; o <= MAX_ORDER && !pg; o++)
			if (!list_empty(&zone_get(z)->area[o].free_list))
				pg = list_first_entry(&zone_get(z)->area[o].free_list, struct page, lru);
	flags = pg->flags;
	pg->flags &= ~PG_BUDDY;                 /* a free block that forgot it is free */
	tap_ok(mm_check() > 0, "buddy free-list corruption found");
	pg->flags = flags;
	tap_ok(mm_check() == 0, "undone: clean again");
	h = kmalloc(2048, 0);                   /* a slab object (twotier) */
	pg = compound_head(virt_to_page(h));
	tap_ok(free_pages_addr(page_address(pg), pg->order) == -EINVAL && pg->owner == PAGE_OWNER_SLAB &&
	       mm_check() == 0, "a page free of a slab's whole block is refused; all sound");
	kfree(h);
	mm_set_mode(MM_MODE_HYBRID);
}

/* ---- one snapshot while other threads allocate -------------------------- */

#define SNAP_THREADS 3
#define SNAP_OPS     60000
#define SNAP_LIVE    256

static atomic_int snap_done;

/* Random kmalloc/kfree of slab sizes, a burst of frees now and then (so
 * slabs empty and go back as well as grow). */
static void *snap_worker(void *arg)
{
	uint64_t rng = (uint64_t)(uintptr_t)arg;
	void *live[SNAP_LIVE] = { 0 };

	for (int i = 0; i < SNAP_OPS; i++) {
		unsigned slot = xorshift64(&rng) % SNAP_LIVE;

		if (i % 1000 == 999)
			for (unsigned j = 0; j < SNAP_LIVE; j++) {
				kfree(live[j]);
				live[j] = NULL;
			}
		if (live[slot]) {
			kfree(live[slot]);
			live[slot] = NULL;
		} else {
			live[slot] = kmalloc(1 + xorshift64(&rng) % 4096, 0);
		}
	}
	for (unsigned j = 0; j < SNAP_LIVE; j++)
		kfree(live[j]);
	atomic_fetch_add(&snap_done, 1);
	return NULL;
}

/* Figures of one snapshot that must agree: free and in-use pages make up
 * the rest of memory as at rest (c0); kmalloc's requests are its
 * successes and failures, and its modes and backends count the same
 * successes; the slab backend's bytes in use fit in its slabs. (The
 * slabs' pages against the buddy allocator's in use agree only at rest,
 * d0: a CPU holding only its cache's lock gets and gives back slab frames
 * while the snapshot is read.) Returns a description of the first broken
 * one, or NULL. */
static const char *snap_broken(const struct mm_stats *s, int64_t c0)
{
	unsigned long req = 0, ok = 0, fail = 0, ok_b = 0;
	int64_t in_use = (int64_t)s->buddy.pages_in_use * PAGE_SIZE;

	for (int m = 0; m < MM_MODE_NR; m++) {
		req += s->km.mode[m].requests;
		ok += s->km.mode[m].successes;
		fail += s->km.mode[m].fail_nomem + s->km.mode[m].fail_inval;
	}
	for (int b = 0; b < KM_BACKEND_NR; b++)
		ok_b += s->km.backend[b].successes;
	if ((int64_t)(s->total_bytes - s->free_bytes) - in_use != c0)
		return "used bytes != buddy pages in use";
	if (req != ok + fail || ok != ok_b)
		return "kmalloc requests != successes + failures, or modes != backends";
	if (s->km.backend[KM_BACKEND_SLAB].bytes_in_use > s->frag_held_bytes)
		return "slab bytes in use beyond the slabs";
	return NULL;
}

/* mm_stats_get stops the gates once and reads every layer under one hold
 * of the mm lock: its figures agree with each other while three threads
 * allocate and free on the fast and slow paths. */
static void test_snapshot_while_allocating(void)
{
	pthread_t th[SNAP_THREADS];
	const char *why = NULL;
	unsigned long snaps = 0, broken = 0, stops;
	struct mm_stats s;
	int64_t c0, d0;

	mm_set_mode(MM_MODE_TWOTIER);
	stops = mm_host_gate_stops;
	mm_stats_get(&s);
	stops = mm_host_gate_stops - stops;
	tap_ok(stops == 1, "mm_stats_get stops every gate once (%lu)", stops);
	c0 = (int64_t)(s.total_bytes - s.free_bytes) - (int64_t)s.buddy.pages_in_use * PAGE_SIZE;
	d0 = (int64_t)s.buddy.pages_in_use * PAGE_SIZE - (int64_t)s.frag_held_bytes;
	atomic_store(&snap_done, 0);
	for (int i = 0; i < SNAP_THREADS; i++) {
		tap_seed("snapshot worker", 0x5eedull + i);
		pthread_create(&th[i], NULL, snap_worker, (void *)(uintptr_t)(0x5eedull + i));
	}
	while (atomic_load(&snap_done) < SNAP_THREADS) {
		const char *w;

		mm_stats_get(&s);
		snaps++;
		if ((w = snap_broken(&s, c0))) {
			broken++;
			why = why ? why : w;
		}
	}
	for (int i = 0; i < SNAP_THREADS; i++)
		pthread_join(th[i], NULL);
	tap_ok(broken == 0 && snaps > 10, "%lu snapshots while %d threads allocate: %lu disagree%s%s",
	       snaps, SNAP_THREADS, broken, why ? ": " : "", why ? why : "");
	mm_stats_get(&s);
	tap_ok(!snap_broken(&s, c0) && s.km.backend[KM_BACKEND_SLAB].bytes_in_use == 0 &&
	       s.allocs == s.frees, "at rest: consistent, every block freed (%lu allocs)", s.allocs);
	tap_ok((int64_t)(s.buddy.pages_in_use * PAGE_SIZE) - (int64_t)s.frag_held_bytes == d0,
	       "at rest the pages in use are the slabs' and the others' exactly");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_totals),
	TAP_CASE(test_window_and_health),
	TAP_CASE(test_window_untick_and_excuse),
	TAP_CASE(test_failure_storm_folds),
	TAP_CASE(test_watermark_health),
	TAP_CASE(test_fragmentation),
	TAP_CASE(test_leaks),
	TAP_CASE(test_integrity),
	TAP_CASE(test_snapshot_while_allocating),
};

int main(void)
{
	int rc;

	arena = aligned_alloc(1 << 21, ARENA);
	rc = tap_main(TAP_CASES(cases), before, NULL);
	mm_host_clock = NULL;
	free(arena);
	return rc;
}
