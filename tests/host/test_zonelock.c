/* test_zonelock.c - the page allocator under threads, with a lock per zone
 * (mm/buddy.c): eight threads take and free blocks of every order
 * 0..MAX_ORDER, from the DMA and the Normal zone, through their page lists
 * and (in stretches, as a transaction does) bypassing them, some compound
 * (GFP_COMP: marked under the zone lock, so a concurrent buddy_check never
 * sees half-marked tails), and hand blocks
 * to each other to free (cross-thread frees, through swap slots). The arena is small enough
 * that large requests run out now and then, so the reclaim path drains
 * every thread's page lists under the others' refills and trims. One
 * thread also reads the figures and runs buddy_check while the others
 * work: each read must be one moment's (requests = successes + failures,
 * pages in use within what is present, the peak at least the figure).
 * Afterwards buddy_check is clean, free pages equal the figure before,
 * nothing is in use, and the counters add up to what the threads counted.
 *
 * Built twice by the Makefile: under ASan+UBSan like every host test and
 * under ThreadSanitizer (test_zonelock_tsan), where any data race fails the
 * run. Seeds are fixed and printed. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "kerrno.h"
#include "lib/xorshift.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "../../src/host/mm_host.h"   /* the report hooks */

#define NTHREADS 8
#define SLOTS 24
#define SEED 0x20e10c4ull

#if defined(__SANITIZE_THREAD__)
#define OPS 16000   /* TSan runs ~10x slower */
#else
#define OPS 60000
#endif

/* 40 MiB: a 16 MiB DMA zone and a Normal zone of about 23 MiB -- a few
 * threads holding 4 MiB blocks at once run it short */
static char arena[40 << 20] __attribute__((aligned(4096)));

