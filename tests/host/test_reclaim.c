/* test_reclaim.c - the one reclaim path (mm/shrinker.h): memory kept for
 * reuse comes back before any request fails.
 *
 * Table-driven: for each keeper (SimpleHeap's free runs, empty slabs,
 * magazines, kmalloc's kept large blocks, the CPUs' page lists, the block
 * cache through its shrinker) and each allocation entry point (alloc_pages, kmalloc in each
 * mode, kmem_cache_alloc, heap_alloc, mm_txn_alloc, mm_txn_alloc_pages,
 * mm_txn_reserve, mm_txn_vm_map),
 * the entry point exhausts memory on a fresh system, then on one whose
 * keeper was filled first: both must serve exactly as many requests.
 * Then: GFP_NOSHRINK still gets the keepers back but not the block
 * cache's buffers; an injected failure reclaims nothing; re-entry is
 * refused. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fs/bcache.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/shrinker.h"
#include "mm/slab.h"
#include "mm/txn.h"
#include "mm/vm.h"
#include "kerrno.h"
#include "../../src/mm/slab_internal.h"   /* the magazines' sizes */
#include "blkdev_host.h"
#include "tap.h"

#define ARENA    (24u << 20)
#define MAXP     65536

static unsigned char *arena;
static void *got[MAXP];
static struct kmem_cache *entry_cache;   /* kmem_cache_alloc's entry point */
static struct bcache *bc;
static struct hdev disk;
static uint8_t disk_bytes[512 * 1024];

/* ---- keepers: set up (in the fresh system too), then fill -------------- */

static void none(void)
{
}

static void fill_heap_runs(void)     /* the example: a 5,000-byte block */
{
	mm_set_mode(MM_MODE_SIMPLE);
	kfree(kmalloc(5000, 0));
}

static void fill_with(size_t size, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		got[i] = kmalloc(size, 0);
	for (unsigned i = 0; i < n; i++)
		kfree(got[i]);
}

static void fill_empty_slabs(void)
{
	struct kmem_cache *c = kmem_cache_create("fill", 192, 0, 0);

	for (unsigned i = 0; i < 400; i++)
		got[i] = kmem_cache_alloc(c, 0);
	for (unsigned i = 0; i < 400; i++)
		kmem_cache_free(c, got[i]);
}

/* Exactly what the magazines hold (this CPU's two and the depot's full
 * ones), pinning their slabs: objects beyond would go back and leave holes
 * between pinned slabs, where a transaction's log page lands -- a placement
 * effect that changes what a fresh system serves. */
static void fill_magazines(void)
{
	struct kmem_cache_stats cs;

	mm_set_mode(MM_MODE_TWOTIER);
	fill_with(64, (2 + SLAB_DEPOT_FULL) * SLAB_MAG_SIZE);
	fill_with(1024, (2 + SLAB_DEPOT_FULL) * (SLAB_MAG_BYTES / 1024));
	kmem_cache_get_stats(kmalloc_cache(3), &cs);
	if (cs.cached != (2 + SLAB_DEPOT_FULL) * SLAB_MAG_SIZE) {
		printf("Bail out! the magazines hold %lu 64-byte objects, not %d\n", cs.cached,
		       (2 + SLAB_DEPOT_FULL) * SLAB_MAG_SIZE);
		exit(1);
	}
}

static void fill_kept_blocks(void)
{
	mm_set_mode(MM_MODE_TWOTIER);
	fill_with(8192, KEPT_PER_ORDER);
	fill_with(16384, KEPT_PER_ORDER);
	fill_with(32768, KEPT_PER_ORDER);
}

/* Order-3 blocks (the largest list order), exactly as many as this CPU's
 * list holds before it gives a batch back (its high mark, mm/buddy.h),
 * here and on another thread, which exits with them there. Blocks past
 * the high mark, or of the smaller orders, would take the small free
 * blocks a fresh system has and leave others between listed ones, where a
 * transaction's log page then lands -- a placement effect that changes
 * what a fresh system serves, not memory (as the magazines' fill).
 * test_pcp.c exhausts memory with every list order filled. */
