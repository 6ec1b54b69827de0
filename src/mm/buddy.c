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
 *    in allocated blocks == present_pages; the allocated total is
 *    stats.pages_in_use plus what the page lists' counters hold.
 * buddy_check() (buddy_check.c) verifies all of the above.
 * Every public entry point holds mm_lock() while it changes any of this;
 * the per-CPU page lists in front of it (buddy_pcp.c) take blocks of
 * orders 0..BUDDY_PCP_ORDER off the zones in batches and serve
 * alloc_pages / free_pages from them inside a CPU's gate. A frame's flags
 * may change under such a fast path while this file looks at it as a
 * buddy: those looks are atomic loads. */
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/shrinker.h"
#include "mm/mm_env.h"
#include "kerrno.h"
#include "mm_internal.h"

#include <string.h>

struct buddy_stats buddy_stats; /* shared with buddy_check.c */

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

static void buddy_list_add(struct zone *z, struct page *pg, unsigned order)
{
	pg->flags = PG_BUDDY;
	pg->order = (uint8_t)order;
	pg->owner = PAGE_OWNER_FREE;
	list_add(&pg->lru, &z->area[order].free_list);
	z->area[order].nr_free++;
	__atomic_store_n(&z->free_pages, z->free_pages + (1UL << order), __ATOMIC_RELAXED);   /* buddy_plenty */
}

static void buddy_list_del(struct zone *z, struct page *pg)
{
	list_del(&pg->lru);
	z->area[pg->order].nr_free--;
	__atomic_store_n(&z->free_pages, z->free_pages - (1UL << pg->order), __ATOMIC_RELAXED);
	pg->flags = 0;
}

void buddy_reset(void)
{
	memset(&buddy_stats, 0, sizeof(buddy_stats));
	buddy_pcp_reset();
	for (int z = 0; z < NR_ZONES; z++) {
		for (int o = 0; o <= MAX_ORDER; o++) {
			list_init(&mm_zones[z].area[o].free_list);
			mm_zones[z].area[o].nr_free = 0;
		}
		mm_zones[z].free_pages = 0;
	}
}

void buddy_add_initial_block(struct zone *z, uint64_t pfn, unsigned order)
{
	z->present_pages += 1UL << order;
	buddy_list_add(z, buddy_pfn_page(pfn), order);
}

void buddy_zone_set_watermarks(struct zone *z)
{
	unsigned long min = z->present_pages / 256;

	if (min < 16)
		min = 16;
	if (min > 1024)
		min = 1024;
	if (min > z->present_pages / 8)
		min = z->present_pages / 8;
	z->wmark_min = min;
	z->wmark_low = min * 5 / 4;
	z->wmark_high = min * 3 / 2;
	/* the page lists' batch: about a thousandth of the zone (as Linux's
	 * zone_batchsize), a power of two, 1..16 pages: a 128 MiB machine's
	 * Normal zone takes 16 pages a lock hold, its DMA zone 2 */
	z->pcp_batch = 1;
	while (z->pcp_batch < 16 && z->pcp_batch * 2 * 1024 <= z->present_pages)
		z->pcp_batch *= 2;
}

/* ---- allocation ---------------------------------------------------------- */

/* Put the upper halves of a 2^high block back until 2^low is left. */
static void buddy_split(struct zone *z, struct page *pg, unsigned high,
			unsigned low)
{
	while (high > low) {
		high--;
		buddy_list_add(z, pg + (1UL << high), high);
	}
}

/* Take a 2^order block from z, or NULL (empty, fragmented, or below min
 * unless dip). Inline, so the zone path keeps no call here; buddy_pcp.c has
 * buddy_zone_take. */
static inline __attribute__((always_inline)) struct page *
zone_take(struct zone *z, unsigned order, bool dip)
{
	if (!dip && z->free_pages < z->wmark_min + (1UL << order))
		return NULL;
	for (unsigned o = order; o <= MAX_ORDER; o++) {
		struct page *pg;

		if (list_empty(&z->area[o].free_list))
			continue;
		pg = list_first_entry(&z->area[o].free_list, struct page, lru);
		buddy_list_del(z, pg);
		buddy_split(z, pg, o, order);
		return pg;
	}
	return NULL;
}

/* Try the zones flags allow, preferred first (ids descend: High, Normal,
 * DMA), each above its min watermark; then, when dip (a GFP_RESERVE
 * request), the same zones below it: a reserve is the last resort, not a
 * zone's first pages (as Linux's slow path lowers watermarks only after
 * the normal walk failed). */
static struct page *buddy_take(gfp_t gfp, unsigned order, bool dip)
{
	int first = (gfp & GFP_DMA) ? ZONE_DMA :
		    (gfp & GFP_DMA32) ? ZONE_NORMAL : ZONE_HIGH;

