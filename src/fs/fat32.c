/* fat32.c - FAT32 mount, FAT entries and chain walks (fs/fat32.h).
 *
 * Mount reads the volume's first sector and checks the BPB field by field
 * against Microsoft's FAT specification ("FAT: General Overview of
 * On-Disk Format", section 3 "Boot Sector and BPB" and section 3.5 "FAT
 * Type Determination"), with every sum done in 64 bits and compared
 * against 32-bit limits. Then it makes the block cache (block = one FAT
 * sector), checks the root directory's first FAT entry and reads the
 * label. Where the volume starts (sector 0 or a partition) is
 * fat32_part.c's; directories are in fat32_dir.c, names in fat32_name.c,
 * file reads in fat32_file.c. Not a writer: FSInfo, the second FAT and
 * the dirty bits are never used. */
#include "fat32_internal.h"
#include "lib/printf.h"
#include "mm/kmalloc.h"

#include <string.h>


/* ---- messages ---------------------------------------------------------- */

static int fail_fmt(struct fat_fs *fs, int err, const char *fmt,
		    const char *what, uint64_t val, const char *why)
{
	if (val != FAT_NOVAL)
		ksnprintf(fs->err, sizeof(fs->err), fmt, what,
			  (unsigned long long)val, why);
	else
		ksnprintf(fs->err, sizeof(fs->err), "%s: %s", what, why);
	fs->st.errors++;
	return err;
}

int fat_fail(struct fat_fs *fs, int err, const char *what, uint64_t val,
	     const char *why)
{
	return fail_fmt(fs, err, "%s %llu: %s", what, val, why);
}

int fat_failx(struct fat_fs *fs, int err, const char *what, uint64_t val,
	      const char *why)
{
	return fail_fmt(fs, err, "%s 0x%llX: %s", what, val, why);
}

const char *fat_last_error(const struct fat_fs *fs)
{
	return fs ? fs->err : "no filesystem";
}

/* ---- boot sector ------------------------------------------------------- */

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Fields that need nothing else: section 3.1 of the spec. */
static int bpb_check_fields(struct fat_fs *fs, const uint8_t *b)
{
	uint32_t bps = le16(b + BPB_BytsPerSec), spc = b[BPB_SecPerClus];

	if (b[BS_55AA] != 0x55 || b[BS_55AA + 1] != 0xAA)
		return fat_failx(fs, -EINVAL, "boot sector signature (offset 510)",
				 le16(b + BS_55AA), "not 0xAA55");
	if (b[BS_jmpBoot] != 0xEB && b[BS_jmpBoot] != 0xE9)
		return fat_failx(fs, -EINVAL, "BS_jmpBoot[0]", b[BS_jmpBoot],
				 "not a jump (0xEB or 0xE9)");
	if (bps < 512 || bps > 4096 || !pow2(bps))
		return fat_fail(fs, -EINVAL, "BPB_BytsPerSec", bps,
				"not 512, 1024, 2048 or 4096");
	if (bps < fs->dev->sector_size)
		return fat_fail(fs, -EINVAL, "BPB_BytsPerSec", bps,
				"smaller than the device's sector size");
	if (!pow2(spc))
		return fat_fail(fs, -EINVAL, "BPB_SecPerClus", spc,
				"not a power of two (1..128)");
	if (bps * spc > FAT_CLUS_MAX)   /* Windows and FatFs: 256 KiB with 4 KiB sectors */
		return fat_fail(fs, -EINVAL, "BPB_SecPerClus", spc,
				"clusters above 256 KiB");
	if (le16(b + BPB_RsvdSecCnt) == 0)
		return fat_fail(fs, -EINVAL, "BPB_RsvdSecCnt", 0, "must not be 0");
	if (b[BPB_NumFATs] == 0)
		return fat_fail(fs, -EINVAL, "BPB_NumFATs", 0, "must not be 0");
	if (b[BPB_Media] != 0xF0 && b[BPB_Media] < 0xF8)
		return fat_failx(fs, -EINVAL, "BPB_Media", b[BPB_Media],
				 "not 0xF0 or 0xF8..0xFF");
	fs->bps = bps;
	fs->spc = spc;
	fs->clus_bytes = bps * spc;
	fs->rsvd = le16(b + BPB_RsvdSecCnt);
	fs->nfats = b[BPB_NumFATs];
	return 0;
}

