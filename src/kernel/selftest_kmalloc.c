/* selftest_kmalloc.c - the "kmalloc" KTAP suite on real RAM: a randomized
 * pattern-checked run per mode, mode switches with blocks live,
 * exhaustion back to the exact baseline, the fallible API's errors, wrong
 * frees, and poison / red-zone detection. */
#include "lib/pattern.h"
#include "lib/xorshift.h"
#include <string.h>
#include "kernel/ktest.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/shrinker.h"
#include "mm/mm_debug.h"
#include "kerrno.h"

#define LIVE_MAX 1024

struct blk {
	unsigned char *p;
	size_t size;
	unsigned id;
};

static struct blk live[LIVE_MAX];
static uint64_t rng;

static uint64_t rnd(void)
{
	return xorshift64(&rng);
}

static size_t rnd_size(void)
{
	unsigned r = (unsigned)(rnd() % 100);

	if (r < 70)
		return 1 + rnd() % 256;
	if (r < 95)
		return 1 + rnd() % 4096;
	return 1 + rnd() % 65536;
}

static void fill(struct blk *b)
{
	pattern_fill(b->p, b->size, b->id);
}

static int intact(const struct blk *b)
{
	return pattern_intact(b->p, b->size, b->id);
}

/* Random alloc / realloc / free with patterns; switch_modes picks a new
 * mode every 500 operations. Returns the number of corrupt blocks. */
static int churn(struct ktest *t, int ops, int switch_modes)
{
	int n = 0, corrupt = 0;
	unsigned id = 1;

	for (int op = 0; op < ops; op++) {
		unsigned r = (unsigned)(rnd() % 100);

		if (switch_modes && op % 500 == 0)
			mm_set_mode((int)(rnd() % MM_MODE_NR));
		if (n < LIVE_MAX && (n == 0 || r < 50)) {
			struct blk b = { NULL, rnd_size(), id++ };
			size_t align = (size_t)1 << (rnd() % 13);

			if (kmem_try_alloc(b.size, align, 0, (void **)&b.p) == 0) {
				KT_EXPECT(t, ((uintptr_t)b.p & (align - 1)) == 0);
				fill(&b);
				live[n++] = b;
			}
		} else if (r < 65) {
			struct blk *b = &live[rnd() % (uint64_t)n];
			size_t nsize = rnd_size();
			unsigned char *q;

			corrupt += !intact(b);
			q = krealloc(b->p, nsize, 0);
			if (q) {
				b->p = q;
				b->size = b->size < nsize ? b->size : nsize;
				corrupt += !intact(b);
				b->size = nsize;
				fill(b);
			}
		} else {
			int i = (int)(rnd() % (uint64_t)n);

			corrupt += !intact(&live[i]);
			kfree(live[i].p);
			live[i] = live[--n];
		}
	}
	while (n--) {
		corrupt += !intact(&live[n]);
		kfree(live[n].p);
	}
	return corrupt;
}

static void run_mode(struct ktest *t, int mode)
{
	int old = mm_get_mode();
	unsigned long base;

	kmalloc_shrink();
	base = buddy_free_pages();
	mm_set_mode(mode);
	rng = 0x5eed0000ull + (uint64_t)mode;
	KT_EXPECT(t, churn(t, 20000, 0) == 0);
	KT_EXPECT(t, kmalloc_check() == 0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == base);
	mm_set_mode(old);
}

static void test_simple(struct ktest *t) { run_mode(t, MM_MODE_SIMPLE); }
static void test_twotier(struct ktest *t) { run_mode(t, MM_MODE_TWOTIER); }
static void test_hybrid(struct ktest *t) { run_mode(t, MM_MODE_HYBRID); }

static void test_switching(struct ktest *t)
{
	int old = mm_get_mode();
	unsigned long base;

	kmalloc_shrink();
	base = buddy_free_pages();
	rng = 0x5317c4ull;
	KT_EXPECT(t, churn(t, 20000, 1) == 0);
	KT_EXPECT(t, kmalloc_check() == 0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == base);
	mm_set_mode(old);
}

/* Fill memory with 64 KiB blocks (chained through their first word) until
 * the mode refuses, then with smaller ones; free all: exact baseline. */
