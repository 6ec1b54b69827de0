/* selftest_blk.c - the "blk" KTAP suite: the virtio-blk driver on the first
 * disk that came up: reads into pages, multi-block requests against single
 * ones, range checks, completions noticed without waiting for a timer tick
 * (by interrupt, or polled where the driver says so), and by fault
 * injection: a request that times out followed by the device's reset, a
 * reset that fails (the disk disabled until vblk_retry), an interrupt that
 * never arrives (the disk switched to polling). Any disk will do: a case
 * that needs something this disk lacks (any disk at all, a sector, a
 * boot-sector signature, 32 KiB) is skipped with the reason. */
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/platform.h"
#include "kernel/timer.h"
#include "drivers/virtio_blk.h"
#include "mm/buddy.h"
#include "arch/riscv.h"
#include "kerrno.h"

#define SPAN_ORDER 3                          /* 32 KiB read both ways */
#define SPAN_BYTES (PAGE_SIZE << SPAN_ORDER)
#define LATENCY_REQUESTS 64                   /* requests timed in a row */

/* The first disk that was set up, or NULL with the case marked skipped. */
static struct blkdev *test_disk(struct ktest *t, uint64_t min_bytes)
{
	struct blkdev *d = NULL;

	for (int i = 0; i < vblk_count() && !d; i++)
		d = vblk_dev(i);
	if (!d)
		KT_SKIP(t, "no disk");
	else if (!d->capacity)
		KT_SKIP(t, "empty disk (0 sectors)");
	else if (d->capacity * d->sector_size < min_bytes)
		KT_SKIP(t, "disk smaller than 32 KiB");
	else
		return d;
	return NULL;
}

/* Two pages (two blocks of up to 4 KiB) for a case, or NULL, the case
 * failed. */
static struct page *test_pages(struct ktest *t)
{
	struct page *pg = alloc_pages(0, 1);

	KT_EXPECT(t, pg != NULL);
	return pg;
}

static void test_boot_sector(struct ktest *t)
{
	struct blkdev *d = test_disk(t, 1);
	struct page *pg = d ? test_pages(t) : NULL;
	uint8_t *b;

	if (!pg)
		return;
	b = page_address(pg);
	KT_EXPECT(t, d->read(d, 0, 1, b) == 0);
	/* 0x55 0xAA at offset 510 whatever the sector size (FAT spec) */
	if (!t->failed && !(b[510] == 0x55 && b[511] == 0xaa))
		KT_SKIP(t, "block 0 has no 0x55AA signature: not a FAT or MBR disk");
	free_pages(pg, 1);
}

/* One request of 32 KiB must return what single-block requests do. */
static void test_multi_sector(struct ktest *t)
{
	struct blkdev *d = test_disk(t, SPAN_BYTES);
	uint32_t n = d ? SPAN_BYTES / d->sector_size : 0;
	struct page *a = NULL, *b = NULL;
	struct vblk_stats s0, s1;

	if (!d)
		return;
	a = alloc_pages(0, SPAN_ORDER);
	b = alloc_pages(0, SPAN_ORDER);
	KT_EXPECT(t, a && b);
	if (a && b) {
		KT_EXPECT(t, vblk_get_stats(d, &s0) == 0);
		KT_EXPECT(t, d->read(d, 0, n, page_address(a)) == 0);
		KT_EXPECT(t, vblk_get_stats(d, &s1) == 0);
		KT_EXPECT(t, s1.requests == s0.requests + 1);
		KT_EXPECT(t, s1.blocks == s0.blocks + n);
		/* completion came by irq, unless the driver said it polls */
		KT_EXPECT(t, s1.polled ? s1.interrupts == s0.interrupts
				       : s1.interrupts > s0.interrupts);
		for (uint32_t i = 0; i < n; i++)
			KT_EXPECT(t, d->read(d, i, 1, (char *)page_address(b) +
					     (size_t)i * d->sector_size) == 0);
		KT_EXPECT(t, memcmp(page_address(a), page_address(b), SPAN_BYTES) == 0);
	}
	if (a)
		free_pages(a, SPAN_ORDER);
	if (b)
		free_pages(b, SPAN_ORDER);
}

