/* virtio_blk.h - VirtIO-MMIO block devices, each as a struct blkdev.
 * Not a PCI driver: virtio-pci disks are only detected (drivers/pci_probe.h). */
#ifndef TALLY_VIRTIO_BLK_H
#define TALLY_VIRTIO_BLK_H

#include <stdint.h>
#include "fs/blkdev.h"
#include "kernel/platform.h"

#define VBLK_MAX PLAT_MAX_VIRTIO   /* at most one per virtio-mmio slot */
/* Completions in a row found without their interrupt that switch a disk
 * to polling (see vblk_check_irqs). */
#define VBLK_LOST_IRQ_LIMIT 3

struct vblk_stats {
	unsigned long requests;    /* requests submitted to the device */
	unsigned long blocks;      /* blocks (of the blkdev's sector_size) read */
	unsigned long errors;      /* reads that ended in -EIO */
	unsigned long interrupts;
	unsigned long timeouts;    /* requests the device did not complete in time */
	unsigned long resets;      /* device resets that followed */
	uint64_t wait_instret;     /* instructions spent waiting for completions,
				    * not counting interrupt handlers (those are
				    * trap_irq_instret's) */
	unsigned long lost_irqs;   /* completions whose interrupt the device
				    * raised but no handler saw */
	int polled;                /* 1: completions are polled: no interrupt
				    * route to this hart, or its interrupts
				    * did not arrive (lost_irqs) */
	int disabled;              /* 1: a reset after a timeout failed, every
				    * read is -EIO (until vblk_retry) */
};

struct vblk_info {
	const char *name;          /* "virtio-mmio@10008000": the slot's base */
	const char *transport;     /* "legacy" or "modern" register layout */
	int err;                   /* 0, or the negative errno set-up failed with */
	const char *why;           /* that failure in words ("" when none) */
	struct blkdev *dev;        /* the disk; NULL when set-up failed */
};

/* Probe every virtio-mmio slot the device tree lists and bring up each
 * block device found, in device-tree order. Returns how many were found,
 * set up or not (vblk_get_info says which failed: -ENOMEM when the DMA
 * zone cannot hold a queue, -EIO when the device refuses set-up, -EINVAL
 * for a logical block size outside 512..4096). Call once. */
int vblk_init(void);

/* How many block devices vblk_init found. */
int vblk_count(void);

/* Describe device i (0 <= i < vblk_count()). Returns 0 or -ENODEV. */
int vblk_get_info(int i, struct vblk_info *out);

/* Device i as a blkdev, or NULL (no such device, or its set-up failed).
 * sector_size is the device's logical block size (VIRTIO_BLK_F_BLK_SIZE,
 * else 512); capacity counts those blocks. A read that times out resets
 * the device and sets it up again; it returns -EIO, and the next read is
 * tried afresh. A device that does not come back from that reset is
 * disabled, said once in the log: every read is then -EIO without
 * reaching it, until vblk_retry brings it back. */
struct blkdev *vblk_dev(int i);

/* The counters of disk d. Returns 0, or -ENODEV when d is not a virtio disk. */
int vblk_get_stats(const struct blkdev *d, struct vblk_stats *out);

/* Fault injection: the next request to d is queued but the device is not
 * notified, and it is given up after 20 ms instead of 5 s, so the timeout
 * and the reset that follows can be tested. Returns 0 or -ENODEV. */
int vblk_inject_timeout(struct blkdev *d);

/* Once interrupts and the timer tick are on: read the first block of each
 * disk that waits for interrupts until a completion comes with its
 * interrupt, at most VBLK_LOST_IRQ_LIMIT times. A disk whose interrupt
 * never comes (the route looks right but delivers nothing) is switched to
 * polled completions, with a log line naming the controller and the hart;
 * any later VBLK_LOST_IRQ_LIMIT such completions in a row do the same.
 * Returns how many disks are polled for that reason, or -ENOMEM (no page
 * to read into; nothing checked). */
int vblk_check_irqs(void);

/* Fault injection: on = 1 disables d's interrupt source at its controller
 * while the driver still waits for it, as a controller that loses it
 * would, so the switch to polling can be tested; on = 0 routes it again
 * and goes back to interrupt completions (after a switch for lost
 * interrupts too). Returns 0; -EINVAL (on = 1 for a disk polled already:
 * it has no interrupt to lose); an irq_enable error (on = 0: it stays
 * polled); -ENODEV (d is not a virtio disk). */
int vblk_inject_lost_irq(struct blkdev *d, int on);

/* Fault injection: as vblk_inject_timeout, and the reset that follows the
 * timeout finds the device not coming back (as if Status never read 0),
 * so the disk is disabled. On a disk disabled already, the next vblk_retry
 * fails instead. Returns 0 or -ENODEV. */
int vblk_inject_reset_failure(struct blkdev *d);

/* Reset disabled disk d and set it up again (VirtIO 1.1 3.1.1), with a
 * log line saying how it went. Returns 0 (it is back, or it was not
 * disabled), -EIO (it did not come back and stays disabled) or -ENODEV
 * (d is not a virtio disk). */
int vblk_retry(struct blkdev *d);

#endif
