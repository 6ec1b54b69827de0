/* selftest_mm.c - the physical-memory KTAP suite ("mm"), on real RAM:
 * buddy allocation against a model, drain-and-refill of a zone, zone
 * fallback and watermarks, refused bad frees, vm_map rollback, and the
 * permissions of the live kernel page table. */
#include "lib/xorshift.h"
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/memory.h"
#include "kernel/sections.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"
#include "kerrno.h"

#define MODEL_MAX 2048

static struct page *held[MODEL_MAX];
static unsigned held_order[MODEL_MAX];
static uint64_t rng;

static uint64_t rnd(void)
{
	return xorshift64(&rng);
}

static struct free_area_snap {
	unsigned long nr[NR_ZONES][MAX_ORDER + 1];
} snap_before, snap_after;

static void snapshot(struct free_area_snap *s)
{
	struct buddy_zone_info zi[NR_ZONES];

	buddy_zone_info(zi);
	for (int z = 0; z < NR_ZONES; z++)
		for (int o = 0; o <= MAX_ORDER; o++)
			s->nr[z][o] = zi[z].nr_free[o];
}

/* Pages on zone z's free lists (buddy_zone_info: under the zone's lock). */
static unsigned long zone_free(enum zone_id z)
{
	struct buddy_zone_info zi[NR_ZONES];

	buddy_zone_info(zi);
	return zi[z].free_pages;
}

/* Each held block starts with its own pfn and ends with its index: any
 * overlap between two live blocks would overwrite one of the tags. */
static void tag(int i)
{
	uint64_t *p = page_address(held[i]);
	size_t words = (PAGE_SIZE << held_order[i]) / 8;

	p[0] = page_to_pfn(held[i]);
	p[words - 1] = (uint64_t)i;
}

static int tag_ok(int i)
{
	uint64_t *p = page_address(held[i]);
	size_t words = (PAGE_SIZE << held_order[i]) / 8;

	return p[0] == page_to_pfn(held[i]) && p[words - 1] == (uint64_t)i;
}

static void test_random(struct ktest *t)
{
	unsigned long free0;
	int live = 0, bad_tags = 0;

	kmalloc_shrink();   /* nothing for a failed request to reclaim: the
			     * free lists must come back exactly */
	free0 = buddy_free_pages();

	rng = 0x7a11e5eedull;
	snapshot(&snap_before);
	for (int op = 0; op < 20000; op++) {
		if (live < MODEL_MAX && (live == 0 || rnd() % 100 < 55)) {
			unsigned order = rnd() % 100 < 80 ? rnd() % 3 : rnd() % (MAX_ORDER + 1);
			struct page *pg = alloc_pages(0, order);

			if (pg) {
				held[live] = pg;
				held_order[live] = order;
				tag(live++);
			}
		} else {
			int i = (int)(rnd() % (uint64_t)live);

			bad_tags += !tag_ok(i);
			KT_EXPECT(t, free_pages(held[i], held_order[i]) == 0);
			held[i] = held[--live];
			held_order[i] = held_order[live];
			if (live > i)
				tag(i);
		}
	}
	for (int i = 0; i < live; i++)
		bad_tags += !tag_ok(i);
	KT_EXPECT(t, bad_tags == 0);
	KT_EXPECT(t, buddy_check() == 0);
	while (live--)
		free_pages(held[live], held_order[live]);
	buddy_pcp_drain_all();   /* what the frees left on this hart's page lists */
	snapshot(&snap_after);
	KT_EXPECT(t, buddy_free_pages() == free0);
	KT_EXPECT(t, memcmp(&snap_before, &snap_after, sizeof(snap_before)) == 0);
}

/* Take every page the DMA zone will give to a reserve request, free them
 * in random order: the free lists must come back exactly. */
static void test_drain_dma(struct ktest *t)
{
	struct page *pg, *chain = NULL;
	unsigned long n = 0;

	buddy_pcp_drain_all();   /* the zones' free lists alone hold every free page */
	snapshot(&snap_before);
	/* link the pages through their own memory: no model array needed */
	while ((pg = alloc_pages(GFP_DMA | GFP_RESERVE, 0))) {
		*(struct page **)page_address(pg) = chain;
		chain = pg;
		n++;
	}
	KT_EXPECT(t, zone_free(ZONE_DMA) == 0 && n > 0);
	KT_EXPECT(t, alloc_pages(GFP_DMA | GFP_RESERVE, 0) == NULL);
	rng = 0xd4a1ull;
	while (chain) {   /* free a pseudo-random half each pass */
		struct page **link = &chain;

		while (*link) {
			pg = *link;
			if (rnd() & 1) {
				*link = *(struct page **)page_address(pg);
				KT_EXPECT(t, free_pages(pg, 0) == 0);
			} else {
				link = (struct page **)page_address(pg);
			}
		}
	}
	buddy_pcp_drain_all();
	snapshot(&snap_after);
	KT_EXPECT(t, memcmp(&snap_before, &snap_after, sizeof(snap_before)) == 0);
	KT_EXPECT(t, buddy_check() == 0);
}

