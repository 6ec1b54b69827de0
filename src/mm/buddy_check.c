/* buddy_check.c - buddy_check(): prove the buddy invariants (see buddy.c
 * and buddy_pcp.c) hold, or report each one that does not.
 *
 * Passes under mm_lock with every gate stopped (the CPUs' page lists hold
 * still) and every zone's lock taken (buddy.c's order): every zone's free lists (links, flags, order, zone, alignment,
 * counts), every CPU's page lists (the same, for PG_PCP blocks, and each
 * list's count), then the whole frame array block by block (every frame
 * reserved or inside exactly one block, interiors clean, buddies merged,
 * per-zone totals: free on the zone's lists + free on page lists +
 * allocated == present, and the PG_PCP heads are the blocks the page lists
 * hold). A block on two lists breaks one list's back links. Never trusts
 * a link before checking it points at an element of the frame array, and
 * bounds every list walk, so a corrupted structure is reported, not
 * followed. O(frames); a debugging and test aid, not a hot path. Changes
 * nothing. Nothing is reported while the zone locks are held (they are
 * innermost: mm_report takes the console's): the first few violations are
 * formatted into a buffer of the mm lock's and reported after. */
#include <string.h>
#include "mm/buddy.h"
#include "mm/mm_env.h"
#include "lib/printf.h"
#include "mm_internal.h"

/* Violations reported in full; the rest are only counted. */
#define BUDDY_CHECK_REPORT_MAX 16
#define BUDDY_CHECK_LINE 200

struct buddy_check_ctx {
	int violations;
	unsigned long list_blocks[NR_ZONES]; /* blocks found on free lists */
	unsigned long heads[NR_ZONES];       /* PG_BUDDY heads in the array */
	unsigned long free[NR_ZONES];        /* frames in free blocks */
	unsigned long released[NR_ZONES];    /* frames in released free blocks */
	unsigned long used[NR_ZONES];        /* frames in allocated blocks */
	unsigned long pcp_listed[NR_ZONES];  /* blocks on the CPUs' page lists */
	unsigned long pcp_listed_frames[NR_ZONES];
	unsigned long pcp_heads[NR_ZONES];   /* PG_PCP heads in the array */
	unsigned long pcp_frames[NR_ZONES];  /* frames in them */
	char said[BUDDY_CHECK_REPORT_MAX][BUDDY_CHECK_LINE];   /* reported after */
};

/* Under the mm lock: too large for a hart's stack frame to spare. */
static struct buddy_check_ctx check_ctx;

#define VIOLATION(c, ...)                                                  \
	do {                                                               \
		if ((c)->violations < BUDDY_CHECK_REPORT_MAX)              \
			ksnprintf((c)->said[(c)->violations], BUDDY_CHECK_LINE, \
				  __VA_ARGS__);                            \
		(c)->violations++;                                         \
	} while (0)

/* The struct page owning a list link, or NULL if it is not one. */
static const struct page *check_link_page(const struct list_head *pos)
{
	uintptr_t off = (uintptr_t)pos - offsetof(struct page, lru) -
			(uintptr_t)page_map;

	if (!page_map || off % sizeof(struct page) ||
	    off / sizeof(struct page) >= page_nr_frames)
		return NULL;
	return list_entry(pos, const struct page, lru);
}

static void check_free_entry(struct buddy_check_ctx *c, unsigned zi,
			     unsigned o, const struct page *pg)
{
	const struct zone *z = &mm_zones[zi];
	unsigned long pfn = (unsigned long)page_to_pfn(pg);

	if (pg->flags != PG_BUDDY || pg->order != o || pg->zone != zi)
		VIOLATION(c, "%s order-%u list: pfn 0x%lx has flags 0x%x order %u zone %u",
			  z->name, o, pfn, (unsigned)pg->flags, (unsigned)pg->order,
			  (unsigned)pg->zone);
	if ((pfn & ((1UL << o) - 1)) || pfn < z->start_pfn ||
	    pfn + (1UL << o) > z->end_pfn)
		VIOLATION(c, "%s order-%u list: pfn 0x%lx misaligned or outside the zone",
			  z->name, o, pfn);
}

