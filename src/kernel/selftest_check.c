/* selftest_check.c - the "check" KTAP suite: the integrity check, health
 * and leak tracking on real RAM. */
#include <string.h>
#include "kernel/ktest.h"
#include "mm/stats.h"

static void test_clean(struct ktest *t)
{
	KT_EXPECT(t, mm_check() == 0);
}

/* Break a heap block's check word, then a buddy free block's flag: the
 * check must count each; repaired, it must be clean again. */
static void test_corruption_found(struct ktest *t)
{
	int mode = mm_get_mode();
	struct page *pg = NULL;
	unsigned char *h, saved;
	uint32_t flags;

	mm_set_mode(MM_MODE_SIMPLE);
	h = kmalloc(200, 0);
	mm_set_mode(mode);
	KT_EXPECT(t, h != NULL);
	if (!h)
		return;
	saved = h[-4];
	h[-4] ^= 0x5a;
	ktest_provoke(t);
	KT_EXPECT(t, mm_check() > 0);
	KT_EXPECT(t, ktest_provoked(t) >= 1);
	h[-4] = saved;
	kfree(h);
	for (int z = 0; z < NR_ZONES && !pg; z++)
		for (int o = 0; o <= MAX_ORDER && !pg; o++)
			if (!list_empty(&zone_get(z)->area[o].free_list))
				pg = list_first_entry(&zone_get(z)->area[o].free_list, struct page, lru);
	flags = pg->flags;
	pg->flags &= ~PG_BUDDY;
	ktest_provoke(t);
	KT_EXPECT(t, mm_check() > 0);
	KT_EXPECT(t, ktest_provoked(t) >= 1);
	pg->flags = flags;
	KT_EXPECT(t, mm_check() == 0);
}

static void test_stats_consistent(struct ktest *t)
{
	struct mm_stats s;
	void *p = kmalloc(128, 0);

	mm_stats_get(&s);
	KT_EXPECT(t, s.free_bytes == (uint64_t)buddy_free_pages() * PAGE_SIZE);
	KT_EXPECT(t, s.total_bytes == s.free_bytes + s.used_bytes);
	KT_EXPECT(t, s.allocs >= 1 && s.requests >= s.allocs);
	KT_EXPECT(t, s.frag_pm <= 1000 && s.failure_rate_pm <= 1000);
	kfree(p);
}

static __attribute__((noinline)) void *leaky(void)
{
	return kmalloc(333, 0);
}

static void test_leak_site(struct ktest *t)
{
	struct leak_site sites[4];
	void *p;
	int n;

	leak_track(true);
	leak_mark();
	p = leaky();
	n = leak_report(sites, 4, true);
	KT_EXPECT(t, n == 1 && sites[0].blocks == 1 && sites[0].bytes == 333);
	KT_EXPECT(t, n == 1 && (uintptr_t)sites[0].caller - (uintptr_t)leaky < 128);
	kfree(p);
	KT_EXPECT(t, leak_report(sites, 4, true) == 0);
	leak_track(false);
}

static const struct ktest_case check_cases[] = {
	{ "integrity_clean", test_clean },
	{ "corruption_found", test_corruption_found },
	{ "stats_consistent", test_stats_consistent },
	{ "leak_call_site", test_leak_site },
};
KTEST_SUITE(check_suite, "check", check_cases);
