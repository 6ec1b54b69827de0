/* page.c - the frame array and the zones, built once from the memory layout.
 *
 * Turns the device tree's RAM and reserved ranges into one struct page per
 * frame and three zone spans, then hands every usable frame to the buddy
 * allocator as maximal aligned blocks. Not the allocator itself (buddy.c)
 * and not paging (vm).
 *
 * Set-up is linear in the number of frames and never walks the coalescing
 * free path: every frame is stamped reserved, RAM is stamped free, the
 * reserved ranges, the kernel image and the array itself are stamped back,
 * and one pass cuts each run of free frames (within one zone) into the
 * largest naturally aligned blocks. A block therefore never straddles a
 * hole, a reserved frame or a zone boundary, and each one is already
 * maximal, so nothing needs merging.
 *
 * Set-up runs under the mm lock, before any other CPU uses the mm (the
 * host calls it again only while no other thread does); each block goes
 * on its zone's lists under the zone's lock (mm/buddy.c). A zone's span,
 * present_pages and watermarks change after that only at a hot-add
 * (page_hot_add: the host's arenas that grow), under the mm lock and
 * every zone lock; present_pages is stored atomically for the readers
 * that skip empty zones without a lock. Lock order: mm lock -> zone
 * lock, as everywhere (mm/buddy.c). */
#include "mm/page.h"
#include "mm/buddy.h"
#include "mm/mm_env.h"
#include "mm/shrinker.h"
#include "kerrno.h"
#include "mm_internal.h"

#include <string.h>

struct page *page_map;
uint64_t page_base_pfn;
uint64_t page_nr_frames;
uint64_t page_cap_frames;
uintptr_t mm_virt_offset;
uintptr_t page_virt_base;
struct zone mm_zones[NR_ZONES];

static const char *const zone_names[NR_ZONES] = { "DMA", "Normal", "High" };
static const char *const owner_names[PAGE_OWNER_NR] = {
	"free", "reserved", "kernel", "pages", "slab", "heap", "pgtable", "large",
	"kcache", "user", "upgtable",
};

/* Frames per counted owner (page_owner_pages); the others stay 0. */
static unsigned long owner_pages[PAGE_OWNER_NR];

#define owner_counted page_owner_counted

_Static_assert(sizeof(struct page) <= 64, "struct page must stay small");

#define PFN_4G (ZONE_HIGH_BASE >> PAGE_SHIFT)

struct pfn_range {
	uint64_t start, end; /* [start, end) */
};

static uint64_t pfn_up(uint64_t addr)
{
	return (addr >> PAGE_SHIFT) + ((addr & (PAGE_SIZE - 1)) != 0);
}

/* RAM region i rounded inward to whole frames (may come out empty). */
static struct pfn_range page_ram_range(const struct mm_layout *l, int i)
{
	struct pfn_range r;

	r.start = pfn_up(l->ram[i].base);
	r.end = (l->ram[i].base + l->ram[i].size) >> PAGE_SHIFT;
	if (r.end < r.start)
		r.end = r.start;
	return r;
}

/* Reserved range i (i == nreserved: the kernel image), rounded outward. */
static struct pfn_range page_resv_range(const struct mm_layout *l, int i)
{
	const struct mm_region *m = i < l->nreserved ? &l->reserved[i] : &l->kernel;
	struct pfn_range r = { 0, 0 };

	if (m->size) {
		r.start = m->base >> PAGE_SHIFT;
		r.end = pfn_up(m->base + m->size);
	}
	return r;
}

static bool region_wraps(const struct mm_region *m)
{
	return m->size > UINT64_MAX - m->base;
}

/* -EINVAL for a layout that cannot describe memory; 0 otherwise. */
static int page_layout_check(const struct mm_layout *l)
{
	if (!l || !l->ram || l->nram <= 0 || l->nreserved < 0 ||
	    (l->nreserved > 0 && !l->reserved) ||
	    (l->virt_offset & (PAGE_SIZE - 1)) || region_wraps(&l->kernel))
		return -EINVAL;
	for (int i = 0; i < l->nreserved; i++)
		if (region_wraps(&l->reserved[i]))
			return -EINVAL;
	for (int i = 0; i < l->nram; i++) {
		const struct mm_region *a = &l->ram[i];

		if (region_wraps(a))
			return -EINVAL;
		for (int j = 0; j < i; j++) {
			const struct mm_region *b = &l->ram[j];

			if (a->size && b->size && a->base < b->base + b->size &&
			    b->base < a->base + a->size)
				return -EINVAL;
		}
	}
	return 0;
}

