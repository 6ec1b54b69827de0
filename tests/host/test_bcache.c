/* test_bcache.c - host tests of the block cache (fs/bcache.h) and the
 * shrinker registry (mm/shrinker.h), over a memory-backed device.
 *
 * Covers hits and misses, LRU eviction, the limit, a failed read leaving
 * nothing cached (the device scribbles over the buffer before failing),
 * reads progressing with zero free memory thanks to the reserve, the
 * shrinker freeing only unused non-reserve buffers, mm_shrink's re-entry
 * guard, multi-block direct reads issuing one request per 256 KiB,
 * lowering the limit, caller misuse (a put of a buffer not held,
 * destroy with buffers held) reported and survived, and threads missing
 * on one block at once (one cached copy, the others dropped). */
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "blkdev_host.h"
#include "fs/bcache.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/shrinker.h"
#include "../../src/host/mm_host.h"

#define ARENA   (8u << 20)
#define NBLK    4096u             /* device blocks of 512 bytes: 2 MiB */

static uint8_t *disk;
static void *arena;
static uint8_t byte;

static struct hdev hd;

/* Every case: a fresh mm and a fresh memory device (no injected errors,
 * counters at 0), reports printed. */
static void before(void)
{
	if (mm_host_init(arena, ARENA))
		abort();
	mm_host_quiet = 0;
	hdev_mem(&hd, disk, NBLK * 512, 512);
}

/* Block n's byte i. */
static uint8_t pattern(uint64_t n, unsigned i)
{
	return (uint8_t)(n * 7 + i * 13 + (n >> 8));
}

static int block_ok(const uint8_t *d, uint64_t n, unsigned bs)
{
	for (unsigned i = 0; i < bs; i++)
		if (d[i] != pattern(n * bs / 512 + i / 512, i % 512))
			return 0;
	return 1;
}

static void test_create_errors(void)
{
	struct hdev *h = &hd;
	struct bcache *bc;

	tap_ok(bcache_create(NULL, 512, 2, &bc) == -EINVAL, "create: NULL dev is -EINVAL");
	tap_ok(bcache_create(&h->dev, 768, 2, &bc) == -EINVAL, "create: block 768 is -EINVAL");
	tap_ok(bcache_create(&h->dev, 256, 2, &bc) == -EINVAL, "create: block below sector is -EINVAL");
	tap_ok(bcache_create(&h->dev, 512, 0, &bc) == -EINVAL, "create: reserve 0 is -EINVAL");
}

static void test_hits_lru(void)
{
	struct hdev *h = &hd;
	struct bcache *bc;
	struct bcache_buf *b;
	struct bcache_stats st;
	int ok = 1;

	tap_ok(bcache_create(&h->dev, 512, 2, &bc) == 0, "create 512-byte cache");
	tap_ok(bcache_set_limit(bc, 4) == 0, "limit 4 buffers");
	tap_ok(bcache_set_limit(bc, 1) == -EINVAL, "limit below reserve is -EINVAL");
	for (uint64_t n = 0; n < 6; n++) {
		ok &= bcache_get(bc, n, &b) == 0 && block_ok(bcache_data(b), n, 512);
		bcache_put(bc, b);
	}
	tap_ok(ok, "blocks 0..5 read with the right bytes");
	ok = bcache_get(bc, 5, &b) == 0;
	bcache_put(bc, b);
	bcache_get_stats(bc, &st);
	tap_ok(ok && st.hits == 1 && st.misses == 6 && st.reads == 6,
	       "block 5 again is a hit (hits %lu misses %lu reads %lu)", st.hits,
	       st.misses, st.reads);
	tap_ok(st.buffers == 4 && st.evictions == 2, "limit holds: %lu buffers, %lu evictions",
	       st.buffers, st.evictions);
	ok = bcache_get(bc, 0, &b) == 0;   /* 0 was evicted (LRU) */
	bcache_put(bc, b);
	bcache_get_stats(bc, &st);
	tap_ok(ok && st.misses == 7, "least recently used block was the one evicted");
	tap_ok(bcache_get(bc, NBLK, &b) == -EINVAL, "block past the device is -EINVAL");
	tap_ok(bcache_read(bc, 3, 500, 20, &byte) == -EINVAL, "bcache_read past the block end is -EINVAL");
	bcache_destroy(bc);
}

