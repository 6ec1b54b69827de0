/* kmalloc.c - the mode router (mm/kmalloc.h): size classes on slab caches,
 * large blocks from the buddy allocator, the SimpleHeap, and the owner
 * lookup that lets any mode free any block.
 *
 * Owner lookup (the reason modes can switch with blocks live):
 *   p -> virt_to_page(p) -> compound_head() -> head->owner
 *     PAGE_OWNER_SLAB   slab object; head->priv is its cache (slab.c)
 *     PAGE_OWNER_HEAP   SimpleHeap block; head->priv is its run (heap.c)
 *     PAGE_OWNER_LARGE  kmalloc large block; p must be the head's address,
 *                       the order is head->order
 *     PAGE_OWNER_KEPT   a freed large block kept for reuse (kept.c): refused
 *     anything else     not a kmalloc block: refused
 * Each allocator validates the pointer fully and reports a refusal itself,
 * so every wrong free is reported exactly once.
 *
 * Fast paths: kmalloc() and kfree() handle the common size-class case
 * inline through the calling CPU's magazines, inside its gate and without
 * the mm lock (slab_internal.h, mm/mm_env.h), large blocks of 8..32 KiB
 * through a small cache of freed blocks under the mm lock (below; under
 * Linux's table: the fine table's classes reach 32 KiB), and
 * hand everything else to the full path here, under the mm lock. In
 * SimpleHeap mode with nothing else in mm_slow_paths, a request the heap's
 * runs can serve, and the free of a heap block, take the heap's own lock
 * and not the mm lock (km_heap_alloc, km_heap_free). ksize and krealloc
 * of a slab object or large block read its size from the frame without a
 * lock (km_usable_fast) and resize through kmalloc's and kfree's fast
 * paths. Not here: fault
 * injection (faultinj.c), transactions (txn.c).
 *
 * Locks: mm lock -> every CPU's gate (stoppers) -> heap_lock (heap.c) or
 * a kmalloc cache's lock, never both -> the page allocator's; the
 * SimpleHeap backend's counters
 * (km_stats.backend[KM_BACKEND_HEAP]) change with both held, the heap
 * path's own (km_heap_pending) with heap_lock alone. */
#include <string.h>
#include "mm/kmalloc.h"
#include "mm/slab.h"
#include "mm/heap.h"
#include "mm/buddy.h"
#include "mm/mm_debug.h"
#include "mm/slowpath.h"
#include "mm/faultinj.h"
#include "mm/leak.h"
#include "mm/shrinker.h"
#include "mm/mm_env.h"
#include "kerrno.h"
#include "slab_internal.h"
#include "heap_internal.h"
#include "kmalloc_internal.h"

/* The size-class tables (kmalloc.h, enum kmalloc_classes). A class's
 * align is the largest power of two dividing its size, capped at
 * SLAB_MAX_ALIGN: natural alignment for the powers of two, as Linux gives
 * its kmalloc caches; an aligned request takes the first class at least
 * its size whose align is enough (km_class).
 *
 * KMALLOC_CLASSES_LINUX: Linux's kmalloc-N caches (kmalloc_index, with its
 * 96 and 192), 8 bytes to 4 KiB; what the kernel's tests, memstat and the
 * README name. Each power of two past 256 doubles: a request just over one
 * is granted nearly twice what it asked.
 *
 * KMALLOC_CLASSES_FINE: four classes per doubling from 128 bytes to
 * 32 KiB (160 192 224 256, 320 384 448 512, ...), 16-byte steps below --
 * the spacing of jemalloc's size classes (jemalloc's sc.h, SC_LG_NGROUP 2:
 * four classes per doubling of the size) and of mimalloc's bins (its
 * page-queue.c, mi_bin: a doubling cut in four by the size's next two
 * bits): a request of more than 64 bytes is granted less than 1.25 times
 * what it asked, about 1.09 times on average over the sizes 129..32768
 * (test_classes), and one of up to 64 bytes less than 16 bytes more.
 * One class more than the rule, 4608 (a page and an eighth): a buffer of
 * a page with a header -- sqlite3's page cache asks 4,368 bytes a page,
 * 18,842 times in make bench-real's run, and 5120 granted each 17% more
 * (about 700 KiB of its peak RSS); at 4608 they waste 5%, on order-3
 * slabs of 7 (1.6% of the slab lost).
 * Every class is a multiple of 16 and aligned to 16 at least, as glibc's
 * malloc aligns (no 8-byte class): what a C library's malloc needs
 * (libtally, user/lib/malloc.c). Classes over a page live on slabs of
 * several pages (slab.c, layout_order), as SLUB serves kmalloc-8k from
 * order-3 slabs. Not the kernel's: its caches and figures keep Linux's
 * names. */
struct km_class_def {
	const char *name;
	uint16_t size, align;
};

static const struct km_class_def km_classes_linux[] = {
	{ "kmalloc-8", 8, 8 },         { "kmalloc-16", 16, 16 },
	{ "kmalloc-32", 32, 32 },      { "kmalloc-64", 64, 64 },
	{ "kmalloc-96", 96, 32 },      { "kmalloc-128", 128, 128 },
	{ "kmalloc-192", 192, 64 },    { "kmalloc-256", 256, 256 },
	{ "kmalloc-512", 512, 512 },   { "kmalloc-1024", 1024, 1024 },
	{ "kmalloc-2048", 2048, 2048 }, { "kmalloc-4096", 4096, 4096 },
};

static const struct km_class_def km_classes_fine[] = {
	{ "kmalloc-16", 16, 16 },       { "kmalloc-32", 32, 32 },
	{ "kmalloc-48", 48, 16 },       { "kmalloc-64", 64, 64 },
	{ "kmalloc-80", 80, 16 },       { "kmalloc-96", 96, 32 },
	{ "kmalloc-112", 112, 16 },     { "kmalloc-128", 128, 128 },
	{ "kmalloc-160", 160, 32 },     { "kmalloc-192", 192, 64 },
	{ "kmalloc-224", 224, 32 },     { "kmalloc-256", 256, 256 },
	{ "kmalloc-320", 320, 64 },     { "kmalloc-384", 384, 128 },
	{ "kmalloc-448", 448, 64 },     { "kmalloc-512", 512, 512 },
	{ "kmalloc-640", 640, 128 },    { "kmalloc-768", 768, 256 },
	{ "kmalloc-896", 896, 128 },    { "kmalloc-1024", 1024, 1024 },
	{ "kmalloc-1280", 1280, 256 },  { "kmalloc-1536", 1536, 512 },
	{ "kmalloc-1792", 1792, 256 },  { "kmalloc-2048", 2048, 2048 },
	{ "kmalloc-2560", 2560, 512 },  { "kmalloc-3072", 3072, 1024 },
	{ "kmalloc-3584", 3584, 512 },  { "kmalloc-4096", 4096, 4096 },
	{ "kmalloc-4608", 4608, 512 },  { "kmalloc-5120", 5120, 1024 }, { "kmalloc-6144", 6144, 2048 },
	{ "kmalloc-7168", 7168, 1024 }, { "kmalloc-8192", 8192, 4096 },
	{ "kmalloc-10240", 10240, 2048 }, { "kmalloc-12288", 12288, 4096 },
	{ "kmalloc-14336", 14336, 2048 }, { "kmalloc-16384", 16384, 4096 },
	{ "kmalloc-20480", 20480, 4096 }, { "kmalloc-24576", 24576, 4096 },
	{ "kmalloc-28672", 28672, 4096 }, { "kmalloc-32768", 32768, 4096 },
};

