/* buddy_pcp.c - per-CPU page lists in front of the buddy allocator
 * (mm/buddy.h, "Per-CPU page lists"; Linux's per-cpu pages in
 * mm/page_alloc.c: rmqueue_pcplist, free_unref_page, drain_all_pages).
 *
 * Not the zone allocator (buddy.c) and not a cache of anything but free
 * blocks: emptying the lists loses nothing.
 *
 * Layout: buddy_pcp[cpu].list[zone][order], orders 0..BUDDY_PCP_ORDER, each
 * a list of free blocks linked through their heads' lru, newest first,
 * with its count. A block on a list is a head with flags PG_PCP (nothing
 * else), its order, its zone, owner FREE; its other frames are clean, as
 * in any free block. It is on no zone free list and never merged: its
 * buddy stays split until the block goes back (buddy_merge only merges
 * PG_BUDDY heads).
 *
 * Who touches a CPU's lists (mm/mm_env.h's rule, the magazines' too):
 *   - the CPU itself inside its gate, without the mm lock: the fast paths,
 *     which pop a block from a list (alloc) or push one (free), and the
 *     slow paths, which refill an empty list with a batch from its zone or
 *     give a batch back from a list over its high mark, holding that
 *     zone's lock while they move blocks (Linux: pcp->lock, then
 *     zone->lock);
 *   - any CPU under the mm lock with every gate stopped: the keeper's
 *     drain (taking each zone's lock in turn), the figures, the integrity
 *     check;
 *   - the CPU itself under the mm lock, without its gate: its bypass count.
 * Lock order: mm lock -> CPU gates -> zone locks (buddy.c has the whole
 * order). Nothing
 * enters a gate with the mm lock held, so the zone allocator's callers
 * that hold it (slab, heap, kmalloc's large blocks, the keepers' frees)
 * never come here: buddy_try_alloc and free_pages_owned use the zones
 * only. A refusal is counted (buddy_fails) after the gate is left.
 *
 * A fast path changes a head's flags without the zone lock while a CPU
 * holding it may look at the same frame as the buddy of a block it
 * merges: those flags are stored with mm_store32 and loaded with relaxed
 * atomic loads. A free
 * claims its block by adding PG_PCP to flags that are exactly PG_HEAD in
 * one compare-and-swap (mm_cas32: an OR could land after the zone path
 * cleared the flags of a block it freed meanwhile; as the
 * magazines claim an object by its cached bit), so two frees of one block
 * racing on two CPUs cannot both put it on a list (unless it was handed
 * out again between the two: a use after free no allocator can tell from
 * a new life); the zone path's free of a block the lists could have taken
 * claims it the same way (buddy.c).
 *
 * Invariants (buddy_check verifies them): every block on a list is a
 * PG_PCP head of the list's zone and order, on exactly one list; every
 * PG_PCP head is on a list; each list's count is its length. Figures: the
 * counters of struct buddy_pcp_cpu, summed with the gates stopped
 * (buddy_pcp_fold). */
#include <string.h>
#include "mm/buddy.h"
#include "mm/mm_env.h"
#include "mm/shrinker.h"
#include "mm/slowpath.h"
#include "kerrno.h"
#include "mm_internal.h"
#include "reset_internal.h"

struct buddy_pcp_cpu buddy_pcp[MM_MAX_CPUS];

/* ---- tiny helpers ------------------------------------------------------- */

/* A counter of the CPU's own (read with the gates stopped). */
static inline void pcp_add(unsigned long *n, unsigned long v)
{
	mm_cpu_count(n, *n + v);
}

/* Whether the CPU's lists are off: bypassed (its transaction), or fault
 * injection on (mm_slow_paths is read inside the gate: whoever sets it
 * stops every gate after, slowpath.c). */
static inline bool pcp_off(const struct buddy_pcp_cpu *pc)
{
	return pc->bypass || (__atomic_load_n(&mm_slow_paths, __ATOMIC_RELAXED) & MM_SLOW_FAULTINJ);
}

/* The first zone gfp allows (ids descend: High, Normal, DMA), as the zone
 * path walks them. */
static inline int pcp_first_zone(gfp_t gfp)
{
	return (gfp & GFP_DMA) ? ZONE_DMA : (gfp & GFP_DMA32) ? ZONE_NORMAL : ZONE_HIGH;
}

/* The newest block of l, made an allocated head owned by alloc_pages()
 * (as buddy.c's buddy_prep_head, counted in the CPU's counters). */
