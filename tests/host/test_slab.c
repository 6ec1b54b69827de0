/* test_slab.c - host tests of the slab caches (mm/slab.h).
 *
 * A 32 MiB host arena is the RAM (mm_host_init). Covers create/alloc/free,
 * alignment, the free-list and reserve policy, shrink back to the exact
 * buddy baseline, every kind of wrong free, exhaustion, poison and red-zone
 * violations (also with the switch toggled while objects are live), writes
 * after free, a broken alloc map, exact object indexing, and slabinfo
 * iteration. Seeds are fixed and printed. */
#include "lib/xorshift.h"
#include "tap.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/mm_debug.h"
#include "mm/mm_host.h"
#include "mm/slab.h"
#include "../../src/host/mm_host.h"
#include "../../src/mm/slab_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define ARENA (32u << 20)
#define NOBJ  3000

static unsigned char *arena;
static unsigned long baseline;
static void *objs[NOBJ];

static uint64_t rng_state;

static uint64_t rnd(void)
{
	return xorshift64(&rng_state);
}

/* Every case: a fresh system; baseline is its free page count. */
static void fresh(void)
{
	if (mm_host_init(arena, ARENA) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
	mm_host_quiet = 0;
	baseline = buddy_free_pages();
}

static struct kmem_cache_stats stats_of(struct kmem_cache *c)
{
	struct kmem_cache_stats st;

	memset(&st, 0, sizeof(st));
	kmem_cache_get_stats(c, &st);
	return st;
}

static void test_create(void)
{
	struct kmem_cache *c;

	tap_ok(kmem_cache_create(NULL, 8, 0, 0) == NULL, "create: NULL name refused");
	tap_ok(kmem_cache_create("x", 0, 0, 0) == NULL, "create: size 0 refused");
	tap_ok(kmem_cache_create("x", 8, 3, 0) == NULL, "create: align 3 refused");
	tap_ok(kmem_cache_create("x", 8, 8192, 0) == NULL, "create: align 8192 refused");
	tap_ok(kmem_cache_create("x", (1u << 20) + 1, 0, 0) == NULL,
	       "create: size over 1 MiB refused");
	c = kmem_cache_create("a-very-long-cache-name-that-is-cut", 40, 0, 0);
	tap_ok(c && strlen(stats_of(c).name) == SLAB_NAME_MAX - 1,
	       "create: long name cut to %d chars", SLAB_NAME_MAX - 1);
	tap_ok(kmem_cache_destroy(c) == 0, "destroy of an unused cache");
	tap_ok(kmem_cache_destroy(c) == -EINVAL, "destroy twice -> -EINVAL");
	tap_ok(kmem_cache_destroy(kmalloc_cache(3)) == -EINVAL &&
	       kmalloc_cache(3) && stats_of(kmalloc_cache(3)).object_size == 64,
	       "a kmalloc size class cannot be destroyed");
	tap_ok(buddy_free_pages() == baseline, "create/destroy took no pages");
}

/* Objects are distinct, aligned, hold their pattern; stats follow. */
static void test_basic(size_t size, size_t align)
{
	struct kmem_cache *c = kmem_cache_create("basic", size, align, 0);
	size_t a = align ? align : 8;
	int i, bad_align = 0, bad_pat = 0, n = size > 10000 ? 100 : 500;
	struct kmem_cache_stats st;

	for (i = 0; i < n; i++) {
		objs[i] = kmem_cache_alloc(c, 0);
		if (!objs[i] || (uintptr_t)objs[i] % a)
			bad_align++;
		else
			memset(objs[i], i & 0xff, size);
	}
	for (i = 0; i < n; i++)
		if (objs[i] && ((unsigned char *)objs[i])[size - 1] != (i & 0xff))
			bad_pat++;
	st = stats_of(c);
	tap_ok(!bad_align && !bad_pat && st.active_objs == (unsigned long)n,
	       "basic size %zu align %zu: %d objects aligned, patterns intact",
	       size, align, n);
	tap_ok(slab_check() == 0, "basic size %zu: slab_check clean", size);
	for (i = 0; i < n; i++)
		kmem_cache_free(c, objs[i]);
	st = stats_of(c);
	tap_ok(st.active_objs == 0 && st.frees == (unsigned long)n && st.requests == (unsigned long)n &&
	       st.slabs <= 2 * SLAB_RESERVE,
	       "basic size %zu: all freed, %lu slab(s) kept as reserve", size,
	       st.slabs);
	tap_ok(kmem_cache_destroy(c) == 0 && buddy_free_pages() == baseline,
	       "basic size %zu: destroy returns every page", size);
}

static void test_zero_and_reserve(void)
{
	struct kmem_cache *c = kmem_cache_create("zr", 200, 0, 0);
	unsigned char *p = kmem_cache_alloc(c, 0);
	struct kmem_cache_stats st;
	int i, zero = 1;

	memset(p, 0xa5, 200);
	kmem_cache_free(c, p);
	p = kmem_cache_alloc(c, GFP_ZERO);
	for (i = 0; i < 200; i++)
		zero &= p[i] == 0;
	tap_ok(zero, "GFP_ZERO zeroes a reused object");
	kmem_cache_free(c, p);
	for (i = 0; i < 400; i++)
		objs[i] = kmem_cache_alloc(c, 0);
	st = stats_of(c);
	tap_ok(st.slabs >= 4, "400 objects of 200 B span %lu slabs", st.slabs);
	for (i = 0; i < 400; i++)
		kmem_cache_free(c, objs[i]);
	st = stats_of(c);
	tap_ok(st.slabs == SLAB_RESERVE && st.empty == SLAB_RESERVE,
	       "after freeing, only the reserve (%d empty slab) stays",
	       SLAB_RESERVE);
	tap_ok(kmem_cache_shrink(c) == st.pages && stats_of(c).slabs == 0,
	       "shrink releases the reserve (%lu frames)", st.pages);
	tap_ok(buddy_free_pages() == baseline, "free pages back to the baseline");
	kmem_cache_destroy(c);
}

static int wrong_case(struct kmem_cache *c, void *p, const char *what)
{
	unsigned long before = stats_of(c).wrong_frees, rep = mm_host_reports;
	int ret = kmem_cache_free(c, p);

	return tap_ok(ret == -EINVAL && stats_of(c).wrong_frees == before + 1 &&
		      mm_host_reports == rep + 1 && slab_check() == 0,
		      "wrong free refused, reported once, counted: %s", what);
}

static void test_wrong_frees(void)
{
	struct kmem_cache *c = kmem_cache_create("wf", 48, 0, 0);
	struct kmem_cache *d = kmem_cache_create("wf-other", 48, 0, 0);
	char *a = kmem_cache_alloc(c, 0), *b = kmem_cache_alloc(c, 0);
	char *o = kmem_cache_alloc(d, 0);
	void *pages = page_address(alloc_pages(0, 0));
	int local;
	unsigned long rep;

	mm_host_quiet = 1;
	wrong_case(c, NULL, "NULL");
	wrong_case(c, &local, "stack pointer (no frame)");
	wrong_case(c, arena + ARENA + 4096, "pointer past the arena");
	wrong_case(c, pages, "plain alloc_pages page");
	wrong_case(c, a + 1, "interior pointer");
	wrong_case(c, a + 48 * 4, "object never allocated");
	wrong_case(c, o, "object of another cache");
	tap_ok(kmem_cache_free(c, b) == 0, "a real free still works");
	wrong_case(c, b, "double free");
	rep = mm_host_reports;
	tap_ok(kmem_cache_free(NULL, a) == -EINVAL && mm_host_reports == rep + 1,
	       "free with a NULL cache refused and reported");
	mm_host_quiet = 0;
	tap_ok(stats_of(c).active_objs == 1 && kmem_cache_free(c, a) == 0 &&
	       kmem_cache_free(d, o) == 0, "live objects unaffected by refusals");
	free_pages_addr(pages, 0);
	kmem_cache_destroy(c);
	kmem_cache_destroy(d);
	tap_ok(buddy_free_pages() == baseline && buddy_check() == 0,
	       "wrong frees changed nothing: baseline restored");
}

static void test_destroy_busy(void)
{
	struct kmem_cache *c = kmem_cache_create("busy", 64, 0, 0);
	void *p = kmem_cache_alloc(c, 0);

	mm_host_quiet = 1;
	tap_ok(kmem_cache_destroy(c) == -EBUSY, "destroy with a live object -> -EBUSY");
	mm_host_quiet = 0;
	tap_ok(kmem_cache_free(c, p) == 0 && kmem_cache_destroy(c) == 0,
	       "cache intact after refused destroy; destroy once empty");
}

static void test_exhaust(void)
{
	struct kmem_cache *c = kmem_cache_create("exh", 2000, 0, 0);
	static void *many[32768];
	unsigned long n = 0, i;
	struct kmem_cache_stats st;

	while (n < 32768 && (many[n] = kmem_cache_alloc(c, 0)) != NULL)
		n++;
	st = stats_of(c);
	tap_ok(n > 1000 && n < 32768 && st.failures == 1,
	       "exhaustion: %lu objects, then NULL (failure counted)", n);
	tap_ok(kmem_cache_alloc(c, 0) == NULL && stats_of(c).failures == 2,
	       "exhausted cache keeps returning NULL");
	tap_ok(slab_check() == 0 && buddy_check() == 0, "exhausted: checks clean");
	for (i = 0; i < n; i++)
		kmem_cache_free(c, many[i]);
	kmem_cache_shrink(NULL);
	tap_ok(buddy_free_pages() == baseline, "exhaustion: baseline restored");
	kmem_cache_destroy(c);
}

static void test_poison(void)
{
	struct kmem_cache *c = kmem_cache_create("poi", 64, 0, 0);
	struct mm_debug_stats d0, d1;
	unsigned char *p, *q;

	tap_ok(mm_debug_set(1u << 7, true) == -EINVAL, "mm_debug_set: unknown bit -> -EINVAL");
	mm_debug_set(MM_DEBUG_POISON, true);
	p = kmem_cache_alloc(c, 0);
	kmem_cache_free(c, p);
	tap_ok(p[8] == MM_POISON_FREE && p[63] == MM_POISON_FREE,
	       "freed object poisoned with 0x6b");
	tap_ok(slab_check() == 0, "poisoned object passes slab_check");
	mm_debug_get_stats(&d0);
	q = kmem_cache_alloc(c, 0);
	mm_debug_get_stats(&d1);
	tap_ok(q == p && d1.poison_violations == d0.poison_violations,
	       "intact poison: no violation on reuse");
	kmem_cache_free(c, q);
	p[40] = 0; /* use after free */
	tap_ok(slab_check() == 1, "slab_check sees the broken poison");
	mm_host_quiet = 1;
	q = kmem_cache_alloc(c, 0);
	mm_host_quiet = 0;
	mm_debug_get_stats(&d1);
	tap_ok(q == p && d1.poison_violations == d0.poison_violations + 1,
	       "write after free caught on reuse and counted");
	kmem_cache_free(c, q);
	mm_debug_set(MM_DEBUG_POISON, false);
	q = kmem_cache_alloc(c, 0);
	kmem_cache_free(c, q);
	tap_ok(slab_check() == 0 && mm_debug_get() == 0, "poison off: clean");
	kmem_cache_destroy(c);
}

static void test_redzone(void)
{
	struct kmem_cache *c = kmem_cache_create("rz", 40, 8, 0);
	struct mm_debug_stats d0, d1;
	unsigned char *p, *q, *r;

	mm_debug_set(MM_DEBUG_REDZONE, true);
	p = kmem_cache_alloc(c, 0);
	q = kmem_cache_alloc(c, 0);
	tap_ok(p[40] == MM_REDZONE_BYTE && p[-1] == MM_REDZONE_BYTE,
	       "red zones of 0xcc on both sides");
	memset(p, 0x11, 40);
	p[40] = 0x42; /* one past the end */
	q[-3] = 0x42; /* before the start */
	tap_ok(slab_check() == 2, "slab_check sees both broken red zones");
	mm_debug_get_stats(&d0);
	mm_host_quiet = 1;
	kmem_cache_free(c, p);
	kmem_cache_free(c, q);
	mm_host_quiet = 0;
	mm_debug_get_stats(&d1);
	tap_ok(d1.redzone_violations == d0.redzone_violations + 2,
	       "overflow and underflow caught at free, counted");
	/* toggle with live objects */
	r = kmem_cache_alloc(c, 0);
	mm_debug_set(MM_DEBUG_REDZONE, false);
	p = kmem_cache_alloc(c, 0);
	tap_ok(stats_of(c).debug_slabs >= 1 && stats_of(c).slabs >= 2,
	       "red-zone and plain slabs coexist");
	r[41] = 0;
	mm_host_quiet = 1;
	kmem_cache_free(c, r);
	mm_host_quiet = 0;
	mm_debug_get_stats(&d0);
	tap_ok(d0.redzone_violations == d1.redzone_violations + 1,
	       "object allocated with red zones still checked after switch-off");
	mm_debug_set(MM_DEBUG_REDZONE, true);
	kmem_cache_free(c, p);
	mm_debug_get_stats(&d1);
	tap_ok(d1.redzone_violations == d0.redzone_violations,
	       "plain object freed with red zones on: no false alarm");
	mm_debug_set(MM_DEBUG_REDZONE, false);
	tap_ok(slab_check() == 0 && kmem_cache_destroy(c) == 0 &&
	       buddy_free_pages() == baseline, "red-zone test leaves nothing behind");
}

/* Nothing is kept in a free object: smashing one after free changes
 * nothing the allocator relies on. */
static void test_write_after_free(void)
{
	struct kmem_cache *c = kmem_cache_create("waf", 32, 0, 0);
	unsigned char *p = kmem_cache_alloc(c, 0);
	struct mm_debug_stats d0, d1;
	int i, dup = 0, j;

	kmem_cache_free(c, p);
	memset(p, 0x5a, 32);   /* write after free, every byte */
	mm_debug_get_stats(&d0);
	for (i = 0; i < 200; i++)
		objs[i] = kmem_cache_alloc(c, 0);
	mm_debug_get_stats(&d1);
	for (i = 0; i < 200; i++)
		for (j = 0; j < i; j++)
			dup += objs[i] == objs[j] || !objs[i];
	tap_ok(d1.corruptions == d0.corruptions && !dup && objs[0] == p,
	       "write after free: no corruption, objects distinct, lowest reused first");
	for (i = 0; i < 200; i++)
		kmem_cache_free(c, objs[i]);
	tap_ok(slab_check() == 0 && kmem_cache_destroy(c) == 0,
	       "after write after free: slab_check clean");
}

/* A slab whose alloc map claims no free object while its count says there
 * is one is withdrawn: reported, never used again, its objects refused. */
static void test_broken_map(void)
{
	struct kmem_cache *c = kmem_cache_create("map", 64, 0, 0);
	uint64_t *map;
	void *p = kmem_cache_alloc(c, 0), *q;
	struct kmem_cache_stats st;
	struct mm_debug_stats d0, d1;
	unsigned long reports = mm_host_reports;

	map = (uint64_t *)(((uintptr_t)p & ~(uintptr_t)4095) + 8);   /* after the header */
	map[0] = ~0ull;   /* every object "allocated" */
	mm_debug_get_stats(&d0);
	mm_host_quiet = 1;
	q = kmem_cache_alloc(c, 0);
	mm_host_quiet = 0;
	mm_debug_get_stats(&d1);
	tap_ok(q && ((uintptr_t)q & ~(uintptr_t)4095) != ((uintptr_t)p & ~(uintptr_t)4095) &&
	       d1.corruptions == d0.corruptions + 1 && mm_host_reports == reports + 1,
	       "broken alloc map: reported once, object from another slab");
	mm_host_quiet = 1;
	tap_ok(kmem_cache_free(c, p) == -EINVAL, "object of a withdrawn slab refused");
	mm_host_quiet = 0;
	st = stats_of(c);
	tap_ok(kmem_cache_free(c, q) == 0 && slab_check() == 0 && st.slabs == 1 &&
	       st.withdrawn == 1 && st.total_objs == st.objs_per_slab && st.active_objs == 1,
	       "withdrawn slab off the books, slab_check clean");
	tap_ok(kmem_cache_destroy(c) == 0, "a cache with a withdrawn slab can be destroyed");
}

/* Magazines: kmalloc's fast path takes from the calling CPU's loaded
 * magazine (a miss refills SLAB_MAG_REFILL objects from the slabs), kfree's
 * gives back to it; a cached object is free to every check. */
static uint64_t *cached_word(const void *obj, uint64_t *bit)
{
	struct page *pg = compound_head(virt_to_page(obj));
	struct kmem_cache *c = pg->priv;
	long i = slab_index(pg, &c->lay[LAY_PLAIN], obj);

	*bit = 1ull << (i % 64);
	return slab_cached_map(pg, &c->lay[LAY_PLAIN]) + i / 64;
}

static bool cached_bit(const void *obj)
{
	uint64_t bit, *w = cached_word(obj, &bit);

	return (*w & bit) != 0;
}

static void flip_cached(const void *obj)
{
	uint64_t bit, *w = cached_word(obj, &bit);

	*w ^= bit;
}

/* The magazine of c holding the most entries (the gates idle: one
 * thread here). */
static struct slab_mag *fullest_mag(struct kmem_cache *c)
{
	struct slab_mag *best = c->cpu[mm_cpu()].loaded;

	if (c->cpu[mm_cpu()].prev->n > best->n)
		best = c->cpu[mm_cpu()].prev;
	return best;
}

/* Magazines whose entry counts agree with the cached bits but whose sets
 * do not, and an "empty" magazine in the depot holding an entry: each
 * reported by slab_check (the count comparison alone missed them). */
static void mag_corruptions(struct kmem_cache *c)
{
	struct slab_mag *m = fullest_mag(c), *e = c->depot_empty;
	void *obj1;
	uint64_t *word1, bit1;

	tap_ok(m->n >= 2 && e && e->n == 0, "a magazine with %lu entries, an empty one in the depot",
	       m->n);
	if (m->n < 2 || !e)
		return;
	obj1 = m->obj[1];   /* entry 1 made a copy of entry 0: as many entries as bits */
	word1 = m->word[1];
	bit1 = m->bit[1];
	m->obj[1] = m->obj[0];
	m->word[1] = m->word[0];
	m->bit[1] = m->bit[0];
	tap_ok(slab_check() == 2 && strstr(mm_host_last_report, "cached bits with no magazine entry"),
	       "slab_check: one object in two entries, one cached bit with none (%s)",
	       mm_host_last_report);
	m->obj[1] = obj1;
	m->word[1] = word1;
	m->bit[1] = bit1;
	e->obj[0] = m->obj[0];   /* the depot's empty one claims an entry */
	e->word[0] = m->word[0];
	e->bit[0] = m->bit[0];
	e->n = 1;
	tap_ok(slab_check() == 1 && strstr(mm_host_last_report, "empty magazine in the depot"),
	       "slab_check: an entry in an empty magazine of the depot (%s)", mm_host_last_report);
	e->n = 0;
	tap_ok(slab_check() == 0, "and clean when put right");
}

static void test_magazine(void)
{
	struct kmem_cache *c = kmalloc_cache(3);   /* kmalloc-64 */
	const unsigned long depot_max = (2 + SLAB_DEPOT_FULL) * SLAB_MAG_SIZE;
	struct kmem_cache_stats st;
	struct mm_debug_stats d0, d1;
	unsigned long rep, wrong, active;
	void *p, *q;
	int i;

	active = stats_of(c).active_objs;
	p = kmalloc(64, 0);
	kfree(p);
	st = stats_of(c);
	tap_ok(st.cached == SLAB_MAG_REFILL && st.active_objs == active && cached_bit(p) &&
	       ksize(p) == 0 && slab_check() == 0,
	       "a refill loads %d, kfree caches the object: cached bit set, not active, checks clean",
	       SLAB_MAG_REFILL);
	q = kmalloc(64, 0);
	tap_ok(q == p && !cached_bit(p) && stats_of(c).cached == SLAB_MAG_REFILL - 1 &&
	       ksize(p) == 64, "kmalloc hands the newest cached object out again");
	kfree(p);
	rep = mm_host_reports;
	wrong = stats_of(c).wrong_frees;
	mm_host_quiet = 1;
	kfree(p);
	tap_ok(kmem_cache_free(c, p) == -EINVAL && mm_host_reports == rep + 2 &&
	       stats_of(c).wrong_frees == wrong + 2 && stats_of(c).cached == SLAB_MAG_REFILL,
	       "a cached object freed again is a double free on both paths");
	mm_host_quiet = 0;

	for (i = 0; i < (int)depot_max + 40; i++)
		objs[i] = kmalloc(64, 0);
	for (i = 0; i < (int)depot_max + 40; i++)
		kfree(objs[i]);
	st = stats_of(c);
	tap_ok(st.cached > depot_max - SLAB_MAG_SIZE && st.cached <= depot_max &&
	       st.active_objs == active && slab_check() == 0,
	       "loaded + previous + %d full in the depot hold %lu (at most %lu), the rest go back "
	       "to their slabs", SLAB_DEPOT_FULL, st.cached, depot_max);
	kmem_cache_shrink(NULL);
	st = stats_of(c);
	tap_ok(st.cached == 0 && st.empty == 0 && slab_check() == 0,
	       "kmem_cache_shrink empties the magazines, then the slabs");

	/* slab_check against the magazines */
	p = kmalloc(64, 0);
	q = kmalloc(64, 0);
	kfree(p);
	flip_cached(p);   /* the entry's bit cleared */
	mm_host_quiet = 1;
	tap_ok(slab_check() == 1, "slab_check: an entry whose cached bit is clear");
	flip_cached(p);
	flip_cached(q);   /* q: allocated, not in a magazine */
	tap_ok(slab_check() == 1, "slab_check: a cached bit with no entry");
	flip_cached(q);
	tap_ok(slab_check() == 0, "and clean when put right");
	mag_corruptions(c);

	/* a broken entry is dropped, not trusted */
	flip_cached(p);
	mm_debug_get_stats(&d0);
	kmem_cache_shrink(NULL);
	mm_debug_get_stats(&d1);
	mm_host_quiet = 0;
	tap_ok(d1.corruptions == d0.corruptions + 1 && stats_of(c).cached == 0 &&
	       ksize(p) == 64, "draining: a broken entry is reported and dropped, its object left alone");
	kfree(p);
	kfree(q);
	kmem_cache_shrink(NULL);

	/* a slab withdrawn with cached objects takes them along */
	p = kmalloc(64, 0);
	q = kmalloc(64, 0);
	kfree(p);
	slab_alloc_map(compound_head(virt_to_page(p)))[0] = ~0ull;
	mm_host_quiet = 1;
	kmem_cache_free(c, kmem_cache_alloc(c, 0));
	mm_host_quiet = 0;
	st = stats_of(c);
	tap_ok(st.withdrawn == 1 && st.cached == 0 && kmalloc(64, 0) != p && slab_check() == 0,
	       "withdrawing a slab forgets its cached objects");
}

/* A double free of an object waiting in the depot's oldest full magazine,
 * the last object in use of its slab: making room for it puts that
 * magazine back on the slabs and releases the slab -- the free is refused
 * as what it is then (no kmalloc block), not run on the released frame. */
static void test_magazine_double_free_depot(void)
{
	struct kmem_cache *c = kmalloc_cache(11);   /* kmalloc-4096: 2 a magazine */
	unsigned long per = stats_of(c).objs_per_slab, rep;
	int n = (int)(5 * per);

	for (int i = 0; i < n; i++)
		objs[i] = kmem_cache_alloc(c, 0);   /* slabs S0..S4, in order */
	for (int i = 2; i < (int)(2 * per); i++)
		kmem_cache_free(c, objs[i]);        /* S0 keeps two, S1 empties */
	kfree(objs[0]);
	kfree(objs[1]);                              /* S0's last two, the oldest */
	for (int i = (int)(2 * per); i < (int)(2 * per) + 2 * (SLAB_DEPOT_FULL + 1); i++)
		kfree(objs[i]);                      /* the depot fills up */
	rep = mm_host_reports;
	mm_host_quiet = 1;
	kfree(objs[0]);                              /* a double free */
	mm_host_quiet = 0;
	tap_ok(mm_host_reports == rep + 1 && strstr(mm_host_last_report, "wrong free") &&
	       slab_check() == 0,
	       "double free of an object in the depot's oldest magazine: refused, reported (%s)",
	       mm_host_last_report);
	for (int i = (int)(2 * per) + 2 * (SLAB_DEPOT_FULL + 1); i < n; i++)
		kfree(objs[i]);
	kmem_cache_shrink(NULL);
	tap_ok(stats_of(c).active_objs == 0 && slab_check() == 0, "... and the cache empties");
}

/* A slab whose map turns out broken while a refill takes from it: the
 * objects already taken from it leave the magazine with it, so kmalloc
 * never hands out an object of a withdrawn slab. */
static void test_magazine_withdraw_in_refill(void)
{
	struct kmem_cache *c = kmalloc_cache(3);   /* kmalloc-64 */
	void *p = kmem_cache_alloc(c, 0), *q, *r;
	struct page *pg = compound_head(virt_to_page(p));
	uint64_t *map = slab_alloc_map(pg);
	unsigned long n = c->lay[LAY_PLAIN].nobjs, wrong;
	struct kmalloc_stats ks;
	long qi;

	for (unsigned long i = 11; i < n; i++)   /* broken: 11.. allocated, inuse 1 */
		map[i / 64] |= 1ull << (i % 64);
	mm_host_quiet = 1;
	q = kmalloc(64, 0);   /* the refill takes 1..10, the free ones, and stops */
	qi = q ? slab_index(pg, &c->lay[LAY_PLAIN], q) : -1;
	tap_ok(qi >= 1 && qi <= 10 && stats_of(c).withdrawn == 0 && stats_of(c).cached == 9,
	       "a refill takes only the objects a broken map shows free (object %ld), "
	       "and leaves the slab to the full path", qi);
	r = kmem_cache_alloc(c, 0);   /* the full path finds it broken */
	mm_host_quiet = 0;
	tap_ok(r && compound_head(virt_to_page(r)) != pg && stats_of(c).withdrawn == 1 &&
	       stats_of(c).cached == 0 && slab_check() == 0,
	       "the full path withdraws it and takes its objects out of the magazine");
	kmalloc_get_stats(&ks);
	wrong = ks.wrong_frees;
	mm_host_quiet = 1;
	kfree(q);
	mm_host_quiet = 0;
	kmalloc_get_stats(&ks);
	tap_ok(ks.wrong_frees == wrong + 1, "an object of the withdrawn slab is not taken back");
	kmem_cache_free(c, r);
}

/* Object index by reciprocal multiply: every object start of a slab is
 * accepted and the bytes on either side refused, over many strides. */
static void test_index(void)
{
	unsigned long bad = 0, sizes = 0;

	for (size_t size = 8; size <= 8192; size += size < 512 ? 8 : size < 2048 ? 40 : 504) {
		struct kmem_cache *c = kmem_cache_create("idx", size, 0, 0);
		struct kmem_cache_stats st = stats_of(c);
		unsigned n = st.objs_per_slab;

		for (unsigned i = 0; i < n && i < NOBJ; i++)
			objs[i] = kmem_cache_alloc(c, 0);
		for (unsigned i = 0; i < n && i < NOBJ; i++) {
			char *o = objs[i];

			bad += slab_obj_cache(o) != c || slab_obj_cache(o + 1) != NULL ||
			       slab_obj_cache(o - 1) != NULL || slab_obj_cache(o + size / 2) != NULL;
		}
		for (unsigned i = 0; i < n && i < NOBJ; i++)
			bad += kmem_cache_free(c, objs[i]) != 0;
		bad += kmem_cache_destroy(c) != 0;
		sizes++;
	}
	tap_ok(!bad && sizes > 100, "object index exact for %lu sizes", sizes);
}

static void test_random(void)
{
	struct kmem_cache *c[4];
	static const size_t sz[4] = { 8, 72, 500, 3000 };
	static unsigned owner[NOBJ];
	const uint64_t seed = 0x5eed51ab;
	unsigned long ops, bad = 0;
	int i;

	rng_state = seed;
	tap_seed("slab random", seed);
	for (i = 0; i < 4; i++)
		c[i] = kmem_cache_create("rand", sz[i], 0, 0);
	memset(objs, 0, sizeof(objs));
	for (ops = 0; ops < 100000; ops++) {
		unsigned k = rnd() % NOBJ;

		if (objs[k]) {
			bad += ((unsigned char *)objs[k])[sz[owner[k]] - 1] != (k & 0xff);
			bad += kmem_cache_free(c[owner[k]], objs[k]) != 0;
			objs[k] = NULL;
		} else {
			owner[k] = rnd() % 4;
			objs[k] = kmem_cache_alloc(c[owner[k]], 0);
			if (objs[k])
				memset(objs[k], k & 0xff, sz[owner[k]]);
			else
				bad++;
		}
		bad += tap_check_every(slab_check, "slab random", seed, (long)ops);
	}
	for (i = 0; i < NOBJ; i++)
		if (objs[i])
			bad += kmem_cache_free(c[owner[i]], objs[i]) != 0;
	tap_ok(bad == 0, "100k random alloc/free over 4 caches: patterns, slab_check every %d ok",
	       TAP_CHECK_EVERY);
	for (i = 0; i < 4; i++)
		kmem_cache_destroy(c[i]);
	tap_ok(buddy_free_pages() == baseline, "random: baseline restored");
}

static void test_slabinfo(void)
{
	struct kmem_cache_stats st;
	unsigned i, n = 0, found = 0;

	for (i = 0; kmem_cache_info(i, &st) == 0; i++) {
		n++;
		found += strcmp(st.name, "kmalloc-96") == 0 && st.object_size == 96;
	}
	tap_ok(n == kmalloc_nr_classes() && n == 12 && found == 1,
	       "slabinfo iterates %u caches (kmalloc-96 among them)", n);
	tap_ok(kmem_cache_info(n, &st) == -ENOENT && kmem_cache_info(0, NULL) == -EINVAL,
	       "slabinfo: -ENOENT past the end, -EINVAL for NULL");
}

/* mm_host_init() once more on the arena the case ran on. */
static void test_reinit(void)
{
	unsigned long first = baseline;

	fresh();
	tap_ok(buddy_free_pages() == first, "re-init on the same arena works");
}

static const struct { size_t size, align; } basic[] = {
	{ 8, 0 }, { 24, 0 }, { 100, 64 }, { 1000, 0 }, { 4096, 4096 }, { 70000, 0 },
};

static void test_basic_row(intptr_t i)
{
	test_basic(basic[i].size, basic[i].align);
}

/* kmem_cache_cpu_stats: one CPU's magazines (host threads play CPUs). */
struct cpu_run {
	unsigned cpu;
	struct kmem_cpu_stats st;
};

static void *magazines_of_another(void *arg)
{
	struct cpu_run *r = arg;
	void *p[10];

	r->cpu = mm_cpu();
	for (int i = 0; i < 10; i++)
		p[i] = kmalloc(128, 0);
	for (int i = 0; i < 10; i++)
		kfree(p[i]);
	kmem_cache_cpu_stats(r->cpu, &r->st);
	return NULL;
}

static void test_cpu_stats(void)
{
	struct kmem_cpu_stats a, b;
	struct cpu_run other = { 0 };
	unsigned me = mm_cpu();
	pthread_t th;
	void *p[5];

	kmem_cache_cpu_stats(me, &a);
	for (int i = 0; i < 5; i++)
		p[i] = kmalloc(64, 0);
	kmem_cache_cpu_stats(me, &b);
	tap_ok(b.allocs == a.allocs + 5 && b.objects == a.objects + SLAB_MAG_REFILL - 5 &&
	       b.bytes == b.objects * 64,
	       "5 objects of kmalloc-64: served by this CPU's magazines, the rest of a refill "
	       "loaded (%lu objects, %lu bytes)", b.objects, (unsigned long)b.bytes);
	for (int i = 0; i < 5; i++)
		kfree(p[i]);
	kmem_cache_cpu_stats(me, &a);
	tap_ok(a.frees == b.frees + 5 && a.objects == b.objects + 5, "and 5 frees into them");
	pthread_create(&th, NULL, magazines_of_another, &other);
	pthread_join(th, NULL);
	kmem_cache_cpu_stats(me, &b);
	tap_ok(other.cpu != me && other.st.allocs == 10 && other.st.frees == 10 &&
	       other.st.objects > 0 && b.allocs == a.allocs && b.objects == a.objects,
	       "another thread's (cpu %u) are its own: 10 served, 10 taken back", other.cpu);
	kmem_cache_shrink(NULL);
	kmem_cache_cpu_stats(other.cpu, &b);
	tap_ok(b.objects == 0 && b.allocs == 10, "kmem_cache_shrink empties them; counts stay");
	tap_ok(kmem_cache_cpu_stats(MM_MAX_CPUS, &b) == -EINVAL &&
	       kmem_cache_cpu_stats(0, NULL) == -EINVAL, "-EINVAL: no such CPU, NULL");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_create),
	TAP_CASE_AS("test_basic(8, 0)", test_basic_row, 0),
	TAP_CASE_AS("test_basic(24, 0)", test_basic_row, 1),
	TAP_CASE_AS("test_basic(100, 64)", test_basic_row, 2),
	TAP_CASE_AS("test_basic(1000, 0)", test_basic_row, 3),
	TAP_CASE_AS("test_basic(4096, 4096)", test_basic_row, 4),
	TAP_CASE_AS("test_basic(70000, 0)", test_basic_row, 5),
	TAP_CASE(test_zero_and_reserve),
	TAP_CASE(test_wrong_frees),
	TAP_CASE(test_destroy_busy),
	TAP_CASE(test_exhaust),
	TAP_CASE(test_poison),
	TAP_CASE(test_redzone),
	TAP_CASE(test_write_after_free),
	TAP_CASE(test_broken_map),
	TAP_CASE(test_magazine),
	TAP_CASE(test_magazine_double_free_depot),
	TAP_CASE(test_magazine_withdraw_in_refill),
	TAP_CASE(test_cpu_stats),
	TAP_CASE(test_index),
	TAP_CASE(test_random),
	TAP_CASE(test_slabinfo),
	TAP_CASE(test_reinit),
};

int main(void)
{
	int rc;

	arena = aligned_alloc(4096, ARENA);
	rc = tap_main(TAP_CASES(cases), fresh, NULL);
	free(arena);
	return rc;
}