/* Region sizes and the FAT type by cluster count: spec section 3.5. */
static int bpb_check_layout(struct fat_fs *fs, const uint8_t *b)
{
	uint32_t root_ents = le16(b + BPB_RootEntCnt);
	uint64_t fatsz = le16(b + BPB_FATSz16) ? le16(b + BPB_FATSz16)
					       : le32(b + BPB_FATSz32);
	uint64_t tot = le16(b + BPB_TotSec16) ? le16(b + BPB_TotSec16)
					      : le32(b + BPB_TotSec32);
	uint64_t root_secs = ((uint64_t)root_ents * FAT_DIRENT_SIZE + fs->bps - 1) /
			     fs->bps;
	uint64_t meta, count;

	if (fatsz == 0)
		return fat_fail(fs, -EINVAL, "BPB_FATSz32", 0, "must not be 0");
	if (tot == 0)
		return fat_fail(fs, -EINVAL, "BPB_TotSec32", 0, "must not be 0");
	if (fatsz * fs->nfats > UINT32_MAX)
		return fat_fail(fs, -EINVAL, "BPB_FATSz32", fatsz,
				"times BPB_NumFATs overflows 32 bits");
	meta = fs->rsvd + fatsz * fs->nfats + root_secs;
	if (meta >= tot)
		return fat_fail(fs, -EINVAL, "BPB_TotSec32", tot,
				"no room for data after reserved sectors and FATs");
	count = (tot - meta) / fs->spc;
	if (count < 4085)
		return fat_fail(fs, -EINVAL, "cluster count", count,
				"FAT12 (< 4085 clusters), not FAT32");
	if (count < 65525)
		return fat_fail(fs, -EINVAL, "cluster count", count,
				"FAT16 (< 65525 clusters), not FAT32");
	if (count > 0x0FFFFFF5)
		return fat_failx(fs, -EINVAL, "cluster count", count,
				 "above FAT32's 0x0FFFFFF5");
	fs->fat_sz = (uint32_t)fatsz;
	fs->tot_sec = tot;
	fs->nclusters = (uint32_t)count;
	fs->data_start = meta;
	return 0;
}

/* The FAT32-only fields (spec section 3.3) and the volume's fit. */
static int bpb_check_fat32(struct fat_fs *fs, const uint8_t *b)
{
	uint32_t ext = le16(b + BPB_ExtFlags), root = le32(b + BPB_RootClus);
	uint32_t active = 0;
	uint64_t dev_secs = fs->tot_sec * (fs->bps / fs->dev->sector_size);

	if (le16(b + BPB_RootEntCnt) != 0)
		return fat_fail(fs, -EINVAL, "BPB_RootEntCnt", le16(b + BPB_RootEntCnt),
				"must be 0 on FAT32");
	if (le16(b + BPB_FATSz16) != 0)
		return fat_fail(fs, -EINVAL, "BPB_FATSz16", le16(b + BPB_FATSz16),
				"must be 0 on FAT32");
	if (le16(b + BPB_FSVer) != 0)
		return fat_failx(fs, -EINVAL, "BPB_FSVer", le16(b + BPB_FSVer),
				 "unknown version (only 0x0000)");
	if (ext & BPB_EXTFLAGS_NOMIRROR) {
		active = ext & BPB_EXTFLAGS_ACTIVE;
		if (active >= fs->nfats)
			return fat_failx(fs, -EINVAL, "BPB_ExtFlags", ext,
					 "active FAT beyond BPB_NumFATs");
	}
	if ((uint64_t)fs->fat_sz * fs->bps / 4 < (uint64_t)fs->nclusters + 2)
		return fat_fail(fs, -EINVAL, "BPB_FATSz32", fs->fat_sz,
				"too small for the cluster count");
	if (dev_secs > fs->dev->capacity)
		return fat_fail(fs, -EINVAL, "BPB_TotSec32", fs->tot_sec,
				"beyond the device (truncated volume)");
	if (!fat_clus_valid(fs, root))
		return fat_fail(fs, -EINVAL, "BPB_RootClus", root,
				"outside the volume's clusters");
	fs->root = root;
	fs->fat_start = fs->rsvd + (uint64_t)active * fs->fat_sz;
	return 0;
}

