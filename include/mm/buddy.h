/* buddy.h - the page allocator: a binary buddy allocator per zone, with
 * per-CPU page lists in front of it for the small orders.
 *
 * Hands out naturally aligned blocks of 2^order frames (order 0..MAX_ORDER)
 * from the zones set up by page_alloc_init() (mm/page.h). Never panics:
 * running out is a NULL / -ENOMEM, a wrong free is refused, reported with
 * the caller's address, counted, and changes nothing. Not a small-object
 * allocator (see slab / kmalloc).
 *
 * Per-CPU page lists (buddy_pcp.c; Linux's per-cpu pages, struct
 * per_cpu_pages in mm/page_alloc.c). For orders 0..BUDDY_PCP_ORDER each
 * CPU has, per zone and order, a list of free blocks. alloc_pages() and
 * buddy_alloc() take a block from the calling CPU's list, free_pages() and
 * free_pages_addr() put one on it, inside the CPU's gate (mm/mm_env.h)
 * and with no shared lock. An empty list takes a batch of blocks from its
 * zone under that zone's lock (one block when the zone is short: below its
 * low watermark plus a batch); a list holding more than its high mark
 * gives a batch back, merging as usual. Per zone, batch = zone->pcp_batch >> order
 * blocks (at least one; pcp_batch is present_pages / 1024 rounded down to
 * a power of two, 1..16 pages), high = BUDDY_PCP_HIGH batches.
 * A block on a list is free (PG_PCP, owner FREE) but not on the zone's
 * free lists: zone->free_pages and the buddy lists (/proc/buddyinfo's
 * figures, buddy_unusable_index, buddy_plenty) leave it out, as Linux's
 * NR_FREE_PAGES does; buddy_free_pages() counts it, and buddy_pcp_get()
 * says where it is. Every free refuses it as already free. The page
 * lists' keeper (mm/shrinker.h) gives every CPU's lists back to the zones
 * when a request runs out of memory and on kmalloc_shrink(), so a request
 * of any order sees those pages before it fails.
 * Locks: one per zone (zone->lock, mm/buddy.c), innermost; the lists'
 * refill and trim take it inside the CPU's gate; callers may hold the mm
 * lock when they call in (order: mm lock, gates, zone locks).
 * Callers that hold the mm lock never reach the lists (a CPU that stopped
 * the gates would wait for its own): buddy_try_alloc() and
 * free_pages_owned() always use the zones. A CPU that opened a transaction
 * bypasses its lists (buddy_pcp_bypass), so the transaction's pages come
 * from and go back to the zones and an abort leaves their free lists as
 * they were. Fault injection on: the lists are not used (every request is
 * the injector's to see). */
#ifndef TALLY_MM_BUDDY_H
#define TALLY_MM_BUDDY_H

#include <stdbool.h>

#include "mm/gfp.h"
#include "mm/page.h"

struct buddy_stats {
	unsigned long requests;          /* alloc calls */
	unsigned long successes;
	unsigned long fail_nomem;        /* no zone could serve */
	unsigned long fail_inval;        /* order > MAX_ORDER */
	unsigned long fail_injected;     /* failed by fault injection (mm/faultinj.h) */
	unsigned long frees;             /* accepted frees */
	unsigned long wrong_frees;       /* refused frees */
	unsigned long pages_in_use;      /* frames in allocated blocks now */
	unsigned long peak_pages_in_use;
};

/* Allocate 2^order contiguous frames, naturally aligned. Zones tried:
 * GFP_DMA -> DMA only; GFP_DMA32 -> Normal, DMA; otherwise High, Normal,
 * DMA. A zone refuses a request that would leave its free_pages below
 * wmark_min unless GFP_RESERVE, below wmark_high when GFP_USER (mm/gfp.h). GFP_ZERO zeroes the block. The head gets
 * PG_HEAD, order, owner PAGE_OWNER_PAGES, priv/mem NULL, kind 0, inuse 0;
 * with GFP_COMP (order > 0) the block is compound as page_set_compound()
 * makes it, marked before anyone can see it (for a caller that holds no
 * lock a reader of the frame array holds, as buddy_check does).
 * Returns 0 and *out = head; -ENOMEM when no zone can serve; -EINVAL when
 * order > MAX_ORDER or out is NULL. */