static struct page *pcp_pop(struct buddy_pcp_cpu *pc, struct buddy_pcp_list *l,
			    unsigned order)
{
	struct page *pg = list_first_entry(&l->blocks, struct page, lru);

	list_del(&pg->lru);
	list_init(&pg->lru);
	mm_cpu_count(&l->count, l->count - 1);
	buddy_head_reset(pg);   /* its order is the list's */
	pcp_add(&pc->allocs, 1);
	pcp_add(&pc->pages_out, 1ul << order);
	return pg;
}

/* l before a block is put on it: a list whose count is 0 is empty, whatever
 * its head says -- a list no block was ever put on has a zero head (the
 * reset leaves 64 CPUs' lists untouched on the host, so not resident) --
 * and its head is set up here. */
static inline void pcp_list_ready(struct buddy_pcp_list *l)
{
	if (!l->count)
		list_init(&l->blocks);
}

/* A block off a list goes back to its zone (the zone's lock held). */
static void pcp_to_zone(struct page *pg, unsigned order)
{
	list_del(&pg->lru);
	mm_store32(&pg->flags, 0);
	buddy_merge(pg, order);
}

/* ---- allocation ------------------------------------------------------------ */

/* Inside the CPU's gate: a block from the list of the first zone gfp
 * allows that has frames, or NULL when that list is empty (the slow path
 * refills it, or goes on to the next zone, as the zone path would). */
static struct page *pcp_alloc_fast(struct buddy_pcp_cpu *pc, gfp_t gfp, unsigned order)
{
	for (int z = pcp_first_zone(gfp); z >= ZONE_DMA; z--) {
		struct buddy_pcp_list *l = &pc->list[z][order];

		if (!__atomic_load_n(&mm_zones[z].present_pages, __ATOMIC_RELAXED))
			continue;
		return l->count ? pcp_pop(pc, l, order) : NULL;
	}
	return NULL;
}

/* Fill the empty list l with a batch of blocks from zone z for a request
 * with gfp (inside the CPU's gate, its own list; z's lock taken here):
 * one block only when the zone is short (below its low watermark, or the
 * request's own if higher, plus a batch), since a batch would sit here
 * while other CPUs reclaim for it. Never below the request's watermark
 * (min; high for GFP_USER: a user request does not lend itself the
 * kernel's share). */
static void pcp_refill(struct buddy_pcp_cpu *pc, struct buddy_pcp_list *l,
		       struct zone *z, unsigned order, gfp_t gfp)
{
	unsigned long want = buddy_pcp_batch(z, order), n = 0;
	unsigned long mark = buddy_zone_mark(z, gfp, false);
	unsigned long low = __atomic_load_n(&z->wmark_low, __ATOMIC_RELAXED);
	unsigned long s = zone_lock(z);
	struct page *pg;

	if (z->free_pages < (mark > low ? mark : low) + (want << order))
		want = 1;
	pcp_list_ready(l);
	while (n < want && (pg = buddy_zone_take(z, order, mark)) != NULL) {
		pg->order = (uint8_t)order;
		mm_store32(&pg->flags, PG_PCP);
		list_add_tail(&pg->lru, &l->blocks);   /* the zone's order: first taken, first out */
		n++;
	}
	zone_unlock(z, s);
	mm_cpu_count(&l->count, l->count + n);
	if (n)
		pcp_add(&pc->refills, 1);
}

/* The slow path (inside the CPU's gate, its own lists): each zone gfp
 * allows in turn, its list or else a batch from it. NULL when every one
 * is empty and at gfp's watermark (buddy_zone_mark) for this order. Not inline: the fast
 * path stays short. */
static __attribute__((noinline)) struct page *
pcp_alloc_refill(struct buddy_pcp_cpu *pc, gfp_t gfp, unsigned order)
{
	for (int z = pcp_first_zone(gfp); z >= ZONE_DMA; z--) {
		struct buddy_pcp_list *l = &pc->list[z][order];

		if (!__atomic_load_n(&mm_zones[z].present_pages, __ATOMIC_RELAXED))
			continue;
		if (!l->count)
			pcp_refill(pc, l, &mm_zones[z], order, gfp);
		if (l->count)
			return pcp_pop(pc, l, order);
	}
	return NULL;
}

