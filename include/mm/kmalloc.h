/* kmalloc.h - the kernel's general allocator and its mode router.
 *
 * What every subsystem calls. Three modes, switchable at any time with
 * allocations live:
 *   MM_MODE_SIMPLE   every request from the SimpleHeap (mm/heap.h);
 *   MM_MODE_TWOTIER  sizes up to the largest size class from the
 *                    kmalloc-N slab caches (the kernel's table: 8 16 32
 *                    64 96 128 192 256 512 1024 2048 4096; a C library's
 *                    malloc picks a finer one up to 32 KiB,
 *                    kmalloc_use_classes), larger straight from the buddy
 *                    allocator (smallest order that fits, owner
 *                    PAGE_OWNER_LARGE; under Linux's table a few freed
 *                    blocks of 8..32 KiB are kept for reuse, owner
 *                    PAGE_OWNER_KEPT, until memory runs short -- under the
 *                    fine one those sizes are classes);
 *   MM_MODE_HYBRID   TwoTier first, the heap when TwoTier fails (default).
 * Zone-constrained requests (GFP_DMA, GFP_DMA32) go to the buddy
 * allocator in every mode, as whole pages: slabs and heap runs are shared
 * by all callers and sit in whatever zone they were cut from.
 * kfree, ksize and krealloc find a block's owner from its frame's struct
 * page (owner SLAB / HEAP / LARGE), never from the current mode.
 * Running out is NULL or -ENOMEM; nothing here panics. Wrong frees are
 * refused, reported once with the caller, counted. Not a page allocator
 * (mm/buddy.h) and not a leak tracker. */
#ifndef TALLY_MM_KMALLOC_H
#define TALLY_MM_KMALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mm/gfp.h"

enum mm_mode { MM_MODE_SIMPLE, MM_MODE_TWOTIER, MM_MODE_HYBRID, MM_MODE_NR };

/* Which allocator served (and owns) a block. */
enum kmalloc_backend { KM_BACKEND_SLAB, KM_BACKEND_LARGE, KM_BACKEND_HEAP,
		       KM_BACKEND_NR };

/* Size-class tables (kmalloc.c states them and their sources), chosen
 * for the next kmalloc_init by kmalloc_use_classes:
 *   KMALLOC_CLASSES_LINUX  Linux's kmalloc caches, 8 bytes to 4 KiB (12);
 *                          the default, the kernel's.
 *   KMALLOC_CLASSES_FINE   four classes per doubling from 128 bytes to
 *                          32 KiB, 16-byte steps below (40): a request over
 *                          64 bytes is granted less than 1.25 times its
 *                          size, as jemalloc and mimalloc grant; every
 *                          class a multiple of 16 (libtally, user malloc). */
enum kmalloc_classes { KMALLOC_CLASSES_LINUX, KMALLOC_CLASSES_FINE };

#define KMALLOC_NR_CLASSES     41      /* the most classes of any table */
#define KMALLOC_MAX_CACHE_SIZE 32768   /* the largest class of any table */
#define KMALLOC_MAX_ALIGN      4096
#define KMALLOC_MIN_ALIGN      8    /* what align 0 means */
/* Kept blocks: freed large blocks of order 1..KEPT_ORDERS (8..32 KiB)
 * kept for reuse, at most KEPT_PER_ORDER per order (kept.c). */
#define KEPT_ORDERS    3
#define KEPT_PER_ORDER 8
/* Sizes above this are "size overflow" (-EINVAL): rounding them up could
 * wrap. Sizes below it that memory cannot hold are -ENOMEM. */
#define KMALLOC_MAX_REQUEST    (SIZE_MAX / 2)

struct mm_alloc_counters {
	unsigned long requests, successes, fail_nomem, fail_inval;
	unsigned long fail_injected;  /* of fail_nomem: fault injection fired */
	unsigned long frees, wrong_frees;
	uint64_t bytes_requested, bytes_granted;  /* granted = usable size */
	uint64_t bytes_in_use, peak_bytes_in_use;
};

