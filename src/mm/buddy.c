/* buddy.c - binary buddy allocator over the zones of the frame array.
 *
 * Serves naturally aligned blocks of 2^order frames, order 0..MAX_ORDER,
 * and checks its own invariants. Not the frame-array set-up (page.c) and
 * not a small-object allocator.
 *
 * Layout and invariants:
 *  - Blocks are naturally aligned on the absolute pfn; a block's buddy is
 *    pfn ^ (1 << order). Two blocks merge only when the buddy lies inside
 *    the same zone span and is a free head (PG_BUDDY) of the same order, so
 *    no block ever crosses a zone boundary, a hole or a reserved frame
 *    (those are PG_RESERVED, never PG_BUDDY).
 *  - A free block is its head frame only: PG_BUDDY, order, owner FREE, lru
 *    linked on zone->area[order].free_list. Nothing is ever written into
 *    free memory. Interior frames of any block have flags 0 (allocated
 *    compound blocks: PG_TAIL with head_off).
 *  - An allocated block's head has PG_HEAD and the order it was allocated
 *    with; free_pages() must name the same order.
 *  - Free blocks are fully coalesced: no free head has a free buddy of the
 *    same order.
 *  - zone->area[o].nr_free counts the list; zone->free_pages is the sum of
 *    nr_free[o] << o; free_pages + pages on the CPUs' page lists + pages
 *    in allocated blocks == present_pages; the allocated total is the
 *    zones' pages_in_use plus what the page lists' counters hold.
 * buddy_check() (buddy_check.c) verifies all of the above.
 *
 * Locks (Linux's zone->lock). Each zone has its own, zone->lock: it guards
 * the zone's free lists, nr_free, free_pages and counters (allocs, frees,
 * pages_in_use), the buddy state of its frames (a free head's flags, order
 * and link) and a block's passage between free and allocated (the take and
 * the head's preparation; a free's check, claim and release, under one hold
 * so two racing frees of one block cannot both pass). The per-CPU page
 * lists (buddy_pcp.c) take blocks of orders 0..BUDDY_PCP_ORDER off the
 * zones in batches and serve alloc_pages / free_pages from them inside a
 * CPU's gate; their refill and trim take the zone's lock inside the gate.
 * Lock order:
 *     mm lock -> CPU gates -> (a slab cache's lock, heap_lock) -> zone locks
 *     (the zone locks: DMA, then Normal, then High)
 *  - callers may hold the mm lock (the object allocators' full paths do);
 *    no path here takes it but the readers of every zone (below) and the
 *    page lists' drain, which stop the gates;
 *  - a zone lock is innermost: nothing done while holding one takes another
 *    lock, enters a gate, asks fault injection, reports or reclaims (those
 *    come before it is taken or after it is dropped); an allocation walks
 *    its zones one lock at a time;
 *  - only a reader of every zone at once holds several (buddy_zones_lock:
 *    the figures, buddy_zone_info, buddy_walk, buddy_check, the drain), in
 *    ascending zone id.
 * A frame's flags may change under a page list's fast path (no zone lock)
 * while a CPU holding the lock looks at the frame as a buddy: they are
 * stored with mm_store32 and looked at with atomic loads.
 *
 * Counters: what the zone path hands out and takes back is counted per
 * zone under its lock (allocs, frees, pages_in_use); what the page lists
 * hand out, per CPU in their counters (buddy_pcp.c); failures and refused
 * frees in buddy_fails, with atomic adds -- they are off every success
 * path, and a failed request has tried several zones and a refused free
 * may name no frame, so no one zone's lock would do. requests is computed
 * at a read as successes plus failures. A reader (buddy_get_stats,
 * buddy_free_pages, buddy_check) holds the mm lock, stops the gates and
 * takes every zone lock, so what it sums is one moment's figures: exact.
 * peak_pages_in_use is the highest in-use figure such a sum (a fold) has
 * found: at buddy_get_stats, buddy_check and the page lists' drain (which
 * runs when memory is short) -- as the slab backend's peak is the highest
 * seen at a fold. It never exceeds what was in use at some moment; a peak
 * between two folds is missed. An exact peak would need one shared
 * counter on every page-list operation, which is what the lists are there
 * to avoid. */
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/shrinker.h"
#include "mm/mm_env.h"
#include "kerrno.h"
#include "mm_internal.h"

#include <string.h>

struct buddy_fails buddy_fails;   /* mm_internal.h */