static void test_io_error(void)
{
	struct hdev *h = &hd;
	struct bcache *bc;
	struct bcache_buf *b;
	struct bcache_stats st;
	uint8_t out[512];

	bcache_create(&h->dev, 512, 2, &bc);
	h->requests = 0;
	h->fail_at = 1;
	tap_ok(bcache_get(bc, 9, &b) == -EIO, "device error is -EIO");
	h->fail_at = 0;
	tap_ok(bcache_read(bc, 9, 0, 512, out) == 0 && block_ok(out, 9, 512),
	       "after a failed read the block is read again, right bytes");
	bcache_get_stats(bc, &st);
	tap_ok(st.read_errors == 1 && st.reads == 2 && st.hits == 0,
	       "failed read cached nothing (reads %lu, errors %lu)", st.reads,
	       st.read_errors);
	tap_ok(st.held == 0, "no buffer left held");
	/* Cached block survives a failing device (it is not re-read). */
	h->fail_at = 1;
	h->fail_every = 1;
	h->requests = 0;
	tap_ok(bcache_read(bc, 9, 0, 512, out) == 0 && block_ok(out, 9, 512),
	       "a cached block is served without the device");
	tap_ok(bcache_read_direct(bc, 100, 1, out) == -EIO,
	       "direct read error is -EIO");
	h->fail_at = h->fail_every = 0;
	bcache_destroy(bc);
}

static void test_direct(void)
{
	struct hdev *h = &hd;
	struct bcache *bc;
	struct bcache_stats st;
	uint8_t *dst = malloc(1200 * 512);
	int ok = 1;

	bcache_create(&h->dev, 512, 2, &bc);
	h->requests = 0;
	ok = bcache_read_direct(bc, 10, 200, dst) == 0;
	tap_ok(ok && h->requests == 1, "200 blocks: one device request (%lu)", h->requests);
	h->requests = 0;
	ok = bcache_read_direct(bc, 100, 1200, dst) == 0;
	tap_ok(ok && h->requests == 3,
	       "1200 blocks (600 KiB): three 256 KiB-capped requests (%lu)", h->requests);
	for (unsigned i = 0; i < 1200; i++)
		ok &= block_ok(dst + i * 512, 100 + i, 512);
	tap_ok(ok, "direct read bytes are right");
	tap_ok(bcache_read_direct(bc, NBLK - 1, 2, dst) == -EINVAL, "direct read past the end is -EINVAL");
	tap_ok(bcache_read_direct(bc, 0, 0, dst) == -EINVAL, "direct read of 0 blocks is -EINVAL");
	bcache_get_stats(bc, &st);
	tap_ok(st.direct_reads == 4 && st.direct_blocks == 1400 && st.buffers == 2,
	       "direct reads bypass the cache (%lu requests, %lu blocks, %lu buffers)",
	       st.direct_reads, st.direct_blocks, st.buffers);
	bcache_destroy(bc);
	free(dst);
}

/* 4096-byte blocks over 512-byte sectors. */
static void test_big_blocks(void)
{
	struct hdev *h = &hd;
	struct bcache *bc;
	struct bcache_buf *b;

	tap_ok(bcache_create(&h->dev, 4096, 2, &bc) == 0, "create 4096-byte cache on 512-byte sectors");
	h->requests = h->sectors = 0;
	tap_ok(bcache_get(bc, 3, &b) == 0 && block_ok(bcache_data(b), 3, 4096) &&
	       h->requests == 1 && h->sectors == 8, "block 3 = sectors 24..31 in one request");
	bcache_put(bc, b);
	tap_ok(bcache_nr_blocks(bc) == NBLK / 8, "capacity in blocks");
	bcache_destroy(bc);
}

static void test_zero_memory(void)
{
	struct hdev *h = &hd;
	struct bcache *bc;
	struct bcache_buf *b1, *b2, *b3;
	struct bcache *bc2 = NULL;
	struct bcache_stats st;
	void *hog;
	int ok = 1;

	bcache_create(&h->dev, 512, 2, &bc);
	hog = hog_all();
	tap_ok(kmalloc(8, 0) == NULL, "memory exhausted");
	for (uint64_t n = 0; n < 300; n++) {
		struct bcache_buf *b;

		ok &= bcache_get(bc, n * 7 % NBLK, &b) == 0 &&
		      block_ok(bcache_data(b), n * 7 % NBLK, 512);
		bcache_put(bc, b);
	}
	bcache_get_stats(bc, &st);
	tap_ok(ok, "300 reads with zero free memory all succeed");
	tap_ok(st.alloc_failures > 0 && st.buffers == 2,
	       "they ran on the reserve (alloc failures %lu, buffers %lu)",
	       st.alloc_failures, st.buffers);
	tap_ok(bcache_get(bc, 1, &b1) == 0 && bcache_get(bc, 2, &b2) == 0,
	       "two blocks held at once (the reserve)");
	tap_ok(bcache_get(bc, 3, &b3) == -ENOMEM, "a third hold with no memory is -ENOMEM");
	bcache_put(bc, b1);
	bcache_put(bc, b2);
	tap_ok(bcache_create(&h->dev, 512, 2, &bc2) == -ENOMEM && bc2 == NULL,
	       "create with no memory is -ENOMEM");
	hog_release(hog);
	bcache_destroy(bc);
}

