/* selftest_txn.c - the "txn" KTAP suite: memory transactions on real RAM.
 *
 * Each abort is checked against a snapshot of every state figure taken
 * before begin (buddy free blocks per zone and order, pages in use, kmalloc
 * bytes in use per backend, objects / slabs / pages per slab cache, heap
 * runs and free bytes, page-table counts): they must be equal exactly. A
 * smaller version of tests/host/test_txn.c: abort and commit in each mode,
 * savepoints, a reservation under 100 % fault injection, log growth into
 * pages, vm_map in a transaction on a fresh vm_space, a failure injected at
 * every step of a small transaction, LIFO misuse, mm_txn_run. Requests use
 * GFP_NOSHRINK so a registered cache shrinking cannot change the figures. */
#include <string.h>
#include "kernel/ktest.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/slab.h"
#include "mm/txn.h"
#include "mm/vm.h"
#include "kerrno.h"

#define SNAP_MAX 320
#define NS       GFP_NOSHRINK

struct snap {
	unsigned n;
	uint64_t v[SNAP_MAX];
};

static struct snap before, after;
static void *blocks[700];

static void put(struct snap *s, uint64_t v)
{
	if (s->n < SNAP_MAX)
		s->v[s->n++] = v;
}

static void snap_pages(struct snap *s)
{
	struct buddy_zone_info zi[NR_ZONES];
	struct buddy_stats bs;

	buddy_zone_info(zi);
	for (int z = 0; z < NR_ZONES; z++) {
		put(s, zi[z].free_pages);
		for (int o = 0; o <= MAX_ORDER; o++)
			put(s, zi[z].nr_free[o]);
	}
	buddy_get_stats(&bs);
	put(s, bs.pages_in_use);
}

static void take(struct snap *s, const struct vm_space *vs)
{
	struct kmem_cache_stats cs;
	struct kmalloc_stats ks;
	struct heap_stats hs;
	struct vm_counts vc;

	memset(s, 0, sizeof(*s));
	snap_pages(s);
	kmalloc_get_stats(&ks);
	for (int b = 0; b < KM_BACKEND_NR; b++)
		put(s, ks.backend[b].bytes_in_use);
	for (unsigned i = 0; kmem_cache_info(i, &cs) == 0; i++) {
		put(s, cs.active_objs);
		put(s, cs.slabs);
		put(s, cs.pages);
	}
	heap_get_stats(&hs);
	put(s, hs.free_bytes);
	put(s, hs.runs);
	put(s, hs.free_runs);
	put(s, hs.bytes_in_use);
	if (vs) {
		vm_count(vs, &vc);
		put(s, vc.leaves[0] + vc.leaves[1] + vc.leaves[2]);
		put(s, vs->tables);
	}
}

static int unchanged(const struct vm_space *vs)
{
	take(&after, vs);
	return after.n == before.n &&
	       memcmp(before.v, after.v, sizeof(before.v)) == 0;
}

static void inject(unsigned prob, unsigned long interval, long times)
{
	struct faultinj_config c = { prob, interval, times, 0, FI_ALL, 1, 7 };

	faultinj_set(&c);
}

/* ---- cases ------------------------------------------------------------------- */

static void test_abort_each_mode(struct ktest *t)
{
	int old = mm_get_mode();
	struct mm_txn x;
	struct page *pg;
	int ok = 1;

	for (int mode = 0; mode < MM_MODE_NR; mode++) {
		mm_set_mode(mode);
		take(&before, NULL);
		KT_EXPECT(t, mm_txn_begin(&x) == 0);
		for (int i = 0; i < 40; i++)
			ok &= mm_txn_alloc(&x, (size_t)16 << (i % 12), 0, NS,
					   &blocks[i]) == 0;
		ok &= mm_txn_alloc_pages(&x, 4, NS, &pg) == 0;
		mm_set_mode((mode + 1) % MM_MODE_NR); /* switch mid-transaction */
		ok &= mm_txn_alloc(&x, 3000, 0, NS, &blocks[40]) == 0;
		KT_EXPECT(t, ok);
		KT_EXPECT(t, mm_txn_abort(&x) == 0 && mm_txn_current() == NULL);
		KT_EXPECT(t, unchanged(NULL));
	}
	mm_set_mode(old);
}