/* Walk one free list; returns the blocks on it. */
static unsigned long check_free_list(struct buddy_check_ctx *c, unsigned zi,
				     unsigned o)
{
	const struct free_area *a = &mm_zones[zi].area[o];
	const struct list_head *prev = &a->free_list, *pos = a->free_list.next;
	unsigned long count = 0;

	while (pos != &a->free_list) {
		const struct page *pg = check_link_page(pos);

		if (!pg) {
			VIOLATION(c, "%s order-%u list: link %p is not a frame",
				  mm_zones[zi].name, o, (const void *)pos);
			break;
		}
		if (pos->prev != prev)
			VIOLATION(c, "%s order-%u list: broken back link at pfn 0x%lx",
				  mm_zones[zi].name, o, (unsigned long)page_to_pfn(pg));
		if (++count > page_nr_frames) {
			VIOLATION(c, "%s order-%u list: loops", mm_zones[zi].name, o);
			break;
		}
		check_free_entry(c, zi, o, pg);
		prev = pos;
		pos = pos->next;
	}
	if (count != a->nr_free)
		VIOLATION(c, "%s order-%u: nr_free %lu but %lu blocks listed",
			  mm_zones[zi].name, o, a->nr_free, count);
	return count;
}

static void check_zone_lists(struct buddy_check_ctx *c, unsigned zi)
{
	const struct zone *z = &mm_zones[zi];
	unsigned long pages = 0;

	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		c->list_blocks[zi] += check_free_list(c, zi, o);
		pages += z->area[o].nr_free << o;
	}
	if (pages != z->free_pages)
		VIOLATION(c, "%s: free_pages %lu but free lists count %lu",
			  z->name, z->free_pages, pages);
}

/* ---- the CPUs' page lists --------------------------------------------------- */

static void check_pcp_entry(struct buddy_check_ctx *c, unsigned cpu, unsigned zi,
			    unsigned o, const struct page *pg)
{
	const struct zone *z = &mm_zones[zi];
	unsigned long pfn = (unsigned long)page_to_pfn(pg);

	if (pg->flags != PG_PCP || pg->order != o || pg->zone != zi ||
	    pg->owner != PAGE_OWNER_FREE)
		VIOLATION(c, "cpu %u %s order-%u page list: pfn 0x%lx has flags 0x%x order %u "
			  "zone %u owner %s", cpu, z->name, o, pfn, (unsigned)pg->flags,
			  (unsigned)pg->order, (unsigned)pg->zone, page_owner_name(pg->owner));
	if ((pfn & ((1UL << o) - 1)) || pfn < z->start_pfn || pfn + (1UL << o) > z->end_pfn)
		VIOLATION(c, "cpu %u %s order-%u page list: pfn 0x%lx misaligned or outside "
			  "the zone", cpu, z->name, o, pfn);
}

/* Walk one CPU's list of zone zi and order o; returns the blocks on it. */
static unsigned long check_pcp_list(struct buddy_check_ctx *c, unsigned cpu, unsigned zi,
				    unsigned o)
{
	const struct buddy_pcp_list *l = &buddy_pcp[cpu].list[zi][o];
	const struct list_head *prev = &l->blocks, *pos = l->blocks.next;
	unsigned long count = 0;

	if (!pos) {   /* never used (buddy_pcp.c, pcp_list_ready): empty */
		if (l->count)
			VIOLATION(c, "cpu %u %s order-%u page list: count %lu but never set up",
				  cpu, mm_zones[zi].name, o, l->count);
		return 0;
	}

	while (pos != &l->blocks) {
		const struct page *pg = check_link_page(pos);

		if (!pg) {
			VIOLATION(c, "cpu %u %s order-%u page list: link %p is not a frame",
				  cpu, mm_zones[zi].name, o, (const void *)pos);
			break;
		}
		if (pos->prev != prev)
			VIOLATION(c, "cpu %u %s order-%u page list: broken back link at pfn 0x%lx",
				  cpu, mm_zones[zi].name, o, (unsigned long)page_to_pfn(pg));
		if (++count > page_nr_frames) {
			VIOLATION(c, "cpu %u %s order-%u page list: loops", cpu,
				  mm_zones[zi].name, o);
			break;
		}
		check_pcp_entry(c, cpu, zi, o, pg);
		prev = pos;
		pos = pos->next;
	}
	if (count != l->count)
		VIOLATION(c, "cpu %u %s order-%u page list: count %lu but %lu blocks listed",
			  cpu, mm_zones[zi].name, o, l->count, count);
	return count;
}

