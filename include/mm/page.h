/* page.h - physical page frames and zones: the frame array (Linux's mem_map).
 *
 * One struct page describes each 4 KiB frame from the lowest to the highest
 * RAM frame the device tree reports; frames in holes or reserved ranges are
 * described too (PG_RESERVED) so pfn -> struct page is one subtraction.
 * This header is the frame metadata and the zone layout; the allocator that
 * hands frames out is in mm/buddy.h. It is not a virtual-memory layer:
 * memory is reached through one fixed offset, virt = phys + mm_virt_offset
 * (0 in the kernel's identity map; an arena's address on the host).
 *
 * Frame states (flags) and what the other fields mean in each:
 *   free block head    PG_BUDDY     order = block order, lru on zone free list
 *   free, on page list PG_PCP       order = block order, lru on one CPU's list
 *                                   (mm/buddy.h, "Per-CPU page lists")
 *   allocated head     PG_HEAD      order = allocated order, owner says who
 *   compound tail      PG_TAIL      head_off = pfn distance to its head
 *   reserved           PG_RESERVED  owner RESERVED or KERNEL; never allocated
 *   interior frame     0            inside a free or allocated block
 * Only block heads carry PG_BUDDY / PG_PCP / PG_HEAD, so a block's extent is always
 * [head pfn, head pfn + 2^order); likewise only heads and reserved frames
 * have an owner other than PAGE_OWNER_FREE (buddy_check verifies both), so
 * owner == SLAB after compound_head() means "the head of a slab" (its
 * layout in kind says whether it is in service). */
#ifndef TALLY_MM_PAGE_H
#define TALLY_MM_PAGE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "lib/list.h"
#include "mm/mm_env.h"

typedef uint64_t phys_addr_t;

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)
#define PAGE_MASK  (~(PAGE_SIZE - 1))
#define MAX_ORDER  10 /* orders 0..10: 4 KiB .. 4 MiB blocks */

/* struct page.flags */
#define PG_BUDDY    (1u << 0) /* head of a free block on a zone free list */
#define PG_HEAD     (1u << 1) /* head of an allocated block */
#define PG_TAIL     (1u << 2) /* tail of a compound block (head_off valid) */
#define PG_RESERVED (1u << 3) /* never handed out (hole, firmware, kernel, ...) */
#define PG_COMPOUND (1u << 4) /* allocated head whose tails carry PG_TAIL */
#define PG_PCP      (1u << 5) /* head of a free block on a CPU's page list */

/* Who holds a frame; set on block heads (and reserved frames). */
enum page_owner {
	PAGE_OWNER_FREE,     /* in the buddy allocator (or interior of a block) */
	PAGE_OWNER_RESERVED, /* firmware, DTB, frame array, hole */
	PAGE_OWNER_KERNEL,   /* kernel image */
	PAGE_OWNER_PAGES,    /* plain alloc_pages() */
	PAGE_OWNER_SLAB,
	PAGE_OWNER_HEAP,
	PAGE_OWNER_PGTABLE,
	PAGE_OWNER_LARGE,    /* kmalloc large allocation */
	PAGE_OWNER_KEPT,   /* freed kmalloc large block kept for reuse */
	PAGE_OWNER_USER,     /* mapped into a user process (Linux's anon pages) */
	PAGE_OWNER_USER_PGTABLE, /* a page-table page of a user process's space */
	PAGE_OWNER_NR
};

/* 48 bytes on LP64. */
struct page {
	struct list_head lru; /* buddy: free-list link (PG_BUDDY); slab: slab lists */
	uint32_t flags;       /* PG_* above (a fast path without the mm lock
			       * changes a head's: read it with an atomic
			       * load where that may race, mm/buddy_pcp.c) */
	uint8_t order;        /* block order, valid on PG_BUDDY / PG_HEAD frames */
	uint8_t zone;         /* enum zone_id of this frame (fixed at init) */
	uint8_t owner;        /* enum page_owner, valid on heads and reserved frames */
	uint8_t kind;         /* owner-defined (slab: its layout); 0 on alloc */
	union {
		uint32_t head_off;  /* PG_TAIL: this pfn minus the head's pfn */
		uint32_t hint;      /* slab head: first map word that may have a free slot */
	};
	uint32_t inuse;       /* slab: objects in use; page table: valid entries */
	void *priv;           /* owner's object (slab cache, heap run); NULL on alloc */
	void *mem;            /* slab: the slab's first byte; NULL on alloc */
};