static void before(void)
{
	if (mm_host_init(arena, sizeof(arena)) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
}

/* A live block: its first and last words hold its pfn, so two live blocks
 * that overlapped would break one of them. */
struct blk {
	struct page *pg;
	unsigned order;
};

static void tag(const struct blk *b)
{
	uint64_t *p = page_address(b->pg);

	p[0] = page_to_pfn(b->pg);
	p[(PAGE_SIZE << b->order) / 8 - 1] = page_to_pfn(b->pg);
}

static bool intact(const struct blk *b)
{
	const uint64_t *p = page_address(b->pg);

	return p[0] == page_to_pfn(b->pg) && p[(PAGE_SIZE << b->order) / 8 - 1] == p[0];
}

/* ---- swap slots: blocks handed to another thread to free ---------------------- */

/* A thread puts its block in a random slot and frees what it found there,
 * another thread's block as often as not. The exchange orders the two
 * threads' accesses to the block. */
#define SWAP_SLOTS 64

static struct page *swap_slot[SWAP_SLOTS];

/* ---- one thread's run ---------------------------------------------------------- */

enum count {
	C_OPS, C_ALLOCS, C_FREES, C_NOMEM, C_CROSS, C_DMA, C_BIG, C_BYPASSED,
	C_TAKEN, C_FREED, C_CORRUPT, C_REFUSED, C_READS, C_BAD_READS, C_DIRTY, C_COMP, C_NR
};

struct worker {
	pthread_t th;
	unsigned me;
	uint64_t seed;
	bool reader;   /* thread 0 also reads the figures and checks */
	unsigned long n[C_NR];
};

/* Free pg, of this order, whoever took it; counts what went wrong. */
static void give_back(struct worker *w, struct page *pg, unsigned order)
{
	struct blk b = { pg, order };

	w->n[C_CORRUPT] += !intact(&b);
	w->n[C_REFUSED] += free_pages(pg, order) != 0;
	w->n[C_FREES]++;
	w->n[C_FREED] += 1ul << order;
}

/* Hand b to whoever comes to slot i next; free what was there (its order
 * is its head's: an allocated head's order stays put). */
static void swap_in(struct worker *w, const struct blk *b, unsigned i)
{
	struct page *old = __atomic_exchange_n(&swap_slot[i], b->pg, __ATOMIC_ACQ_REL);

	w->n[C_CROSS]++;
	if (old)
		give_back(w, old, old->order);
}

/* Mostly small orders (the page lists' 0..3), now and then up to
 * MAX_ORDER; a quarter from DMA, some DMA32, the rest anywhere. */
static void take(struct worker *w, uint64_t *rng, struct blk *b)
{
	static const gfp_t flags[] = { 0, 0, 0, GFP_DMA, GFP_DMA32, GFP_ZERO, 0, GFP_DMA };
	uint64_t r = xorshift64(rng);
	unsigned order = r % 16 < 12 ? (unsigned)(r >> 8) % 4 : (unsigned)(r >> 8) % (MAX_ORDER + 1);
	gfp_t gfp = flags[(r >> 16) % 8];

	b->order = order;
	if (order && (r >> 20) % 4 == 0) {   /* compound, marked under the zone lock */
		if (buddy_try_alloc(gfp | GFP_COMP, order, &b->pg) == 0) {
			w->n[C_COMP]++;
			w->n[C_CORRUPT] += compound_head(b->pg + (1ul << order) - 1) != b->pg;
		}
	} else {
		b->pg = alloc_pages(gfp, order);
	}
	if (!b->pg) {
		w->n[C_NOMEM]++;
		return;
	}
	w->n[C_ALLOCS]++;
	w->n[C_TAKEN] += 1ul << order;
	w->n[C_DMA] += b->pg->zone == ZONE_DMA;
	w->n[C_BIG] += order > BUDDY_PCP_ORDER;
	if (((gfp & GFP_DMA) && b->pg->zone != ZONE_DMA) || b->pg->order != order)
		w->n[C_CORRUPT]++;
	tag(b);
}

/* One moment's figures: they must agree with each other. */
static void read_figures(struct worker *w)
{
	struct buddy_stats st;
	unsigned long present = 0;

	for (int z = 0; z < NR_ZONES; z++)
		present += zone_get(z)->present_pages;
	buddy_get_stats(&st);
	w->n[C_READS]++;
	w->n[C_BAD_READS] += st.requests != st.successes + st.fail_nomem + st.fail_inval +
					    st.fail_injected ||
			     st.pages_in_use > present || st.peak_pages_in_use < st.pages_in_use ||
			     buddy_free_pages() > present;
	if (w->n[C_READS] % 8 == 0)
		w->n[C_DIRTY] += buddy_check() != 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct blk slot[SLOTS] = { { 0 } };
	uint64_t rng = w->seed;
	unsigned long bypass_left = 0;

	for (unsigned long op = 0; op < OPS; op++) {
		uint64_t r = xorshift64(&rng);
		struct blk *b = &slot[r % SLOTS];

		w->n[C_OPS]++;
		if (!bypass_left && r % 512 == 0) {   /* a stretch off the page lists */
			buddy_pcp_bypass(true);
			bypass_left = 64;
		}
		if (bypass_left && --bypass_left == 0)
			buddy_pcp_bypass(false);
		w->n[C_BYPASSED] += bypass_left != 0;
		if (!b->pg) {
			take(w, &rng, b);
		} else {
			if ((r >> 40) % 3 == 0)
				swap_in(w, b, (unsigned)(r >> 32) % SWAP_SLOTS);
			else
				give_back(w, b->pg, b->order);
			b->pg = NULL;
		}
		if (w->reader && op % 64 == 0)
			read_figures(w);
	}
	if (bypass_left)
		buddy_pcp_bypass(false);
	for (unsigned i = 0; i < SLOTS; i++)
		if (slot[i].pg)
			give_back(w, slot[i].pg, slot[i].order);
	return NULL;
}

static void test_hammer(void)
{
	struct worker w[NTHREADS] = { { 0 } };
	struct buddy_stats s0, s1;
	struct buddy_pcp_stats p0, p1;
	unsigned long free0, n[C_NR] = { 0 };
	unsigned long reports0 = mm_host_reports;

	buddy_pcp_drain_all();
	free0 = buddy_free_pages();
	buddy_get_stats(&s0);
	buddy_pcp_get(BUDDY_PCP_ALL, &p0);
	tap_seed("zonelock", SEED);
	memset(swap_slot, 0, sizeof(swap_slot));
	for (unsigned i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .me = i, .seed = SEED + i, .reader = i == 0 };
		pthread_create(&w[i].th, NULL, work, &w[i]);
	}
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_join(w[i].th, NULL);
	for (unsigned i = 0; i < SWAP_SLOTS; i++)   /* the last blocks handed over */
		if (swap_slot[i])
			give_back(&w[0], swap_slot[i], swap_slot[i]->order);
	for (unsigned i = 0; i < NTHREADS; i++) {
		tap_diag("thread %u: ops %lu blocks %lu (DMA %lu, order > %d: %lu, bypassing "
			 "the lists for %lu ops) no memory %lu handed over %lu", i, w[i].n[C_OPS],
			 w[i].n[C_ALLOCS], w[i].n[C_DMA], BUDDY_PCP_ORDER, w[i].n[C_BIG],
			 w[i].n[C_BYPASSED], w[i].n[C_NOMEM], w[i].n[C_CROSS]);
		for (int c = 0; c < C_NR; c++)
			n[c] += w[i].n[c];
	}
	buddy_get_stats(&s1);
	buddy_pcp_get(BUDDY_PCP_ALL, &p1);
	tap_ok(n[C_OPS] == (unsigned long)NTHREADS * OPS && n[C_CORRUPT] == 0 &&
	       n[C_REFUSED] == 0 && mm_host_reports == reports0,
	       "%lu operations: every block of its zone and order, none overlapping, every free "
	       "accepted, nothing reported", n[C_OPS]);
	tap_ok(n[C_DMA] > 100 && n[C_ALLOCS] - n[C_DMA] > 100 && n[C_BIG] > 100 &&
	       n[C_COMP] > 100 && n[C_CROSS] > 500 && n[C_BYPASSED] > 500 && n[C_NOMEM] > 0,
	       "both zones served (DMA %lu, compound %lu), %lu blocks above the lists' orders, %lu put in the "
	       "swap slots for any thread to free, %lu ops bypassing the lists, %lu refused for "
	       "want of memory",
	       n[C_DMA], n[C_COMP], n[C_BIG], n[C_CROSS], n[C_BYPASSED], n[C_NOMEM]);
	tap_ok(p1.allocs > p0.allocs && p1.refills > p0.refills && p1.trims > p0.trims &&
	       p1.drained > p0.drained,
	       "the page lists served (%lu), refilled (%lu), gave batches back (%lu) and were "
	       "drained by reclaim (%lu pages)", p1.allocs - p0.allocs, p1.refills - p0.refills,
	       p1.trims - p0.trims, p1.drained - p0.drained);
	tap_ok(n[C_READS] > 50 && n[C_BAD_READS] == 0 && n[C_DIRTY] == 0,
	       "%lu reads of the figures while the others worked: each consistent, every "
	       "buddy_check among them clean", n[C_READS]);
	tap_ok(s1.successes - s0.successes == n[C_ALLOCS] && s1.frees - s0.frees == n[C_FREES] &&
	       s1.fail_nomem - s0.fail_nomem == n[C_NOMEM] && s1.wrong_frees == s0.wrong_frees &&
	       s1.requests - s0.requests == n[C_ALLOCS] + n[C_NOMEM] &&
	       n[C_TAKEN] == n[C_FREED] && s1.pages_in_use == s0.pages_in_use,
	       "counters: %lu successes, %lu frees, %lu refusals, as the threads counted; "
	       "nothing in use", n[C_ALLOCS], n[C_FREES], n[C_NOMEM]);
	tap_ok(buddy_check() == 0, "buddy_check clean");
	buddy_pcp_drain_all();
	tap_ok(buddy_free_pages() == free0, "free pages back to the figure before (%lu)", free0);
}