static unsigned long reentry_result = 99;

static unsigned long nested_count(struct shrinker *s)
{
	(void)s;
	return 1;
}

static unsigned long nested_scan(struct shrinker *s, unsigned long want)
{
	(void)s;
	reentry_result = mm_shrink(want);   /* must be refused */
	return 0;
}

static void test_shrinker(void)
{
	struct hdev *h = &hd;
	struct bcache *bc;
	struct bcache_buf *held;
	struct bcache_stats st;
	struct shrinker nested = { .count = nested_count, .scan = nested_scan };
	struct shrinker_stats ss0, ss1;
	unsigned long freed;

	bcache_create(&h->dev, 512, 3, &bc);
	for (uint64_t n = 0; n < 50; n++)
		bcache_read(bc, n, 0, 1, &byte);
	bcache_get(bc, 49, &held);
	bcache_get_stats(bc, &st);
	tap_ok(st.buffers == 50, "50 buffers cached");
	freed = mm_shrink(3 * (512 + 64));
	bcache_get_stats(bc, &st);
	tap_ok(freed >= 3 * 512 && st.buffers < 50 && st.buffers >= 46,
	       "mm_shrink(small) frees a few buffers (%lu bytes, %lu left)", freed, st.buffers);
	freed = mm_shrink(~0ul);
	bcache_get_stats(bc, &st);
	tap_ok(st.buffers == 4, "mm_shrink(all) keeps reserve 3 + 1 held (%lu)", st.buffers);
	tap_ok(st.shrinker_freed == 46 && st.shrinker_calls == 2,
	       "shrinker stats: %lu freed in %lu calls", st.shrinker_freed, st.shrinker_calls);
	tap_ok(block_ok(bcache_data(held), 49, 512), "held buffer untouched by the shrinker");
	bcache_put(bc, held);
	shrinker_get_stats(&ss0);
	shrinker_register(&nested);
	mm_host_quiet = 1;
	shrinker_register(&nested);   /* twice: reported, ignored */
	mm_host_quiet = 0;
	mm_shrink(~0ul);
	shrinker_get_stats(&ss1);
	tap_ok(reentry_result == 0 && ss1.reentries == ss0.reentries + 1,
	       "mm_shrink from inside a shrinker is refused (re-entry guard)");
	shrinker_unregister(&nested);
	shrinker_unregister(&nested);
	tap_ok(mm_shrink(0) == 0, "mm_shrink(0) is a no-op");
	bcache_destroy(bc);
	tap_ok(mm_shrink(1000) == 0, "destroyed cache is unregistered");
}

/* With memory exhausted and clean buffers cached, kmalloc's failure path
 * calls mm_shrink and the allocation succeeds by taking cache buffers;
 * GFP_NOSHRINK opts out of that. */
static void test_alloc_hook(void)
{
	struct hdev *h = &hd;
	struct bcache *bc;
	struct bcache_stats st;
	void *hog, *p;

	bcache_create(&h->dev, 512, 2, &bc);
	for (uint64_t n = 0; n < 100; n++)
		bcache_read(bc, n, 0, 1, &byte);
	hog = hog_all_gfp(GFP_NOSHRINK);
	tap_ok(kmalloc(256, GFP_NOSHRINK) == NULL, "GFP_NOSHRINK: exhausted memory is -ENOMEM");
	bcache_get_stats(bc, &st);
	tap_ok(st.shrinker_freed == 0 && st.buffers == 100, "and the cache was left alone");
	p = kmalloc(256, 0);
	bcache_get_stats(bc, &st);
	tap_ok(p != NULL, "ordinary request: the shrinker made room");
	tap_ok(st.shrinker_freed > 0 && st.buffers < 100,
	       "exhaustion shrank the cache to %lu buffers", st.buffers);
	kfree(p);
	hog_release(hog);
	bcache_destroy(bc);
}

/* Lowering the limit frees unused non-reserve buffers only; the cache
 * then recycles instead of growing. */