/* Zones by physical address (see page_alloc_init for exact bounds). */
enum zone_id { ZONE_DMA, ZONE_NORMAL, ZONE_HIGH, NR_ZONES };

#define ZONE_DMA_SIZE  (16UL << 20)     /* lowest 16 MiB of RAM */
#define ZONE_HIGH_BASE 0x100000000ULL   /* 4 GiB */

struct free_area {
	struct list_head free_list; /* PG_BUDDY heads of this order */
	unsigned long nr_free;      /* blocks on free_list */
};

/* Watermarks (pages): min = clamp(present/256, 16, 1024), never more than
 * present/8; low = min*5/4; high = min*3/2. Ordinary requests fail rather
 * than take free_pages below min; GFP_RESERVE requests may; GFP_USER
 * requests (user processes' frames) fail rather than take it below high
 * (mm/gfp.h). low is where the page lists stop taking batches and health
 * turns degraded. free_pages counts the zone's free
 * lists only: free blocks on the CPUs' page lists are free too, counted
 * apart (buddy_pcp_get(); buddy_free_pages() includes them). pcp_batch:
 * the pages a CPU's page list takes from or gives back to this zone at a
 * time (mm/buddy.h, "Per-CPU page lists").
 * Locking (mm/buddy.c): name is fixed; span, present_pages, watermarks
 * and pcp_batch change only at page_alloc_init() and at a hot-add
 * (page_hot_add: the mm lock and every zone lock held), and are stored
 * atomically for the readers without a lock (present_pages, the
 * watermarks, pcp_batch); lock guards everything below it (and the buddy
 * state of the zone's frames). Other layers read a consistent view of
 * the free lists with buddy_zone_info() (mm/buddy.h), not these fields. */
struct zone {
	const char *name;            /* "DMA", "Normal", "High" */
	uint64_t start_pfn, end_pfn; /* span [start, end); empty when equal */
	unsigned long present_pages; /* usable frames this zone manages */
	unsigned long wmark_min, wmark_low, wmark_high;
	unsigned long pcp_batch;
	mm_spinlock_t lock;          /* Linux's zone->lock: innermost */
	unsigned long free_pages;    /* free on the zone's lists now (stored
				      * atomically: buddy_plenty reads it unlocked) */
	unsigned long released;      /* frames in free blocks whose memory was given
				      * back to the system (mm_set_release) */
	unsigned long allocs, frees; /* blocks the zone path handed out / took back */
	unsigned long pages_in_use;  /* pages it handed out less pages it took back
				      * (mod 2^64: a block a page list handed out may
				      * come back here; the sum over zones and lists is
				      * exact) */
	struct free_area area[MAX_ORDER + 1];
};

struct mm_region {
	uint64_t base, size;
};

struct mm_layout {
	const struct mm_region *ram;      int nram;      /* usable RAM (device tree) */
	const struct mm_region *reserved; int nreserved; /* never handed out */
	uintptr_t virt_offset;                           /* virt = phys + virt_offset */
	struct mm_region kernel; /* kernel image (owner KERNEL); size 0 = none */
	/* Memory hot-add (page_hot_add): frame_array, when not NULL, is the
	 * frame array's memory, given by the caller for span + hotadd_frames
	 * entries (only those in use are ever written, so it may be reserved
	 * address space that the system backs at the first touch); NULL: the
	 * array is placed in RAM and nothing can be added. */
	struct page *frame_array;
	uint64_t hotadd_frames;
};

/* The frame array; valid after page_alloc_init(). Use the helpers. */
extern struct page *page_map;
extern uint64_t page_base_pfn;  /* pfn described by page_map[0] */
extern uint64_t page_nr_frames; /* entries in page_map in use: grows at a
				 * hot-add (stored with release order after
				 * the new entries; page_frames() reads it) */
extern uint64_t page_cap_frames; /* entries page_map has room for */
extern uintptr_t mm_virt_offset;
extern uintptr_t page_virt_base; /* virtual address of frame page_base_pfn */

/* Build the frame array and zones, and give every usable frame to the buddy
 * allocator as maximal aligned blocks. RAM regions are rounded inward to
 * pages, reserved regions (and l->kernel) outward. The array goes in the
 * lowest free spot above the DMA zone (anywhere, if none). Zones: DMA = [lowest RAM, +16 MiB) below 4 GiB,
 * Normal = the rest below 4 GiB, High = 4 GiB and up. Resets all global mm
 * page state, so the host may call it again.
 * Returns 0; -EINVAL when l or l->ram is NULL, nram <= 0, no whole frame of
 * RAM, a region wraps around, RAM regions overlap, virt_offset is not page
 * aligned or the span exceeds 2^32 frames; -ENOMEM when no free spot of RAM
 * holds the frame array. On error no RAM is managed (allocations fail). */
