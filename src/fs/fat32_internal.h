/* fat32_internal.h - what fat32.c, fat32_dir.c, fat32_name.c,
 * fat32_file.c and fat32_part.c share: the mounted volume (fields are
 * read with lib/le.h at the offsets fat32_layout.h names), FAT entry
 * access, the bounded chain walk and error messages. Not an interface
 * for anyone else (that is fs/fat32.h). */
#ifndef TALLY_FS_FAT32_INTERNAL_H
#define TALLY_FS_FAT32_INTERNAL_H

#include "fs/fat32.h"
#include "fs/bcache.h"
#include "fat32_layout.h"
#include "lib/le.h"

#define FAT_DIR_MAX   65536u        /* entries a directory may have */
#define FAT_BC_RESERVE 4u           /* cache buffers set aside at mount */
#define FAT_CLUS_MAX  (256u * 1024) /* bytes per cluster accepted */

/* The directories a path walk passes through below the root: how ".." is
 * resolved (from the path walked, as Linux and Windows do, never from the
 * optional on-disk ".." entry). clus[i] is the directory i + 1 levels
 * down; depth 0 is the root. Made at mount for FAT_WALK_INIT levels;
 * grows (kmalloc, doubling) when a walk goes deeper than any before, and
 * is kept for the next walk. */
#define FAT_WALK_INIT 64u
struct fat_walk {
	uint32_t *clus;
	size_t depth, cap;
};

/* An absolute path in step with a walk: the cwd, and the one fat_resolve
 * builds for fat_chdir and fat_realpath. No length limit: made at mount
 * for FAT_PATH_INIT bytes, it grows (kmalloc, doubling) and is kept.
 * buf is NUL-terminated; len excludes the NUL. */
#define FAT_PATH_INIT 256u
struct fat_path {
	char *buf;
	size_t len, cap;
};

struct fat_fs {
	struct blkdev *disk;   /* the device handed to fat_mount */
	struct blkdev vol;     /* the volume's sectors on it (vol_read) */
	struct blkdev *dev;    /* &vol: what everything below mount reads */
	uint64_t vol_start;    /* disk sectors before the volume */
	uint8_t part_table;    /* FAT_PT_* */
	uint32_t part_index;   /* 1-based entry of that table; 0: none */
	struct bcache *bc;
	uint32_t bps;          /* BPB_BytsPerSec */
	uint32_t spc;          /* BPB_SecPerClus */
	uint32_t clus_bytes;
	uint32_t rsvd;         /* BPB_RsvdSecCnt */
	uint32_t nfats;        /* BPB_NumFATs */
	uint32_t fat_sz;       /* BPB_FATSz32 */
	uint64_t fat_start;    /* first sector of the FAT in use */
	uint64_t data_start;   /* first sector of cluster 2 */
	uint64_t tot_sec;
	uint32_t nclusters;    /* CountofClusters; valid: 2..nclusters+1 */
	uint32_t root;         /* BPB_RootClus */
	uint32_t serial;
	char label[FAT_LABEL_MAX];
	char boot_label[FAT_LABEL_MAX];
	struct fat_path cwd;          /* the current directory */
	struct fat_walk cwd_walk;     /* the directories cwd passes through */
	struct fat_path path;         /* fat_resolve's, swapped in by chdir */
	struct fat_walk walk;         /* fat_resolve's, swapped in by chdir */
	char err[FAT_ERR_MAX];
	struct fat_stats st;
};

static inline bool fat_clus_valid(const struct fat_fs *fs, uint32_t c)
{
	return c >= 2 && c - 2 < fs->nclusters;
}

static inline uint64_t fat_clus_sector(const struct fat_fs *fs, uint32_t c)
{
	return fs->data_start + (uint64_t)(c - 2) * fs->spc;
}

#define FAT_NOVAL UINT64_MAX   /* fat_fail: no number to print */

/* Record an error on fs: "what N: why" (N omitted when val is FAT_NOVAL).
 * Returns err so callers can `return fat_fail(...)`. */
int fat_fail(struct fat_fs *fs, int err, const char *what, uint64_t val,
	     const char *why);
/* The same with N in hex ("what 0x1A: why"), for signatures, flags and
 * codes that the spec writes in hex. */
int fat_failx(struct fat_fs *fs, int err, const char *what, uint64_t val,
	      const char *why);

/* fat32.c: validate and set up the volume of count disk sectors at disk
 * sector start (fs->disk set): 0, or fat_mount's errors with fs->err
 * saying why; nothing is left allocated on failure. */