static void test_limit_lowering(void)
{
	struct hdev *h = &hd;
	struct bcache_buf *b0, *b1, *b2, *b;
	struct bcache_stats st;
	struct bcache *bc;
	uint8_t out[512];
	int ok = 1;

	bcache_create(&h->dev, 512, 2, &bc);
	for (unsigned n = 0; n < 20; n++)
		ok &= bcache_read(bc, n, 0, 512, out) == 0;
	ok &= bcache_get(bc, 0, &b0) == 0 && bcache_get(bc, 1, &b1) == 0;
	bcache_get_stats(bc, &st);
	tap_ok(ok && st.buffers == 20 && st.held == 2, "20 blocks cached, 2 held");
	tap_ok(bcache_set_limit(bc, 5) == 0, "limit lowered to 5");
	bcache_get_stats(bc, &st);
	tap_ok(st.buffers == 5 && st.held == 2 && block_ok(bcache_data(b0), 0, 512) &&
	       block_ok(bcache_data(b1), 1, 512), "5 buffers left, the held ones intact (%lu)",
	       st.buffers);
	tap_ok(bcache_set_limit(bc, 3) == 0, "limit lowered to 3 with 2 held");
	bcache_get_stats(bc, &st);
	tap_ok(st.buffers == 3, "held buffers stay, one unused left: %lu", st.buffers);
	ok = 1;
	for (unsigned n = 30; n < 40; n++)
		ok &= bcache_read(bc, n, 0, 512, out) == 0 && block_ok(out, n, 512);
	ok &= bcache_get(bc, 50, &b2) == 0 && block_ok(bcache_data(b2), 50, 512);
	bcache_get_stats(bc, &st);
	tap_ok(ok && st.buffers == 3 && st.held == 3,
	       "reads go on by recycling, never growing past the limit (%lu buffers)", st.buffers);
	tap_ok(bcache_get(bc, 51, &b) == -ENOMEM && bcache_read(bc, 52, 0, 512, out) == -ENOMEM,
	       "every buffer held at the limit: -ENOMEM");
	bcache_put(bc, b2);
	bcache_put(bc, b1);
	bcache_put(bc, b0);
	bcache_destroy(bc);
	tap_ok(kmalloc_bytes_in_use() == 0 && kmalloc_check() == 0, "nothing left after destroy");
}

/* Misuse by the caller is reported and survived: a put of a buffer not
 * held, and destroying the cache with buffers still held. */
static void test_misuse(void)
{
	struct hdev *h = &hd;
	struct bcache_buf *b, *b2;
	struct bcache_stats st;
	struct bcache *bc;
	unsigned long reports;
	uint64_t base;

	mm_host_quiet = 1;
	base = kmalloc_bytes_in_use();
	bcache_create(&h->dev, 512, 2, &bc);
	bcache_get(bc, 7, &b);
	bcache_put(bc, b);
	reports = mm_host_reports;
	bcache_put(bc, b);
	bcache_get_stats(bc, &st);
	tap_ok(mm_host_reports == reports + 1 && strstr(mm_host_last_report, "block 7 not held") &&
	       st.held == 0, "put of a buffer not held: reported ('%s'), held stays 0",
	       mm_host_last_report);
	tap_ok(bcache_get(bc, 7, &b) == 0 && bcache_get(bc, 8, &b2) == 0 &&
	       block_ok(bcache_data(b), 7, 512), "the block is still cached and usable after it");
	bcache_get_stats(bc, &st);
	tap_ok(st.hits == 1 && st.held == 2 && kmalloc_check() == 0, "lists consistent: 1 hit, 2 held");
	reports = mm_host_reports;
	bcache_destroy(bc);
	tap_ok(mm_host_reports == reports + 1 && strstr(mm_host_last_report, "2 buffers") &&
	       strstr(mm_host_last_report, "still held"), "destroy with 2 held: reported ('%s')",
	       mm_host_last_report);
	tap_ok(kmalloc_bytes_in_use() == base && kmalloc_check() == 0,
	       "and every buffer freed anyway");
	mm_host_quiet = 0;
}


/* ---- threads missing on one block at once ------------------------------ */

#define RACERS 4
#define RACE_ROUNDS 40

static atomic_ulong race_arrivals;    /* device reads begun */
static atomic_ulong race_timeouts;

/* A memory device whose read waits (up to 2 s) until RACERS reads have
 * begun since the last full group: all of one round's readers are inside
 * the device at once, each with the cache's lock dropped. */
static int race_read(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf)
{
	unsigned long me = atomic_fetch_add(&race_arrivals, 1) + 1;
	unsigned long goal = (me + RACERS - 1) / RACERS * RACERS;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&race_arrivals) < goal) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= 2) {
			atomic_fetch_add(&race_timeouts, 1);
			break;
		}
		sched_yield();
	}
	memcpy(buf, disk + lba * dev->sector_size, (size_t)count * dev->sector_size);
	return 0;
}