static void test_bad_range(struct ktest *t)
{
	struct blkdev *d = test_disk(t, 1);
	struct page *pg = d ? test_pages(t) : NULL;
	char *buf;

	if (!pg)
		return;
	buf = page_address(pg);
	KT_EXPECT(t, d->read(d, d->capacity, 1, buf) == -EINVAL);
	KT_EXPECT(t, d->read(d, d->capacity - 1, 2, buf) == -EINVAL);
	KT_EXPECT(t, d->read(d, 0, 0, buf) == -EINVAL);
	KT_EXPECT(t, d->read(d, d->capacity - 1, 1, buf) == 0);
	free_pages(pg, 1);
}

/* A request the device never hears of times out with -EIO; the device is
 * reset and set up again, and the next read returns the same data. */
static void test_timeout_reset(struct ktest *t)
{
	struct blkdev *d = test_disk(t, 1);
	struct page *pg = d ? test_pages(t) : NULL;
	struct vblk_stats s0, s1;
	char *a, *b;

	if (!pg)
		return;
	a = page_address(pg);
	b = a + PAGE_SIZE;
	KT_EXPECT(t, d->read(d, 0, 1, a) == 0);
	KT_EXPECT(t, vblk_get_stats(d, &s0) == 0);
	KT_EXPECT(t, vblk_inject_timeout(d) == 0);
	KT_EXPECT(t, d->read(d, 0, 1, b) == -EIO);
	KT_EXPECT(t, vblk_get_stats(d, &s1) == 0);
	KT_EXPECT(t, s1.timeouts == s0.timeouts + 1 && s1.resets == s0.resets + 1);
	KT_EXPECT(t, s1.errors == s0.errors + 1);
	memset(b, 0x6b, d->sector_size);
	KT_EXPECT(t, d->read(d, 0, 1, b) == 0);
	KT_EXPECT(t, memcmp(a, b, d->sector_size) == 0);
	KT_EXPECT(t, vblk_inject_timeout(NULL) == -ENODEV);
	free_pages(pg, 1);
}

/* A device that does not come back from the reset after a timeout is
 * disabled: that read and every later one fail with -EIO without reaching
 * it (no request, no reset, no timeout counted: the log says it once).
 * vblk_retry fails while the device still does not come back, then brings
 * it back with the same data. */
static void test_reset_fails(struct ktest *t)
{
	struct blkdev *d = test_disk(t, 1);
	struct page *pg = d ? test_pages(t) : NULL;
	struct vblk_stats s0, s1, s2, s3;
	char *a, *b;

	if (!pg)
		return;
	a = page_address(pg);
	b = a + PAGE_SIZE;
	KT_EXPECT(t, d->read(d, 0, 1, a) == 0);
	KT_EXPECT(t, vblk_get_stats(d, &s0) == 0 && !s0.disabled);
	KT_EXPECT(t, vblk_inject_reset_failure(d) == 0);
	KT_EXPECT(t, d->read(d, 0, 1, b) == -EIO);
	KT_EXPECT(t, vblk_get_stats(d, &s1) == 0 && s1.disabled);
	KT_EXPECT(t, s1.timeouts == s0.timeouts + 1 && s1.resets == s0.resets + 1);
	for (int i = 0; i < 3; i++)
		KT_EXPECT(t, d->read(d, (uint64_t)i % d->capacity, 1, b) == -EIO);
	KT_EXPECT(t, vblk_get_stats(d, &s2) == 0 && s2.disabled);
	KT_EXPECT(t, s2.requests == s1.requests && s2.resets == s1.resets &&
		     s2.timeouts == s1.timeouts && s2.errors == s1.errors + 3);
	KT_EXPECT(t, vblk_inject_reset_failure(d) == 0);
	KT_EXPECT(t, vblk_retry(d) == -EIO);
	KT_EXPECT(t, d->read(d, 0, 1, b) == -EIO);
	KT_EXPECT(t, vblk_retry(d) == 0);
	KT_EXPECT(t, vblk_get_stats(d, &s3) == 0 && !s3.disabled);
	KT_EXPECT(t, s3.resets == s2.resets + 2);
	memset(b, 0x6b, d->sector_size);
	KT_EXPECT(t, d->read(d, 0, 1, b) == 0);
	KT_EXPECT(t, memcmp(a, b, d->sector_size) == 0);
	KT_EXPECT(t, vblk_retry(d) == 0);     /* not disabled: nothing to do */
	KT_EXPECT(t, vblk_inject_reset_failure(NULL) == -ENODEV);
	KT_EXPECT(t, vblk_retry(NULL) == -ENODEV);
	free_pages(pg, 1);
}