_Static_assert(sizeof(km_classes_linux) / sizeof(km_classes_linux[0]) <= KMALLOC_NR_CLASSES &&
	       sizeof(km_classes_fine) / sizeof(km_classes_fine[0]) <= KMALLOC_NR_CLASSES,
	       "KMALLOC_NR_CLASSES bounds every table");

#define KM_NR_LINUX (sizeof(km_classes_linux) / sizeof(km_classes_linux[0]))
#define KM_NR_FINE  (sizeof(km_classes_fine) / sizeof(km_classes_fine[0]))

/* The table kmalloc_init builds on (kmalloc_use_classes), and the one in
 * use since then: km_classes[0 .. km_nr_classes), the largest class's
 * size km_max_class. Where the environment builds Linux's table alone
 * (MM_KMALLOC_FINE 0: the kernel) they are constants, so its full path
 * reads no table pointer or count. */
static int km_profile_next = KMALLOC_CLASSES_LINUX;
static int km_profile = KMALLOC_CLASSES_LINUX;
#if MM_KMALLOC_FINE
static const struct km_class_def *km_classes = km_classes_linux;
static unsigned km_nr_classes = KM_NR_LINUX;
static size_t km_max_class = 4096;
#else
#define km_classes    km_classes_linux
#define km_nr_classes ((unsigned)KM_NR_LINUX)
#define km_max_class  ((size_t)4096)
#endif

static const char *const mode_names[MM_MODE_NR] = {
	"simple", "twotier", "hybrid"
};

static struct kmem_cache *km_caches[KMALLOC_NR_CLASSES];
static int km_mode = MM_MODE_HYBRID;
static struct kmalloc_stats km_stats;

static struct km_counts km_folded[KMALLOC_NR_CLASSES];

/* What the SimpleHeap path served since the last fold (heap_lock held):
 * km_heap_fold_locked() adds it to the mode's and the HEAP backend's
 * counters. peak: the highest bytes the HEAP backend had in use when the
 * path handed a block out (the folded figure plus what is pending). */
static struct {
	unsigned long allocs, frees, wrong_frees;
	uint64_t requested, granted, freed, peak;
} km_heap_pending;
static int km_bypass;   /* kmalloc_bypass_caches(): its holders */

/* Sizes up to KM_STEP_MAX are looked up by 8-byte steps, larger ones (a
 * table's classes over 4 KiB are all multiples of 512) by 512-byte steps:
 *   km_class_of[(size + 7) / 8]        smallest class for a size,
 *   km_cache_of[(size - 1) / 8]        its cache, for kmalloc's fast path,
 *                                      indexed so that the size - 1 kmalloc
 *                                      tests its range with serves;
 *   km_class_big[(size - 1) >> 10]     smallest class over KM_STEP_MAX
 *                                      (KM_NO_CLASS: none, a large block),
 *   km_cache_big[(size - 1) >> 10]     its cache (NULL: none).
 * Filled by kmalloc_init. The fast path's common case stays one load. */
#define KM_STEP_MAX 4096
#define KM_BIG_SHIFT 9
#define KM_NO_CLASS 0xff
static uint8_t km_class_of[KM_STEP_MAX / 8 + 1];
static struct kmem_cache *km_cache_of[KM_STEP_MAX / 8];
static uint8_t km_class_big[KMALLOC_MAX_CACHE_SIZE >> KM_BIG_SHIFT];
static struct kmem_cache *km_cache_big[KMALLOC_MAX_CACHE_SIZE >> KM_BIG_SHIFT];

_Static_assert(KMALLOC_NR_CLASSES < KM_NO_CLASS, "class indexes fit a byte");

/* The smallest class of size bytes or more, at or after class ci (sizes
 * asked in increasing order: one sweep over the table), or KM_NO_CLASS. */
static unsigned km_next_fit(size_t size, unsigned ci)
{
	while (ci < km_nr_classes && km_classes[ci].size < size)
		ci++;
	return ci < km_nr_classes ? ci : KM_NO_CLASS;
}

static void km_class_table(void)
{
	unsigned ci = 0;

	for (unsigned i = 0; i <= KM_STEP_MAX / 8; i++) {
		ci = km_next_fit(i * 8, ci);   /* every table reaches 4 KiB */
		km_class_of[i] = (uint8_t)ci;
		if (i)
			km_cache_of[i - 1] = km_caches[ci];
	}
	for (unsigned i = 0; i < KMALLOC_MAX_CACHE_SIZE >> KM_BIG_SHIFT; i++) {
		unsigned big = ((size_t)i + 1) << KM_BIG_SHIFT <= KM_STEP_MAX ? KM_NO_CLASS :
			       km_next_fit(((size_t)i << KM_BIG_SHIFT) + 1, ci);

		km_class_big[i] = (uint8_t)big;
		km_cache_big[i] = big == KM_NO_CLASS ? NULL : km_caches[big];
		if (big != KM_NO_CLASS)
			ci = big;
	}
}

/* kmalloc and kfree are built without a frame record, so their fast paths
 * are not taxed with one: a backtrace taken inside them names their caller
 * but not them. */
#if defined(__GNUC__) && !defined(__clang__)
#define KM_HOT __attribute__((optimize("omit-frame-pointer")))
#else
#define KM_HOT
#endif

/* Move one fast path's counts since the last fold (*last) into mode
 * counters m and backend counters b; each allocation granted `each` bytes.
 * When in_use, b's bytes in use follow (the slab fast paths leave them to
 * the fold; the kept blocks count theirs under the mm lock). */
