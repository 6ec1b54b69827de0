/* test_kmalloc.c - host tests of kmalloc and its modes (mm/kmalloc.h).
 *
 * A 64 MiB host arena is the RAM (mm_host_init); the exhaustion tests use
 * a 24 MiB one. Per mode: routing and owners, the API contracts (EINVAL,
 * ENOMEM, kcalloc overflow, krealloc), a randomized differential run of
 * 200k operations (sizes 1 B..64 KiB weighted to small, random alignments,
 * each block filled with a pattern from its id and checked before it is
 * freed, live blocks checked for overlap), exhaustion back to the exact
 * baseline, every kind of wrong free, poison and red zones. One more
 * random run switches modes (and debug checks) at random points. */
#include "lib/xorshift.h"
#include "tap.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/mm_debug.h"
#include "mm/mm_host.h"
#include "mm/page.h"
#include "mm/slab.h"
#include "mm/txn.h"
#include "mm/faultinj.h"
#include "mm/shrinker.h"
#include "mm/stats.h"
#include "../../src/host/mm_host.h"
#include "../../src/mm/slab_internal.h"

#include <stdint.h>
#include <string.h>

#define ARENA      (64u << 20)
#define EXH_ARENA  (24u << 20)
#define NLIVE      2048
#define RANDOM_OPS 200000

static unsigned char *arena;
static unsigned long baseline;
static uint64_t rng_state;

static uint64_t rnd(void)
{
	return xorshift64(&rng_state);
}

/* A fresh system on the first `bytes` of the arena; baseline is its free
 * page count. The exhaustion cases call it with EXH_ARENA. */
static void fresh(size_t bytes)
{
	if (mm_host_init(arena, bytes) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
	mm_host_quiet = 0;
	baseline = buddy_free_pages();
}

/* Every case: a fresh system on the whole arena. */
static void before(void)
{
	fresh(ARENA);
}

static unsigned owner_of(const void *p)
{
	struct page *pg = virt_to_page(p);

	return pg ? compound_head(pg)->owner : PAGE_OWNER_NR;
}

static struct kmalloc_stats ks(void)
{
	struct kmalloc_stats st;

	kmalloc_get_stats(&st);
	return st;
}

static bool at_baseline(void)
{
	kmalloc_shrink();
	return buddy_free_pages() == baseline;
}

/* ---- API contracts ------------------------------------------------------- */

static void test_modes(void)
{
	tap_ok(mm_get_mode() == MM_MODE_HYBRID && strcmp(mm_mode_name(), "hybrid") == 0,
	       "default mode is hybrid");
	tap_ok(mm_set_mode(MM_MODE_NR) == -EINVAL && mm_set_mode(-1) == -EINVAL &&
	       mm_get_mode() == MM_MODE_HYBRID, "unknown modes -> -EINVAL, mode kept");
	tap_ok(mm_set_mode(MM_MODE_SIMPLE) == 0 && mm_get_mode() == MM_MODE_SIMPLE &&
	       strcmp(mm_mode_name(), "simple") == 0, "set simple");
	tap_ok(mm_mode_parse("twotier") == MM_MODE_TWOTIER &&
	       mm_mode_parse("bogus") == -EINVAL && mm_mode_str(7) == NULL,
	       "mode names parse");
	mm_set_mode(MM_MODE_HYBRID);
	tap_ok(ks().mode_switches == 2, "mode switches counted");
}

static void test_einval(intptr_t mode)
{
	const char *mn = mm_mode_str(mode);
	void *p = (void *)1;
	unsigned long inval;

	mm_set_mode(mode);
	inval = ks().mode[mode].fail_inval;
	tap_ok(kmem_try_alloc(0, 0, 0, &p) == -EINVAL && p == NULL, "%s: size 0 -> -EINVAL", mn);
	tap_ok(kmem_try_alloc(8, 3, 0, &p) == -EINVAL, "%s: align 3 -> -EINVAL", mn);
	tap_ok(kmem_try_alloc(8, 8192, 0, &p) == -EINVAL, "%s: align 8192 -> -EINVAL", mn);
	tap_ok(kmem_try_alloc(SIZE_MAX, 0, 0, &p) == -EINVAL, "%s: SIZE_MAX -> -EINVAL", mn);
	tap_ok(kmem_try_alloc(8, 0, 0, NULL) == -EINVAL, "%s: out NULL -> -EINVAL", mn);
	tap_ok(kcalloc(SIZE_MAX / 2, 3, 0) == NULL, "%s: kcalloc overflow -> NULL", mn);
	tap_ok(kmalloc(0, 0) == NULL, "%s: kmalloc(0) -> NULL", mn);
	tap_ok(ks().mode[mode].fail_inval == inval + 7, "%s: 7 inval failures counted", mn);
	tap_ok(kmem_try_alloc((size_t)1 << 40, 0, 0, &p) == -ENOMEM && p == NULL,
	       "%s: 1 TiB -> -ENOMEM", mn);
	tap_ok(kmem_try_alloc(5u << 20, 0, 0, &p) == -ENOMEM,
	       "%s: 5 MiB (over the largest block) -> -ENOMEM", mn);
	tap_ok(buddy_free_pages() == baseline, "%s: failures took nothing", mn);
}

static void test_basic(intptr_t mode)
{
	static const size_t sizes[] = { 1, 8, 9, 96, 100, 192, 4096, 4097, 100000 };
	const char *mn = mm_mode_str(mode);
	unsigned i, bad = 0, bad_owner = 0;
	unsigned char *p, *q;
	void *ps[9];

	mm_set_mode(mode);
	for (i = 0; i < 9; i++) {
		unsigned o;

		ps[i] = kmalloc(sizes[i], 0);
		o = owner_of(ps[i]);
		if (!ps[i] || ksize(ps[i]) < sizes[i] || (uintptr_t)ps[i] % 8)
			bad++;
		if (mode == MM_MODE_SIMPLE ? o != PAGE_OWNER_HEAP :
		    o != (sizes[i] <= 4096 ? PAGE_OWNER_SLAB : PAGE_OWNER_LARGE))
			bad_owner++;
	}
	tap_ok(!bad && !bad_owner, "%s: kmalloc sizes 1..100000: usable, owners %s",
	       mn, mode == MM_MODE_SIMPLE ? "heap" : "slab/large");
	if (mode == MM_MODE_SIMPLE)   /* the heap's usable size: the request, 16-byte granules */
		tap_ok(ksize(ps[4]) >= sizes[4] && ksize(ps[4]) < sizes[4] + 16 &&
		       ksize(ps[7]) >= sizes[7] && ksize(ps[7]) < sizes[7] + 16,
		       "%s: ksize reports the chunk's usable size", mn);
	else
		tap_ok(ksize(ps[4]) == 128 && ksize(ps[7]) == 8192,
		       "%s: ksize reports the class / page size", mn);
	for (i = 0; i < 9; i++)
		kfree(ps[i]);
	kfree(NULL);
	p = kzalloc(300, 0);
	for (i = 0, bad = 0; i < 300; i++)
		bad += p[i] != 0;
	q = kcalloc(10, 30, 0);
	for (i = 0; i < 300; i++)
		bad += q[i] != 0;
	tap_ok(!bad, "%s: kzalloc and kcalloc zero", mn);
	kfree(q);
	memset(p, 0x3c, 300);
	q = krealloc(p, 5000, 0);
	for (i = 0, bad = 0; i < 300; i++)
		bad += q[i] != 0x3c;
	tap_ok(q && !bad && ksize(q) >= 5000, "%s: krealloc grows, contents kept", mn);
	tap_ok(krealloc(q, 10, 0) == q, "%s: krealloc shrinking keeps the block", mn);
	tap_ok(krealloc(q, 0, 0) == NULL && ks().wrong_frees == 0,
	       "%s: krealloc to 0 frees", mn);
	p = krealloc(NULL, 50, 0);
	tap_ok(p && ksize(p) >= 50, "%s: krealloc(NULL) allocates", mn);
	kfree(p);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "%s: basic leaves the baseline", mn);
}