int page_alloc_init(const struct mm_layout *l);

/* Memory hot-add (Linux's add_memory, in miniature): the frames of
 * [base, base + size) -- physical, page aligned, starting where the
 * frame array's span ends now -- join the buddy allocator: their entries
 * are written (free, in the zone their address falls in), the span, the
 * zones' spans, present pages and watermarks grow, and the frames are
 * freed through the coalescing path, so a block at the old end merges
 * with its free buddy. Only with an array from the caller
 * (mm_layout.frame_array) with room for them. Takes the mm lock and
 * every zone lock (mm/buddy.c's order); safe while other CPUs allocate
 * and free (they see the new frames once page_nr_frames says so).
 * Returns 0; -EINVAL size 0 or not page aligned, base not the span's
 * end; -ENOSPC beyond the array's room (hotadd_frames at set-up). */
int page_hot_add(phys_addr_t base, uint64_t size);

/* The zone with that id, or NULL for an id >= NR_ZONES. An absent zone is
 * returned with present_pages == 0 and an empty span. */
const struct zone *zone_get(enum zone_id id);

/* "free", "reserved", "kernel", "pages", "slab", "heap", "pgtable",
 * "large", "kcache"; "?" for an unknown value. */
const char *page_owner_name(unsigned owner);

/* Mark the 2^order - 1 frames after head PG_TAIL with head_off, and head
 * PG_COMPOUND, so compound_head() maps interior pages to the head. O(2^order).
 * free_pages() clears the marks itself; page_clear_compound() undoes them. */
void page_set_compound(struct page *head, unsigned order);
void page_clear_compound(struct page *head, unsigned order);

/* Record who holds an allocated block (on its head). A block passing
 * into or out of a counted owner (PAGE_OWNER_USER, PAGE_OWNER_USER_PGTABLE)
 * moves its 2^order frames in page_owner_pages(); free_pages_owned() of a
 * counted owner's block takes them out too. */
void page_set_owner(struct page *head, unsigned owner);

/* Frames held now by blocks of a counted owner (PAGE_OWNER_USER or
 * PAGE_OWNER_USER_PGTABLE; 0 for any other owner): kept with atomic adds
 * as blocks change owner, so it is exact at any moment, without a lock.
 * The user-process frames `memstat` shows come from here. */
unsigned long page_owner_pages(unsigned owner);

/* Entries of the frame array in use, for a reader without the mm lock
 * (a hot-add may be growing it). */
static inline uint64_t page_frames(void)
{
	return __atomic_load_n(&page_nr_frames, __ATOMIC_ACQUIRE);
}

/* The struct page of pfn, or NULL when pfn is outside the frame array. */
static inline struct page *pfn_to_page(uint64_t pfn)
{
	uint64_t idx = pfn - page_base_pfn; /* wraps when pfn < base */

	return idx < page_frames() ? &page_map[idx] : NULL;
}

static inline uint64_t page_to_pfn(const struct page *pg)
{
	return page_base_pfn + (uint64_t)(pg - page_map);
}

static inline phys_addr_t page_to_phys(const struct page *pg)
{
	return page_to_pfn(pg) << PAGE_SHIFT;
}

static inline void *page_address(const struct page *pg)
{
	return (void *)(uintptr_t)(page_to_phys(pg) + mm_virt_offset);
}

static inline phys_addr_t virt_to_phys(const void *p)
{
	return (phys_addr_t)((uintptr_t)p - mm_virt_offset);
}

/* The struct page of the frame holding p, or NULL when no frame of the
 * array holds it. Safe on untrusted pointers. */
static inline struct page *virt_to_page(const void *p)
{
	uint64_t idx = ((uintptr_t)p - page_virt_base) >> PAGE_SHIFT; /* wraps below */

	if (idx >= page_frames())
		return NULL;
	if (!page_map)
		__builtin_unreachable();   /* frames exist: so does the array */
	return &page_map[idx];
}

/* The head of the compound block pg is in (pg itself when not a tail). */
static inline struct page *compound_head(struct page *pg)
{
	return (pg->flags & PG_TAIL) ? pg - pg->head_off : pg;
}

#endif