/* Giving free memory back (mm_set_release), as the production allocators
 * do: mimalloc purges free spans of its segments, jemalloc returns dirty
 * extents to the system, Linux's free page reporting hands free blocks of
 * pageblock_order (2 MiB on x86) and above to the host. Here, when a free
 * makes a block of BUDDY_RELEASE_ORDER (2 MiB) or more, the block goes
 * back to the system (release_fn: madvise(MADV_DONTNEED)) unless the
 * zone's free and still backed frames are within the keep. Why 2 MiB, not
 * page by page: smaller pieces are the ones reused soonest (the page lists
 * and slabs churn there), so purging them would pay an madvise and fresh
 * faults per round trip; a replay of sqlite3's trace left 2,072 of 7,040
 * resident KiB at its peak in free blocks below 4 MiB, and giving back
 * those of 2 MiB and more as they form gave 6,016 (from 512 KiB: 5,920, a
 * hundred KiB for eight times the calls). No delay (mimalloc's
 * purge_delay, jemalloc's decay): a delay needs a later pass over blocks
 * freed earlier, and libtally has no thread of its own to run it; the
 * keep is what keeps a churning program's blocks backed instead.
 *
 * Invariants (buddy_check verifies the counts exactly):
 *  - a free head (PG_BUDDY) has kind 0 (backed: some of its frames may be
 *    resident) or BUDDY_RELEASED (none is: every frame went to release_fn
 *    and nothing has touched it since; kind is the owner's field, unused on
 *    free heads). Any order may be released: the halves split off a
 *    released block stay released (and go to their lists' tails, so backed
 *    blocks are taken first);
 *  - zone->released is the frames in the zone's released free heads;
 *  - a merge absorbs released buddies as backed: the merged block is
 *    backed (its released parts fault in again, zero-filled, if touched
 *    before it goes back) and, when of the release order or above and
 *    beyond the keep, is given back whole (madvise over memory already
 *    given back costs nothing but the call). So a block is never half
 *    released: the figure errs toward resident, never the other way;
 *  - a block on a CPU's page list, or allocated, is never marked: a taken
 *    block loses its mark (its frames come back at the first touch).
 * The keep: each zone keeps as many whole MAX_ORDER blocks' frames free
 * and backed, for the next requests, as an eighth of its pages makes
 * (BUDDY_KEEP_SHIFT): none below 32 MiB. No fixed number more: two blocks
 * kept whatever the zone's size were 8 MiB of resident memory a small
 * program never gave back (under libtally.so, sqlite3's peak was 2 MiB
 * higher for one half-touched block kept). */
#define BUDDY_RELEASE_ORDER 9
#define BUDDY_KEEP_SHIFT (MAX_ORDER + 3)
static void (*release_fn)(void *addr, size_t bytes);

void mm_set_release(void (*release)(void *addr, size_t bytes))
{
	__atomic_store_n(&release_fn, release, __ATOMIC_RELEASE);
}

/* The highest pages_in_use a fold summed (mm lock; buddy_peak_see). */
static unsigned long buddy_peak_folded;

static const char *const zone_lock_names[NR_ZONES] = { "zone DMA", "zone Normal", "zone High" };

/* Why a free was refused. */
enum buddy_free_err {
	BF_OK,
	BF_NULL,
	BF_NOT_FRAME,
	BF_ADDR_UNALIGNED,
	BF_ADDR_NOT_RAM,
	BF_BAD_ORDER,
	BF_RESERVED,
	BF_FREE,
	BF_IN_FREE,
	BF_TAIL,
	BF_INTERIOR,
	BF_UNALIGNED,
	BF_WRONG_ORDER,
	BF_WRONG_OWNER,
};

static const char *const buddy_free_msg[] = {
	[BF_OK] = "ok",
	[BF_NULL] = "NULL page",
	[BF_NOT_FRAME] = "not a struct page of the frame array",
	[BF_ADDR_UNALIGNED] = "address not page aligned",
	[BF_ADDR_NOT_RAM] = "address not covered by the frame array",
	[BF_BAD_ORDER] = "order above MAX_ORDER",
	[BF_RESERVED] = "reserved frame",
	[BF_FREE] = "frame already free",
	[BF_IN_FREE] = "frame inside a free block; head pfn",
	[BF_TAIL] = "tail of a compound block; head pfn",
	[BF_INTERIOR] = "not the head of an allocated block; head pfn",
	[BF_UNALIGNED] = "block not aligned to its order",
	[BF_WRONG_ORDER] = "wrong order; allocated with order",
	[BF_WRONG_OWNER] = "block belongs to another allocator:",
};