/* A request aligned beyond a class's natural alignment picks a bigger class. */
static void test_alignment(void)
{
	unsigned a, bad = 0;
	int m;

	for (m = 0; m < MM_MODE_NR; m++) {
		mm_set_mode(m);
		for (a = 0; a <= 12; a++) {
			void *p;

			if (kmem_try_alloc(24, (size_t)1 << a, 0, &p) != 0 ||
			    (uintptr_t)p % ((size_t)1 << a))
				bad++;
			kfree(p);
		}
	}
	tap_ok(!bad, "every mode: 24 bytes aligned to 1..4096");
	tap_ok(at_baseline(), "alignment test leaves the baseline");
}

/* ---- randomized differential test ----------------------------------------- */

struct blk {
	unsigned char *p;
	size_t size;
	uint32_t id;
};

static struct blk live[NLIVE];

static unsigned char pat(uint32_t id)
{
	return (unsigned char)(id * 131 + 7);
}

static void fill(struct blk *b)
{
	memset(b->p, pat(b->id), b->size);
	if (b->size >= 4)
		memcpy(b->p, &b->id, 4);
}

static bool intact(const struct blk *b, size_t n)
{
	unsigned char c = pat(b->id);
	size_t i = 0;
	uint32_t id;

	if (b->size >= 4) {
		memcpy(&id, b->p, 4);
		if (id != b->id)
			return false;
		i = 4;
	}
	for (; i < n; i++)
		if (b->p[i] != c)
			return false;
	return true;
}

static size_t rand_size(void)
{
	unsigned r = rnd() % 100;

	if (r < 75)
		return 1 + rnd() % 256;
	if (r < 95)
		return 257 + rnd() % 3840;
	return 4097 + rnd() % (65536 - 4096);
}

static size_t rand_align(void)
{
	return rnd() % 2 ? 0 : (size_t)1 << (rnd() % 13);
}

static int cmp_blk(const void *a, const void *b)
{
	const struct blk *x = a, *y = b;

	return (uintptr_t)x->p < (uintptr_t)y->p ? -1 : (uintptr_t)x->p > (uintptr_t)y->p;
}

/* Do any two live blocks overlap? */
static unsigned overlaps(void)
{
	static struct blk s[NLIVE];
	unsigned i, n = 0, bad = 0;

	for (i = 0; i < NLIVE; i++)
		if (live[i].p)
			s[n++] = live[i];
	qsort(s, n, sizeof(s[0]), cmp_blk);
	for (i = 1; i < n; i++)
		bad += s[i - 1].p + s[i - 1].size > s[i].p;
	return bad;
}

