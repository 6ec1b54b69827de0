/* fat32_part.c - where the FAT32 volume starts on a disk.
 *
 * Sector 0 is the volume's boot sector (a "superfloppy", what mkfs.fat
 * makes of a whole device), or a partition table: an MBR (the four
 * primary entries at offset 446, Linux's block/partitions/msdos.c rules)
 * or, behind a protective MBR (an entry of type 0xEE), a GPT (UEFI 2.x
 * section 5.3: header at LBA 1, its CRC32, 128-byte entries and their
 * array's CRC32; field offsets in fat32_layout.h). As FatFs's
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

/* True when sector b (sector 0 of something) looks like a FAT boot
 * sector rather than a partition table, by FatFs's check_fs test (what
 * Linux's msdos.c tests too): a jump, the signature and sane
 * BPB_BytsPerSec, BPB_SecPerClus, BPB_RsvdSecCnt and BPB_NumFATs. An
 * MBR's code may start with a jump too, but not with these fields. */
static bool looks_like_vbr(const uint8_t *b)
{
	uint32_t bps = le16(b + BPB_BytsPerSec), spc = b[BPB_SecPerClus];

	return (b[BS_jmpBoot] == 0xEB || b[BS_jmpBoot] == 0xE9) &&
	       b[BS_55AA] == 0x55 && b[BS_55AA + 1] == 0xAA &&
	       bps >= 512 && bps <= 4096 &&
	       !(bps & (bps - 1)) && spc && !(spc & (spc - 1)) &&
	       le16(b + BPB_RsvdSecCnt) != 0 && b[BPB_NumFATs] != 0;
}

/* The MBR's partition record i (0..3). */
static const uint8_t *mbr_record(const uint8_t *b, unsigned i)
{
	return b + MBR_PartitionRecord + MBR_RECORD_SIZE * i;
}

/* An MBR as Linux's msdos.c takes one: the signature, and every primary
 * entry's boot indicator 0x00 or 0x80. */
static bool is_mbr(const uint8_t *b)
{
	if (b[MBR_Signature] != 0x55 || b[MBR_Signature + 1] != 0xAA)
		return false;
	for (unsigned i = 0; i < MBR_RECORDS; i++) {
		uint8_t boot = mbr_record(b, i)[PR_BootIndicator];

		if (boot != 0x00 && boot != 0x80)
			return false;
	}
	return true;
}

static bool has_pmbr(const uint8_t *b)
{
	for (unsigned i = 0; i < MBR_RECORDS; i++)
		if (mbr_record(b, i)[PR_OSType] == PR_TYPE_GPT_PROTECTIVE)
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
	for (uint32_t i = 0; i < MBR_RECORDS; i++) {
		const uint8_t *e = mbr_record(b, i);
		uint8_t type = e[PR_OSType];
		int ret;

		if (type == PR_TYPE_EMPTY || type == PR_TYPE_EXTENDED ||
		    type == PR_TYPE_EXTENDED_LBA || type == PR_TYPE_EXTENDED_LINUX ||
		    le32(e + PR_StartingLBA) == 0 || le32(e + PR_SizeInLBA) == 0)
			continue;
		ret = try_part(fs, ps, i + 1, le32(e + PR_StartingLBA),
			       le32(e + PR_SizeInLBA));
		if (ret <= 0)
			return ret;
	}
	return 1;
}

/* CRC-32 (IEEE 802.3, reflected, as UEFI and zlib compute it) of n more
 * bytes at p: start with crc 0xFFFFFFFF, take the complement at the end. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
	}
	return crc;
}

/* What the GPT header says about its entry array. */
struct gpt_array {
	uint64_t lba;                 /* PartitionEntryLBA */
	uint32_t n;                   /* NumberOfPartitionEntries */
	uint32_t crc;                 /* PartitionEntryArrayCRC32 */
};

/* Check the GPT header in h (one device sector, LBA 1): signature,
 * HeaderSize, HeaderCRC32, MyLBA, SizeOfPartitionEntry 128, and the
 * entry array lying from LBA 2 up to FirstUsableLBA inside the device
 * (compared without overflow: a PartitionEntryLBA near 2^64 is a bad
 * header, not a read error). */