static struct page *buddy_pfn_page(uint64_t pfn)
{
	return &page_map[pfn - page_base_pfn];
}

/* Zone lock held, for this and the next. */
static void buddy_list_add(struct zone *z, struct page *pg, unsigned order)
{
	pg->order = (uint8_t)order;
	pg->owner = PAGE_OWNER_FREE;
	mm_store32(&pg->flags, PG_BUDDY);
	list_add(&pg->lru, &z->area[order].free_list);
	z->area[order].nr_free++;
	__atomic_store_n(&z->free_pages, z->free_pages + (1UL << order), __ATOMIC_RELAXED);   /* buddy_plenty */
}

static void buddy_list_del(struct zone *z, struct page *pg)
{
	list_del(&pg->lru);
	z->area[pg->order].nr_free--;
	__atomic_store_n(&z->free_pages, z->free_pages - (1UL << pg->order), __ATOMIC_RELAXED);
	mm_store32(&pg->flags, 0);
}

void buddy_reset(void)
{
	memset(&buddy_fails, 0, sizeof(buddy_fails));
	buddy_peak_folded = 0;
	__atomic_store_n(&release_fn, NULL, __ATOMIC_RELEASE);
	buddy_pcp_reset();
	for (int z = 0; z < NR_ZONES; z++) {
		struct zone *zn = &mm_zones[z];

		mm_spin_init(&zn->lock, zone_lock_names[z]);
		for (int o = 0; o <= MAX_ORDER; o++) {
			list_init(&zn->area[o].free_list);
			zn->area[o].nr_free = 0;
		}
		zn->free_pages = 0;
		zn->released = 0;
		zn->allocs = zn->frees = zn->pages_in_use = 0;
	}
}

void buddy_add_initial_block(struct zone *z, uint64_t pfn, unsigned order)
{
	unsigned long s = zone_lock(z);

	__atomic_store_n(&z->present_pages, z->present_pages + (1UL << order), __ATOMIC_RELAXED);
	buddy_list_add(z, buddy_pfn_page(pfn), order);
	zone_unlock(z, s);
}

void buddy_zones_lock(unsigned long state[NR_ZONES])
{
	for (int z = 0; z < NR_ZONES; z++)
		state[z] = zone_lock(&mm_zones[z]);
}

void buddy_zones_unlock(const unsigned long state[NR_ZONES])
{
	for (int z = NR_ZONES - 1; z >= 0; z--)
		zone_unlock(&mm_zones[z], state[z]);
}

void buddy_zone_set_watermarks(struct zone *z)
{
	unsigned long min = z->present_pages / 256, batch = 1;

	if (min < 16)
		min = 16;
	if (min > 1024)
		min = 1024;
	if (min > z->present_pages / 8)
		min = z->present_pages / 8;
	/* stored atomically: a hot-add (page_hot_add) recomputes them while
	 * readers without the zone lock (buddy_plenty, the page lists' batch)
	 * look */
	__atomic_store_n(&z->wmark_min, min, __ATOMIC_RELAXED);
	__atomic_store_n(&z->wmark_low, min * 5 / 4, __ATOMIC_RELAXED);
	__atomic_store_n(&z->wmark_high, min * 3 / 2, __ATOMIC_RELAXED);
	/* the page lists' batch: about a thousandth of the zone (as Linux's
	 * zone_batchsize), a power of two, 1..16 pages: a 128 MiB machine's
	 * Normal zone takes 16 pages a lock hold, its DMA zone 2 */
	while (batch < 16 && batch * 2 * 1024 <= z->present_pages)
		batch *= 2;
	__atomic_store_n(&z->pcp_batch, batch, __ATOMIC_RELAXED);
}

/* ---- allocation ---------------------------------------------------------- */

/* Mark the free head pg (just added to z's list of its order) released:
 * to the list's tail, so the backed blocks go first (z's lock held). */
static void buddy_mark_released(struct zone *z, struct page *pg, unsigned order)
{
	list_del(&pg->lru);
	list_add_tail(&pg->lru, &z->area[order].free_list);
	pg->kind = BUDDY_RELEASED;
	z->released += 1UL << order;
}

/* Clear a free head's released mark, if it has one (z's lock held). */
static inline __attribute__((always_inline)) void
buddy_unmark(struct zone *z, struct page *pg, unsigned order)
{
	if (__builtin_expect(pg->kind == BUDDY_RELEASED, 0)) {
		pg->kind = 0;
		z->released -= 1UL << order;
	}
}

/* Put the upper halves of a 2^high block back until 2^low is left; they
 * stay released when the block was (its memory is still the system's). */