static bool owner_ok(int mode, const struct blk *b)
{
	unsigned o = owner_of(b->p);

	if (mode == MM_MODE_SIMPLE)
		return o == PAGE_OWNER_HEAP;
	if (mode == MM_MODE_TWOTIER)
		return o == PAGE_OWNER_SLAB || o == PAGE_OWNER_LARGE;
	return o == PAGE_OWNER_SLAB || o == PAGE_OWNER_LARGE || o == PAGE_OWNER_HEAP;
}

struct run_result {
	unsigned long bad_pattern, bad_align, bad_owner, fails, overlap;
	unsigned long switches, reallocs, checks;
};

static void op_alloc(struct blk *b, uint32_t id, struct run_result *r)
{
	size_t align = rand_align();
	void *p;

	b->size = rand_size();
	b->id = id;
	if (kmem_try_alloc(b->size, align, 0, &p) != 0) {
		r->fails++;
		b->p = NULL;
		return;
	}
	b->p = p;
	if (align && (uintptr_t)p % align)
		r->bad_align++;
	if (!owner_ok(mm_get_mode(), b))
		r->bad_owner++;
	fill(b);
}

static void op_realloc(struct blk *b, struct run_result *r)
{
	size_t n = rand_size(), keep = n < b->size ? n : b->size;
	unsigned char *q = krealloc(b->p, n, 0);

	r->reallocs++;
	if (!q) {
		r->fails++;
		return;
	}
	b->p = q;
	if (!intact(b, keep))
		r->bad_pattern++;
	b->size = n;
	fill(b);
}

static void random_run(int mode, bool switching, uint64_t seed)
{
	const char *mn = switching ? "switching" : mm_mode_str(mode);
	struct run_result r = { 0 };
	unsigned long ops;
	uint32_t next_id = 1;
	unsigned i;

	rng_state = seed;
	tap_seed(mn, seed);
	mm_set_mode(mode);
	memset(live, 0, sizeof(live));
	for (ops = 0; ops < RANDOM_OPS; ops++) {
		struct blk *b = &live[rnd() % NLIVE];

		if (switching && rnd() % 1000 == 0) {
			mm_set_mode((int)(rnd() % MM_MODE_NR));
			r.switches++;
		}
		if (switching && rnd() % 5000 == 0) {
			mm_debug_set(MM_DEBUG_ALL, false);
			mm_debug_set((unsigned)(rnd() % 4), true);
		}
		if (!b->p) {
			op_alloc(b, next_id++, &r);
		} else if (rnd() % 8 == 0) {
			op_realloc(b, &r);
		} else {
			if (!intact(b, b->size))
				r.bad_pattern++;
			kfree(b->p);
			b->p = NULL;
		}
		if (ops % 20000 == 0)
			r.overlap += overlaps();
		r.checks += tap_check_every(mm_check, mn, seed, (long)ops) != 0;
	}
	r.overlap += overlaps();
	for (i = 0; i < NLIVE; i++) {
		if (live[i].p && !intact(&live[i], live[i].size))
			r.bad_pattern++;
		kfree(live[i].p);
		live[i].p = NULL;
	}
	tap_ok(!r.bad_pattern && !r.bad_align && !r.bad_owner && !r.fails && !r.overlap,
	       "%s: %d ops: patterns %lu bad, align %lu bad, owner %lu bad, "
	       "%lu failures, %lu overlaps (%lu reallocs, %lu switches)", mn,
	       RANDOM_OPS, r.bad_pattern, r.bad_align, r.bad_owner, r.fails,
	       r.overlap, r.reallocs, r.switches);
	mm_debug_set(MM_DEBUG_ALL, false);
	{
		struct mm_debug_stats d;

		mm_debug_get_stats(&d);
		tap_ok(!d.poison_violations && !d.redzone_violations && !d.corruptions,
		       "%s: no false poison / red-zone alarms", mn);
	}
	tap_ok(!r.checks && kmalloc_check() == 0 && buddy_check() == 0,
	       "%s: mm_check every %d ops, slab_check/heap_check/buddy_check at the end: clean",
	       mn, TAP_CHECK_EVERY);
	tap_ok(ks().wrong_frees == 0 && at_baseline(),
	       "%s: no wrong frees; everything freed -> baseline", mn);
}

/* ---- exhaustion ---------------------------------------------------------- */

#define EXH_MAX 400000
static void *exh[EXH_MAX];

/* Allocate each size until it fails; every failure must be -ENOMEM. */
static unsigned long exhaust(unsigned long *bad_err)
{
	static const size_t sizes[] = { 1u << 20, 65536, 16384, 5000, 4096, 2048,
		1024, 512, 256, 192, 128, 96, 64, 32, 16, 8, 1 };
	unsigned long n = 0, misses = 0;
	unsigned i;
	int ret = 0;

	while (n < EXH_MAX && misses < 64) { /* random sizes: fragmentation */
		size_t sz = rand_size();

		ret = kmem_try_alloc(sz, rand_align(), 0, &exh[n]);
		if (ret == 0) {
			memset(exh[n++], 0x77, sz < 64 ? sz : 64);
			misses = 0;
		} else {
			misses++;
			*bad_err += ret != -ENOMEM;
		}
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		while (n < EXH_MAX &&
		       (ret = kmem_try_alloc(sizes[i], 0, 0, &exh[n])) == 0)
			memset(exh[n++], 0x77, sizes[i] < 64 ? sizes[i] : 64);
		if (ret != -ENOMEM)
			(*bad_err)++;
	}
	return n;
}

