/* bcache.h - a read-only block cache over one block device.
 *
 * Fixed-size blocks (a multiple of the device's sector size), hashed by
 * block number, kept in LRU order, memory from kmalloc. It registers a
 * shrinker (mm/shrinker.h): under memory pressure unused buffers are freed,
 * least recently used first. `reserve` buffers set aside at creation are
 * never given to the shrinker, so a read can always make progress even with
 * zero free memory: when a new buffer cannot be allocated the least
 * recently used unused buffer (reserve or not) is recycled. A read that
 * fails leaves no buffer claiming that block. Big sequential reads can skip
 * the cache: bcache_read_direct() issues one device request for a run of
 * blocks straight into the caller's buffer.
 *
 * Not a write-back cache (there are no writes). Thread-safe: the lists
 * are under the cache's own lock, never held across a device read or an
 * allocation; two harts missing on one block may both read it, and the
 * later read's copy is dropped (read_races), so a block is cached once.
 * A buffer's data is read-only and stays valid while it is held. */
#ifndef TALLY_FS_BCACHE_H
#define TALLY_FS_BCACHE_H

#include <stdint.h>
#include <stddef.h>
#include "fs/blkdev.h"

struct bcache;
struct bcache_buf;

struct bcache_stats {
	unsigned long hits, misses;
	unsigned long reads;          /* device requests issued (all paths) */
	unsigned long read_errors;    /* device requests that failed */
	unsigned long direct_reads;   /* of which bcache_read_direct() */
	unsigned long direct_blocks;  /* blocks those moved */
	unsigned long evictions;      /* a cached block dropped to reuse its buffer */
	unsigned long shrinker_freed; /* buffers freed by the shrinker */
	unsigned long shrinker_calls;
	unsigned long alloc_failures; /* a new buffer could not be allocated */
	unsigned long read_races;     /* a block read while another reader
					 cached it: the later copy dropped */
	unsigned long buffers;        /* buffers that exist now (incl. reserve) */
	unsigned long held;           /* buffers with a reference now */
	unsigned long reserve;        /* buffers the shrinker never takes */
	unsigned long limit;          /* max buffers */
	uint32_t block_size;
};

#define BCACHE_DEFAULT_LIMIT 256    /* buffers, reserve included */
#define BCACHE_DIRECT_MAX    (256u * 1024) /* bytes per direct request */

/* Make a cache of block_size-byte blocks over dev with `reserve` buffers
 * allocated now (and never shrunk), and register its shrinker. Block n is
 * device sectors [n * k, n * k + k) with k = block_size / sector_size.
 * Returns 0 and *out; -EINVAL when dev, out or dev->read is NULL, the
 * sector size is 0, block_size is not a power-of-two multiple of it or is
 * above 64 KiB, or reserve is 0 or above the limit; -ENOMEM when the
 * cache or its reserve cannot be allocated (nothing is left behind). */
int bcache_create(struct blkdev *dev, uint32_t block_size, unsigned reserve,
		  struct bcache **out);

/* Unregister the shrinker and free every buffer and the cache. Buffers
 * still held are reported (a leak in the caller) and freed anyway. NULL
 * is a no-op. */
void bcache_destroy(struct bcache *bc);

/* Cap the number of buffers (reserve included). Returns 0; -EINVAL when
 * limit is below the reserve. Extra unused buffers are freed now. */
int bcache_set_limit(struct bcache *bc, unsigned long limit);

/* Get block blockno with a reference; *out valid until bcache_put().
 * Returns 0; -EINVAL for a block outside the device or NULL arguments;
 * -EIO when the device read fails (nothing is cached for it); -ENOMEM only
 * when every buffer is held and no new one can be allocated (at most
 * `reserve` concurrent holds are guaranteed). */
int bcache_get(struct bcache *bc, uint64_t blockno, struct bcache_buf **out);

/* Drop the reference bcache_get() gave. NULL is a no-op; a buffer that is
 * not held is reported and ignored. */
void bcache_put(struct bcache *bc, struct bcache_buf *b);

/* The block's bytes (block_size of them); read-only. */
const uint8_t *bcache_data(const struct bcache_buf *b);

/* Copy len bytes at offset of block blockno into dst (get + copy + put).
 * Returns 0; -EINVAL when offset + len exceeds the block; else
 * bcache_get()'s errors. */
int bcache_read(struct bcache *bc, uint64_t blockno, uint32_t offset,
		uint32_t len, void *dst);

/* Read count whole blocks from blockno straight into dst, bypassing the
 * cache, in as few block-device reads as BCACHE_DIRECT_MAX allows (one for
 * runs up to 256 KiB; the driver splits a read into requests of its own
 * size: virtio-blk's are at most 128 KiB). Safe because nothing is ever written: cached copies
 * and the device agree. Returns 0; -EINVAL for a range outside the device,
 * count 0 or NULL; -EIO when a request fails. */
int bcache_read_direct(struct bcache *bc, uint64_t blockno, uint32_t count,
		       void *dst);

/* Drop every cached block that is not held (buffers are kept). */
void bcache_invalidate(struct bcache *bc);

uint64_t bcache_nr_blocks(const struct bcache *bc);
void bcache_get_stats(const struct bcache *bc, struct bcache_stats *out);

/* Check the cache's invariants under its lock: every cached block hashed
 * once, in its bucket; a buffer hashed iff valid; a held buffer on no
 * LRU list and every LRU buffer unheld; the buffers and held counts
 * match the lists. Each violation is reported (mm_report); returns their
 * number, 0 when consistent. */
unsigned long bcache_check(struct bcache *bc);

#endif
