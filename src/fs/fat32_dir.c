/* fat32_dir.c - FAT32 directories: reading entries, long names, path
 * resolution, the current directory (fs/fat32.h).
 *
 * A directory is a cluster chain of 32-byte entries (spec section 6
 * "Directory Structure"): DIR_Name[0] 0x00 ends it, 0xE5 marks a deleted
 * entry, 0x05 stands for a leading 0xE5; ATTR_LONG_NAME entries (section 7)
 * carry 13 UTF-16 units each, last one first (LDIR_Ord | 0x40), each with
 * the checksum of the short entry they precede. A sequence that breaks
 * (wrong order, wrong checksum, no short entry) is ignored, as Windows and
 * Linux do, and the short name is used. Not a writer; no caching of names
 * or directory positions beyond the block cache. */
#include "lib/printf.h"
#include "fat32_internal.h"
#include "mm/kmalloc.h"

#include <string.h>

static void lfn_reset(struct fat_dir *d)
{
	if (d->lfn_count)
		d->fs->st.lfn_ignored++;
	d->lfn_count = 0;
	d->lfn_next = 0;
}

/* Take one LFN entry e into d's sequence, or drop the sequence. */
static void lfn_add(struct fat_dir *d, const uint8_t *e)
{
	unsigned seq = e[0] & 0x1F;
	uint16_t *u;

	if ((e[0] & 0x40) && d->lfn_count)
		lfn_reset(d);               /* a new sequence orphans the old */
	if (seq == 0 || seq > 20 || e[12] != 0 || le16(e + 26) != 0) {
		lfn_reset(d);
		d->fs->st.lfn_ignored++;
		return;
	}
	if (e[0] & 0x40) {
		d->lfn_count = (uint8_t)seq;
		d->lfn_sum = e[13];
	} else if (!d->lfn_count || seq != d->lfn_next || e[13] != d->lfn_sum) {
		lfn_reset(d);
		d->fs->st.lfn_ignored++;
		return;
	}
	d->lfn_next = (uint8_t)(seq - 1);
	u = d->lfn + (seq - 1) * 13;
	for (int i = 0; i < 5; i++)
		u[i] = le16(e + 1 + 2 * i);
	for (int i = 0; i < 6; i++)
		u[5 + i] = le16(e + 14 + 2 * i);
	for (int i = 0; i < 2; i++)
		u[11 + i] = le16(e + 28 + 2 * i);
}

/* The long name for short entry e, if d holds a complete matching one. */
static bool lfn_take(struct fat_dir *d, const uint8_t *e, char *out)
{
	unsigned n = 0, max;

	if (!d->lfn_count || d->lfn_next != 0 ||
	    fat_lfn_checksum(e) != d->lfn_sum) {
		lfn_reset(d);
		return false;
	}
	max = d->lfn_count * 13u;
	d->lfn_count = 0;
	while (n < max && d->lfn[n] != 0x0000)
		n++;
	if (n == 0 || n > 255 ||
	    fat_utf16_to_utf8(d->lfn, n, out, FAT_NAME_MAX + 1) <= 0) {
		d->fs->st.lfn_ignored++;
		return false;
	}
	return true;
}

static void decode_time(uint16_t date, uint16_t time, struct fat_time *t)
{
	memset(t, 0, sizeof(*t));
	if (date == 0)
		return;
	t->year = (uint16_t)(1980 + (date >> 9));
	t->month = (date >> 5) & 0x0F;
	t->day = date & 0x1F;
	t->hour = time >> 11;
	t->min = (time >> 5) & 0x3F;
	t->sec = (uint8_t)((time & 0x1F) * 2);
}

/* Decode short entry e (spec section 6.1 field offsets) into ent. */
static void decode_entry(struct fat_dir *d, const uint8_t *e,
			 struct fat_dirent *ent)
{
	ent->attr = e[11];
	ent->first_cluster = ((uint32_t)le16(e + 20) << 16) | le16(e + 26);
	ent->size = le32(e + 28);
	decode_time(le16(e + 16), le16(e + 14), &ent->ctime);   /* DIR_Crt* */
	if (ent->ctime.year && e[13] < 200) {                 /* DIR_CrtTimeTenth */
		ent->ctime.sec = (uint8_t)(ent->ctime.sec + e[13] / 100);
		ent->ctime.centi = e[13] % 100;
	}
	decode_time(le16(e + 24), le16(e + 22), &ent->mtime);   /* DIR_Wrt* */
	decode_time(le16(e + 18), 0, &ent->adate);              /* DIR_LstAccDate */
	fat_short_name(e, false, ent->short_name);
	if (!lfn_take(d, e, ent->name))
		fat_short_name(e, true, ent->name);
}