static void km_fold_one(struct mm_alloc_counters *m, struct mm_alloc_counters *b,
			const struct km_counts *now, struct km_counts *last, size_t each,
			bool in_use)
{
	unsigned long a = now->allocs - last->allocs, f = now->frees - last->frees;
	uint64_t bytes = now->bytes - last->bytes;

	*last = *now;
	m->requests += a;
	m->successes += a;
	m->bytes_requested += bytes;
	m->bytes_granted += (uint64_t)a * each;
	b->successes += a;
	b->bytes_requested += bytes;
	b->bytes_granted += (uint64_t)a * each;
	b->frees += f;
	if (in_use)
		b->bytes_in_use += ((uint64_t)a - f) * each;
}

/* Add the SimpleHeap path's pending counts to km_stats (mm lock and
 * heap_lock held): the mode's request counts and the HEAP backend's. */
static void km_heap_fold_locked(void)
{
	struct mm_alloc_counters *m = &km_stats.mode[km_mode];
	struct mm_alloc_counters *b = &km_stats.backend[KM_BACKEND_HEAP];

	m->requests += km_heap_pending.allocs;
	m->successes += km_heap_pending.allocs;
	m->bytes_requested += km_heap_pending.requested;
	m->bytes_granted += km_heap_pending.granted;
	b->successes += km_heap_pending.allocs;
	b->bytes_requested += km_heap_pending.requested;
	b->bytes_granted += km_heap_pending.granted;
	b->frees += km_heap_pending.frees;
	b->wrong_frees += km_heap_pending.wrong_frees;
	km_stats.wrong_frees += km_heap_pending.wrong_frees;
	b->bytes_in_use += km_heap_pending.granted - km_heap_pending.freed;
	if (km_heap_pending.peak > b->peak_bytes_in_use)
		b->peak_bytes_in_use = km_heap_pending.peak;
	memset(&km_heap_pending, 0, sizeof(km_heap_pending));
}

/* Every CPU's counts of each kmalloc cache into km_stats (mm lock held,
 * every gate stopped); each cache's lock taken for its read, since the
 * CPUs' magazine slow paths count under it. The slab backend's peak in use is the
 * highest seen at a fold (each read of the figures, each second's tick or
 * first failure, each mode switch): the fast paths keep no shared count. */
static void km_fold_cpus(void)
{
	struct mm_alloc_counters *m = &km_stats.mode[km_mode];
	struct mm_alloc_counters *slab = &km_stats.backend[KM_BACKEND_SLAB];

	for (unsigned ci = 0; ci < km_nr_classes; ci++) {
		struct kmem_cache *c = km_caches[ci];
		struct km_counts now = { 0, 0, 0 };
		unsigned long cs;

		if (!c)
			continue;
		cs = slab_lock(c);
		for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++) {
			now.allocs += c->cpu[cpu].allocs;
			now.frees += c->cpu[cpu].frees;
			now.bytes += c->cpu[cpu].bytes;
		}
		slab_unlock(c, cs);
		km_fold_one(m, slab, &now, &km_folded[ci], c->size, true);
	}
	if (slab->bytes_in_use > slab->peak_bytes_in_use)
		slab->peak_bytes_in_use = slab->bytes_in_use;
	for (unsigned o = 1; o <= KEPT_ORDERS; o++)
		km_fold_one(m, &km_stats.backend[KM_BACKEND_LARGE], &kept[o].fast,
			    &kept[o].folded, PAGE_SIZE << o, false);
}

/* Bring km_stats up to date with the fast paths and the SimpleHeap path
 * (mm lock held). */
static void km_fold(void)
{
	unsigned long hs;

	mm_gates_stop();
	km_fold_cpus();
	hs = heap_lock();
	km_heap_fold_locked();
	heap_unlock(hs);
	mm_gates_start();
}

/* Requests since kmalloc_init, all modes (after km_fold). */
static uint64_t km_requests(void)
{
	uint64_t n = 0;

	for (int m = 0; m < MM_MODE_NR; m++)
		n += km_stats.mode[m].requests;
	return n;
}

/* ---- set-up, modes ------------------------------------------------------ */


int kmalloc_use_classes(int profile)
{
	if (profile != KMALLOC_CLASSES_LINUX && (profile != KMALLOC_CLASSES_FINE || !MM_KMALLOC_FINE))
		return -EINVAL;
	__atomic_store_n(&km_profile_next, profile, __ATOMIC_RELAXED);
	return 0;
}

int kmalloc_classes(void)
{
	return km_profile;
}

unsigned kmalloc_nr_classes(void)
{
	return km_nr_classes;
}

size_t kmalloc_max_cache_size(void)
{
	return km_max_class;
}

/* Take the table kmalloc_use_classes chose (kmalloc_init, mm lock held,
 * every cache forgotten by slab_init). */
static void km_pick_classes(void)
{
	km_profile = __atomic_load_n(&km_profile_next, __ATOMIC_RELAXED);
#if MM_KMALLOC_FINE
	if (km_profile == KMALLOC_CLASSES_FINE) {
		km_classes = km_classes_fine;
		km_nr_classes = KM_NR_FINE;
	} else {
		km_classes = km_classes_linux;
		km_nr_classes = KM_NR_LINUX;
	}
	km_max_class = km_classes[km_nr_classes - 1].size;
#endif
	memset(km_caches, 0, sizeof(km_caches));
}

int kmalloc_init(void)
{
	unsigned long s = mm_lock();
	unsigned i;
	int ret = 0;

	slab_init();         /* each layer registers its keeper (page_alloc_init reset the registry) */
	heap_init();
	faultinj_reset();
	mm_debug_reset();
	mm_debug_on_poison(slab_mag_drain_all);   /* magazine objects were freed unpoisoned */
	leak_reset();
	km_window_reset();
	memset(&km_stats, 0, sizeof(km_stats));
	memset(km_folded, 0, sizeof(km_folded));
	memset(&km_heap_pending, 0, sizeof(km_heap_pending));   /* heap_init above: no other CPU in the mm */
	kept_reset();   /* and its keeper registered */
	km_mode = MM_MODE_HYBRID;
	mm_force_slow_path(MM_SLOW_SIMPLE, false);
	km_bypass = 0;
	mm_force_slow_path(MM_SLOW_BYPASS, false);
	km_pick_classes();
	for (i = 0; i < km_nr_classes; i++) {
		km_caches[i] = kmem_cache_create(km_classes[i].name,
						 km_classes[i].size,
						 km_classes[i].align, SLAB_KMALLOC);
		if (!km_caches[i])
			ret = -ENOMEM;
	}
	km_class_table();
	mm_force_slow_path(MM_SLOW_SETUP, ret != 0);   /* the fast path needs every cache */
	mm_unlock(s);
	return ret;
}

void kmalloc_bypass_caches(bool on)
{
	km_bypass += on ? 1 : -1;
	mm_force_slow_path(MM_SLOW_BYPASS, km_bypass > 0);
}