static void test_commit_keeps(struct ktest *t)
{
	struct mm_txn x;
	int ok = 1;

	mm_txn_begin(&x);
	for (int i = 0; i < 20; i++) {
		ok &= mm_txn_alloc(&x, 100 + (size_t)i * 300, 0, NS, &blocks[i]) == 0;
		memset(blocks[i], i, 100 + (size_t)i * 300);
	}
	KT_EXPECT(t, ok && mm_txn_commit(&x) == 0);
	for (int i = 0; i < 20; i++) {
		const unsigned char *p = blocks[i];

		ok &= ksize(p) >= 100 + (size_t)i * 300 && p[99 + i * 300] == i;
		kfree(p);
	}
	KT_EXPECT(t, ok && kmalloc_check() == 0);
}

static void test_savepoints(struct ktest *t)
{
	struct mm_txn o, i;
	void *a, *b, *x = kmalloc(128, NS);

	take(&before, NULL);
	mm_txn_begin(&o);
	mm_txn_alloc(&o, 400, 0, NS, &a);
	mm_txn_begin(&i);
	mm_txn_alloc(&i, 9000, 0, NS, &b);
	mm_txn_free(&i, a);
	KT_EXPECT(t, mm_txn_abort(&i) == 0 && mm_txn_current() == &o);
	KT_EXPECT(t, ksize(a) >= 400);
	mm_txn_begin(&i);
	mm_txn_alloc(&i, 9000, 0, NS, &b);
	mm_txn_free(&i, x);
	KT_EXPECT(t, mm_txn_commit(&i) == 0 && ksize(b) >= 9000 && ksize(x) >= 128);
	KT_EXPECT(t, mm_txn_abort(&o) == 0);
	KT_EXPECT(t, unchanged(NULL) && ksize(x) >= 128);
	kfree(x);
}

static void test_reserve(struct ktest *t)
{
	struct mm_txn x;
	int ok = 1;

	take(&before, NULL);
	mm_txn_begin(&x);
	KT_EXPECT(t, mm_txn_reserve(&x, 256, 64) == 0);
	inject(100, 0, -1);
	for (int i = 0; i < 64; i++)
		ok &= mm_txn_alloc(&x, 1 + (size_t)i * 4, 16, NS, &blocks[i]) == 0;
	KT_EXPECT(t, ok);
	KT_EXPECT(t, mm_txn_alloc(&x, 8, 0, NS, &blocks[64]) == -ENOMEM);
	faultinj_off();
	mm_txn_abort(&x);
	KT_EXPECT(t, unchanged(NULL));
}

static void test_log_growth(struct ktest *t)
{
	struct mm_txn x;
	int ok = 1;

	take(&before, NULL);
	mm_txn_begin(&x);
	for (int i = 0; i < 700; i++)
		ok &= mm_txn_alloc(&x, 1 + (size_t)(i * 37) % 700, 0, NS,
				   &blocks[i]) == 0;
	KT_EXPECT(t, ok && x.cap > MM_TXN_INLINE);
	mm_txn_abort(&x);
	KT_EXPECT(t, unchanged(NULL) && x.cap == MM_TXN_INLINE);
}

static void test_vm_map(struct ktest *t)
{
	struct vm_space vs;
	struct mm_txn x;
	struct page *pg;
	phys_addr_t pa;

	if (vm_create(&vs) != 0) {
		KT_SKIP(t, "no memory for a vm_space");
		return;
	}
	take(&before, &vs);
	mm_txn_begin(&x);
	KT_EXPECT(t, mm_txn_alloc_pages(&x, 2, NS, &pg) == 0);
	KT_EXPECT(t, mm_txn_vm_map(&x, &vs, 0x40000000ul, page_to_phys(pg),
				   4 * PAGE_SIZE, VM_R | VM_W) == 0);
	KT_EXPECT(t, vm_translate(&vs, 0x40003000ul, &pa, NULL) == 0 &&
		     pa == page_to_phys(pg) + 0x3000);
	mm_txn_abort(&x);
	KT_EXPECT(t, vm_translate(&vs, 0x40000000ul, NULL, NULL) == -ENOENT);
	KT_EXPECT(t, unchanged(&vs));
	vm_destroy(&vs);
}

/* A small transaction; *fired says whether the injected failure happened
 * (a Hybrid request may survive it through the heap). */