static void test_exhaust(intptr_t mode)
{
	const char *mn = mm_mode_str(mode);
	unsigned long n, i, bad_err = 0, reports;
	unsigned char *keep;
	void *p;
	size_t ks0;
	int ret, intact_ok = 1;

	fresh(EXH_ARENA);
	rng_state = 777 + (uint64_t)mode;
	tap_seed(mn, rng_state);
	if (mode == MM_MODE_HYBRID) { /* leave the heap a spare run */
		mm_set_mode(MM_MODE_SIMPLE);
		kfree(kmalloc(100, 0));
	}
	mm_set_mode(mode);
	keep = kmalloc(100, 0);
	memset(keep, 0xab, 100);
	ks0 = ksize(keep);
	reports = mm_host_reports;
	n = exhaust(&bad_err);
	tap_ok(n > 1000 && n < EXH_MAX && !bad_err,
	       "%s: exhausted after %lu blocks, every failure -ENOMEM", mn, n);
	ret = kmem_try_alloc(8, 0, 0, &p);
	tap_ok(ret == -ENOMEM && p == NULL && kmalloc(1, 0) == NULL &&
	       kzalloc(3000, 0) == NULL && kcalloc(4, 4, 0) == NULL,
	       "%s: exhausted: more requests fail cleanly", mn);
	p = krealloc(keep, 1u << 20, 0);
	for (i = 0; i < 100; i++)
		intact_ok &= keep[i] == 0xab;
	tap_ok(p == NULL && intact_ok && ksize(keep) == ks0,
	       "%s: krealloc failure leaves the old block intact", mn);
	tap_ok(mm_host_reports == reports, "%s: running out reported nothing", mn);
	if (mode == MM_MODE_HYBRID)
		tap_ok(ks().hybrid_fallbacks > 0,
		       "hybrid: %lu requests fell back to the heap",
		       ks().hybrid_fallbacks);
	tap_ok(kmalloc_check() == 0 && buddy_check() == 0, "%s: exhausted, sound", mn);
	for (i = 1; i < n; i += 2) /* odd ones first: holes, then merges */
		kfree(exh[i]);
	for (i = 0; i < n; i += 2)
		kfree(exh[i]);
	kfree(keep);
	tap_ok(ks().wrong_frees == 0 && kmalloc_check() == 0,
	       "%s: freed everything, no refusals", mn);
	tap_ok(at_baseline(), "%s: free pages exactly at the baseline (%lu)", mn, baseline);
}

/* ---- wrong frees --------------------------------------------------------- */

/* Whether a report naming the caller ("... by ADDR: ...") names a place
 * inside fn (reports of the buddy allocator name its own caller). */
static bool report_names(void (*fn)(const void *, const char *, const char *))
{
	const char *by = strstr(mm_host_last_report, " by ");
	void *at;

	if (!by)
		return true;
	return sscanf(by, " by %p", &at) == 1 && (uintptr_t)at > (uintptr_t)fn &&
	       (uintptr_t)at - (uintptr_t)fn < 512;
}

/* Not a tail call: the report must name this function as the caller. */
static __attribute__((noinline, optimize("no-optimize-sibling-calls")))
void wrong_case(const void *p, const char *mn, const char *what)
{
	unsigned long w = ks().wrong_frees, rep = mm_host_reports;

	kfree(p);
	tap_ok(ks().wrong_frees == w + 1 && mm_host_reports == rep + 1 &&
	       report_names(wrong_case) && kmalloc_check() == 0 && buddy_check() == 0,
	       "%s: kfree(%s) refused, reported once (naming its caller), counted", mn, what);
}

/* ksize(p) is 0 and krealloc(p) refuses p: NULL, reported once, counted,
 * nothing changed. */
static void wrong_realloc_case(const void *p, const char *mn, const char *what)
{
	unsigned long w = ks().wrong_frees, rep = mm_host_reports;
	size_t n = ksize(p);
	void *q = krealloc(p, 100, GFP_KERNEL);

	tap_ok(n == 0 && q == NULL && ks().wrong_frees == w + 1 && mm_host_reports == rep + 1 &&
	       kmalloc_check() == 0 && buddy_check() == 0,
	       "%s: ksize(%s) 0, krealloc refuses it, reported once, counted", mn, what);
}

