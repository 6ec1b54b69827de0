/* test_classes.c - host tests of kmalloc's size-class tables
 * (mm/kmalloc.h: KMALLOC_CLASSES_LINUX, the kernel's; KMALLOC_CLASSES_FINE,
 * libtally's and user malloc's).
 *
 * A 64 MiB host arena is the RAM (mm_host_init). The expected tables are
 * written out here from their rule (16-byte steps to 128, then four
 * classes a doubling to 32 KiB; Linux's kmalloc_index list), not read
 * from kmalloc.c, so a table built wrong is caught: every size 1..32 KiB
 * must be granted exactly its smallest fitting class (ksize, and the
 * owning cache's size), a request over 64 bytes less than 1.25 times its
 * size, every block aligned to 16 (any alignment up to KMALLOC_MAX_ALIGN
 * when asked), every class's slabs wasting at most 1/8; ksize and krealloc
 * across class boundaries, exact counters, modes switched with blocks of
 * the fine classes live, and the integrity check clean throughout. */
#include "lib/xorshift.h"
#include "tap.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/page.h"
#include "mm/slab.h"
#include "../../src/host/mm_host.h"
#include "../../src/mm/slab_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA   (64u << 20)
#define NLIVE   1024
#define OPS     60000

static unsigned char *arena;
static unsigned long baseline;
static uint64_t rng_state;

static const size_t linux_classes[] = {
	8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096
};
static size_t fine_classes[64];
static unsigned nr_fine;

/* The fine table from its rule: 16 to 128 by 16, then each doubling from
 * 128 cut in four; and 4608, a page and an eighth (a page with a header). */
static void make_fine(void)
{
	nr_fine = 0;
	for (size_t s = 16; s <= 128; s += 16)
		fine_classes[nr_fine++] = s;
	for (size_t b = 128; b < 32768; b *= 2)
		for (size_t q = 1; q <= 4; q++) {
			fine_classes[nr_fine++] = b + b / 4 * q;
			if (b + b / 4 * q == 4096)
				fine_classes[nr_fine++] = 4608;
		}
}

static size_t smallest(const size_t *t, unsigned n, size_t size)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i] >= size)
			return t[i];
	return 0;
}

/* A fresh system on the arena with the given table. */
static void fresh(int profile)
{
	if (kmalloc_use_classes(profile) != 0 || mm_host_init(arena, ARENA) != 0) {
		printf("Bail out! set-up with table %d failed\n", profile);
		exit(1);
	}
	mm_host_quiet = 0;
	baseline = buddy_free_pages();
}

static void before(void)
{
	fresh(KMALLOC_CLASSES_FINE);
}

static bool at_baseline(void)
{
	kmalloc_shrink();
	return buddy_free_pages() == baseline;
}

static unsigned owner_of(const void *p)
{
	struct page *pg = virt_to_page(p);

	return pg ? compound_head(pg)->owner : PAGE_OWNER_NR;
}

/* The table API: unknown tables refused; a choice takes effect at the
 * next kmalloc_init only; each table's caches are its classes, by size,
 * named kmalloc-N. */
static void test_tables(void)
{
	unsigned bad = 0;

	tap_ok(kmalloc_use_classes(-1) == -EINVAL && kmalloc_use_classes(2) == -EINVAL &&
	       kmalloc_classes() == KMALLOC_CLASSES_FINE,
	       "unknown tables refused, the one in use kept");
	tap_ok(kmalloc_nr_classes() == nr_fine && nr_fine == 41 &&
	       kmalloc_max_cache_size() == 32768 && KMALLOC_MAX_CACHE_SIZE == 32768,
	       "fine: %u classes (41), largest %zu", kmalloc_nr_classes(), kmalloc_max_cache_size());
	for (unsigned i = 0; i < nr_fine; i++) {
		struct kmem_cache_stats st;
		char name[SLAB_NAME_MAX];

		snprintf(name, sizeof(name), "kmalloc-%zu", fine_classes[i]);
		bad += kmem_cache_get_stats(kmalloc_cache(i), &st) != 0 ||
		       st.object_size != fine_classes[i] || strcmp(st.name, name) != 0;
	}
	tap_ok(bad == 0 && kmalloc_cache(nr_fine) == NULL,
	       "fine: cache i is kmalloc-<class i>, none past the last (%u wrong)", bad);

	tap_ok(kmalloc_use_classes(KMALLOC_CLASSES_LINUX) == 0 &&
	       kmalloc_classes() == KMALLOC_CLASSES_FINE && kmalloc_nr_classes() == nr_fine,
	       "a choice waits for kmalloc_init");
	fresh(KMALLOC_CLASSES_LINUX);
	bad = 0;
	for (unsigned i = 0; i < 12; i++)
		bad += kmem_cache_size(kmalloc_cache(i)) != linux_classes[i];
	tap_ok(kmalloc_classes() == KMALLOC_CLASSES_LINUX && kmalloc_nr_classes() == 12 &&
	       kmalloc_max_cache_size() == 4096 && kmalloc_cache(12) == NULL && bad == 0,
	       "linux: 12 classes, 8..4096 (%u wrong)", bad);
}