struct kmem_cache *kmalloc_cache(unsigned i)
{
	return i < km_nr_classes ? km_caches[i] : NULL;
}

int mm_set_mode(int mode)
{
	unsigned long s, hs;

	if (mode < 0 || mode >= MM_MODE_NR)
		return -EINVAL;
	s = mm_lock();
	if (mode != km_mode) {
		/* The fast paths (the gates) and the SimpleHeap path (which
		 * reads the word under heap_lock) held still from the fold to
		 * the stores: every request they count before is the old
		 * mode's, every one after the new one's. A magazine refill a
		 * CPU had begun before the gates stopped (under its cache's
		 * lock, outside its gate) and counts after its cache's fold
		 * is counted under the new mode. */
		mm_gates_stop();
		km_fold_cpus();
		hs = heap_lock();
		km_heap_fold_locked();
		km_stats.mode_switches++;
		__atomic_store_n(&km_mode, mode, __ATOMIC_RELAXED);   /* read unlocked below */
		mm_force_slow_path_stopped(MM_SLOW_SIMPLE, mode == MM_MODE_SIMPLE);
		heap_unlock(hs);
		mm_gates_start();
	}
	mm_unlock(s);
	return 0;
}

int mm_get_mode(void)
{
	return __atomic_load_n(&km_mode, __ATOMIC_RELAXED);
}

const char *mm_mode_str(int mode)
{
	return mode >= 0 && mode < MM_MODE_NR ? mode_names[mode] : NULL;
}

const char *mm_mode_name(void)
{
	return mode_names[mm_get_mode()];
}

int mm_mode_parse(const char *name)
{
	int m;

	for (m = 0; name && m < MM_MODE_NR; m++)
		if (strcmp(name, mode_names[m]) == 0)
			return m;
	return -EINVAL;
}

/* ---- the backends -------------------------------------------------------- */

/* The smallest class holding size bytes at align (a power of two), or -1
 * when the request is large. */
static int km_class(size_t size, size_t align)
{
	unsigned i;

	if (size > km_max_class)
		return -1;
	i = size <= KM_STEP_MAX ? km_class_of[(size + 7) / 8]
				: km_class_big[(size - 1) >> KM_BIG_SHIFT];
	while (i < km_nr_classes && km_classes[i].align < align)
		i++;
	return i < km_nr_classes ? (int)i : -1;
}

static int large_alloc(size_t size, gfp_t gfp, void **out, size_t *granted)
{
	unsigned order = 0;
	struct page *pg;

	while ((PAGE_SIZE << order) < size)
		if (++order > MAX_ORDER)
			return -ENOMEM;
	if (buddy_try_alloc(gfp, order, &pg) != 0)
		return -ENOMEM;
	if (order)
		page_set_compound(pg, order);
	page_set_owner(pg, PAGE_OWNER_LARGE);
	*out = page_address(pg);
	*granted = PAGE_SIZE << order;
	return 0;
}

static int twotier_alloc(size_t size, size_t align, gfp_t gfp, void **out,
			 int *backend, size_t *granted, void *caller)
{
	int ci = km_class(size, align);

	if (ci < 0) {
		*backend = KM_BACKEND_LARGE;
		return large_alloc(size, gfp, out, granted);
	}
	*backend = KM_BACKEND_SLAB;
	*granted = km_classes[ci].size;
	*out = __kmem_cache_alloc(km_caches[ci], gfp, caller);
	return *out ? 0 : -ENOMEM;
}

static int heap_route(size_t size, size_t align, gfp_t gfp, void **out,
		      int *backend, size_t *granted, void *caller)
{
	int ret = __heap_alloc(size, align, gfp, out, caller);

	*backend = KM_BACKEND_HEAP;
	if (ret == 0)
		*granted = __heap_usable_size(*out);
	return ret;
}

/* Serve one request in the current mode; *backend and *granted (usable
 * bytes) describe the block on success. */
static int km_route(size_t size, size_t align, gfp_t gfp, void **out,
		    int *backend, size_t *granted, void *caller)
{
	int ret;

	if (gfp & (GFP_DMA | GFP_DMA32)) { /* only the buddy honours zones */
		*backend = KM_BACKEND_LARGE;
		return large_alloc(size, gfp, out, granted);
	}
	if (km_mode == MM_MODE_SIMPLE)
		return heap_route(size, align, gfp, out, backend, granted, caller);
	ret = twotier_alloc(size, align, gfp, out, backend, granted, caller);
	if (ret == -ENOMEM && km_mode == MM_MODE_HYBRID) {
		ret = heap_route(size, align, gfp, out, backend, granted, caller);
		if (ret == 0)
			km_stats.hybrid_fallbacks++;
	}
	return ret;
}

/* ---- accounting ------------------------------------------------------------ */

/* A failure is "injected" when fault injection fired during the request
 * (at any layer below); it is counted in fail_nomem too, since that is
 * what the caller saw. The window needs the request count (every CPU's
 * fast requests folded in, every gate stopped) only when the failure
 * starts a new second's checkpoint: a storm of failures on every CPU
 * stops the fast paths once a second, not once per failure. */
static void count_fail(struct mm_alloc_counters *c, int err, unsigned long injected_before)
{
	unsigned long long now;

	if (err == -EINVAL) {
		c->fail_inval++;
	} else {
		c->fail_nomem++;
		if (faultinj_injected() != injected_before)
			c->fail_injected++;
	}
	km_window_fail();
	now = mm_clock_ms();
	if (km_window_due(now)) {
		km_fold();
		km_window_note(now, km_requests());
	}
}

/* A block of granted bytes handed out by backend b: in use until freed. */
static inline void count_in_use(struct mm_alloc_counters *b, size_t granted)
{
	b->bytes_in_use += granted;
	/* the slab backend's figure lags the fast paths' frees until a fold,
	 * which sets its peak */
	if (b != &km_stats.backend[KM_BACKEND_SLAB] && b->bytes_in_use > b->peak_bytes_in_use)
		b->peak_bytes_in_use = b->bytes_in_use;
}

/* A served request: the mode's and the backend's counters record it. */
static void count_grant(struct mm_alloc_counters *m, struct mm_alloc_counters *b,
			size_t size, size_t granted)
{
	m->successes++;
	m->bytes_requested += size;
	m->bytes_granted += granted;
	b->successes++;
	b->bytes_requested += size;
	b->bytes_granted += granted;
	count_in_use(b, granted);
}

/* Owner of p: a KM_BACKEND_* or -1, and its usable size (0 if p is not an
 * allocated block of that owner). */
static int km_backend_of(const void *p);

