/* test_pcp.c - the per-CPU page lists in front of the buddy allocator
 * (mm/buddy.h, "Per-CPU page lists"; src/mm/buddy_pcp.c).
 *
 * On a 96 MiB arena (DMA 16 MiB, Normal 80 MiB: batches of 4 and 16
 * pages): an empty list takes a batch from its zone, frees and allocations
 * then stay on the CPU's list (newest first), a list above its high mark
 * gives its oldest batch back, every free refuses a block on a list, the
 * lists' keeper gives every CPU's blocks back when memory runs out (a
 * thread that exited included) and on kmalloc_shrink(), the zones are
 * served in the zone path's order, a transaction and fault injection
 * bypass the lists, the figures count what the lists hold exactly, and
 * buddy_check finds a page list that was tampered with, and a count on a
 * list never set up (its head still zero, as the reset leaves it). Host
 * threads play the CPUs. GFP_USER through the lists (a refill stops at the
 * zone's high watermark) is test_buddy's test_user_watermark(USER_VIA_LISTS). */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/shrinker.h"
#include "mm/txn.h"
#include "../../src/host/mm_host.h"
#include "../../src/mm/mm_internal.h"   /* the lists themselves, for the corruption cases */

#define ARENA (96u << 20)
#define MAXV  40000

static unsigned char *arena;
static struct page *v[MAXV];