int buddy_try_alloc(gfp_t gfp, unsigned order, struct page **out);
/* buddy_try_alloc() takes from the zones only, never from a page list:
 * the object allocators call it with the mm lock held. */

/* buddy_try_alloc() with reclaim, and through the calling CPU's page
 * lists for orders up to BUDDY_PCP_ORDER: when the zones really ran out
 * (not by fault injection), the reclaim path (mm/shrinker.h) gives back
 * what the caches keep for reuse (every CPU's page lists among them), then
 * what the shrinkers can drop, and the request is tried again while
 * anything came back. Same results as buddy_try_alloc(). Call without the
 * mm lock held: it may enter the CPU's gate, and it reclaims. The object
 * allocators call buddy_try_alloc() (their entry points reclaim). */
int buddy_alloc(gfp_t gfp, unsigned order, struct page **out);

/* buddy_alloc() returning the head, or NULL on any failure. */
struct page *alloc_pages(gfp_t gfp, unsigned order);

/* Free the block of 2^order frames headed by pg: onto the calling CPU's
 * page list (order <= BUDDY_PCP_ORDER, a plain block), else to its zone,
 * merging with free buddies. Returns 0; -EINVAL (refused, reported,
 * counted in wrong_frees, nothing changed) when pg is NULL or not an
 * element of the frame array, order > MAX_ORDER, pg's pfn is not aligned
 * to order, the frame is free (on a zone's or a CPU's list) or inside a
 * free block, reserved, a compound tail, interior to an allocated block,
 * or its block was allocated with another order. A compound block's tail
 * marks are cleared (O(2^order)). Call without the mm lock held (it may
 * enter the CPU's gate); allocators holding it use free_pages_owned(). */
int free_pages(struct page *pg, unsigned order);

/* free_pages() by the block's virtual address. Also -EINVAL when addr is
 * not page aligned or not covered by the frame array. */
int free_pages_addr(const void *addr, unsigned order);

/* For the allocators built on this one (slab, heap, page tables, kmalloc
 * large blocks): free_pages() of a block whose owner must be `owner`,
 * always to the zone (never a page list: callers may hold the mm lock).
 * free_pages() itself accepts only PAGE_OWNER_PAGES blocks, so a stray
 * free can never pull a page out from under a slab or a heap run. */
int free_pages_owned(struct page *pg, unsigned order, unsigned owner);

/* Where free memory goes back to the system (the host's growing arenas,
 * mm/mm_host.h), as mimalloc purges free spans, jemalloc returns dirty
 * extents and Linux's free page reporting hands free blocks of 2 MiB and
 * up to the host: when a free (merging) makes a block of 2 MiB (order 9)
 * or more and the zone's free, still backed frames exceed a keep (as many
 * whole 4 MiB blocks as an eighth of the zone makes: none in a zone under
 * 32 MiB), the block is handed to release(addr, bytes) --
 * madvise(MADV_DONTNEED) -- and marked released, so resident memory follows
 * use. A released block (or a piece split off one) is taken after the
 * backed ones of its order and needs nothing to be used again: the system
 * backs it at the first touch, zeroed. zone->released counts the frames
 * in released free blocks (the invariants: top of buddy.c). No delay:
 * a block is given back as it forms. Called under the zone's lock;
 * release must not call into the mm and cannot fail (a failed madvise
 * leaves the memory resident, which is only a cost). NULL, the default
 * and the kernel's: nothing is given back. page_alloc_init forgets it. */
void mm_set_release(void (*release)(void *addr, size_t bytes));

/* Walk every zone's free lists, every CPU's page lists and the frame
 * array and check the buddy invariants (list membership, flags, order,
 * zone, alignment, counts, coalescing, no overlap; a page-list block is a
 * PG_PCP head of its list's zone and order, on exactly one list, and the
 * lists' counts match). Returns the number of violations (0 = sound);
 * each is reported with mm_report (the first few in full). */
int buddy_check(void);

/* Free frames in all zones: on the zones' free lists and on every CPU's
 * page lists (exact: the lists are read with the gates stopped). */
unsigned long buddy_free_pages(void);

/* Free frames a GFP_USER request could still have: every CPU's page
 * lists, and per zone what its free lists hold above its high watermark
 * (the rest is the kernel's: mm/gfp.h). What a process may commit (brk,
 * mmap, mprotect: kernel/mman.h). Exact at the moment, as
 * buddy_free_pages. */
