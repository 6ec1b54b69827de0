/* test_hotadd.c - memory hot-add (page_hot_add, mm/page.h) and the host's
 * growing arena (mm_host_init_growing, mm/mm_host.h).
 *
 * - mm_host_init_growing's refusals (no size, initial above the
 *   reservation, a reservation over 2^32 frames);
 * - page_hot_add's refusals: size 0, unaligned, not at the span's end,
 *   beyond the array's room, an arena from mm_host_init (no room): each
 *   leaves free pages and the span as they were;
 * - a block at the old end merges with its free buddy across the seam:
 *   the whole arena ends up as maximal blocks (buddy_check's coalescing
 *   rule), free pages = present pages;
 * - kmalloc in every mode grows a 4 MiB arena on demand to hold 48 MiB of
 *   live blocks of mixed sizes (patterns intact), each growth at least an
 *   eighth of the arena; freed, everything is free again and mm_check is
 *   clean, and the freed memory went back to the system (the resident set
 *   falls by 32 MiB at least); past the reservation a request fails with
 *   NULL (no crash), and
 *   after frees the same request succeeds;
 * - the keep of free frames still backed: none in a zone under 32 MiB
 *   (a 12 MiB arena freed gives every free block back), at most an eighth
 *   of the zone in whole 4 MiB blocks above (after 48 MiB);
 * - four threads allocate, free each other's blocks and grow the arena at
 *   once (built under ThreadSanitizer too: test_hotadd_tsan; any data race
 *   fails the run). Seeds fixed and printed. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tap.h"
#include "kerrno.h"
#include "lib/xorshift.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/page.h"
#include "mm/stats.h"

#define MIB (1ul << 20)
#define SEED 0x407addull

#if defined(__SANITIZE_THREAD__)
#define THREAD_OPS 6000
#else
#define THREAD_OPS 40000
#endif

/* The process's resident set, bytes (/proc/self/statm's second field). */
static size_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static uint64_t span_end(void)
{
	return (page_base_pfn + page_nr_frames) << PAGE_SHIFT;
}

static void refusals(void)
{
	static char fixed[8 * MIB];
	uint64_t end, frames;
	unsigned long free0;

	tap_ok(mm_host_init_growing(0, 64 * MIB, 0) == -EINVAL, "growing arena of 0 bytes: -EINVAL");
	tap_ok(mm_host_init_growing(8 * MIB, 4 * MIB, 0) == -EINVAL, "initial above reserved: -EINVAL");
	tap_ok(mm_host_init_growing(4 * MIB, (size_t)1 << 46, 0) == -EINVAL,
	       "a reservation over 2^32 frames: -EINVAL");
	tap_ok(mm_host_init_growing(4 * MIB, 64 * MIB, 0) == 0, "growing arena: 4 MiB of 64");
	end = span_end();
	frames = page_nr_frames;
	free0 = buddy_free_pages();
	tap_ok(page_hot_add(end, 0) == -EINVAL, "size 0: -EINVAL");
	tap_ok(page_hot_add(end, 100) == -EINVAL, "size not page aligned: -EINVAL");
	tap_ok(page_hot_add(end + 1, PAGE_SIZE) == -EINVAL, "base not page aligned: -EINVAL");
	tap_ok(page_hot_add(end + PAGE_SIZE, PAGE_SIZE) == -EINVAL, "a gap after the span: -EINVAL");
	tap_ok(page_hot_add(end - PAGE_SIZE, PAGE_SIZE) == -EINVAL, "inside the span: -EINVAL");
	tap_ok(page_hot_add(end, 61 * MIB) == -ENOSPC, "beyond the array's room: -ENOSPC");
	tap_ok(page_nr_frames == frames && buddy_free_pages() == free0 && buddy_check() == 0,
	       "refusals change nothing");
	tap_ok(mm_host_init(fixed, sizeof(fixed)) == 0, "a fixed arena");
	end = span_end();
	tap_ok(page_hot_add(end, PAGE_SIZE) == -ENOSPC, "a fixed arena has no room: -ENOSPC");
	tap_ok(mm_host_arena_bytes() == 0, "mm_host_init forgets the growing arena");
}

/* Hot-add by hand in odd steps: frames join, blocks merge across each
 * seam, the whole ends up maximal. The grower commits the frame array's
 * entries with their frames (common/mm_grow.h); by hand, the test
 * commits them itself. */
