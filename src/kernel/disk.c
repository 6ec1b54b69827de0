/* disk.c - mount the root FAT32 volume at boot and keep it for the shell. */
#include "kernel/disk.h"
#include "kernel/console.h"
#include "kernel/virtio_blk.h"
#include "kerrno.h"

static struct fat_fs *root;
static char why[FAT_ERR_MAX] = "no disk";

int disk_mount(void)
{
	struct blkdev *dev = vblk_dev();
	struct fat_info info;
	int rc;

	if (!dev)
		return -ENODEV;
	rc = fat_mount(dev, &root, why, sizeof(why));
	if (rc) {
		root = NULL;
		kprintf("fat32: not mounted: %s\n", why);
		return rc;
	}
	fat_get_info(root, &info);
	kprintf("fat32: mounted \"%s\", %u clusters of %u bytes\n", info.label,
		info.clusters, info.cluster_bytes);
	return 0;
}

struct fat_fs *disk_fs(const char **reason)
{
	if (!root && reason)
		*reason = why;
	return root;
}