/* A disk whose interrupt never arrives (disabled at its controller here,
 * as QEMU 7.2's second-socket PLIC loses it) is noticed within
 * VBLK_LOST_IRQ_LIMIT requests, each ended by a timer tick, and polled
 * from then on: requests are fast again. The knob then routes it back. On
 * a disk polled already the knob refuses. */
static void test_lost_irq(struct ktest *t)
{
	struct blkdev *d = test_disk(t, 1);
	struct page *pg = d ? test_pages(t) : NULL;
	struct vblk_stats s0, s1;
	uint64_t start, ticks;
	char *buf;

	if (!pg)
		return;
	buf = page_address(pg);
	KT_EXPECT(t, vblk_inject_lost_irq(NULL, 1) == -ENODEV);
	KT_EXPECT(t, vblk_get_stats(d, &s0) == 0);
	s1 = s0;
	if (s0.polled) {
		KT_EXPECT(t, vblk_inject_lost_irq(d, 1) == -EINVAL);
		goto out;
	}
	KT_EXPECT(t, vblk_inject_lost_irq(d, 1) == 0);
	/* one found before the device raised its interrupt does not count */
	for (int i = 0; i < 4 * VBLK_LOST_IRQ_LIMIT && !s1.polled; i++) {
		KT_EXPECT(t, d->read(d, 0, 1, buf) == 0);
		KT_EXPECT(t, vblk_get_stats(d, &s1) == 0);
		KT_EXPECT(t, s1.lost_irqs <= s0.lost_irqs + VBLK_LOST_IRQ_LIMIT);
		KT_EXPECT(t, s1.polled == (s1.lost_irqs == s0.lost_irqs + VBLK_LOST_IRQ_LIMIT));
	}
	KT_EXPECT(t, s1.polled && s1.interrupts == s0.interrupts);
	start = rdtime();
	for (int i = 0; i < LATENCY_REQUESTS; i++)
		KT_EXPECT(t, d->read(d, (uint64_t)i % d->capacity, 1, buf) == 0);
	/* tick-bound, they would take about a tick each; a spinning wait
	 * competes with QEMU's I/O thread for the host, so allow more than
	 * test_latency does */
	ticks = (rdtime() - start) / (platform.timebase_hz / TIMER_HZ);
	KT_EXPECT(t, ticks < LATENCY_REQUESTS / 2);
	KT_EXPECT(t, vblk_get_stats(d, &s1) == 0);
	KT_EXPECT(t, s1.lost_irqs == s0.lost_irqs + VBLK_LOST_IRQ_LIMIT);
	KT_EXPECT(t, vblk_inject_lost_irq(d, 0) == 0);
	KT_EXPECT(t, vblk_get_stats(d, &s1) == 0 && !s1.polled);
	KT_EXPECT(t, d->read(d, 0, 1, buf) == 0);
	KT_EXPECT(t, vblk_get_stats(d, &s0) == 0);
	KT_EXPECT(t, !s0.polled && s0.interrupts > s1.interrupts);
out:
	free_pages(pg, 1);
}

/* A completion that goes unnoticed until the next timer tick (an
 * interrupt routed to another hart's context, say) makes each request
 * last a tick: 64 requests must take well under 64 ticks. */
static void test_latency(struct ktest *t)
{
	struct blkdev *d = test_disk(t, 1);
	struct page *pg = d ? test_pages(t) : NULL;
	uint64_t start, ticks;
	int rc = 0;

	if (!pg)
		return;
	start = rdtime();
	for (int i = 0; i < LATENCY_REQUESTS && !rc; i++)
		rc = d->read(d, (uint64_t)i % d->capacity, 1, page_address(pg));
	ticks = (rdtime() - start) / (platform.timebase_hz / TIMER_HZ);
	KT_EXPECT(t, rc == 0);
	KT_EXPECT(t, ticks < LATENCY_REQUESTS / 4);
	free_pages(pg, 1);
}

static const struct ktest_case blk_cases[] = {
	{ "boot_sector_signature", test_boot_sector },
	{ "multi_sector_request", test_multi_sector },
	{ "range_checked", test_bad_range },
	{ "timeout_then_reset", test_timeout_reset },
	{ "reset_fails_disabled", test_reset_fails },
	{ "completion_without_tick", test_latency },
	{ "lost_interrupt_polled", test_lost_irq },
};
KTEST_SUITE(blk_suite, "blk", blk_cases);