	for (int pass = 0; pass <= (dip ? 1 : 0); pass++)
		for (int z = first; z >= ZONE_DMA; z--) {
			struct page *pg = zone_take(&mm_zones[z], order, pass);

			if (pg)
				return pg;
		}
	return NULL;
}

/* A pages-in-use figure seen: the peak if higher. The zone path's own
 * count may be below zero for a while (a block it handed out went back
 * through a page list, whose count is folded in at reads): signed. */
static void buddy_peak(unsigned long in_use)
{
	if ((long)in_use > (long)buddy_stats.peak_pages_in_use)
		buddy_stats.peak_pages_in_use = in_use;
}

static void buddy_prep_head(struct page *pg, unsigned order)
{
	pg->order = (uint8_t)order;
	buddy_head_reset(pg);
	list_init(&pg->lru);
	buddy_stats.successes++;
	buddy_stats.pages_in_use += 1UL << order;
	buddy_peak(buddy_stats.pages_in_use + buddy_pcp_out_seen);
}

/* buddy_try_alloc(), allowed below the watermarks only when dip. */
static int buddy_try(gfp_t gfp, unsigned order, struct page **out, bool dip)
{
	struct page *pg = NULL;
	unsigned long irq;

	if (out)
		*out = NULL;
	irq = mm_lock();
	buddy_stats.requests++;
	if (!out || order > MAX_ORDER) {
		buddy_stats.fail_inval++;
		mm_unlock(irq);
		return -EINVAL;
	}
	if (faultinj_should_fail(FI_PAGE, PAGE_SIZE << order, gfp)) {
		buddy_stats.fail_injected++;
		mm_unlock(irq);
		return -ENOMEM;
	}
	pg = buddy_take(gfp, order, dip);
	if (!pg) {
		buddy_stats.fail_nomem++;
		mm_unlock(irq);
		return -ENOMEM;
	}
	buddy_prep_head(pg, order);
	mm_unlock(irq);
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
	unsigned long s = mm_lock();

	buddy_stats.requests--;
	buddy_stats.fail_nomem--;
	mm_unlock(s);
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
	if (ret == -ENOMEM && (gfp & GFP_RESERVE) && faultinj_injected() == injected) {
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

/* For a frame that heads nothing: the free or allocated block holding it.
 * *head_pfn is UINT64_MAX when no block holds it (a broken invariant). */
static enum buddy_free_err buddy_find_container(uint64_t pfn, uint64_t *head_pfn)
{
	for (unsigned o = 1; o <= MAX_ORDER; o++) {
		uint64_t h = pfn & ~((1ULL << o) - 1);
		const struct page *hp = pfn_to_page(h);
		uint32_t f;

		if (!hp)
			break;
		f = __atomic_load_n(&hp->flags, __ATOMIC_RELAXED);
		if ((f & (PG_BUDDY | PG_PCP | PG_HEAD)) && pfn - h < (1ULL << hp->order)) {
			*head_pfn = h;
			return (f & (PG_BUDDY | PG_PCP)) ? BF_IN_FREE : BF_INTERIOR;
		}
	}
	*head_pfn = UINT64_MAX;
	return BF_INTERIOR;
}

/* Whether pg/order names an allocated block; never trusts pg. */
static enum buddy_free_err buddy_free_check(const struct page *pg, unsigned order,
					    uint64_t *info)
{
	uintptr_t off = (uintptr_t)pg - (uintptr_t)page_map;
	uint64_t pfn;
	uint32_t f;

	if (!pg)
		return BF_NULL;
	if (!page_map || off % sizeof(struct page) ||
	    off / sizeof(struct page) >= page_nr_frames)
		return BF_NOT_FRAME;
	if (order > MAX_ORDER)
		return BF_BAD_ORDER;
	pfn = page_to_pfn(pg);
	f = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);   /* a page list's may change */
	if (f & PG_RESERVED)
		return BF_RESERVED;
	if (f & (PG_BUDDY | PG_PCP))
		return BF_FREE;
	if (f & PG_TAIL) {
		*info = pfn - pg->head_off;
		return BF_TAIL;
	}
	if (!(f & PG_HEAD))
		return buddy_find_container(pfn, info);
	if (pfn & ((1ULL << order) - 1))
		return BF_UNALIGNED;
	*info = pg->order;
	return pg->order != order ? BF_WRONG_ORDER : BF_OK;
}

/* Report a refused free in one line, naming the caller. */
static int buddy_report_refusal(enum buddy_free_err err, const void *what,
				unsigned order, uint64_t info, void *caller)
{
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

/* Count and report a free refused before it reached the frame array. */
static int buddy_refuse(enum buddy_free_err err, const void *what,
			unsigned order, void *caller)
{
	unsigned long irq = mm_lock();

	buddy_stats.wrong_frees++;
	mm_unlock(irq);
	return buddy_report_refusal(err, what, order, 0, caller);
}

/* Return the block to its zone, merging with free buddies upward. A buddy
 * is looked at with an atomic load of its flags: a page list's fast path
 * may be changing them (a block on a list is not PG_BUDDY, and a PG_BUDDY
 * one is the mm lock's). Inline, so the zone path keeps no call here;
 * buddy_pcp.c has buddy_merge. */
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
		buddy_list_del(z, b);
		pfn &= ~(1ULL << order);
		order++;
	}
	buddy_list_add(z, buddy_pfn_page(pfn), order);
}

