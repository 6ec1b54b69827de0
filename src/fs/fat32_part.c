/* fat32_part.c - where the FAT32 volume starts on a disk.
 *
 * Sector 0 is the volume's boot sector (a "superfloppy", what mkfs.fat
 * makes of a whole device), or a partition table: an MBR (the four
 * primary entries at offset 446, Linux's block/partitions/msdos.c rules)
 * or, behind a protective MBR (an entry of type 0xEE), a GPT (UEFI 2.x
 * section 5.3: header at LBA 1, its CRC32, 128-byte entries). As FatFs's
 * find_volume does, the first partition in table order whose first sector
 * mounts as FAT32 is the volume; the table's LBAs are device sectors.
 * When no partition holds one, the error of the first candidate is
 * reported. Not searched: logical partitions inside an extended one
 * (FatFs does not either) and the GPT's backup header. A table with no
 * candidate at all is taken for a boot sector, so that a damaged one is
 * refused with the field that is wrong. */
#include "fat32_internal.h"
#include "lib/printf.h"
#include "mm/kmalloc.h"

#include <string.h>

#define MBR_TABLE   446u
#define GPT_ENTRY   128u

/* Looks like FatFs's check_fs test of a FAT boot sector: a jump, the
 * signature and sane BPB_BytsPerSec, BPB_SecPerClus, BPB_RsvdSecCnt and
 * BPB_NumFATs. An MBR's code may start with a jump too, but not with
 * these fields. */
bool fat_looks_like_vbr(const uint8_t *b)
{
	uint32_t bps = le16(b + 11), spc = b[13];

	return (b[0] == 0xEB || b[0] == 0xE9) && b[510] == 0x55 &&
	       b[511] == 0xAA && bps >= 512 && bps <= 4096 &&
	       !(bps & (bps - 1)) && spc && !(spc & (spc - 1)) &&
	       le16(b + 14) != 0 && b[16] != 0;
}

/* An MBR as Linux's msdos.c takes one: the signature, and every primary
 * entry's boot indicator 0x00 or 0x80. */
static bool is_mbr(const uint8_t *b)
{
	if (b[510] != 0x55 || b[511] != 0xAA)
		return false;
	for (unsigned i = 0; i < 4; i++) {
		uint8_t boot = b[MBR_TABLE + 16 * i];

		if (boot != 0x00 && boot != 0x80)
			return false;
	}
	return true;
}

static bool has_pmbr(const uint8_t *b)
{
	for (unsigned i = 0; i < 4; i++)
		if (b[MBR_TABLE + 16 * i + 4] == 0xEE)
			return true;
	return false;
}

/* The candidates tried so far and the first one's failure. */
struct part_search {
	uint8_t table;
	unsigned tried;
	int first_err;
	uint32_t first_index;
	uint64_t first_start;
	char first_msg[FAT_ERR_MAX];
};

/* Try entry index (1-based) at [start, start + count): 0 when it is the
 * volume, -ENOMEM to stop, 1 to go on. */
static int try_part(struct fat_fs *fs, struct part_search *ps, uint32_t index,
		    uint64_t start, uint64_t count)
{
	uint64_t cap = fs->disk->capacity;
	int ret;

	if (start >= cap)
		ret = fat_fail(fs, -EINVAL, "partition start", start,
			       "beyond the device");
	else
		ret = fat_mount_volume(fs, start, count < cap - start ? count : cap - start);
	if (ret == 0) {
		fs->part_table = ps->table;
		fs->part_index = index;
		return 0;
	}
	if (ps->tried++ == 0) {
		ps->first_err = ret;
		ps->first_index = index;
		ps->first_start = start;
		memcpy(ps->first_msg, fs->err, sizeof(ps->first_msg));
	}
	return ret == -ENOMEM ? ret : 1;
}

/* The MBR's primary entries in order; extended ones (0x05, 0x0F, 0x85)
 * and empty ones are not volumes. */
static int search_mbr(struct fat_fs *fs, struct part_search *ps, const uint8_t *b)
{
	for (uint32_t i = 0; i < 4; i++) {
		const uint8_t *e = b + MBR_TABLE + 16 * i;
		uint8_t type = e[4];
		int ret;

		if (type == 0 || type == 0x05 || type == 0x0F || type == 0x85 ||
		    le32(e + 8) == 0 || le32(e + 12) == 0)
			continue;
		ret = try_part(fs, ps, i + 1, le32(e + 8), le32(e + 12));
		if (ret <= 0)
			return ret;
	}
	return 1;
}

