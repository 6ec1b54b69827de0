/* test_heap.c - host tests of the SimpleHeap (mm/heap.h).
 *
 * A 64 MiB host arena is the RAM (mm_host_init). Covers sizes and
 * alignments, coalescing with both neighbours, run growth and release (to
 * the exact buddy baseline), the largest block, exhaustion, every kind of
 * wrong free, a smashed boundary tag, red zones and poison, and a
 * randomized run with heap_check. Seeds are fixed and printed. */
#include "lib/xorshift.h"
#include "tap.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/mm_debug.h"
#include "mm/mm_host.h"
#include "mm/slab.h"
#include "../../src/host/mm_host.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA (64u << 20)
#define NLIVE 2048

static unsigned char *arena;
static unsigned long baseline;
static uint64_t rng_state;

static uint64_t rnd(void)
{
	return xorshift64(&rng_state);
}

static struct heap_stats hs(void)
{
	struct heap_stats st;

	heap_get_stats(&st);
	return st;
}

static void *halloc(size_t size, size_t align)
{
	void *p = NULL;

	return heap_alloc(size, align, 0, &p) == 0 ? p : NULL;
}

static bool back_to_baseline(void)
{
	heap_shrink();
	return hs().arena_bytes == 0 && buddy_free_pages() == baseline;
}

