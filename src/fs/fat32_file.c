/* fat32_file.c - FAT32 files: open with a full chain check, read at an
 * offset, seek, and fat_read_whole() (fs/fat32.h).
 *
 * A file is DIR_FileSize bytes along the cluster chain from DIR_FstClus.
 * Open walks the whole chain once (bounded, loop-checked), so reads can
 * trust it yet still check every step. Reads copy partial sectors through
 * the block cache and send whole sectors straight to the caller, one
 * device request per run of contiguous clusters. Not a writer; no
 * read-ahead into the cache (big reads bypass it instead). */
#include "fat32_internal.h"
#include "mm/kmalloc.h"

#include <string.h>

#define FAT_STREAM_BUF 4096u
#define FAT_STACK_BUF  512u

/* The chain from first must hold at least `need` clusters and end. */
static int chain_check(struct fat_fs *fs, uint32_t first, uint64_t need)
{
	struct fat_chain ch;
	uint64_t have = 1;
	int ret;

	if (need > fs->nclusters)
		return fat_fail(fs, -EIO, "DIR_FileSize needs clusters", need,
				"more than the volume has");
	fat_chain_start(&ch, first);
	while ((ret = fat_chain_next(fs, &ch)) == 0)
		have++;
	if (ret < 0)
		return ret;
	if (have < need)
		return fat_fail(fs, -EIO, "file at cluster", first,
				"chain shorter than DIR_FileSize");
	return 0;
}

int fat_open(struct fat_fs *fs, const char *path, struct fat_file *f)
{
	struct fat_dirent ent;
	uint32_t clus;
	int ret;

	if (!fs || !f)
		return -EINVAL;
	ret = fat_resolve_kind(fs, path, false, &ent, &clus, false);
	if (ret)
		return ret;
	if (ent.size) {
		ret = chain_check(fs, clus, ((uint64_t)ent.size + fs->clus_bytes - 1)
					    / fs->clus_bytes);
		if (ret)
			return ret;
	}
	memset(f, 0, sizeof(*f));
	f->fs = fs;
	f->first = clus;
	f->size = ent.size;
	fat_chain_start(&f->ch, clus);
	fs->st.opens++;
	return 0;
}

/* Put f->ch on the idx-th cluster of the file. */
static int seek_cluster(struct fat_file *f, uint32_t idx)
{
	int ret;

	if (idx < f->ch.idx)
		fat_chain_start(&f->ch, f->first);
	while (f->ch.idx < idx) {
		ret = fat_chain_next(f->fs, &f->ch);
		if (ret == 1)
			return fat_fail(f->fs, -EIO, "file at cluster", f->first,
					"chain ends before DIR_FileSize");
		if (ret)
			return ret;
	}
	return 0;
}

/* Whole sectors from sector sec_in of the current cluster on, extended
 * over following clusters while they are contiguous. Returns bytes read. */
static long read_run(struct fat_file *f, uint8_t *dst, size_t len,
		     uint32_t sec_in)
{
	struct fat_fs *fs = f->fs;
	uint64_t start = fat_clus_sector(fs, f->ch.clus) + sec_in;
	uint64_t want = len / fs->bps, nsec = fs->spc - sec_in, take;
	bool at_end;

	if (nsec > want)
		nsec = want;
	at_end = sec_in + nsec == fs->spc;
	while (at_end && nsec < want) {
		struct fat_chain nx = f->ch;

		if (fat_chain_next(fs, &nx) != 0 || nx.clus != f->ch.clus + 1)
			break;        /* an error shows up at the next seek */
		f->ch = nx;
		take = want - nsec < fs->spc ? want - nsec : fs->spc;
		nsec += take;
		at_end = take == fs->spc;
	}
	if (bcache_read_direct(fs->bc, start, (uint32_t)nsec, dst))
		return fat_fail(fs, -EIO, "file at cluster", f->first,
				"read error");
	return (long)(nsec * fs->bps);
}

