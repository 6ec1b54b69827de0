/* selftest_smp.c - the "smp" KTAP suite: every hart of the device tree is
 * online with its own stacks and tick, smp_call reaches each one (and
 * refuses what it must), smp_run_together runs a part on each at once
 * (and nothing when a hart cannot take its part), the ticket lock keeps a
 * shared count exact while every hart hammers it at once, and the mm
 * stack stays sound while every hart allocates and frees at once: objects
 * freed by another hart than the one that took them, modes switched under
 * the others' feet, transactions aborted on every hart, a double free
 * of an object in another hart's magazine refused, page blocks through
 * every hart's page lists in little memory, every zone's lock taken by
 * every hart while hart 0 reads the figures and checks, the block cache
 * missing on one block on every hart at once, the counts exact while
 * hart 0 stops, closes and opens every gate under the others. After
 * each mm case the
 * integrity check is clean and, with the caches given back, free
 * pages are what they were. Meaningful with -smp 2..8; with one hart the
 * cross-hart parts run on it alone. */
#include <stddef.h>
#include "kernel/console.h"
#include "kernel/ktest.h"
#include "kernel/lockdep.h"
#include "kernel/platform.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "lib/pattern.h"
#include "lib/xorshift.h"
#include "mm/buddy.h"
#include "mm/mm_debug.h"
#include "mm/kmalloc.h"
#include "mm/slab.h"
#include "mm/stats.h"
#include "mm/txn.h"
#include "fs/bcache.h"
#include "kernel/disk.h"
#include "mm/shrinker.h"
#include <string.h>
#include "arch/riscv.h"
#include "kerrno.h"

static void whoami(void *arg)
{
	unsigned *out = arg;
	uintptr_t sp;

	__asm__ volatile("mv %0, sp" : "=r"(sp));
	out[0] = this_hart()->index;
	out[1] = sp <= hart_boot_stack_top(out[0]) &&
		 sp > hart_boot_stack_top(out[0]) - HART_BOOT_STACK;
}

static void test_online(struct ktest *t)
{
	unsigned want = platform.ncpus < HART_MAX ? (unsigned)platform.ncpus : HART_MAX;

	KT_EXPECT(t, nharts == want);
	for (unsigned i = 0; i < nharts; i++)
		KT_EXPECT(t, harts[i].state == HART_ONLINE && harts[i].index == i);
	KT_EXPECT(t, this_hart() == &harts[0]);
}

/* Each hart runs the call itself, on its own boot stack. */
static void test_call_each(struct ktest *t)
{
	for (unsigned i = 0; i < nharts; i++) {
		unsigned got[2] = { ~0u, 0 };

		KT_EXPECT(t, smp_call(i, whoami, got) == 0);
		KT_EXPECT(t, got[0] == i && got[1]);
	}
}

static void test_call_refused(struct ktest *t)
{
	unsigned got[2];

	KT_EXPECT(t, smp_call(nharts, whoami, got) == -EINVAL);
	KT_EXPECT(t, smp_call(HART_MAX + 5, whoami, got) == -EINVAL);
	KT_EXPECT(t, smp_post(0, whoami, got) == -EINVAL);   /* itself */
	KT_EXPECT(t, smp_wait(0, 1) == -EINVAL);             /* nothing posted */
	if (nharts < 2) {
		KT_SKIP(t, "one hart");
		return;
	}
	KT_EXPECT(t, smp_post(1, whoami, got) == 0);
	KT_EXPECT(t, smp_post(1, whoami, got) == -EBUSY);
	KT_EXPECT(t, smp_wait(1, 1000) == 0 && got[0] == 1);
}

static void test_ticks(struct ktest *t)
{
	uint64_t before[HART_MAX], until = rdtime() + platform.timebase_hz / 10;

	for (unsigned i = 0; i < nharts; i++)
		before[i] = harts[i].ticks;
	while (rdtime() < until)
		wfi();
	for (unsigned i = 0; i < nharts; i++)
		KT_EXPECT(t, harts[i].ticks > before[i]);
}

/* ---- smp_run_together ---------------------------------------------------- */

static volatile unsigned together_arrived;
static volatile int together_hold;

/* Note the hart, then wait (up to 5 s) until every part has arrived: the
 * parts run at once, not one after another. */
static void together_part_test(void *arg)
{
	unsigned *got = arg;
	uint64_t until = rdtime() + 5 * platform.timebase_hz;
	unsigned n = got[1];

	got[0] = this_hart()->index + 1;
	__atomic_fetch_add(&together_arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&together_arrived, __ATOMIC_ACQUIRE) < n && rdtime() < until)
		;
	got[2] = __atomic_load_n(&together_arrived, __ATOMIC_ACQUIRE) >= n;
}

static void together_block(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&together_hold, __ATOMIC_ACQUIRE))
		;
}

