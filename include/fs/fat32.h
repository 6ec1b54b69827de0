/* fat32.h - a read-only FAT32 reader over a block device.
 *
 * Follows Microsoft's "FAT: General Overview of On-Disk Format" (field
 * names BPB_BytsPerSec, BPB_SecPerClus, ... below are the spec's). Mount
 * validates the boot sector field by field and refuses anything that is not
 * FAT32 by the spec's rule (type by cluster count only), naming the field.
 * Long names (VFAT LFN) are decoded to UTF-8; 8.3 names are shown with the
 * Windows NT lower-case flags and code page 850 for bytes >= 0x80 (what
 * mtools uses). Lookup is case-insensitive for ASCII letters only; other
 * characters must match exactly. Paths use '/'; a path not starting with
 * '/' is relative to the volume's current directory (fat_chdir); "." and
 * ".." are resolved from the path walked, as Linux and Windows do, never
 * from the optional on-disk "." and ".." entries. Every FAT chain walk is
 * bounded by the cluster count and checked for loops. The volume is sector
 * 0 of the device or the first partition of an MBR or GPT table holding
 * one (fat32_part.c). Names and labels are returned as on disk: print them
 * through the terminal filter (lib/escape.h, %pE).
 *
 * Not a writer, not a VFS, not thread-safe (the caller serializes). Memory
 * comes only from kmalloc (the fs, its block cache, the path-walk stacks
 * and path buffers at mount; nothing per lookup or read except
 * fat_read_whole's buffer, fat_realpath's result, a walk stack growing
 * past 64 levels and a path buffer past 256 bytes). Paths have no length
 * limit but memory: the cwd and fat_realpath's result grow as a walk goes
 * deeper, and only a component is bounded (FAT_NAME_MAX, the spec's 255
 * UTF-16 units). Stack use per call is at most
 * about 3 KiB on riscv64 (struct fat_dirent is ~850 bytes).
 *
 * Errors are negative errno values; after a failure fat_last_error() says
 * what was wrong in words (the field, the cluster, the entry). */
#ifndef TALLY_FS_FAT32_H
#define TALLY_FS_FAT32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs/blkdev.h"

#define FAT_NAME_MAX 765   /* UTF-8 bytes of a 255-unit long name */
#define FAT_ERR_MAX  160   /* bytes of an error message, NUL included */
#define FAT_LABEL_MAX 36   /* UTF-8 bytes of an 11-byte label, NUL included */

/* Where the volume was found (struct fat_info.part_table). */
#define FAT_PT_NONE 0      /* sector 0 of the device is the boot sector */
#define FAT_PT_MBR  1      /* a primary entry of an MBR partition table */
#define FAT_PT_GPT  2      /* an entry of a GPT (behind a protective MBR) */

/* DIR_Attr bits */
#define FAT_ATTR_READ_ONLY 0x01
#define FAT_ATTR_HIDDEN    0x02
#define FAT_ATTR_SYSTEM    0x04
#define FAT_ATTR_VOLUME_ID 0x08
#define FAT_ATTR_DIRECTORY 0x10
#define FAT_ATTR_ARCHIVE   0x20

struct fat_fs;

/* A decoded FAT date/time. year 0 = the field was 0 (not set). */
struct fat_time {
	uint16_t year;
	uint8_t month, day, hour, min, sec;
	uint8_t centi;     /* hundredths (creation time only) */
};

struct fat_dirent {
	char name[FAT_NAME_MAX + 1];  /* UTF-8: the long name, else the 8.3 */
	char short_name[36];          /* 8.3 as stored ("NAME.EXT"), UTF-8 */
	uint8_t attr;                 /* FAT_ATTR_* */
	uint32_t size;                /* DIR_FileSize (0 for directories) */
	uint32_t first_cluster;       /* DIR_FstClusHI:LO; root: BPB_RootClus */
	struct fat_time ctime;        /* DIR_CrtDate/Time/TimeTenth */
	struct fat_time mtime;        /* DIR_WrtDate/Time */
	struct fat_time adate;        /* DIR_LstAccDate (date only) */
};

/* Position on a cluster chain, walked with a step bound and Brent's loop
 * check. Internal state; embedded so that nothing needs allocating. */
struct fat_chain {
	uint32_t clus;                /* current cluster */
	uint32_t idx;                 /* its index in the chain */
	uint32_t tortoise, power, lam;
};

