/* selftest_blk.c - the "blk" KTAP suite: the virtio-blk driver on the real
 * device (skipped without a disk): reads into pages and a stack buffer. */
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/virtio_blk.h"
#include "mm/buddy.h"
#include "kerrno.h"

static void test_boot_sector(struct ktest *t)
{
	struct blkdev *d = vblk_dev();
	struct page *pg;
	uint8_t *b;

	if (!d) {
		KT_SKIP(t, "no disk");
		return;
	}
	pg = alloc_pages(0, 0);
	KT_EXPECT(t, pg != NULL);
	if (!pg)
		return;
	b = page_address(pg);
	KT_EXPECT(t, d->read(d, 0, 1, b) == 0);
	KT_EXPECT(t, b[510] == 0x55 && b[511] == 0xaa);
	free_pages(pg, 0);
}

/* One 64-sector request must return what 64 one-sector requests do. */
static void test_multi_sector(struct ktest *t)
{
	struct blkdev *d = vblk_dev();
	struct page *a, *b;
	struct vblk_stats s0, s1;

	if (!d) {
		KT_SKIP(t, "no disk");
		return;
	}
	a = alloc_pages(0, 3);
	b = alloc_pages(0, 3);
	KT_EXPECT(t, a && b);
	if (a && b) {
		vblk_get_stats(&s0);
		KT_EXPECT(t, d->read(d, 0, 64, page_address(a)) == 0);
		vblk_get_stats(&s1);
		KT_EXPECT(t, s1.requests == s0.requests + 1);
		KT_EXPECT(t, s1.interrupts > s0.interrupts);  /* completion came by irq */
		for (uint32_t i = 0; i < 64; i++)
			KT_EXPECT(t, d->read(d, i, 1, (char *)page_address(b) + i * 512) == 0);
		KT_EXPECT(t, memcmp(page_address(a), page_address(b), 64 * 512) == 0);
	}
	if (a)
		free_pages(a, 3);
	if (b)
		free_pages(b, 3);
}

static void test_bad_range(struct ktest *t)
{
	struct blkdev *d = vblk_dev();
	char buf[512];

	if (!d) {
		KT_SKIP(t, "no disk");
		return;
	}
	KT_EXPECT(t, d->read(d, d->capacity, 1, buf) == -EINVAL);
	KT_EXPECT(t, d->read(d, d->capacity - 1, 2, buf) == -EINVAL);
	KT_EXPECT(t, d->read(d, 0, 0, buf) == -EINVAL);
	KT_EXPECT(t, d->read(d, d->capacity - 1, 1, buf) == 0);
}

static const struct ktest_case blk_cases[] = {
	{ "boot_sector_signature", test_boot_sector },
	{ "multi_sector_request", test_multi_sector },
	{ "range_checked", test_bad_range },
};
KTEST_SUITE(blk_suite, "blk", blk_cases);
