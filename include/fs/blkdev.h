/* blkdev.h - the block-device contract between drivers and filesystems.
 *
 * The whole interface a filesystem sees (in the spirit of FatFs's
 * diskio.h): a sector size, a capacity and one read function. The kernel's
 * virtio-blk driver and the host tests' image files both provide it, so the
 * FAT code never sees VirtIO. */
#ifndef TALLY_FS_BLKDEV_H
#define TALLY_FS_BLKDEV_H

#include <stdint.h>

struct blkdev {
	const char *name;
	uint32_t sector_size;   /* bytes per sector */
	uint64_t capacity;      /* in sectors */
	/* Read `count` sectors starting at `lba` into buf. Returns 0, -EIO
	 * (device error; buf contents undefined) or -EINVAL (range past the
	 * capacity, count 0). */
	int (*read)(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf);
	void *priv;             /* the driver's own state */
};

#endif