unsigned long buddy_user_free_pages(void);

/* A snapshot of the counters, every CPU's page-list counts folded in
 * (requests and successes include blocks the lists handed out, frees the
 * blocks they took back), exact: summed with the gates stopped and every
 * zone locked. requests = successes + fail_nomem + fail_inval +
 * fail_injected. peak_pages_in_use is the highest pages_in_use any call
 * of buddy_get_stats has returned (as kmalloc's slab peak is the highest
 * seen at a fold): never more than was ever in use, but a peak between
 * two reads is missed -- the lists' fast paths count in per-CPU counters
 * only, so no one sees every moment's total. */
void buddy_get_stats(struct buddy_stats *out);

/* One zone's free lists as of one moment (buddy_zone_info). */
struct buddy_zone_info {
	unsigned long free_pages;              /* on the zone's free lists */
	unsigned long nr_free[MAX_ORDER + 1];  /* blocks of each order on them */
	unsigned long pcp_pages;               /* free on the CPUs' page lists */
};

/* Every zone's free lists and page-list pages (out[zone id]), taken with
 * every zone locked and the gates stopped, so the figures agree with each
 * other. The caller may hold the mm lock (it nests); not a zone lock, and
 * not inside a gate. */
void buddy_zone_info(struct buddy_zone_info out[NR_ZONES]);

/* The frame array's picture as of one moment: fn(pfn, frames, owner, arg)
 * for each run of [start, end) (clipped to the array) in pfn order -- a
 * block (owner PAGE_OWNER_FREE for a free one, on a zone's or a CPU's
 * list; a run cut at end), else a single frame (reserved, or an interior
 * frame no head claims, as PAGE_OWNER_RESERVED). Walked with every zone
 * locked and the gates stopped: fn must not allocate, free, print or take
 * a lock. For `memmap`. */
typedef void (*buddy_walk_fn)(uint64_t pfn, uint64_t frames, unsigned owner, void *arg);
void buddy_walk(uint64_t start, uint64_t end, buddy_walk_fn fn, void *arg);

/* Whether the zones ordinary requests come from first (Normal and above)
 * have more free frames on their free lists than their low watermarks
 * together: for caches deciding whether to take a batch ahead of need
 * (the slab magazines' refill), as Linux shrinks its per-cpu batches
 * under pressure. */
bool buddy_plenty(void);

/* ---- the per-CPU page lists (see the top of this file) ------------------ */

#define BUDDY_PCP_ORDER 3   /* Linux's PAGE_ALLOC_COSTLY_ORDER: 32 KiB */
#define BUDDY_PCP_HIGH  4   /* batches a list may hold before it gives one back */
#define BUDDY_PCP_ALL   (~0u)

struct buddy_pcp_stats {
	unsigned long blocks[NR_ZONES][BUDDY_PCP_ORDER + 1];   /* on the lists now */
	unsigned long pages[NR_ZONES];   /* the same in frames, per zone */
	unsigned long total_pages;       /* all of them */
	unsigned long allocs, frees;     /* blocks handed out by the lists / put on them */
	unsigned long refills, trims;    /* batches taken from / given back to the zones */
	unsigned long drained;           /* frames the keeper gave back to the zones */
};

/* The lists of CPU cpu (0 .. MM_MAX_CPUS-1, mm_cpu()'s numbers: the
 * kernel's hart index), or of every CPU summed (BUDDY_PCP_ALL): exact, read
 * with the gates stopped. Returns 0; -EINVAL when cpu is neither or out is
 * NULL. */
int buddy_pcp_get(unsigned cpu, struct buddy_pcp_stats *out);

/* Every CPU's lists back to the zones (what the keeper does). Returns the
 * frames given back. Call without the mm lock held. */
unsigned long buddy_pcp_drain_all(void);

/* While on (each on matched by an off), the calling CPU's allocations and
 * frees skip its page lists and use the zones: for a transaction
 * (mm/txn.h), whose abort must leave the zones' free lists as they were. */
void buddy_pcp_bypass(bool on);

/* Linux's unusable free space index of zone z for order, in per mille:
 * the share of free frames in blocks smaller than 2^order (read under the
 * zone's lock). 0 when the zone has no free frames (or z is invalid); 1000
 * for order > MAX_ORDER. */
unsigned buddy_unusable_index(enum zone_id z, unsigned order);

#endif