static void *fill_lists_of_mine(void *arg)
{
	const struct zone *z = zone_get(ZONE_NORMAL);
	unsigned long b = z->pcp_batch >> BUDDY_PCP_ORDER, n = BUDDY_PCP_HIGH * (b ? b : 1);
	struct page *p[64];

	(void)arg;
	for (unsigned i = 0; i < n; i++)
		p[i] = alloc_pages(0, BUDDY_PCP_ORDER);
	for (unsigned i = 0; i < n; i++)
		free_pages(p[i], BUDDY_PCP_ORDER);
	return NULL;
}

static void fill_page_lists(void)
{
	struct buddy_pcp_stats s;
	pthread_t th;

	fill_lists_of_mine(NULL);
	pthread_create(&th, NULL, fill_lists_of_mine, NULL);
	pthread_join(th, NULL);
	buddy_pcp_get(BUDDY_PCP_ALL, &s);
	if (s.trims || s.blocks[ZONE_NORMAL][BUDDY_PCP_ORDER] < 2 * BUDDY_PCP_HIGH) {
		printf("Bail out! the page lists hold %lu order-3 blocks (%lu batches given back)\n",
		       s.blocks[ZONE_NORMAL][BUDDY_PCP_ORDER], s.trims);
		exit(1);
	}
}

static void setup_bcache(void)
{
	for (size_t i = 0; i < sizeof(disk_bytes); i++)
		disk_bytes[i] = (uint8_t)(i * 7);
	hdev_mem(&disk, disk_bytes, sizeof(disk_bytes), 512);
	if (bcache_create(&disk.dev, 4096, 3, &bc) != 0) {
		printf("Bail out! bcache_create failed\n");
		exit(1);
	}
}

static void fill_bcache(void)
{
	uint8_t b;

	for (uint64_t n = 0; n < bcache_nr_blocks(bc); n++)
		bcache_read(bc, n, 0, 1, &b);
}

static const struct keeper {
	const char *name;
	void (*setup)(void), (*fill)(void);
} keepers[] = {
	{ "heap free runs", none, fill_heap_runs },
	{ "empty slabs", none, fill_empty_slabs },
	{ "magazines", none, fill_magazines },
	{ "kept large blocks", none, fill_kept_blocks },
	{ "page lists", none, fill_page_lists },
	{ "block cache", setup_bcache, fill_bcache },
};

/* ---- entry points: take until refused, then give everything back -------- */

static struct mm_txn txn;

static void *take_pages(void)
{
	struct page *pg = alloc_pages(0, 0);

	return pg ? page_address(pg) : NULL;
}

static void put_pages(void *p)
{
	free_pages(virt_to_page(p), 0);
}

static void *take_kmalloc(void)
{
	return kmalloc(65536, 0);
}

static void put_kfree(void *p)
{
	kfree(p);
}

static void *take_cache(void)
{
	return kmem_cache_alloc(entry_cache, 0);
}

static void put_cache(void *p)
{
	kmem_cache_free(entry_cache, p);
}

/* 3,960 bytes: one block a page in a run of any order, so SimpleHeap's
 * packing does not depend on which runs the free frames allow (3,000-byte
 * blocks pack 5 to an order-2 run but 1 to an order-0 run: pages a keeper
 * held between the heap's runs, given back, would cost a block of packing,
 * not memory). */
static void *take_heap(void)
{
	void *p;

	return heap_alloc(3960, 0, 0, &p) ? NULL : p;
}

static void put_heap(void *p)
{
	heap_free(p);
}

static void *take_txn(void)
{
	void *p;

	return mm_txn_alloc(&txn, 65536, 0, 0, &p) ? NULL : p;
}

static void *take_txn_reserve(void)
{
	return mm_txn_reserve(&txn, 65536, 1) ? NULL : &txn;
}

static struct vm_space vs;
static uintptr_t next_va;

/* One page mapped in a 2 MiB region of its own: a new table each time. */
static void *take_txn_map(void)
{
	uintptr_t va = next_va;

	next_va += 2ul << 20;
	return mm_txn_vm_map(&txn, &vs, va, MM_HOST_PHYS_BASE, PAGE_SIZE, VM_R) ? NULL : &vs;
}

