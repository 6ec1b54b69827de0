/* blkdev_host.h - block devices for the host fs tests (fs/blkdev.h).
 *
 * hdev: an image file read with pread(), with test knobs:
 *   - sector size chosen per device (the image's, or 512 under a 4096-byte
 *     volume), capacity overridable (a "truncated volume");
 *   - patches: byte ranges replaced on every read (corruptions are written
 *     into this overlay, never into the shared image);
 *   - fault injection: request number fail_at (1-based) returns -EIO after
 *     scribbling 0xEE over the buffer, so a cache that kept the data would
 *     be caught;
 *   - a memory-backed variant (hdev_mem) for the bcache tests.
 * Host test code only. */
#ifndef TALLY_TESTS_BLKDEV_HOST_H
#define TALLY_TESTS_BLKDEV_HOST_H

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/blkdev.h"

#define HDEV_MAX_PATCHES 16

struct hdev_patch {
	uint64_t off;
	uint32_t len;
	uint8_t bytes[64];
};

struct hdev {
	struct blkdev dev;
	int fd;                  /* -1: memory-backed */
	const uint8_t *mem;
	uint64_t bytes;          /* size of the backing file / memory */
	unsigned long requests;  /* read() calls */
	unsigned long sectors;   /* sectors returned */
	unsigned long fail_at;   /* fail this request (1-based); 0 = never */
	unsigned long fail_every;/* fail every request from fail_at on */
	int npatches;
	struct hdev_patch patch[HDEV_MAX_PATCHES];
};

static inline void hdev_apply(struct hdev *h, uint64_t off, uint64_t len, uint8_t *buf)
{
	for (int i = 0; i < h->npatches; i++) {
		struct hdev_patch *p = &h->patch[i];

		for (uint32_t j = 0; j < p->len; j++)
			if (p->off + j >= off && p->off + j < off + len)
				buf[p->off + j - off] = p->bytes[j];
	}
}

static inline int hdev_read(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf)
{
	struct hdev *h = (struct hdev *)dev->priv;
	uint64_t off = lba * dev->sector_size, len = (uint64_t)count * dev->sector_size;

	h->requests++;
	if (h->fail_at && (h->requests == h->fail_at ||
			   (h->fail_every && h->requests > h->fail_at))) {
		memset(buf, 0xEE, len);
		return -EIO;
	}
	if (lba + count > dev->capacity)
		return -EINVAL;
	memset(buf, 0, len);
	if (h->fd >= 0) {
		ssize_t n = pread(h->fd, buf, len, (off_t)off);

		if (n < 0)
			return -EIO;
	} else if (off < h->bytes) {
		memcpy(buf, h->mem + off, h->bytes - off < len ? h->bytes - off : len);
	}
	hdev_apply(h, off, len, buf);
	h->sectors += count;
	return 0;
}

/* Open path as a device of sector_size-byte sectors. 0 or -1. */
static inline int hdev_open(struct hdev *h, const char *path, uint32_t sector_size)
{
	memset(h, 0, sizeof(*h));
	h->fd = open(path, O_RDONLY);
	if (h->fd < 0)
		return -1;
	h->bytes = (uint64_t)lseek(h->fd, 0, SEEK_END);
	h->dev.name = path;
	h->dev.sector_size = sector_size;
	h->dev.capacity = h->bytes / sector_size;
	h->dev.read = hdev_read;
	h->dev.priv = h;
	return 0;
}

static inline void hdev_mem(struct hdev *h, const void *mem, uint64_t bytes,
		     uint32_t sector_size)
{
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->mem = mem;
	h->bytes = bytes;
	h->dev.name = "mem";
	h->dev.sector_size = sector_size;
	h->dev.capacity = bytes / sector_size;
	h->dev.read = hdev_read;
	h->dev.priv = h;
}

static inline void hdev_close(struct hdev *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* Overlay len bytes at byte offset off. */
static inline void hdev_patch(struct hdev *h, uint64_t off, const void *bytes, uint32_t len)
{
	struct hdev_patch *p = &h->patch[h->npatches++];

	if (h->npatches > HDEV_MAX_PATCHES || len > sizeof(p->bytes))
		abort();
	p->off = off;
	p->len = len;
	memcpy(p->bytes, bytes, len);
}

static inline void hdev_patch_le(struct hdev *h, uint64_t off, uint64_t v, uint32_t len)
{
	uint8_t b[8];

	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	hdev_patch(h, off, b, len);
}

/* Memory pressure: take every byte kmalloc will give (largest blocks
 * first) and keep them on a list threaded through the blocks. With gfp 0
 * the shrinkers are drained on the way; GFP_NOSHRINK leaves caches alone. */
#include "mm/kmalloc.h"

static void *hog_all_gfp(gfp_t gfp)
{
	void *list = NULL;
	static const size_t sizes[] = { 1 << 20, 1 << 16, 4096, 512, 64, 8 };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p;

		while ((p = kmalloc(sizes[i], gfp)) != NULL) {
			*(void **)p = list;
			list = p;
		}
	}
	return list;
}

static inline void *hog_all(void)
{
	return hog_all_gfp(0);
}

static inline void hog_release(void *list)
{
	while (list) {
		void *next = *(void **)list;

		kfree(list);
		list = next;
	}
}

#endif