/* mode[m]: requests made while m was the mode (requests, successes,
 * failures, bytes requested / granted; frees, bytes in use and peak stay 0:
 * a block is freed whatever the mode is then).
 * backend[b]: blocks b served and b's frees (successes, frees, wrong_frees,
 * bytes granted, in use, peak). Only kmalloc-made blocks are counted. */
struct kmalloc_stats {
	struct mm_alloc_counters mode[MM_MODE_NR];
	struct mm_alloc_counters backend[KM_BACKEND_NR];
	unsigned long hybrid_fallbacks; /* Hybrid requests the heap served */
	unsigned long mode_switches;
	unsigned long wrong_frees;      /* refused kfree / krealloc, any cause */
	unsigned long kept_blocks;      /* freed large blocks kept for reuse now */
	uint64_t kept_bytes;            /* their bytes (not in any in-use figure) */
};

/* Reset the whole object layer and the services under it (slab caches,
 * heap, fault injection, debug switches, leak tracking, stats, mode =
 * Hybrid), register their keepers again (page_alloc_init emptied the
 * reclaim registry) and create the kmalloc caches of the table
 * kmalloc_use_classes chose last. Call after page_alloc_init(); the host
 * may call both again for a fresh arena.
 * Returns 0; -ENOMEM when the caches cannot be created. */
int kmalloc_init(void);

/* The size-class table (a KMALLOC_CLASSES_*) the next kmalloc_init builds
 * on; the one in use does not change before it (blocks are live in it).
 * Returns 0; -EINVAL for an unknown table, or the fine one where the
 * environment does not build it (the kernel: mm_env_lock.h,
 * MM_KMALLOC_FINE). */
int kmalloc_use_classes(int profile);

/* The table in use (a KMALLOC_CLASSES_*), its number of classes (cache
 * indexes of kmalloc_cache: 0 .. kmalloc_nr_classes() - 1) and its
 * largest class's size in bytes (larger requests are large blocks). */
int kmalloc_classes(void);
unsigned kmalloc_nr_classes(void);
size_t kmalloc_max_cache_size(void);

/* The fallible core. Returns 0 and *out = a block of >= size bytes aligned
 * to align (0 = KMALLOC_MIN_ALIGN); GFP_ZERO zeroes it. Errors (*out =
 * NULL): -EINVAL when out is NULL, size is 0, size > KMALLOC_MAX_REQUEST,
 * align is not a power of two or > KMALLOC_MAX_ALIGN; -ENOMEM when the
 * current mode cannot find the memory (including sizes above all RAM). */
int kmem_try_alloc(size_t size, size_t align, gfp_t gfp, void **out);

/* kmem_try_alloc(size, 0, gfp) returning the block or NULL (size 0 is
 * NULL too). */
void *kmalloc(size_t size, gfp_t gfp);
void *kzalloc(size_t size, gfp_t gfp);

/* n * size zeroed bytes; NULL when n * size overflows (counted as inval),
 * is 0, or memory runs out. */
void *kcalloc(size_t n, size_t size, gfp_t gfp);

/* Resize p to size bytes. p NULL: kmalloc. size 0: kfree(p), NULL. If p's
 * block already holds size bytes p is returned; else a new block is taken
 * in the current mode, the contents copied and p freed. Returns NULL,
 * leaving p valid and untouched, when memory runs out, size >
 * KMALLOC_MAX_REQUEST, or p is not an allocated block (then reported and
 * counted as a wrong free). With gfp 0, nothing in mm_slow_paths and p a
 * slab object or large block, no lock is taken but kmalloc's and kfree's
 * own (their fast paths); else the mm lock. */
void *krealloc(const void *p, size_t size, gfp_t gfp);

/* Free p; NULL is a no-op. A pointer that is not an allocated block is
 * refused (reported with the caller, counted), never freed. */