/* mm_internal.h */
int buddy_pcp_alloc(gfp_t gfp, unsigned order, struct page **out)
{
	struct page *pg = NULL;
	struct buddy_pcp_cpu *pc;
	struct mm_cpu_gate *g;
	unsigned long s;
	unsigned cpu;
	int ret = 0;

	if (!out || order > BUDDY_PCP_ORDER || (gfp & GFP_COMP))
		return -EAGAIN;   /* a compound block is made by the zone path */
	*out = NULL;
	cpu = mm_cpu();
	g = mm_cpu_gate(cpu);
	pc = &buddy_pcp[cpu];
	s = mm_gate_enter(g);
	if (pcp_off(pc))
		ret = -EAGAIN;
	else if (!(pg = pcp_alloc_fast(pc, gfp, order)) &&
		 !(pg = pcp_alloc_refill(pc, gfp, order)))
		ret = -ENOMEM;
	mm_gate_leave(g, s);
	if (ret) {
		if (ret == -ENOMEM)
			buddy_fail_count(&buddy_fails.nomem, 1);   /* a refusal is the zone path's kind */
		return ret;
	}
	if (gfp & GFP_ZERO)
		memset(page_address(pg), 0, PAGE_SIZE << order);
	*out = pg;
	return 0;
}

/* ---- free ------------------------------------------------------------------ */

enum { PCP_NO, PCP_DONE, PCP_OVER };

/* Inside the CPU's gate: put pg, a plain allocated head of alloc_pages()
 * of this order, on the CPU's list. PCP_NO when it is anything else (the
 * zone path checks and reports), PCP_OVER when the list is now above its
 * high mark (*z says which zone's). */
static int pcp_free_fast(struct buddy_pcp_cpu *pc, struct page *pg, unsigned order, int *z)
{
	struct buddy_pcp_list *l;

	if (pg->order != order || pg->owner != PAGE_OWNER_PAGES || pg->zone >= NR_ZONES)
		return PCP_NO;
	if (!mm_cas32(&pg->flags, PG_HEAD, PG_HEAD | PG_PCP))
		return PCP_NO;   /* not a plain head now, or another CPU's free claimed it first */
	pg->owner = PAGE_OWNER_FREE;   /* as buddy_release: owners stay on heads only */
	pg->priv = NULL;
	pg->mem = NULL;
	pg->inuse = 0;
	pg->kind = 0;
	pg->head_off = 0;
	mm_store32(&pg->flags, PG_PCP);
	*z = pg->zone;
	l = &pc->list[*z][order];
	pcp_list_ready(l);
	list_add(&pg->lru, &l->blocks);
	mm_cpu_count(&l->count, l->count + 1);
	pcp_add(&pc->frees, 1);
	pcp_add(&pc->pages_out, -(1ul << order));
	return l->count > buddy_pcp_high(&mm_zones[*z], order) ? PCP_OVER : PCP_DONE;
}

/* The CPU's list of zone z and this order holds more than its high mark:
 * its oldest batch goes back to the zone (inside the CPU's gate, its own
 * list; the zone's lock taken here). */
static __attribute__((noinline)) void pcp_trim(struct buddy_pcp_cpu *pc, unsigned z,
					       unsigned order)
{
	struct zone *zn = &mm_zones[z];
	struct buddy_pcp_list *l = &pc->list[z][order];
	unsigned long n = buddy_pcp_batch(zn, order), s = zone_lock(zn);

	for (; n && l->count; n--) {
		pcp_to_zone(list_entry(l->blocks.prev, struct page, lru), order);
		mm_cpu_count(&l->count, l->count - 1);
	}
	zone_unlock(zn, s);
	pcp_add(&pc->trims, 1);
}

/* mm_internal.h */
int buddy_pcp_free(struct page *pg, unsigned order)
{
	uintptr_t off = (uintptr_t)pg - (uintptr_t)page_map;
	struct buddy_pcp_cpu *pc;
	struct mm_cpu_gate *g;
	unsigned long s;
	unsigned cpu;
	int r = PCP_NO, z = 0;

	if (order > BUDDY_PCP_ORDER || !pg || !page_map || off % sizeof(struct page) ||
	    off / sizeof(struct page) >= page_frames())
		return -EAGAIN;   /* not a frame: the zone path names the mistake */
	cpu = mm_cpu();
	g = mm_cpu_gate(cpu);
	pc = &buddy_pcp[cpu];
	s = mm_gate_enter(g);
	if (!pcp_off(pc))
		r = pcp_free_fast(pc, pg, order, &z);
	if (r == PCP_OVER)
		pcp_trim(pc, (unsigned)z, order);
	mm_gate_leave(g, s);
	return r == PCP_NO ? -EAGAIN : 0;
}

/* ---- drain, keeper, bypass ----------------------------------------------------- */

