/* test_reinit.c - mm_host_init() again gives exactly a fresh process's
 * state (mm/mm_host.h).
 *
 * Every observable figure of every mm module is taken right after the
 * first mm_host_init() (a fresh process), then the state of every module
 * is dirtied -- open transactions and savepoints, fault injection, debug
 * checks, leak tracking, the mode, statistics and refused frees, a
 * registered shrinker, kept blocks, magazines, heap runs, a cache of its
 * own -- and mm_host_init() is called again on the same arena: every
 * figure must be as fresh, and the modules must behave as fresh ones (a
 * new transaction is outermost and its commit runs its deferred frees; no
 * injection; the old shrinker is never asked). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/leak.h"
#include "mm/mm_debug.h"
#include "mm/slowpath.h"
#include "mm/mm_host.h"
#include "mm/page.h"
#include "mm/shrinker.h"
#include "mm/slab.h"
#include "mm/stats.h"
#include "mm/txn.h"
#include "kerrno.h"
#include "tap.h"
#include "../../src/host/mm_host.h"

#define ARENA (8u << 20)

static unsigned char *arena;

/* Every figure the mm modules show, each zeroed before its getter runs. */
struct figures {
	struct buddy_stats buddy;
	struct zone zones[NR_ZONES];
	struct kmalloc_stats km;
	struct kmem_cache_stats caches[SLAB_MAX_CACHES];
	int cache_ret[SLAB_MAX_CACHES];
	struct heap_stats heap;
	struct faultinj_config fi_cfg;
	struct faultinj_stats fi;
	unsigned long fi_total;
	unsigned debug_flags, slow_paths;
	struct mm_debug_stats debug;
	struct leak_stats leak;
	struct shrinker_stats shrink;
	struct mm_stats stats;
	int mode;
	bool txn_open;
};

static void take(struct figures *f)
{
	memset(f, 0, sizeof(*f));
	buddy_get_stats(&f->buddy);
	for (int z = 0; z < NR_ZONES; z++) {
		f->zones[z] = *zone_get(z);
		for (int o = 0; o <= MAX_ORDER; o++)   /* list heads: addresses */
			memset(&f->zones[z].area[o].free_list, 0,
			       sizeof(f->zones[z].area[o].free_list));
	}
	kmalloc_get_stats(&f->km);
	for (unsigned i = 0; i < SLAB_MAX_CACHES; i++)
		f->cache_ret[i] = kmem_cache_info(i, &f->caches[i]);
	heap_get_stats(&f->heap);
	faultinj_get(&f->fi_cfg, &f->fi);
	f->fi_total = faultinj_injected();
	f->debug_flags = mm_debug_get();
	f->slow_paths = mm_slow_paths;
	mm_debug_get_stats(&f->debug);
	leak_get_stats(&f->leak);
	shrinker_get_stats(&f->shrink);
	mm_stats_get(&f->stats);
	f->mode = mm_get_mode();
	f->txn_open = mm_txn_current() != NULL;
}