static void test_run_together(struct ktest *t)
{
	unsigned got[HART_MAX][3], idx[HART_MAX], n = smp_online(idx);
	void *args[HART_MAX];

	for (unsigned i = 0; i < n; i++) {
		got[i][0] = got[i][2] = 0;
		got[i][1] = n;
		args[i] = got[i];
	}
	together_arrived = 0;
	KT_EXPECT(t, idx[0] == 0 && n == nharts);
	KT_EXPECT(t, smp_run_together(n, together_part_test, args) == 0);
	for (unsigned i = 0; i < n; i++)
		KT_EXPECT(t, got[i][0] == idx[i] + 1 && got[i][2]);
	KT_EXPECT(t, smp_run_together(0, together_part_test, args) == -EINVAL);
	KT_EXPECT(t, smp_run_together(n + 1, together_part_test, args) == -EINVAL);
	if (n < 2) {
		KT_SKIP(t, "one hart");
		return;
	}
	/* the last hart's mailbox busy: no part runs, the posted ones neither */
	together_hold = 1;
	KT_EXPECT(t, smp_post(idx[n - 1], together_block, NULL) == 0);
	for (unsigned i = 0; i < n; i++)
		got[i][0] = 0;
	KT_EXPECT(t, smp_run_together(n, together_part_test, args) == -EBUSY);
	__atomic_store_n(&together_hold, 0, __ATOMIC_RELEASE);
	KT_EXPECT(t, smp_wait(idx[n - 1], 1000) == 0);
	for (unsigned i = 0; i < n; i++)
		KT_EXPECT(t, got[i][0] == 0);
}

/* Takes of the lock, shared among the harts: with more harts than host
 * cores (QEMU's harts are host threads), each hand-over of a ticket lock
 * may wait for the host to schedule the next ticket's hart. */
#define HAMMER_TOTAL 4000

static struct spinlock hammer_lock = SPINLOCK_INIT("hammer");
static struct spinlock hammer_tas = SPINLOCK_INIT_UNFAIR("hammer (test-and-set)");
static volatile unsigned long hammer_count;

static void hammer(void *arg)
{
	struct spinlock *l = arg;

	for (unsigned i = 0; i < HAMMER_TOTAL / nharts; i++) {
		unsigned long f = spin_lock_irqsave(l);

		hammer_count = hammer_count + 1;   /* not atomic: the lock makes it exact */
		spin_unlock_irqrestore(l, f);
	}
}

/* Every hart at once on l: the count is exact and the lock ends free. */
static void lock_hammer(struct ktest *t, struct spinlock *l)
{
	void *args[HART_MAX];

	hammer_count = 0;
	for (unsigned i = 0; i < nharts; i++)
		args[i] = l;
	KT_EXPECT(t, smp_run_together(nharts, hammer, args) == 0);
	KT_EXPECT(t, hammer_count == (unsigned long)(HAMMER_TOTAL / nharts) * nharts);
	KT_EXPECT(t, l->holder == -1 && (l->unfair ? l->next == 0 : l->next == l->serving));
	if (nharts < 2)
		KT_SKIP(t, "one hart: no contention");
}

static void test_lock_hammer(struct ktest *t)
{
	lock_hammer(t, &hammer_lock);
}

/* The test-and-set form the mm's locks use (mm_env_lock.h). */
static void test_unfair_lock_hammer(struct ktest *t)
{
	lock_hammer(t, &hammer_tas);
}

/* ---- the mm stack on every hart ---------------------------------------- */

/* Operations shared among the harts (as HAMMER_TOTAL, and for the same
 * reason: with the slow paths' one mm lock and more harts than host
 * cores, a hand-over may wait for the host to schedule the next hart). */
#define CHURN_TOTAL 4000
#define SWAP_SLOTS  32

struct churn {
	uint64_t rng;
	unsigned long bad, txns;
	int txn;          /* run transactions that abort */
};

static struct churn churns[HART_MAX];
static struct spinlock swap_lock = SPINLOCK_INIT("smp swap");
static void *swap_p[SWAP_SLOTS];
static size_t swap_size[SWAP_SLOTS];

/* Put p (size bytes, patterned) in a random swap slot; whatever was there
 * is checked and freed here: most frees are of another hart's block. */
static void swap_in(struct churn *c, void *p, size_t size)
{
	unsigned i = (unsigned)(xorshift64(&c->rng) % SWAP_SLOTS);
	unsigned long f = spin_lock_irqsave(&swap_lock);
	void *old = swap_p[i];
	size_t old_size = swap_size[i];

	swap_p[i] = p;
	swap_size[i] = size;
	spin_unlock_irqrestore(&swap_lock, f);
	if (old) {
		c->bad += !pattern_intact(old, old_size, (unsigned)old_size);
		kfree(old);
	}
}

static void churn_txn(struct churn *c)
{
	struct mm_txn t;
	void *p;

	if (mm_txn_begin(&t))
		return;
	for (int k = 0; k < 3; k++)
		if (mm_txn_alloc(&t, 16 + xorshift64(&c->rng) % 3000, 0, 0, &p) == 0)
			pattern_fill(p, 16, 1);
	c->bad += mm_txn_current() != &t;
	mm_txn_abort(&t);
	c->txns++;
}