static void buddy_split(struct zone *z, struct page *pg, unsigned high,
			unsigned low, bool released)
{
	while (high > low) {
		struct page *half;

		high--;
		half = pg + (1UL << high);
		buddy_list_add(z, half, high);
		if (released)
			buddy_mark_released(z, half, high);
	}
}

/* Take a 2^order block from z, or NULL (empty, fragmented, or it would
 * leave fewer than mark free pages: buddy_zone_mark); z's lock held.
 * Inline, so the zone path keeps no call here; buddy_pcp.c has
 * buddy_zone_take. */
static inline __attribute__((always_inline)) struct page *
zone_take(struct zone *z, unsigned order, unsigned long mark)
{
	if (z->free_pages < mark + (1UL << order))
		return NULL;
	for (unsigned o = order; o <= MAX_ORDER; o++) {
		struct page *pg;
		bool rel;

		if (list_empty(&z->area[o].free_list))
			continue;
		pg = list_first_entry(&z->area[o].free_list, struct page, lru);
		rel = pg->kind == BUDDY_RELEASED;
		buddy_unmark(z, pg, o);   /* its frames come back at the first touch */
		buddy_list_del(z, pg);
		buddy_split(z, pg, o, order, rel);
		return pg;
	}
	return NULL;
}

/* A block just taken from z made an allocated head of this order
 * (compound when GFP_COMP), counted in z's counters (z's lock held). */
static void buddy_prep_head(struct zone *z, struct page *pg, unsigned order, gfp_t gfp)
{
	pg->order = (uint8_t)order;
	list_init(&pg->lru);
	buddy_head_reset(pg);
	if ((gfp & GFP_COMP) && order)
		page_set_compound(pg, order);
	z->allocs++;
	z->pages_in_use += 1UL << order;
}

/* Try the zones flags allow, preferred first (ids descend: High, Normal,
 * DMA), each above its watermark for gfp (min; high for GFP_USER) and
 * under its own lock in turn; then, when dip (a GFP_RESERVE request, not
 * a GFP_USER one), the same zones below it: a reserve is the last resort,
 * not a zone's first pages (as Linux's slow path lowers watermarks only
 * after the normal walk failed). A zone with no frames is not locked
 * (present_pages read atomically: a hot-add may give it some). */
static struct page *buddy_take(gfp_t gfp, unsigned order, bool dip)
{
	int first = (gfp & GFP_DMA) ? ZONE_DMA :
		    (gfp & GFP_DMA32) ? ZONE_NORMAL : ZONE_HIGH;

	if (gfp & GFP_USER)
		dip = false;
	for (int pass = 0; pass <= (dip ? 1 : 0); pass++)
		for (int zi = first; zi >= ZONE_DMA; zi--) {
			struct zone *z = &mm_zones[zi];
			struct page *pg;
			unsigned long s;

			if (!__atomic_load_n(&z->present_pages, __ATOMIC_RELAXED))
				continue;   /* none yet: a hot-add may bring some */
			s = zone_lock(z);
			pg = zone_take(z, order, buddy_zone_mark(z, gfp, pass));
			if (pg)
				buddy_prep_head(z, pg, order, gfp);
			zone_unlock(z, s);
			if (pg)
				return pg;
		}
	return NULL;
}

/* buddy_try_alloc(), allowed below the watermarks only when dip. Fault
 * injection is asked before any zone lock is taken. */
static int buddy_try(gfp_t gfp, unsigned order, struct page **out, bool dip)
{
	struct page *pg;

	if (out)
		*out = NULL;
	if (!out || order > MAX_ORDER) {
		buddy_fail_count(&buddy_fails.inval, 1);
		return -EINVAL;
	}
	if (faultinj_should_fail(FI_PAGE, PAGE_SIZE << order, gfp)) {
		buddy_fail_count(&buddy_fails.injected, 1);
		return -ENOMEM;
	}
	pg = buddy_take(gfp, order, dip);
	if (!pg) {
		buddy_fail_count(&buddy_fails.nomem, 1);
		return -ENOMEM;
	}
	if (gfp & GFP_ZERO)
		memset(page_address(pg), 0, PAGE_SIZE << order);
	*out = pg;
	return 0;
}

int buddy_try_alloc(gfp_t gfp, unsigned order, struct page **out)
{
	return buddy_try(gfp, order, out, gfp & GFP_RESERVE);
}

/* A request tried again: the try before, which failed for want of
 * memory, is not a request or a failure of its own. */