static int km_owner(const void *p, size_t *usable)
{
	int backend = km_backend_of(p);
	struct page *pg;

	*usable = 0;
	if (backend == KM_BACKEND_SLAB) {
		*usable = kmem_cache_size(slab_obj_cache(p));
	} else if (backend == KM_BACKEND_HEAP) {
		*usable = __heap_usable_size(p);
	} else if (backend == KM_BACKEND_LARGE) {
		pg = compound_head(virt_to_page(p));
		if (p == page_address(pg))
			*usable = PAGE_SIZE << pg->order;
	}
	return backend;
}

/* ---- allocation entry points ---------------------------------------------- */

/* Route a request; when memory really ran out (not by fault injection,
 * which must be seen), reclaim (mm/shrinker.h) with the caller's mm lock,
 * *lock, dropped -- so a shrinker's kfree never nests inside an
 * allocation, as a real spinlock would need -- and route again while
 * mm_reclaim says to (after round 0 always: objects of the request's own
 * size class put back from the magazines serve it, frames or not). */
static int km_route_reclaim(size_t size, size_t align, gfp_t gfp, void **out,
			    int *backend, size_t *granted, void *caller, unsigned long *lock)
{
	unsigned long injected = faultinj_injected();
	int ret = km_route(size, align, gfp, out, backend, granted, caller);
	unsigned round = 0;

	while (ret == -ENOMEM && faultinj_injected() == injected) {
		bool more;

		mm_unlock(*lock);
		more = mm_reclaim(size, gfp, &round);
		*lock = mm_lock();
		if (!more)
			break;
		ret = km_route(size, align, gfp, out, backend, granted, caller);
	}
	return ret;
}

static int km_alloc(size_t size, size_t align, gfp_t gfp, void **out,
		    void *caller, unsigned long *lock)
{
	struct mm_alloc_counters *m = &km_stats.mode[km_mode];
	unsigned long injected_before = faultinj_injected();
	int backend, ret;
	size_t granted;

	m->requests++;
	if (!out || !size || size > KMALLOC_MAX_REQUEST ||
	    (align & (align - 1)) || align > KMALLOC_MAX_ALIGN) {
		ret = -EINVAL;
	} else {
		ret = km_route_reclaim(size, align ? align : KMALLOC_MIN_ALIGN, gfp,
				       out, &backend, &granted, caller, lock);
	}
	if (ret) {
		if (out)
			*out = NULL;
		count_fail(m, ret, injected_before);
		return ret;
	}
	if (backend == KM_BACKEND_HEAP) {   /* its counters change under heap_lock too */
		unsigned long hs = heap_lock();

		km_heap_fold_locked();   /* so its in-use figure, and peak, are exact */
		count_grant(m, &km_stats.backend[backend], size, granted);
		heap_unlock(hs);
	} else {
		count_grant(m, &km_stats.backend[backend], size, granted);
	}
	if (leak_tracking_on)
		leak_note_alloc(*out, size, caller);
	return 0;
}

int kmem_try_alloc(size_t size, size_t align, gfp_t gfp, void **out)
{
	unsigned long s = mm_lock();
	int ret = km_alloc(size, align, gfp, out, __builtin_return_address(0), &s);

	mm_unlock(s);
	return ret;
}

/* SimpleHeap mode with nothing else in mm_slow_paths, read under
 * heap_lock: a request sees a change of the word at its next look (the
 * mode switch changes it holding heap_lock); one that looked before
 * finishes under the old rules, as one that entered the full path does. */
static inline bool km_heap_path_open(void)
{
	return __atomic_load_n(&mm_slow_paths, __ATOMIC_RELAXED) == MM_SLOW_SIMPLE;
}

/* kmalloc's SimpleHeap path: a block from the runs the heap has, holding
 * heap_lock and not the mm lock, counted in km_heap_pending; NULL when
 * the full path must serve (the path closed, a zone-bound gfp, no chunk
 * fits: a new run, reclaim and failures are the full path's). */
static void *km_heap_alloc(size_t size, gfp_t gfp, void *caller)
{
	unsigned long hs;
	size_t granted = 0;
	uint64_t in_use;
	void *p = NULL;

	if ((gfp & (GFP_DMA | GFP_DMA32)) || size > KMALLOC_MAX_REQUEST)
		return NULL;
	hs = heap_lock();
	if (km_heap_path_open() && __heap_alloc_cached(size, gfp, &p, caller, &granted) == 0) {
		km_heap_pending.allocs++;
		km_heap_pending.requested += size;
		km_heap_pending.granted += granted;
		in_use = km_stats.backend[KM_BACKEND_HEAP].bytes_in_use +
			 km_heap_pending.granted - km_heap_pending.freed;
		if (in_use > km_heap_pending.peak)
			km_heap_pending.peak = in_use;
	}
	heap_unlock(hs);
	return p;
}

/* kfree of a SimpleHeap block, holding heap_lock and not the mm lock,
 * while the path is open (any mode's block: owners route); true when it
 * was done -- freed, or refused (reported by the heap, counted here). */
static bool km_heap_free(const void *p, void *caller)
{
	struct page *pg = virt_to_page(p);
	unsigned long hs;
	size_t usable = 0;
	bool done = false;

	if (!pg || compound_head(pg)->owner != PAGE_OWNER_HEAP)
		return false;
	hs = heap_lock();
	if (km_heap_path_open()) {
		done = true;
		if (__heap_free_locked((void *)p, caller, &usable) == 0) {
			km_heap_pending.frees++;
			km_heap_pending.freed += usable;
		} else {
			km_heap_pending.wrong_frees++;
		}
	}
	heap_unlock(hs);
	return done;
}

static __attribute__((noinline)) void *km_alloc_ptr(size_t size, gfp_t gfp, void *caller)
{
	unsigned long s;
	void *p;

	if (km_heap_path_open() && size && (p = km_heap_alloc(size, gfp, caller)) != NULL)
		return p;
	s = mm_lock();
	km_alloc(size, 0, gfp, &p, caller, &s);
	mm_unlock(s);
	return p;
}

/* The slow halves of kmalloc and kfree (KM_TAIL) are entered by a tail
 * call, so their own return address is their caller's: kmalloc and kfree
 * then need no stack frame to pass it on. Sibling calls are on at -O2 and
 * in the host flags; the leak-site tests fail if a caller is misnamed. */
#define KM_TAIL __attribute__((noinline))

static KM_TAIL void *km_alloc_slow(size_t size, gfp_t gfp)
{
	return km_alloc_ptr(size, gfp, __builtin_return_address(0));
}

/* kmalloc of a large size with mm_slow_paths clear: a kept block of its
 * order, else the full path. Out of line (a tail call from kmalloc), so
 * kmalloc's size-class path keeps no register on the stack. */
