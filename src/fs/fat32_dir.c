/* fat32_dir.c - FAT32 directories: reading entries, long names, path
 * resolution, the current directory (fs/fat32.h).
 *
 * A directory is a cluster chain of 32-byte entries (spec section 6
 * "Directory Structure"): DIR_Name[0] 0x00 ends it, 0xE5 marks a deleted
 * entry, 0x05 stands for a leading 0xE5; ATTR_LONG_NAME entries (section 7)
 * carry 13 UTF-16 units each, last one first (LDIR_Ord | LAST_LONG_ENTRY),
 * each with the checksum of the short entry they precede (LDIR_Chksum).
 * Field offsets are fat32_layout.h's. A sequence that breaks
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
	unsigned seq = e[LDIR_Ord] & LDIR_ORD_MASK;
	bool last = e[LDIR_Ord] & LAST_LONG_ENTRY;
	uint16_t *u;

	if (last && d->lfn_count)
		lfn_reset(d);               /* a new sequence orphans the old */
	if (seq == 0 || seq > LDIR_ORD_MAX || e[LDIR_Type] != 0 ||
	    le16(e + LDIR_FstClusLO) != 0) {
		lfn_reset(d);
		d->fs->st.lfn_ignored++;
		return;
	}
	if (last) {
		d->lfn_count = (uint8_t)seq;
		d->lfn_sum = e[LDIR_Chksum];
	} else if (!d->lfn_count || seq != d->lfn_next ||
		   e[LDIR_Chksum] != d->lfn_sum) {
		lfn_reset(d);
		d->fs->st.lfn_ignored++;
		return;
	}
	d->lfn_next = (uint8_t)(seq - 1);
	u = d->lfn + (seq - 1) * LDIR_UNITS;
	for (int i = 0; i < LDIR_NAME1_UNITS; i++)
		u[i] = le16(e + LDIR_Name1 + 2 * i);
	for (int i = 0; i < LDIR_NAME2_UNITS; i++)
		u[LDIR_NAME1_UNITS + i] = le16(e + LDIR_Name2 + 2 * i);
	for (int i = 0; i < LDIR_NAME3_UNITS; i++)
		u[LDIR_NAME1_UNITS + LDIR_NAME2_UNITS + i] =
			le16(e + LDIR_Name3 + 2 * i);
}