static void before(void)
{
	mm_host_quiet = 0;
	if (mm_host_init(arena, ARENA) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
}

/* ---- helpers ----------------------------------------------------------------- */

static struct buddy_pcp_stats cpu_lists(unsigned cpu)
{
	struct buddy_pcp_stats s;

	buddy_pcp_get(cpu, &s);
	return s;
}

static struct buddy_pcp_stats my_lists(void)
{
	return cpu_lists(mm_cpu());
}

static const struct zone *normal(void)
{
	return zone_get(ZONE_NORMAL);
}

static unsigned long zone_free(void)
{
	unsigned long n = 0;

	for (int z = 0; z < NR_ZONES; z++)
		n += zone_get(z)->free_pages;
	return n;
}

/* Zones' free lists by order: what an abort must bring back. */
struct snap {
	unsigned long nr_free[NR_ZONES][MAX_ORDER + 1];
};

static struct snap snap(void)
{
	struct snap s;

	for (int z = 0; z < NR_ZONES; z++)
		for (int o = 0; o <= MAX_ORDER; o++)
			s.nr_free[z][o] = zone_get(z)->area[o].nr_free;
	return s;
}

static bool snap_eq(struct snap a, struct snap b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* ---- sizes ------------------------------------------------------------------- */

/* present / 1024 rounded down to a power of two, 1 .. 16 */
static unsigned long want_batch(unsigned long present)
{
	unsigned long b = 1;

	while (b < 16 && b * 2 * 1024 <= present)
		b *= 2;
	return b;
}

static void test_batch_values(void)
{
	const struct zone *dma = zone_get(ZONE_DMA), *nor = normal();

	tap_ok(nor->pcp_batch == 16 && nor->present_pages >= 16384,
	       "Normal (%lu pages): a batch of 16 pages", nor->present_pages);
	tap_ok(dma->pcp_batch == want_batch(dma->present_pages) && dma->pcp_batch == 4,
	       "DMA (%lu pages): a batch of %lu pages, a thousandth of the zone",
	       dma->present_pages, dma->pcp_batch);
	tap_ok(buddy_pcp_batch(nor, 0) == 16 && buddy_pcp_batch(nor, 1) == 8 &&
	       buddy_pcp_batch(nor, 3) == 2 && buddy_pcp_batch(dma, 3) == 1 &&
	       buddy_pcp_high(nor, 0) == BUDDY_PCP_HIGH * 16 && buddy_pcp_high(dma, 3) == BUDDY_PCP_HIGH,
	       "per order: batch >> order blocks (at least 1), high %d batches", BUDDY_PCP_HIGH);
}

/* ---- refill, reuse, trim ----------------------------------------------------- */

static void test_refill_takes_a_batch(void)
{
	unsigned long free0 = buddy_free_pages(), zfree0 = normal()->free_pages;
	struct buddy_pcp_stats s;
	struct page *pg;
	bool ok = true;

	for (unsigned o = 0; o <= BUDDY_PCP_ORDER; o++) {
		unsigned long b = buddy_pcp_batch(normal(), o), zf = normal()->free_pages;

		pg = alloc_pages(0, o);
		s = my_lists();
		ok &= pg && pg->zone == ZONE_NORMAL && pg->order == o && pg->flags == PG_HEAD &&
		      pg->owner == PAGE_OWNER_PAGES && s.blocks[ZONE_NORMAL][o] == b - 1 &&
		      normal()->free_pages == zf - (b << o);
		v[o] = pg;
	}
	s = my_lists();
	tap_ok(ok && s.refills == 4 && s.allocs == 4,
	       "each order's first request takes a batch from the zone (16, 8, 4, 2 blocks), "
	       "hands out one, keeps the rest");
	tap_ok(buddy_free_pages() == free0 - 15 && zone_free() + s.total_pages == free0 - 15 &&
	       normal()->free_pages == zfree0 - 64,
	       "free pages count what the lists hold; the zone's free lists do not");
	for (unsigned o = 0; o <= BUDDY_PCP_ORDER; o++)
		free_pages(v[o], o);
	s = my_lists();
	tap_ok(buddy_free_pages() == free0 && s.frees == 4 && s.total_pages == 64 &&
	       normal()->free_pages == zfree0 - 64 && buddy_check() == 0,
	       "freed onto the lists: all free again, 64 pages on the lists, check clean");
}

static void test_newest_first(void)
{
	struct page *a = alloc_pages(0, 0), *b, *c;
	unsigned long zf, refills;

	zf = normal()->free_pages;
	refills = my_lists().refills;
	free_pages(a, 0);
	b = alloc_pages(0, 0);
	tap_ok(b == a && normal()->free_pages == zf && my_lists().refills == refills,
	       "a freed page is the next one handed out; the zone is not touched");
	memset(page_address(b), 0x5a, PAGE_SIZE);
	free_pages(b, 0);
	c = alloc_pages(GFP_ZERO, 0);
	tap_ok(c == b && ((unsigned char *)page_address(c))[PAGE_SIZE - 1] == 0 &&
	       ((unsigned char *)page_address(c))[0] == 0, "GFP_ZERO zeroes a block from a list");
	free_pages(c, 0);
	tap_ok(buddy_check() == 0, "check clean");
}

static void test_high_gives_a_batch_back(void)
{
	unsigned long b = buddy_pcp_batch(normal(), 0), high = buddy_pcp_high(normal(), 0);
	unsigned long n = high + 3 * b, model = 0, trims = 0, worst = 0, free0;
	bool ok = true;

	kmalloc_shrink();
	free0 = buddy_free_pages();
	for (unsigned long i = 0; i < n; i++)
		v[i] = alloc_pages(0, 0);
	model = my_lists().blocks[ZONE_NORMAL][0];
	for (unsigned long i = 0; i < n; i++) {
		struct buddy_pcp_stats s;

		free_pages(v[i], 0);
		if (++model > high) {   /* the oldest batch goes back */
			model -= b;
			trims++;
		}
		s = my_lists();
		ok &= s.blocks[ZONE_NORMAL][0] == model;
		worst = s.blocks[ZONE_NORMAL][0] > worst ? s.blocks[ZONE_NORMAL][0] : worst;
	}
	tap_ok(ok && worst == high && my_lists().trims == trims && trims > 0,
	       "%lu frees: the list never holds more than high (%lu), gave back %lu batches of %lu",
	       n, high, trims, b);
	tap_ok(buddy_free_pages() == free0 && buddy_check() == 0, "everything free, check clean");
}

/* ---- frees refused ----------------------------------------------------------- */

static void test_listed_block_refused(void)
{
	struct page *a = alloc_pages(0, 1), *b = alloc_pages(0, 0);
	struct buddy_stats s0, s1;
	unsigned long r0, free0;

	free_pages(a, 1);
	free_pages(b, 0);
	tap_ok(a->flags == PG_PCP && b->flags == PG_PCP, "blocks on a list are PG_PCP");
	buddy_get_stats(&s0);
	free0 = buddy_free_pages();
	r0 = mm_host_reports;
	mm_host_quiet = 1;
	tap_ok(free_pages(b, 0) == -EINVAL && strstr(mm_host_last_report, "already free"),
	       "a second free_pages of a listed page: already free");
	tap_ok(free_pages_addr(page_address(b), 0) == -EINVAL, "... by address too");
	tap_ok(free_pages(a + 1, 0) == -EINVAL && strstr(mm_host_last_report, "inside a free block"),
	       "a frame inside a listed block: inside a free block");
	tap_ok(free_pages(a, 0) == -EINVAL, "a listed block with another order");
	tap_ok(free_pages_owned(b, 0, PAGE_OWNER_SLAB) == -EINVAL, "free_pages_owned of a listed page");
	kfree(page_address(b));
	mm_host_quiet = 0;
	buddy_get_stats(&s1);
	tap_ok(s1.wrong_frees == s0.wrong_frees + 5 && mm_host_reports == r0 + 6 &&
	       s1.frees == s0.frees && buddy_free_pages() == free0 && buddy_check() == 0,
	       "each refused and reported once, nothing changed");
	tap_ok(alloc_pages(0, 0) == b && alloc_pages(0, 1) == a, "the listed blocks serve again");
}

/* ---- the keeper ---------------------------------------------------------------- */

struct fill {
	unsigned cpu;
	unsigned long pages;
};

/* On a thread of its own (another CPU): take and free blocks of every
 * list order, so they stay on its lists after it exits. */
static void *fill_lists(void *arg)
{
	struct fill *f = arg;
	struct page *p[64];

	f->cpu = mm_cpu();
	for (unsigned o = 0; o <= BUDDY_PCP_ORDER; o++) {
		for (unsigned i = 0; i < 24; i++)
			p[i] = alloc_pages(0, o);
		for (unsigned i = 0; i < 24; i++)
			free_pages(p[i], o);
	}
	f->pages = cpu_lists(f->cpu).total_pages;
	return NULL;
}

/* Order-0 pages until refused; everything given back. */
static unsigned long capacity(unsigned order)
{
	unsigned long n = 0;

	while (n < MAXV && (v[n] = alloc_pages(0, order)) != NULL)
		n++;
	for (unsigned long i = 0; i < n; i++)
		free_pages(v[i], order);
	return n;
}

static void test_keeper_gives_every_cpu_back(void)
{
	struct fill f = { 0 };
	pthread_t th;
	unsigned long fresh0, fresh10, got0, got10;

	fresh10 = capacity(MAX_ORDER);
	kmalloc_shrink();
	fresh0 = capacity(0);
	kmalloc_shrink();
	pthread_create(&th, NULL, fill_lists, &f);
	pthread_join(th, NULL);
	tap_ok(f.cpu != mm_cpu() && f.pages > 0 && cpu_lists(f.cpu).total_pages == f.pages,
	       "another thread (cpu %u) left %lu pages on its lists and exited", f.cpu, f.pages);
	got10 = capacity(MAX_ORDER);
	tap_ok(got10 == fresh10 && cpu_lists(f.cpu).total_pages == 0,
	       "order-10 blocks until refused: %lu, as a fresh system (%lu): the keeper "
	       "gave the other CPU's pages back", got10, fresh10);
	pthread_create(&th, NULL, fill_lists, &f);
	pthread_join(th, NULL);
	got0 = capacity(0);
	tap_ok(got0 == fresh0, "order-0 pages until refused: %lu, as a fresh system (%lu)",
	       got0, fresh0);
	tap_ok(kmalloc_shrink() >= my_lists().total_pages * PAGE_SIZE &&
	       cpu_lists(BUDDY_PCP_ALL).total_pages == 0 && buddy_check() == 0,
	       "kmalloc_shrink empties every list");
	tap_ok(buddy_pcp_drain_all() == 0 && mm_drain_keepers() == 0, "nothing left to give");
}

/* A thread's pages freed by another land on the freer's list. */
static void *free_them(void *arg)
{
	unsigned *cpu = arg;

	*cpu = mm_cpu();
	for (unsigned i = 0; i < 10; i++)
		free_pages(v[i], 0);
	return NULL;
}

static void test_cross_cpu_free(void)
{
	struct buddy_pcp_stats me0, me1, other;
	struct buddy_stats bs;
	unsigned cpu;
	pthread_t th;

	me0 = my_lists();
	for (unsigned i = 0; i < 10; i++)
		v[i] = alloc_pages(0, 0);
	pthread_create(&th, NULL, free_them, &cpu);
	pthread_join(th, NULL);
	me1 = my_lists();
	other = cpu_lists(cpu);
	buddy_get_stats(&bs);
	tap_ok(me1.allocs == me0.allocs + 10 && me1.frees == me0.frees && other.frees == 10 &&
	       other.blocks[ZONE_NORMAL][0] == 10 && bs.pages_in_use == 0,
	       "10 pages taken here, freed by cpu %u: on its list, none in use", cpu);
	tap_ok(buddy_check() == 0, "check clean");
}

/* ---- zones ------------------------------------------------------------------------ */

static void test_zone_order(void)
{
	unsigned long n = 0, left;
	struct page *pg, *d;
	bool seq = true;

	pg = alloc_pages(GFP_DMA, 0);
	d = alloc_pages(GFP_DMA32, 2);
	tap_ok(pg && pg->zone == ZONE_DMA && my_lists().blocks[ZONE_DMA][0] == 3 &&
	       d && d->zone == ZONE_NORMAL, "GFP_DMA from DMA's list, GFP_DMA32 from Normal's");
	free_pages(pg, 0);
	free_pages(d, 2);
	kmalloc_shrink();   /* blocks on other orders' lists would come back last */
	while (n < MAXV && (v[n] = alloc_pages(0, 0)) != NULL) {
		seq &= v[n]->zone == (n < normal()->present_pages - normal()->wmark_min ?
				      ZONE_NORMAL : ZONE_DMA);
		n++;
	}
	left = zone_get(ZONE_DMA)->free_pages + normal()->free_pages;
	tap_ok(seq && normal()->free_pages == normal()->wmark_min &&
	       zone_get(ZONE_DMA)->free_pages == zone_get(ZONE_DMA)->wmark_min &&
	       cpu_lists(BUDDY_PCP_ALL).total_pages == 0,
	       "ordinary pages: Normal down to its min, then DMA down to its min (%lu left), "
	       "the lists empty", left);
	pg = alloc_pages(GFP_RESERVE, 0);
	tap_ok(pg && pg->zone == ZONE_NORMAL, "GFP_RESERVE still gets one below min");
	free_pages(pg, 0);
	while (n)
		free_pages(v[--n], 0);
	tap_ok(buddy_check() == 0, "all back, check clean");
}

static void test_orders_above_3_use_the_zones(void)
{
	struct buddy_pcp_stats s0 = my_lists();
	struct page *pg = alloc_pages(0, BUDDY_PCP_ORDER + 1);

	free_pages(pg, BUDDY_PCP_ORDER + 1);
	tap_ok(pg && my_lists().allocs == s0.allocs && my_lists().frees == s0.frees &&
	       my_lists().total_pages == 0, "order 4: zones only");
}

/* ---- bypass: transactions, fault injection ------------------------------------- */

static void test_txn_bypasses_the_lists(void)
{
	struct mm_txn t;
	struct page *pg;
	struct snap z0;
	struct buddy_pcp_stats s0;
	bool ok = true;

	for (unsigned i = 0; i < 20; i++)   /* blocks on the lists before begin */
		v[i] = alloc_pages(0, i % 4);
	for (unsigned i = 0; i < 20; i++)
		free_pages(v[i], i % 4);
	z0 = snap();
	s0 = my_lists();
	mm_txn_begin(&t);
	for (unsigned i = 0; i < 40; i++)
		ok &= mm_txn_alloc_pages(&t, i % 4, 0, &pg) == 0;
	pg = alloc_pages(0, 0);   /* outside the log, same CPU: the zones too */
	free_pages(pg, 0);
	tap_ok(ok && my_lists().allocs == s0.allocs && my_lists().frees == s0.frees,
	       "inside a transaction the CPU's lists are bypassed");
	mm_txn_abort(&t);
	tap_ok(snap_eq(snap(), z0) && my_lists().total_pages == s0.total_pages,
	       "abort: the zones' free lists exactly as at begin, the lists as they were");
	pg = alloc_pages(0, 0);
	tap_ok(my_lists().allocs == s0.allocs + 1, "closed: the lists serve again");
	free_pages(pg, 0);
	buddy_pcp_bypass(true);
	pg = alloc_pages(0, 0);
	free_pages(pg, 0);
	tap_ok(my_lists().allocs == s0.allocs + 1 && my_lists().frees == s0.frees + 1,
	       "buddy_pcp_bypass(true): zones only");
	buddy_pcp_bypass(false);
}

static void test_faultinj_bypasses_the_lists(void)
{
	struct faultinj_config fi = { .probability = 100, .interval = 3, .times = -1,
				      .scope = FI_PAGE, .seed = 9 };
	struct buddy_pcp_stats s0;
	struct faultinj_stats fs;
	unsigned long got = 0;

	free_pages(alloc_pages(0, 0), 0);
	s0 = my_lists();
	faultinj_set(&fi);
	for (unsigned i = 0; i < 9; i++)
		if ((v[i] = alloc_pages(0, 0)) != NULL)
			got++;
	faultinj_off();
	faultinj_get(NULL, &fs);
	tap_ok(got == 6 && fs.injected[0] == 3 && my_lists().allocs == s0.allocs,
	       "fault injection on: every page request is the injector's to see (3 of 9 failed)");
	for (unsigned i = 0; i < 9; i++)
		if (v[i])
			free_pages(v[i], 0);
	tap_ok(buddy_check() == 0, "check clean");
}

/* ---- figures ------------------------------------------------------------------- */

static void test_counts(void)
{
	struct buddy_stats b0, b1;
	struct buddy_pcp_stats s;
	unsigned long pages = 64;
	struct page *big;

	buddy_get_stats(&b0);
	for (unsigned i = 0; i < 30; i++) {
		v[i] = alloc_pages(0, i % 4);
		pages += 1ul << (i % 4);
	}
	big = alloc_pages(0, 6);
	buddy_get_stats(&b1);
	tap_ok(b1.requests == b0.requests + 31 && b1.successes == b0.successes + 31 &&
	       b1.pages_in_use == b0.pages_in_use + pages && b1.peak_pages_in_use >= b1.pages_in_use,
	       "requests, successes, pages in use count the lists' blocks (%lu in use)",
	       b1.pages_in_use);
	for (unsigned i = 0; i < 30; i++)
		free_pages(v[i], i % 4);
	free_pages(big, 6);
	buddy_get_stats(&b1);
	s = my_lists();
	tap_ok(b1.frees == b0.frees + 31 && b1.pages_in_use == b0.pages_in_use &&
	       s.allocs >= 30 && s.frees >= 30, "frees too; nothing in use again");
	tap_ok(b1.peak_pages_in_use >= b0.pages_in_use + 64, "the peak saw them (%lu)",
	       b1.peak_pages_in_use);
	tap_ok(buddy_pcp_get(MM_MAX_CPUS, &s) == -EINVAL && buddy_pcp_get(0, NULL) == -EINVAL,
	       "buddy_pcp_get: -EINVAL for no such CPU or NULL");
}

/* ---- the integrity check ------------------------------------------------------- */

static void test_check_finds_tampering(void)
{
	struct buddy_pcp_list *l;
	struct page *pg, *held;
	unsigned cpu = mm_cpu();

	for (unsigned i = 0; i < 4; i++)
		v[i] = alloc_pages(0, 0);
	held = alloc_pages(0, 0);
	for (unsigned i = 0; i < 4; i++)
		free_pages(v[i], 0);
	l = &buddy_pcp[cpu].list[ZONE_NORMAL][0];
	pg = list_first_entry(&l->blocks, struct page, lru);
	tap_ok(buddy_check() == 0, "clean with blocks on a list");
	mm_host_quiet = 1;
	pg->flags = PG_BUDDY;
	tap_ok(buddy_check() > 0, "a listed block that is not PG_PCP");
	pg->flags = PG_PCP;
	pg->order = 1;
	tap_ok(buddy_check() > 0, "a listed block of another order than its list's");
	pg->order = 0;
	l->count++;
	tap_ok(buddy_check() > 0 && strstr(mm_host_last_report, "page list"),
	       "a list's count one too many");
	l->count--;
	held->flags = PG_PCP;
	held->owner = PAGE_OWNER_FREE;
	tap_ok(buddy_check() > 0, "a PG_PCP head on no list");
	held->flags = PG_HEAD;
	held->owner = PAGE_OWNER_PAGES;
	pg->owner = PAGE_OWNER_SLAB;
	tap_ok(buddy_check() > 0, "a listed block with an owner");
	pg->owner = PAGE_OWNER_FREE;
	mm_host_quiet = 0;
	tap_ok(buddy_check() == 0 && free_pages(held, 0) == 0 && buddy_check() == 0,
	       "all restored: clean");
}

/* A list no block was ever put on has a zero head (the reset writes none:
 * buddy_pcp.c, pcp_list_ready): empty to every reader, and a count on it
 * is a violation. */
static void test_unused_list(void)
{
	struct buddy_pcp_list *l = &buddy_pcp[MM_MAX_CPUS - 1].list[ZONE_DMA][BUDDY_PCP_ORDER];
	struct buddy_pcp_stats st;

	tap_ok(l->blocks.next == NULL && l->count == 0, "the last CPU's list: never set up");
	tap_ok(buddy_check() == 0 && buddy_pcp_get(MM_MAX_CPUS - 1, &st) == 0 &&
	       st.total_pages == 0, "clean, and empty in the figures");
	mm_host_quiet = 1;
	l->count = 1;
	tap_ok(buddy_check() > 0 && strstr(mm_host_last_report, "never set up"),
	       "a count on it: reported (%s)", mm_host_last_report);
	l->count = 0;
	mm_host_quiet = 0;
	tap_ok(buddy_check() == 0, "put right: clean");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_batch_values),
	TAP_CASE(test_refill_takes_a_batch),
	TAP_CASE(test_newest_first),
	TAP_CASE(test_high_gives_a_batch_back),
	TAP_CASE(test_listed_block_refused),
	TAP_CASE(test_keeper_gives_every_cpu_back),
	TAP_CASE(test_cross_cpu_free),
	TAP_CASE(test_zone_order),
	TAP_CASE(test_orders_above_3_use_the_zones),
	TAP_CASE(test_txn_bypasses_the_lists),
	TAP_CASE(test_faultinj_bypasses_the_lists),
	TAP_CASE(test_counts),
	TAP_CASE(test_check_finds_tampering),
	TAP_CASE(test_unused_list),
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