static KM_TAIL void *km_kept_alloc(size_t size)
{
	void *caller = __builtin_return_address(0);
	unsigned long s = mm_lock();
	struct page *pg = mm_slow_paths ? NULL : kept_take(size);

	if (pg)
		count_in_use(&km_stats.backend[KM_BACKEND_LARGE], PAGE_SIZE << pg->order);
	mm_unlock(s);
	return pg ? page_address(pg) : km_alloc_ptr(size, GFP_KERNEL, caller);
}

/* An object from the CPU's magazines, its bytes counted (inside the
 * CPU's gate, or on the CPU itself holding the cache's lock). */
static inline void *km_cpu_take(struct slab_cpu *pc, size_t size)
{
	void *p = slab_alloc_fast(pc);

	if (p)
		mm_cpu_count(&pc->bytes, pc->bytes + size);
	return p;
}

/* kmalloc of a size class whose magazines were empty: refill them
 * holding the cache's lock only (the CPU's own magazines, which no fast
 * path of its is touching) and take one, else the full path. A tail call
 * from kmalloc. */
static KM_TAIL void *km_alloc_refill(struct kmem_cache *c, size_t size)
{
	void *caller = __builtin_return_address(0);
	bool plenty = buddy_plenty();
	unsigned cpu = mm_cpu();
	unsigned long s = slab_lock(c);
	void *p = slab_mag_refill(c, cpu, plenty, GFP_KERNEL, &s) ?
		  km_cpu_take(&c->cpu[cpu], size) : NULL;

	slab_unlock(c, s);
	return p ? p : km_alloc_ptr(size, GFP_KERNEL, caller);
}

/* The common cases: GFP_KERNEL, TwoTier or Hybrid, nothing in
 * mm_slow_paths; a size class goes to the calling CPU's magazines inside
 * its gate -- no shared lock -- a large size to the kept blocks (a class
 * over 4 KiB, the fine table's, is found on the large size's branch). A miss
 * refills the magazines under the mm lock; anything else takes the full
 * path. The gate is closed to this path while mm_slow_paths has a reason
 * set (slowpath.c), so its one load decides both; the CPU's share of the
 * cache is indexed with what it returned (mm/mm_env.h). */
KM_HOT void *kmalloc(size_t size, gfp_t gfp)
{
	struct kmem_cache *c;
	struct mm_gate_entry g;
	struct slab_cpu *pc;
	struct slab_mag *m;
	unsigned long n;
	void *p;

	if (__builtin_expect(gfp != GFP_KERNEL, 0))
		return km_alloc_slow(size, gfp);
	if (__builtin_expect(size - 1 >= KM_STEP_MAX, 0)) {
		/* a class over 4 KiB (the fine table's, where the environment
		 * builds it: mm_env_lock.h), else a large block */
		if (!MM_KMALLOC_FINE || size - 1 >= KMALLOC_MAX_CACHE_SIZE ||
		    !(c = km_cache_big[(size - 1) >> KM_BIG_SHIFT]))
			return size - 1 < KEPT_MAX_SIZE ? km_kept_alloc(size) : km_alloc_slow(size, gfp);
	} else {
		c = km_cache_of[(size - 1) / 8];
	}
	g = mm_gate_try();
	if (__builtin_expect(!g.open, 0))
		return km_alloc_slow(size, GFP_KERNEL);
	pc = &c->cpu[g.open - 1];
	m = slab_mag_to_take(pc);
	if (__builtin_expect(!m, 0)) {
		mm_gate_exit(g.state);
		return km_alloc_refill(c, size);
	}
	n = m->n;
	mm_cpu_count(&pc->bytes, pc->bytes + size);
	p = slab_mag_pop(pc, m, n);
	mm_gate_exit(g.state);
	return p;
}

void *kzalloc(size_t size, gfp_t gfp)
{
	return km_alloc_ptr(size, gfp | GFP_ZERO, __builtin_return_address(0));
}

void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	void *caller = __builtin_return_address(0);
	unsigned long s;

	if (n && size > SIZE_MAX / n) {
		s = mm_lock();
		km_stats.mode[km_mode].requests++;
		count_fail(&km_stats.mode[km_mode], -EINVAL, 0);
		mm_unlock(s);
		return NULL;
	}
	return km_alloc_ptr(n * size, gfp | GFP_ZERO, caller);
}

/* ---- free -------------------------------------------------------------------- */

static int km_wrong(const void *p, void *caller, const char *why)
{
	km_stats.wrong_frees++;
	mm_report("kmalloc: wrong free of %p by %p: %s", p, caller, why);
	return -EINVAL;
}

static int large_free(const void *p, void *caller, size_t *usable)
{
	struct page *pg = compound_head(virt_to_page(p));

	if (p != page_address(pg))
		return km_wrong(p, caller, "interior pointer into a large block");
	*usable = PAGE_SIZE << pg->order;
	if (free_pages_owned(pg, pg->order, PAGE_OWNER_LARGE) != 0) {
		km_stats.wrong_frees++; /* reported by the buddy allocator */
		return -EINVAL;
	}
	return 0;
}

/* The backend whose frame holds p (a KM_BACKEND_*), or -1. */
static int km_backend_of(const void *p)
{
	struct page *pg = virt_to_page(p);

	if (!pg)
		return -1;
	pg = compound_head(pg);
	if (!(pg->flags & PG_HEAD))
		return -1;
	switch (pg->owner) {
	case PAGE_OWNER_SLAB:  return KM_BACKEND_SLAB;
	case PAGE_OWNER_HEAP:  return KM_BACKEND_HEAP;
	case PAGE_OWNER_LARGE: return KM_BACKEND_LARGE;
	default:               return -1;
	}
}

/* Free p through its backend, LARGE or SLAB, which validates it once. On
 * success *usable is the block's usable size and *counted says whether
 * kmalloc made it (a kmem_cache_create cache's objects are not kmalloc's
 * to count). The HEAP backend's: km_heap_free_full. */
static int backend_free(int backend, const void *p, void *caller, size_t *usable,
			bool *counted)
{
	struct kmem_cache *c = NULL;
	int ret;

	*counted = true;
	if (backend == KM_BACKEND_LARGE)
		return large_free(p, caller, usable);
	ret = __kmem_cache_free(NULL, (void *)p, caller, &c);
	if (ret == 0) {
		*usable = kmem_cache_size(c);
		*counted = kmem_cache_is_kmalloc(c);
	} else {
		km_stats.wrong_frees++; /* reported by the slab layer */
	}
	return ret;
}

/* km_free of a SimpleHeap block (mm lock held): freed and counted under
 * one hold of heap_lock, the HEAP backend's counters being under it. */