static void test_exhaust(struct ktest *t)
{
	int old = mm_get_mode();
	struct ktest_hold *held = ktest_hold((24ul << 20) / PAGE_SIZE);   /* the same time at -m 64M and 3G */

	for (int mode = 0; mode < MM_MODE_NR; mode++) {
		void *chain = NULL, *p;
		unsigned long base, count = 0;

		mm_set_mode(mode);
		mm_shrink(~0ul);   /* running out drains the block cache: start without it */
		kmalloc_shrink();
		base = buddy_free_pages();
		for (size_t size = 65536; size >= 16; size /= 4)
			while (kmem_try_alloc(size, 0, 0, &p) == 0) {
				*(void **)p = chain;
				chain = p;
				count++;
			}
		KT_EXPECT(t, count > 0 && kmalloc(16, 0) == NULL);
		while (chain) {
			p = chain;
			chain = *(void **)p;
			kfree(p);
		}
		kmalloc_shrink();
		KT_EXPECT(t, buddy_free_pages() == base);
	}
	ktest_unhold(held);
	mm_set_mode(old);
}

static void test_api_errors(struct ktest *t)
{
	void *p = (void *)1;

	KT_EXPECT(t, kmem_try_alloc(0, 0, 0, &p) == -EINVAL && p == NULL);
	KT_EXPECT(t, kmem_try_alloc(16, 3, 0, &p) == -EINVAL);
	KT_EXPECT(t, kmem_try_alloc(16, 8192, 0, &p) == -EINVAL);
	KT_EXPECT(t, kmem_try_alloc((size_t)-1, 0, 0, &p) == -EINVAL);
	KT_EXPECT(t, kmem_try_alloc((size_t)1 << 40, 0, 0, &p) == -ENOMEM);
	KT_EXPECT(t, kcalloc((size_t)1 << 33, (size_t)1 << 33, 0) == NULL);
	p = kmalloc(100, 0);
	KT_EXPECT(t, p && ksize(p) >= 100);
	KT_EXPECT(t, krealloc(p, (size_t)1 << 40, 0) == NULL && ksize(p) >= 100);
	kfree(p);
	kfree(NULL);
}

static void test_wrong_frees(struct ktest *t)
{
	struct kmalloc_stats before, after;
	char *p = kmalloc(64, 0), *h;
	int mode = mm_get_mode(), local;

	mm_set_mode(MM_MODE_SIMPLE);
	h = kmalloc(200, 0);
	mm_set_mode(mode);
	kmalloc_get_stats(&before);
	ktest_provoke(t);
	kfree(p + 8);            /* interior of a slab object */
	kfree(&local);           /* the stack */
	kfree(h + 16);           /* interior of a heap block */
	kfree(p);
	kfree(p);                /* double free, slab */
	kfree(h);
	kfree(h);                /* double free, heap */
	KT_EXPECT(t, ktest_provoked(t) == 5);   /* each reported once */
	kmalloc_get_stats(&after);
	KT_EXPECT(t, after.wrong_frees == before.wrong_frees + 5);
	KT_EXPECT(t, kmalloc_check() == 0);
}

static void test_debug_checks(struct ktest *t)
{
	struct mm_debug_stats before, after;
	char *p;

	KT_EXPECT(t, mm_debug_set(MM_DEBUG_POISON | MM_DEBUG_REDZONE, true) == 0);
	mm_debug_get_stats(&before);
	p = kmalloc(40, 0);
	KT_EXPECT(t, p != NULL);
	if (p) {
		p[ksize(p)] = 'X';        /* one byte past the object: red zone */
		ktest_provoke(t);
		kfree(p);
		KT_EXPECT(t, ktest_provoked(t) == 1);
	}
	mm_debug_get_stats(&after);
	KT_EXPECT(t, after.redzone_violations > before.redzone_violations);
	mm_debug_set(MM_DEBUG_POISON | MM_DEBUG_REDZONE, false);
	KT_EXPECT(t, kmalloc_check() == 0);
}

static const struct ktest_case kmalloc_cases[] = {
	{ "random_simple", test_simple },
	{ "random_twotier", test_twotier },
	{ "random_hybrid", test_hybrid },
	{ "mode_switches_live", test_switching },
	{ "exhaust_each_mode", test_exhaust },
	{ "fallible_api_errors", test_api_errors },
	{ "wrong_frees_refused", test_wrong_frees },
	{ "redzone_caught", test_debug_checks },
};
KTEST_SUITE(kmalloc_suite, "kmalloc", kmalloc_cases);
