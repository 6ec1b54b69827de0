/* test_txn.c - host tests of memory transactions (mm/txn.h).
 *
 * The proof of "rollback is complete": a snapshot of every state figure
 * (buddy free blocks per zone and order, free and used pages, kmalloc
 * bytes in use per backend, per slab cache objects / slabs / pages, heap
 * runs / free bytes / blocks, page-table leaves and tables) taken before
 * begin must equal, byte for byte, the one taken after abort. Covered:
 * commit and abort of each operation, misuse (LIFO, not open, bad
 * arguments), deferred frees, nested savepoints, reservations under 100 %
 * fault injection, log growth past the inline entries and its failure,
 * mode switches mid-transaction, mm_txn_run, vm_map in a transaction, a
 * failure injected at every step of a small transaction, the heap's spare
 * run kept by identity, and randomized nests of transactions (random
 * operations, injected failures, mode and red-zone switches, aborts and
 * commits at random depths; seeds printed). */
#include "lib/pattern.h"
#include "lib/xorshift.h"
#include "tap.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/mm_debug.h"
#include "mm/mm_host.h"
#include "mm/page.h"
#include "mm/slab.h"
#include "mm/txn.h"
#include "mm/vm.h"
#include "../../src/host/mm_host.h"

#include <stdint.h>
#include <string.h>

#define ARENA  (32u << 20)
#define NSNAP  512
#define NPOOL  512
#define MAXDEP 4

static unsigned char *arena;
static uint64_t rng_state;

static uint64_t rnd(void)
{
	return xorshift64(&rng_state);
}