static bool is_dot_entry(const uint8_t *e)
{
	return !memcmp(e, ".          ", 11) || !memcmp(e, "..         ", 11);
}

/* The next raw entry of d into e. Returns 1, 0 at the end, or an error.
 * The end is the chain's end (checked at each cluster edge before the
 * entry count), or DIR_Name[0] 0x00 (section 6.1: no entry follows); an
 * entry in use past the 65,536 the spec allows (section 6) is an error. */
static int dir_next_raw(struct fat_dir *d, uint8_t *e)
{
	struct fat_fs *fs = d->fs;
	int ret;

	if (d->done)
		return 0;
	if (d->off >= fs->clus_bytes) {
		ret = fat_chain_next(fs, &d->ch);
		if (ret) {
			d->done = true;
			return ret == 1 ? 0 : ret;
		}
		d->off = 0;
	}
	ret = fat_clus_read(fs, d->ch.clus, d->off, e, FAT_DIRENT_SIZE);
	if (ret)
		return ret;
	if (e[0] == 0x00) {
		d->done = true;
		return 0;
	}
	if (d->index >= FAT_DIR_MAX) {
		d->done = true;
		return fat_fail(fs, -EIO, "directory at cluster", d->first,
				"entries past the 65536 a directory may have");
	}
	d->off += FAT_DIRENT_SIZE;
	d->index++;
	return 1;
}

int fat_readdir(struct fat_dir *d, struct fat_dirent *ent)
{
	uint8_t e[FAT_DIRENT_SIZE];
	int ret;

	if (!d || !d->fs || !ent)
		return -EINVAL;
	while ((ret = dir_next_raw(d, e)) == 1) {
		if (e[0] == 0xE5) {
			lfn_reset(d);
		} else if ((e[11] & 0x3F) == 0x0F) {     /* ATTR_LONG_NAME */
			lfn_add(d, e);
		} else if ((e[11] & FAT_ATTR_VOLUME_ID) ||
			   (!d->dots && is_dot_entry(e))) {
			lfn_reset(d);
		} else {
			d->fs->st.entries++;
			decode_entry(d, e, ent);
			return 1;
		}
	}
	lfn_reset(d);
	return ret;
}

void fat_closedir(struct fat_dir *d)
{
	(void)d;
}

int fat_dir_open_clus(struct fat_fs *fs, uint32_t clus, struct fat_dir *d)
{
	if (clus == 0)
		clus = fs->root;
	if (!fat_clus_valid(fs, clus))
		return fat_fail(fs, -EIO, "directory first cluster", clus,
				"out of range");
	memset(d, 0, sizeof(*d));
	d->fs = fs;
	d->first = clus;
	fat_chain_start(&d->ch, clus);
	return 0;
}

/* The first entry blkid's search_fat_label takes for the label: not
 * deleted, not a long-name part, VOLUME_ID without DIRECTORY, no
 * cluster (util-linux libblkid/src/superblocks/vfat.c). */
int fat_root_label(struct fat_fs *fs, char *out)
{
	struct fat_dir d;
	uint8_t e[FAT_DIRENT_SIZE];
	int ret = fat_dir_open_clus(fs, fs->root, &d);

	out[0] = '\0';
	while (!ret && (ret = dir_next_raw(&d, e)) == 1)
		if (e[0] != 0xE5 && (e[11] & 0x3F) != 0x0F &&
		    (e[11] & (FAT_ATTR_VOLUME_ID | FAT_ATTR_DIRECTORY)) == FAT_ATTR_VOLUME_ID &&
		    le16(e + 20) == 0 && le16(e + 26) == 0) {
			fat_label_name(e, out);
			return 0;
		}
	return ret;
}

/* ---- path resolution --------------------------------------------------- */

static void root_dirent(struct fat_fs *fs, struct fat_dirent *ent)
{
	memset(ent, 0, sizeof(*ent));
	ent->name[0] = '/';
	ent->short_name[0] = '/';
	ent->attr = FAT_ATTR_DIRECTORY;
	ent->first_cluster = fs->root;
}

int fat_entry_cluster(struct fat_fs *fs, const struct fat_dirent *ent,
		      uint32_t *clus)
{
	uint32_t c = ent->first_cluster;

	if (fat_clus_valid(fs, c) ||
	    (c == 0 && !(ent->attr & FAT_ATTR_DIRECTORY) && ent->size == 0)) {
		*clus = c;
		return 0;
	}
	ksnprintf(fs->err, sizeof(fs->err), "directory entry '%pE': DIR_FstClus %u out of range",
		  ent->name, c);
	fs->st.errors++;
	return -EIO;
}