/* Give a checked allocated block back. Called with mm_lock held. */
static void buddy_release(struct page *pg, unsigned order)
{
	if (pg->flags & PG_COMPOUND)
		page_clear_compound(pg, order);
	pg->flags = 0;
	pg->owner = PAGE_OWNER_FREE;   /* owners stay on heads only (page.h) */
	pg->priv = NULL;
	pg->mem = NULL;
	pg->inuse = 0;
	pg->kind = 0;
	pg->head_off = 0;
	merge(pg, order);
	buddy_stats.frees++;
	buddy_stats.pages_in_use -= 1UL << order;
}

/* mm_internal.h: the zone path's own, for the page lists. */
struct page *buddy_zone_take(struct zone *z, unsigned order, bool dip)
{
	return zone_take(z, order, dip);
}

void buddy_merge(struct page *pg, unsigned order)
{
	merge(pg, order);
}

/* Check and release under one lock hold, so two racing frees of one block
 * cannot both pass; report outside it. The block must belong to `owner`:
 * a slab, heap run or page table is never freed through the page API. */
static int buddy_free(struct page *pg, unsigned order, unsigned owner, void *caller)
{
	uint64_t info = 0;
	unsigned long irq = mm_lock();
	enum buddy_free_err err = buddy_free_check(pg, order, &info);

	if (err == BF_OK && pg->owner != owner) {
		err = BF_WRONG_OWNER;
		info = pg->owner;
	}
	/* a block the page lists take: claimed as their fast path claims it,
	 * so a free racing on another CPU cannot take it too (buddy_pcp.c) */
	if (err == BF_OK && owner == PAGE_OWNER_PAGES && order <= BUDDY_PCP_ORDER) {
		uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);

		if ((f & PG_PCP) || !mm_cas32(&pg->flags, f, f | PG_PCP))
			err = BF_FREE;
	}

	if (err == BF_OK)
		buddy_release(pg, order);
	else
		buddy_stats.wrong_frees++;
	mm_unlock(irq);
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
		return buddy_refuse(BF_ADDR_UNALIGNED, addr, order, caller);
	pg = virt_to_page(addr);
	if (!pg)
		return buddy_refuse(BF_ADDR_NOT_RAM, addr, order, caller);
	if (buddy_pcp_free(pg, order) == 0)
		return 0;
	return buddy_free(pg, order, PAGE_OWNER_PAGES, caller);
}

/* ---- statistics ------------------------------------------------------- */

unsigned long buddy_free_pages(void)
{
	unsigned long irq = mm_lock(), n;

	mm_gates_stop();   /* the page lists hold still */
	n = buddy_pcp_fold(NULL, NULL);
	mm_gates_start();
	for (int z = 0; z < NR_ZONES; z++)
		n += mm_zones[z].free_pages;
	mm_unlock(irq);
	return n;
}

/* A hint, read without the lock (a count another CPU changes meanwhile
 * only makes the answer a moment old). */
bool buddy_plenty(void)
{
	unsigned long free = 0, low = 0;

	for (int z = ZONE_NORMAL; z < NR_ZONES; z++) {
		free += __atomic_load_n(&mm_zones[z].free_pages, __ATOMIC_RELAXED);
		low += mm_zones[z].wmark_low;
	}
	return free > low;
}

void buddy_get_stats(struct buddy_stats *out)
{
	unsigned long irq = mm_lock();

	*out = buddy_stats;
	mm_gates_stop();   /* every CPU's page-list counters hold still */
	buddy_pcp_fold(out, NULL);
	mm_gates_start();
	buddy_peak(out->pages_in_use);
	out->peak_pages_in_use = buddy_stats.peak_pages_in_use;
	mm_unlock(irq);
}

unsigned buddy_unusable_index(enum zone_id zi, unsigned order)
{
	unsigned long irq, free, suitable = 0;
	const struct zone *z = zone_get(zi);

	if (!z)
		return 0;
	irq = mm_lock();
	free = z->free_pages;
	for (unsigned o = order; o <= MAX_ORDER; o++)
		suitable += z->area[o].nr_free << o;
	mm_unlock(irq);
	if (!free)
		return 0;
	if (suitable > free)
		suitable = free;
	return (unsigned)((free - suitable) * 1000 / free);
}
