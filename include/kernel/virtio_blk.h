/* virtio_blk.h - the VirtIO-MMIO block device, as a struct blkdev. */
#ifndef TALLY_VIRTIO_BLK_H
#define TALLY_VIRTIO_BLK_H

#include <stdint.h>
#include "fs/blkdev.h"

struct vblk_stats {
	unsigned long requests;    /* requests submitted to the device */
	unsigned long sectors;     /* sectors read */
	unsigned long errors;      /* requests that ended in -EIO */
	unsigned long interrupts;
	uint64_t wait_instret;     /* instructions spent waiting for completions,
				    * not counting interrupt handlers (those are
				    * trap_irq_instret's) */
};

/* Probe every virtio-mmio slot the device tree lists and bring up the first
 * block device. Returns 0; -ENODEV when there is no disk; -ENOMEM when the
 * DMA zone cannot hold its rings; -EIO when the device refuses set-up. */
int vblk_init(void);

/* The disk, or NULL when vblk_init found none. */
struct blkdev *vblk_dev(void);

void vblk_get_stats(struct vblk_stats *out);

/* "legacy" or "modern" (the virtio-mmio register layout in use). */
const char *vblk_transport(void);

#endif
