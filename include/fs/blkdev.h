/* blkdev.h - the block-device contract between drivers and filesystems.
 *
 * In the spirit of FatFs's diskio.h: a device is a sector size, a capacity
 * and one read function. The FAT reader and the block cache never see what
 * is behind it (virtio-blk in the kernel, an image file in the host tests,
 * a fuzzer's input). Read-only: Tally's filesystem never writes. Not a
 * request queue and not a cache (fs/bcache.h is the cache). */
#ifndef TALLY_FS_BLKDEV_H
#define TALLY_FS_BLKDEV_H

#include <stdint.h>
#include "kerrno.h"

struct blkdev {
	const char *name;
	uint32_t sector_size;   /* bytes; a power of two, 512..4096 */
	uint64_t capacity;      /* in sectors */
	/* Read count >= 1 sectors starting at lba into buf (count *
	 * sector_size bytes, any alignment). Any count the range allows must
	 * be accepted (split internally if the hardware needs it). Returns 0,
	 * -EIO for a device error (buf contents then undefined), -EINVAL for
	 * a range outside the device. Called with no lock held; may sleep. */
	int (*read)(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf);
	void *priv;             /* the driver's */
};

/* dev->read() after checking the request: 0 or the driver's error;
 * -EINVAL when count is 0 or [lba, lba + count) is not inside the device. */
static inline int blk_read(struct blkdev *dev, uint64_t lba, uint32_t count,
			   void *buf)
{
	if (!dev || !buf || count == 0 || lba >= dev->capacity ||
	    count > dev->capacity - lba)
		return -EINVAL;
	return dev->read(dev, lba, count, buf);
}

#endif