/* Every size from 1 to the largest class: ksize is the smallest class that
 * fits (the owning cache's size), and the block is aligned to 16 (fine)
 * or to 8 (linux, whose 8-byte class is 8); one byte over the largest is
 * a large block. */
static void check_every_size(const char *what, const size_t *t, unsigned n, size_t align)
{
	unsigned long wrong = 0, misaligned = 0, wrong_cache = 0;
	size_t max = t[n - 1], first_wrong = 0;
	void *p;

	for (size_t size = 1; size <= max; size++) {
		size_t want = smallest(t, n, size);

		p = kmalloc(size, GFP_KERNEL);
		if (!p || ksize(p) != want) {
			if (!wrong++)
				first_wrong = size;
		} else if (kmem_cache_size(slab_obj_cache(p)) != want) {
			wrong_cache++;
		}
		misaligned += ((uintptr_t)p % (want < align ? want : align)) != 0;
		kfree(p);
	}
	tap_ok(wrong == 0 && wrong_cache == 0,
	       "%s: every size 1..%zu granted its smallest class (%lu wrong, first %zu; %lu in another cache)",
	       what, max, wrong, first_wrong, wrong_cache);
	tap_ok(misaligned == 0, "%s: every block aligned to %zu (%lu not)", what, align, misaligned);
	p = kmalloc(max + 1, GFP_KERNEL);
	tap_ok(p && owner_of(p) == PAGE_OWNER_LARGE && ksize(p) >= max + 1,
	       "%s: %zu bytes is a large block", what, max + 1);
	kfree(p);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "%s: sound, back at the baseline", what);
}

static void test_every_size_fine(void)
{
	check_every_size("fine", fine_classes, nr_fine, 16);
}

static void test_every_size_linux(void)
{
	fresh(KMALLOC_CLASSES_LINUX);
	check_every_size("linux", linux_classes, 12, 8);
}

/* The waste bound: over 64 bytes a request is granted less than 1.25
 * times its size, up to 64 less than 16 bytes more; about 1.09 on average
 * over the sizes 129..32768 (jemalloc's and mimalloc's spacing). Every
 * class a multiple of 16. Every class's slab wastes at most 1/8 of its
 * bytes (slab.c, layout_order: the big power-of-two classes on slabs of 8
 * strides). */
static void test_waste(void)
{
	unsigned long over = 0, not16 = 0, slab_bad = 0;
	double sum = 0;
	size_t worst = 0;

	for (size_t size = 1; size <= 32768; size++) {
		size_t g = smallest(fine_classes, nr_fine, size);

		if (size > 64 ? (g - size) * 4 >= size : g - size >= 16) {
			over++;
			worst = size;
		}
		if (size > 128)
			sum += (double)g / (double)size;
	}
	tap_ok(over == 0, "fine: granted < 1.25 x size over 64 bytes, < size + 16 below (%lu over, e.g. %zu)",
	       over, worst);
	tap_ok(sum / (32768 - 128) < 1.10, "fine: %.4f granted per byte asked on average (129..32768)",
	       sum / (32768 - 128));
	for (unsigned i = 0; i < nr_fine; i++) {
		struct kmem_cache_stats st;
		size_t bytes;

		not16 += fine_classes[i] % 16 != 0;
		kmem_cache_get_stats(kmalloc_cache(i), &st);
		bytes = (size_t)PAGE_SIZE << st.order;
		if ((bytes - st.objs_per_slab * st.stride) * 8 > bytes || st.objs_per_slab < 1) {
			slab_bad++;
			tap_diag("%s: order %u, %u objects of %zu: %zu bytes wasted", st.name, st.order,
				 st.objs_per_slab, st.stride, bytes - st.objs_per_slab * st.stride);
		}
	}
	tap_ok(not16 == 0, "fine: every class a multiple of 16");
	tap_ok(slab_bad == 0, "fine: every class's slab wastes at most 1/8 (%lu more)", slab_bad);
}