static int gpt_header(struct fat_fs *fs, uint8_t *h, struct gpt_array *a)
{
	uint32_t ss = fs->disk->sector_size, hsize = le32(h + GPTH_HeaderSize);
	uint32_t crc = le32(h + GPTH_HeaderCRC32);
	uint64_t first_usable = le64(h + GPTH_FirstUsableLBA), secs;

	if (memcmp(h + GPTH_Signature, "EFI PART", 8))
		return fat_fail(fs, -EINVAL, "GPT header", FAT_NOVAL,
				"protective MBR but no \"EFI PART\" at LBA 1");
	memset(h + GPTH_HeaderCRC32, 0, 4);
	if (hsize < GPTH_SIZE_MIN || hsize > ss ||
	    ~crc32_update(0xFFFFFFFFu, h, hsize) != crc)
		return fat_failx(fs, -EINVAL, "GPT HeaderCRC32", crc,
				 "does not match the header");
	a->lba = le64(h + GPTH_PartitionEntryLBA);
	a->n = le32(h + GPTH_NumberOfPartitionEntries);
	a->crc = le32(h + GPTH_PartitionEntryArrayCRC32);
	secs = ((uint64_t)a->n * GPTE_SIZE + ss - 1) / ss;
	if (le64(h + GPTH_MyLBA) != 1 ||
	    le32(h + GPTH_SizeOfPartitionEntry) != GPTE_SIZE || a->lba < 2 ||
	    first_usable > fs->disk->capacity || a->lba > first_usable ||
	    secs > first_usable - a->lba)
		return fat_fail(fs, -EINVAL, "GPT header", FAT_NOVAL,
				"entry array not where UEFI puts it (or not 128-byte entries)");
	return 0;
}

/* The entry array against PartitionEntryArrayCRC32 (UEFI 2.x 5.3.2: over
 * NumberOfPartitionEntries * SizeOfPartitionEntry bytes), read a sector
 * at a time into b. A mismatch refuses the table, as Linux's efi.c does
 * (it would then try the backup GPT, which Tally does not search). */
static int gpt_check_array(struct fat_fs *fs, const struct gpt_array *a, uint8_t *b)
{
	uint32_t ss = fs->disk->sector_size, crc = 0xFFFFFFFFu;
	uint64_t left = (uint64_t)a->n * GPTE_SIZE;

	for (uint64_t lba = a->lba; left; lba++) {
		uint32_t k = left < ss ? (uint32_t)left : ss;

		if (blk_read(fs->disk, lba, 1, b))
			return fat_fail(fs, -EIO, "GPT entries at LBA", lba, "read error");
		crc = crc32_update(crc, b, k);
		left -= k;
	}
	if (~crc != a->crc)
		return fat_failx(fs, -EINVAL, "GPT PartitionEntryArrayCRC32", a->crc,
				 "does not match the entries");
	return 0;
}

/* The GPT's used entries (a non-zero PartitionTypeGUID) in order, once
 * the header and the array check out; b is a sector buffer. */
static int search_gpt(struct fat_fs *fs, struct part_search *ps, uint8_t *b)
{
	uint32_t per = fs->disk->sector_size / GPTE_SIZE;
	struct gpt_array a = { 0 };
	uint64_t loaded = 0;
	static const uint8_t zero[16];
	int ret;

	if (blk_read(fs->disk, 1, 1, b))
		return fat_fail(fs, -EIO, "GPT header (LBA 1)", FAT_NOVAL, "read error");
	ret = gpt_header(fs, b, &a);
	if (!ret)
		ret = gpt_check_array(fs, &a, b);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < a.n; i++) {
		const uint8_t *e = b + (i % per) * GPTE_SIZE;

		if (loaded != a.lba + i / per) {
			loaded = a.lba + i / per;
			if (blk_read(fs->disk, loaded, 1, b))
				return fat_fail(fs, -EIO, "GPT entries at LBA", loaded,
						"read error");
		}
		if (!memcmp(e + GPTE_PartitionTypeGUID, zero, 16) ||
		    le64(e + GPTE_EndingLBA) < le64(e + GPTE_StartingLBA))
			continue;
		ret = try_part(fs, ps, i + 1, le64(e + GPTE_StartingLBA),
			       le64(e + GPTE_EndingLBA) - le64(e + GPTE_StartingLBA) + 1);
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
	} else if (looks_like_vbr(b) || !is_mbr(b)) {
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