/* A directory being read; the caller owns the memory (no allocation). */
struct fat_dir {
	struct fat_fs *fs;
	uint32_t first;               /* first cluster */
	struct fat_chain ch;          /* cluster being read */
	uint32_t off;                 /* byte offset in it */
	uint32_t index;               /* entries consumed */
	bool done, dots;
	uint8_t lfn_next, lfn_sum, lfn_count;
	uint16_t lfn[260];            /* UTF-16 units, 13 per LFN entry */
};

/* An open file; the caller owns the memory. */
struct fat_file {
	struct fat_fs *fs;
	uint32_t first, size;
	uint64_t pos;
	struct fat_chain ch;          /* ch.idx-th cluster of the file */
};

struct fat_stats {
	unsigned long lookups;        /* path components resolved */
	unsigned long entries;        /* directory entries decoded */
	unsigned long lfn_ignored;    /* orphaned / mismatched LFN entries */
	unsigned long opens, reads;
	unsigned long long bytes_read;
	unsigned long whole_reads;    /* fat_read_whole: one buffer */
	unsigned long streamed_reads; /* fat_read_whole: through the sink */
	unsigned long stream_stack;   /* ... with the 512-byte stack buffer */
	unsigned long errors;         /* calls that returned an error */
	unsigned long held_bytes;     /* kept for walk stacks and paths: grows
	                                 with the deepest walk, freed at unmount */
};

/* The volume's geometry as mounted (for `fsinfo`-style shell output). */
struct fat_info {
	uint32_t bytes_per_sector, sectors_per_cluster, cluster_bytes;
	uint32_t reserved_sectors, num_fats, fat_sectors, root_cluster;
	uint32_t clusters;            /* CountofClusters */
	uint64_t total_sectors;
	uint32_t serial;              /* BS_VolID */
	/* The label as Windows and util-linux's blkid (LABEL=) report it:
	 * the root directory's ATTR_VOLUME_ID entry, "" when it has none.
	 * The boot sector's copy, BS_VolLab, is only boot_label (blkid's
	 * LABEL_FATBOOT; "" without BS_BootSig 0x29 or when "NO NAME").
	 * UTF-8 (code page 850), trailing blanks cut, unfiltered. */
	char label[FAT_LABEL_MAX];
	char boot_label[FAT_LABEL_MAX];
	uint8_t part_table;           /* FAT_PT_* */
	uint32_t partition;           /* 1-based entry in that table; 0: none */
	uint64_t start_sector;        /* device sectors before the volume */
};

/* Mount the FAT32 volume on dev: sector 0's, or (when sector 0 is an MBR,
 * or a protective MBR before a GPT) the first partition in table order
 * that holds one; fat_get_info says where. Returns 0 and *out; -EINVAL
 * when dev is unusable or the volume is not valid FAT32 (a field out of
 * range, FAT12/FAT16 by cluster count, a total size beyond the device or
 * partition, arithmetic overflow; a protective MBR without "EFI PART" at
 * LBA 1, a GPT header that fails its HeaderCRC32 or puts its entry array
 * out of place, an entry array that fails PartitionEntryArrayCRC32): msg
 * (if not NULL) then names the field, prefixed with the partition when a
 * table was searched and no partition held a volume (the first one's
 * error is given); -EIO when a sector needed (0, the GPT's header or
 * entries, the root's FAT entry) cannot be read or the root chain is broken; -ENOMEM when the
 * fs or its cache cannot be allocated. Nothing is left allocated on
 * failure. */
int fat_mount(struct blkdev *dev, struct fat_fs **out, char *msg, size_t msglen);

/* Free the fs and its block cache. NULL is a no-op. */
void fat_unmount(struct fat_fs *fs);

/* The message of the last failed call on fs ("" when none). */
const char *fat_last_error(const struct fat_fs *fs);

/* Resolve path (absolute, or relative to the cwd) and decode its entry.
 * The root is reported as name "/", attr DIRECTORY. Returns 0;
 * -ENOENT when a component does not exist (or path is empty); -ENOTDIR
 * when a non-final component is a file; -ENAMETOOLONG for a component
 * over FAT_NAME_MAX bytes; -EIO / -ELOOP for a broken directory chain or
 * a device error (-EIO too when a directory reached by ".", ".." or the
 * path's end is not listed in its parent); -ENOMEM when a walk deeper
 * than any before cannot grow its stack. */
int fat_stat(struct fat_fs *fs, const char *path, struct fat_dirent *st);