static void test_wrong_frees(intptr_t mode)
{
	const char *mn = mm_mode_str(mode);
	unsigned char *slab, *heap, *large, *hfree, *pages;
	void *hostp = malloc(64), *p;
	unsigned long w, rep;
	int local;

	mm_set_mode(MM_MODE_TWOTIER);
	slab = kmalloc(512, 0);
	large = kmalloc(20000, 0);
	mm_set_mode(MM_MODE_SIMPLE);
	heap = kmalloc(300, 0);
	hfree = kmalloc(300, 0);
	p = kmalloc(300, 0);
	kfree(hfree);
	pages = page_address(alloc_pages(0, 0));
	mm_set_mode(mode);
	mm_host_quiet = 1;
	{
		/* each refused by kfree (free) and by ksize/krealloc (realloc) */
		const struct { const void *p; const char *what; bool free, realloc; } wrong[] = {
			{ &local, "stack address", true, true },
			{ hostp, "host malloc block", true, true },
			{ pages, "alloc_pages page", true, true },
			{ slab + 8, "slab interior", true, true },
			{ slab + 512, "slab object never allocated", true, true },
			{ heap + 16, "heap interior", true, true },
			{ large + 4096, "large interior", true, true },
			{ large + 16, "large block's first page, not its start", false, true },
			{ hfree, "freed heap block", true, true },
			{ hfree + 32, "pointer into a free heap block", true, false },
		};

		for (unsigned i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
			if (wrong[i].free)
				wrong_case(wrong[i].p, mn, wrong[i].what);
			if (wrong[i].realloc)
				wrong_realloc_case(wrong[i].p, mn, wrong[i].what);
		}
	}
	kfree(slab);
	wrong_case(slab, mn, "slab double free");
	kfree(heap);
	wrong_case(heap, mn, "heap double free");
	kfree(large);
	wrong_case(large, mn, "large double free");
	w = ks().wrong_frees;
	rep = mm_host_reports;
	tap_ok(krealloc(slab, 9000, 0) == NULL && ks().wrong_frees == w + 1 &&
	       mm_host_reports == rep + 1, "%s: krealloc of a freed block refused", mn);
	wrong_realloc_case(slab, mn, "freed slab object (in a magazine)");
	wrong_realloc_case(large, mn, "freed large block");
	mm_host_quiet = 0;
	kfree(p);
	free_pages_addr(pages, 0);
	free(hostp);
	tap_ok(kmalloc_check() == 0 && at_baseline(),
	       "%s: after every wrong free, baseline restored", mn);
}

/* ---- freed large blocks kept for reuse ------------------------------------ */

static void test_kept_blocks(void)
{
	void *a, *b, *c, *v[KEPT_PER_ORDER + 4];
	unsigned long free0, kept, i, n;
	struct kmalloc_stats st;
	struct page *pg;

	mm_set_mode(MM_MODE_TWOTIER);
	free0 = buddy_free_pages();
	a = kmalloc(8192, 0);
	kfree(a);
	st = ks();
	tap_ok(owner_of(a) == PAGE_OWNER_KEPT && st.kept_blocks == 1 && st.kept_bytes == 8192 &&
	       st.backend[KM_BACKEND_LARGE].bytes_in_use == 0 &&
	       st.backend[KM_BACKEND_LARGE].frees == 1 && buddy_free_pages() == free0 - 2 &&
	       ksize(a) == 0, "kfree keeps an 8 KiB block: owner kcache, not in use, not free");
	b = kmalloc(5000, 0);
	st = ks();
	tap_ok(b == a && owner_of(b) == PAGE_OWNER_LARGE && ksize(b) == 8192 && st.kept_blocks == 0 &&
	       st.backend[KM_BACKEND_LARGE].successes == 2 &&
	       st.backend[KM_BACKEND_LARGE].bytes_in_use == 8192 &&
	       st.mode[MM_MODE_TWOTIER].bytes_requested == 8192 + 5000,
	       "the next request of its order gets it back, counted like any other");
	kfree(b);
	mm_host_quiet = 1;
	wrong_case(b, "twotier", "a kept block (double free)");
	tap_ok(krealloc(b, 100, 0) == NULL && ks().kept_blocks == 1, "krealloc of a kept block refused");
	mm_host_quiet = 0;
	c = kzalloc(8192, 0);
	tap_ok(c && c != a && ks().kept_blocks == 1, "a zeroed request does not take a kept block");
	kfree(c);
	c = kmalloc(8192, GFP_DMA);
	kfree(c);
	b = kmalloc(65536, 0);
	kfree(b);
	tap_ok(ks().kept_blocks == 2, "ZONE_DMA and 64 KiB blocks are not kept");

	kept = ks().kept_blocks;
	for (i = 0; i < KEPT_PER_ORDER + 4; i++)
		v[i] = kmalloc(16384, 0);
	for (i = 0; i < KEPT_PER_ORDER + 4; i++)
		kfree(v[i]);
	tap_ok(ks().kept_blocks == kept + KEPT_PER_ORDER && kmalloc_check() == 0 &&
	       buddy_check() == 0, "at most %d kept per order, the rest freed",
	       KEPT_PER_ORDER);

	pg = virt_to_page(v[0]);
	pg->owner = PAGE_OWNER_LARGE;
	mm_host_quiet = 1;
	tap_ok(kmalloc_check() == 1 && mm_check() == 1,
	       "kmalloc_check and mm_check find a kept block that is not marked kept");
	mm_host_quiet = 0;
	pg->owner = PAGE_OWNER_KEPT;
	tap_ok(kmalloc_shrink() > 0 && ks().kept_blocks == 0 && buddy_free_pages() == free0,
	       "kmalloc_shrink gives every kept block back");

	/* a kept block whose owner was overwritten is not given back blindly */
	a = kmalloc(8192, 0);
	kfree(a);
	virt_to_page(a)->owner = PAGE_OWNER_PAGES;
	n = mm_host_reports;
	mm_host_quiet = 1;
	kmalloc_shrink();
	mm_host_quiet = 0;
	tap_ok(mm_host_reports == n + 1 && ks().kept_blocks == 0 && buddy_free_pages() == free0 - 2,
	       "giving back a kept block the buddy allocator refuses: reported, dropped");
}

static unsigned long kept_blocks(void)
{
	return ks().kept_blocks;
}

static unsigned long cached_64(void)
{
	struct kmem_cache_stats cs;

	kmem_cache_get_stats(kmalloc_cache(3), &cs);
	return cs.cached;
}