/* Aligned requests: any power of two up to KMALLOC_MAX_ALIGN is honoured
 * at any size (a class whose alignment is enough, or a large block);
 * above it -EINVAL. */
static void test_alignment(void)
{
	static const size_t sizes[] = { 1, 17, 100, 129, 200, 1000, 3000, 4097, 5000, 6144,
					7000, 8192, 9000, 20000, 30000, 32768, 40000 };
	unsigned long bad = 0;
	void *p;

	for (size_t a = 1; a <= KMALLOC_MAX_ALIGN; a *= 2)
		for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			if (kmem_try_alloc(sizes[i], a, GFP_KERNEL, &p) != 0 ||
			    (uintptr_t)p % (a < 16 ? 16 : a) != 0 || ksize(p) < sizes[i]) {
				bad++;
				tap_diag("align %zu size %zu: %p (%zu usable)", a, sizes[i], p,
					 p ? ksize(p) : 0);
			}
			memset(p, 0x5a, sizes[i]);
			kfree(p);
		}
	tap_ok(bad == 0, "every size at every alignment 1..%d (%lu wrong)", KMALLOC_MAX_ALIGN, bad);
	tap_ok(kmem_try_alloc(100, KMALLOC_MAX_ALIGN * 2, GFP_KERNEL, &p) == -EINVAL && !p,
	       "align %d: -EINVAL", KMALLOC_MAX_ALIGN * 2);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "sound, back at the baseline");
}

static bool filled(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ksize and krealloc across the classes' boundaries: a resize within the
 * block's class keeps it, one past it moves to the next class with the
 * contents, past the largest class to a large block; a smaller size keeps
 * the block. */
static void test_krealloc(void)
{
	static const size_t steps[][2] = {   /* size, the class it is granted */
		{ 100, 112 }, { 112, 112 }, { 113, 128 }, { 129, 160 }, { 300, 320 },
		{ 4096, 4096 }, { 4097, 4608 }, { 4609, 5120 }, { 5120, 5120 }, { 5121, 6144 },
		{ 8193, 10240 }, { 16385, 20480 }, { 32768, 32768 },
	};
	unsigned char *p = kmalloc(1, GFP_KERNEL), *q;
	size_t have = 1, moved = 0, stayed = 0, bad = 0;

	p[0] = 1;
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t size = steps[i][0], old = ksize(p);

		q = krealloc(p, size, GFP_KERNEL);
		if (!q || ksize(q) != steps[i][1] || !filled(q, have, (unsigned char)i + 1)) {
			bad++;
			tap_diag("krealloc to %zu: %p, %zu usable (want %zu)", size, (void *)q,
				 q ? ksize(q) : 0, steps[i][1]);
			if (!q)
				break;
		}
		if (size <= old)
			stayed += q == p;
		else
			moved += q != p;
		memset(q, (unsigned char)i + 2, size);
		p = q;
		have = size;
	}
	tap_ok(bad == 0 && stayed == 2 && moved == 11,
	       "grown through the classes: each its class, contents kept (%zu stayed, %zu moved)",
	       stayed, moved);
	q = krealloc(p, 32769, GFP_KERNEL);
	tap_ok(q && owner_of(q) == PAGE_OWNER_LARGE && filled(q, 32768, (unsigned char)(sizeof(steps) / sizeof(steps[0]) + 1)),
	       "past the largest class: a large block, contents kept");
	p = krealloc(q, 200, GFP_KERNEL);
	tap_ok(p == q && ksize(p) >= 32769, "shrunk: the block kept");
	kfree(p);
	p = kmalloc(5000, GFP_KERNEL);
	q = krealloc(p, 5120, GFP_KERNEL);
	tap_ok(q == p && ksize(q) == 5120, "5000 -> 5120: in place (ksize 5120)");
	kfree(q);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "sound, back at the baseline");
}

/* Exact counters in TwoTier: what each backend served, granted (its class
 * sizes), in use and freed, and each class's own cache. */