/* Read what the position's sector (or run of sectors) gives. */
static long read_chunk(struct fat_file *f, uint8_t *dst, size_t len)
{
	struct fat_fs *fs = f->fs;
	uint32_t idx = (uint32_t)(f->pos / fs->clus_bytes);
	uint32_t off = (uint32_t)(f->pos % fs->clus_bytes);
	uint32_t soff = off % fs->bps;
	int ret = seek_cluster(f, idx);

	if (ret)
		return ret;
	if (soff || len < fs->bps) {
		uint32_t n = fs->bps - soff;

		if (n > len)
			n = (uint32_t)len;
		ret = fat_clus_read(fs, f->ch.clus, off, dst, n);
		return ret ? ret : (long)n;
	}
	return read_run(f, dst, len, off / fs->bps);
}

long fat_read(struct fat_file *f, void *buf, size_t len)
{
	size_t done = 0;

	if (!f || !f->fs || (len && !buf))
		return -EINVAL;
	if (f->pos >= f->size)
		return 0;
	if (len > f->size - f->pos)
		len = (size_t)(f->size - f->pos);
	while (done < len) {
		long n = read_chunk(f, (uint8_t *)buf + done, len - done);

		if (n < 0)
			return n;
		done += (size_t)n;
		f->pos += (uint64_t)n;
	}
	f->fs->st.reads++;
	f->fs->st.bytes_read += done;
	return (long)done;
}

int fat_seek(struct fat_file *f, uint64_t pos)
{
	if (!f || !f->fs || pos > f->size)
		return -EINVAL;
	f->pos = pos;
	return 0;
}

long fat_pread(struct fat_file *f, uint64_t pos, void *buf, size_t len)
{
	int ret = fat_seek(f, pos);

	return ret ? ret : fat_read(f, buf, len);
}

void fat_close(struct fat_file *f)
{
	if (f)
		f->fs = NULL;
}

/* Feed the rest of f through buf (cap bytes) into sink. */
static int stream(struct fat_file *f, uint8_t *buf, size_t cap,
		  fat_sink_fn sink, void *ctx, size_t *len)
{
	long n;
	int ret;

	while ((n = fat_read(f, buf, cap)) > 0) {
		ret = sink(ctx, buf, (size_t)n);
		if (ret)
			return ret < 0 ? ret : -EIO;
		*len += (size_t)n;
	}
	return (int)n;
}

static int read_streamed(struct fat_file *f, fat_sink_fn sink, void *ctx,
			 size_t *len)
{
	uint8_t small[FAT_STACK_BUF];
	void *big;
	int ret;

	f->fs->st.streamed_reads++;
	if (kmem_try_alloc(FAT_STREAM_BUF, 0, 0, &big) == 0) {
		ret = stream(f, big, FAT_STREAM_BUF, sink, ctx, len);
		kfree(big);
	} else {
		f->fs->st.stream_stack++;
		ret = stream(f, small, sizeof(small), sink, ctx, len);
	}
	return ret ? ret : 1;
}

int fat_read_whole(struct fat_fs *fs, const char *path, void **buf,
		   size_t *len, fat_sink_fn sink, void *ctx)
{
	struct fat_file f;
	long n;
	int ret;

	if (!fs || !buf || !len)
		return -EINVAL;
	*buf = NULL;
	*len = 0;
	ret = fat_open(fs, path, &f);
	if (ret)
		return ret;
	if (f.size == 0) {
		fs->st.whole_reads++;
		return 0;
	}
	ret = kmem_try_alloc(f.size, 0, 0, buf);
	if (ret == -ENOMEM && sink)
		return read_streamed(&f, sink, ctx, len);
	if (ret)
		return fat_fail(fs, ret, "file of size", f.size,
				"no memory for one buffer and no sink");
	fs->st.whole_reads++;
	n = fat_read(&f, *buf, f.size);
	if (n != (long)f.size) {
		kfree(*buf);
		*buf = NULL;
		return n < 0 ? (int)n : -EIO;
	}
	*len = f.size;
	return 0;
}