/* An injected failure reaches the caller even with caches to give back;
 * objects of a cache of one's own freed with kfree are not cached; a
 * shrinker whose kfrees land in kmalloc's caches still lets a request of
 * another size succeed. */
static void *shrinker_held[64];
static int shrinker_n;

static unsigned long held_count(struct shrinker *s)
{
	(void)s;
	return (unsigned long)shrinker_n * 8192;
}

static unsigned long held_scan(struct shrinker *s, unsigned long want)
{
	unsigned long freed = 0;

	(void)s;
	while (shrinker_n && freed < want) {
		kfree(shrinker_held[--shrinker_n]);
		freed += 8192;
	}
	return freed;
}

static void test_reclaim_edges(void)
{
	struct faultinj_config fi = { .probability = 100, .times = 1, .scope = FI_PAGE, .seed = 1 };
	struct shrinker shr = { .count = held_count, .scan = held_scan };
	static const size_t sizes[] = { 65536, 16384, 4096, 2048, 1024, 512, 256, 128, 64, 32, 16, 8 };
	struct kmem_cache *own;
	struct kmem_cache_stats cs;
	unsigned long n = 0, inj;
	void *p, *q;
	int ret;

	mm_set_mode(MM_MODE_TWOTIER);
	kfree(kmalloc(8192, 0));
	kfree(kmalloc(64, 0));
	inj = ks().mode[MM_MODE_TWOTIER].fail_injected;
	faultinj_set(&fi);
	ret = kmem_try_alloc(65536, 0, 0, &p);
	faultinj_off();
	tap_ok(ret == -ENOMEM && ks().mode[MM_MODE_TWOTIER].fail_injected == inj + 1 &&
	       ks().kept_blocks == 1 && cached_64() == SLAB_MAG_REFILL,
	       "an injected failure is not retried: the caller sees it, the caches stay");

	own = kmem_cache_create("own", 256, 0, 0);
	p = kmem_cache_alloc(own, 0);
	kfree(p);
	kmem_cache_get_stats(own, &cs);
	tap_ok(cs.cached == 0 && cs.active_objs == 0 && cs.frees == 1 && kmem_cache_destroy(own) == 0,
	       "kfree of a kmem_cache_create object: back on its slab, not in a magazine");

	fresh(EXH_ARENA);
	mm_set_mode(MM_MODE_TWOTIER);
	for (shrinker_n = 0; shrinker_n < 8; shrinker_n++)
		shrinker_held[shrinker_n] = kmalloc(8192, 0);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		while (n < EXH_MAX && kmem_try_alloc(sizes[i], 0, GFP_NOSHRINK, &q) == 0)
			exh[n++] = q;
	shrinker_register(&shr);
	ret = kmem_try_alloc(4096, 0, 0, &p);
	shrinker_unregister(&shr);
	tap_ok(ret == 0 && ks().kept_blocks == 0,
	       "out of memory: what a shrinker's kfrees put in kmalloc's caches comes back too");
	if (ret == 0)
		kfree(p);
	while (n)
		kfree(exh[--n]);
	while (shrinker_n)
		kfree(shrinker_held[--shrinker_n]);
	tap_ok(at_baseline(), "all freed: baseline");
}

/* Memory runs out while `keep` freed blocks of size are held back (what
 * held() counts): they go back and the request is served, inside a
 * transaction too. */
static void test_oom_gives_back(size_t size, unsigned long (*held)(void), unsigned long keep,
				const char *what)
{
	unsigned long n, i;
	struct mm_txn t;
	void *c, *b;

	fresh(EXH_ARENA);
	mm_set_mode(MM_MODE_TWOTIER);
	for (n = 0; n < EXH_MAX && (exh[n] = kmalloc(size, 0)) != NULL; n++)
		;
	for (i = 0; i < keep; i++) {   /* the first: not ZONE_DMA */
		kfree(exh[i]);
		exh[i] = NULL;
	}
	c = held() == keep ? kzalloc(size, 0) : NULL;
	tap_ok(c && held() == 0,
	       "out of memory (%lu %s taken): the %lu held back go back, the request is served",
	       n, what, keep);
	for (i = 0; i < keep; i++)   /* use up what came back */
		if ((exh[i] = kmalloc(size, 0)) == NULL)
			break;
	for (i = keep; i < 2 * keep; i++) {
		kfree(exh[i]);
		exh[i] = NULL;
	}
	mm_txn_begin(&t);
	tap_ok(held() == keep && mm_txn_alloc(&t, size, 0, GFP_ZERO, &b) == 0 &&
	       held() == 0, "... inside a transaction too: they go back, the request is served");
	mm_txn_abort(&t);
	kfree(c);
	while (n)
		kfree(exh[--n]);
	tap_ok(at_baseline() && held() == 0 && kmalloc_check() == 0, "%s: all freed: baseline", what);
}

/* alloc_pages and mm_txn_alloc_pages, out of frames, get kmalloc's kept
 * blocks back too; an injected failure reclaims nothing. */
