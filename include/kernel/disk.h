/* disk.h - the mounted root filesystem (the FAT32 volume on the virtio
 * disk, when there is one). */
#ifndef TALLY_DISK_H
#define TALLY_DISK_H

#include "fs/fat32.h"

/* Mount the virtio disk's FAT32 volume; prints one boot line. Returns 0,
 * -ENODEV (no disk) or the mount error. */
int disk_mount(void);

/* The root filesystem, or NULL (then *why says: no disk, or why the volume
 * was refused). */
struct fat_fs *disk_fs(const char **why);

#endif