static void buddy_uncount_try(void)
{
	buddy_fail_count(&buddy_fails.nomem, -1ul);
}

/* The calling CPU's page lists, else the zones above their watermarks. */
static int buddy_try_lists(gfp_t gfp, unsigned order, struct page **out)
{
	int ret = buddy_pcp_alloc(gfp, order, out);

	return ret == -EAGAIN ? buddy_try(gfp, order, out, false) : ret;
}

/* Reclaim comes before a reserve: the lists and zones above their
 * watermarks, then reclaim (which gives every CPU's lists back) and again
 * while anything comes back, and only then (GFP_RESERVE) below them -- no
 * longer a target of injection, which had its say. */
int buddy_alloc(gfp_t gfp, unsigned order, struct page **out)
{
	unsigned long injected = faultinj_injected();
	unsigned round = 0;
	int ret = buddy_try_lists(gfp, order, out);

	while (ret == -ENOMEM && faultinj_injected() == injected &&
	       mm_reclaim(PAGE_SIZE << order, gfp, &round)) {
		buddy_uncount_try();
		ret = buddy_try_lists(gfp, order, out);
	}
	if (ret == -ENOMEM && (gfp & GFP_RESERVE) && !(gfp & GFP_USER) &&
	    faultinj_injected() == injected) {
		buddy_uncount_try();
		ret = buddy_try(gfp | GFP_NOINJECT, order, out, true);
	}
	return ret;
}

struct page *alloc_pages(gfp_t gfp, unsigned order)
{
	struct page *pg;

	return buddy_alloc(gfp, order, &pg) ? NULL : pg;
}

/* ---- free ------------------------------------------------------------- */

/* For a frame of zone z that heads nothing: the free or allocated block
 * holding it (always in the same zone: no block crosses a zone's edge),
 * z's lock held. *head_pfn is UINT64_MAX when no block holds it (a broken
 * invariant). */
static enum buddy_free_err buddy_find_container(const struct zone *z, uint64_t pfn,
						uint64_t *head_pfn)
{
	for (unsigned o = 1; o <= MAX_ORDER; o++) {
		uint64_t h = pfn & ~((1ULL << o) - 1);
		const struct page *hp;
		uint32_t f;

		if (h < z->start_pfn)
			break;
		hp = buddy_pfn_page(h);
		f = __atomic_load_n(&hp->flags, __ATOMIC_RELAXED);
		if ((f & (PG_BUDDY | PG_PCP | PG_HEAD)) && pfn - h < (1ULL << hp->order)) {
			*head_pfn = h;
			return (f & (PG_BUDDY | PG_PCP)) ? BF_IN_FREE : BF_INTERIOR;
		}
	}
	*head_pfn = UINT64_MAX;
	return BF_INTERIOR;
}

/* Whether pg names a frame of the array and order is one; no lock. */
static enum buddy_free_err buddy_free_frame(const struct page *pg, unsigned order)
{
	uintptr_t off = (uintptr_t)pg - (uintptr_t)page_map;

	if (!pg)
		return BF_NULL;
	if (!page_map || off % sizeof(struct page) ||
	    off / sizeof(struct page) >= page_frames())
		return BF_NOT_FRAME;
	return order > MAX_ORDER ? BF_BAD_ORDER : BF_OK;
}

/* Whether the frame pg of zone z heads an allocated block of this order
 * (z's lock held: its buddy state holds still, but a page list's fast
 * path may change its flags). */
static enum buddy_free_err buddy_free_check(const struct zone *z, const struct page *pg,
					    unsigned order, uint64_t *info)
{
	uint64_t pfn = page_to_pfn(pg);
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);

	if (f & PG_RESERVED)
		return BF_RESERVED;
	if (f & (PG_BUDDY | PG_PCP))
		return BF_FREE;
	if (f & PG_TAIL) {
		*info = pfn - pg->head_off;
		return BF_TAIL;
	}
	if (!(f & PG_HEAD))
		return buddy_find_container(z, pfn, info);
	if (pfn & ((1ULL << order) - 1))
		return BF_UNALIGNED;
	*info = pg->order;
	return pg->order != order ? BF_WRONG_ORDER : BF_OK;
}