/* Every case: a fresh system; baseline is its free page count. */
static void before(void)
{
	if (mm_host_init(arena, ARENA) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
	mm_host_quiet = 0;
	baseline = buddy_free_pages();
}

static void test_errors(void)
{
	void *p = (void *)1;

	tap_ok(heap_alloc(0, 0, 0, &p) == -EINVAL && p == NULL, "size 0 -> -EINVAL, *out NULL");
	tap_ok(heap_alloc(8, 24, 0, &p) == -EINVAL, "align 24 -> -EINVAL");
	tap_ok(heap_alloc(8, 8192, 0, &p) == -EINVAL, "align 8192 -> -EINVAL");
	tap_ok(heap_alloc(8, 0, 0, NULL) == -EINVAL, "out NULL -> -EINVAL");
	tap_ok(heap_alloc(HEAP_MAX_ALLOC + 1, 0, 0, &p) == -ENOMEM,
	       "one byte over HEAP_MAX_ALLOC -> -ENOMEM");
	tap_ok(heap_alloc((size_t)1 << 40, 0, 0, &p) == -ENOMEM, "1 TiB -> -ENOMEM");
	tap_ok(hs().fail_inval == 4 && hs().fail_nomem == 2, "failures counted by cause");
	tap_ok(buddy_free_pages() == baseline, "failed requests took nothing");
}

static void test_sizes_and_alignment(void)
{
	static const size_t sizes[] = { 1, 7, 16, 24, 100, 4000, 4096, 65536, 300000 };
	unsigned i, a, bad = 0, n = 0;
	void *ps[9 * 13];

	for (i = 0; i < 9; i++) {
		for (a = 0; a <= 12; a++) {
			unsigned char *p = halloc(sizes[i], (size_t)1 << a);

			ps[n++] = p;
			if (!p || (uintptr_t)p % ((size_t)1 << a) ||
			    heap_usable_size(p) < sizes[i])
				bad++;
			else
				memset(p, (int)n, sizes[i]);
		}
	}
	tap_ok(bad == 0, "9 sizes x 13 alignments (1..4096): aligned, usable >= size");
	tap_ok(heap_check() == 0, "heap_check clean with %u blocks", n);
	tap_ok(hs().used_blocks == n, "used_blocks counts %u", n);
	for (i = 0; i < n; i++)
		bad += heap_free(ps[i]) != 0;
	tap_ok(bad == 0 && heap_check() == 0 && hs().used_blocks == 0,
	       "all freed, heap_check clean");
	tap_ok(hs().runs <= HEAP_SPARE_RUNS && hs().free_runs == hs().runs,
	       "fully free runs released but %d spare", HEAP_SPARE_RUNS);
	tap_ok(back_to_baseline(), "heap_shrink: arena empty, buddy at baseline");
}

/* A B C D adjacent; freeing B, D then C merges with both neighbours. */
static void test_coalesce(void)
{
	char *a = halloc(100, 0), *b = halloc(100, 0), *c = halloc(100, 0);
	char *d = halloc(100, 0), *e = halloc(100, 0);
	unsigned long fb0 = hs().free_blocks;
	char *big;

	tap_ok(a < b && b < c && c < d && d < e, "first fit hands out in address order");
	heap_free(b);
	heap_free(d);
	tap_ok(hs().free_blocks == fb0 + 2, "two separated holes");
	heap_free(c);
	tap_ok(hs().free_blocks == fb0 + 1 && heap_check() == 0,
	       "freeing the middle merges left and right");
	big = halloc(300, 0);
	tap_ok(big == b, "merged hole reused first fit (%p == %p)", (void *)big, (void *)b);
	heap_free(big);
	heap_free(a);
	heap_free(e);
	tap_ok(hs().used_blocks == 0 && heap_check() == 0 && back_to_baseline(),
	       "coalesce test back to baseline");
}

static void test_large_blocks(void)
{
	unsigned char *p = halloc(HEAP_MAX_ALLOC, 0), *q;

	tap_ok(p != NULL && heap_usable_size(p) >= HEAP_MAX_ALLOC,
	       "HEAP_MAX_ALLOC (%lu bytes) fits one run", (unsigned long)HEAP_MAX_ALLOC);
	if (p) {
		p[0] = 1;
		p[HEAP_MAX_ALLOC - 1] = 2;
		heap_free(p);
	}
	q = halloc(3u << 20, 4096);
	tap_ok(q && (uintptr_t)q % 4096 == 0, "3 MiB aligned to 4096");
	heap_free(q);
	tap_ok(back_to_baseline(), "large blocks: baseline restored");
}

static void test_exhaust(void)
{
	static void *ps[100000];
	unsigned n = 0, i, small = 0;
	struct heap_stats st;
	void *p;
	int ret;

	while (n < 100000 && (ps[n] = halloc(65536, 0)) != NULL)
		n++;
	while (n < 100000 && (ps[n] = halloc(1000, 0)) != NULL)
		n++, small++;
	ret = heap_alloc(1000, 0, 0, &p);
	st = hs();
	tap_ok(ret == -ENOMEM && p == NULL && n > 500 && st.fail_nomem >= 2,
	       "exhausted after %u blocks (%u small): -ENOMEM", n, small);
	tap_ok(heap_alloc(16, 4096, 0, &p) == -ENOMEM, "aligned request on a full heap -> -ENOMEM");
	tap_ok(heap_check() == 0 && buddy_check() == 0, "exhausted heap is sound");
	for (i = 0; i < n; i += 2)
		heap_free(ps[i]);
	for (i = 1; i < n; i += 2)
		heap_free(ps[i]);
	tap_ok(heap_check() == 0 && back_to_baseline(), "exhaustion: baseline restored");
}

static int wrong_case(void *p, const char *what)
{
	unsigned long w = hs().wrong_frees, rep = mm_host_reports;
	int ret = heap_free(p);

	return tap_ok(ret == -EINVAL && hs().wrong_frees == w + 1 &&
		      mm_host_reports == rep + 1 && heap_check() == 0,
		      "wrong free refused, reported once, counted: %s", what);
}

static void test_wrong_frees(void)
{
	unsigned char *a = halloc(200, 0), *b = halloc(200, 0), *c = halloc(200, 0);
	unsigned char *d = halloc(200, 0);
	void *slab_obj = kmalloc(32, 0);
	int local;

	mm_host_quiet = 1;
	wrong_case(NULL, "NULL");
	wrong_case(&local, "stack pointer");
	wrong_case(slab_obj, "a slab object");
	wrong_case(a + 16, "interior pointer (16-aligned)");
	wrong_case(a + 1, "interior pointer (unaligned)");
	wrong_case(d + 400, "never allocated (free space after the last block)");
	tap_ok(heap_free(b) == 0 && heap_free(c) == 0, "real frees work (b, c merged)");
	wrong_case(b, "double free");
	wrong_case(c, "double free of a block merged into its neighbour");
	wrong_case(c + 64, "pointer into a free block");
	/* a smashed boundary tag: refused, the block stays, nothing spreads */
	{
		unsigned long w = hs().wrong_frees;
		uint64_t *ftr = (uint64_t *)(d + heap_usable_size(d));

		*ftr ^= 0x100;
		tap_ok(heap_free(d) == -EINVAL && hs().wrong_frees == w + 1,
		       "free of a block with a smashed footer refused");
		tap_ok(heap_check() >= 1, "heap_check reports the smashed footer");
		*ftr ^= 0x100;
	}
	mm_host_quiet = 0;
	tap_ok(heap_check() == 0 && heap_free(d) == 0 && heap_free(a) == 0,
	       "repaired block frees normally");
	kfree(slab_obj);
	kmalloc_shrink();
	tap_ok(back_to_baseline(), "wrong frees: baseline restored");
}

static void test_debug(void)
{
	struct mm_debug_stats d0, d1;
	unsigned char *a, *b, *c;

	mm_debug_set(MM_DEBUG_REDZONE, true);
	a = halloc(30, 0);
	tap_ok(heap_usable_size(a) == 30 && a[30] == MM_REDZONE_BYTE,
	       "red-zoned block: usable == requested, 0xcc after it");
	a[30] = 0;
	tap_ok(heap_check() == 1, "heap_check sees the broken red zone");
	mm_debug_get_stats(&d0);
	mm_host_quiet = 1;
	heap_free(a);
	mm_host_quiet = 0;
	mm_debug_get_stats(&d1);
	tap_ok(d1.redzone_violations == d0.redzone_violations + 1,
	       "heap overflow caught at free");
	mm_debug_set(MM_DEBUG_REDZONE, false);

	mm_debug_set(MM_DEBUG_POISON, true);
	a = halloc(100, 0);
	b = halloc(100, 0);
	c = halloc(100, 0);
	heap_free(b);
	tap_ok(b[50] == MM_POISON_FREE, "freed heap block poisoned");
	heap_free(a); /* merges with b: tags in between get poisoned */
	tap_ok(heap_check() == 0, "merged poisoned blocks pass heap_check");
	a[120] = 0x33; /* use after free */
	mm_debug_get_stats(&d0);
	mm_host_quiet = 1;
	b = halloc(200, 0);
	mm_host_quiet = 0;
	mm_debug_get_stats(&d1);
	tap_ok(b == a && d1.poison_violations == d0.poison_violations + 1,
	       "write after free caught when the space is reused");
	heap_free(b);
	heap_free(c);
	mm_debug_set(MM_DEBUG_POISON, false);
	tap_ok(heap_check() == 0 && back_to_baseline(), "debug: baseline restored");
}

static void test_random(void)
{
	static unsigned char *live[NLIVE];
	static size_t lsz[NLIVE];
	const uint64_t seed = 0x4ea9;
	unsigned long ops, bad = 0;
	unsigned i;

	memset(live, 0, sizeof(live));
	rng_state = seed;
	tap_seed("heap random", seed);
	for (ops = 0; ops < 150000; ops++) {
		unsigned k = rnd() % NLIVE;

		if (live[k]) {
			bad += live[k][0] != (k & 0xff) || live[k][lsz[k] - 1] != (k & 0xff);
			bad += heap_free(live[k]) != 0;
			live[k] = NULL;
		} else {
			size_t align = rnd() % 4 ? 0 : (size_t)1 << (rnd() % 13);
			size_t size = rnd() % 8 ? 1 + rnd() % 512 : 1 + rnd() % 65536;

			if (ops % 1000 == 0)
				mm_debug_set(MM_DEBUG_ALL, rnd() % 2);
			lsz[k] = size;
			live[k] = halloc(size, align);
			if (!live[k] || (align && (uintptr_t)live[k] % align))
				bad++;
			else
				memset(live[k], k & 0xff, size);
		}
		bad += tap_check_every(heap_check, "heap random", seed, (long)ops);
	}
	for (i = 0; i < NLIVE; i++)
		if (live[i])
			bad += heap_free(live[i]) != 0;
	mm_debug_set(MM_DEBUG_ALL, false);
	tap_ok(bad == 0 && heap_check() == 0,
	       "150k random ops (sizes 1..64K, aligns, debug toggled, heap_check every %d): sound",
	       TAP_CHECK_EVERY);
	tap_ok(back_to_baseline(), "random: baseline restored");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_errors),
	TAP_CASE(test_sizes_and_alignment),
	TAP_CASE(test_coalesce),
	TAP_CASE(test_large_blocks),
	TAP_CASE(test_exhaust),
	TAP_CASE(test_wrong_frees),
	TAP_CASE(test_debug),
	TAP_CASE(test_random),
};

int main(void)
{
	int rc;

	arena = aligned_alloc(4096, ARENA);
	rc = tap_main(TAP_CASES(cases), before, NULL);
	free(arena);
	return rc;
}
