/* disk.c - find the disks at boot, list them, and mount the first FAT32
 * volume as the root filesystem for the shell.
 *
 * Every virtio-mmio block device gets one boot line (where it is, its
 * register layout, its size); a virtio disk on PCI, which Tally does not
 * drive, is named with the option that attaches a usable one. Each disk is
 * then tried with fat_mount in device-tree order until one mounts; every
 * other disk gets a line saying why it was not mounted (or not tried).
 * Not a VFS: one volume, read-only, mounted once. */
#include "kernel/disk.h"
#include "kernel/console.h"
#include "drivers/pci_probe.h"
#include "drivers/virtio_blk.h"
#include "lib/printf.h"
#include "kerrno.h"

/* readonly=on as `make run` attaches its disk: QEMU then takes no write
 * lock, so the image can be shared with a running `make run`. */
#define MMIO_OPTION "-drive file=IMG,if=none,format=raw,id=hd0,readonly=on " \
		    "-device virtio-blk-device,drive=hd0"
#define PCI_MAX     8

static struct fat_fs *root;
static struct blkdev *root_dev;
static char why[FAT_ERR_MAX + 32] = "no disk";

static void report_disk(const struct vblk_info *in)
{
	const struct blkdev *d = in->dev;

	if (!d)
		kprintf("disk: virtio-blk (%s) at %s: set-up failed: %s\n",
			in->transport, in->name, in->why);
	else if (!d->capacity)
		kprintf("disk: virtio-blk (%s), empty disk (0 sectors) at %s\n",
			in->transport, in->name);
	else
		kprintf("disk: virtio-blk (%s), %lu sectors of %u bytes (%lu MiB) at %s\n",
			in->transport, (unsigned long)d->capacity, d->sector_size,
			(unsigned long)(d->capacity * d->sector_size >> 20), in->name);
}

/* Virtio storage on PCI is named (Tally drives only virtio-mmio); with no
 * virtio-mmio disk at all, the option that attaches one is given. */
static void report_pci(int nmmio)
{
	struct pci_virtio found[PCI_MAX];
	int n = pci_find_virtio(found, PCI_MAX);

	for (int i = 0; i < n; i++) {
		const char *kind = found[i].type == VIRTIO_ID_BLOCK ? "virtio-blk" :
				   found[i].type == VIRTIO_ID_SCSI ? "virtio-scsi" : NULL;

		if (kind)
			kprintf("disk: %s on PCI %02x:%02x.0 (1af4:%04x) not used: "
				"only virtio-mmio block devices are supported\n",
				kind, found[i].bus, found[i].dev, found[i].device_id);
	}
	if (!nmmio)
		kprintf("disk: none on virtio-mmio (attach one with %s)\n", MMIO_OPTION);
}

/* Try one disk; on success it becomes the root, else `why` says why not. */
static void try_mount(const struct vblk_info *in)
{
	char msg[FAT_ERR_MAX];
	struct fat_info info;

	if (!in->dev)
		ksnprintf(msg, sizeof(msg), "set-up failed: %s", in->why);
	else if (!in->dev->capacity)
		ksnprintf(msg, sizeof(msg), "empty disk (0 sectors)");
	else if (fat_mount(in->dev, &root, msg, sizeof(msg)) == 0) {
		root_dev = in->dev;
		fat_get_info(root, &info);
		kprintf("fat32: mounted \"%pE\" from %s", info.label, in->name);
		if (info.part_table != FAT_PT_NONE)
			kprintf(" %s partition %u (sector %lu)",
				info.part_table == FAT_PT_GPT ? "GPT" : "MBR", info.partition,
				(unsigned long)info.start_sector);
		kprintf(", %u clusters of %u bytes\n", info.clusters, info.cluster_bytes);
		return;
	}
	root = NULL;
	ksnprintf(why, sizeof(why), "%s: %s", in->name, msg);
	kprintf("fat32: not mounted: %s\n", why);
}

int disk_mount(void)
{
	int n = vblk_init();
	struct vblk_info in;

	for (int i = 0; i < n; i++)
		if (vblk_get_info(i, &in) == 0)
			report_disk(&in);
	report_pci(n);
	for (int i = 0; i < n; i++) {
		if (vblk_get_info(i, &in))
			continue;
		if (root)
			kprintf("fat32: not tried: %s (the root is mounted already)\n", in.name);
		else
			try_mount(&in);
	}
	return root ? 0 : -ENODEV;
}

struct fat_fs *disk_fs(const char **reason)
{
	if (!root && reason)
		*reason = why;
	return root;
}

struct blkdev *disk_dev(void)
{
	return root ? root_dev : NULL;
}