static void test_counters(void)
{
	static const struct { size_t size, granted; unsigned n; } reqs[] = {
		{ 4800, 5120, 10 }, { 300, 320, 20 }, { 20000, 20480, 3 }, { 40000, 65536, 2 },
	};
	void *p[64];
	unsigned k = 0;
	uint64_t asked = 0, slab_granted = 0, large_granted = 0;
	struct kmalloc_stats st;
	struct kmem_cache_stats cs;

	mm_set_mode(MM_MODE_TWOTIER);
	for (unsigned r = 0; r < 4; r++)
		for (unsigned i = 0; i < reqs[r].n; i++) {
			p[k++] = kmalloc(reqs[r].size, GFP_KERNEL);
			asked += reqs[r].size;
			if (reqs[r].granted > 32768)
				large_granted += reqs[r].granted;
			else
				slab_granted += reqs[r].granted;
		}
	kmalloc_get_stats(&st);
	tap_ok(st.mode[MM_MODE_TWOTIER].successes == k &&
	       st.mode[MM_MODE_TWOTIER].bytes_requested == asked &&
	       st.mode[MM_MODE_TWOTIER].bytes_granted == slab_granted + large_granted,
	       "twotier: %u served, %llu asked, %llu granted", k,
	       (unsigned long long)st.mode[MM_MODE_TWOTIER].bytes_requested,
	       (unsigned long long)st.mode[MM_MODE_TWOTIER].bytes_granted);
	tap_ok(st.backend[KM_BACKEND_SLAB].successes == 33 &&
	       st.backend[KM_BACKEND_SLAB].bytes_granted == slab_granted &&
	       st.backend[KM_BACKEND_SLAB].bytes_in_use == slab_granted &&
	       st.backend[KM_BACKEND_LARGE].successes == 2 &&
	       st.backend[KM_BACKEND_LARGE].bytes_in_use == large_granted,
	       "slab: 33 blocks, %llu bytes in use; large: 2, %llu",
	       (unsigned long long)st.backend[KM_BACKEND_SLAB].bytes_in_use,
	       (unsigned long long)st.backend[KM_BACKEND_LARGE].bytes_in_use);
	kmem_cache_get_stats(slab_obj_cache(p[0]), &cs);
	tap_ok(strcmp(cs.name, "kmalloc-5120") == 0 && cs.active_objs == 10,
	       "kmalloc-5120 has the 10 blocks of 4800 bytes (%lu)", cs.active_objs);
	kmem_cache_get_stats(slab_obj_cache(p[30]), &cs);
	tap_ok(strcmp(cs.name, "kmalloc-20480") == 0 && cs.active_objs == 3,
	       "kmalloc-20480 has the 3 of 20000 (%lu)", cs.active_objs);
	while (k)
		kfree(p[--k]);
	kmalloc_get_stats(&st);
	tap_ok(st.backend[KM_BACKEND_SLAB].frees == 33 && st.backend[KM_BACKEND_SLAB].bytes_in_use == 0 &&
	       st.backend[KM_BACKEND_LARGE].frees + st.kept_blocks >= 2 &&
	       st.backend[KM_BACKEND_LARGE].bytes_in_use == 0 &&
	       st.backend[KM_BACKEND_SLAB].peak_bytes_in_use >= slab_granted,
	       "all freed: nothing in use, the slab peak at least %llu", (unsigned long long)slab_granted);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "sound, back at the baseline");
}

/* A CPU's magazines of a class are handed out when it first needs them:
 * a class no one used has none (slab.c, "The pool"), and one used on
 * this CPU has this CPU's alone. */
static void test_lazy_magazines(void)
{
	struct kmem_cache *c = NULL;
	unsigned used = 0, others = 0;
	void *p;

	for (unsigned i = 0; i < nr_fine; i++)
		used += kmalloc_cache(i)->cpu[mm_cpu()].loaded != NULL;
	tap_ok(used == 0 && c == NULL, "fresh: no class has magazines handed out (%u)", used);
	p = kmalloc(9000, GFP_KERNEL);
	kfree(p);
	p = kmalloc(9000, GFP_KERNEL);
	c = slab_obj_cache(p);
	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++)
		others += cpu != mm_cpu() && c->cpu[cpu].loaded != NULL;
	tap_ok(c && kmem_cache_size(c) == 10240 && c->cpu[mm_cpu()].loaded &&
	       c->cpu[mm_cpu()].prev && others == 0 && c->cpu[mm_cpu()].loaded->cap == 2,
	       "kmalloc-10240 used: this CPU's two magazines (of 2), no other's");
	kfree(p);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "sound, back at the baseline");
}