/* The frame span [lowest RAM frame, highest RAM frame + 1); -EINVAL when
 * there is no whole frame or the span is too large for head_off. */
static int page_span(const struct mm_layout *l, struct pfn_range *span)
{
	span->start = UINT64_MAX;
	span->end = 0;
	for (int i = 0; i < l->nram; i++) {
		struct pfn_range r = page_ram_range(l, i);

		if (r.start == r.end)
			continue;
		if (r.start < span->start)
			span->start = r.start;
		if (r.end > span->end)
			span->end = r.end;
	}
	if (span->end <= span->start || span->end - span->start > UINT32_MAX)
		return -EINVAL;
	return 0;
}

/* Whether [s, e) lies inside one RAM region and clear of every reserved
 * range; when it hits a reserved range, *next is where to try again. */
static bool page_spot_free(const struct mm_layout *l, uint64_t s, uint64_t e,
			   uint64_t *next)
{
	bool in_ram = false;

	*next = UINT64_MAX;
	for (int i = 0; i < l->nram && !in_ram; i++) {
		struct pfn_range r = page_ram_range(l, i);

		in_ram = r.start <= s && e <= r.end;
	}
	if (!in_ram)
		return false;
	for (int i = 0; i <= l->nreserved; i++) {
		struct pfn_range r = page_resv_range(l, i);

		if (r.start < e && s < r.end) {
			*next = r.end;
			return false;
		}
	}
	return true;
}

/* Where `need` frames fit: a free spot starts at a RAM region's start,
 * right after a reserved range, or at `above`. The lowest spot at or above
 * `above` wins (so the array stays out of the DMA zone, which is kept for
 * device buffers); failing that, the lowest spot anywhere. -ENOMEM when
 * there is none. */
static int page_place_array(const struct mm_layout *l, uint64_t need,
			    uint64_t above, uint64_t *out)
{
	uint64_t best = UINT64_MAX, low = UINT64_MAX, next;

	for (int i = 0; i <= l->nram + l->nreserved + 1; i++) {
		uint64_t c = i < l->nram ? page_ram_range(l, i).start
			   : i <= l->nram + l->nreserved ? page_resv_range(l, i - l->nram).end
			   : above;

		if (c + need <= c || !page_spot_free(l, c, c + need, &next))
			continue;
		if (c < low)
			low = c;
		if (c >= above && c < best)
			best = c;
	}
	if (best == UINT64_MAX)
		best = low;
	if (best == UINT64_MAX)
		return -ENOMEM;
	*out = best;
	return 0;
}

static void page_zones_init(uint64_t lo, uint64_t hi)
{
	uint64_t low_end = hi < PFN_4G ? hi : PFN_4G;
	uint64_t dma_end;

	if (low_end < lo)
		low_end = lo;
	dma_end = lo + (ZONE_DMA_SIZE >> PAGE_SHIFT);
	if (dma_end > low_end)
		dma_end = low_end;
	mm_zones[ZONE_DMA].start_pfn = lo;
	mm_zones[ZONE_DMA].end_pfn = dma_end;
	mm_zones[ZONE_NORMAL].start_pfn = dma_end;
	mm_zones[ZONE_NORMAL].end_pfn = low_end;
	mm_zones[ZONE_HIGH].start_pfn = low_end;
	mm_zones[ZONE_HIGH].end_pfn = hi;
}

/* Stamp the frames of r (clipped to the array) with flags and owner. */
static void page_mark(struct pfn_range r, uint32_t flags, unsigned owner)
{
	uint64_t end = page_base_pfn + page_nr_frames;

	if (r.start < page_base_pfn)
		r.start = page_base_pfn;
	if (r.end > end)
		r.end = end;
	for (uint64_t pfn = r.start; pfn < r.end; pfn++) {
		struct page *pg = &page_map[pfn - page_base_pfn];

		pg->flags = flags;
		pg->owner = (uint8_t)owner;
	}
}