static int km_heap_free_full(const void *p, void *caller)
{
	struct mm_alloc_counters *b = &km_stats.backend[KM_BACKEND_HEAP];
	unsigned long hs = heap_lock();
	size_t usable = 0;
	int ret = __heap_free_locked((void *)p, caller, &usable);

	km_heap_fold_locked();
	if (ret) {   /* reported by the heap */
		b->wrong_frees++;
		km_stats.wrong_frees++;
	} else {
		b->frees++;
		b->bytes_in_use -= usable;
	}
	heap_unlock(hs);
	return ret;
}

/* Free p with the mm lock held; 0 or -EINVAL (refused, reported). */
static int km_free(const void *p, void *caller)
{
	int backend = km_backend_of(p);
	struct mm_alloc_counters *b;
	size_t usable = 0;
	bool counted;

	if (backend < 0) {
		const char *why = kept_why(p);

		if (why)   /* a freed large block, kept: counted where a freed one is */
			km_stats.backend[KM_BACKEND_LARGE].wrong_frees++;
		return km_wrong(p, caller, why ? why : "not a kmalloc block");
	}
	if (backend == KM_BACKEND_HEAP) {
		if (km_heap_free_full(p, caller) != 0)
			return -EINVAL;
		if (leak_tracking_on)
			leak_note_free(p);
		return 0;
	}
	b = &km_stats.backend[backend];
	if (backend_free(backend, p, caller, &usable, &counted) != 0) {
		b->wrong_frees++;
		return -EINVAL;
	}
	if (counted) {
		b->frees++;
		b->bytes_in_use -= usable;
	}
	if (leak_tracking_on)
		leak_note_free(p);
	return 0;
}

/* A freed large block pg (a head, owner LARGE) kept if it may be. */
static inline bool km_kept_put(struct page *pg)
{
	if (!kept_put(pg))
		return false;
	km_stats.backend[KM_BACKEND_LARGE].bytes_in_use -= PAGE_SIZE << pg->order;
	return true;
}

/* kfree of a slab object whose CPU's magazines were full: make room
 * (an empty magazine swapped in from the depot) holding the cache's lock
 * only, and put it in. Returns false when the full path must run (a
 * pointer or slab that does not pass, mm_slow_paths set). */
static bool km_free_cached(const void *p, unsigned cpu)
{
	struct page *pg = virt_to_page(p);
	struct kmem_cache *c;
	unsigned long s;
	bool done = false;

	if (!pg || __atomic_load_n(&mm_slow_paths, __ATOMIC_RELAXED))
		return false;
	if (pg->owner != PAGE_OWNER_SLAB && (pg = compound_head(pg))->owner != PAGE_OWNER_SLAB)
		return false;
	c = __atomic_load_n(&pg->priv, __ATOMIC_ACQUIRE);
	if (!slab_cache_valid(c))
		return false;
	s = slab_lock(c);
	/* with the lock, p's slab is c's for as long as it is held -- or is
	 * no longer: released meanwhile (p being a double free), or by a
	 * depot magazine put back on the slabs to make room */
	if (slab_mag_make_room(c, cpu) && pg->priv == c &&
	    slab_owner_kind(pg) == SLAB_HEAD_PLAIN)   /* not red zones, withdrawn or in transit */
		done = slab_free_fast(pg, p, cpu) != NULL;
	slab_unlock(c, s);
	return done;
}

/* A whole large block for the kept blocks (mm lock held, mm_slow_paths
 * clear); false when the full path must take it -- always under a table
 * whose classes reach the kept sizes (the fine one: kmalloc takes no kept
 * block there, and a zone-bound request's block would sit kept). */
static bool km_free_kept(const void *p)
{
	struct page *pg = virt_to_page(p);

	return pg && !mm_slow_paths && km_max_class < KEPT_MAX_SIZE &&
	       pg->owner == PAGE_OWNER_LARGE &&
	       ((uintptr_t)p & (PAGE_SIZE - 1)) == 0 && km_kept_put(pg);
}

/* kmalloc.h */
unsigned kmalloc_take_cached(size_t size, void **out, unsigned n)
{
	int ci = km_class(size, 16);
	struct kmem_cache *c;
	unsigned cpu, got = 0;
	unsigned long s;
	void *p;

	if (ci < 0 || __atomic_load_n(&mm_slow_paths, __ATOMIC_RELAXED))
		return 0;
	c = km_caches[ci];
	cpu = mm_cpu();
	s = slab_lock(c);   /* the CPU's own magazines, outside its gate */
	if (!__atomic_load_n(&mm_slow_paths, __ATOMIC_RELAXED))
		while (got < n && (p = km_cpu_take(&c->cpu[cpu], size)) != NULL)
			out[got++] = p;
	slab_unlock(c, s);
	return got;
}

bool kmalloc_put_cached(const void *p)
{
	struct page *pg = p ? virt_to_page(p) : NULL;
	struct kmem_cache *c;
	unsigned long s;
	bool done = false;

	if (!pg || (pg->owner != PAGE_OWNER_SLAB && (pg = compound_head(pg))->owner != PAGE_OWNER_SLAB))
		return false;
	c = __atomic_load_n(&pg->priv, __ATOMIC_ACQUIRE);
	if (!slab_cache_valid(c) || !kmem_cache_is_kmalloc(c))
		return false;
	s = slab_lock(c);
	/* whatever else mm_slow_paths says, magazines may hold objects --
	 * unless poisoning is on: they were drained for it (mm_debug) */
	if (!(__atomic_load_n(&mm_debug_flags, __ATOMIC_RELAXED) & MM_DEBUG_POISON) &&
	    pg->priv == c && pg->owner == PAGE_OWNER_SLAB)
		done = slab_free_fast(pg, p, mm_cpu()) != NULL;
	slab_unlock(c, s);
	return done;
}

static KM_TAIL void km_free_slow(const void *p)
{
	void *caller = __builtin_return_address(0);
	unsigned long s;

	if (km_free_cached(p, mm_cpu()) || (km_heap_path_open() && km_heap_free(p, caller)))
		return;
	s = mm_lock();
	if (!km_free_kept(p))
		km_free(p, caller);
	mm_unlock(s);
}

/* An object of a plain slab goes to the CPU's magazines inside its gate;
 * anything else (a large block for the kept blocks, which are shared, a
 * pointer in no frame, a red-zone slab, a miss, the gate closed) to the
 * slow half under the mm lock. Owners are on heads only (page.h): p's own
 * frame names a slab head or a large block's head; an interior frame of a
 * slab is looked up. The owner and layout are read before the gate is
 * entered: the gate guards the CPU's magazines, not the slab
 * (slab_free_fast's claim does). */
