/* heap_internal.h - what kmalloc.c and txn.c need from heap.c beyond
 * mm/heap.h, and the chunk and run layout heap.c shares with its integrity
 * check (heap_check.c). The double-underscore functions take heap_lock
 * themselves (the caller may hold the mm lock, never heap_lock) and carry
 * the public entry's caller address for reports. */
#ifndef TALLY_HEAP_INTERNAL_H
#define TALLY_HEAP_INTERNAL_H

#include <stdbool.h>
#include "lib/bitops.h"
#include "lib/list.h"
#include "mm/heap.h"
#include "mm/page.h"

/* SimpleHeap's lock (heap.c): heap_unlock also gives the buddy allocator
 * the runs released while it was held. For heap_check.c, and for kmalloc,
 * which holds it around its SimpleHeap path below (and while it counts
 * what the heap served it: kmalloc.c). */
unsigned long heap_lock(void);
void heap_unlock(unsigned long state);

int __heap_alloc(size_t size, size_t align, gfp_t gfp, void **out,
		 void *caller);
int __heap_free(void *p, void *caller);
size_t __heap_usable_size(const void *p);

/* kmalloc's SimpleHeap path, the caller holding heap_lock and not the mm
 * lock: a block of size bytes (16-aligned; GFP_ZERO honoured) from a run
 * the heap already has: 0, *out and its usable bytes in *granted; or
 * -EAGAIN, counting nothing, when no free chunk fits or size is 0 or above
 * HEAP_MAX_ALLOC (the full path then serves: a new run, fault injection,
 * reclaim). No fault injection is asked: the path runs only while none is
 * on (mm_slow_paths). */
int __heap_alloc_cached(size_t size, gfp_t gfp, void **out, void *caller,
			size_t *granted);

/* Free p as __heap_free does, the caller holding heap_lock; on success
 * *usable = its usable bytes (what kmalloc counts out of use). -EINVAL:
 * refused, reported, counted. A run it releases is freed by heap_unlock. */
int __heap_free_locked(void *p, void *caller, size_t *usable);

/* Which free runs stay (mm lock held; they take heap_lock) -- for a caller that must leave the
 * heap holding exactly the runs it held before (txn.c's exact undo):
 *   heap_set_keep_free_runs(on): while on (each on matched by an off), a
 *     run that becomes entirely free stays, instead of going back beyond
 *     HEAP_SPARE_RUNS;
 *   heap_list_free_runs(): store the heads of up to max entirely free runs in
 *     out; return how many there are;
 *   heap_release_free_except(): give back every entirely free run whose
 *     head is not in keep[0..n); return the frames given back. */
void heap_set_keep_free_runs(bool on);
unsigned heap_list_free_runs(struct page **out, unsigned max);
unsigned long heap_release_free_except(struct page *const *keep, unsigned n);

/* ---- the chunk and run layout (heap.c's opening comment), shared with
 * heap_check.c ------------------------------------------------------------ */

#define HEAP_MAGIC     0x4ea9c0deu
#define RUN_MAGIC      0x4ea9a11cu
#define CH_USED        1u
#define CH_RZ          2u
#define CH_POISON      4u
#define CH_FLAGS       15u
#define HDR            16u
#define FTR            8u
#define MIN_CHUNK      48u
#define RUN_HDR        64u /* struct heap_run + sentinel footer */
#define RUN_OVERHEAD   (RUN_HDR + HDR)

struct hchunk {
	uint64_t sf;
	uint32_t req;
	uint32_t check;
};

struct heap_run {
	uint32_t magic;
	uint32_t order;
	struct list_head link;   /* heap.runs, address order */
	struct list_head free;   /* free chunks, address order */
	size_t free_bytes;
};

struct heap_state {
	struct list_head runs;
	unsigned long nruns, free_runs, used_blocks;
	size_t arena_bytes, free_bytes;
	struct heap_stats st; /* the counters part */
};
extern struct heap_state heap_state;

/* ---- tiny accessors: the chunk and run layout of heap.c ------------------- */

static inline size_t ch_size(const struct hchunk *c)
{
	return (size_t)(c->sf & ~(uint64_t)CH_FLAGS);
}

static inline unsigned ch_flags(const struct hchunk *c)
{
	return (unsigned)(c->sf & CH_FLAGS);
}

static inline bool ch_used(const struct hchunk *c)
{
	return c->sf & CH_USED;
}

static inline uint32_t ch_sum(const struct hchunk *c)
{
	uintptr_t a = (uintptr_t)c;

	return HEAP_MAGIC ^ (uint32_t)(a >> 4) ^ (uint32_t)((uint64_t)a >> 36) ^
	       (uint32_t)c->sf ^ (uint32_t)(c->sf >> 32) ^ (c->req * 0x9e3779b1u);
}

static inline bool ch_sane(const struct hchunk *c)
{
	return c->check == ch_sum(c);
}

static inline uint64_t *ch_footer(const struct hchunk *c)
{
	return (uint64_t *)((char *)c + ch_size(c) - FTR);
}

/* Write header and footer (a size-0 sentinel has no footer). */
static inline void ch_set(struct hchunk *c, size_t size, unsigned flags, uint32_t req)
{
	c->sf = (uint64_t)size | flags;
	c->req = req;
	c->check = ch_sum(c);
	if (size)
		*ch_footer(c) = c->sf;
}

static inline struct hchunk *ch_next(const struct hchunk *c)
{
	return (struct hchunk *)((char *)c + ch_size(c));
}

/* Left neighbour, or NULL at the run start. */
static inline struct hchunk *ch_prev(const struct hchunk *c)
{
	size_t ps = (size_t)(((const uint64_t *)c)[-1] & ~(uint64_t)CH_FLAGS);

	return ps ? (struct hchunk *)((char *)c - ps) : NULL;
}

static inline struct list_head *ch_node(struct hchunk *c)
{
	return (struct list_head *)(c + 1);
}

static inline struct hchunk *node_ch(struct list_head *n)
{
	return (struct hchunk *)n - 1;
}

static inline char *ch_payload(const struct hchunk *c)
{
	return (char *)(c + 1);
}

static inline size_t ch_usable(const struct hchunk *c)
{
	return (ch_flags(c) & CH_RZ) ? c->req : ch_size(c) - HDR - FTR;
}

static inline size_t run_bytes(const struct heap_run *r)
{
	return PAGE_SIZE << r->order;
}

static inline struct hchunk *run_first(const struct heap_run *r)
{
	return (struct hchunk *)((char *)r + RUN_HDR);
}

static inline struct hchunk *run_end(const struct heap_run *r)
{
	return (struct hchunk *)((char *)r + run_bytes(r) - HDR);
}

static inline size_t run_area(const struct heap_run *r)
{
	return run_bytes(r) - RUN_OVERHEAD;
}

static inline size_t chunk_need(size_t size, bool rz)
{
	size_t n = round_up(HDR + size + (rz ? 8 : 0) + FTR, 16);

	return n < MIN_CHUNK ? MIN_CHUNK : n;
}

static inline bool run_is_free(const struct heap_run *r)
{
	return r->free_bytes == run_area(r);
}

/* heap_get_stats() with the mm lock and heap_lock held by the caller
 * (mm_stats_get's one snapshot). */
void heap_get_stats_locked(struct heap_stats *out);

#endif