/* Every frame starts as a reserved hole of its zone. */
static void page_map_clear(void)
{
	unsigned z = ZONE_DMA;

	for (uint64_t i = 0; i < page_nr_frames; i++) {
		struct page *pg = &page_map[i];

		while (page_base_pfn + i >= mm_zones[z].end_pfn && z < ZONE_HIGH)
			z++;
		memset(pg, 0, sizeof(*pg));
		list_init(&pg->lru);
		pg->flags = PG_RESERVED;
		pg->owner = PAGE_OWNER_RESERVED;
		pg->zone = (uint8_t)z;
	}
}

/* Cut the free run [pfn, end) of zone z into maximal aligned blocks. */
static void page_release_run(struct zone *z, uint64_t pfn, uint64_t end)
{
	while (pfn < end) {
		unsigned order = MAX_ORDER;

		while (order > 0 && ((pfn & ((1ULL << order) - 1)) ||
				     pfn + (1ULL << order) > end))
			order--;
		buddy_add_initial_block(z, pfn, order);
		pfn += 1ULL << order;
	}
}

/* Hand every run of free frames to the buddy allocator, zone by zone. */
static void page_release_free(void)
{
	uint64_t i = 0;

	while (i < page_nr_frames) {
		uint64_t start = i;
		uint8_t zone = page_map[i].zone;

		if (page_map[i].owner != PAGE_OWNER_FREE) {
			i++;
			continue;
		}
		while (i < page_nr_frames && page_map[i].owner == PAGE_OWNER_FREE &&
		       page_map[i].zone == zone)
			i++;
		page_release_run(&mm_zones[zone], page_base_pfn + start,
				 page_base_pfn + i);
	}
	for (int z = 0; z < NR_ZONES; z++)
		buddy_zone_set_watermarks(&mm_zones[z]);
}

/* Forget everything: no frames, empty zones, zeroed counters, and a
 * reclaim registry holding only the page lists' keeper (buddy_reset
 * registers it; the layers above register theirs as they initialise). */
static void page_state_reset(void)
{
	shrinker_reset();
	page_map = NULL;
	page_base_pfn = 0;
	page_nr_frames = 0;
	page_cap_frames = 0;
	mm_virt_offset = 0;
	page_virt_base = 0;
	memset(mm_zones, 0, sizeof(mm_zones));
	memset(owner_pages, 0, sizeof(owner_pages));
	for (int z = 0; z < NR_ZONES; z++)
		mm_zones[z].name = zone_names[z];
	buddy_reset();
}

/* array: where the frame array lies in RAM, or empty when the caller gave
 * it (l->frame_array). */
static void page_build(const struct mm_layout *l, struct pfn_range span,
		       struct pfn_range array)
{
	mm_virt_offset = l->virt_offset;
	page_base_pfn = span.start;
	page_nr_frames = span.end - span.start;
	page_cap_frames = page_nr_frames + (l->frame_array ? l->hotadd_frames : 0);
	page_virt_base = (span.start << PAGE_SHIFT) + l->virt_offset;
	page_map = l->frame_array ? l->frame_array :
		   (struct page *)(uintptr_t)((array.start << PAGE_SHIFT) + l->virt_offset);
	page_zones_init(span.start, span.end);
	page_map_clear();
	for (int i = 0; i < l->nram; i++)
		page_mark(page_ram_range(l, i), 0, PAGE_OWNER_FREE);
	for (int i = 0; i < l->nreserved; i++)
		page_mark(page_resv_range(l, i), PG_RESERVED, PAGE_OWNER_RESERVED);
	page_mark(page_resv_range(l, l->nreserved), PG_RESERVED, PAGE_OWNER_KERNEL);
	page_mark(array, PG_RESERVED, PAGE_OWNER_RESERVED);
	page_release_free();
}

int page_alloc_init(const struct mm_layout *l)
{
	struct pfn_range span, array = { 0, 0 };
	unsigned long flags = mm_lock();
	int err;

	page_state_reset();
	err = page_layout_check(l);
	if (!err)
		err = page_span(l, &span);
	if (!err && l->frame_array && l->hotadd_frames > UINT32_MAX - (span.end - span.start))
		err = -EINVAL;   /* head_off must reach across the whole array */
	if (!err && !l->frame_array) {
		uint64_t bytes = (span.end - span.start) * sizeof(struct page);

		err = page_place_array(l, pfn_up(bytes),
				       span.start + (ZONE_DMA_SIZE >> PAGE_SHIFT), &array.start);
		array.end = array.start + pfn_up(bytes);
	}
	if (!err)
		page_build(l, span, array);
	mm_unlock(flags);
	return err;
}