/* Open the directory at path for fat_readdir(). Returns 0; fat_stat()'s
 * errors; -ENOTDIR when path is a file; -EIO when the entry's first
 * cluster is out of range. */
int fat_opendir(struct fat_fs *fs, const char *path, struct fat_dir *d);

/* Next entry of d, skipping deleted entries, volume labels, "." and "..".
 * Returns 1 and *ent; 0 at the end (the chain's end, checked first at each
 * cluster edge, or a DIR_Name[0] of 0x00: spec section 6); -EIO for a
 * device error, a bad or out-of-range FAT entry, or an entry in use past
 * the 65,536 a directory may have; -ELOOP for a loop in the chain. */
int fat_readdir(struct fat_dir *d, struct fat_dirent *ent);

/* Nothing to free; for symmetry. */
void fat_closedir(struct fat_dir *d);

/* The bytes of the directory whose first cluster is clus (0: the root):
 * its cluster chain's length times the cluster size (what Linux's vfat
 * reports as a directory's size). Returns 0 and *bytes; -EIO for a
 * first cluster out of range or a broken chain; -ELOOP for a loop. */
int fat_dir_bytes(struct fat_fs *fs, uint32_t clus, uint64_t *bytes);

/* Change the current directory. Returns 0; fat_stat()'s errors; -ENOTDIR
 * for a file; -ENOMEM when the new path (any length) cannot be stored.
 * On failure the current directory is unchanged. */
int fat_chdir(struct fat_fs *fs, const char *path);

/* The current directory as an absolute path with on-disk names (valid
 * until the next fat_chdir). */
const char *fat_getcwd(const struct fat_fs *fs);

/* Resolve path (absolute, or relative to the cwd) into *out, allocated
 * (kfree it): the absolute path of its entry with on-disk names, no ".",
 * ".." or repeated '/', of any length. Returns 0; fat_stat()'s errors;
 * -ENOMEM when the path cannot be built or copied (*out NULL); -EINVAL
 * for a NULL fs or out. */
int fat_realpath(struct fat_fs *fs, const char *path, char **out);

/* Open the file at path, checking its whole cluster chain. Returns 0;
 * fat_stat()'s errors; -EISDIR for a directory; -EIO when the first
 * cluster is out of range (0 or 1 with a non-zero size), the chain holds a
 * free, bad (0x0FFFFFF7) or out-of-range entry, or is shorter than the
 * size; -ELOOP when the chain loops. */
int fat_open(struct fat_fs *fs, const char *path, struct fat_file *f);

/* Read up to len bytes at the file position and advance it. Whole sectors
 * go straight to buf in one device request per run of contiguous clusters
 * (bcache_read_direct); partial sectors go through the cache. Returns the
 * bytes read (0 at end of file); -EIO / -ELOOP as fat_open(); -EINVAL for
 * NULL buf with len > 0. */
long fat_read(struct fat_file *f, void *buf, size_t len);

/* Set the position (may equal the size). Returns 0; -EINVAL past it. */
int fat_seek(struct fat_file *f, uint64_t pos);

/* fat_seek(pos) then fat_read(). */
long fat_pread(struct fat_file *f, uint64_t pos, void *buf, size_t len);

void fat_close(struct fat_file *f);

/* Receives a streamed file's bytes in order; non-zero (negative errno)
 * stops the read and is returned. */
typedef int (*fat_sink_fn)(void *ctx, const void *data, size_t len);

/* Read the whole file at path the fallible way: first try one buffer of
 * the file's size (kmem_try_alloc); if that is -ENOMEM and sink is set,
 * stream the file through a 4 KiB buffer (or, if even that cannot be had,
 * 512 bytes on the stack) into sink instead. Returns 0 with *buf (kfree
 * it; NULL for an empty file) and *len; 1 when streamed (*buf NULL, *len
 * bytes delivered); fat_open()'s and fat_read()'s errors; -ENOMEM when no
 * buffer and no sink; the sink's error. Counted in fat_stats. */
int fat_read_whole(struct fat_fs *fs, const char *path, void **buf,
		   size_t *len, fat_sink_fn sink, void *ctx);

void fat_get_info(const struct fat_fs *fs, struct fat_info *out);
void fat_get_stats(const struct fat_fs *fs, struct fat_stats *out);
/* The fs's block cache (for its stats; owned by fs). */
struct bcache *fat_bcache(const struct fat_fs *fs);

#endif