static void test_zones(struct ktest *t)
{
	enum zone_id top = zone_get(ZONE_HIGH)->present_pages ? ZONE_HIGH : ZONE_NORMAL;
	struct page *a = alloc_pages(0, 0), *d = alloc_pages(GFP_DMA, 0);
	struct page *d32 = alloc_pages(GFP_DMA32, 0);

	KT_EXPECT(t, a && a->zone == top);
	KT_EXPECT(t, d && d->zone == ZONE_DMA);
	KT_EXPECT(t, d32 && d32->zone != ZONE_HIGH);
	KT_EXPECT(t, page_to_phys(d32) < 0x100000000ull);
	free_pages(a, 0);
	free_pages(d, 0);
	free_pages(d32, 0);
}

static void test_watermark(struct ktest *t)
{
	const struct zone *dma = zone_get(ZONE_DMA);
	struct page *pg, *chain = NULL, *extra;

	while ((pg = alloc_pages(GFP_DMA, 0))) {
		*(struct page **)page_address(pg) = chain;
		chain = pg;
	}
	KT_EXPECT(t, zone_free(ZONE_DMA) == dma->wmark_min);
	extra = alloc_pages(GFP_DMA | GFP_RESERVE, 0);
	KT_EXPECT(t, extra != NULL && zone_free(ZONE_DMA) == dma->wmark_min - 1);
	free_pages(extra, 0);
	while (chain) {
		pg = chain;
		chain = *(struct page **)page_address(pg);
		free_pages(pg, 0);
	}
	KT_EXPECT(t, buddy_check() == 0);
}

static void test_bad_frees(struct ktest *t)
{
	struct buddy_stats before, after;
	unsigned long free0 = buddy_free_pages();
	struct page *pg = alloc_pages(0, 2);

	buddy_get_stats(&before);
	ktest_provoke(t);
	KT_EXPECT(t, free_pages(pg, 1) == -EINVAL);          /* wrong order */
	KT_EXPECT(t, free_pages(pg + 1, 0) == -EINVAL);      /* interior frame */
	KT_EXPECT(t, free_pages_addr(_text_start, 0) == -EINVAL); /* kernel image */
	KT_EXPECT(t, free_pages_addr((char *)page_address(pg) + 8, 2) == -EINVAL);
	KT_EXPECT(t, free_pages((struct page *)&before, 0) == -EINVAL); /* not a frame */
	KT_EXPECT(t, free_pages(pg, 2) == 0);
	KT_EXPECT(t, free_pages(pg, 2) == -EINVAL);          /* double free */
	KT_EXPECT(t, ktest_provoked(t) == 6);   /* each reported once */
	buddy_get_stats(&after);
	KT_EXPECT(t, after.wrong_frees == before.wrong_frees + 6);
	KT_EXPECT(t, buddy_free_pages() == free0);
	KT_EXPECT(t, buddy_check() == 0);
}

static void test_vm_rollback(struct ktest *t)
{
	struct vm_space vs;
	struct page *pg, *chain = NULL;
	unsigned long free0;
	int rc;

	KT_EXPECT(t, vm_create(&vs) == 0);
	while ((pg = alloc_pages(0, 0))) {     /* leave no page for tables */
		*(struct page **)page_address(pg) = chain;
		chain = pg;
	}
	free0 = buddy_free_pages();
	rc = vm_map(&vs, 0x40000000ul, 0x80000000ul, 4ul << 20, VM_R | VM_W);
	KT_EXPECT(t, rc == -ENOMEM);
	KT_EXPECT(t, buddy_free_pages() == free0 && vs.tables == 1);
	KT_EXPECT(t, vm_translate(&vs, 0x40000000ul, NULL, NULL) == -ENOENT);
	while (chain) {
		pg = chain;
		chain = *(struct page **)page_address(pg);
		free_pages(pg, 0);
	}
	KT_EXPECT(t, vm_map(&vs, 0x40000000ul, 0x80000000ul, 4ul << 20, VM_R | VM_W) == 0);
	vm_destroy(&vs);
}

static void test_kernel_map(struct ktest *t)
{
	unsigned perm = 0;

	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)_text_start, NULL, &perm) == 0 &&
		     perm == (VM_R | VM_X));
	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)_rodata_start, NULL, &perm) == 0 &&
		     perm == VM_R);
	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)_data_start, NULL, &perm) == 0 &&
		     perm == (VM_R | VM_W));
	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)_boot_stack_guard, NULL, NULL) == -ENOENT);
	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)_trap_stack_guard, NULL, NULL) == -ENOENT);
	KT_EXPECT(t, vm_translate(&kernel_vm, 0, NULL, NULL) == -ENOENT);
	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)page_map, NULL, &perm) == 0 &&
		     perm == (VM_R | VM_W));
}

static const struct ktest_case mm_cases[] = {
	{ "buddy_random_model", test_random },
	{ "buddy_drain_refill_dma", test_drain_dma },
	{ "zone_fallback", test_zones },
	{ "watermark_min_and_reserve", test_watermark },
	{ "bad_frees_refused", test_bad_frees },
	{ "vm_map_rollback", test_vm_rollback },
	{ "kernel_page_permissions", test_kernel_map },
};
KTEST_SUITE(mm_suite, "mm", mm_cases);
