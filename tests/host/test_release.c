/* test_release.c - free memory given back to the system below MAX_ORDER
 * (mm_set_release, mm/buddy.h; the invariants at the top of mm/buddy.c).
 *
 * - a free that makes a block of the release order (2 MiB) gives it back
 *   at once: one call of the hook, its address and 2 MiB, its pages no
 *   longer resident (mincore), zone->released up by its frames;
 * - a free block below the release order is kept, resident, no call;
 * - a backed block merging with a released buddy: the 4 MiB block goes
 *   back whole, zone->released counts its frames once (the released
 *   half is not counted twice);
 * - a released block split by a request: the piece taken comes back
 *   zero-filled by the system and holds what is written; the half left
 *   stays released (kind, counter);
 * - within the keep (a zone of 32 MiB and more) a block freed and taken
 *   again is not given back: churn pays no madvise;
 * - random churn of orders 0..10 with a fixed printed seed: buddy_check
 *   clean throughout (it counts released frames exactly), every released
 *   free block has no page resident;
 * - four threads allocate and free blocks of orders 0..10 at once on a
 *   growing arena (built under ThreadSanitizer too: test_release_tsan). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tap.h"
#include "lib/xorshift.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/page.h"
#include "mm/stats.h"
#include "../../src/mm/mm_internal.h"   /* BUDDY_RELEASED */

#define MIB (1ul << 20)
#define SEED 0x7e1ea5eull
#define RELEASE_ORDER 9

#if defined(__SANITIZE_THREAD__)
#define CHURN_OPS 4000
#define THREAD_OPS 3000
#else
#define CHURN_OPS 30000
#define THREAD_OPS 20000
#endif

/* The hook under test: counts, then gives the memory back as the host's
 * does. */
static unsigned long rel_calls, rel_bytes;
static void *rel_last;

static void count_release(void *addr, size_t bytes)
{
	__atomic_fetch_add(&rel_calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&rel_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&rel_last, addr, __ATOMIC_RELAXED);
	madvise(addr, bytes, MADV_DONTNEED);
}

static unsigned long calls(void)
{
	return __atomic_load_n(&rel_calls, __ATOMIC_RELAXED);
}

/* A growing arena with the counting hook. */
static int arena(size_t initial, size_t reserved)
{
	int ret = mm_host_init_growing(initial, reserved, 0);

	mm_set_release(count_release);
	rel_calls = rel_bytes = 0;
	rel_last = NULL;
	return ret;
}

/* Pages of [p, p + bytes) resident now. */
static size_t resident(const void *p, size_t bytes)
{
	static unsigned char vec[(4 * MIB) / 4096];
	size_t n = bytes / PAGE_SIZE, r = 0;

	if (n > sizeof(vec) || mincore((void *)p, bytes, vec))
		return (size_t)-1;
	for (size_t i = 0; i < n; i++)
		r += vec[i] & 1;
	return r;
}

static unsigned long released(void)
{
	return zone_get(ZONE_HIGH)->released;
}

static uint64_t pfn_of(const struct page *pg)
{
	return page_to_pfn(pg);
}

/* Two allocated blocks of this order that are buddies (*lo the lower),
 * the requests taken on the way in spare[] (*nspare). 0 when found. */
static int buddy_pair(unsigned order, struct page **lo, struct page **hi,
		      struct page **spare, int *nspare)
{
	struct page *prev = NULL;

	*nspare = 0;
	for (int i = 0; i < 64; i++) {
		struct page *pg = alloc_pages(GFP_KERNEL, order);

		if (!pg)
			return -1;
		if (prev && (pfn_of(prev) ^ pfn_of(pg)) == (1ull << order)) {
			*lo = pfn_of(prev) < pfn_of(pg) ? prev : pg;
			*hi = *lo == prev ? pg : prev;
			return 0;
		}
		if (prev)
			spare[(*nspare)++] = prev;
		prev = pg;
	}
	return -1;
}