/* The long name for short entry e, if d holds a complete matching one. */
static bool lfn_take(struct fat_dir *d, const uint8_t *e, char *out)
{
	unsigned n = 0, max;

	if (!d->lfn_count || d->lfn_next != 0 ||
	    fat_lfn_checksum(e + DIR_Name) != d->lfn_sum) {
		lfn_reset(d);
		return false;
	}
	max = d->lfn_count * (unsigned)LDIR_UNITS;
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

/* Decode short entry e (spec section 6) into ent. */
static void decode_entry(struct fat_dir *d, const uint8_t *e,
			 struct fat_dirent *ent)
{
	ent->attr = e[DIR_Attr];
	ent->first_cluster = ((uint32_t)le16(e + DIR_FstClusHI) << 16) |
			     le16(e + DIR_FstClusLO);
	ent->size = le32(e + DIR_FileSize);
	decode_time(le16(e + DIR_CrtDate), le16(e + DIR_CrtTime), &ent->ctime);
	if (ent->ctime.year && e[DIR_CrtTimeTenth] < 200) {
		ent->ctime.sec = (uint8_t)(ent->ctime.sec + e[DIR_CrtTimeTenth] / 100);
		ent->ctime.centi = e[DIR_CrtTimeTenth] % 100;
	}
	decode_time(le16(e + DIR_WrtDate), le16(e + DIR_WrtTime), &ent->mtime);
	decode_time(le16(e + DIR_LstAccDate), 0, &ent->adate);
	fat_short_name(e, false, ent->short_name);
	if (!lfn_take(d, e, ent->name))
		fat_short_name(e, true, ent->name);
}

/* A long-name part (section 7: the attribute bits under the mask are
 * exactly ATTR_LONG_NAME). */
static bool is_long_name(const uint8_t *e)
{
	return (e[DIR_Attr] & ATTR_LONG_NAME_MASK) == ATTR_LONG_NAME;
}

static bool is_dot_entry(const uint8_t *e)
{
	return !memcmp(e + DIR_Name, ".          ", FAT_NAME11_LEN) ||
	       !memcmp(e + DIR_Name, "..         ", FAT_NAME11_LEN);
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
	if (e[DIR_Name] == DIR_NAME_END) {
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
		if (e[DIR_Name] == DIR_NAME_FREE) {
			lfn_reset(d);
		} else if (is_long_name(e)) {
			lfn_add(d, e);
		} else if ((e[DIR_Attr] & FAT_ATTR_VOLUME_ID) ||
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
		if (e[DIR_Name] != DIR_NAME_FREE && !is_long_name(e) &&
		    (e[DIR_Attr] & (FAT_ATTR_VOLUME_ID | FAT_ATTR_DIRECTORY)) == FAT_ATTR_VOLUME_ID &&
		    le16(e + DIR_FstClusHI) == 0 && le16(e + DIR_FstClusLO) == 0) {
			fat_label_name(e + DIR_Name, out);
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

int fat_dirent_first_cluster(struct fat_fs *fs, const struct fat_dirent *ent,
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

/* ---- the walk and its path: no limit but memory --------------------- */

/* Make *buf (an array of *cap elements of elem bytes, the first used in
 * use) hold need elements, doubling from min. 0, or -ENOMEM with *buf
 * and *cap unchanged. */
static int grow(void **buf, size_t *cap, size_t need, size_t elem,
		size_t used, size_t min)
{
	size_t n = *cap ? *cap : min;
	void *p;

	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		n *= 2;
	}
	if (n == *cap)
		return 0;
	if (kmem_try_alloc(n * elem, 0, 0, &p))
		return -ENOMEM;
	if (used)
		memcpy(p, *buf, used * elem);
	kfree(*buf);
	*buf = p;
	*cap = n;
	return 0;
}

static uint32_t walk_cur(const struct fat_fs *fs, const struct fat_walk *w)
{
	return w->depth ? w->clus[w->depth - 1] : fs->root;
}

/* Go one level down into directory clus, growing w when it is full. */
static int walk_push(struct fat_fs *fs, struct fat_walk *w, uint32_t clus)
{
	if (grow((void **)&w->clus, &w->cap, w->depth + 1, sizeof(*w->clus),
		 w->depth, FAT_WALK_INIT))
		return fat_fail(fs, -ENOMEM, "path walk of depth", w->depth,
				"no memory for a deeper one");
	w->clus[w->depth++] = clus;
	return 0;
}

/* Start fs->walk at the root (absolute) or at the cwd's walk. */
static int walk_begin(struct fat_fs *fs, bool absolute)
{
	struct fat_walk *w = &fs->walk;
	int ret = 0;

	w->depth = 0;
	for (size_t i = 0; !absolute && !ret && i < fs->cwd_walk.depth; i++)
		ret = walk_push(fs, w, fs->cwd_walk.clus[i]);
	return ret;
}

/* Set p to the n bytes at s, growing it as needed: 0 or -ENOMEM. */
static int path_set(struct fat_fs *fs, struct fat_path *p, const char *s, size_t n)
{
	if (grow((void **)&p->buf, &p->cap, n + 1, 1, 0, FAT_PATH_INIT))
		return fat_fail(fs, -ENOMEM, "path of length", n, "no memory for it");
	memcpy(p->buf, s, n);
	p->buf[n] = '\0';
	p->len = n;
	return 0;
}

/* Keep fs->path in step with the walk: one name down. */
static int path_push(struct fat_fs *fs, const char *name)
{
	struct fat_path *p = &fs->path;
	size_t n = strlen(name), len = p->len + (p->len > 1) + n;

	if (grow((void **)&p->buf, &p->cap, len + 1, 1, p->len + 1, FAT_PATH_INIT))
		return fat_fail(fs, -ENOMEM, "path of length", len, "no memory for it");
	if (p->len > 1)
		p->buf[p->len++] = '/';
	memcpy(p->buf + p->len, name, n + 1);
	p->len = len;
	return 0;
}

/* ... and one level up. */
static void path_pop(struct fat_path *p)
{
	while (p->len > 1 && p->buf[p->len - 1] != '/')
		p->len--;
	p->len = p->len > 1 ? p->len - 1 : 1;
	p->buf[p->len] = '\0';
}

int fat_walk_init(struct fat_fs *fs)
{
	struct fat_walk *w[2] = { &fs->walk, &fs->cwd_walk };
	struct fat_path *p[2] = { &fs->path, &fs->cwd };

	for (int i = 0; i < 2; i++) {
		if (grow((void **)&w[i]->clus, &w[i]->cap, FAT_WALK_INIT,
			 sizeof(uint32_t), 0, FAT_WALK_INIT) ||
		    path_set(fs, p[i], "/", 1))
			return fat_fail(fs, -ENOMEM, "path walk", FAT_NOVAL, "no memory");
		w[i]->depth = 0;
	}
	return 0;
}

void fat_walk_free(struct fat_fs *fs)
{
	kfree(fs->walk.clus);
	kfree(fs->cwd_walk.clus);
	kfree(fs->path.buf);
	kfree(fs->cwd.buf);
	memset(&fs->walk, 0, sizeof(fs->walk));
	memset(&fs->cwd_walk, 0, sizeof(fs->cwd_walk));
	memset(&fs->path, 0, sizeof(fs->path));
	memset(&fs->cwd, 0, sizeof(fs->cwd));
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

/* One component: move fs->walk down into the component's directory (or
 * up, for ".."); *ent and *have_ent say what it named (a file leaves the
 * walk where it was). */
static int resolve_step(struct fat_fs *fs, const char *name, size_t len,
			struct fat_dirent *ent, bool *have_ent, bool build_path)
{
	uint32_t clus;
	int ret;

	if (len == 1 && name[0] == '.')
		return 0;
	*have_ent = false;
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		if (build_path)
			path_pop(&fs->path);
		if (fs->walk.depth)
			fs->walk.depth--;
		return 0;
	}
	if (len > FAT_NAME_MAX)
		return fat_fail(fs, -ENAMETOOLONG, "path component of length", len,
				"longer than 255 characters");
	ret = dir_lookup(fs, walk_cur(fs, &fs->walk), name, len, false, ent);
	if (!ret && (ent->attr & FAT_ATTR_DIRECTORY)) {
		ret = fat_dirent_first_cluster(fs, ent, &clus);
		if (!ret)
			ret = walk_push(fs, &fs->walk, clus);
	}
	if (!ret && build_path)
		ret = path_push(fs, ent->name);
	*have_ent = !ret;
	return ret;
}

int fat_resolve(struct fat_fs *fs, const char *path, struct fat_dirent *ent,
		bool build_path)
{
	bool have_ent = false, is_dir = true;
	int ret;

	if (!path || !*path)
		return fat_fail(fs, -ENOENT, "path", FAT_NOVAL, "empty");
	ret = walk_begin(fs, path[0] == '/');
	if (!ret && build_path)
		ret = path[0] == '/' ? path_set(fs, &fs->path, "/", 1) :
		      path_set(fs, &fs->path, fs->cwd.buf, fs->cwd.len);
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
		ret = resolve_step(fs, path, len, ent, &have_ent, build_path);
		is_dir = !have_ent || (ent->attr & FAT_ATTR_DIRECTORY);
		path += len;
	}
	if (!ret && !have_ent)
		ret = dir_self(fs, ent);
	return ret;
}

/* ---- public directory calls ------------------------------------------ */

int fat_resolve_kind(struct fat_fs *fs, const char *path, bool dir,
		     struct fat_dirent *ent, uint32_t *clus, bool build_path)
{
	int ret = fat_resolve(fs, path, ent, build_path);

	if (ret)
		return ret;
	if (dir && !(ent->attr & FAT_ATTR_DIRECTORY))
		return fat_fail(fs, -ENOTDIR, "path", FAT_NOVAL, "not a directory");
	if (!dir && (ent->attr & FAT_ATTR_DIRECTORY))
		return fat_fail(fs, -EISDIR, "path", FAT_NOVAL, "is a directory");
	return fat_dirent_first_cluster(fs, ent, clus);
}

int fat_stat(struct fat_fs *fs, const char *path, struct fat_dirent *st)
{
	if (!fs || !st)
		return -EINVAL;
	return fat_resolve(fs, path, st, false);
}

int fat_opendir(struct fat_fs *fs, const char *path, struct fat_dir *d)
{
	struct fat_dirent ent;
	uint32_t clus;
	int ret;

	if (!fs || !d)
		return -EINVAL;
	ret = fat_resolve_kind(fs, path, true, &ent, &clus, false);
	return ret ? ret : fat_dir_open_clus(fs, clus, d);
}

int fat_chdir(struct fat_fs *fs, const char *path)
{
	struct fat_dirent ent;
	uint32_t clus;
	int ret;

	if (!fs)
		return -EINVAL;
	ret = fat_resolve_kind(fs, path, true, &ent, &clus, true);
	if (!ret) {   /* the walk and path that found it are the new cwd's */
		struct fat_walk w = fs->cwd_walk;
		struct fat_path p = fs->cwd;

		fs->cwd_walk = fs->walk;
		fs->walk = w;
		fs->cwd = fs->path;
		fs->path = p;
	}
	return ret;
}

const char *fat_getcwd(const struct fat_fs *fs)
{
	return fs->cwd.buf;
}

int fat_realpath(struct fat_fs *fs, const char *path, char **out)
{
	struct fat_dirent ent;
	int ret;

	if (!fs || !out)
		return -EINVAL;
	*out = NULL;
	ret = fat_resolve(fs, path, &ent, true);
	if (ret)
		return ret;
	if (kmem_try_alloc(fs->path.len + 1, 0, 0, (void **)out))
		return fat_fail(fs, -ENOMEM, "path of length", fs->path.len,
				"no memory for a copy");
	memcpy(*out, fs->path.buf, fs->path.len + 1);
	return 0;
}

int fat_dir_bytes(struct fat_fs *fs, uint32_t clus, uint64_t *bytes)
{
	struct fat_chain ch;
	uint64_t n = 1;
	int ret;

	if (!fs || !bytes)
		return -EINVAL;
	if (clus == 0)
		clus = fs->root;
	if (!fat_clus_valid(fs, clus))
		return fat_fail(fs, -EIO, "directory first cluster", clus, "out of range");
	fat_chain_start(&ch, clus);
	while ((ret = fat_chain_next(fs, &ch)) == 0)
		n++;
	if (ret < 0)
		return ret;
	*bytes = n * fs->clus_bytes;
	return 0;
}