KM_HOT void kfree(const void *p)
{
	struct mm_gate_entry g;
	struct page *pg;
	unsigned ok;
	bool done;

	if (!p)
		return;
	pg = virt_to_page(p);
	if (!pg)
		goto slow;
	ok = slab_owner_kind(pg);
	if (ok != SLAB_HEAD_PLAIN &&
	    (ok == PAGE_OWNER_LARGE ||   /* a large block's head (kind 0); else looked up below */
	     slab_owner_kind(pg = compound_head(pg)) != SLAB_HEAD_PLAIN))
		goto slow;
	g = mm_gate_try();
	if (__builtin_expect(!g.open, 0))
		goto slow;
	done = slab_free_fast(pg, p, g.open - 1) != NULL;
	mm_gate_exit(g.state);
	if (done)
		return;
slow:
	km_free_slow(p);
}

/* The usable size of p read from its frame without a lock, as kfree's
 * fast path reads it: an object of a plain slab whose alloc bit is set
 * and cached bit clear (the cache's size), or a large block's head
 * (PAGE_SIZE << order); 0 for anything else -- a heap block, a red-zone
 * slab, a pointer that is no block -- which the locked path then
 * settles (and reports, in krealloc). Only the caller's own misuse (p
 * freed by another thread meanwhile) races with it, and then reads
 * frame metadata and slab maps, which stay mapped: an answer for a block
 * that was p's, never a fault. */
static inline size_t km_usable_fast(const void *p)
{
	struct page *pg = virt_to_page(p);
	unsigned ok;
	struct kmem_cache *c;
	long i;

	if (!pg)
		return 0;
	ok = slab_owner_kind(pg);
	if (ok == PAGE_OWNER_LARGE)   /* a large block's head (kind 0) */
		return ((uintptr_t)p & (PAGE_SIZE - 1)) ? 0 : PAGE_SIZE << pg->order;
	if (ok != SLAB_HEAD_PLAIN && slab_owner_kind(pg = compound_head(pg)) != SLAB_HEAD_PLAIN)
		return 0;
	c = __atomic_load_n(&pg->priv, __ATOMIC_ACQUIRE);
	if (!c)
		return 0;   /* a slab being made or released */
	i = slab_index(pg, &c->lay[LAY_PLAIN], p);
	if (i < 0 || !slab_allocated(pg, (unsigned long)i) ||
	    slab_cached(pg, &c->lay[LAY_PLAIN], (unsigned long)i))
		return 0;
	return c->size;
}

size_t ksize(const void *p)
{
	unsigned long s;
	size_t usable;

	if (!p)
		return 0;
	if ((usable = km_usable_fast(p)) != 0)
		return usable;
	s = mm_lock();
	km_owner(p, &usable);
	mm_unlock(s);
	return usable;
}

/* krealloc with the mm lock: every mode, every flag, every refusal. */
static void *km_realloc_locked(const void *p, size_t size, gfp_t gfp, void *caller)
{
	unsigned long s = mm_lock();
	void *q = NULL;
	size_t old;

	if (km_owner(p, &old) < 0 || !old) {
		km_wrong(p, caller, "krealloc of a pointer that is not a block");
	} else if (!size) {
		km_free(p, caller);
	} else if (size <= old) {
		q = (void *)p;
	} else if (km_alloc(size, 0, gfp, &q, caller, &s) == 0) {
		memcpy(q, p, old);
		km_free(p, caller);
	}
	mm_unlock(s);
	return q;
}

/* The common case takes no shared lock: GFP_KERNEL, nothing in
 * mm_slow_paths (no tracking to name the caller for, no checks, no
 * injection: those take the locked path), p a slab object or large block
 * km_usable_fast vouches for. It stays when it still fits; else the new
 * block comes from kmalloc's fast paths, the old contents are copied and
 * p goes to kfree's -- the same requests and frees, counted the same, as
 * the locked path makes. A miss anywhere (a full magazine, memory
 * running out) is those paths' own slow half. */
void *krealloc(const void *p, size_t size, gfp_t gfp)
{
	size_t old;
	void *q;

	if (!p)
		return km_alloc_ptr(size, gfp, __builtin_return_address(0));
	if (gfp != GFP_KERNEL || !size || __atomic_load_n(&mm_slow_paths, __ATOMIC_RELAXED) ||
	    (old = km_usable_fast(p)) == 0)
		return km_realloc_locked(p, size, gfp, __builtin_return_address(0));
	if (size <= old)
		return (void *)p;
	q = kmalloc(size, GFP_KERNEL);
	if (q) {
		memcpy(q, p, old);
		kfree(p);
	}
	return q;
}

/* ---- whole-layer helpers ------------------------------------------------- */

void kmalloc_get_window(struct kmalloc_window *out)
{
	unsigned long s = mm_lock();

	km_fold();
	km_window_get(km_requests(), out);
	mm_unlock(s);
}

void kmalloc_tick(void)
{
	unsigned long long now = mm_clock_ms();
	unsigned long s;

	if (!km_window_due(now))
		return;   /* read without the lock: at worst one more look */
	s = mm_lock();
	km_fold();
	km_window_note(now, km_requests());
	mm_unlock(s);
}

void kmalloc_forget_failures(uint64_t n)
{
	unsigned long s = mm_lock();

	km_window_forget(n);
	mm_unlock(s);
}

unsigned long kmalloc_shrink(void)
{
	return mm_drain_keepers();
}

uint64_t kmalloc_bytes_in_use(void)
{
	unsigned long s = mm_lock();
	uint64_t sum = 0;

	km_fold();
	for (int b = 0; b < KM_BACKEND_NR; b++)
		sum += km_stats.backend[b].bytes_in_use;
	mm_unlock(s);
	return sum;
}

int kmalloc_check(void)
{
	unsigned long s = mm_lock();
	int bad = kept_check();

	mm_unlock(s);
	return bad + slab_check() + heap_check();
}

/* kmalloc_internal.h */
void kmalloc_get_stats_locked(struct kmalloc_stats *out, struct kmalloc_window *w,
			      struct heap_stats *heap)
{
	unsigned long hs;

	km_fold_cpus();
	hs = heap_lock();
	km_heap_fold_locked();
	if (heap)
		heap_get_stats_locked(heap);
	heap_unlock(hs);
	*out = km_stats;
	kept_count(&out->kept_blocks, &out->kept_bytes);
	km_window_get(km_requests(), w);
}

void kmalloc_get_stats(struct kmalloc_stats *out)
{
	unsigned long s = mm_lock();
	struct kmalloc_window w;

	mm_gates_stop();
	kmalloc_get_stats_locked(out, &w, NULL);
	mm_gates_start();
	mm_unlock(s);
}