static int small_txn(struct vm_space *vs, int *fired)
{
	struct faultinj_config cfg;
	struct faultinj_stats st;
	struct mm_txn x;
	struct page *pg;
	void *p;
	int ret;

	mm_txn_begin(&x);
	ret = mm_txn_alloc(&x, 200, 0, NS, &p);
	ret = ret ? ret : mm_txn_alloc_pages(&x, 1, NS, &pg);
	ret = ret ? ret : mm_txn_vm_map(&x, vs, 0x80000000ul, page_to_phys(pg),
					2 * PAGE_SIZE, VM_R);
	ret = ret ? ret : mm_txn_alloc(&x, 6000, 0, NS, &p);
	ret = ret ? ret : mm_txn_vm_map(&x, vs, 0x3fc0000000ul,
					page_to_phys(pg), PAGE_SIZE, VM_R | VM_X);
	ret = ret ? ret : mm_txn_alloc(&x, 40, 0, NS, &p);
	faultinj_get(&cfg, &st);
	*fired = cfg.times == 0;
	faultinj_off();
	mm_txn_abort(&x);
	return ret;
}

/* Fail the k-th eligible allocation, k = 1, 2, ... until the transaction
 * runs past the last one; after every abort the figures are unchanged. */
static void test_fail_every_step(struct ktest *t)
{
	struct vm_space vs;
	int ret, ok = 1, fired = 1, failed = 0;
	unsigned long k;

	if (vm_create(&vs) != 0) {
		KT_SKIP(t, "no memory for a vm_space");
		return;
	}
	for (k = 1; fired && k < 64; k++) {
		take(&before, &vs);
		inject(100, k, 1);
		ret = small_txn(&vs, &fired);
		failed += ret != 0;
		ok &= (ret == 0 || ret == -ENOMEM) && unchanged(&vs);
	}
	KT_EXPECT(t, ok && !fired && failed >= 3 && k > 5);
	KT_EXPECT(t, kmalloc_check() == 0 && buddy_check() == 0);
	vm_destroy(&vs);
}

static void test_lifo(struct ktest *t)
{
	struct mm_txn o, i;
	void *p;

	KT_EXPECT(t, mm_txn_begin(&o) == 0 && mm_txn_begin(&i) == 0);
	ktest_provoke(t);
	KT_EXPECT(t, mm_txn_commit(&o) == -EBUSY && mm_txn_abort(&o) == -EBUSY);
	KT_EXPECT(t, mm_txn_alloc(&o, 8, 0, NS, &p) == -EBUSY && p == NULL);
	KT_EXPECT(t, mm_txn_commit(&i) == 0 && mm_txn_commit(&i) == -EINVAL);
	KT_EXPECT(t, ktest_provoked(t) == 4);   /* each refusal reported */
	KT_EXPECT(t, mm_txn_commit(&o) == 0 && mm_txn_current() == NULL);
}

/* Allocates, then fails: the runner must roll the allocation back. */
static int run_fail(struct mm_txn *x, void *arg)
{
	int ret = mm_txn_alloc(x, 2048, 0, NS, arg);

	return ret ? ret : -ENOSPC;
}

static int run_ok(struct mm_txn *x, void *arg)
{
	return mm_txn_alloc(x, 2048, 0, NS, arg);
}

static void test_run(struct ktest *t)
{
	void *p = NULL;

	take(&before, NULL);
	KT_EXPECT(t, mm_txn_run(run_fail, &p) == -ENOSPC && unchanged(NULL));
	KT_EXPECT(t, mm_txn_run(run_ok, &p) == 0 && ksize(p) >= 2048);
	kfree(p);
}

static const struct ktest_case txn_cases[] = {
	{ "abort_exact_each_mode", test_abort_each_mode },
	{ "commit_keeps_blocks", test_commit_keeps },
	{ "savepoints", test_savepoints },
	{ "reserve_under_injection", test_reserve },
	{ "log_grows_into_pages", test_log_growth },
	{ "vm_map_in_transaction", test_vm_map },
	{ "failure_at_every_step", test_fail_every_step },
	{ "lifo_enforced", test_lifo },
	{ "run_commits_or_rolls_back", test_run },
};
KTEST_SUITE(txn_suite, "txn", txn_cases);