static void free_spare(struct page **spare, int n, unsigned order)
{
	for (int i = 0; i < n; i++)
		free_pages(spare[i], order);
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* 2 MiB blocks go back as they form; a released half merges with a
 * backed one into a 4 MiB block given back whole, counted once; a
 * released block split comes back zero-filled, its other half still
 * released. */
static void release_order_blocks(void)
{
	struct page *a, *b, *spare[64], *got[64];
	size_t half = PAGE_SIZE << RELEASE_ORDER;
	unsigned long c0, r0;
	int nspare, ngot = 0, found = 0;
	unsigned char *pa, *pb;

	tap_ok(arena(16 * MIB, 64 * MIB) == 0, "release: growing arena 16 MiB of 64 (keep: none)");
	tap_ok(buddy_pair(RELEASE_ORDER, &a, &b, spare, &nspare) == 0, "release: two buddy 2 MiB blocks");
	pa = page_address(a);
	pb = page_address(b);
	memset(pa, 0xa5, half);
	memset(pb, 0x5a, half);
	tap_ok(resident(pa, half) == 512 && resident(pb, half) == 512, "release: both resident once written");

	c0 = calls();
	r0 = released();
	free_pages(b, RELEASE_ORDER);
	tap_ok(calls() == c0 + 1 && rel_last == pb && rel_bytes >= half,
	       "release: the freed 2 MiB block given back at once (%lu call(s), at %p)",
	       calls() - c0, rel_last);
	tap_ok(resident(pb, half) == 0 && resident(pa, half) == 512,
	       "release: its pages no longer resident (%zu), its buddy's still (%zu)",
	       resident(pb, half), resident(pa, half));
	tap_ok(released() == r0 + 512 && b->kind == BUDDY_RELEASED,
	       "release: zone->released up by its 512 frames (%lu -> %lu)", r0, released());
	tap_ok(buddy_check() == 0, "release: buddy_check clean, released half beside an allocated one");

	free_pages(a, RELEASE_ORDER);
	tap_ok(calls() == c0 + 2 && rel_last == pa,
	       "release: backed half freed beside the released one: the 4 MiB block given back whole");
	tap_ok(released() == r0 + 1024 && a->kind == BUDDY_RELEASED && b->kind == 0,
	       "release: counted once: released %lu -> %lu (+1024), the absorbed head unmarked",
	       r0, released());
	tap_ok(resident(pa, 2 * half) == 0, "release: none of the 4 MiB resident");
	tap_ok(buddy_check() == 0, "release: buddy_check clean after the merge");

	/* a request splits the released block (backed blocks go first: take
	 * until it is reached) */
	for (int i = 0; i < 64 && !found; i++) {
		struct page *pg = alloc_pages(GFP_KERNEL, RELEASE_ORDER);

		if (!pg)
			break;
		if (pg == a || pg == b)
			found = 1;
		got[ngot++] = pg;
	}
	tap_ok(found, "release: a request took a half of the released block (%d requests)", ngot);
	if (found) {
		struct page *t = got[ngot - 1], *other = t == a ? b : a;
		unsigned char *pt = page_address(t);

		tap_ok(other->flags == PG_BUDDY && other->order == RELEASE_ORDER &&
		       other->kind == BUDDY_RELEASED,
		       "release: the half left is free and still released");
		tap_ok(all_zero(pt, half), "release: the piece taken comes back zero-filled by the system");
		memset(pt, 0x3c, half);
		tap_ok(pt[0] == 0x3c && pt[half - 1] == 0x3c && resident(pt, half) == 512,
		       "release: and holds what is written");
		tap_ok(buddy_check() == 0, "release: buddy_check clean after the split");
	}
	free_spare(got, ngot, RELEASE_ORDER);
	free_spare(spare, nspare, RELEASE_ORDER);
	tap_ok(buddy_check() == 0, "release: all freed, buddy_check clean");
}

/* A free block below the release order is kept (resident, no call); the
 * free that makes 2 MiB of it gives it back. */
static void below_order_kept(void)
{
	struct page *c, *d, *spare[64];
	size_t sz = PAGE_SIZE << 8;
	unsigned long c0;
	int nspare;

	tap_ok(arena(16 * MIB, 64 * MIB) == 0, "below: growing arena 16 MiB of 64");
	tap_ok(buddy_pair(8, &c, &d, spare, &nspare) == 0, "below: two buddy 1 MiB blocks");
	memset(page_address(c), 1, sz);
	memset(page_address(d), 2, sz);
	c0 = calls();
	free_pages(c, 8);
	tap_ok(calls() == c0 && resident(page_address(c), sz) == sz / PAGE_SIZE,
	       "below: a free 1 MiB block is kept, resident, no call");
	free_pages(d, 8);
	tap_ok(calls() == c0 + 1 && resident(page_address(c), 2 * sz) == 0,
	       "below: its buddy freed: the 2 MiB they make is given back");
	free_spare(spare, nspare, 8);
	tap_ok(buddy_check() == 0, "below: buddy_check clean");
}

/* In a zone of 32 MiB and more the keep holds a 4 MiB block backed: a
 * 2 MiB block freed and taken again, over and over, is never given
 * back. */
static void churn_within_keep(void)
{
	void *big[12];
	unsigned long c0;
	int bad = 0;

	tap_ok(arena(4 * MIB, 256 * MIB) == 0, "keep: growing arena 4 MiB of 256");
	for (int i = 0; i < 12; i++)
		big[i] = kmalloc(3 * MIB, GFP_KERNEL);
	for (int i = 0; i < 12; i++)
		kfree(big[i]);
	kmalloc_shrink();
	tap_ok(zone_get(ZONE_HIGH)->present_pages >= (32 * MIB) / PAGE_SIZE,
	       "keep: the zone grew to %lu MiB", zone_get(ZONE_HIGH)->present_pages * PAGE_SIZE / MIB);
	c0 = calls();
	for (int i = 0; i < 100; i++) {
		struct page *pg = alloc_pages(GFP_KERNEL, RELEASE_ORDER);

		if (!pg) {
			bad++;
			continue;
		}
		memset(page_address(pg), i, PAGE_SIZE << RELEASE_ORDER);
		free_pages(pg, RELEASE_ORDER);
	}
	tap_ok(bad == 0 && calls() == c0,
	       "keep: 100 rounds of a 2 MiB block freed and taken again: %lu release calls",
	       calls() - c0);
	tap_ok(buddy_check() == 0, "keep: buddy_check clean");
}

/* ---- random churn ------------------------------------------------------ */

#define SLOTS 256

struct walk_acc {
	unsigned long released_frames, resident_released;
};

static void walk_free(uint64_t pfn, uint64_t frames, unsigned owner, void *arg)
{
	struct walk_acc *w = arg;
	const struct page *pg = pfn_to_page(pfn);

	if (owner != PAGE_OWNER_FREE || !pg || !(pg->flags & PG_BUDDY) ||
	    pg->kind != BUDDY_RELEASED)
		return;
	w->released_frames += frames;
	/* mincore is a system call, no lock and no mm: allowed in a walk */
	for (uint64_t off = 0; off < frames; off += 1024) {
		uint64_t n = frames - off < 1024 ? frames - off : 1024;

		w->resident_released += resident((char *)page_address(pg) + off * PAGE_SIZE,
						 n * PAGE_SIZE);
	}
}

static void random_churn(void)
{
	static struct page *slot[SLOTS];
	static unsigned char ord[SLOTS];
	uint64_t rng = SEED;
	int violations = 0, fails = 0;
	struct walk_acc w = { 0, 0 };

	tap_seed("churn", SEED);
	tap_ok(arena(4 * MIB, 512 * MIB) == 0, "churn: growing arena 4 MiB of 512");
	memset(slot, 0, sizeof(slot));
	for (int op = 0; op < CHURN_OPS; op++) {
		uint64_t r = xorshift64(&rng);
		unsigned s = (unsigned)(r % SLOTS), o = (unsigned)((r >> 16) % (MAX_ORDER + 1));

		if (slot[s]) {
			free_pages(slot[s], ord[s]);
			slot[s] = NULL;
		} else {
			o = (r >> 24) % 4 ? o % 6 : o;   /* mostly small, some large */
			slot[s] = alloc_pages(GFP_KERNEL, o);
			ord[s] = (unsigned char)o;
			if (slot[s])
				memset(page_address(slot[s]), (int)op, PAGE_SIZE);
			else
				fails++;
		}
		if (op % 2000 == 0)
			violations += buddy_check();
	}
	violations += buddy_check();
	buddy_walk(page_base_pfn, page_base_pfn + page_nr_frames, walk_free, &w);
	tap_ok(fails == 0 && violations == 0,
	       "churn: %d ops, %d failed requests, buddy_check clean throughout (%d)",
	       CHURN_OPS, fails, violations);
	tap_ok(calls() > 0 && w.released_frames == released(),
	       "churn: %lu release calls; released free blocks hold %lu frames, zone->released %lu",
	       calls(), w.released_frames, released());
	tap_ok(w.resident_released == 0, "churn: no page of a released free block is resident (%lu)",
	       w.resident_released);
	for (int s = 0; s < SLOTS; s++)
		if (slot[s])
			free_pages(slot[s], ord[s]);
	tap_ok(buddy_check() == 0 && buddy_free_pages() == zone_get(ZONE_HIGH)->present_pages,
	       "churn: all freed, every frame free, buddy_check clean");
}

/* ---- threads ------------------------------------------------------------ */

#define NTHREADS 4
#define TSLOTS 32

static int thread_bad;

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t rng = SEED * (id + 3);
	struct page *mine[TSLOTS] = { 0 };
	unsigned char ord[TSLOTS];

	for (int op = 0; op < THREAD_OPS; op++) {
		uint64_t r = xorshift64(&rng);
		unsigned s = (unsigned)(r % TSLOTS), o = (unsigned)((r >> 16) % (MAX_ORDER + 1));

		if (mine[s]) {
			if (*(unsigned char *)page_address(mine[s]) != (unsigned char)(s + id))
				__atomic_fetch_add(&thread_bad, 1, __ATOMIC_RELAXED);
			free_pages(mine[s], ord[s]);
			mine[s] = NULL;
			continue;
		}
		mine[s] = alloc_pages(GFP_KERNEL, o);
		ord[s] = (unsigned char)o;
		if (mine[s])
			*(unsigned char *)page_address(mine[s]) = (unsigned char)(s + id);
		else
			__atomic_fetch_add(&thread_bad, 1, __ATOMIC_RELAXED);
	}
	for (unsigned s = 0; s < TSLOTS; s++)
		if (mine[s])
			free_pages(mine[s], ord[s]);
	return NULL;
}

static void threads(void)
{
	pthread_t t[NTHREADS];

	tap_seed("threads", SEED);
	tap_ok(arena(4 * MIB, 1024 * MIB) == 0, "threads: growing arena 4 MiB of 1 GiB");
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	tap_ok(thread_bad == 0, "threads: no request failed, every block intact (%d)", thread_bad);
	tap_ok(calls() > 0, "threads: blocks given back meanwhile (%lu calls)", calls());
	tap_ok(buddy_free_pages() == zone_get(ZONE_HIGH)->present_pages, "threads: all free after");
	tap_ok(buddy_check() == 0 && mm_check() == 0, "threads: buddy_check and mm_check clean");
}

int main(void)
{
	tap_begin();
	release_order_blocks();
	below_order_kept();
	churn_within_keep();
	random_churn();
	threads();
	return tap_end();
}