/* Report a refused free in one line, naming the caller (no lock held). */
static int buddy_report_refusal(enum buddy_free_err err, const void *what,
				unsigned order, uint64_t info, void *caller)
{
	buddy_fail_count(&buddy_fails.wrong_frees, 1);
	if (err == BF_WRONG_OWNER)
		mm_report("buddy: refused free of %p order %u from %p: %s %s", what, order,
			  caller, buddy_free_msg[err], page_owner_name((unsigned)info));
	else if (err == BF_WRONG_ORDER || (err >= BF_IN_FREE && err <= BF_INTERIOR))
		mm_report("buddy: refused free of %p order %u from %p: %s %s%lx",
			  what, order, caller, buddy_free_msg[err],
			  err == BF_WRONG_ORDER ? "" : "0x", (unsigned long)info);
	else
		mm_report("buddy: refused free of %p order %u from %p: %s",
			  what, order, caller, buddy_free_msg[err]);
	return -EINVAL;
}

/* The free head pg of this order (release order or above, backed, just
 * made by a merge) back to the system when z's free backed frames exceed
 * the keep (z's lock held: no one takes the block while its memory goes). */
static __attribute__((noinline)) void release_block(struct zone *z, struct page *pg,
						      unsigned order)
{
	void (*rel)(void *, size_t) = __atomic_load_n(&release_fn, __ATOMIC_ACQUIRE);
	unsigned long keep = (z->present_pages >> BUDDY_KEEP_SHIFT) << MAX_ORDER;

	if (!rel || z->free_pages - z->released <= keep)
		return;
	rel(page_address(pg), PAGE_SIZE << order);
	buddy_mark_released(z, pg, order);
}

/* Return the block to its zone, merging with free buddies upward (the
 * zone's lock held). A buddy is looked at with an atomic load of its
 * flags: a page list's fast path may be changing them (a block on a list
 * is not PG_BUDDY, and a PG_BUDDY one is the zone lock's, as its order).
 * Inline, so the zone path keeps no call here; buddy_pcp.c has
 * buddy_merge. */
static inline __attribute__((always_inline)) void merge(struct page *pg, unsigned order)
{
	struct zone *z = &mm_zones[pg->zone];
	uint64_t pfn = page_to_pfn(pg);

	while (order < MAX_ORDER) {
		uint64_t bpfn = pfn ^ (1ULL << order);
		struct page *b;

		if (bpfn < z->start_pfn || bpfn + (1ULL << order) > z->end_pfn)
			break;
		b = buddy_pfn_page(bpfn);
		if (!(__atomic_load_n(&b->flags, __ATOMIC_RELAXED) & PG_BUDDY) || b->order != order)
			break;
		buddy_unmark(z, b, order);   /* absorbed as backed (top of file) */
		buddy_list_del(z, b);
		pfn &= ~(1ULL << order);
		order++;
	}
	buddy_list_add(z, buddy_pfn_page(pfn), order);
	if (order >= BUDDY_RELEASE_ORDER &&
	    __builtin_expect(__atomic_load_n(&release_fn, __ATOMIC_RELAXED) != NULL, 0))
		release_block(z, buddy_pfn_page(pfn), order);
}

/* Give a checked allocated block of zone z back (z's lock held). */
static void buddy_release(struct zone *z, struct page *pg, unsigned order)
{
	if (pg->flags & PG_COMPOUND)
		page_clear_compound(pg, order);
	mm_store32(&pg->flags, 0);
	pg->owner = PAGE_OWNER_FREE;   /* owners stay on heads only (page.h) */
	pg->priv = NULL;
	pg->mem = NULL;
	pg->inuse = 0;
	pg->kind = 0;
	pg->head_off = 0;
	merge(pg, order);
	z->frees++;
	z->pages_in_use -= 1UL << order;
}

/* mm_internal.h: the zone path's own, for the page lists. */
struct page *buddy_zone_take(struct zone *z, unsigned order, unsigned long mark)
{
	return zone_take(z, order, mark);
}

void buddy_merge(struct page *pg, unsigned order)
{
	merge(pg, order);
}

void buddy_hot_add_block(struct zone *z, uint64_t pfn, unsigned order)
{
	__atomic_store_n(&z->present_pages, z->present_pages + (1UL << order), __ATOMIC_RELAXED);
	merge(buddy_pfn_page(pfn), order);
}

/* Check and release under one hold of the block's zone lock (a frame's
 * zone is fixed at set-up, so the frame names the lock), so two racing
 * frees of one block cannot both pass; report after it is dropped. The
 * block must belong to `owner`: a slab, heap run or page table is never
 * freed through the page API. */