static void fresh(void)
{
	faultinj_off();
	if (mm_host_init(arena, ARENA) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
}

/* Every case: a fresh system, reports printed, and the generator the
 * non-seeded cases draw sizes from back at its start. */
static void before(void)
{
	fresh();
	mm_host_quiet = 0;
	rng_state = 1;
}

/* ---- the snapshot ------------------------------------------------------------ */

struct snap {
	unsigned n;
	uint64_t v[NSNAP];
	const char *name[NSNAP];
};

static void put(struct snap *s, const char *name, uint64_t v)
{
	if (s->n < NSNAP) {
		s->name[s->n] = name;
		s->v[s->n++] = v;
	}
}

static void snap_buddy(struct snap *s)
{
	struct buddy_stats bs;
	int z, o;

	for (z = 0; z < NR_ZONES; z++) {
		const struct zone *zn = zone_get(z);

		put(s, "zone free_pages", zn->free_pages);
		for (o = 0; o <= MAX_ORDER; o++)
			put(s, "zone nr_free[order]", zn->area[o].nr_free);
	}
	buddy_get_stats(&bs);
	put(s, "buddy_free_pages", buddy_free_pages());
	put(s, "buddy pages_in_use", bs.pages_in_use);
}

static void snap_objects(struct snap *s)
{
	struct kmem_cache_stats cs;
	struct kmalloc_stats ks;
	struct heap_stats hs;
	unsigned i, b;

	kmalloc_get_stats(&ks);
	for (b = 0; b < KM_BACKEND_NR; b++)
		put(s, "kmalloc backend bytes_in_use", ks.backend[b].bytes_in_use);
	for (i = 0; kmem_cache_info(i, &cs) == 0; i++) {
		put(s, "slab active_objs", cs.active_objs);
		put(s, "slab total_objs", cs.total_objs);
		put(s, "slab slabs", cs.slabs);
		put(s, "slab empty", cs.empty);
		put(s, "slab pages", cs.pages);
	}
	heap_get_stats(&hs);
	put(s, "heap arena_bytes", hs.arena_bytes);
	put(s, "heap free_bytes", hs.free_bytes);
	put(s, "heap runs", hs.runs);
	put(s, "heap free_runs", hs.free_runs);
	put(s, "heap used_blocks", hs.used_blocks);
	put(s, "heap free_blocks", hs.free_blocks);
	put(s, "heap largest_free", hs.largest_free);
	put(s, "heap bytes_in_use", hs.bytes_in_use);
}

static struct snap take(const struct vm_space *vs)
{
	struct snap s;
	struct vm_counts vc;

	memset(&s, 0, sizeof(s));
	snap_buddy(&s);
	snap_objects(&s);
	if (vs) {
		vm_count(vs, &vc);
		put(&s, "vm leaves 4K", vc.leaves[0]);
		put(&s, "vm leaves 2M", vc.leaves[1]);
		put(&s, "vm tables", vc.tables);
		put(&s, "vm_space tables", vs->tables);
	}
	put(&s, "open transaction", (uintptr_t)mm_txn_current());
	return s;
}

/* Exact comparison; the first differences are printed as diagnostics. */
static int same(const struct snap *a, const struct snap *b)
{
	unsigned i, shown = 0;

	if (memcmp(a->v, b->v, sizeof(a->v)) == 0 && a->n == b->n)
		return 1;
	for (i = 0; i < a->n && shown < 6; i++)
		if (a->v[i] != b->v[i] && ++shown)
			tap_diag("  [%u] %s: %llu -> %llu", i, a->name[i],
				 (unsigned long long)a->v[i],
				 (unsigned long long)b->v[i]);
	return 0;
}

static int sound(void)
{
	return kmalloc_check() == 0 && buddy_check() == 0;
}


static void inject(unsigned scope, unsigned prob, unsigned long interval,
		   long times)
{
	struct faultinj_config c = { prob, interval, times, 0, scope, 1, 42 };

	faultinj_set(&c);
}

/* ---- single transactions ----------------------------------------------------- */

static void test_abort_commit(void)
{
	struct snap s0 = take(NULL), s1;
	struct mm_txn t;
	struct page *pg;
	void *p[6];
	int ok = 1, i;

	tap_ok(mm_txn_begin(&t) == 0 && mm_txn_current() == &t, "begin: t is current");
	for (i = 0; i < 5; i++)
		ok &= mm_txn_alloc(&t, (size_t)24 << (2 * i), 0, GFP_ZERO, &p[i]) == 0;
	ok &= mm_txn_alloc_pages(&t, 3, 0, &pg) == 0;
	tap_ok(ok && ksize(p[4]) >= (24u << 8), "allocs in a transaction succeed");
	tap_ok(mm_txn_abort(&t) == 0 && mm_txn_current() == NULL, "abort closes t");
	s1 = take(NULL);
	tap_ok(same(&s0, &s1), "after abort every figure equals the one before begin");
	tap_ok(ksize(p[0]) == 0, "an aborted block is no longer allocated");

	mm_txn_begin(&t);
	for (i = 0; i < 6; i++) {
		mm_txn_alloc(&t, 100 + (size_t)i * 1000, 0, 0, &p[i]);
		pattern_fill(p[i], 100 + (size_t)i * 1000, (unsigned)i);
	}
	tap_ok(mm_txn_commit(&t) == 0 && mm_txn_current() == NULL, "commit closes t");
	for (i = 0; i < 6; i++) {
		ok &= pattern_intact(p[i], 100 + (size_t)i * 1000, (unsigned)i);
		kfree(p[i]);
	}
	tap_ok(ok && sound(), "committed blocks survive intact; structures sound");
	kmalloc_shrink();
}

/* The heap keeps one spare run; an abort must keep that same run, not the
 * one the transaction made (they differ in order, so free blocks per order
 * tell them apart). */
static void test_same_spare(void)
{
	struct heap_stats hs;
	struct snap s0, s;
	struct mm_txn t;
	void *a, *b;

	mm_set_mode(MM_MODE_SIMPLE);
	kmalloc_shrink();
	kfree(kmalloc(100, 0));
	heap_get_stats(&hs);
	s0 = take(NULL);
	mm_txn_begin(&t);
	mm_txn_alloc(&t, 3000, 0, 0, &a);   /* into the spare run */
	mm_txn_alloc(&t, 30000, 0, 0, &b);  /* a new, bigger run */
	mm_txn_abort(&t);
	s = take(NULL);
	tap_ok(hs.runs == 1 && hs.free_runs == 1 && same(&s0, &s),
	       "abort keeps the spare run it found, releases the one it made");
	mm_set_mode(MM_MODE_HYBRID);
}

static void test_misuse(void)
{
	unsigned long rep = mm_host_reports;
	struct mm_txn a, b, c;
	struct page *pg;
	void *p;

	mm_host_quiet = 1;
	memset(&a, 0x5a, sizeof(a));
	tap_ok(mm_txn_commit(&a) == -EINVAL && mm_txn_abort(&a) == -EINVAL &&
	       mm_txn_alloc(&a, 8, 0, 0, &p) == -EINVAL && p == NULL,
	       "never-begun transaction: -EINVAL");
	tap_ok(mm_txn_begin(NULL) == -EINVAL && mm_txn_commit(NULL) == -EINVAL,
	       "NULL transaction: -EINVAL");
	mm_txn_begin(&a);
	tap_ok(mm_txn_begin(&a) == -EINVAL, "begin of an open transaction: -EINVAL");
	mm_txn_begin(&b);
	tap_ok(mm_txn_commit(&a) == -EBUSY && mm_txn_abort(&a) == -EBUSY &&
	       mm_txn_current() == &b, "commit/abort of a non-innermost: -EBUSY, nothing done");
	tap_ok(mm_txn_alloc(&a, 8, 0, 0, &p) == -EBUSY &&
	       mm_txn_alloc_pages(&a, 0, 0, &pg) == -EBUSY &&
	       mm_txn_reserve(&a, 8, 1) == -EBUSY && mm_txn_free(&a, p) == -EBUSY &&
	       mm_txn_vm_map(&a, NULL, 0, 0, 0, 0) == -EBUSY,
	       "every operation on a non-innermost: -EBUSY");
	tap_ok(mm_txn_alloc(&b, 0, 0, 0, &p) == -EINVAL &&
	       mm_txn_alloc(&b, 8, 3, 0, &p) == -EINVAL &&
	       mm_txn_alloc(&b, 8, 0, 0, NULL) == -EINVAL &&
	       mm_txn_alloc(&b, KMALLOC_MAX_REQUEST + 1, 0, 0, &p) == -EINVAL &&
	       mm_txn_alloc_pages(&b, MAX_ORDER + 1, 0, &pg) == -EINVAL && pg == NULL &&
	       mm_txn_reserve(&b, 0, 1) == -EINVAL && mm_txn_vm_map(&b, NULL, 0, 0, 4096, VM_R) == -EINVAL,
	       "bad arguments: -EINVAL");
	tap_ok(mm_txn_alloc(&b, 1u << 30, 0, 0, &p) == -ENOMEM && p == NULL,
	       "more than RAM: -ENOMEM");
	tap_ok(mm_txn_free(&b, NULL) == -EINVAL && mm_txn_free(&b, arena) == -EINVAL,
	       "deferred free of a non-block: -EINVAL");
	mm_txn_alloc(&b, 64, 0, 0, &p);
	tap_ok(mm_txn_free(&b, p) == 0 && mm_txn_free(&b, p) == -EINVAL,
	       "a block scheduled twice: -EINVAL");
	tap_ok(mm_txn_abort(&b) == 0 && mm_txn_abort(&b) == -EINVAL, "abort twice: -EINVAL");
	mm_txn_begin(&c);
	tap_ok(mm_txn_abort(&c) == 0 && mm_txn_commit(&a) == 0 && mm_txn_current() == NULL,
	       "LIFO order works after refusals");
	tap_ok(mm_host_reports - rep >= 12, "misuse is reported (%lu reports)",
	       mm_host_reports - rep);
	mm_host_quiet = 0;
}

static void test_deferred_free(void)
{
	struct kmalloc_stats k0, k1;
	struct mm_txn t;
	void *p = kmalloc(300, 0), *q;

	pattern_fill(p, 300, 7);
	mm_txn_begin(&t);
	tap_ok(mm_txn_free(&t, p) == 0 && ksize(p) >= 300 && pattern_intact(p, 300, 7),
	       "deferred free: block still allocated inside the transaction");
	mm_txn_abort(&t);
	tap_ok(ksize(p) >= 300 && pattern_intact(p, 300, 7), "abort keeps a deferred-free block");
	kmalloc_get_stats(&k0);
	mm_txn_begin(&t);
	mm_txn_free(&t, p);
	mm_txn_alloc(&t, 40, 0, 0, &q);
	mm_txn_free(&t, q);
	mm_txn_commit(&t);
	kmalloc_get_stats(&k1);
	tap_ok(ksize(p) == 0 && ksize(q) == 0 && sound(),
	       "commit frees it (and a block allocated and freed in the same transaction)");
	tap_ok(k1.backend[KM_BACKEND_SLAB].bytes_in_use +
	       k1.backend[KM_BACKEND_HEAP].bytes_in_use <
	       k0.backend[KM_BACKEND_SLAB].bytes_in_use +
	       k0.backend[KM_BACKEND_HEAP].bytes_in_use, "bytes in use went down");
}

/* ---- savepoints -------------------------------------------------------------- */

static void test_nested(void)
{
	struct snap s0 = take(NULL), si, s;
	struct mm_txn o, i;
	void *a, *b, *x = kmalloc(200, 0);
	int ok;

	pattern_fill(x, 200, 3);
	s0 = take(NULL);
	mm_txn_begin(&o);
	mm_txn_alloc(&o, 500, 0, 0, &a);
	pattern_fill(a, 500, 1);
	si = take(NULL);
	mm_txn_begin(&i);
	tap_ok(i.parent == &o && mm_txn_current() == &i, "begin inside a transaction makes a savepoint");
	mm_txn_alloc(&i, 3000, 0, 0, &b);
	mm_txn_alloc_pages(&i, 2, 0, &(struct page *){ 0 });
	mm_txn_free(&i, a);
	mm_txn_abort(&i);
	s = take(NULL);
	tap_ok(same(&si, &s) && mm_txn_current() == &o,
	       "abort of the inner: figures as at the inner begin");
	tap_ok(ksize(a) >= 500 && pattern_intact(a, 500, 1), "the outer's block survives");
	mm_txn_begin(&i);
	mm_txn_alloc(&i, 70000, 0, 0, &b);
	mm_txn_free(&i, x);
	tap_ok(mm_txn_commit(&i) == 0 && mm_txn_current() == &o, "commit of the inner");
	tap_ok(ksize(b) >= 70000 && ksize(x) >= 200, "its work stands, its free deferred");
	mm_txn_abort(&o);
	s = take(NULL);
	tap_ok(same(&s0, &s) && ksize(x) >= 200 && pattern_intact(x, 200, 3),
	       "outer abort undoes the committed inner too and drops its free");

	mm_txn_begin(&o);
	mm_txn_begin(&i);
	mm_txn_free(&i, x);
	mm_txn_alloc(&i, 16, 0, 0, &b);
	mm_txn_commit(&i);
	ok = ksize(x) >= 200;
	mm_txn_commit(&o);
	tap_ok(ok && ksize(x) == 0 && ksize(b) >= 16 && sound(),
	       "deferred frees run only at the outermost commit");
	kfree(b);
}

/* ---- reservations ------------------------------------------------------------- */

/* Objects of one class the calling CPU's magazines hold (kmalloc-64). */
static unsigned long cpu_cached64(void)
{
	struct kmem_cache_stats cs;

	kmem_cache_get_stats(kmalloc_cache(3), &cs);
	return cs.cached;
}

/* mm_txn_reserve draws on what the CPU's magazines hold first (Linux's
 * kmem_cache_prefill_sheaf): no slab is touched and nothing can fail; an
 * abort puts the blocks back into the magazines, so the slabs -- and the
 * CPU's cached objects -- are exactly as before; a commit frees the unused
 * ones there too. */
static void test_reserve_from_cpu_caches(void)
{
	struct kmem_cache_stats c0, c1;
	struct snap s0, s;
	struct mm_txn t;
	void *p[16];
	unsigned long cached0;
	int ok = 1;

	mm_set_mode(MM_MODE_TWOTIER);
	for (int n = 0; n < 16; n++)   /* the CPU's magazines hold sixteen 64-byte objects */
		p[n] = kmalloc(64, 0);
	for (int n = 0; n < 16; n++)
		kfree(p[n]);
	cached0 = cpu_cached64();
	kmem_cache_get_stats(kmalloc_cache(3), &c0);
	s0 = take(NULL);
	mm_txn_begin(&t);
	tap_ok(mm_txn_reserve(&t, 50, 8) == 0 && cpu_cached64() == cached0 - 8,
	       "reserve 8 x 50 bytes: 8 of the CPU's %lu cached 64-byte objects", cached0);
	kmem_cache_get_stats(kmalloc_cache(3), &c1);
	tap_ok(c1.slabs == c0.slabs && c1.active_objs == c0.active_objs + 8,
	       "no slab touched: %lu slabs, %lu objects in use", c1.slabs, c1.active_objs);
	inject(FI_ALL, 100, 0, -1);
	for (int n = 0; n < 8; n++)
		ok &= mm_txn_alloc(&t, 1 + (size_t)n * 6, 16, 0, &p[n]) == 0 && ksize(p[n]) == 64;
	faultinj_off();
	tap_ok(ok, "8 allocations from it under 100%% injection all succeed");
	mm_txn_abort(&t);
	s = take(NULL);
	tap_ok(cpu_cached64() == cached0 && same(&s0, &s),
	       "abort: back in the CPU's magazines; slabs, zones and figures as before");
	mm_txn_begin(&t);
	mm_txn_reserve(&t, 64, 8);
	for (int n = 0; n < 3; n++)
		mm_txn_alloc(&t, 64, 0, 0, &p[n]);
	mm_txn_commit(&t);
	tap_ok(cpu_cached64() == cached0 - 3 && sound(),
	       "commit: the 3 used stay allocated, the 5 unused go back to the magazines");
	for (int n = 0; n < 3; n++)
		kfree(p[n]);
	tap_ok(cpu_cached64() == cached0, "and the 3 freed join them");
	mm_set_mode(MM_MODE_HYBRID);
}

static void test_reserve(void)
{
	struct snap s0 = take(NULL), s;
	struct kmalloc_stats k0, k1;
	struct mm_txn t, i;
	void *p[64];
	int ok = 1, n, mode;
	uint64_t used = 0;

	for (mode = 0; mode < MM_MODE_NR; mode++) {
		mm_set_mode(mode);
		s0 = take(NULL);
		mm_txn_begin(&t);
		tap_ok(mm_txn_reserve(&t, 300, 40) == 0, "%s: reserve 40 x 300 bytes",
		       mm_mode_str(mode));
		inject(FI_ALL, 100, 0, -1);
		for (n = 0, ok = 1; n < 40; n++) {
			size_t sz = 1 + rnd() % 300, al = (size_t)1 << (rnd() % 5);

			ok &= mm_txn_alloc(&t, sz, al, GFP_ZERO, &p[n]) == 0 &&
			      ((uintptr_t)p[n] & (al - 1)) == 0 && ksize(p[n]) >= sz &&
			      *(char *)p[n] == 0;
		}
		tap_ok(ok, "%s: 40 allocations under 100%% injection all succeed", mm_mode_str(mode));
		tap_ok(mm_txn_alloc(&t, 8, 0, 0, &p[40]) == -ENOMEM,
		       "%s: the 41st is a real request and fails", mm_mode_str(mode));
		faultinj_off();
		mm_txn_abort(&t);
		s = take(NULL);
		tap_ok(same(&s0, &s), "%s: abort returns reservation and blocks", mm_mode_str(mode));
	}
	mm_set_mode(MM_MODE_HYBRID);

	/* leftovers go back at commit */
	kmalloc_get_stats(&k0);
	mm_txn_begin(&t);
	mm_txn_reserve(&t, 100, 20);
	mm_txn_reserve(&t, 5000, 2);
	for (n = 0; n < 5; n++)
		mm_txn_alloc(&t, 100, 0, 0, &p[n]);
	mm_txn_alloc(&t, 4000, 0, 0, &p[5]);
	mm_txn_commit(&t);
	kmalloc_get_stats(&k1);
	ok = 1;
	for (n = 0; n < KM_BACKEND_NR; n++)
		used += k1.backend[n].bytes_in_use - k0.backend[n].bytes_in_use;
	tap_ok(used == 5 * 128 + 8192 && ksize(p[0]) == 128 && ksize(p[5]) == 8192,
	       "commit: used reserved blocks stay (best fit), unused ones freed");
	for (n = 0; n < 6; n++)
		kfree(p[n]);

	/* a reservation that cannot be had takes nothing */
	s0 = take(NULL);
	mm_txn_begin(&t);
	mm_txn_alloc(&t, 64, 0, 0, &p[0]);
	mm_set_mode(MM_MODE_SIMPLE);
	s = take(NULL);
	inject(FI_HEAP, 100, 7, 1);
	tap_ok(mm_txn_reserve(&t, 700, 30) == -ENOMEM, "reserve failing at its 7th block: -ENOMEM");
	faultinj_off();
	mm_set_mode(MM_MODE_HYBRID);
	s0 = take(NULL);
	tap_ok(same(&s, &s0) && t.reserved == 0, "... and took nothing");
	kmalloc_shrink();   /* running out reclaims what the caches keep */
	s = take(NULL);
	tap_ok(mm_txn_reserve(&t, 1 << 20, 1000) == -ENOMEM, "reserve of more than RAM: -ENOMEM");
	s0 = take(NULL);
	tap_ok(same(&s, &s0), "... and took nothing");
	mm_txn_abort(&t);

	/* a savepoint's unused reservation goes back at its commit */
	s0 = take(NULL);
	mm_txn_begin(&t);
	mm_txn_alloc(&t, 64, 0, 0, &p[0]);
	s = take(NULL);
	mm_txn_begin(&i);
	mm_txn_reserve(&i, 2000, 10);
	mm_txn_alloc(&i, 1500, 0, 0, &p[1]);
	mm_txn_commit(&i);
	tap_ok(t.reserved == 0 && ksize(p[1]) >= 1500, "savepoint commit: reservation used once");
	mm_txn_abort(&t);
	s = take(NULL);
	tap_ok(same(&s0, &s), "... the unused ones were freed, abort undoes the rest");
}

/* ---- the log ------------------------------------------------------------------- */

static void test_log_growth(void)
{
	struct snap s0 = take(NULL), s;
	struct mm_txn t;
	static void *p[1500];
	int ok = 1, n;

	mm_txn_begin(&t);
	for (n = 0; n < 1500; n++)
		ok &= mm_txn_alloc(&t, 1 + rnd() % 200, 0, 0, &p[n]) == 0;
	tap_ok(ok && t.cap > 1500 && t.cap - t.len < 1500, "1500 entries: the log grew into pages (cap %zu)", t.cap);
	mm_txn_abort(&t);
	s = take(NULL);
	tap_ok(same(&s0, &s) && t.cap == MM_TXN_INLINE, "abort of 1500: exact, log pages released");
	mm_txn_begin(&t);
	for (n = 0; n < 1500; n++)
		mm_txn_alloc(&t, 100, 0, 0, &p[n]);
	mm_txn_commit(&t);
	for (n = 0; n < 1500; n++)
		ok &= ksize(p[n]) >= 100;
	tap_ok(ok && t.cap == MM_TXN_INLINE, "commit of 1500: blocks live, log pages released");
	for (n = 0; n < 1500; n++)
		kfree(p[n]);
}

/* Exhaust the buddy allocator (reserves included) after priming a slab, so
 * the inline entries work and the log then cannot grow. */
static void test_log_exhausted(void)
{
	struct page *hold = NULL, *pg;
	void *keep, *p[MM_TXN_INLINE + 1];
	const uintptr_t va = 0x40000000ul;
	struct vm_space vs;
	struct snap s0, s1, s;
	struct mm_txn t;
	phys_addr_t pa;
	int ok = 1, n, ret;

	mm_set_mode(MM_MODE_TWOTIER);
	keep = kmalloc(8, 0);
	vm_create(&vs);   /* its tables exist: one more page maps with no memory */
	vm_map(&vs, va, MM_HOST_PHYS_BASE, PAGE_SIZE, VM_R);
	while ((pg = alloc_pages(GFP_RESERVE | GFP_NOINJECT, 0)) != NULL) {
		*(struct page **)page_address(pg) = hold;
		hold = pg;
	}
	s0 = take(NULL);
	mm_txn_begin(&t);
	for (n = 0; n < MM_TXN_INLINE; n++)
		ok &= mm_txn_alloc(&t, 8, 0, 0, &p[n]) == 0;
	tap_ok(ok, "out of pages: %d inline-logged allocations still work", MM_TXN_INLINE);
	ret = mm_txn_alloc(&t, 8, 0, 0, &p[n]);
	s1 = take(NULL);
	tap_ok(ret == -ENOMEM && p[n] == NULL && t.len == MM_TXN_INLINE,
	       "the next one needs a log page: -ENOMEM, nothing allocated");
	tap_ok(mm_txn_free(&t, keep) == -ENOMEM, "a deferred free needing a log page: -ENOMEM");
	tap_ok(mm_txn_alloc_pages(&t, 0, 0, &pg) == -ENOMEM && pg == NULL &&
	       t.len == MM_TXN_INLINE, "a page block needing a log page: -ENOMEM, nothing taken");
	tap_ok(mm_txn_reserve(&t, 8, 1) == -ENOMEM && t.reserved == 0 && t.len == MM_TXN_INLINE,
	       "a reservation needing a log page (its block fits the primed slab): -ENOMEM, "
	       "nothing reserved");
	tap_ok(mm_txn_vm_map(&t, &vs, va + PAGE_SIZE, MM_HOST_PHYS_BASE, PAGE_SIZE, VM_R) ==
	       -ENOMEM && vm_translate(&vs, va + PAGE_SIZE, &pa, NULL) != 0 &&
	       t.len == MM_TXN_INLINE,
	       "a mapping needing a log page (its tables exist): -ENOMEM, nothing mapped");
	s = take(NULL);
	tap_ok(same(&s1, &s), "... and none of them took anything");
	mm_txn_abort(&t);
	s = take(NULL);
	tap_ok(same(&s0, &s) && ksize(keep) == 8, "the transaction still aborts completely");
	vm_destroy(&vs);
	while (hold) {
		pg = hold;
		hold = *(struct page **)page_address(pg);
		free_pages(pg, 0);
	}
	kfree(keep);
	mm_set_mode(MM_MODE_HYBRID);
}

/* ---- modes, runner, vm ---------------------------------------------------------- */

static void test_modes(void)
{
	struct snap s0 = take(NULL), s;
	struct mm_txn t;
	void *p[30];
	int m, n, ok = 1;

	for (int commit = 0; commit < 2; commit++) {
		s0 = take(NULL);
		mm_txn_begin(&t);
		for (n = 0; n < 30; n++) {
			m = n / 10;
			if (n % 10 == 0)
				mm_set_mode(m);
			ok &= mm_txn_alloc(&t, 16 + (size_t)n * 700, 0, 0, &p[n]) == 0;
			pattern_fill(p[n], 16 + (size_t)n * 700, (unsigned)n);
		}
		mm_set_mode(MM_MODE_SIMPLE);
		if (commit) {
			mm_txn_commit(&t);
			for (n = 0; n < 30; n++) {
				ok &= pattern_intact(p[n], 16 + (size_t)n * 700, (unsigned)n);
				kfree(p[n]);
			}
			kmalloc_shrink();
			tap_ok(ok && sound(), "modes switched mid-transaction: commit keeps every block");
		} else {
			mm_txn_abort(&t);
			s = take(NULL);
			tap_ok(ok && same(&s0, &s), "modes switched mid-transaction: abort is exact");
		}
	}
	mm_set_mode(MM_MODE_HYBRID);
}

struct run_arg {
	void *p;
	int ret;
	int leave_open;
	int end_own;
};

static int run_fn(struct mm_txn *t, void *arg)
{
	static struct mm_txn inner;
	struct run_arg *a = arg;

	if (mm_txn_alloc(t, 1000, 0, 0, &a->p))
		return -ENOMEM;
	if (a->leave_open) {
		mm_txn_begin(&inner);
		mm_txn_alloc(&inner, 50, 0, 0, &(void *){ 0 });
	}
	if (a->end_own)
		mm_txn_abort(t);
	return a->ret;
}

static void test_run(void)
{
	struct run_arg a = { NULL, 0, 0, 0 };
	struct snap s0 = take(NULL), s;
	unsigned long rep;

	tap_ok(mm_txn_run(run_fn, &a) == 0 && ksize(a.p) >= 1000 && !mm_txn_current(),
	       "run: fn returns 0 -> committed");
	kfree(a.p);
	s0 = take(NULL);
	a.ret = -ENOSPC;
	tap_ok(mm_txn_run(run_fn, &a) == -ENOSPC && !mm_txn_current(), "run: fn's error returned");
	s = take(NULL);
	tap_ok(same(&s0, &s), "... and everything rolled back");
	rep = mm_host_reports;
	mm_host_quiet = 1;
	a.ret = 0;
	a.leave_open = 1;
	tap_ok(mm_txn_run(run_fn, &a) == -EBUSY && !mm_txn_current(),
	       "run: fn leaves a savepoint open -> -EBUSY");
	s = take(NULL);
	tap_ok(same(&s0, &s) && mm_host_reports > rep, "... reported, all rolled back");
	a.leave_open = 0;
	a.end_own = 1;
	tap_ok(mm_txn_run(run_fn, &a) == -EINVAL && !mm_txn_current(),
	       "run: fn ends its own transaction -> -EINVAL");
	s = take(NULL);
	tap_ok(same(&s0, &s) && mm_txn_run(NULL, NULL) == -EINVAL, "run: NULL fn -> -EINVAL");
	mm_host_quiet = 0;
}

static void test_vm(void)
{
	struct vm_space vs;
	struct mm_txn t;
	struct page *pg;
	struct snap s0, s;
	phys_addr_t pa;
	uintptr_t va = 0x40000000;
	int ret, step, ok = 1;

	vm_create(&vs);
	s0 = take(&vs);
	mm_txn_begin(&t);
	mm_txn_alloc_pages(&t, 2, GFP_ZERO, &pg);
	ret = mm_txn_vm_map(&t, &vs, va, page_to_phys(pg), 4 * PAGE_SIZE, VM_R | VM_W);
	tap_ok(ret == 0 && vm_translate(&vs, va + 5000, &pa, NULL) == 0 &&
	       pa == page_to_phys(pg) + 5000, "vm_map in a transaction maps");
	tap_ok(mm_txn_vm_map(&t, &vs, va, page_to_phys(pg), PAGE_SIZE, VM_R) == -EEXIST &&
	       mm_txn_vm_map(&t, &vs, va + 1, 0, PAGE_SIZE, VM_R) == -EINVAL,
	       "vm_map's errors pass through");
	mm_txn_abort(&t);
	s = take(&vs);
	tap_ok(vm_translate(&vs, va, NULL, NULL) == -ENOENT && same(&s0, &s),
	       "abort unmaps, frees the tables and the pages: exact");

	/* one small transaction, a page failure injected at each step in turn */
	for (step = 1; step < 12; step++) {
		void *p;

		s0 = take(&vs);
		mm_txn_begin(&t);
		inject(FI_ALL, 100, (unsigned long)step, 1);
		ret = mm_txn_alloc_pages(&t, 1, 0, &pg);
		ret = ret ? ret : mm_txn_alloc(&t, 5000, 0, 0, &p);
		ret = ret ? ret : mm_txn_vm_map(&t, &vs, 0x3fc0000000ul, page_to_phys(pg),
						2 * PAGE_SIZE, VM_R);
		ret = ret ? ret : mm_txn_alloc(&t, 64, 0, 0, &p);
		ret = ret ? ret : mm_txn_vm_map(&t, &vs, va + (4ul << 30), page_to_phys(pg),
						PAGE_SIZE, VM_R | VM_X);
		faultinj_off();
		mm_txn_abort(&t);
		s = take(&vs);
		ok &= same(&s0, &s) && (ret == 0 || ret == -ENOMEM);
	}
	tap_ok(ok && sound(), "a failure at every step of a small transaction: abort exact");
	vm_destroy(&vs);
}

/* ---- randomized nests ------------------------------------------------------------- */

struct blk {
	void *p;
	size_t size;
	unsigned id;
	int level;      /* allocating level in the open nest; -1: committed pool */
	int doomed;     /* scheduled for free, at this level + 1 (0: no) */
};

static struct blk pool[NPOOL];
static int npool;
static unsigned next_id;
static int misaligned;
/* What a random run did, so its coverage can be seen. */
static struct { unsigned long ok, failed, aborts, deep_aborts, commits, frees,
		maps, pages, reserves, reserve_fails; } rs;

struct level {
	struct mm_txn t;
	struct snap s;
	int npool;      /* pool entries at begin: later ones are this level's */
	int nmap;
	int reserved;
};

static struct level lv[MAXDEP];
static struct vm_space rvs;
struct map {
	uintptr_t va;
	size_t size;
	int level;
};

struct pgblk {
	struct page *pg;
	unsigned order;
	int level;
};

static struct map maps[256];
static int nmaps;
static struct pgblk pgs[256];
static int npgs;
static long rnd_ops;   /* operations of the random run so far */

static void rnd_alloc(int d)
{
	size_t size = rnd() % 10 < 8 ? 1 + rnd() % 512 : 1 + rnd() % 20000;
	size_t align = rnd() % 4 ? 0 : (size_t)1 << (rnd() % 13);
	gfp_t gfp = rnd() % 3 ? 0 : GFP_ZERO;
	void *p;

	if (npool >= NPOOL)
		return;
	if (rnd() % 20 == 0)
		gfp |= GFP_DMA;
	if (mm_txn_alloc(&lv[d].t, size, align, gfp, &p) != 0) {
		rs.failed++;
		return;
	}
	rs.ok++;
	if (align && ((uintptr_t)p & (align - 1)))
		misaligned++;
	pattern_fill(p, size, next_id);
	pool[npool++] = (struct blk){ p, size, next_id++, d, 0 };
}

static void rnd_other(int d)
{
	unsigned r = (unsigned)(rnd() % 4);
	struct page *pg;

	if (r == 0 && npgs < 256) {
		unsigned order = (unsigned)(rnd() % 4);

		if (mm_txn_alloc_pages(&lv[d].t, order, 0, &pg) == 0)
			pgs[npgs++] = (struct pgblk){ pg, order, d }, rs.pages++;
	} else if (r == 1 && nmaps < 256) {
		uintptr_t va = (rnd() % 4) << 30 | (rnd() % 8) << 21 | (rnd() % 16) << 12;
		size_t size = (1 + rnd() % 3) * PAGE_SIZE;

		if (mm_txn_vm_map(&lv[d].t, &rvs, va, MM_HOST_PHYS_BASE + va, size, VM_R) == 0)
			maps[nmaps++] = (struct map){ va, size, d }, rs.maps++;
	} else if (r == 2 && npool) {
		struct blk *b = &pool[rnd() % (unsigned)npool];

		if (!b->doomed && mm_txn_free(&lv[d].t, b->p) == 0)
			b->doomed = d + 1, rs.frees++;
	} else if (r == 3 && !lv[d].reserved) {
		if (mm_txn_reserve(&lv[d].t, 1 + rnd() % 600, rnd() % 30) == 0)
			lv[d].reserved = 1, rs.reserves++;
		else
			rs.reserve_fails++;
	}
}

/* Forget (abort) or hand to the parent (commit) what level d did; the
 * outermost commit also runs the deferred frees. Level -1: committed. */
static void model_end(int d, int commit)
{
	int i, n;

	for (i = n = 0; i < npool; i++) {
		struct blk b = pool[i];

		if ((b.level == d && !commit) || (d == 0 && commit && b.doomed))
			continue;
		if (b.doomed == d + 1)
			b.doomed = commit ? d : 0;
		b.level -= b.level == d;
		pool[n++] = b;
	}
	npool = n;
	for (i = n = 0; i < nmaps; i++) {
		struct map m = maps[i];

		if (m.level == d && !commit)
			continue;
		m.level -= m.level == d;
		maps[n++] = m;
	}
	nmaps = n;
	for (i = n = 0; i < npgs; i++) {
		struct pgblk g = pgs[i];

		if (g.level == d && !commit)
			continue;
		g.level -= g.level == d;
		pgs[n++] = g;
	}
	npgs = n;
}

static int check_pool(void)
{
	int i, ok = 1;

	for (i = 0; i < npool; i++)
		ok &= ksize(pool[i].p) >= pool[i].size &&
		      pattern_intact(pool[i].p, pool[i].size, pool[i].id);
	for (i = 0; i < nmaps; i++)
		ok &= vm_translate(&rvs, maps[i].va, NULL, NULL) == 0;
	return ok;
}

static void release_some(void)
{
	while (npool > NPOOL / 2)
		kfree(pool[--npool].p);
	while (npgs)
		free_pages(pgs[npgs - 1].pg, pgs[npgs - 1].order), npgs--;
	while (nmaps)
		vm_unmap(&rvs, maps[nmaps - 1].va, maps[nmaps - 1].size), nmaps--;
}

static void rnd_fault(void)
{
	unsigned scope = 1u + (unsigned)(rnd() % 7);

	if (rnd() % 3 == 0)
		faultinj_off();
	else
		inject(scope, (unsigned)(rnd() % 101), rnd() % 8, rnd() % 4 ? (long)(rnd() % 5) : -1);
}

/* One nest: random depth, random ops, random ends. Returns mismatches. */
static int rnd_nest(void)
{
	int d = 0, bad = 0, ops, commit;

	lv[0].s = take(&rvs);
	mm_txn_begin(&lv[0].t);
	lv[0].reserved = 0;
	rnd_fault();
	for (ops = 0; ops < 60 && d >= 0; ops++, rnd_ops++) {
		unsigned r = (unsigned)(rnd() % 100);

		if (r < 8 && d + 1 < MAXDEP) {
			faultinj_off();
			lv[++d].s = take(&rvs);
			mm_txn_begin(&lv[d].t);
			lv[d].reserved = 0;
			rnd_fault();
		} else if (r < 16 || ops == 59) {
			commit = rnd() % 2;
			faultinj_off();
			if (commit) {
				mm_txn_commit(&lv[d].t);
			} else {
				struct snap s;

				mm_txn_abort(&lv[d].t);
				s = take(&rvs);
				bad += !same(&lv[d].s, &s);
				rs.aborts++;
				rs.deep_aborts += d > 0;
			}
			rs.commits += commit;
			model_end(d, commit);
			rnd_fault();
			d--;
		} else if (r < 18) {
			mm_set_mode((int)(rnd() % MM_MODE_NR));
			mm_debug_set(MM_DEBUG_REDZONE, rnd() % 2);
		} else if (r < 70) {
			rnd_alloc(d);
		} else {
			rnd_other(d);
		}
	}
	while (d >= 0) {
		faultinj_off();
		mm_txn_commit(&lv[d].t);
		model_end(d, 1);
		d--;
	}
	faultinj_off();
	return bad;
}

static void test_random(intptr_t seed)
{
	unsigned long rep = mm_host_reports;
	int bad = 0, broken = 0, lost = 0, n;

	tap_seed("random nests", seed);
	rng_state = seed;
	vm_create(&rvs);
	npool = nmaps = npgs = misaligned = 0;
	next_id = 0;
	rnd_ops = 0;
	memset(&rs, 0, sizeof(rs));
	for (n = 0; n < 1000; n++) {
		bad += rnd_nest();
		if (!sound() && !broken++)   /* checked after every nest (<= 60 operations) */
			tap_ok(0, "random nests: seed=%llu nest %d, op %ld: integrity check found a "
			       "violation", (unsigned long long)seed, n, rnd_ops);
		lost += !check_pool();
		if (n % 25 == 24)
			release_some();
	}
	tap_diag("%lu allocs (%lu failed), %lu aborts (%lu of savepoints), %lu commits, "
		 "%lu deferred frees, %lu maps, %lu page blocks, %lu reserves (%lu failed)",
		 rs.ok, rs.failed, rs.aborts, rs.deep_aborts, rs.commits, rs.frees,
		 rs.maps, rs.pages, rs.reserves, rs.reserve_fails);
	tap_ok(bad == 0, "seed %llu: every abort restored its begin snapshot (%d mismatches)",
	       (unsigned long long)seed, bad);
	tap_ok(broken == 0 && lost == 0 && misaligned == 0, "seed %llu: structures sound, committed blocks intact",
	       (unsigned long long)seed);
	tap_ok(mm_host_reports == rep, "seed %llu: no report (no wrong free)",
	       (unsigned long long)seed);
	mm_set_mode(MM_MODE_HYBRID);
	mm_debug_set(MM_DEBUG_REDZONE, 0);
	while (npool)
		kfree(pool[--npool].p);
	release_some();
	vm_destroy(&rvs);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_abort_commit),
	TAP_CASE(test_misuse),
	TAP_CASE(test_same_spare),
	TAP_CASE(test_deferred_free),
	TAP_CASE(test_nested),
	TAP_CASE(test_reserve),
	TAP_CASE(test_reserve_from_cpu_caches),
	TAP_CASE(test_log_growth),
	TAP_CASE(test_modes),
	TAP_CASE(test_run),
	TAP_CASE(test_vm),
	TAP_CASE(test_log_exhausted),
	TAP_CASE_ARG(test_random, 0x5eed0001),
	TAP_CASE_ARG(test_random, 0x7a11e7),
	TAP_CASE_ARG(test_random, 0xdeadbeef42),
};

int main(void)
{
	int rc;

	arena = aligned_alloc(PAGE_SIZE, ARENA);
	if (!arena) {
		printf("Bail out! no arena\n");
		return 1;
	}
	rc = tap_main(TAP_CASES(cases), before, NULL);
	free(arena);
	return rc;
}