static void check_pcp_lists(struct buddy_check_ctx *c)
{
	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++)
		for (unsigned zi = 0; zi < NR_ZONES; zi++)
			for (unsigned o = 0; o <= BUDDY_PCP_ORDER; o++) {
				unsigned long n = check_pcp_list(c, cpu, zi, o);

				c->pcp_listed[zi] += n;
				c->pcp_listed_frames[zi] += n << o;
			}
}

/* ---- the frame array --------------------------------------------------------- */

/* Interior frames of the block at index i: clean, or tails of it. */
static void check_interior(struct buddy_check_ctx *c, uint64_t i, uint64_t n)
{
	const struct page *head = &page_map[i];
	bool compound = (head->flags & PG_COMPOUND) != 0;

	for (uint64_t j = 1; j < n; j++) {
		const struct page *q = &page_map[i + j];
		bool ok = compound ? (q->flags == PG_TAIL && q->head_off == j)
				   : q->flags == 0;

		if (!ok || q->zone != head->zone || q->owner != PAGE_OWNER_FREE) {
			VIOLATION(c, "pfn 0x%lx inside block 0x%lx has flags 0x%x zone %u owner %s",
				  (unsigned long)(page_base_pfn + i + j),
				  (unsigned long)(page_base_pfn + i),
				  (unsigned)q->flags, (unsigned)q->zone, page_owner_name(q->owner));
			return;
		}
	}
}

/* A free block whose equal-order buddy is also free was never merged. */
static void check_coalesced(struct buddy_check_ctx *c, uint64_t pfn, unsigned o)
{
	const struct zone *z = &mm_zones[page_map[pfn - page_base_pfn].zone];
	uint64_t bpfn = pfn ^ (1ULL << o);
	const struct page *b;

	if (o >= MAX_ORDER || bpfn < pfn || bpfn + (1ULL << o) > z->end_pfn)
		return;
	b = &page_map[bpfn - page_base_pfn];
	if ((b->flags & PG_BUDDY) && b->order == o)
		VIOLATION(c, "free buddies 0x%lx and 0x%lx of order %u not merged",
			  (unsigned long)pfn, (unsigned long)bpfn, o);
}

/* Check the block (or reserved frame) at index i; returns frames to skip. */
static uint64_t check_block(struct buddy_check_ctx *c, uint64_t i)
{
	const struct page *pg = &page_map[i];
	unsigned long pfn = (unsigned long)(page_base_pfn + i);
	const struct zone *z = pg->zone < NR_ZONES ? &mm_zones[pg->zone] : NULL;
	uint64_t n = pg->order <= MAX_ORDER ? 1ULL << pg->order : 1;

	if (pg->flags == PG_RESERVED && (pg->owner == PAGE_OWNER_RESERVED ||
					 pg->owner == PAGE_OWNER_KERNEL))
		return 1;
	if (!z || !(pg->flags & (PG_BUDDY | PG_PCP | PG_HEAD)) ||
	    (pg->flags & (PG_RESERVED | PG_TAIL)) ||
	    ((pg->flags & PG_BUDDY) && (pg->flags & (PG_HEAD | PG_COMPOUND | PG_PCP))) ||
	    ((pg->flags & PG_PCP) && (pg->flags != PG_PCP || pg->order > BUDDY_PCP_ORDER)) ||
	    pg->order > MAX_ORDER || (pfn & (n - 1)) || pfn < z->start_pfn ||
	    pfn + n > z->end_pfn) {
		VIOLATION(c, "pfn 0x%lx is in no block: flags 0x%x order %u zone %u owner %s",
			  pfn, (unsigned)pg->flags, (unsigned)pg->order,
			  (unsigned)pg->zone, page_owner_name(pg->owner));
		return 1;
	}
	check_interior(c, i, n);
	if (pg->flags & PG_BUDDY) {
		if (pg->kind == BUDDY_RELEASED)
			c->released[pg->zone] += n;
		else if (pg->kind)
			VIOLATION(c, "free pfn 0x%lx has kind %u", pfn, (unsigned)pg->kind);
		c->free[pg->zone] += n;
		c->heads[pg->zone]++;
		check_coalesced(c, pfn, pg->order);
	} else if (pg->flags & PG_PCP) {
		c->pcp_frames[pg->zone] += n;
		c->pcp_heads[pg->zone]++;
	} else {
		c->used[pg->zone] += n;
	}
	return n;
}