/* The zone whose span holds pfn (the spans as page_zones_init drew them). */
static unsigned page_zone_of(uint64_t pfn)
{
	unsigned z = ZONE_DMA;

	while (z < ZONE_HIGH && pfn >= mm_zones[z].end_pfn)
		z++;
	return z;
}

int page_hot_add(phys_addr_t base, uint64_t size)
{
	unsigned long f = mm_lock(), zs[NR_ZONES];
	uint64_t start = page_base_pfn + page_nr_frames, n = size >> PAGE_SHIFT, end, pfn;

	if (!size || ((base | size) & (PAGE_SIZE - 1)) || !page_map ||
	    base >> PAGE_SHIFT != start) {
		mm_unlock(f);
		return -EINVAL;
	}
	if (n > page_cap_frames - page_nr_frames) {
		mm_unlock(f);
		return -ENOSPC;
	}
	end = start + n;
	buddy_zones_lock(zs);
	page_zones_init(page_base_pfn, end);
	for (pfn = start; pfn < end; pfn++) {
		struct page *pg = &page_map[pfn - page_base_pfn];

		memset(pg, 0, sizeof(*pg));
		list_init(&pg->lru);
		pg->owner = PAGE_OWNER_FREE;
		pg->zone = (uint8_t)page_zone_of(pfn);
	}
	__atomic_store_n(&page_nr_frames, page_nr_frames + n, __ATOMIC_RELEASE);
	for (pfn = start; pfn < end;) {
		unsigned z = page_zone_of(pfn), order = MAX_ORDER;
		uint64_t zend = mm_zones[z].end_pfn < end ? mm_zones[z].end_pfn : end;

		while (order > 0 && ((pfn & ((1ULL << order) - 1)) || pfn + (1ULL << order) > zend))
			order--;
		buddy_hot_add_block(&mm_zones[z], pfn, order);
		pfn += 1ULL << order;
	}
	for (int z = 0; z < NR_ZONES; z++)
		buddy_zone_set_watermarks(&mm_zones[z]);
	buddy_zones_unlock(zs);
	mm_unlock(f);
	return 0;
}

const struct zone *zone_get(enum zone_id id)
{
	if ((unsigned)id >= NR_ZONES)
		return NULL;
	return &mm_zones[id];
}

const char *page_owner_name(unsigned owner)
{
	return owner < PAGE_OWNER_NR ? owner_names[owner] : "?";
}

/* The flags of an allocated block's frames are stored with mm_store32: a
 * CPU merging a neighbouring free block under its zone's lock looks at
 * them (atomic loads, mm/buddy.c) while the block's owner, holding no
 * zone lock, marks or unmarks them here. */
void page_set_compound(struct page *head, unsigned order)
{
	uint64_t n = 1ULL << (order > MAX_ORDER ? MAX_ORDER : order);

	for (uint64_t i = 1; i < n; i++) {
		head[i].head_off = (uint32_t)i;
		mm_store32(&head[i].flags, PG_TAIL);
	}
	mm_store32(&head->flags, head->flags | PG_COMPOUND);
}

void page_clear_compound(struct page *head, unsigned order)
{
	uint64_t n = 1ULL << (order > MAX_ORDER ? MAX_ORDER : order);

	for (uint64_t i = 1; i < n; i++) {
		mm_store32(&head[i].flags, head[i].flags & ~PG_TAIL);
		head[i].head_off = 0;
	}
	mm_store32(&head->flags, head->flags & ~PG_COMPOUND);
}

void page_owner_count_add(unsigned owner, unsigned order, int sign)
{
	unsigned long n = 1UL << (order > MAX_ORDER ? MAX_ORDER : order);

	__atomic_fetch_add(&owner_pages[owner], sign < 0 ? -n : n, __ATOMIC_RELAXED);
}

unsigned long page_owner_pages(unsigned owner)
{
	return owner_counted(owner) ? __atomic_load_n(&owner_pages[owner], __ATOMIC_RELAXED) : 0;
}

void page_set_owner(struct page *head, unsigned owner)
{
	page_owner_count(head->owner, head->order, -1);
	page_owner_count(owner, head->order, +1);
	head->owner = (uint8_t)owner;
}