static void churn(void *arg)
{
	struct churn *c = arg;

	for (unsigned i = 0; i < CHURN_TOTAL / nharts; i++) {
		size_t size = 1 + xorshift64(&c->rng) % (xorshift64(&c->rng) % 8 ? 512 : 20000);
		void *p = kmalloc(size, 0);

		if (p) {
			pattern_fill(p, size, (unsigned)size);
			swap_in(c, p, size);
		}
		if (c->txn && i % 16 == 0)
			churn_txn(c);
	}
}

/* Check and free the blocks left in the swap slots; returns what was
 * found broken there and by every hart's churn. */
static unsigned long swap_drain(void)
{
	unsigned long bad = 0;

	for (unsigned i = 0; i < SWAP_SLOTS; i++) {
		if (swap_p[i])
			bad += !pattern_intact(swap_p[i], swap_size[i], (unsigned)swap_size[i]);
		kfree(swap_p[i]);
		swap_p[i] = NULL;
	}
	for (unsigned i = 0; i < nharts; i++)
		bad += churns[i].bad;
	return bad;
}

/* What hart 0 does while the others churn (churn_all, the block cache
 * case): NULL for a churn of its own. */
static void (*hart0_part)(void);
static void (*hart0_after)(void);

/* smp_run_together's part: hart 0's (churns[0]) is hart0_part if set,
 * else a churn followed by hart0_after; every other hart churns. */
static void churn_part(void *arg)
{
	if (arg == &churns[0] && hart0_part) {
		hart0_part();
		return;
	}
	churn(arg);
	if (arg == &churns[0] && hart0_after)
		hart0_after();
}

/* Run churn on every hart at once (hart 0 runs part instead when not
 * NULL, or after() once it has done its own share); 0 or
 * smp_run_together's error. */
static int churn_together(int txn, void (*part)(void), void (*after)(void))
{
	void *args[HART_MAX];
	int rc;

	for (unsigned i = 0; i < nharts; i++) {
		churns[i] = (struct churn){ .rng = 0x5eedull * (i + 3), .txn = txn };
		args[i] = &churns[i];
	}
	hart0_part = part;
	hart0_after = after;
	rc = smp_run_together(nharts, churn_part, args);
	hart0_part = hart0_after = NULL;
	return rc;
}

/* Run churn on every hart at once; hart 0 calls between() meanwhile once
 * it has done its own share. Returns whether every run was sound. */