static void check_totals(struct buddy_check_ctx *c)
{
	struct buddy_stats st;
	unsigned long used = 0;

	for (unsigned zi = 0; zi < NR_ZONES; zi++) {
		const struct zone *z = &mm_zones[zi];

		used += c->used[zi];
		if (c->free[zi] != z->free_pages || c->heads[zi] != c->list_blocks[zi])
			VIOLATION(c, "%s: %lu free frames in %lu blocks in the array, "
				  "%lu in %lu blocks on the lists", z->name, c->free[zi],
				  c->heads[zi], z->free_pages, c->list_blocks[zi]);
		if (c->released[zi] != z->released)
			VIOLATION(c, "%s: %lu frames in released free blocks but released %lu",
				  z->name, c->released[zi], z->released);
		if (c->pcp_frames[zi] != c->pcp_listed_frames[zi] ||
		    c->pcp_heads[zi] != c->pcp_listed[zi])
			VIOLATION(c, "%s: %lu page-list frames in %lu blocks in the array, "
				  "%lu in %lu blocks on the CPUs' page lists", z->name,
				  c->pcp_frames[zi], c->pcp_heads[zi], c->pcp_listed_frames[zi],
				  c->pcp_listed[zi]);
		if (c->free[zi] + c->pcp_frames[zi] + c->used[zi] != z->present_pages)
			VIOLATION(c, "%s: free %lu + on page lists %lu + allocated %lu != present %lu",
				  z->name, c->free[zi], c->pcp_frames[zi], c->used[zi],
				  z->present_pages);
	}
	buddy_sum_locked(&st);   /* the zones' and the page lists' shares of pages_in_use */
	buddy_peak_see(st.pages_in_use);   /* a fold (buddy.c) */
	if (used != st.pages_in_use)
		VIOLATION(c, "allocated frames %lu but pages_in_use %lu", used, st.pages_in_use);
}

int buddy_check(void)
{
	struct buddy_check_ctx *c = &check_ctx;
	unsigned long irq = mm_lock(), st[NR_ZONES];
	int violations;

	memset(c, 0, sizeof(*c));
	mm_gates_stop();   /* every CPU's page lists hold still */
	buddy_zones_lock(st);
	for (unsigned zi = 0; zi < NR_ZONES; zi++)
		check_zone_lists(c, zi);
	check_pcp_lists(c);
	for (uint64_t i = 0; i < page_nr_frames; i += check_block(c, i))
		;
	check_totals(c);
	buddy_zones_unlock(st);
	mm_gates_start();
	violations = c->violations;
	for (int i = 0; i < violations && i < BUDDY_CHECK_REPORT_MAX; i++)
		mm_report("buddy_check: %s", c->said[i]);
	mm_unlock(irq);
	if (violations > BUDDY_CHECK_REPORT_MAX)
		mm_report("buddy_check: %d violations (%d not shown)", violations,
			  violations - BUDDY_CHECK_REPORT_MAX);
	return violations;
}