static void *take_txn_pages(void)
{
	struct page *pg;

	return mm_txn_alloc_pages(&txn, 0, 0, &pg) ? NULL : page_address(pg);
}

static const struct entry {
	const char *name;
	int mode;        /* kmalloc's mode while it runs */
	bool txn;        /* inside a transaction, given back by its abort */
	void *(*take)(void);
	void (*put)(void *p);
} entries[] = {
	{ "alloc_pages", MM_MODE_HYBRID, false, take_pages, put_pages },
	{ "kmalloc simple", MM_MODE_SIMPLE, false, take_kmalloc, put_kfree },
	{ "kmalloc twotier", MM_MODE_TWOTIER, false, take_kmalloc, put_kfree },
	{ "kmalloc hybrid", MM_MODE_HYBRID, false, take_kmalloc, put_kfree },
	{ "kmem_cache_alloc", MM_MODE_HYBRID, false, take_cache, put_cache },
	{ "heap_alloc", MM_MODE_HYBRID, false, take_heap, put_heap },
	{ "mm_txn_alloc", MM_MODE_TWOTIER, true, take_txn, NULL },
	{ "mm_txn_alloc_pages", MM_MODE_HYBRID, true, take_txn_pages, NULL },
	{ "mm_txn_reserve", MM_MODE_TWOTIER, true, take_txn_reserve, NULL },
	{ "mm_txn_vm_map", MM_MODE_HYBRID, true, take_txn_map, NULL },
};