/* Serial and boot-sector label as util-linux's blkid reads them on FAT32
 * (libblkid/src/superblocks/vfat.c, probe_vfat): BS_VolID whatever
 * BS_BootSig says; BS_VolLab only with BS_BootSig 0x29 and when it is not
 * "NO NAME    " (blkid's LABEL_FATBOOT). The label the volume is known by
 * is the root directory's (mount_label). */
static void bpb_label(struct fat_fs *fs, const uint8_t *b)
{
	fs->serial = le32(b + BS_VolID);
	fs->boot_label[0] = '\0';
	if (b[BS_BootSig] == BS_BOOTSIG_EXT &&
	    memcmp(b + BS_VolLab, "NO NAME    ", FAT_NAME11_LEN))
		fat_label_name(b + BS_VolLab, fs->boot_label);
}

/* Read sector 0 and validate it into fs. */
static int mount_bpb(struct fat_fs *fs)
{
	struct blkdev *dev = fs->dev;
	uint8_t *b;
	int ret;

	ret = kmem_try_alloc(dev->sector_size, 0, 0, (void **)&b);
	if (ret)
		return fat_fail(fs, -ENOMEM, "boot sector", FAT_NOVAL, "no memory");
	ret = blk_read(dev, 0, 1, b);
	if (ret)
		ret = fat_fail(fs, -EIO, "boot sector", FAT_NOVAL, "read error");
	if (!ret)
		ret = bpb_check_fields(fs, b);
	if (!ret)
		ret = bpb_check_layout(fs, b);
	if (!ret)
		ret = bpb_check_fat32(fs, b);
	if (!ret)
		bpb_label(fs, b);
	kfree(b);
	return ret;
}

static bool dev_usable(const struct blkdev *dev)
{
	return dev && dev->read && dev->capacity > 0 &&
	       dev->sector_size >= 512 && dev->sector_size <= 4096 &&
	       pow2(dev->sector_size);
}

/* The root must start a readable chain. */
static int mount_root(struct fat_fs *fs)
{
	uint32_t v;
	int ret = fat_table_entry(fs, fs->root, &v);

	if (ret)
		return ret;
	if (v < 2 || v == FAT_BAD || (v < FAT_EOC_MIN && !fat_clus_valid(fs, v)))
		return fat_fail(fs, -EIO, "BPB_RootClus", fs->root,
				"its FAT entry is free, bad or out of range");
	return 0;
}

/* The volume's sector lba is the disk's vol_start + lba. */
static int vol_read(struct blkdev *vol, uint64_t lba, uint32_t count, void *buf)
{
	struct fat_fs *fs = vol->priv;

	return blk_read(fs->disk, fs->vol_start + lba, count, buf);
}

int fat_mount_volume(struct fat_fs *fs, uint64_t start, uint64_t count)
{
	int ret;

	fs->vol = (struct blkdev){ .name = fs->disk->name, .read = vol_read,
				   .sector_size = fs->disk->sector_size,
				   .capacity = count, .priv = fs };
	fs->dev = &fs->vol;
	fs->vol_start = start;
	ret = mount_bpb(fs);
	if (!ret) {
		ret = bcache_create(fs->dev, fs->bps, FAT_BC_RESERVE, &fs->bc);
		if (ret)
			fat_fail(fs, ret, "block cache", FAT_NOVAL, "cannot be created");
	}
	if (!ret)
		ret = mount_root(fs);
	if (!ret)   /* bpb_label says why the root's; its errors show in ls */
		ret = fat_root_label(fs, fs->label) == -ENOMEM ? -ENOMEM : 0;
	if (ret) {
		bcache_destroy(fs->bc);
		fs->bc = NULL;
	}
	return ret;
}

/* Copy a mount message to the caller's buffer, if there is one. */
static void mount_msg(char *msg, size_t msglen, const char *s)
{
	if (msg && msglen)
		ksnprintf(msg, msglen, "%s", s);
}

int fat_mount(struct blkdev *dev, struct fat_fs **out, char *msg, size_t msglen)
{
	struct fat_fs *fs;
	int ret;

	mount_msg(msg, msglen, "");
	if (!out || !dev_usable(dev)) {
		mount_msg(msg, msglen, "device: missing, or sector size not 512..4096");
		return -EINVAL;
	}
	if (kmem_try_alloc(sizeof(*fs), 0, GFP_ZERO, (void **)&fs)) {
		mount_msg(msg, msglen, "no memory for the filesystem");
		return -ENOMEM;
	}
	fs->disk = dev;
	ret = fat_walk_init(fs);
	if (!ret)
		ret = fat_find_volume(fs);
	if (ret) {
		mount_msg(msg, msglen, fs->err);
		fat_walk_free(fs);
		kfree(fs);
		return ret;
	}
	*out = fs;
	return 0;
}