/* ---- the peak: never above a moment's figure -------------------------------- */

/* Pages go out through the page lists and come back; then a block goes
 * out through the zones. The peak is the highest figure a fold summed:
 * the first read's, not that figure plus the block (the lists' pages were
 * back by then). */
static void test_peak_no_overestimate(void)
{
	struct buddy_stats s0, s1, s2;
	struct page *pg[32], *big;

	buddy_pcp_drain_all();
	buddy_get_stats(&s0);
	for (unsigned i = 0; i < 32; i++)
		pg[i] = alloc_pages(0, 0);
	buddy_get_stats(&s1);
	for (unsigned i = 0; i < 32; i++)
		free_pages(pg[i], 0);
	big = alloc_pages(0, BUDDY_PCP_ORDER + 1);   /* the zone path */
	buddy_get_stats(&s2);
	tap_ok(s1.pages_in_use == s0.pages_in_use + 32 && s1.peak_pages_in_use >= s1.pages_in_use,
	       "a read sees the 32 pages in use, and the peak with them");
	tap_ok(big && s2.pages_in_use == s0.pages_in_use + (1ul << (BUDDY_PCP_ORDER + 1)) &&
	       s2.peak_pages_in_use == (s1.peak_pages_in_use > s2.pages_in_use ?
					s1.peak_pages_in_use : s2.pages_in_use),
	       "after they went back and a 16-page block went out: peak %lu, the highest "
	       "figure read (%lu then, %lu now), not their sum", s2.peak_pages_in_use,
	       s1.pages_in_use, s2.pages_in_use);
	free_pages(big, BUDDY_PCP_ORDER + 1);
	buddy_pcp_drain_all();
	tap_ok(buddy_check() == 0, "buddy_check clean");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_hammer),
	TAP_CASE(test_peak_no_overestimate),
};

int main(void)
{
	return tap_main(TAP_CASES(cases), before, NULL);
}
