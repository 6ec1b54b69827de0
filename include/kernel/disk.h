/* disk.h - the disks found at boot and the mounted root filesystem (the
 * first FAT32 volume on a virtio-mmio disk, when there is one). */
#ifndef TALLY_DISK_H
#define TALLY_DISK_H

#include "fs/fat32.h"

/* Bring up every virtio-mmio disk (one boot line each; virtio disks on PCI
 * are named as unsupported), then mount the first that holds a FAT32
 * volume, saying for each other disk why it was not mounted. Returns 0, or
 * -ENODEV when no volume was mounted. Call once, after irq_init. */
int disk_mount(void);

/* The root filesystem, or NULL (then *why says: no disk, or the disk and
 * why its volume was refused; with several disks, the last one tried). */
struct fat_fs *disk_fs(const char **why);

/* The disk the root filesystem is on, or NULL. */
struct blkdev *disk_dev(void);

#endif