static void test_pages_reclaim(void)
{
	struct faultinj_config fi = { .probability = 100, .interval = 1, .times = 1,
				      .scope = FI_PAGE, .seed = 1 };
	unsigned long n, i;
	struct page *pg;
	struct mm_txn t;

	fresh(EXH_ARENA);
	mm_set_mode(MM_MODE_TWOTIER);
	for (n = 0; n < EXH_MAX && (exh[n] = kmalloc(8192, 0)) != NULL; n++)
		;
	for (i = 0; i < KEPT_PER_ORDER; i++) {
		kfree(exh[i]);
		exh[i] = NULL;
	}
	faultinj_set(&fi);
	tap_ok(kept_blocks() == KEPT_PER_ORDER && alloc_pages(0, 1) == NULL &&
	       kept_blocks() == KEPT_PER_ORDER,
	       "an injected alloc_pages failure reclaims nothing");
	faultinj_off();
	mm_txn_begin(&t);
	tap_ok(mm_txn_alloc_pages(&t, 1, 0, &pg) == 0 && kept_blocks() == 0,
	       "mm_txn_alloc_pages out of frames: the kept blocks come back, the request is served");
	mm_txn_abort(&t);
	for (i = 0; i < KEPT_PER_ORDER; i++)   /* out of frames again */
		exh[i] = kmalloc(8192, 0);
	tap_ok(alloc_pages(0, 1) == NULL, "... (out of frames again, nothing kept)");
	for (i = 0; i < KEPT_PER_ORDER; i++) {   /* kept again */
		kfree(exh[i]);
		exh[i] = NULL;
	}
	pg = kept_blocks() == KEPT_PER_ORDER ? alloc_pages(0, 1) : NULL;
	tap_ok(pg && kept_blocks() == 0, "alloc_pages out of frames: the kept blocks come back, "
	       "the request is served");
	free_pages(pg, 1);
	while (n)
		kfree(exh[--n]);
	tap_ok(at_baseline() && kmalloc_check() == 0, "pages reclaim: all freed: baseline");
}

/* ---- debug checks through kmalloc ---------------------------------------- */

static void test_debug(intptr_t mode)
{
	const char *mn = mm_mode_str(mode);
	struct mm_debug_stats d0, d1;
	unsigned char *p, *q, *guard;
	size_t n;

	mm_set_mode(mode);
	mm_debug_set(MM_DEBUG_REDZONE, true);
	p = kmalloc(64, 0);
	n = ksize(p);
	p[n] = 0; /* one past the usable end */
	mm_debug_get_stats(&d0);
	mm_host_quiet = 1;
	kfree(p);
	mm_host_quiet = 0;
	mm_debug_get_stats(&d1);
	tap_ok(d1.redzone_violations == d0.redzone_violations + 1,
	       "%s: write past the end caught at kfree", mn);
	mm_debug_set(MM_DEBUG_REDZONE, false);
	mm_debug_set(MM_DEBUG_POISON, true);
	p = kmalloc(64, 0);
	guard = kmalloc(64, 0);
	kfree(p);
	p[20] = 0x99; /* use after free */
	mm_host_quiet = 1;
	q = kmalloc(64, 0);
	mm_host_quiet = 0;
	mm_debug_get_stats(&d0);
	tap_ok(q == p && d0.poison_violations == d1.poison_violations + 1,
	       "%s: write after free caught when the block is reused", mn);
	kfree(q);
	/* poisoned while poisoning was on, reused after it was turned off
	 * (when the fast paths are back): still checked */
	p = kmalloc(64, 0);
	kfree(p);
	mm_debug_set(MM_DEBUG_POISON, false);
	p[30] = 0x77;
	mm_host_quiet = 1;
	q = kmalloc(64, 0);
	mm_host_quiet = 0;
	mm_debug_get_stats(&d1);
	tap_ok(q == p && d1.poison_violations == d0.poison_violations + 1,
	       "%s: poisoned block checked on reuse after poisoning is off", mn);
	kfree(q);
	kfree(guard);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "%s: debug test leaves the baseline", mn);
}

/* ---- statistics ---------------------------------------------------------- */

static void test_stats(void)
{
	struct kmalloc_stats st;
	void *a, *b, *c;

	mm_set_mode(MM_MODE_TWOTIER);
	a = kmalloc(100, 0);
	b = kmalloc(10000, 0);
	mm_set_mode(MM_MODE_SIMPLE);
	c = kmalloc(100, 0);
	st = ks();
	tap_ok(st.mode[MM_MODE_TWOTIER].successes == 2 &&
	       st.mode[MM_MODE_TWOTIER].bytes_requested == 10100 &&
	       st.mode[MM_MODE_TWOTIER].bytes_granted == 128 + 16384 &&
	       st.mode[MM_MODE_SIMPLE].successes == 1, "per-mode counters");
	tap_ok(st.backend[KM_BACKEND_SLAB].bytes_in_use == 128 &&
	       st.backend[KM_BACKEND_LARGE].bytes_in_use == 16384 &&
	       st.backend[KM_BACKEND_HEAP].bytes_in_use >= 100, "per-backend bytes in use");
	kfree(a);
	kfree(b);
	kfree(c);
	a = kmalloc(100, GFP_DMA);
	tap_ok(a && owner_of(a) == PAGE_OWNER_LARGE &&
	       virt_to_page(a)->zone == ZONE_DMA, "GFP_DMA: whole page from ZONE_DMA");
	kfree(a);
	st = ks();
	tap_ok(st.backend[KM_BACKEND_SLAB].bytes_in_use == 0 &&
	       st.backend[KM_BACKEND_LARGE].bytes_in_use == 0 &&
	       st.backend[KM_BACKEND_HEAP].bytes_in_use == 0 &&
	       st.backend[KM_BACKEND_LARGE].peak_bytes_in_use == 16384 &&
	       st.backend[KM_BACKEND_SLAB].frees == 1, "frees bring in-use to 0, peak kept");
}