void kfree(const void *p);

/* Usable bytes of the block p (>= what was asked), 0 for NULL or a
 * pointer that is not an allocated block. A slab object or large block is
 * read from its frame without a lock; anything else under the mm lock. */
size_t ksize(const void *p);

/* Switch mode. Returns 0; -EINVAL for an unknown mode. */
int mm_set_mode(int mode);
int mm_get_mode(void);

/* "simple", "twotier", "hybrid" for the current mode / for mode (NULL for
 * an unknown one); mm_mode_parse() is the inverse (-EINVAL if unknown). */
const char *mm_mode_name(void);
const char *mm_mode_str(int mode);
int mm_mode_parse(const char *name);

/* Release what the caches hold without anyone using it: every keeper of
 * the reclaim path (mm/shrinker.h) gives back all it keeps -- every CPU's
 * page lists, kept large blocks, magazines, empty slabs, fully free heap
 * runs. Returns the bytes
 * given back (frames; magazine objects only where no slab frame came
 * back). After it,
 * with no block allocated, buddy_free_pages() is what it was right after
 * kmalloc_init(): the baseline the tests compare against. */
unsigned long kmalloc_shrink(void);

/* While on (each on matched by an off: several CPUs may hold it), kfree
 * and kmalloc bypass the magazines and kept blocks (the full path only), so every freed block goes back where it came from --
 * for a caller that must leave the allocators exactly as it found them
 * (txn.c's undo). Mm lock held. */
void kmalloc_bypass_caches(bool on);

/* A reservation from the calling CPU's caches (as Linux's
 * kmem_cache_prefill_sheaf): kmalloc_take_cached stores in out[0..] up to
 * n blocks of the size class of size bytes at 16-byte alignment, taken
 * from the objects the CPU's magazines hold now (never from the slabs,
 * never failing: it returns how many it took, 0 when the class has none
 * cached, size is above the classes, or the magazines are off --
 * mm_slow_paths). kmalloc_put_cached puts such a block back into the
 * magazines of the CPU that took it (txn.c's undo, on the same CPU, with
 * the caches bypassed): true; false -- nothing done, the caller kfrees it
 * -- when the magazines have no room, poisoning is on (they were drained
 * for it), or p is not a live object of one of kmalloc's caches. Counted
 * as a fast-path allocation and free. Mm lock NOT held. */
unsigned kmalloc_take_cached(size_t size, void **out, unsigned n);
bool kmalloc_put_cached(const void *p);

/* The failure window: of the requests of about the last KMALLOC_WINDOW_MS,
 * how many failed (kmalloc_window.c). Without a tick it may span longer,
 * and says so in ms. */
#define KMALLOC_WINDOW_MS 10000
struct kmalloc_window {
	uint64_t requests, failures;   /* in the window */
	unsigned long long ms;         /* how long it spans */
};
void kmalloc_get_window(struct kmalloc_window *out);

/* A periodic tick (the kernel's timer, any rate) keeps the window's
 * checkpoints one a second, so it spans the last KMALLOC_WINDOW_MS even
 * when nothing fails or reads. Cheap when no second began. */
void kmalloc_tick(void);

/* Take n of the failures the window holds out of it (and out of every
 * checkpoint): mm_stats_excuse for a passing self-test's provoked ones. */
void kmalloc_forget_failures(uint64_t n);

/* slab_check() + heap_check(): violations found (0 = sound). */
int kmalloc_check(void);

void kmalloc_get_stats(struct kmalloc_stats *out);

/* Usable bytes of every live kmalloc block, all backends: what a leak
 * check compares before and after. */
uint64_t kmalloc_bytes_in_use(void);

/* kmalloc-N cache for class index i (0 .. kmalloc_nr_classes() - 1, by
 * size), else NULL. */
struct kmem_cache *kmalloc_cache(unsigned i);

#endif