#define SAME(field) \
	tap_ok(memcmp(&a->field, &b->field, sizeof(a->field)) == 0, "re-init: " #field " as fresh")

static void compare(const struct figures *a, const struct figures *b)
{
	SAME(buddy);
	SAME(zones);
	SAME(km);
	SAME(caches);
	SAME(cache_ret);
	SAME(heap);
	SAME(fi_cfg);
	SAME(fi);
	SAME(fi_total);
	SAME(debug_flags);
	SAME(slow_paths);
	SAME(debug);
	SAME(leak);
	SAME(shrink);
	SAME(stats);
	SAME(mode);
	SAME(txn_open);
}

static unsigned long stale_scans;
static unsigned long stale_count(struct shrinker *s)
{
	(void)s;
	return 4096;
}

static unsigned long stale_scan(struct shrinker *s, unsigned long want)
{
	(void)s;
	(void)want;
	stale_scans++;
	return 0;
}

static struct shrinker stale = { .count = stale_count, .scan = stale_scan };

/* Dirty every module; leave a transaction and a savepoint open. */
static void dirty(struct mm_txn *outer, struct mm_txn *inner)
{
	struct faultinj_config fi = { .probability = 50, .interval = 3, .times = -1,
				      .scope = FI_ALL, .seed = 9 };
	struct kmem_cache *c = kmem_cache_create("mine", 100, 0, 0);
	void *p[64], *q;

	mm_set_mode(MM_MODE_SIMPLE);
	kfree(kmalloc(5000, 0));                 /* a free heap run */
	mm_set_mode(MM_MODE_TWOTIER);
	for (int i = 0; i < 64; i++)
		p[i] = kmalloc(i < 32 ? 64 : 8192, 0);
	for (int i = 0; i < 64; i++)
		kfree(p[i]);                         /* magazines, kept blocks */
	kmem_cache_alloc(c, 0);                  /* a cache of its own, in use */
	mm_host_quiet = 1;
	kfree(&q);                               /* a refused free */
	mm_host_quiet = 0;
	shrinker_register(&stale);
	leak_track(true);
	kmalloc(300, 0);                         /* a tracked live block */
	mm_debug_set(MM_DEBUG_ALL, true);
	mm_txn_begin(outer);
	mm_txn_alloc(outer, 200, 0, 0, &q);
	mm_txn_begin(inner);
	faultinj_set(&fi);
	for (int i = 0; i < 20; i++)             /* some injected failures */
		kmalloc(64, 0);
	mm_check();
}

/* A clock that stands still: the failure window's span (mm_stats'
 * window_ms) is then the same in both pictures. */
static unsigned long long still_clock(void)
{
	return 1000000;
}

/* The first mm_host_init() of the process is the reference, so this file
 * has no `before`: each case initialises, dirties and initialises again
 * itself (on the still clock main sets). Run first (as in the table),
 * test_reinit_figures compares the re-init with a fresh process's
 * figures; run later (TAP_REVERSE), with those of an earlier re-init. */
static void test_reinit_figures(void)
{
	struct figures fresh, again;
	struct mm_txn outer, inner;

	tap_ok(mm_host_init(arena, ARENA) == 0, "first init");
	take(&fresh);
	dirty(&outer, &inner);
	take(&again);
	tap_ok(again.txn_open && again.fi.enabled && again.leak.tracking && again.debug_flags &&
	       again.heap.free_runs && again.stats.wrong_frees, "dirtied: a transaction open, injection, leak tracking, "
	       "debug checks on, a free run kept, a wrong free counted");
	tap_ok(mm_host_init(arena, ARENA) == 0, "init again with all of that live");
	take(&again);
	compare(&fresh, &again);
}

/* After a re-init over dirtied modules they behave as fresh ones. */
static void test_reinit_behaves_fresh(void)
{
	struct mm_txn outer, inner, t;
	void *a, *b;
	uint64_t used;
	int n;

	mm_host_init(arena, ARENA);
	dirty(&outer, &inner);
	mm_host_init(arena, ARENA);
	stale_scans = 0;
	tap_ok(mm_txn_begin(&t) == 0 && t.parent == NULL && t.root == &t,
	       "a new transaction is outermost, not nested in the dead one");
	a = kmalloc(100, 0);
	tap_ok(a && mm_txn_alloc(&t, 64, 0, 0, &b) == 0 && mm_txn_free(&t, a) == 0 &&
	       mm_txn_commit(&t) == 0, "allocate, defer a free, commit");
	used = kmalloc_bytes_in_use();
	tap_ok(used == ksize(b), "... the commit ran the deferred free (%llu bytes in use: the "
	       "transaction's block only)", (unsigned long long)used);
	kfree(b);
	for (n = 0; n < 100 && (a = kmalloc(64, 0)) != NULL; n++)
		kfree(a);
	tap_ok(n == 100, "no injection after re-init: %d of 100 requests served", n);
	tap_ok(mm_shrink(~0ul) == 0 && stale_scans == 0,
	       "the shrinker registered before re-init is never asked");
	tap_ok(mm_check() == 0, "integrity check clean");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_reinit_figures),
	TAP_CASE(test_reinit_behaves_fresh),
};

int main(void)
{
	int rc;

	arena = aligned_alloc(4096, ARENA);
	if (!arena)
		return 1;
	mm_host_clock = still_clock;
	rc = tap_main(TAP_CASES(cases), NULL, NULL);
	mm_host_clock = NULL;
	free(arena);
	return rc;
}