/* memstat slab's active_slabs means what Linux's does: slabs with an
 * object in use, not slabs whose objects all wait in the magazine. */
static void test_active_slabs(void)
{
	struct kmem_cache_stats cs;
	void *p[20], *q;

	mm_set_mode(MM_MODE_TWOTIER);
	for (int i = 0; i < 20; i++)
		p[i] = kmalloc(64, 0);
	for (int i = 0; i < 20; i++)
		kfree(p[i]);   /* all into kmalloc-64's magazine */
	kmem_cache_get_stats(kmalloc_cache(3), &cs);
	tap_ok(cs.active_objs == 0 && cs.cached == 2 * SLAB_MAG_REFILL && cs.full + cs.partial >= 1 &&
	       cs.active_slabs == 0,
	       "every object in the magazines (two refills of %d): 0 active slabs (%lu full, %lu partial; cached %lu, active %lu/%lu)",
	       SLAB_MAG_REFILL, cs.full, cs.partial, cs.cached, cs.active_objs, cs.active_slabs);
	q = kmalloc(64, 0);
	kmem_cache_get_stats(kmalloc_cache(3), &cs);
	tap_ok(cs.active_objs == 1 && cs.active_slabs == 1, "one object in use: 1 active slab");
	kfree(q);
}

/* The slab backend's peak in use is set at folds (the fast paths keep no
 * shared count): never above what was really in use at once. */
static void test_slab_peak(void)
{
	void *p[100], *q;
	struct kmalloc_stats st;

	mm_set_mode(MM_MODE_TWOTIER);
	for (int i = 0; i < 100; i++)
		p[i] = kmalloc(64, 0);
	st = ks();
	tap_ok(st.backend[KM_BACKEND_SLAB].bytes_in_use == 6400 &&
	       st.backend[KM_BACKEND_SLAB].peak_bytes_in_use == 6400, "100 x 64 B: 6400 in use, peak 6400");
	for (int i = 0; i < 100; i++)
		kfree(p[i]);
	q = kzalloc(64, 0);   /* the full path counts it before any fold */
	st = ks();
	tap_ok(st.backend[KM_BACKEND_SLAB].bytes_in_use == 64 &&
	       st.backend[KM_BACKEND_SLAB].peak_bytes_in_use == 6400,
	       "all freed, one more taken by the full path: 64 in use, peak still 6400 (%lu)",
	       (unsigned long)st.backend[KM_BACKEND_SLAB].peak_bytes_in_use);
	kfree(q);
}

static void test_random_mode(intptr_t mode)
{
	random_run((int)mode, false, 1000 + (uint64_t)mode);
}

static void test_random_switching(void)
{
	random_run(MM_MODE_HYBRID, true, 4242);
}

static void test_oom_kept_blocks(void)
{
	test_oom_gives_back(8192, kept_blocks, KEPT_PER_ORDER, "8 KiB blocks");
}

static void test_oom_magazine(void)
{
	test_oom_gives_back(64, cached_64, SLAB_MAG_SIZE, "64-byte objects");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_modes),
	TAP_CASE_ARG(test_einval, MM_MODE_SIMPLE),
	TAP_CASE_ARG(test_basic, MM_MODE_SIMPLE),
	TAP_CASE_ARG(test_debug, MM_MODE_SIMPLE),
	TAP_CASE_ARG(test_einval, MM_MODE_TWOTIER),
	TAP_CASE_ARG(test_basic, MM_MODE_TWOTIER),
	TAP_CASE_ARG(test_debug, MM_MODE_TWOTIER),
	TAP_CASE_ARG(test_einval, MM_MODE_HYBRID),
	TAP_CASE_ARG(test_basic, MM_MODE_HYBRID),
	TAP_CASE_ARG(test_debug, MM_MODE_HYBRID),
	TAP_CASE(test_alignment),
	TAP_CASE_ARG(test_random_mode, MM_MODE_SIMPLE),
	TAP_CASE_ARG(test_random_mode, MM_MODE_TWOTIER),
	TAP_CASE_ARG(test_random_mode, MM_MODE_HYBRID),
	TAP_CASE(test_random_switching),
	TAP_CASE_ARG(test_exhaust, MM_MODE_SIMPLE),
	TAP_CASE_ARG(test_exhaust, MM_MODE_TWOTIER),
	TAP_CASE_ARG(test_exhaust, MM_MODE_HYBRID),
	TAP_CASE_ARG(test_wrong_frees, MM_MODE_SIMPLE),
	TAP_CASE_ARG(test_wrong_frees, MM_MODE_TWOTIER),
	TAP_CASE_ARG(test_wrong_frees, MM_MODE_HYBRID),
	TAP_CASE(test_stats),
	TAP_CASE(test_kept_blocks),
	TAP_CASE(test_oom_kept_blocks),
	TAP_CASE(test_oom_magazine),
	TAP_CASE(test_pages_reclaim),
	TAP_CASE(test_reclaim_edges),
	TAP_CASE(test_active_slabs),
	TAP_CASE(test_slab_peak),
};

int main(void)
{
	int rc;

	arena = aligned_alloc(4096, ARENA);
	rc = tap_main(TAP_CASES(cases), before, NULL);
	free(arena);
	return rc;
}