/* CRC-32 (IEEE 802.3, reflected, as UEFI and zlib compute it). */
static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
	}
	return ~crc;
}

/* Check the GPT header in h (one device sector, LBA 1): signature,
 * HeaderSize, HeaderCRC32, MyLBA, SizeOfPartitionEntry 128, and the
 * entry array lying below FirstUsableLBA inside the device. */
static int gpt_header(struct fat_fs *fs, uint8_t *h, uint64_t *lba, uint32_t *n)
{
	uint32_t ss = fs->disk->sector_size, hsize = le32(h + 12), crc = le32(h + 16);
	uint64_t first_usable = le64(h + 40), secs;

	if (memcmp(h, "EFI PART", 8))
		return fat_fail(fs, -EINVAL, "GPT header", FAT_NOVAL,
				"protective MBR but no \"EFI PART\" at LBA 1");
	memset(h + 16, 0, 4);
	if (hsize < 92 || hsize > ss || crc32(h, hsize) != crc)
		return fat_failx(fs, -EINVAL, "GPT HeaderCRC32", crc,
				 "does not match the header");
	*lba = le64(h + 72);
	*n = le32(h + 80);
	secs = ((uint64_t)*n * GPT_ENTRY + ss - 1) / ss;
	if (le64(h + 24) != 1 || le32(h + 84) != GPT_ENTRY || *lba < 2 ||
	    first_usable > fs->disk->capacity || *lba + secs > first_usable)
		return fat_fail(fs, -EINVAL, "GPT header", FAT_NOVAL,
				"entry array not where UEFI puts it (or not 128-byte entries)");
	return 0;
}

/* The GPT's used entries (a non-zero PartitionTypeGUID) in order; b is
 * a sector buffer. */
static int search_gpt(struct fat_fs *fs, struct part_search *ps, uint8_t *b)
{
	uint32_t ss = fs->disk->sector_size, n = 0, per = ss / GPT_ENTRY;
	uint64_t lba = 0, loaded = 0;
	static const uint8_t zero[16];
	int ret;

	if (blk_read(fs->disk, 1, 1, b))
		return fat_fail(fs, -EIO, "GPT header (LBA 1)", FAT_NOVAL, "read error");
	ret = gpt_header(fs, b, &lba, &n);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = b + (i % per) * GPT_ENTRY;

		if (loaded != lba + i / per) {
			loaded = lba + i / per;
			if (blk_read(fs->disk, loaded, 1, b))
				return fat_fail(fs, -EIO, "GPT entries at LBA", loaded,
						"read error");
		}
		if (!memcmp(e, zero, 16) || le64(e + 40) < le64(e + 32))
			continue;
		ret = try_part(fs, ps, i + 1, le64(e + 32), le64(e + 40) - le64(e + 32) + 1);
		if (ret <= 0)
			return ret;
	}
	return 1;
}

/* After a search: the volume, or the first candidate's failure. */
static int search_result(struct fat_fs *fs, struct part_search *ps, int ret)
{
	if (ret <= 0)
		return ret;
	if (!ps->tried)
		return fat_mount_volume(fs, 0, fs->disk->capacity);
	ksnprintf(fs->err, sizeof(fs->err), "%s partition %u (sector %llu): %s",
		  ps->table == FAT_PT_GPT ? "GPT" : "MBR", ps->first_index,
		  (unsigned long long)ps->first_start, ps->first_msg);
	return ps->first_err;
}

int fat_find_volume(struct fat_fs *fs)
{
	struct part_search ps = { .table = FAT_PT_MBR };
	uint8_t *b;
	int ret;

	if (kmem_try_alloc(fs->disk->sector_size, 0, 0, (void **)&b))
		return fat_fail(fs, -ENOMEM, "sector 0", FAT_NOVAL, "no memory");
	ret = blk_read(fs->disk, 0, 1, b);
	if (ret) {
		ret = fat_fail(fs, -EIO, "boot sector", FAT_NOVAL, "read error");
	} else if (fat_looks_like_vbr(b) || !is_mbr(b)) {
		ret = fat_mount_volume(fs, 0, fs->disk->capacity);
	} else if (has_pmbr(b)) {
		ps.table = FAT_PT_GPT;
		ret = search_result(fs, &ps, search_gpt(fs, &ps, b));
	} else {
		ret = search_result(fs, &ps, search_mbr(fs, &ps, b));
	}
	kfree(b);
	return ret;
}