/* Find name[0..len) in directory clus (dots too when want_dots). */
static int dir_lookup(struct fat_fs *fs, uint32_t clus, const char *name,
		      size_t len, bool want_dots, struct fat_dirent *ent)
{
	struct fat_dir d;
	int ret = fat_dir_open_clus(fs, clus, &d);

	if (ret)
		return ret;
	d.dots = want_dots;
	fs->st.lookups++;
	while ((ret = fat_readdir(&d, ent)) == 1)
		if (fat_name_eq(name, len, ent->name) ||
		    fat_name_eq(name, len, ent->short_name))
			return 0;
	if (ret == 0) {
		fat_fail(fs, -ENOENT, "path component", FAT_NOVAL, "not found");
		return -ENOENT;
	}
	return ret;
}

/* ---- the walk: directories passed through, root excluded ------------ */

static uint32_t walk_cur(const struct fat_fs *fs, const struct fat_walk *w)
{
	return w->depth ? w->clus[w->depth - 1] : fs->root;
}

/* Go one level down into directory clus, growing w when it is full. */
static int walk_push(struct fat_fs *fs, struct fat_walk *w, uint32_t clus)
{
	if (w->depth == w->cap) {
		uint32_t cap = w->cap ? 2 * w->cap : 16, *p;

		if (kmem_try_alloc((size_t)cap * sizeof(*p), 0, 0, (void **)&p))
			return fat_fail(fs, -ENOMEM, "path walk of depth", w->depth,
					"no memory for a deeper one");
		if (w->depth)
			memcpy(p, w->clus, (size_t)w->depth * sizeof(*p));
		kfree(w->clus);
		w->clus = p;
		w->cap = cap;
	}
	w->clus[w->depth++] = clus;
	return 0;
}

/* Start fs->walk at the root (absolute) or at the cwd's walk. */
static int walk_begin(struct fat_fs *fs, bool absolute)
{
	struct fat_walk *w = &fs->walk;
	int ret = 0;

	w->depth = 0;
	for (uint32_t i = 0; !absolute && !ret && i < fs->cwd_walk.depth; i++)
		ret = walk_push(fs, w, fs->cwd_walk.clus[i]);
	return ret;
}

int fat_walk_init(struct fat_fs *fs)
{
	struct fat_walk *w[2] = { &fs->walk, &fs->cwd_walk };

	for (int i = 0; i < 2; i++) {
		if (kmem_try_alloc(FAT_WALK_INIT * sizeof(uint32_t), 0, 0,
				   (void **)&w[i]->clus))
			return fat_fail(fs, -ENOMEM, "path walk", FAT_NOVAL, "no memory");
		w[i]->cap = FAT_WALK_INIT;
		w[i]->depth = 0;
	}
	return 0;
}

void fat_walk_free(struct fat_fs *fs)
{
	kfree(fs->walk.clus);
	kfree(fs->cwd_walk.clus);
	memset(&fs->walk, 0, sizeof(fs->walk));
	memset(&fs->cwd_walk, 0, sizeof(fs->cwd_walk));
}

/* The entry naming the walk's current directory, found in the directory
 * above it on the walk (the root has none: a made-up one). */
static int dir_self(struct fat_fs *fs, struct fat_dirent *ent)
{
	struct fat_walk *w = &fs->walk;
	uint32_t clus = walk_cur(fs, w);
	struct fat_dir d;
	int ret;

	if (w->depth == 0) {
		root_dirent(fs, ent);
		return 0;
	}
	ret = fat_dir_open_clus(fs, w->depth > 1 ? w->clus[w->depth - 2] : fs->root, &d);
	if (ret)
		return ret;
	while ((ret = fat_readdir(&d, ent)) == 1)
		if ((ent->attr & FAT_ATTR_DIRECTORY) && ent->first_cluster == clus)
			return 0;
	if (ret == 0)
		ret = fat_fail(fs, -EIO, "directory at cluster", clus,
			       "not listed in its parent");
	return ret;
}

/* Keep the path being built in step with the walk. */
static int path_push(char *p, const char *name)
{
	size_t len = strlen(p), n = strlen(name);

	if (len + (len > 1) + n + 1 > FAT_PATH_MAX)
		return -ENAMETOOLONG;
	if (len > 1)
		p[len++] = '/';
	memcpy(p + len, name, n + 1);
	return 0;
}

static void path_pop(char *p)
{
	size_t len = strlen(p);

	while (len > 1 && p[len - 1] != '/')
		len--;
	p[len > 1 ? len - 1 : 1] = '\0';
}