static int churn_all(struct ktest *t, int txn, void (*between)(void))
{
	unsigned long bad, before;

	kmalloc_shrink();
	before = buddy_free_pages();
	KT_EXPECT(t, churn_together(txn, NULL, between) == 0);
	bad = swap_drain();
	KT_EXPECT(t, bad == 0);
	KT_EXPECT(t, mm_check() == 0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
	if (nharts < 2)
		KT_SKIP(t, "one hart: ran, but nothing crossed harts");
	return bad == 0;
}

static void test_mm_every_hart(struct ktest *t)
{
	churn_all(t, 0, NULL);
}

static void switch_modes(void)
{
	int old = mm_get_mode();

	for (int i = 0; i < 60; i++)
		mm_set_mode(i % MM_MODE_NR);
	mm_set_mode(old);
}

static void test_mode_switch(struct ktest *t)
{
	churn_all(t, 0, switch_modes);
}

static void test_txn_every_hart(struct ktest *t)
{
	unsigned long txns = 0;

	churn_all(t, 1, NULL);
	for (unsigned i = 0; i < nharts; i++)
		txns += churns[i].txns;
	KT_EXPECT(t, txns == (unsigned long)nharts * ((CHURN_TOTAL / nharts + 15) / 16));
	KT_EXPECT(t, mm_txn_current() == NULL);
}

/* ---- page lists on every hart ------------------------------------------------ */

/* Page blocks of orders 0..4 (4: past the page lists, the zones') taken on
 * every hart at once in little memory, handed between harts through swap
 * slots and freed there: a free lands on the freeing hart's list, a list
 * that runs dry refills from its zone, and a request that finds the zones
 * empty reclaims, which gives every hart's lists back. */
#define PAGE_OPS_TOTAL  4000
#define PAGE_PRESSURE   300   /* pages left free above the zones' min watermarks */

static struct page *pswap[SWAP_SLOTS];
static unsigned pswap_order[SWAP_SLOTS];

struct page_churn {
	uint64_t rng;
	unsigned long bad, nomem, served, dma, big;
};

static struct page_churn page_churns[HART_MAX];

static void page_swap_in(struct page_churn *c, struct page *pg, unsigned order)
{
	unsigned i = (unsigned)(xorshift64(&c->rng) % SWAP_SLOTS);
	unsigned long f = spin_lock_irqsave(&swap_lock);
	struct page *old = pswap[i];
	unsigned old_order = pswap_order[i];

	pswap[i] = pg;
	pswap_order[i] = order;
	spin_unlock_irqrestore(&swap_lock, f);
	if (old) {
		c->bad += !pattern_intact(page_address(old), 64, old_order + 1);
		c->bad += free_pages(old, old_order) != 0;
	}
}

static void page_churn(void *arg)
{
	struct page_churn *c = arg;

	for (unsigned i = 0; i < PAGE_OPS_TOTAL / nharts; i++) {
		unsigned order = (unsigned)(xorshift64(&c->rng) % 5);
		gfp_t gfp = xorshift64(&c->rng) % 8 ? 0 : GFP_DMA;
		struct page *pg = alloc_pages(gfp, order), *own;

		if (!pg) {
			c->nomem++;
			continue;
		}
		c->served++;
		c->bad += pg->order != order || ((gfp & GFP_DMA) && pg->zone != ZONE_DMA);
		pattern_fill(page_address(pg), 64, order + 1);
		page_swap_in(c, pg, order);
		if (i % 4 == 0 && (own = alloc_pages(0, 0)) != NULL)
			c->bad += free_pages(own, 0) != 0;   /* its own list's newest, at once */
	}
}

static void test_pages_every_hart(struct ktest *t)
{
	unsigned idx[HART_MAX], n = smp_online(idx);
	struct buddy_pcp_stats p0, p1;
	unsigned long bad = 0, served = 0, before;
	unsigned long reserve = 0;
	struct ktest_hold *held;
	void *args[HART_MAX];

	kmalloc_shrink();
	before = buddy_free_pages();
	buddy_pcp_get(BUDDY_PCP_ALL, &p0);
	for (int z = 0; z < NR_ZONES; z++)   /* what ordinary requests never get */
		reserve += zone_get(z)->wmark_min;
	held = ktest_hold(reserve + PAGE_PRESSURE);
	for (unsigned i = 0; i < n; i++) {
		page_churns[i] = (struct page_churn){ .rng = 0x9a9eull * (i + 7) };
		args[i] = &page_churns[i];
	}
	KT_EXPECT(t, smp_run_together(n, page_churn, args) == 0);
	for (unsigned i = 0; i < SWAP_SLOTS; i++) {
		if (pswap[i]) {
			bad += !pattern_intact(page_address(pswap[i]), 64, pswap_order[i] + 1);
			bad += free_pages(pswap[i], pswap_order[i]) != 0;
		}
		pswap[i] = NULL;
	}
	ktest_unhold(held);
	for (unsigned i = 0; i < n; i++) {
		bad += page_churns[i].bad;
		served += page_churns[i].served;
	}
	buddy_pcp_get(BUDDY_PCP_ALL, &p1);
	KT_EXPECT(t, bad == 0 && served > PAGE_OPS_TOTAL / 2);
	KT_EXPECT(t, p1.allocs > p0.allocs && p1.frees > p0.frees && p1.refills > p0.refills);
	KT_EXPECT(t, p1.drained > p0.drained);   /* the pressure's reclaim emptied lists */
	KT_EXPECT(t, mm_check() == 0);
	kmalloc_shrink();
	buddy_pcp_get(BUDDY_PCP_ALL, &p1);
	KT_EXPECT(t, p1.total_pages == 0 && buddy_free_pages() == before);
	if (nharts < 2)
		KT_SKIP(t, "one hart: ran, but nothing crossed harts");
}

/* ---- a lock per zone: every hart's blocks while hart 0 reads ------------- */

/* Every hart but 0 takes blocks of orders 0..MAX_ORDER from both zones
 * (up to BUDDY_PCP_ORDER through its page lists, whose refills and trims
 * take the zone's lock inside the hart's gate; above, through the zone
 * locks alone), frees half at once and hands the rest to the others
 * through the swap slots, while hart 0 reads the buddy figures and runs
 * buddy_check again and again (taking and freeing a block of either zone
 * between reads): each read is one moment's (requests =
 * successes + failures, in use within what is present, the peak at least
 * the figure), each check clean; the others go on past their share until
 * hart 0 has read ZONE_READS_MIN times, so the reads meet their work.
 * Lock debugging is on for the case: the
 * zone locks, taken under other locks (the swap slots', the block
 * cache's in reclaim) and under each other, meet no inversion. (The mm
 * lock and the gates are not spinlocks lockdep tracks.) */
#define ZONE_OPS_PER_HART 1500
#define ZONE_READS_MIN    20   /* the churns go on until hart 0 read this often */

static unsigned zone_churns_done, zone_reads;

static void zone_churn(void *arg)
{
	struct page_churn *c = arg;

	for (unsigned i = 0; i < ZONE_OPS_PER_HART ||
			     __atomic_load_n(&zone_reads, __ATOMIC_ACQUIRE) < ZONE_READS_MIN; i++) {
		uint64_t r = xorshift64(&c->rng);
		unsigned order = r % 8 ? (unsigned)(r >> 8) % 4 : (unsigned)(r >> 8) % (MAX_ORDER + 1);
		gfp_t gfp = (r >> 16) % 3 == 0 ? GFP_DMA : 0;
		struct page *pg = alloc_pages(gfp, order);

		if (!pg) {
			c->nomem++;
			continue;
		}
		c->served++;
		c->dma += pg->zone == ZONE_DMA;
		c->big += order > BUDDY_PCP_ORDER;
		c->bad += pg->order != order || ((gfp & GFP_DMA) && pg->zone != ZONE_DMA);
		pattern_fill(page_address(pg), 64, order + 1);
		if ((r >> 24) & 1) {
			page_swap_in(c, pg, order);
		} else {
			c->bad += !pattern_intact(page_address(pg), 64, order + 1);
			c->bad += free_pages(pg, order) != 0;
		}
	}
	__atomic_fetch_add(&zone_churns_done, 1, __ATOMIC_RELEASE);
}

/* Hart 0's part: read and check until every churn is done, taking and
 * freeing a block of its own between reads. */
static void zone_reader(unsigned posted, unsigned long *reads, unsigned long *bad_reads,
			unsigned long *dirty)
{
	unsigned long present = 0;

	for (int z = 0; z < NR_ZONES; z++)
		present += zone_get(z)->present_pages;
	while (__atomic_load_n(&zone_churns_done, __ATOMIC_ACQUIRE) < posted) {
		struct buddy_stats st;
		unsigned order = (unsigned)(*reads % (BUDDY_PCP_ORDER + 3));
		struct page *pg = alloc_pages(*reads % 2 ? GFP_DMA : 0, order);

		if (pg) {
			pattern_fill(page_address(pg), 64, order + 1);
			*bad_reads += !pattern_intact(page_address(pg), 64, order + 1) ||
				      free_pages(pg, order) != 0;
		}
		buddy_get_stats(&st);
		(*reads)++;
		*bad_reads += st.requests != st.successes + st.fail_nomem + st.fail_inval +
					     st.fail_injected ||
			      st.pages_in_use > present || st.peak_pages_in_use < st.pages_in_use;
		*dirty += buddy_check() != 0;
		__atomic_store_n(&zone_reads, (unsigned)*reads, __ATOMIC_RELEASE);
	}
}

static void test_zones_every_hart(struct ktest *t)
{
	unsigned long before, reads = 0, bad_reads = 0, dirty = 0, served = 0, bad = 0;
	unsigned long dma = 0, big = 0;
	struct lockdep_stats l0, l1;
	unsigned posted = 0;

	if (nharts < 2) {
		KT_SKIP(t, "one hart");
		return;
	}
	kmalloc_shrink();
	before = buddy_free_pages();
	lockdep_get_stats(&l0);
	if (!l0.on)
		lockdep_set(true);
	zone_churns_done = 0;
	zone_reads = 0;
	for (unsigned i = 1; i < nharts; i++) {
		page_churns[i] = (struct page_churn){ .rng = 0x20e1ull * (i + 3) };
		posted += smp_post(i, zone_churn, &page_churns[i]) == 0;
	}
	zone_reader(posted, &reads, &bad_reads, &dirty);
	for (unsigned i = 1; i < nharts; i++)
		KT_EXPECT(t, smp_wait(i, 60000) == 0);
	for (unsigned i = 0; i < SWAP_SLOTS; i++) {
		if (pswap[i]) {
			bad += !pattern_intact(page_address(pswap[i]), 64, pswap_order[i] + 1);
			bad += free_pages(pswap[i], pswap_order[i]) != 0;
		}
		pswap[i] = NULL;
	}
	lockdep_get_stats(&l1);
	if (!l0.on)
		lockdep_set(false);
	for (unsigned i = 1; i < nharts; i++) {
		bad += page_churns[i].bad;
		served += page_churns[i].served;
		dma += page_churns[i].dma;
		big += page_churns[i].big;
	}
	kprintf("    # %lu blocks taken by %u other hart(s) (DMA %lu, above the page lists' orders %lu); "
		"%lu reads and checks on hart 0; lockdep: %u classes, %u orders, %lu inversions\n",
		served, nharts - 1, dma, big, reads, l1.classes, l1.edges, l1.inversions);
	KT_EXPECT(t, posted == nharts - 1 && bad == 0);
	KT_EXPECT(t, served > (nharts - 1) * ZONE_OPS_PER_HART / 2 && dma > 0 && big > 0);
	KT_EXPECT(t, reads >= ZONE_READS_MIN && bad_reads == 0 && dirty == 0);
	KT_EXPECT(t, l1.classes >= 3 && l1.inversions == l0.inversions &&
		     l1.unheld_releases == l0.unheld_releases && l1.out_of_order == l0.out_of_order);
	KT_EXPECT(t, mm_check() == 0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
}

/* ---- the block cache shrunk by other harts' reclaim --------------------- */

#define BC_READS 300

static struct bc_reads {
	struct blkdev *d;
	struct bcache *bc;
	char *io;                /* two pages: the cached copy, the device's */
	unsigned long bad;
} bc_reads;

/* Hart 0's part: read blocks through the cache and straight from the
 * device, and compare. */
static void bcache_read_part(void)
{
	struct blkdev *d = bc_reads.d;

	for (unsigned i = 0; i < BC_READS; i++) {
		uint64_t blk = (i * 7919u) % (d->capacity < 4096 ? d->capacity : 4096);
		char *a = bc_reads.io, *b = a + PAGE_SIZE;

		if (bcache_read(bc_reads.bc, blk, 0, d->sector_size, a) == 0 &&
		    bcache_read_direct(bc_reads.bc, blk, 1, b) == 0)
			bc_reads.bad += memcmp(a, b, d->sector_size) != 0;
	}
}

/* Hart 0 reads blocks through a cache of its own, each compared with the
 * device, while every other hart allocates in little memory: their reclaim
 * shrinks the cache under hart 0's feet (its lists under its own lock). */
static void test_bcache_shrunk_by_others(struct ktest *t)
{
	struct blkdev *d = disk_dev();
	struct bcache_stats st;
	struct ktest_hold *held;
	struct page *io;
	struct bcache *bc;
	unsigned long before;

	if (!d || nharts < 2 || d->capacity < 64) {
		KT_SKIP(t, !d ? "no disk" : nharts < 2 ? "one hart" : "disk too small");
		return;
	}
	kmalloc_shrink();
	before = buddy_free_pages();
	io = alloc_pages(0, 1);
	KT_EXPECT(t, io && bcache_create(d, d->sector_size, 3, &bc) == 0);
	if (!io)
		return;
	for (unsigned i = 0; i < 128; i++)   /* something for the others to shrink */
		bcache_read(bc, i % d->capacity, 0, 1, page_address(io));
	held = ktest_hold(64);   /* the others' blocks then need reclaim */
	bc_reads = (struct bc_reads){ .d = d, .bc = bc, .io = page_address(io) };
	KT_EXPECT(t, churn_together(0, bcache_read_part, NULL) == 0);
	KT_EXPECT(t, bc_reads.bad == 0);
	KT_EXPECT(t, swap_drain() == 0);   /* the others' blocks intact */
	bcache_get_stats(bc, &st);
	KT_EXPECT(t, st.hits + st.misses == BC_READS + 128 && st.held == 0);
	KT_EXPECT(t, st.shrinker_calls > 0);   /* the others' reclaim reached it */
	KT_EXPECT(t, bcache_check(bc) == 0);
	bcache_destroy(bc);
	ktest_unhold(held);
	free_pages(io, 1);
	KT_EXPECT(t, mm_check() == 0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
}

/* ---- harts missing on one block at once ---------------------------------- */

#define RACE_BLOCKS 16   /* 512-byte blocks of an order-1 block of memory */

static struct {
	unsigned n;                  /* harts taking part */
	uint8_t *mem;
	struct bcache *bc;
	unsigned long device_in;     /* reads begun */
	unsigned long rounds_in;     /* parts at a round's start or end */
	unsigned long timeouts;
	struct bcache_buf *got[HART_MAX][RACE_BLOCKS];
	unsigned long bad[HART_MAX];
} race;

/* Count this hart in and wait (up to 1 s) until the count reaches the
 * next multiple of race.n: every part gathered. */
static void race_gather(unsigned long *count)
{
	unsigned long me = __atomic_add_fetch(count, 1, __ATOMIC_ACQ_REL);
	unsigned long goal = (me + race.n - 1) / race.n * race.n;
	uint64_t until = rdtime() + platform.timebase_hz;

	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < goal)
		if (rdtime() >= until) {
			__atomic_fetch_add(&race.timeouts, 1, __ATOMIC_RELAXED);
			return;
		}
}

/* A memory device whose reads wait for each other: every hart that
 * missed on a block is inside it at once, the cache's lock dropped. */
static int race_dev_read(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf)
{
	race_gather(&race.device_in);
	memcpy(buf, race.mem + lba * dev->sector_size, (size_t)count * dev->sector_size);
	return 0;
}

static void race_part(void *arg)
{
	unsigned h = (unsigned)(uintptr_t)arg;

	for (unsigned k = 0; k < RACE_BLOCKS; k++) {
		struct bcache_buf *b;

		race_gather(&race.rounds_in);
		if (bcache_get(race.bc, k, &b) != 0) {
			race.bad[h]++;
			continue;
		}
		race.got[h][k] = b;
		race.bad[h] += !pattern_intact(bcache_data(b), 512, k);
		race_gather(&race.rounds_in);   /* all hold it: the same buffer */
		bcache_put(race.bc, b);
	}
}

/* Every hart gets each block at the same moment, so every one misses and
 * reads it with the cache's lock dropped: the block ends up cached once,
 * every hart holding that one buffer, the later copies dropped. */
static void test_bcache_miss_together(struct ktest *t)
{
	struct blkdev dev = { "race", 512, RACE_BLOCKS, race_dev_read, NULL };
	unsigned idx[HART_MAX], n = smp_online(idx), shared = 0;
	struct bcache_stats st;
	struct page *mem;
	unsigned long before, bad = 0;
	void *args[HART_MAX];

	kmalloc_shrink();
	before = buddy_free_pages();
	mem = alloc_pages(0, 1);
	KT_EXPECT(t, mem != NULL);
	if (!mem)
		return;
	memset(&race, 0, sizeof(race));
	race.n = n;
	race.mem = page_address(mem);
	for (unsigned k = 0; k < RACE_BLOCKS; k++)
		pattern_fill(race.mem + k * 512, 512, k);
	KT_EXPECT(t, bcache_create(&dev, 512, 2, &race.bc) == 0);
	for (unsigned i = 0; i < n; i++)
		args[i] = (void *)(uintptr_t)i;
	KT_EXPECT(t, smp_run_together(n, race_part, args) == 0);
	for (unsigned k = 0; k < RACE_BLOCKS; k++) {
		unsigned same = race.got[0][k] != NULL;

		for (unsigned i = 1; i < n; i++)
			same &= race.got[i][k] == race.got[0][k];
		shared += same;
	}
	for (unsigned i = 0; i < n; i++)
		bad += race.bad[i];
	bcache_get_stats(race.bc, &st);
	KT_EXPECT(t, bad == 0 && race.timeouts == 0 && shared == RACE_BLOCKS);
	KT_EXPECT(t, st.misses == n * RACE_BLOCKS && st.reads == st.misses);
	KT_EXPECT(t, st.read_races == (n - 1) * RACE_BLOCKS && st.held == 0);
	KT_EXPECT(t, bcache_check(race.bc) == 0);
	bcache_destroy(race.bc);
	free_pages(mem, 1);
	KT_EXPECT(t, mm_check() == 0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
	if (n < 2)
		KT_SKIP(t, "one hart: no other reader");
}

/* ---- per-hart magazines -------------------------------------------------- */

static void free_here(void *p)
{
	kfree(p);
}

/* An object freed on hart 1 waits in hart 1's magazine; freed again on
 * hart 0 or hart 1 it is a double free on both: refused, reported, the
 * object cached once. Then every hart's magazines come back with
 * kmalloc_shrink, and statistics count the object once. */
static void test_double_free_across_harts(struct ktest *t)
{
	struct kmem_cache *c = kmalloc_cache(3);   /* kmalloc-64 */
	struct kmem_cache_stats s0, s1;
	unsigned long before;
	void *p;

	if (nharts < 2) {
		KT_SKIP(t, "one hart");
		return;
	}
	kmalloc_shrink();
	before = buddy_free_pages();
	p = kmalloc(64, 0);
	KT_EXPECT(t, p && smp_call(1, free_here, p) == 0);
	KT_EXPECT(t, kmem_cache_get_stats(c, &s0) == 0 && ksize(p) == 0);
	ktest_provoke(t);
	kfree(p);
	KT_EXPECT(t, smp_call(1, free_here, p) == 0);
	KT_EXPECT(t, ktest_provoked(t) == 2);
	KT_EXPECT(t, kmem_cache_get_stats(c, &s1) == 0);
	KT_EXPECT(t, s1.wrong_frees == s0.wrong_frees + 2 && s1.cached == s0.cached &&
		     s1.frees == s0.frees && s1.active_objs == s0.active_objs);
	KT_EXPECT(t, mm_check() == 0);
	kmalloc_shrink();
	KT_EXPECT(t, kmem_cache_get_stats(c, &s1) == 0 && s1.cached == 0);
	KT_EXPECT(t, buddy_free_pages() == before);
}

/* ---- the gates under the fast paths ------------------------------------- */

#define GATE_OPS  3000
#define GATE_RING 8

struct gate_churn {
	uint64_t rng;
	unsigned long allocs, frees, bad;
	uint64_t bytes;
};

static struct gate_churn gate_churns[HART_MAX];
static volatile unsigned gate_done;
static unsigned gate_others;   /* harts churning */
static unsigned long gate_stops;

/* kmalloc / kfree on the fast paths (sizes 1..256, a ring of 8 live),
 * counting what was asked and served. */
static void gate_churn(void *arg)
{
	struct gate_churn *c = arg;
	void *ring[GATE_RING] = { 0 };
	size_t sizes[GATE_RING] = { 0 };

	for (unsigned i = 0; i < GATE_OPS + GATE_RING; i++) {
		unsigned k = i % GATE_RING;

		if (ring[k]) {
			c->bad += !pattern_intact(ring[k], sizes[k], (unsigned)sizes[k]);
			kfree(ring[k]);
			c->frees++;
			ring[k] = NULL;
		}
		if (i >= GATE_OPS)
			continue;
		sizes[k] = 1 + xorshift64(&c->rng) % 256;
		ring[k] = kmalloc(sizes[k], 0);
		if (ring[k]) {
			pattern_fill(ring[k], sizes[k], (unsigned)sizes[k]);
			c->allocs++;
			c->bytes += sizes[k];
		}
	}
	__atomic_fetch_add(&gate_done, 1, __ATOMIC_RELEASE);
}

/* Hart 0's part: until the others are done, fold the counts (every gate
 * stopped) and turn poisoning on and off (the gates closed, the
 * magazines drained, the gates opened again). */
static void gate_figures(uint64_t f[4]);

static void gate_stopper(void)
{
	uint64_t f[4];

	while (__atomic_load_n(&gate_done, __ATOMIC_ACQUIRE) < gate_others) {
		gate_figures(f);
		mm_debug_set(MM_DEBUG_POISON, gate_stops % 2 == 0);
		gate_stops++;
	}
	mm_debug_set(MM_DEBUG_POISON, false);
}

/* smp_run_together's part: hart 0 stops, the others churn. */
static void gate_part(void *arg)
{
	if (arg == &gate_others)
		gate_stopper();
	else
		gate_churn(arg);
}

/* kmalloc's figures (every gate stopped to fold the harts' counts):
 * allocations, frees and bytes asked in the current mode, bytes in use. */
static void gate_figures(uint64_t f[4])
{
	static struct mm_stats st;

	mm_stats_get(&st);
	f[0] = st.allocs;
	f[1] = st.frees;
	f[2] = st.km.mode[st.mode].bytes_requested;
	f[3] = kmalloc_bytes_in_use();
}

/* Harts 1.. allocate and free through their magazines while hart 0 stops
 * every gate again and again (folding the counts) and closes and opens
 * them (poisoning on and off: the magazines drained, the fast paths shut,
 * then open again). Every allocation, free and requested byte is counted
 * exactly once, no object is handed out twice (patterns intact), and the
 * fast paths served again once the gates opened. */
static void test_gates_under_fast_paths(struct ktest *t)
{
	uint64_t f0[4], f1[4];
	unsigned long freed0, allocs = 0, frees = 0, bad = 0;
	uint64_t bytes = 0;
	void *parts[HART_MAX] = { &gate_others };

	unsigned n = smp_online(NULL);

	if (n < 2) {
		KT_SKIP(t, "one hart");
		return;
	}
	kmalloc_shrink();
	freed0 = buddy_free_pages();
	gate_figures(f0);
	gate_done = 0;
	gate_stops = 0;
	gate_others = n - 1;
	for (unsigned i = 1; i < n; i++) {
		gate_churns[i] = (struct gate_churn){ .rng = 0x9a7eull * (i + 5) };
		parts[i] = &gate_churns[i];
	}
	KT_EXPECT(t, smp_run_together(n, gate_part, parts) == 0);
	for (unsigned i = 1; i < n; i++) {
		allocs += gate_churns[i].allocs;
		frees += gate_churns[i].frees;
		bytes += gate_churns[i].bytes;
		bad += gate_churns[i].bad;
	}
	gate_figures(f1);
	KT_EXPECT(t, bad == 0);
	KT_EXPECT(t, allocs == (unsigned long)GATE_OPS * gate_others && frees == allocs);
	KT_EXPECT(t, f1[0] - f0[0] == allocs);
	KT_EXPECT(t, f1[1] - f0[1] == frees);
	KT_EXPECT(t, f1[2] - f0[2] == bytes);
	KT_EXPECT(t, f1[3] == f0[3]);
	KT_EXPECT(t, gate_stops > 0);
	KT_EXPECT(t, mm_check() == 0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == freed0);
}

static const struct ktest_case smp_cases[] = {
	{ "all_harts_online", test_online },
	{ "call_runs_on_each_hart", test_call_each },
	{ "call_refusals", test_call_refused },
	{ "every_hart_ticks", test_ticks },
	{ "run_together_on_every_hart", test_run_together },
	{ "lock_exact_under_contention", test_lock_hammer },
	{ "unfair_lock_exact_under_contention", test_unfair_lock_hammer },
	{ "mm_every_hart_cross_frees", test_mm_every_hart },
	{ "mode_switch_while_allocating", test_mode_switch },
	{ "txn_abort_every_hart", test_txn_every_hart },
	{ "page_lists_every_hart", test_pages_every_hart },
	{ "zone_locks_every_hart", test_zones_every_hart },
	{ "bcache_shrunk_by_other_harts", test_bcache_shrunk_by_others },
	{ "bcache_miss_together", test_bcache_miss_together },
	{ "double_free_across_harts", test_double_free_across_harts },
	{ "gates_stop_and_close_under_fast_paths", test_gates_under_fast_paths },
};
KTEST_SUITE(smp_suite, "smp", smp_cases);