static int buddy_free(struct page *pg, unsigned order, unsigned owner, void *caller)
{
	uint64_t info = 0;
	enum buddy_free_err err = buddy_free_frame(pg, order);

	if (err == BF_OK) {
		struct zone *z = &mm_zones[pg->zone];
		unsigned long s = zone_lock(z);

		err = buddy_free_check(z, pg, order, &info);
		if (err == BF_OK && pg->owner != owner) {
			err = BF_WRONG_OWNER;
			info = pg->owner;
		}
		/* a block the page lists take: claimed as their fast path
		 * claims it, so a free racing on another CPU cannot take it
		 * too (buddy_pcp.c) */
		if (err == BF_OK && owner == PAGE_OWNER_PAGES && order <= BUDDY_PCP_ORDER) {
			uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);

			if ((f & PG_PCP) || !mm_cas32(&pg->flags, f, f | PG_PCP))
				err = BF_FREE;
		}
		if (err == BF_OK) {
			page_owner_count(owner, order, -1);   /* a user frame or table going */
			buddy_release(z, pg, order);
		}
		zone_unlock(z, s);
	}
	if (err != BF_OK)
		return buddy_report_refusal(err, pg, order, info, caller);
	return 0;
}

int free_pages(struct page *pg, unsigned order)
{
	if (buddy_pcp_free(pg, order) == 0)
		return 0;
	return buddy_free(pg, order, PAGE_OWNER_PAGES, __builtin_return_address(0));
}

int free_pages_owned(struct page *pg, unsigned order, unsigned owner)
{
	return buddy_free(pg, order, owner, __builtin_return_address(0));
}

int free_pages_addr(const void *addr, unsigned order)
{
	void *caller = __builtin_return_address(0);
	struct page *pg;

	if ((uintptr_t)addr & (PAGE_SIZE - 1))
		return buddy_report_refusal(BF_ADDR_UNALIGNED, addr, order, 0, caller);
	pg = virt_to_page(addr);
	if (!pg)
		return buddy_report_refusal(BF_ADDR_NOT_RAM, addr, order, 0, caller);
	if (buddy_pcp_free(pg, order) == 0)
		return 0;
	return buddy_free(pg, order, PAGE_OWNER_PAGES, caller);
}

/* ---- statistics ------------------------------------------------------- */

/* mm_internal.h: the mm lock held. */
void buddy_peak_see(unsigned long in_use)
{
	if (in_use > buddy_peak_folded)
		buddy_peak_folded = in_use;
}

/* mm_internal.h: every zone locked, the gates stopped. */
void buddy_sum_locked(struct buddy_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int z = 0; z < NR_ZONES; z++) {
		out->successes += mm_zones[z].allocs;
		out->frees += mm_zones[z].frees;
		out->pages_in_use += mm_zones[z].pages_in_use;   /* mod 2^64: the sum is exact */
	}
	buddy_pcp_fold(out);
	out->fail_nomem = __atomic_load_n(&buddy_fails.nomem, __ATOMIC_RELAXED);
	out->fail_inval = __atomic_load_n(&buddy_fails.inval, __ATOMIC_RELAXED);
	out->fail_injected = __atomic_load_n(&buddy_fails.injected, __ATOMIC_RELAXED);
	out->wrong_frees = __atomic_load_n(&buddy_fails.wrong_frees, __ATOMIC_RELAXED);
	out->requests = out->successes + out->fail_nomem + out->fail_inval + out->fail_injected;
}

/* Free pages: the page lists' and each zone's, of a zone only what lies
 * above its high watermark when user (what GFP_USER may take). */
static unsigned long free_pages_counted(bool user)
{
	unsigned long irq = mm_lock(), st[NR_ZONES], n;

	mm_gates_stop();   /* the page lists hold still */
	buddy_zones_lock(st);
	n = buddy_pcp_fold(NULL);
	for (int z = 0; z < NR_ZONES; z++) {
		unsigned long floor = user ? mm_zones[z].wmark_high : 0;

		if (mm_zones[z].free_pages > floor)
			n += mm_zones[z].free_pages - floor;
	}
	buddy_zones_unlock(st);
	mm_gates_start();
	mm_unlock(irq);
	return n;
}

unsigned long buddy_free_pages(void)
{
	return free_pages_counted(false);
}

unsigned long buddy_user_free_pages(void)
{
	return free_pages_counted(true);
}

/* A hint, read without the lock (a count another CPU changes meanwhile
 * only makes the answer a moment old). */
bool buddy_plenty(void)
{
	unsigned long free = 0, low = 0;

	for (int z = ZONE_NORMAL; z < NR_ZONES; z++) {
		free += __atomic_load_n(&mm_zones[z].free_pages, __ATOMIC_RELAXED);
		low += __atomic_load_n(&mm_zones[z].wmark_low, __ATOMIC_RELAXED);
	}
	return free > low;
}