int fat_mount_volume(struct fat_fs *fs, uint64_t start, uint64_t count);
/* fat32_part.c: find the volume on fs->disk (sector 0, else the first
 * MBR or GPT partition holding one) and mount it with fat_mount_volume. */
int fat_find_volume(struct fat_fs *fs);

/* The FAT's (the table's) entry for cluster c into *val: the next
 * cluster of its chain, or a free, bad or end-of-chain mark (28 bits;
 * not to be confused with a directory entry's first cluster,
 * fat_dirent_first_cluster). Returns 0; -EIO on a device error or c out
 * of range; -ENOMEM when the block cache has no buffer for it. */
int fat_table_entry(struct fat_fs *fs, uint32_t c, uint32_t *val);

/* Start a walk at cluster first (must be valid). The walk is bounded and
 * loop-checked: Brent's cycle detection finds a loop within about twice
 * its length, and the step count is capped at the cluster count. */
void fat_chain_start(struct fat_chain *ch, uint32_t first);

/* Advance ch to the next cluster of its chain. Returns 0 (moved); 1 at
 * end of chain (ch unchanged); -EIO for a free, reserved, bad or
 * out-of-range entry or a device error; -ELOOP for a loop or more steps
 * than clusters; -ENOMEM as fat_table_entry. */
int fat_chain_next(struct fat_fs *fs, struct fat_chain *ch);

/* Copy bytes at byte offset off of cluster c (within one sector). */
int fat_clus_read(struct fat_fs *fs, uint32_t c, uint32_t off, void *dst,
		  uint32_t len);

/* fat32_name.c: names. */
/* The 11 bytes of a volume label (BS_VolLab or a DIR_Name) as UTF-8,
 * trailing blanks cut, code page 850 as for short names; out holds
 * FAT_LABEL_MAX bytes. */
void fat_label_name(const uint8_t *raw11, char *out);
/* UTF-16 units -> UTF-8 (unpaired surrogates become U+FFFD). Returns the
 * byte length, or -ENAMETOOLONG when it does not fit cap - 1. */
int fat_utf16_to_utf8(const uint16_t *u, unsigned n, char *out, size_t cap);
/* The 8.3 name of raw entry e as UTF-8 ("NAME.EXT"; 0x05 is 0xE5; bytes
 * >= 0x80 through code page 850); with nt_case, DIR_NTRes's lower-case
 * flags applied (what Windows and mtools display). out holds 36 bytes. */
void fat_short_name(const uint8_t *e, bool nt_case, char out[36]);
uint8_t fat_lfn_checksum(const uint8_t *short_name11);
/* Case-insensitive (ASCII) equality of a[0..alen) and NUL-terminated b. */
bool fat_name_eq(const char *a, size_t alen, const char *b);

/* fat32_dir.c: path resolution. Resolve path to *ent; with build_path,
 * also build the resulting absolute path in fs->path. Returns
 * fat_stat()'s errors, and -ENOMEM when fs->path cannot grow. */
int fat_resolve(struct fat_fs *fs, const char *path, struct fat_dirent *ent,
		bool build_path);
/* fat_resolve, then require a directory (dir) or a file (-ENOTDIR /
 * -EISDIR otherwise) and find its first cluster (fat_dirent_first_cluster). */
int fat_resolve_kind(struct fat_fs *fs, const char *path, bool dir,
		     struct fat_dirent *ent, uint32_t *clus, bool build_path);
/* The cluster a directory entry's contents start at (its DIR_FstClusHI:LO,
 * checked; 0 only for an empty file) into *clus. Returns 0; -EIO when an
 * entry that must have clusters points at 0, 1 or past the volume. */
int fat_dirent_first_cluster(struct fat_fs *fs, const struct fat_dirent *ent,
			     uint32_t *clus);
/* Open the directory whose first cluster is clus (0 = root). */
int fat_dir_open_clus(struct fat_fs *fs, uint32_t clus, struct fat_dir *d);
/* The root directory's volume label entry (DIR_Attr VOLUME_ID, not a
 * long-name part) as UTF-8 into out (FAT_LABEL_MAX bytes; "" when there
 * is none). 0, or the walk's errors. */
int fat_root_label(struct fat_fs *fs, char *out);
/* Allocate the walk stacks for FAT_WALK_INIT levels and the paths for
 * FAT_PATH_INIT bytes, the cwd "/" (mount): 0 or -ENOMEM. Free them
 * (unmount, a failed mount; safe on zeroed ones). */
int fat_walk_init(struct fat_fs *fs);
void fat_walk_free(struct fat_fs *fs);

#endif