/* Every block of every CPU's lists back to its zone (mm lock held, gates
 * stopped, every zone locked). Returns the frames given back. */
static unsigned long pcp_drain_locked(void)
{
	unsigned long total = 0;

	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++) {
		struct buddy_pcp_cpu *pc = &buddy_pcp[cpu];

		for (unsigned z = 0; z < NR_ZONES; z++)
			for (unsigned o = 0; o <= BUDDY_PCP_ORDER; o++) {
				struct buddy_pcp_list *l = &pc->list[z][o];

				while (l->count) {
					pcp_to_zone(list_entry(l->blocks.prev, struct page, lru), o);
					l->count--;
					pc->drained += 1ul << o;
					total += 1ul << o;
				}
			}
	}
	return total;
}

/* A drain runs when memory is short, where the in-use figure peaks: it
 * folds the figures for the peak first (buddy.c), every zone locked at
 * once for that (drains are rare; a zone's lock is held for its blocks
 * only otherwise). */
unsigned long buddy_pcp_drain_all(void)
{
	unsigned long s = mm_lock(), st[NR_ZONES], frames;
	struct buddy_stats now;

	mm_gates_stop();
	buddy_zones_lock(st);
	buddy_sum_locked(&now);
	buddy_peak_see(now.pages_in_use);
	frames = pcp_drain_locked();
	buddy_zones_unlock(st);
	mm_gates_start();
	mm_unlock(s);
	return frames;
}

/* The page lists' keeper (mm/shrinker.h): every CPU's lists back to the
 * zones, where a request of any order and zone finds them merged. Returns
 * the bytes given back. */
static unsigned long pcp_keeper_scan(struct shrinker *sh, unsigned long want)
{
	(void)sh;
	(void)want;
	return buddy_pcp_drain_all() * PAGE_SIZE;
}

static struct shrinker pcp_keeper = { .scan = pcp_keeper_scan, .keeper = true };

/* Every list empty (count 0: its head is set up by the first block put on
 * it, pcp_list_ready), every counter 0. */
void buddy_pcp_reset(void)
{
	static bool once;

	mm_reset_static(buddy_pcp, sizeof(buddy_pcp), &once);
	shrinker_register(&pcp_keeper);
}

void buddy_pcp_bypass(bool on)
{
	unsigned long s = mm_lock();

	buddy_pcp[mm_cpu()].bypass += on ? 1u : -1u;   /* the CPU's own, under the lock */
	mm_unlock(s);
}

/* ---- figures ------------------------------------------------------------------- */

/* One CPU's lists and counters into out (mm lock held, gates stopped). */
static void pcp_add_cpu(const struct buddy_pcp_cpu *pc, struct buddy_pcp_stats *out)
{
	for (unsigned z = 0; z < NR_ZONES; z++)
		for (unsigned o = 0; o <= BUDDY_PCP_ORDER; o++) {
			out->blocks[z][o] += pc->list[z][o].count;
			out->pages[z] += pc->list[z][o].count << o;
			out->total_pages += pc->list[z][o].count << o;
		}
	out->allocs += pc->allocs;
	out->frees += pc->frees;
	out->refills += pc->refills;
	out->trims += pc->trims;
	out->drained += pc->drained;
}

/* mm_internal.h */
void buddy_pcp_sum_locked(unsigned cpu, struct buddy_pcp_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned c = 0; c < MM_MAX_CPUS; c++)
		if (cpu == BUDDY_PCP_ALL || c == cpu)
			pcp_add_cpu(&buddy_pcp[c], out);
}

int buddy_pcp_get(unsigned cpu, struct buddy_pcp_stats *out)
{
	unsigned long s;

	if (!out || (cpu >= MM_MAX_CPUS && cpu != BUDDY_PCP_ALL))
		return -EINVAL;
	s = mm_lock();
	mm_gates_stop();
	buddy_pcp_sum_locked(cpu, out);
	mm_gates_start();
	mm_unlock(s);
	return 0;
}

/* mm_internal.h */
unsigned long buddy_pcp_fold(struct buddy_stats *st)
{
	struct buddy_pcp_stats all;
	unsigned long out = 0;

	buddy_pcp_sum_locked(BUDDY_PCP_ALL, &all);
	for (unsigned c = 0; c < MM_MAX_CPUS; c++)
		out += buddy_pcp[c].pages_out;
	if (st) {
		st->successes += all.allocs;
		st->frees += all.frees;
		st->pages_in_use += out;
	}
	return all.total_pages;
}