static void fresh(const struct keeper *k)
{
	if (mm_host_init(arena, ARENA) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
	entry_cache = kmem_cache_create("entry", 2048, 0, 0);
	vm_create(&vs);
	next_va = 0;
	k->setup();
}

/* Every case: a fresh system with the entry cache and no keeper set up; a
 * case measuring a keeper starts its own fresh(k). */
static void before(void)
{
	static const struct keeper no_keeper = { "none", none, none };

	fresh(&no_keeper);
	bc = NULL;
}

struct capacity {
	unsigned long served;   /* requests served before the first refusal */
	unsigned long pages;    /* frames in use at the refusal */
	unsigned long kept;     /* bytes a keeper still held then */
};

/* Requests e serves until the first refusal; everything is given back. */
static struct capacity capacity(const struct entry *e)
{
	struct capacity c = { 0 };
	struct buddy_stats bs;

	mm_set_mode(e->mode);
	if (e->txn)
		mm_txn_begin(&txn);
	while (c.served < MAXP && (got[c.served] = e->take()) != NULL)
		c.served++;
	buddy_get_stats(&bs);
	c.pages = bs.pages_in_use;
	c.kept = kmalloc_shrink();
	if (e->txn)
		mm_txn_abort(&txn);
	else
		for (unsigned long i = 0; i < c.served; i++)
			e->put(got[i]);
	return c;
}

/* Exact: the same requests served and the same frames in use at the
 * first refusal, and nothing kept then. */
static void test_keeper(intptr_t ki)
{
	const struct keeper *k = &keepers[ki];

	for (size_t ei = 0; ei < sizeof(entries) / sizeof(entries[0]); ei++) {
		const struct entry *e = &entries[ei];
		struct capacity want, got_;

		fresh(k);
		want = capacity(e);
		fresh(k);
		k->fill();
		got_ = capacity(e);
		tap_ok(got_.pages == want.pages && got_.kept == 0 && want.served > 0 &&
		       got_.served == want.served,
		       "%s filled, %s exhausts memory: %lu served, %lu frames (fresh system: %lu, %lu)",
		       k->name, e->name, got_.served, got_.pages, want.served, want.pages);
	}
}

/* GFP_NOSHRINK: the keepers still give back, the block cache does not. */
static void test_noshrink(void)
{
	struct bcache_stats st0, st1;
	unsigned long n = 0;
	void *p;

	fresh(&keepers[5]);
	fill_bcache();
	fill_kept_blocks();
	bcache_get_stats(bc, &st0);
	while (n < MAXP && kmem_try_alloc(65536, 0, GFP_NOSHRINK, &got[n]) == 0)
		n++;
	bcache_get_stats(bc, &st1);
	tap_ok(st1.buffers == st0.buffers, "GFP_NOSHRINK: the block cache keeps its %lu buffers",
	       st0.buffers);
	tap_ok(kmalloc_shrink() == 0, "GFP_NOSHRINK: the keepers gave back all they kept");
	p = kmalloc(65536, 0);
	bcache_get_stats(bc, &st1);
	tap_ok(p != NULL && st1.buffers < st0.buffers,
	       "without it the next request is served from the block cache's buffers (%lu -> %lu)",
	       st0.buffers, st1.buffers);
	kfree(p);
	while (n)
		kfree(got[--n]);
}

/* alloc_pages counts requests, not tries: one that reclaims and tries
 * again, or dips into the reserve after the zones above it, is one request
 * (and one failure only when it fails). */
static void test_counts_requests(void)
{
	struct buddy_stats b0, b1;
	unsigned long n = 0;
	struct page *pg;

	fresh(&keepers[0]);
	fill_kept_blocks();
	buddy_get_stats(&b0);
	while (n < MAXP && (got[n] = take_pages()) != NULL)
		n++;
	pg = alloc_pages(GFP_RESERVE, 0);
	buddy_get_stats(&b1);
	tap_ok(b1.requests - b0.requests == n + 2 && b1.fail_nomem - b0.fail_nomem == 1 &&
	       pg != NULL, "%lu alloc_pages (reclaim on the way) and one GFP_RESERVE: %lu "
	       "requests, %lu failed", n + 2, b1.requests - b0.requests,
	       b1.fail_nomem - b0.fail_nomem);
}

/* An injected failure must be seen: nothing is reclaimed for it. */
static void test_injected(void)
{
	struct faultinj_config fi = { .probability = 100, .interval = 1, .times = 1,
				      .scope = FI_ALL, .seed = 5 };
	struct kmalloc_stats ks;

	fill_kept_blocks();
	faultinj_set(&fi);
	tap_ok(kmalloc(8192 * 3, GFP_ZERO) == NULL, "an injected failure is returned");
	faultinj_off();
	kmalloc_get_stats(&ks);
	tap_ok(ks.kept_blocks == 3 * KEPT_PER_ORDER,
	       "... and nothing was reclaimed for it (%lu kept)", ks.kept_blocks);
}

/* A keeper's scan that frees into kmalloc lands back in the reclaim path:
 * the walk is refused, not recursed. */
static unsigned long inner_freed = 1;
static unsigned long reentrant_scan(struct shrinker *s, unsigned long want)
{
	unsigned r = 0;

	(void)s;
	(void)want;
	inner_freed = mm_drain_keepers() + (mm_reclaim(4096, 0, &r) ? 1 : 0);
	return 0;
}

static void test_reentry(void)
{
	struct shrinker k = { .scan = reentrant_scan, .keeper = true };
	struct shrinker_stats st;

	shrinker_register(&k);
	kmalloc_shrink();
	shrinker_get_stats(&st);
	tap_ok(inner_freed == 0 && st.reentries == 2,
	       "reclaim from inside a keeper's scan is refused (%lu re-entries)", st.reentries);
	shrinker_unregister(&k);
}

static const struct tap_case cases[] = {
	TAP_CASE_AS("test_keeper(heap free runs)", test_keeper, 0),
	TAP_CASE_AS("test_keeper(empty slabs)", test_keeper, 1),
	TAP_CASE_AS("test_keeper(magazines)", test_keeper, 2),
	TAP_CASE_AS("test_keeper(kept large blocks)", test_keeper, 3),
	TAP_CASE_AS("test_keeper(page lists)", test_keeper, 4),
	TAP_CASE_AS("test_keeper(block cache)", test_keeper, 5),
	TAP_CASE(test_noshrink),
	TAP_CASE(test_counts_requests),
	TAP_CASE(test_injected),
	TAP_CASE(test_reentry),
};

int main(void)
{
	int rc;

	arena = aligned_alloc(4096, ARENA);
	if (!arena)
		return 1;
	rc = tap_main(TAP_CASES(cases), before, NULL);
	free(arena);
	return rc;
}