/* One component: move fs->walk down into the component's directory (or
 * up, for ".."); *ent and *have_ent say what it named (a file leaves the
 * walk where it was). */
static int resolve_step(struct fat_fs *fs, const char *name, size_t len,
			struct fat_dirent *ent, bool *have_ent, char *path)
{
	uint32_t clus;
	int ret;

	if (len == 1 && name[0] == '.')
		return 0;
	*have_ent = false;
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		if (path)
			path_pop(path);
		if (fs->walk.depth)
			fs->walk.depth--;
		return 0;
	}
	if (len > FAT_NAME_MAX)
		return fat_fail(fs, -ENAMETOOLONG, "path component of length", len,
				"longer than 255 characters");
	ret = dir_lookup(fs, walk_cur(fs, &fs->walk), name, len, false, ent);
	if (!ret && (ent->attr & FAT_ATTR_DIRECTORY)) {
		ret = fat_entry_cluster(fs, ent, &clus);
		if (!ret)
			ret = walk_push(fs, &fs->walk, clus);
	}
	if (!ret && path)
		ret = path_push(path, ent->name);
	*have_ent = !ret;
	return ret;
}

int fat_resolve(struct fat_fs *fs, const char *path, struct fat_dirent *ent,
		char *cwd_out)
{
	bool have_ent = false, is_dir = true;
	int ret;

	if (!path || !*path)
		return fat_fail(fs, -ENOENT, "path", FAT_NOVAL, "empty");
	ret = walk_begin(fs, path[0] == '/');
	if (cwd_out)
		strncpy(cwd_out, path[0] == '/' ? "/" : fs->cwd, FAT_PATH_MAX);
	while (*path && !ret) {
		size_t len = 0;

		while (*path == '/')
			path++;
		while (path[len] && path[len] != '/')
			len++;
		if (len == 0)
			break;
		if (!is_dir)
			return fat_fail(fs, -ENOTDIR, "path component", FAT_NOVAL,
					"below a file");
		ret = resolve_step(fs, path, len, ent, &have_ent, cwd_out);
		is_dir = !have_ent || (ent->attr & FAT_ATTR_DIRECTORY);
		path += len;
	}
	if (!ret && !have_ent)
		ret = dir_self(fs, ent);
	return ret;
}

/* ---- public directory calls ------------------------------------------ */

int fat_resolve_kind(struct fat_fs *fs, const char *path, bool dir,
		     struct fat_dirent *ent, uint32_t *clus, char *cwd_out)
{
	int ret = fat_resolve(fs, path, ent, cwd_out);

	if (ret)
		return ret;
	if (dir && !(ent->attr & FAT_ATTR_DIRECTORY))
		return fat_fail(fs, -ENOTDIR, "path", FAT_NOVAL, "not a directory");
	if (!dir && (ent->attr & FAT_ATTR_DIRECTORY))
		return fat_fail(fs, -EISDIR, "path", FAT_NOVAL, "is a directory");
	return fat_entry_cluster(fs, ent, clus);
}

int fat_stat(struct fat_fs *fs, const char *path, struct fat_dirent *st)
{
	if (!fs || !st)
		return -EINVAL;
	return fat_resolve(fs, path, st, NULL);
}

int fat_opendir(struct fat_fs *fs, const char *path, struct fat_dir *d)
{
	struct fat_dirent ent;
	uint32_t clus;
	int ret;

	if (!fs || !d)
		return -EINVAL;
	ret = fat_resolve_kind(fs, path, true, &ent, &clus, NULL);
	return ret ? ret : fat_dir_open_clus(fs, clus, d);
}

int fat_chdir(struct fat_fs *fs, const char *path)
{
	struct fat_dirent ent;
	uint32_t clus;
	int ret;

	if (!fs)
		return -EINVAL;
	ret = fat_resolve_kind(fs, path, true, &ent, &clus, fs->cwd_new);
	if (!ret) {   /* the walk that found it is the new cwd's */
		struct fat_walk w = fs->cwd_walk;

		fs->cwd_walk = fs->walk;
		fs->walk = w;
		memcpy(fs->cwd, fs->cwd_new, FAT_PATH_MAX);
	}
	return ret;
}

const char *fat_getcwd(const struct fat_fs *fs)
{
	return fs->cwd;
}

int fat_realpath(struct fat_fs *fs, const char *path, char *out)
{
	struct fat_dirent ent;

	if (!fs || !out)
		return -EINVAL;
	return fat_resolve(fs, path, &ent, out);
}