static void merge_across_seams(void)
{
	uint64_t base = MM_HOST_GROW_PHYS_BASE;
	const struct zone *z = zone_get(ZONE_HIGH);
	struct page *pg;
	int rc = 0;

	tap_ok(mm_host_init_growing(4 * MIB, 32 * MIB, 0) == 0, "growing arena: 4 MiB of 32");
	pg = alloc_pages(GFP_KERNEL, 0);   /* one frame in use across the adds */
	tap_ok(pg != NULL, "a frame in use");
	tap_ok(mprotect(page_map, (32 * MIB / PAGE_SIZE * sizeof(struct page) + PAGE_SIZE - 1) & PAGE_MASK,
			PROT_READ | PROT_WRITE) == 0, "the array's entries committed by hand");
	for (unsigned long add = PAGE_SIZE; span_end() + add <= base + 28 * MIB; add *= 3) {
		add = add & PAGE_MASK;
		rc |= page_hot_add(span_end(), add);
	}
	rc |= page_hot_add(span_end(), base + 32 * MIB - span_end());
	tap_ok(rc == 0 && span_end() == base + 32 * MIB, "added up to 32 MiB in growing steps");
	tap_ok(z->present_pages == 32 * MIB / PAGE_SIZE, "present pages: 8192 (%lu)", z->present_pages);
	tap_ok(buddy_check() == 0, "buddy_check: coalesced across every seam");
	tap_ok(free_pages(pg, 0) == 0, "the frame freed");
	kmalloc_shrink();
	tap_ok(buddy_free_pages() == z->present_pages, "all free");
	tap_ok(z->area[MAX_ORDER].nr_free == 8, "as eight maximal blocks (%lu)", z->area[MAX_ORDER].nr_free);
}

static size_t pick_size(uint64_t *rng)
{
	uint64_t r = xorshift64(rng);

	switch (r % 8) {
	case 0: return 16 + r % 256;
	case 1: return 512 + r % 3584;
	case 2: return 8192 + r % 65536;
	case 3: return 300000 + r % 700000;
	default: return 32 + r % 128;
	}
}

static void fill(unsigned char *p, size_t n, unsigned tag)
{
	for (size_t i = 0; i < n; i += 997)
		p[i] = (unsigned char)(tag + i);
	p[n - 1] = (unsigned char)tag;
}

static int intact(const unsigned char *p, size_t n, unsigned tag)
{
	for (size_t i = 0; i < n; i += 997)
		if (p[i] != (unsigned char)(tag + i))
			return 0;
	return p[n - 1] == (unsigned char)tag;
}

/* Free frames of the High zone whose memory is still backed, and how
 * many the keep allows: an eighth of the zone, in whole 4 MiB blocks. */
static unsigned long backed_frames(void)
{
	struct buddy_zone_info zi[NR_ZONES];

	buddy_zone_info(zi);
	return zi[ZONE_HIGH].free_pages - zone_get(ZONE_HIGH)->released;
}

static unsigned long keep_frames(void)
{
	return zone_get(ZONE_HIGH)->present_pages / 8 / (1ul << MAX_ORDER) << MAX_ORDER;
}

/* A small arena keeps no free block backed: grown to 12 MiB by 1 MiB
 * blocks and emptied, every free 4 MiB block went back (a fixed keep of
 * two blocks would hold 8 MiB, most of a small program's footprint). */
static void small_arena_keeps_nothing(void)
{
	void *blk[12];
	size_t n;

	tap_ok(mm_host_init_growing(4 * MIB, 64 * MIB, 0) == 0, "small: growing arena 4 MiB of 64");
	for (n = 0; n < 10; n++) {
		blk[n] = kmalloc(MIB, GFP_KERNEL);
		if (blk[n])
			memset(blk[n], 0x5a, MIB);
	}
	tap_ok(mm_host_arena_bytes() >= 12 * MIB && mm_host_arena_bytes() < 32 * MIB,
	       "small: 10 MiB live, the arena %zu MiB", mm_host_arena_bytes() / MIB);
	for (n = 0; n < 10; n++)
		kfree(blk[n]);
	kmalloc_shrink();
	tap_ok(keep_frames() == 0 && backed_frames() == 0 &&
	       zone_get(ZONE_HIGH)->released >= 2ul << MAX_ORDER,
	       "small: freed, no free frame stays backed (%lu frames released, %lu backed)",
	       zone_get(ZONE_HIGH)->released, backed_frames());
	tap_ok(mm_check() == 0, "small: mm_check clean");
}

/* kmalloc grows the arena on demand, in each mode. */
static void grows_on_demand(enum mm_mode mode, const char *name)
{
	enum { N = 4096 };
	static void *blk[N];
	static size_t len[N];
	uint64_t rng = SEED + mode;
	size_t live = 0, n = 0, grown, full_rss;
	int bad = 0;

	tap_ok(mm_host_init_growing(4 * MIB, 512 * MIB, 0) == 0, "%s: growing arena 4 MiB of 512", name);
	tap_ok(mm_set_mode(mode) == 0, "%s: mode set", name);
	while (live < 48 * MIB && n < N) {
		len[n] = pick_size(&rng);
		blk[n] = kmalloc(len[n], GFP_KERNEL);
		if (!blk[n])
			break;
		fill(blk[n], len[n], (unsigned)n);
		live += len[n++];
	}
	grown = mm_host_arena_bytes();
	tap_ok(live >= 48 * MIB, "%s: 48 MiB live in %zu blocks (arena %zu MiB)", name, n, grown / MIB);
	tap_ok(grown > 48 * MIB && grown < 128 * MIB, "%s: the arena grew to fit, not far past", name);
	for (size_t i = 0; i < n; i++)
		bad += !intact(blk[i], len[i], (unsigned)i);
	tap_ok(bad == 0, "%s: every block's pattern intact after the growths (%d bad)", name, bad);
	tap_ok(mm_check() == 0, "%s: mm_check clean while full", name);
	full_rss = rss_bytes();
	for (size_t i = 0; i < n; i++)
		kfree(blk[i]);
	kmalloc_shrink();
	tap_ok(full_rss - rss_bytes() >= 32 * MIB && zone_get(ZONE_HIGH)->released >= 8ul << MAX_ORDER,
	       "%s: freed, the memory went back to the system: resident %zu -> %zu MiB, %lu frames released",
	       name, full_rss / MIB, rss_bytes() / MIB, zone_get(ZONE_HIGH)->released);
	tap_ok(backed_frames() <= keep_frames() && keep_frames() >= 1ul << MAX_ORDER,
	       "%s: of the free frames, no more than the keep (an eighth of the zone) stay backed: "
	       "%lu of %lu (zone %lu MiB)", name, backed_frames(), keep_frames(),
	       zone_get(ZONE_HIGH)->present_pages * PAGE_SIZE / MIB);
	tap_ok(buddy_free_pages() == zone_get(ZONE_HIGH)->present_pages,
	       "%s: freed, every frame free again", name);
	tap_ok(mm_check() == 0, "%s: mm_check clean after", name);
}