struct racer {
	pthread_t th;
	struct bcache *bc;
	pthread_barrier_t *round;
	unsigned long bad;       /* wrong data, errors, or a buffer not shared */
	struct bcache_buf *got[RACE_ROUNDS];
};

static void *racer(void *arg)
{
	struct racer *r = arg;

	for (unsigned k = 0; k < RACE_ROUNDS; k++) {
		pthread_barrier_wait(r->round);
		if (bcache_get(r->bc, k, &r->got[k]) != 0) {
			r->bad++;
			r->got[k] = NULL;
			continue;
		}
		r->bad += !block_ok(bcache_data(r->got[k]), k, 512);
		pthread_barrier_wait(r->round);   /* all hold it: the same buffer */
		bcache_put(r->bc, r->got[k]);
	}
	return NULL;
}

/* RACERS threads get each block at the same moment: every one of them
 * misses and reads it from the device with the lock dropped. The block
 * must end up cached once (the later reads' copies dropped and counted
 * as read_races), every thread holding the same buffer with the right
 * bytes; lists and counts consistent (bcache_check). */
static void test_threads_miss_together(void)
{
	struct blkdev dev = { "race", 512, NBLK, race_read, NULL };
	struct racer r[RACERS];
	pthread_barrier_t round;
	struct bcache_stats st;
	struct bcache *bc;
	unsigned long bad = 0, shared = 0;

	atomic_store(&race_arrivals, 0);
	atomic_store(&race_timeouts, 0);
	pthread_barrier_init(&round, NULL, RACERS);
	tap_ok(bcache_create(&dev, 512, 2, &bc) == 0, "create a cache over a device that gathers its readers");
	for (unsigned i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .bc = bc, .round = &round };
		pthread_create(&r[i].th, NULL, racer, &r[i]);
	}
	for (unsigned i = 0; i < RACERS; i++) {
		pthread_join(r[i].th, NULL);
		bad += r[i].bad;
	}
	for (unsigned k = 0; k < RACE_ROUNDS; k++) {
		unsigned same = 1;

		for (unsigned i = 1; i < RACERS; i++)
			same &= r[i].got[k] == r[0].got[k];
		shared += same;
	}
	bcache_get_stats(bc, &st);
	tap_ok(bad == 0 && atomic_load(&race_timeouts) == 0,
	       "%u threads x %u blocks: right bytes, no errors (%lu bad, %lu device waits timed out)",
	       RACERS, RACE_ROUNDS, bad, (unsigned long)atomic_load(&race_timeouts));
	tap_ok(st.misses == RACERS * RACE_ROUNDS && st.reads == st.misses,
	       "every get missed and read the device (%lu misses, %lu reads)", st.misses, st.reads);
	tap_ok(shared == RACE_ROUNDS, "all threads held one buffer per block (%lu of %u blocks)",
	       shared, RACE_ROUNDS);
	tap_ok(st.read_races == (RACERS - 1) * RACE_ROUNDS,
	       "the later copies dropped: read_races %lu", st.read_races);
	tap_ok(bcache_check(bc) == 0, "bcache_check: each block cached once, lists and counts agree");
	/* Each round's dropped copies are the next round's empty buffers:
	 * one more buffer a round, the one a block stays cached in. */
	tap_ok(st.buffers == RACE_ROUNDS + RACERS - 1 && st.held == 0,
	       "dropped copies reused: %lu buffers (%u expected), none held", st.buffers,
	       RACE_ROUNDS + RACERS - 1);
	bcache_destroy(bc);
	pthread_barrier_destroy(&round);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_create_errors),
	TAP_CASE(test_hits_lru),
	TAP_CASE(test_io_error),
	TAP_CASE(test_direct),
	TAP_CASE(test_big_blocks),
	TAP_CASE(test_zero_memory),
	TAP_CASE(test_shrinker),
	TAP_CASE(test_alloc_hook),
	TAP_CASE(test_limit_lowering),
	TAP_CASE(test_misuse),
	TAP_CASE(test_threads_miss_together),
};

int main(void)
{
	int rc;

	arena = aligned_alloc(4096, ARENA);
	disk = malloc(NBLK * 512);
	for (unsigned n = 0; n < NBLK; n++)
		for (unsigned i = 0; i < 512; i++)
			disk[n * 512 + i] = pattern(n, i);
	rc = tap_main(TAP_CASES(cases), before, NULL);
	free(disk);
	free(arena);
	return rc;
}