void buddy_get_stats(struct buddy_stats *out)
{
	unsigned long irq = mm_lock(), st[NR_ZONES];

	mm_gates_stop();   /* every CPU's page-list counters hold still */
	buddy_zones_lock(st);
	buddy_sum_locked(out);
	buddy_zones_unlock(st);
	mm_gates_start();
	buddy_peak_see(out->pages_in_use);
	out->peak_pages_in_use = buddy_peak_folded;
	mm_unlock(irq);
}

/* Every zone's free lists and the page lists into out and *pcp (every
 * zone locked, the gates stopped). */
static void zone_info_locked(struct buddy_zone_info out[NR_ZONES], struct buddy_pcp_stats *pcp)
{
	buddy_pcp_sum_locked(BUDDY_PCP_ALL, pcp);
	for (int z = 0; z < NR_ZONES; z++) {
		out[z].free_pages = mm_zones[z].free_pages;
		for (int o = 0; o <= MAX_ORDER; o++)
			out[z].nr_free[o] = mm_zones[z].area[o].nr_free;
		out[z].pcp_pages = pcp->pages[z];
	}
}

void buddy_zone_info(struct buddy_zone_info out[NR_ZONES])
{
	unsigned long irq = mm_lock(), st[NR_ZONES];
	struct buddy_pcp_stats pcp;

	mm_gates_stop();
	buddy_zones_lock(st);
	zone_info_locked(out, &pcp);
	buddy_zones_unlock(st);
	mm_gates_start();
	mm_unlock(irq);
}

/* mm_internal.h */
unsigned long buddy_snapshot_locked(struct buddy_stats *st, struct buddy_pcp_stats *pcp,
				    struct buddy_zone_info zi[NR_ZONES])
{
	unsigned long zs[NR_ZONES], free;

	buddy_zones_lock(zs);
	buddy_sum_locked(st);
	zone_info_locked(zi, pcp);
	free = pcp->total_pages;
	for (int z = 0; z < NR_ZONES; z++)
		free += zi[z].free_pages;
	buddy_zones_unlock(zs);
	buddy_peak_see(st->pages_in_use);
	st->peak_pages_in_use = buddy_peak_folded;
	return free;
}

/* The run of frames at pfn (every zone locked, the gates stopped): a
 * block's extent and holder (free for a block on a zone's or a CPU's
 * list), else one frame, reserved unless stamped otherwise. */
static uint64_t buddy_run_at(uint64_t pfn, unsigned *owner)
{
	const struct page *pg = pfn_to_page(pfn);

	if (pg->flags & (PG_BUDDY | PG_PCP)) {
		*owner = PAGE_OWNER_FREE;
		return 1ull << pg->order;
	}
	if (pg->flags & PG_HEAD) {
		*owner = pg->owner < PAGE_OWNER_NR ? pg->owner : PAGE_OWNER_RESERVED;
		return 1ull << pg->order;
	}
	*owner = (pg->flags & PG_RESERVED) ? pg->owner : PAGE_OWNER_RESERVED;
	return 1;
}

void buddy_walk(uint64_t start, uint64_t end, buddy_walk_fn fn, void *arg)
{
	unsigned long irq, st[NR_ZONES];

	if (start < page_base_pfn)
		start = page_base_pfn;
	if (end > page_base_pfn + page_nr_frames)
		end = page_base_pfn + page_nr_frames;
	irq = mm_lock();
	mm_gates_stop();
	buddy_zones_lock(st);
	for (uint64_t pfn = start; pfn < end;) {
		unsigned owner;
		uint64_t n = buddy_run_at(pfn, &owner);

		if (pfn + n > end)
			n = end - pfn;
		fn(pfn, n, owner, arg);
		pfn += n;
	}
	buddy_zones_unlock(st);
	mm_gates_start();
	mm_unlock(irq);
}

unsigned buddy_unusable_index(enum zone_id zi, unsigned order)
{
	unsigned long s, free, suitable = 0;
	struct zone *z = (unsigned)zi < NR_ZONES ? &mm_zones[zi] : NULL;

	if (!z)
		return 0;
	s = zone_lock(z);
	free = z->free_pages;
	for (unsigned o = order; o <= MAX_ORDER; o++)
		suitable += z->area[o].nr_free << o;
	zone_unlock(z, s);
	if (!free)
		return 0;
	if (suitable > free)
		suitable = free;
	return (unsigned)((free - suitable) * 1000 / free);
}
