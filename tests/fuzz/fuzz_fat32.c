/* fuzz_fat32.c - libFuzzer harness: mount, walk and read a FAT32 volume.
 *
 * The input describes a sparse disk, so that a few KiB can stand for a
 * valid FAT32 volume (which is at least ~33 MiB): it is a sequence of
 * records, each a 4-byte little-endian sector number followed by that
 * 512-byte sector (a short last record is zero-padded; a later record for
 * the same sector wins). Every sector no record names reads as zeros, and
 * the device claims 2^32 sectors, so any BPB_TotSec32 fits. Seeds come
 * from real mkfs.fat/mtools images (tests/fuzz/mkcorpus.py keeps their
 * non-zero sectors).
 *
 * Per input: mount; walk every directory recursively (depth, entry and
 * byte budgets keep each run short), stat and read every file, try
 * fat_read_whole on small ones, chdir into directories; unmount. The mm
 * arena is set up once; a run that leaves kmalloc'd bytes behind aborts
 * (a leak is a bug like any crash). Not a test of the bytes read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/blkdev.h"
#include "fs/fat32.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "../../src/host/mm_host.h"

#define REC        516u
#define ARENA      (16u << 20)
#define MAX_DEPTH  6
#define MAX_ENTRIES 400        /* per run */
#define MAX_FILE_BYTES (64u << 10)

struct fuzz_dev {
	const uint8_t *data;
	size_t size;
	unsigned long budget;      /* sectors a run may read */
};

static int fz_read(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf)
{
	struct fuzz_dev *fd = dev->priv;
	uint8_t *out = buf;

	if (count > fd->budget)
		return -EIO;          /* keeps a run short: reads fail, never hang */
	fd->budget -= count;
	memset(buf, 0, (size_t)count * 512);
	for (size_t r = 0; r < fd->size; r += REC) {
		const uint8_t *p = fd->data + r;
		uint64_t s;
		size_t n;

		if (fd->size - r <= 4)
			break;
		s = p[0] | p[1] << 8 | p[2] << 16 | (uint64_t)p[3] << 24;
		n = fd->size - r - 4 < 512 ? fd->size - r - 4 : 512;
		if (s < lba || s >= lba + count)
			continue;
		memset(out + (s - lba) * 512, 0, 512);
		memcpy(out + (s - lba) * 512, p + 4, n);
	}
	return 0;
}

struct walk {
	struct fat_fs *fs;
	int entries;
	char path[1100];
	uint8_t buf[4096];
};

static int sink(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

static void read_file(struct walk *w, const struct fat_dirent *e)
{
	struct fat_file f;
	size_t total = 0, len;
	void *whole;
	long n;

	if (fat_open(w->fs, w->path, &f) != 0)
		return;
	while (total < MAX_FILE_BYTES && (n = fat_read(&f, w->buf, sizeof(w->buf))) > 0)
		total += (size_t)n;
	if (e->size > 1)
		fat_pread(&f, e->size / 2, w->buf, 700);
	fat_close(&f);
	if (e->size <= MAX_FILE_BYTES &&
	    fat_read_whole(w->fs, w->path, &whole, &len, sink, NULL) == 0)
		kfree(whole);
}

static void walk_dir(struct walk *w, int depth)
{
	struct fat_dir d;
	struct fat_dirent e;
	size_t base = strlen(w->path);

	if (depth > MAX_DEPTH || fat_opendir(w->fs, *w->path ? w->path : "/", &d) != 0)
		return;
	while (w->entries < MAX_ENTRIES && fat_readdir(&d, &e) == 1) {
		size_t n = strlen(e.name);

		w->entries++;
		if (base + 1 + n + 1 > sizeof(w->path) || strchr(e.name, '/'))
			continue;
		w->path[base] = '/';
		memcpy(w->path + base + 1, e.name, n + 1);
		if (fat_stat(w->fs, w->path, &e) == 0) {
			if (e.attr & FAT_ATTR_DIRECTORY) {
				walk_dir(w, depth + 1);
				if (fat_chdir(w->fs, w->path) == 0)
					fat_stat(w->fs, "..", &e);
			} else {
				read_file(w, &e);
			}
		}
		w->path[base] = '\0';
	}
	w->path[base] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void *arena;
	static struct walk w;
	struct fuzz_dev fd = { data, size, 20000 };
	struct blkdev dev = { "fuzz", 512, 1ull << 32, fz_read, &fd };
	uint64_t before;

	if (!arena) {
		arena = aligned_alloc(4096, ARENA);
		if (!arena || mm_host_init(arena, ARENA))
			abort();
		mm_host_quiet = 1;
	}
	before = kmalloc_bytes_in_use();
	if (fat_mount(&dev, &w.fs, NULL, 0) == 0) {
		w.entries = 0;
		w.path[0] = '\0';
		walk_dir(&w, 0);
		fat_unmount(w.fs);
	}
	if (kmalloc_bytes_in_use() != before) {
		fprintf(stderr, "fuzz_fat32: %llu bytes leaked\n",
			(unsigned long long)(kmalloc_bytes_in_use() - before));
		abort();
	}
	return 0;
}