/* Kept blocks under the fine table: kmalloc takes none (8..32 KiB are
 * classes), so kfree keeps none either -- a zone-bound request's 8 KiB
 * block goes straight back to the buddy allocator -- where under Linux's
 * table the same block is kept. */
static void test_kept_moot(void)
{
	struct kmalloc_stats st;
	void *p = kmalloc(8192, GFP_DMA32);

	tap_ok(p && owner_of(p) == PAGE_OWNER_LARGE, "fine: an 8 KiB GFP_DMA32 request is a large block");
	kfree(p);
	kmalloc_get_stats(&st);
	tap_ok(st.kept_blocks == 0 && st.backend[KM_BACKEND_LARGE].frees == 1,
	       "fine: freed, not kept (%lu kept)", st.kept_blocks);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "fine: sound, back at the baseline");
	fresh(KMALLOC_CLASSES_LINUX);
	p = kmalloc(8192, GFP_DMA32);
	kfree(p);
	kmalloc_get_stats(&st);
	tap_ok(p && st.kept_blocks == 1, "linux: the same block kept (%lu)", st.kept_blocks);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "linux: sound, back at the baseline");
}

/* A random run over the fine classes and beyond (1 B .. 40 KiB, weighted
 * to small), blocks filled and checked, the mode switched at random with
 * blocks live, krealloc mixed in; the integrity check clean along the way
 * and back at the baseline at the end. */
static void test_random_switching(void)
{
	static unsigned char *live[NLIVE];
	static size_t len[NLIVE];
	const uint64_t seed = 0xc1a55e5;
	unsigned long bad = 0, checks = 0, switches = 0;

	rng_state = seed;
	tap_seed("classes random", seed);
	memset(live, 0, sizeof(live));
	for (unsigned long op = 0; op < OPS; op++) {
		unsigned k = (unsigned)(xorshift64(&rng_state) % NLIVE);
		uint64_t r = xorshift64(&rng_state);
		size_t size = 1 + (size_t)(r % (r & 1 ? 600 : r & 2 ? 6000 : 40960));

		if (r % 997 == 0) {
			mm_set_mode((int)(r / 997 % MM_MODE_NR));
			switches++;
		}
		if (live[k] && r % 5 == 0) {
			unsigned char *q = krealloc(live[k], size, GFP_KERNEL);

			bad += !q || !filled(q, len[k] < size ? len[k] : size, (unsigned char)k);
			if (q) {
				memset(q, (unsigned char)k, size);
				live[k] = q;
				len[k] = size;
			}
		} else if (live[k]) {
			bad += !filled(live[k], len[k], (unsigned char)k) || ksize(live[k]) < len[k];
			kfree(live[k]);
			live[k] = NULL;
		} else if ((live[k] = kmalloc(size, GFP_KERNEL)) != NULL) {
			bad += (uintptr_t)live[k] % 16 != 0;
			memset(live[k], (unsigned char)k, size);
			len[k] = size;
		}
		if (op % 10000 == 0)
			checks += kmalloc_check() != 0;
	}
	for (unsigned k = 0; k < NLIVE; k++)
		if (live[k]) {
			bad += !filled(live[k], len[k], (unsigned char)k);
			kfree(live[k]);
		}
	tap_ok(bad == 0 && checks == 0 && switches > 0,
	       "%d ops, %lu mode switches: contents and alignment kept (%lu bad), check clean (%lu not)",
	       OPS, switches, bad, checks);
	tap_ok(kmalloc_check() == 0 && at_baseline(), "sound, back at the baseline");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_tables),
	TAP_CASE(test_every_size_fine),
	TAP_CASE(test_every_size_linux),
	TAP_CASE(test_waste),
	TAP_CASE(test_alignment),
	TAP_CASE(test_krealloc),
	TAP_CASE(test_counters),
	TAP_CASE(test_lazy_magazines),
	TAP_CASE(test_kept_moot),
	TAP_CASE(test_random_switching),
};

int main(void)
{
	tap_begin();
	make_fine();
	arena = aligned_alloc(4096, ARENA);
	tap_run(TAP_CASES(cases), before, NULL);
	free(arena);
	kmalloc_use_classes(KMALLOC_CLASSES_LINUX);
	return tap_end();
}