void fat_unmount(struct fat_fs *fs)
{
	if (!fs)
		return;
	bcache_destroy(fs->bc);
	fat_walk_free(fs);
	kfree(fs);
}

/* ---- FAT entries and chains ------------------------------------------ */

int fat_table_entry(struct fat_fs *fs, uint32_t c, uint32_t *val)
{
	uint64_t off = (uint64_t)c * FAT32_ENTRY_SIZE;
	uint8_t raw[FAT32_ENTRY_SIZE];
	int ret;

	if (!fat_clus_valid(fs, c))
		return fat_fail(fs, -EIO, "cluster", c, "outside the volume");
	ret = bcache_read(fs->bc, fs->fat_start + off / fs->bps,
			  (uint32_t)(off % fs->bps), FAT32_ENTRY_SIZE, raw);
	if (ret)
		return fat_fail(fs, ret == -ENOMEM ? -ENOMEM : -EIO,
				"FAT entry of cluster", c, "read error");
	*val = le32(raw) & FAT_MASK;
	return 0;
}

void fat_chain_start(struct fat_chain *ch, uint32_t first)
{
	ch->clus = first;
	ch->idx = 0;
	ch->tortoise = first;
	ch->power = 1;
	ch->lam = 0;
}

int fat_chain_next(struct fat_fs *fs, struct fat_chain *ch)
{
	uint32_t next;
	int ret = fat_table_entry(fs, ch->clus, &next);

	if (ret)
		return ret;
	if (next >= FAT_EOC_MIN)
		return 1;
	if (next == FAT_BAD)
		return fat_fail(fs, -EIO, "cluster", ch->clus,
				"chain reaches a bad cluster (0x0FFFFFF7)");
	if (next < 2)
		return fat_fail(fs, -EIO, "cluster", ch->clus,
				"chain continues into a free or reserved entry");
	if (!fat_clus_valid(fs, next))
		return fat_fail(fs, -EIO, "cluster", ch->clus,
				"chain runs past the end of the volume");
	if (next == ch->tortoise || ch->idx + 1 >= fs->nclusters)
		return fat_fail(fs, -ELOOP, "cluster", next,
				"loop in the cluster chain");
	ch->clus = next;
	ch->idx++;
	if (++ch->lam == ch->power) {   /* Brent: move the tortoise */
		ch->tortoise = next;
		ch->power <<= 1;
		ch->lam = 0;
	}
	return 0;
}

int fat_clus_read(struct fat_fs *fs, uint32_t c, uint32_t off, void *dst,
		  uint32_t len)
{
	uint64_t sec = fat_clus_sector(fs, c) + off / fs->bps;
	int ret = bcache_read(fs->bc, sec, off % fs->bps, len, dst);

	if (ret)
		return fat_fail(fs, ret == -ENOMEM ? -ENOMEM : -EIO, "cluster", c,
				"read error");
	return 0;
}

void fat_get_info(const struct fat_fs *fs, struct fat_info *out)
{
	memset(out, 0, sizeof(*out));
	out->bytes_per_sector = fs->bps;
	out->sectors_per_cluster = fs->spc;
	out->cluster_bytes = fs->clus_bytes;
	out->reserved_sectors = fs->rsvd;
	out->num_fats = fs->nfats;
	out->fat_sectors = fs->fat_sz;
	out->root_cluster = fs->root;
	out->clusters = fs->nclusters;
	out->total_sectors = fs->tot_sec;
	out->serial = fs->serial;
	memcpy(out->label, fs->label, sizeof(out->label));
	memcpy(out->boot_label, fs->boot_label, sizeof(out->boot_label));
	out->part_table = fs->part_table;
	out->partition = fs->part_index;
	out->start_sector = fs->vol_start;
}

void fat_get_stats(const struct fat_fs *fs, struct fat_stats *out)
{
	*out = fs->st;
	out->held_bytes = (unsigned long)((fs->walk.cap + fs->cwd_walk.cap) *
					  sizeof(uint32_t) + fs->path.cap + fs->cwd.cap);
}

struct bcache *fat_bcache(const struct fat_fs *fs)
{
	return fs->bc;
}
