/* test_faultinj.c - each fault-injection knob behaves as documented in
 * include/mm/faultinj.h: exact failure counts for interval, times and
 * space, probability 0 and 100, scope filtering, the reserve exemption,
 * replay by seed, and the page allocator honouring it. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/mm_host.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/slab.h"

static char arena[8 << 20] __attribute__((aligned(4096)));

/* Every case: a fresh system (mm_host_init also turns injection off and
 * zeroes its counters). */
static void before(void)
{
	if (mm_host_init(arena, sizeof(arena)) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
}

static struct faultinj_config base(void)
{
	return (struct faultinj_config){ .probability = 100, .interval = 1, .times = -1,
					 .space = 0, .scope = FI_ALL, .seed = 42 };
}

/* How many of n calls of `bytes` in `scope` fail. */
static int count_fails(int n, unsigned scope, size_t bytes, gfp_t flags)
{
	int f = 0;

	for (int i = 0; i < n; i++)
		f += faultinj_should_fail(scope, bytes, flags);
	return f;
}

static void test_knobs(void)
{
	struct faultinj_config c = base();

	faultinj_set(&c);
	tap_ok(count_fails(100, FI_SLAB, 64, 0) == 100, "probability 100: every call fails");
	c.probability = 0;
	faultinj_set(&c);
	tap_ok(count_fails(100, FI_SLAB, 64, 0) == 0, "probability 0: none fails");
	c = base();
	c.interval = 7;
	faultinj_set(&c);
	tap_ok(count_fails(70, FI_SLAB, 64, 0) == 10, "interval 7: exactly 10 of 70 fail");
	c = base();
	c.times = 3;
	faultinj_set(&c);
	tap_ok(count_fails(50, FI_SLAB, 64, 0) == 3, "times 3: exactly 3 failures");
	c = base();
	c.space = 1000;
	faultinj_set(&c);
	tap_ok(count_fails(15, FI_SLAB, 100, 0) == 6, "space 1000: the first 9 x 100 bytes pass");
	c = base();
	c.interval = 2;
	c.times = 4;
	faultinj_set(&c);
	tap_ok(count_fails(100, FI_SLAB, 64, 0) == 4, "interval 2 + times 4: 4 failures");
}

static void test_filters(void)
{
	struct faultinj_config c = base();
	struct faultinj_stats st;

	c.scope = FI_HEAP;
	faultinj_set(&c);
	tap_ok(count_fails(10, FI_SLAB, 64, 0) == 0 && count_fails(10, FI_PAGE, 4096, 0) == 0 &&
	       count_fails(10, FI_HEAP, 64, 0) == 10, "scope heap: only heap calls fail");
	tap_ok(count_fails(10, FI_HEAP, 64, GFP_RESERVE) == 0, "reserve requests exempt by default");
	tap_ok(count_fails(10, FI_HEAP, 64, GFP_NOINJECT) == 0, "GFP_NOINJECT never fails");
	c.reserve_too = 1;
	faultinj_set(&c);
	tap_ok(count_fails(10, FI_HEAP, 64, GFP_RESERVE) == 10, "reserve_too: reserve requests fail too");
	faultinj_get(NULL, &st);
	tap_ok(st.injected[2] == 10 && st.injected[0] == 0 && st.calls == 10,
	       "counters by scope (heap %lu, calls %lu)", st.injected[2], st.calls);
	faultinj_off();
	tap_ok(count_fails(10, FI_HEAP, 64, 0) == 0, "off: nothing fails");
}

static void test_replay(void)
{
	struct faultinj_config c = base();
	char a[200], b[200];

	c.probability = 30;
	c.seed = 1234;
	tap_seed("faultinj replay", c.seed);
	faultinj_set(&c);
	for (int i = 0; i < 200; i++)
		a[i] = (char)faultinj_should_fail(FI_PAGE, 4096, 0);
	faultinj_set(&c);
	for (int i = 0; i < 200; i++)
		b[i] = (char)faultinj_should_fail(FI_PAGE, 4096, 0);
	int n = 0;
	for (int i = 0; i < 200; i++)
		n += a[i];
	tap_ok(memcmp(a, b, sizeof(a)) == 0, "same seed, same failures");
	tap_ok(n > 30 && n < 90, "probability 30: %d of 200 failed", n);
}

static void test_einval(void)
{
	struct faultinj_config c = base();

	c.probability = 101;
	tap_ok(faultinj_set(&c) == -EINVAL, "probability over 100 refused");
	c = base();
	c.scope = 0;
	tap_ok(faultinj_set(&c) == -EINVAL, "empty scope refused");
	c = base();
	c.times = -2;
	tap_ok(faultinj_set(&c) == -EINVAL, "times below -1 refused");
	tap_ok(faultinj_set(NULL) == -EINVAL, "NULL config refused");
}

static void test_page_allocator(void)
{
	struct faultinj_config c = base();
	struct buddy_stats before, after;
	struct page *pg = NULL;
	unsigned long free0;

	free0 = buddy_free_pages();
	c.scope = FI_PAGE;
	c.times = 1;
	faultinj_set(&c);
	buddy_get_stats(&before);
	tap_ok(buddy_try_alloc(0, 0, &pg) == -ENOMEM && pg == NULL, "injected page failure is -ENOMEM");
	buddy_get_stats(&after);
	tap_ok(after.fail_injected == before.fail_injected + 1 && after.fail_nomem == before.fail_nomem,
	       "counted as injected, not as out of memory");
	tap_ok(buddy_free_pages() == free0, "nothing taken");
	pg = alloc_pages(0, 0);
	tap_ok(pg != NULL, "times exhausted: next request succeeds");
	free_pages(pg, 0);
	faultinj_off();
}

/* The slab and heap scopes fail kmalloc in the modes that use them. */
static void test_object_allocators(void)
{
	struct faultinj_config c = base();
	struct kmem_cache_stats cs;
	struct heap_stats hs;
	void *p;

	c.scope = FI_SLAB;
	c.times = 1;
	faultinj_set(&c);
	mm_set_mode(MM_MODE_TWOTIER);
	tap_ok(kmalloc(64, 0) == NULL, "slab scope: a TwoTier kmalloc(64) fails once");
	kmem_cache_get_stats(kmalloc_cache(3), &cs);
	tap_ok(cs.injected == 1 && cs.failures == 1, "counted in kmalloc-64 as injected");
	p = kmalloc(64, 0);
	tap_ok(p != NULL, "then succeeds");
	kfree(p);
	c.scope = FI_HEAP;
	faultinj_set(&c);
	mm_set_mode(MM_MODE_SIMPLE);
	tap_ok(kmem_try_alloc(64, 0, 0, &p) == -ENOMEM, "heap scope: a SimpleHeap request fails once");
	heap_get_stats(&hs);
	tap_ok(hs.fail_injected == 1, "counted in the heap as injected");
	mm_set_mode(MM_MODE_HYBRID);
	faultinj_off();
}

static const struct tap_case cases[] = {
	TAP_CASE(test_knobs),
	TAP_CASE(test_filters),
	TAP_CASE(test_replay),
	TAP_CASE(test_einval),
	TAP_CASE(test_page_allocator),
	TAP_CASE(test_object_allocators),
};

int main(void)
{
	return tap_main(TAP_CASES(cases), before, NULL);
}