/* Past the reservation a request fails cleanly; frees make room again. */
static void reservation_ends(void)
{
	enum { N = 64 };
	void *blk[N] = { 0 };
	size_t n = 0;
	void *big;

	tap_ok(mm_host_init_growing(4 * MIB, 16 * MIB, 0) == 0, "growing arena: 4 MiB of 16");
	while (n < N && (blk[n] = kmalloc(MIB, GFP_KERNEL)) != NULL)
		n++;
	tap_ok(n >= 12 && n < 16, "1 MiB blocks until the reservation is used up: %zu", n);
	tap_ok(mm_host_arena_bytes() == 16 * MIB, "the arena is the whole reservation");
	big = kmalloc(MIB, GFP_KERNEL);
	tap_ok(big == NULL, "one more: NULL, no crash");
	kfree(blk[0]);
	kfree(blk[1]);
	big = kmalloc(MIB, GFP_KERNEL);
	tap_ok(big != NULL, "after two frees the same request succeeds");
	kfree(big);
	for (size_t i = 2; i < n; i++)
		kfree(blk[i]);
	tap_ok(mm_check() == 0, "mm_check clean");
}

/* ---- threads ------------------------------------------------------------- */

#define NTHREADS 4
#define SLOTS 64

static void *_Atomic shared[NTHREADS][SLOTS];
static int thread_bad;

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t rng = SEED * (id + 7);

	for (int op = 0; op < THREAD_OPS; op++) {
		uint64_t r = xorshift64(&rng);
		unsigned slot = (unsigned)(r >> 8) % SLOTS, who = (unsigned)(r >> 20) % NTHREADS;
		size_t n = (r >> 32) % 4 == 0 ? 262144 + (r >> 40) % 786432 : 16 + (r >> 40) % 2000;
		void *p = __atomic_exchange_n(&shared[who][slot], NULL, __ATOMIC_ACQ_REL);

		if (p) {
			if (((unsigned char *)p)[0] != (unsigned char)(uintptr_t)p)
				__atomic_fetch_add(&thread_bad, 1, __ATOMIC_RELAXED);
			kfree(p);
		}
		p = kmalloc(n, GFP_KERNEL);
		if (!p) {
			__atomic_fetch_add(&thread_bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		((unsigned char *)p)[0] = (unsigned char)(uintptr_t)p;
		p = __atomic_exchange_n(&shared[id][slot], p, __ATOMIC_ACQ_REL);
		kfree(p);
	}
	return NULL;
}

static void threads_grow(void)
{
	pthread_t t[NTHREADS];

	tap_seed("threads", SEED);
	tap_ok(mm_host_init_growing(4 * MIB, 1024 * MIB, 0) == 0, "threads: growing arena 4 MiB of 1 GiB");
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	tap_ok(thread_bad == 0, "threads: no request failed, every block intact (%d)", thread_bad);
	/* what is live at the peak depends on how the threads interleave: 28
	 * to 60 MiB seen on 2 loaded cores; from 4 MiB, 16 is growth */
	tap_ok(mm_host_arena_bytes() >= 16 * MIB, "threads: the arena grew (%zu MiB)", mm_host_arena_bytes() / MIB);
	for (unsigned i = 0; i < NTHREADS; i++)
		for (unsigned s = 0; s < SLOTS; s++)
			kfree(shared[i][s]);
	kmalloc_shrink();
	tap_ok(buddy_free_pages() == zone_get(ZONE_HIGH)->present_pages, "threads: all free after");
	tap_ok(mm_check() == 0, "threads: mm_check clean");
}

int main(void)
{
	tap_begin();
	refusals();
	merge_across_seams();
	grows_on_demand(MM_MODE_TWOTIER, "twotier");
	grows_on_demand(MM_MODE_SIMPLE, "simple");
	grows_on_demand(MM_MODE_HYBRID, "hybrid");
	reservation_ends();
	small_arena_keeps_nothing();
	threads_grow();
	return tap_end();
}
