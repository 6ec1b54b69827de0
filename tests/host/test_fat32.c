/* test_fat32.c - host tests of the FAT32 reader (fs/fat32.h) against
 * volumes made by mkfs.fat and mtools (tests/host/mkimages.py).
 *
 * For every image: it mounts (fsck.fat -n accepted it), its recursive
 * listing equals what `mdir -/ -b` lists, and every file reads back byte for
 * byte equal to its source, whole and in seeded random pieces. 4096-byte
 * sector volumes are also mounted over a 512-byte-sector device. Then
 * paths (relative, "..", case, short names, errors), multi-sector reads
 * and a fragmented file, fat_read_whole under memory pressure, device
 * errors, hand-written directory entries (LFN checksum, orphans, 0x05,
 * labels, NT case), FAT12/16 refusal and broken volumes: each corruption is
 * written into the test device's overlay (blkdev_host.h), never into the
 * image, and must give its error code and a message naming the field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tap.h"
#include "blkdev_host.h"
#include "fs/bcache.h"
#include "fs/fat32.h"
#include "mm/faultinj.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/shrinker.h"
#include "../../src/host/mm_host.h"

#define IMGDIR "build/host/fatimg"
#define ARENA  (64u << 20)
#define MAXIMG 32

struct image {
	char name[32], kind[8];
	unsigned bps, spc;
	int fsck_ok;
};

static struct image images[MAXIMG];
static int nimages;
static void *arena;
#define SEED 20240606ull   /* every case starts the piece generator here */
static unsigned long long seed = SEED;
static const struct image *main_im;   /* s512c1, most cases' image */

/* ---- helpers ------------------------------------------------------------ */

static void load_manifest(void)
{
	FILE *f;
	struct image *im;

	if (system("python3 tests/host/mkimages.py " IMGDIR) != 0)
		tap_diag("mkimages.py failed");
	f = fopen(IMGDIR "/manifest.txt", "r");
	if (!f)
		return;
	while (nimages < MAXIMG) {
		im = &images[nimages];
		if (fscanf(f, "%31s %u %u %d %7s", im->name, &im->bps, &im->spc,
			   &im->fsck_ok, im->kind) != 5)
			break;
		nimages++;
	}
	fclose(f);
}

static struct image *find_image(const char *name)
{
	for (int i = 0; i < nimages; i++)
		if (!strcmp(images[i].name, name))
			return &images[i];
	return NULL;
}

static int open_image(struct hdev *h, const char *name, unsigned sector)
{
	char path[256];

	snprintf(path, sizeof(path), IMGDIR "/%s.img", name);
	return hdev_open(h, path, sector);
}

static void fresh_mm(void)
{
	if (mm_host_init(arena, ARENA))
		abort();
}

/* Every case: a fresh mm, the piece generator at its printed seed. */
static void before(void)
{
	fresh_mm();
	mm_host_quiet = 0;
	seed = SEED;
}

/* A fresh mm, then image name (512-byte sectors) mounted into *fs, *in. */
static void mount_fresh(struct hdev *h, const char *name, struct fat_fs **fs,
			struct fat_info *in)
{
	fresh_mm();
	if (open_image(h, name, 512) || fat_mount(&h->dev, fs, NULL, 0))
		abort();
	fat_get_info(*fs, in);
}

static unsigned long long rnd(void)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return seed >> 33;
}

/* ---- listing ------------------------------------------------------------ */

struct strlist {
	char **v;
	size_t n, cap;
};

static void sl_add(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(char *));
	}
	l->v[l->n++] = strdup(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sl_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Recursive listing of dir (absolute path "" for root) into l, paths of
 * any length (the deep image's pass 6,000 bytes). */
static int walk(struct fat_fs *fs, const char *dir, struct strlist *l, int depth)
{
	struct fat_dir d;
	struct fat_dirent *e = malloc(sizeof(*e));
	size_t dlen = strlen(dir);
	char *path = malloc(dlen + FAT_NAME_MAX + 3);
	int ret = fat_opendir(fs, *dir ? dir : "/", &d);

	while (!ret && (ret = fat_readdir(&d, e)) == 1) {
		int isdir = (e->attr & FAT_ATTR_DIRECTORY) != 0;

		sprintf(path, "%s/%s%s", dir, e->name, isdir ? "/" : "");
		sl_add(l, path);
		if (isdir && depth < 100) {
			path[strlen(path) - 1] = '\0';
			ret = walk(fs, path, l, depth + 1);
		}
		ret = ret == 1 ? 0 : ret;
	}
	free(path);
	free(e);
	return ret;
}

static int read_list_file(const char *name, struct strlist *l)
{
	char path[256], *buf, *p, *nl;
	size_t len;

	snprintf(path, sizeof(path), IMGDIR "/%s.list", name);
	buf = tap_read_file(path, &len);
	if (!buf)
		return -1;
	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (*p)
			sl_add(l, p);
	}
	free(buf);
	return 0;
}

/* ---- per-image checks ------------------------------------------------- */

static int sink_cmp(void *ctx, const void *data, size_t len);

/* Every file reads back equal to its source (streamed through a sink that
 * compares when it is too big for one buffer); returns files that differ. */
static int check_contents(struct fat_fs *fs, const struct image *im,
			  const struct strlist *l, unsigned long *files)
{
	int bad = 0;

	for (size_t i = 0; i < l->n; i++) {
		char src[4096];
		size_t slen, flen;
		const char *cursor;
		char *want;
		void *got;
		int ret;

		if (l->v[i][strlen(l->v[i]) - 1] == '/')
			continue;
		snprintf(src, sizeof(src), IMGDIR "/src/%s%s", im->name, l->v[i]);
		want = tap_read_file(src, &slen);
		cursor = want;
		ret = fat_read_whole(fs, l->v[i], &got, &flen, want ? sink_cmp : NULL, &cursor);
		if (!want || !((ret == 0 && flen == slen && (!slen || !memcmp(got, want, slen))) ||
			       (ret == 1 && flen == slen && cursor == want + slen))) {
			if (bad++ < 5)
				tap_diag("%s: %s differs (ret %d, %zu vs %zu bytes): %s",
					 im->name, l->v[i], ret, flen, slen, fat_last_error(fs));
		}
		kfree(got);
		free(want);
		(*files)++;
	}
	return bad;
}

/* Seeded random pieces of one file against its source. */
static int check_pieces(struct fat_fs *fs, const struct image *im, const char *path)
{
	char src[512];
	struct fat_file f;
	size_t slen;
	char *want, *buf;
	int bad = 0;

	snprintf(src, sizeof(src), IMGDIR "/src/%s%s", im->name, path);
	want = tap_read_file(src, &slen);
	buf = malloc(slen + 1);
	if (!want || fat_open(fs, path, &f) != 0) {
		free(want);
		free(buf);
		return 1;
	}
	for (int i = 0; i < 200 && slen; i++) {
		uint64_t off = rnd() % slen, len = rnd() % (i % 4 ? 5000 : 300000);
		long n = fat_pread(&f, off, buf, len);
		uint64_t exp = len < slen - off ? len : slen - off;

		if (n != (long)exp || memcmp(buf, want + off, exp))
			bad++;
	}
	if (fat_pread(&f, slen, buf, 10) != 0 || fat_seek(&f, slen + 1) != -EINVAL)
		bad++;
	fat_close(&f);
	free(want);
	free(buf);
	return bad;
}

static void check_image(const struct image *im, unsigned sector)
{
	struct hdev h;
	struct fat_fs *fs;
	struct fat_info info;
	struct strlist got = { 0 }, want = { 0 };
	char msg[FAT_ERR_MAX];
	unsigned long files = 0;
	int ret, same;

	fresh_mm();
	if (open_image(&h, im->name, sector)) {
		tap_ok(0, "%s: image opens", im->name);
		return;
	}
	ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
	tap_ok(ret == 0 && im->fsck_ok, "%s (%u-byte device sectors): fsck.fat -n accepts it and it mounts (%s)",
	       im->name, sector, ret ? msg : "ok");
	if (ret) {
		hdev_close(&h);
		return;
	}
	fat_get_info(fs, &info);
	tap_ok(info.bytes_per_sector == im->bps && info.sectors_per_cluster == im->spc &&
	       info.clusters >= 65525 && !strcmp(info.label, "TALLY") && info.serial == 0x7A11E006,
	       "%s: geometry %u x %u, %u clusters, label '%s'", im->name,
	       info.bytes_per_sector, info.sectors_per_cluster, info.clusters, info.label);
	ret = walk(fs, "", &got, 0);
	read_list_file(im->name, &want);
	qsort(got.v, got.n, sizeof(char *), cmp_str);
	same = ret == 0 && got.n == want.n && want.n > 0;
	for (size_t i = 0; same && i < got.n; i++)
		if (strcmp(got.v[i], want.v[i])) {
			tap_diag("first difference: '%s' vs mdir '%s'", got.v[i], want.v[i]);
			same = 0;
		}
	tap_ok(same, "%s: listing of %zu entries equals mdir's (%zu)", im->name, got.n, want.n);
	ret = check_contents(fs, im, &want, &files);
	tap_ok(ret == 0 && files > 20, "%s: all %lu files equal their sources", im->name, files);
	tap_ok(check_pieces(fs, im, "/sizes/big.bin") == 0 &&
	       check_pieces(fs, im, "/frag/scattered.bin") == 0 &&
	       check_pieces(fs, im, "/sizes/cp1.bin") == 0,
	       "%s: 600 random pieces (offset, length) read right", im->name);
	sl_free(&got);
	sl_free(&want);
	fat_unmount(fs);
	tap_ok(kmalloc_check() == 0, "%s: mm sound after unmount", im->name);
	hdev_close(&h);
}

/* ---- paths on s512c1 -------------------------------------------------- */

/* fat_realpath(path) against want: 0 when equal, 1 when not, or its error
 * (the result is freed either way). */
static int real_is(struct fat_fs *fs, const char *path, const char *want)
{
	char *real = NULL;
	int ret = fat_realpath(fs, path, &real);

	if (ret == 0 && strcmp(real, want)) {
		tap_diag("realpath %s: '%s', not '%s'", path, real, want);
		ret = 1;
	}
	kfree(real);
	return ret;
}

static void test_paths(struct fat_fs *fs)
{
	struct fat_dirent *st = malloc(sizeof(*st));
	struct fat_file f;
	struct fat_dir dir;
	char longname[900], *real = NULL;
	const char *deep = "/deep/level01/level02/level03/level04/level05/level06/"
		"level07/level08/level09/level10/level11/level12/level13/level14/"
		"level15/level16/level17/level18/level19/level20";

	tap_ok(fat_stat(fs, "/", st) == 0 && (st->attr & FAT_ATTR_DIRECTORY) &&
	       !strcmp(st->name, "/"), "stat / is the root directory");
	tap_ok(fat_stat(fs, "readme.txt", st) == 0 && !strcmp(st->name, "README.TXT"),
	       "case-insensitive lookup: readme.txt finds README.TXT");
	tap_ok(fat_stat(fs, "/NOTES.TXT", st) == 0 && !strcmp(st->name, "notes.txt") &&
	       !strcmp(st->short_name, "NOTES.TXT"), "NT lower-case flags: shown as notes.txt");
	tap_ok(fat_stat(fs, "/MIXEDC~1.TXT", st) == 0 && !strcmp(st->name, "MixedCase.Txt"),
	       "lookup by short name MIXEDC~1.TXT");
	tap_ok(fat_stat(fs, "/grüße.TXT", st) == 0 && fat_stat(fs, "/GRÜSSE.txt", st) == -ENOENT,
	       "ASCII-only case folding: grüße.TXT found, GRÜSSE.txt not");
	tap_ok(fat_stat(fs, "/\xF0\x9F\x98\x80smile.txt", st) == 0 && st->size == 29,
	       "surrogate-pair name decoded to UTF-8 U+1F600");
	tap_ok(fat_stat(fs, "/日本語.txt", st) == 0 && fat_stat(fs, "/Ünïcödé dir/inner file.txt", st) == 0,
	       "non-ASCII names: 日本語.txt, Ünïcödé dir/inner file.txt");
	tap_ok(fat_stat(fs, "/sizes/big.bin", st) == 0 && st->size == 3 * 1048576 + 12345 &&
	       st->mtime.year >= 2020 && st->mtime.month >= 1 && st->mtime.month <= 12 &&
	       st->ctime.year >= 2020 && st->first_cluster >= 2,
	       "stat: size, first cluster %u, mtime %04u-%02u-%02u %02u:%02u:%02u",
	       st->first_cluster, st->mtime.year, st->mtime.month, st->mtime.day,
	       st->mtime.hour, st->mtime.min, st->mtime.sec);
	tap_ok(fat_stat(fs, "//a///b/./c/../c/file.txt", st) == 0 && st->size == 13,
	       "., .. and repeated slashes");
	tap_ok(fat_stat(fs, "/a/b/..", st) == 0 && !strcmp(st->name, "a") &&
	       (st->attr & FAT_ATTR_DIRECTORY), "/a/b/.. is the entry of /a ('%s')", st->name);
	tap_ok(fat_stat(fs, "/..", st) == 0 && !strcmp(st->name, "/"), "/.. is /");
	tap_ok(fat_chdir(fs, deep) == 0 && !strcmp(fat_getcwd(fs), deep),
	       "chdir 20 levels deep; getcwd agrees");
	tap_ok(fat_stat(fs, "leaf.txt", st) == 0 && st->size == 19, "relative path from there");
	tap_ok(fat_stat(fs, "../../level19/level20/leaf.txt", st) == 0, "relative path with ..");
	tap_ok(fat_chdir(fs, "../..") == 0 && fat_chdir(fs, "LEVEL19") == 0 &&
	       !strcmp(fat_getcwd(fs) + strlen(fat_getcwd(fs)) - 7, "level19"),
	       "chdir .. and a case-folded name: cwd %s", fat_getcwd(fs));
	tap_ok(fat_chdir(fs, "/") == 0 && fat_chdir(fs, "..") == 0 &&
	       !strcmp(fat_getcwd(fs), "/"), "chdir .. at / stays /");
	tap_ok(fat_chdir(fs, "/Ünïcödé dir") == 0 && fat_stat(fs, "inner file.txt", st) == 0 &&
	       fat_chdir(fs, "/") == 0, "chdir into a non-ASCII directory");
	tap_ok(fat_chdir(fs, "/a/b") == 0 && real_is(fs, "c/", "/a/b/c") == 0 &&
	       real_is(fs, "../B/./c//file.txt", "/a/b/c/file.txt") == 0 &&
	       real_is(fs, "/MIXEDC~1.TXT", "/MixedCase.Txt") == 0 && real_is(fs, "../..", "/") == 0,
	       "realpath: relative, ., .., slashes and short names");
	tap_ok(fat_realpath(fs, "nope", &real) == -ENOENT && !real &&
	       fat_realpath(fs, "", &real) == -ENOENT && !real &&
	       fat_realpath(fs, "c/file.txt/x", &real) == -ENOTDIR && !real &&
	       fat_realpath(NULL, "/", &real) == -EINVAL && fat_realpath(fs, "/", NULL) == -EINVAL &&
	       fat_chdir(fs, "/") == 0, "realpath: missing, empty, through a file, NULL refused");
	tap_ok(fat_stat(fs, "/nonexistent", st) == -ENOENT, "missing name is -ENOENT");
	tap_ok(fat_stat(fs, "", st) == -ENOENT, "empty path is -ENOENT");
	tap_ok(fat_stat(fs, "/README.TXT/x", st) == -ENOTDIR, "a file used as a directory is -ENOTDIR");
	tap_ok(fat_chdir(fs, "/README.TXT") == -ENOTDIR, "chdir to a file is -ENOTDIR");
	tap_ok(fat_open(fs, "/a", &f) == -EISDIR, "open of a directory is -EISDIR");
	tap_ok(fat_opendir(fs, "/README.TXT", &dir) == -ENOTDIR, "opendir of a file is -ENOTDIR");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	tap_ok(fat_stat(fs, longname, st) == -ENAMETOOLONG, "component over 765 bytes is -ENAMETOOLONG");
	free(st);
}

/* Names at the LFN limit and the big directory. */
static void test_names(struct fat_fs *fs)
{
	struct fat_dirent *st = malloc(sizeof(*st));
	struct fat_dir d;
	char path[400];
	int n = 0, ret;

	memset(path, 0, sizeof(path));
	strcpy(path, "/lfn/");
	memset(path + 5, 'L', 251);
	strcat(path, ".txt");
	tap_ok(fat_stat(fs, path, st) == 0 && strlen(st->name) == 255,
	       "255-character long name found");
	path[6] = 'l';
	tap_ok(fat_stat(fs, path, st) == 0, "... case-insensitively");
	tap_ok(fat_opendir(fs, "/many", &d) == 0, "opendir /many");
	while ((ret = fat_readdir(&d, st)) == 1)
		n++;
	tap_ok(ret == 0 && n == 1100, "readdir /many: %d entries over many clusters", n);
	tap_ok(fat_stat(fs, "/many/long file name number 1098.txt", st) == 0 &&
	       st->size == 11 * (1098 % 7) && fat_stat(fs, "/many/f01099.txt", st) == 0,
	       "last entries of /many found by name");
	free(st);
}

/* Multi-sector reads: one device request per contiguous run. */
static void test_multisector(struct fat_fs *fs, struct hdev *h)
{
	struct fat_file f;
	struct bcache_stats st0, st1;
	char *buf = malloc(4 << 20);
	unsigned long req;
	long n;

	fat_open(fs, "/sizes/big.bin", &f);
	bcache_get_stats(fat_bcache(fs), &st0);
	h->requests = 0;
	n = fat_read(&f, buf, 4 << 20);
	req = h->requests;
	bcache_get_stats(fat_bcache(fs), &st1);
	tap_ok(n == 3 * 1048576 + 12345 && req <= 30,
	       "3 MiB contiguous file: %lu device requests (%lu direct, 256 KiB each)",
	       req, st1.direct_reads - st0.direct_reads);
	fat_open(fs, "/frag/scattered.bin", &f);
	bcache_get_stats(fat_bcache(fs), &st0);
	n = fat_read(&f, buf, 4 << 20);
	bcache_get_stats(fat_bcache(fs), &st1);
	tap_ok(n == 40 * 512 - 100 && st1.direct_reads - st0.direct_reads >= 12,
	       "fragmented file: %lu direct runs (holes of the deleted files)",
	       st1.direct_reads - st0.direct_reads);
	free(buf);
}

static int sink_cmp(void *ctx, const void *data, size_t len)
{
	const char **want = ctx;

	if (memcmp(*want, data, len))
		return -EIO;
	*want += len;
	return 0;
}

static int sink_fail(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return -ERANGE;
}

/* fat_read_whole: one buffer when it can, streamed when memory is out. */
static void test_read_whole(struct fat_fs *fs)
{
	struct fat_stats st0, st1;
	size_t slen, len;
	char *want = tap_read_file(IMGDIR "/src/s512c1/sizes/big.bin", &slen);
	const char *cursor = want;
	void *buf, *hog;
	int ret;

	fat_get_stats(fs, &st0);
	ret = fat_read_whole(fs, "/sizes/big.bin", &buf, &len, sink_cmp, &cursor);
	tap_ok(ret == 0 && len == slen && !memcmp(buf, want, slen), "read_whole: one buffer");
	kfree(buf);
	hog = hog_all();
	ret = fat_read_whole(fs, "/sizes/big.bin", &buf, &len, sink_cmp, &cursor);
	tap_ok(ret == 1 && buf == NULL && len == slen && cursor == want + slen,
	       "read_whole with zero free memory: streamed, bytes equal");
	ret = fat_read_whole(fs, "/sizes/big.bin", &buf, &len, NULL, NULL);
	tap_ok(ret == -ENOMEM && buf == NULL, "read_whole without memory or sink: -ENOMEM");
	ret = fat_read_whole(fs, "/sizes/big.bin", &buf, &len, sink_fail, NULL);
	tap_ok(ret == -ERANGE, "the sink's error stops the stream and is returned");
	hog_release(hog);
	fat_get_stats(fs, &st1);
	tap_ok(st1.whole_reads == st0.whole_reads + 1 &&
	       st1.streamed_reads == st0.streamed_reads + 2 &&
	       st1.stream_stack == st0.stream_stack + 2,
	       "stats: %lu whole, %lu streamed (%lu on the stack buffer)",
	       st1.whole_reads - st0.whole_reads, st1.streamed_reads - st0.streamed_reads,
	       st1.stream_stack - st0.stream_stack);
	ret = fat_read_whole(fs, "/sizes/empty.bin", &buf, &len, NULL, NULL);
	tap_ok(ret == 0 && buf == NULL && len == 0, "read_whole of an empty file");
	free(want);
}

/* A device error mid-file is -EIO; a retry reads the right bytes. */
static void test_io_errors(struct fat_fs *fs, struct hdev *h)
{
	struct fat_file f;
	size_t slen;
	char *want = tap_read_file(IMGDIR "/src/s512c1/sizes/cp1.bin", &slen);
	char buf[1024];
	struct fat_dirent *st = malloc(sizeof(*st));
	int ok = 1;

	bcache_invalidate(fat_bcache(fs));
	tap_ok(fat_open(fs, "/sizes/cp1.bin", &f) == 0, "open cp1.bin");
	for (unsigned long k = 1; k <= 3; k++) {
		bcache_invalidate(fat_bcache(fs));
		h->requests = 0;
		h->fail_at = k;
		ok &= fat_pread(&f, 0, buf, slen) == -EIO;
		h->fail_at = 0;
		ok &= fat_pread(&f, 0, buf, slen) == (long)slen && !memcmp(buf, want, slen);
	}
	tap_ok(ok, "failing request 1..3 of a read: -EIO, then the right bytes");
	h->fail_at = 1;
	h->fail_every = 1;
	h->requests = 0;
	bcache_invalidate(fat_bcache(fs));
	tap_ok(fat_stat(fs, "/sizes/cp1.bin", st) == -EIO,
	       "lookup on a dead device is -EIO: %s", fat_last_error(fs));
	h->fail_at = h->fail_every = 0;
	free(st);
	free(want);
}

/* ---- hand-written directory entries ---------------------------------- */

static void put_short(uint8_t *e, const char *name11, uint8_t attr, uint8_t ntres,
		      uint32_t clus)
{
	memset(e, 0, 32);
	memcpy(e, name11, 11);
	e[11] = attr;
	e[12] = ntres;
	e[20] = (uint8_t)(clus >> 16);
	e[21] = (uint8_t)(clus >> 24);
	e[26] = (uint8_t)clus;
	e[27] = (uint8_t)(clus >> 8);
}

static uint8_t lfn_sum(const char *n)
{
	uint8_t s = 0;

	for (int i = 0; i < 11; i++)
		s = (uint8_t)(((s & 1) << 7) + (s >> 1) + (uint8_t)n[i]);
	return s;
}

/* One LFN entry: units[0..13). */
static void put_lfn(uint8_t *e, uint8_t ord, uint8_t sum, const uint16_t *u)
{
	static const int pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };

	memset(e, 0, 32);
	e[0] = ord;
	e[11] = 0x0F;
	e[13] = sum;
	for (int i = 0; i < 13; i++) {
		e[pos[i]] = (uint8_t)u[i];
		e[pos[i] + 1] = (uint8_t)(u[i] >> 8);
	}
}

static void lfn_units(const char *ascii, uint16_t *u, int n)
{
	int i = 0;

	for (; ascii[i] && i < n; i++)
		u[i] = (uint8_t)ascii[i];
	if (i < n)
		u[i++] = 0;
	for (; i < n; i++)
		u[i] = 0xFFFF;
}

static void test_synthetic_dir(void)
{
	const struct image *im = main_im;
	static const char *expect[] = { "Hello World.txt", "ORPHAN.TXT", "MISMATCH.TXT",
					"\xC3\x95" "BC.TXT", "lower.txt", "SUBDIR",
					"x\xEF\xBF\xBDy" };
	uint8_t e[16][32];
	uint16_t u[26];
	struct hdev h;
	struct fat_fs *fs;
	struct fat_dir d;
	struct fat_dirent *ent = malloc(sizeof(*ent));
	struct fat_info info;
	struct fat_stats st;
	int n = 0, ok = 1, ret;

	fresh_mm();
	open_image(&h, im->name, 512);
	fat_mount(&h.dev, &fs, NULL, 0);
	fat_get_info(fs, &info);
	put_short(e[0], "MYLABEL    ", FAT_ATTR_VOLUME_ID, 0, 0);
	lfn_units("Hello World.txt", u, 26);
	put_lfn(e[1], 0x42, lfn_sum("HELLOW~1TXT"), u + 13);
	put_lfn(e[2], 0x01, lfn_sum("HELLOW~1TXT"), u);
	put_short(e[3], "HELLOW~1TXT", 0x20, 0, 0);
	put_lfn(e[4], 0x41, 0x12, u);                       /* orphan ... */
	put_short(e[5], "\xE5" "ELETED TXT", 0x20, 0, 0);    /* ... ended by a deleted entry */
	put_short(e[6], "ORPHAN  TXT", 0x20, 0, 0);
	put_lfn(e[7], 0x41, (uint8_t)(lfn_sum("MISMATCHTXT") + 1), u);
	put_short(e[8], "MISMATCHTXT", 0x20, 0, 0);          /* checksum differs */
	put_short(e[9], "\x05" "BC     TXT", 0x20, 0, 0);    /* 0x05 = 0xE5 = 'Õ' in CP850 */
	put_short(e[10], "LOWER   TXT", 0x20, 0x18, 0);
	put_short(e[11], "SUBDIR     ", FAT_ATTR_DIRECTORY, 0, 1);
	lfn_units("x?y", u, 13);
	u[1] = 0xD800;                                       /* unpaired surrogate */
	put_lfn(e[12], 0x41, lfn_sum("XY      BIN"), u);
	put_short(e[13], "XY      BIN", 0x20, 0, 0);
	memset(e[14], 0, 32);                                /* end of directory */
	put_short(e[15], "AFTER   TXT", 0x20, 0, 0);
	for (int i = 0; i < 16; i++) {   /* s512c1: the root's first cluster is 512 bytes */
		uint64_t off = ((uint64_t)info.reserved_sectors + (uint64_t)info.num_fats *
				info.fat_sectors + (info.root_cluster - 2)) * 512 + i * 32;
		hdev_patch(&h, off, e[i], 32);
	}
	bcache_invalidate(fat_bcache(fs));
	fat_opendir(fs, "/", &d);
	while ((ret = fat_readdir(&d, ent)) == 1) {
		if (n < 7 && strcmp(ent->name, expect[n])) {
			tap_diag("entry %d: '%s', expected '%s'", n, ent->name, expect[n]);
			ok = 0;
		}
		n++;
	}
	fat_get_stats(fs, &st);
	tap_ok(ok && ret == 0 && n == 7, "hand-written root: label skipped, LFN used, orphan/mismatch ignored, "
	       "0x05, NT case, unpaired surrogate, nothing after 0x00 (%d entries)", n);
	tap_ok(st.lfn_ignored >= 2, "ignored LFN entries counted (%lu)", st.lfn_ignored);
	tap_ok(fat_stat(fs, "/hello world.TXT", ent) == 0 && fat_stat(fs, "/HELLOW~1.TXT", ent) == 0,
	       "lookup by long and short name");
	ret = fat_opendir(fs, "/SUBDIR", &d);
	tap_ok(ret == -EIO && strstr(fat_last_error(fs), "DIR_FstClus"),
	       "directory entry pointing at cluster 1: -EIO (%s)", fat_last_error(fs));
	fat_unmount(fs);
	hdev_close(&h);
	free(ent);
}

/* Fail the k-th allocation of a mount for every k: each is -ENOMEM (or the
 * mount did not need that many) and nothing is left allocated. */
static void test_mount_nomem(void)
{
	const struct image *im = main_im;
	struct faultinj_config fi = { .probability = 100, .times = 1, .scope = FI_ALL,
				      .seed = 1 };
	int nomem = 0, ok = 1, k;

	for (k = 1; k < 40; k++) {
		struct hdev h;
		struct fat_fs *fs = NULL;
		char msg[FAT_ERR_MAX];
		uint64_t base;
		int ret;

		fresh_mm();
		mm_set_mode(MM_MODE_TWOTIER);   /* no Hybrid fallback to hide the failure */
		open_image(&h, im->name, 512);
		base = kmalloc_bytes_in_use();
		fi.interval = (unsigned long)k;
		faultinj_set(&fi);
		ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
		faultinj_off();
		if (ret == 0)
			fat_unmount(fs);
		nomem += ret == -ENOMEM;
		ok &= (ret == 0 || (ret == -ENOMEM && fs == NULL)) &&
		      kmalloc_bytes_in_use() == base && kmalloc_check() == 0;
		hdev_close(&h);
		if (ret == 0 && k > 12)
			break;
	}
	tap_ok(ok && nomem > 0, "mount with the k-th allocation failing: %d x -ENOMEM, "
	       "never a leak", nomem);
}

/* ---- broken volumes --------------------------------------------------- */

struct bpb_case {
	const char *what;
	unsigned off, len;
	uint64_t val;
	int err;
	const char *field;
};

static void test_broken_bpb(void)
{
	const struct image *im = main_im;
	static const struct bpb_case cases[] = {
		{ "bad signature", 510, 2, 0x1234, -EINVAL, "signature (offset 510) 0x1234: not 0xAA55" },
		{ "sectors per cluster 0", 13, 1, 0, -EINVAL, "BPB_SecPerClus" },
		{ "sectors per cluster 3", 13, 1, 3, -EINVAL, "BPB_SecPerClus" },
		{ "bytes per sector 1000", 11, 2, 1000, -EINVAL, "BPB_BytsPerSec" },
		{ "bytes per sector 8192", 11, 2, 8192, -EINVAL, "BPB_BytsPerSec" },
		{ "reserved sectors 0", 14, 2, 0, -EINVAL, "BPB_RsvdSecCnt" },
		{ "number of FATs 0", 16, 1, 0, -EINVAL, "BPB_NumFATs" },
		{ "FAT size 0", 36, 4, 0, -EINVAL, "BPB_FATSz32" },
		{ "FAT size x count overflows", 36, 4, 0x80000000u, -EINVAL, "BPB_FATSz32" },
		{ "root cluster 0x0FFFFFF0", 44, 4, 0x0FFFFFF0, -EINVAL, "BPB_RootClus" },
		{ "root cluster 1", 44, 4, 1, -EINVAL, "BPB_RootClus" },
		{ "total sectors 0", 32, 4, 0, -EINVAL, "BPB_TotSec32" },
		{ "FAT version 1.0", 42, 2, 0x100, -EINVAL, "BPB_FSVer 0x100:" },
		{ "media byte 0x12", 21, 1, 0x12, -EINVAL, "BPB_Media 0x12:" },
		{ "not a jump", 0, 1, 0x00, -EINVAL, "BS_jmpBoot[0] 0x0:" },
		{ "active FAT 2 of 2", 40, 2, 0x82, -EINVAL, "BPB_ExtFlags 0x82: active FAT beyond" },
		{ "root entries on FAT32", 17, 2, 512, -EINVAL, "BPB_RootEntCnt" },
	};
	char msg[FAT_ERR_MAX];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bpb_case *c = &cases[i];
		struct hdev h;
		struct fat_fs *fs = NULL;
		int ret;

		fresh_mm();
		open_image(&h, im->name, 512);
		hdev_patch_le(&h, c->off, c->val, c->len);
		msg[0] = '\0';
		ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
		tap_ok(ret == c->err && fs == NULL && strstr(msg, c->field),
		       "%s: refused with %d, '%s'", c->what, ret, msg);
		hdev_close(&h);
	}
}

static void test_truncated(void)
{
	const struct image *im = main_im;
	struct hdev h;
	struct fat_fs *fs;
	char msg[FAT_ERR_MAX];
	int ret;

	fresh_mm();
	open_image(&h, im->name, 512);
	h.dev.capacity -= 1;
	ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
	tap_ok(ret == -EINVAL && strstr(msg, "BPB_TotSec32") && strstr(msg, "truncated"),
	       "truncated volume: %d, '%s'", ret, msg);
	h.dev.capacity = 0;
	ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
	tap_ok(ret == -EINVAL && strstr(msg, "device"), "empty device: %d, '%s'", ret, msg);
	h.dev.capacity = 1000;
	h.requests = 0;
	h.fail_at = 1;
	ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
	tap_ok(ret == -EIO && strstr(msg, "boot sector"), "unreadable sector 0: %d, '%s'", ret, msg);
	hdev_close(&h);
	tap_ok(kmalloc_check() == 0 && mm_host_reports == 0, "failed mounts leave mm sound");
}

static void test_not_fat32(void)
{
	const char *which[] = { "fat16", "fat12" };

	for (int i = 0; i < 2; i++) {
		struct image *im = find_image(which[i]);
		struct hdev h;
		struct fat_fs *fs;
		char msg[FAT_ERR_MAX] = "";
		int ret = -1;

		fresh_mm();
		if (im && open_image(&h, im->name, 512) == 0) {
			ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
			hdev_close(&h);
		}
		tap_ok(ret == -EINVAL && strstr(msg, "cluster count") &&
		       strstr(msg, i ? "FAT12" : "FAT16"),
		       "mkfs.fat -F %s volume refused: '%s'", which[i] + 3, msg);
	}
}

/* Host-side FAT access to aim the chain corruptions. */
static uint32_t host_fat(struct hdev *h, const struct fat_info *in, uint32_t c)
{
	uint8_t b[4];

	pread(h->fd, b, 4, (off_t)in->reserved_sectors * in->bytes_per_sector + c * 4);
	return (b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24) & 0x0FFFFFFF;
}

struct chain_case {
	const char *what;
	int step;        /* patch the entry of the file's step-th cluster */
	int target;      /* -1: to the first cluster; else an absolute value */
	uint32_t value;
	int err;
	const char *words;
};

static void test_broken_chains(void)
{
	const struct image *im = main_im;
	const struct chain_case cases[] = {
		{ "loop back to the first cluster", 5, -1, 0, -ELOOP, "loop" },
		{ "cluster pointing at itself", 3, -2, 0, -ELOOP, "loop" },
		{ "chain running past the volume", 4, 0, 0x0FFFFF00, -EIO, "past the end" },
		{ "bad cluster in the chain", 2, 0, 0x0FFFFFF7, -EIO, "bad cluster" },
		{ "free entry in the chain", 2, 0, 0, -EIO, "free" },
		{ "chain ends early", 1, 0, 0x0FFFFFFF, -EIO, "shorter" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct chain_case *c = &cases[i];
		struct hdev h;
		struct fat_fs *fs;
		struct fat_dirent st;
		struct fat_info in;
		struct fat_file f;
		uint32_t clus, val;
		int ret;

		mount_fresh(&h, im->name, &fs, &in);
		fat_stat(fs, "/frag/scattered.bin", &st);
		clus = st.first_cluster;
		for (int s = 0; s < c->step; s++)
			clus = host_fat(&h, &in, clus);
		val = c->target == -1 ? st.first_cluster : c->target == -2 ? clus : c->value;
		for (uint32_t k = 0; k < in.num_fats; k++)
			hdev_patch_le(&h, ((uint64_t)in.reserved_sectors + k * in.fat_sectors) *
				      512 + clus * 4, val, 4);
		bcache_invalidate(fat_bcache(fs));
		ret = fat_open(fs, "/frag/scattered.bin", &f);
		tap_ok(ret == c->err && strstr(fat_last_error(fs), c->words),
		       "%s: %d, '%s'", c->what, ret, fat_last_error(fs));
		fat_unmount(fs);
		hdev_close(&h);
	}
}

/* fat_dir_bytes: a directory's chain length (walked here from the FAT
 * itself) times the cluster size; a first cluster out of range; a loop. */
static void test_dir_bytes(void)
{
	struct hdev h;
	struct fat_fs *fs;
	struct fat_info in;
	struct fat_dirent st;
	uint64_t bytes = 0;
	uint32_t n = 1, c;
	int rc;

	mount_fresh(&h, main_im->name, &fs, &in);
	fat_stat(fs, "/many", &st);
	for (c = st.first_cluster; (c = host_fat(&h, &in, c)) < 0x0FFFFFF8;)
		n++;
	rc = fat_dir_bytes(fs, st.first_cluster, &bytes);
	tap_ok(n > 1 && rc == 0 && bytes == (uint64_t)n * in.cluster_bytes,
	       "/many: %u clusters, %llu bytes", n, (unsigned long long)bytes);
	rc = fat_dir_bytes(fs, 0, &bytes);
	tap_ok(rc == 0 && bytes >= in.cluster_bytes && bytes % in.cluster_bytes == 0,
	       "the root (cluster 0): %llu bytes", (unsigned long long)bytes);
	tap_ok(fat_dir_bytes(fs, 1, &bytes) == -EIO, "first cluster 1: -EIO");
	tap_ok(fat_dir_bytes(fs, in.clusters + 2, &bytes) == -EIO, "first cluster past the volume: -EIO");
	c = host_fat(&h, &in, st.first_cluster);   /* the second cluster back to the first */
	for (uint32_t k = 0; k < in.num_fats; k++)
		hdev_patch_le(&h, ((uint64_t)in.reserved_sectors + k * in.fat_sectors) * 512 + c * 4,
			      st.first_cluster, 4);
	bcache_invalidate(fat_bcache(fs));
	tap_ok(fat_dir_bytes(fs, st.first_cluster, &bytes) == -ELOOP, "a looping chain: -ELOOP");
	fat_unmount(fs);
	hdev_close(&h);
}

/* The root directory's chain loops; a directory entry points at 0. */
static void test_broken_dirs(void)
{
	const struct image *im = main_im;
	struct hdev h;
	struct fat_fs *fs;
	struct fat_info in;
	struct fat_dir d;
	struct fat_dirent *ent = malloc(sizeof(*ent));
	uint32_t c;
	int ret, n = 0;

	mount_fresh(&h, im->name, &fs, &in);
	fat_stat(fs, "/many", ent);
	c = ent->first_cluster;
	hdev_patch_le(&h, (uint64_t)in.reserved_sectors * 512 + host_fat(&h, &in, c) * 4, c, 4);
	bcache_invalidate(fat_bcache(fs));
	fat_opendir(fs, "/many", &d);
	while ((ret = fat_readdir(&d, ent)) == 1)
		n++;
	tap_ok(ret == -ELOOP && n < 100, "loop in a directory chain: -ELOOP after %d entries", n);
	fat_unmount(fs);
	hdev_close(&h);
	free(ent);
}

/* ---- walks at the spec's limits, and '.' / '..' ------------------------ */

static uint64_t data_off(const struct fat_info *in, uint32_t c)
{
	return ((uint64_t)in->reserved_sectors + (uint64_t)in->num_fats * in->fat_sectors +
		(uint64_t)(c - 2) * in->sectors_per_cluster) * in->bytes_per_sector;
}

/* Patch FAT entry c to v in every FAT. */
static void patch_fat(struct hdev *h, const struct fat_info *in, uint32_t c, uint32_t v)
{
	for (uint32_t k = 0; k < in->num_fats; k++)
		hdev_patch_le(h, ((uint64_t)in->reserved_sectors + k * in->fat_sectors) *
			      in->bytes_per_sector + c * 4, v, 4);
}

/* Entries of directory path; e holds the last one, *ret how it ended. */
static int count_dir(struct fat_fs *fs, const char *path, struct fat_dirent *e, int *ret)
{
	struct fat_dir d;
	int n = 0;

	*ret = fat_opendir(fs, path, &d);
	if (*ret)
		return 0;
	while ((*ret = fat_readdir(&d, e)) == 1)
		n++;
	return n;
}

/* /full holds the 65,536 entries the spec allows (section 6) and no end
 * marker: the chain's end ends it; a chain going on ends at an end marker
 * at a cluster edge, and an entry in use past the limit is an error. */
static void test_dirfull(void)
{
	struct fat_dirent *e = malloc(sizeof(*e));
	uint8_t extra[32] = "EXTRA   TXT\x20";
	struct fat_info in;
	struct fat_fs *fs;
	struct hdev h;
	uint32_t last, spare = 2;
	int n, ret;

	fresh_mm();
	if (open_image(&h, "dirfull", 512) || fat_mount(&h.dev, &fs, NULL, 0)) {
		tap_ok(0, "dirfull image mounts");
		free(e);
		return;
	}
	fat_get_info(fs, &in);
	n = count_dir(fs, "/full", e, &ret);
	tap_ok(ret == 0 && n == 65534 && !strcmp(e->name, "0000FFFF.TXT"),
	       "65,536 entries, no end marker: %d listed up to '%s', then the end (%d)", n, e->name, ret);
	tap_ok(fat_stat(fs, "/full/0000FFFF.TXT", e) == 0 && fat_stat(fs, "/full/00000002.TXT", e) == 0,
	       "first and last entries found by name");
	fat_stat(fs, "/full", e);
	for (last = e->first_cluster; host_fat(&h, &in, last) < 0x0FFFFFF8;)
		last = host_fat(&h, &in, last);
	while (host_fat(&h, &in, spare) != 0)
		spare++;
	patch_fat(&h, &in, last, spare);
	bcache_invalidate(fat_bcache(fs));
	n = count_dir(fs, "/full", e, &ret);
	tap_ok(ret == 0 && n == 65534, "chain going on to a cluster starting with an end marker: %d, %d", n, ret);
	hdev_patch(&h, data_off(&in, spare), extra, 32);
	bcache_invalidate(fat_bcache(fs));
	n = count_dir(fs, "/full", e, &ret);
	tap_ok(ret == -EIO && n == 65534 && strstr(fat_last_error(fs), "65536"),
	       "an entry in use past 65,536: -EIO after %d (%s)", n, fat_last_error(fs));
	fat_unmount(fs);
	hdev_close(&h);
	free(e);
}

/* Resolve '.' and '..' in /a/b of s512c1 with its own '.' and '..'
 * patched (deleted, or '..' pointing elsewhere): Linux and Windows walk
 * back up the path they came down, so must Tally. */
static void dots_case(const struct image *im, bool dotdot_elsewhere)
{
	struct fat_dirent *e = malloc(sizeof(*e));
	struct fat_info in;
	struct fat_fs *fs;
	struct hdev h;
	uint64_t off;
	int n, ret;

	mount_fresh(&h, im->name, &fs, &in);
	fat_stat(fs, "/a/b", e);
	off = data_off(&in, e->first_cluster);
	fat_stat(fs, "/sizes", e);
	hdev_patch_le(&h, off, 0xE5, 1);                   /* '.' deleted */
	if (dotdot_elsewhere)
		hdev_patch_le(&h, off + 32 + 26, e->first_cluster, 2);   /* '..' -> /sizes */
	else
		hdev_patch_le(&h, off + 32, 0xE5, 1);      /* '..' deleted */
	bcache_invalidate(fat_bcache(fs));
	n = count_dir(fs, "/a/b", e, &ret);
	tap_ok(fat_chdir(fs, "/a/b") == 0 && fat_stat(fs, ".", e) == 0 && !strcmp(e->name, "b") &&
	       (e->attr & FAT_ATTR_DIRECTORY) && n == 1 && count_dir(fs, ".", e, &ret) == 1 &&
	       ret == 0 && !strcmp(e->name, "c"), "'.' %s: cd /a/b, stat . and ls . work",
	       dotdot_elsewhere ? "deleted, '..' pointing at /sizes" : "and '..' deleted");
	tap_ok(fat_stat(fs, "..", e) == 0 && !strcmp(e->name, "a") &&
	       count_dir(fs, "..", e, &ret) == 1 && ret == 0 && !strcmp(e->name, "b") &&
	       real_is(fs, "c/../..", "/a") == 0,
	       "'..' is the directory walked through: stat, ls and realpath");
	tap_ok(fat_chdir(fs, "..") == 0 && !strcmp(fat_getcwd(fs), "/a") &&
	       fat_chdir(fs, "b/c") == 0 && fat_chdir(fs, "../..") == 0 &&
	       !strcmp(fat_getcwd(fs), "/a") && fat_stat(fs, "b/c/file.txt", e) == 0,
	       "cd .. from it lands in /a (cwd %s)", fat_getcwd(fs));
	fat_unmount(fs);
	hdev_close(&h);
	free(e);
}

/* Where the disk holds two labels, the one blkid's LABEL and Windows
 * report: the root directory's entry; BS_VolLab is LABEL_FATBOOT. */
static void test_labels(void)
{
	const struct image *im = main_im;
	struct { const char *what; unsigned off, len; uint64_t val; const char *name11;
		 const char *label, *boot; uint32_t serial; } cases[] = {
		{ "as mkfs.fat -n made it", 0, 0, 0, NULL, "TALLY", "TALLY", 0x7A11E006 },
		{ "BS_VolLab differs", 71, 0, 0, "BOOTSIDE   ", "TALLY", "BOOTSIDE", 0x7A11E006 },
		{ "BS_VolLab NO NAME", 71, 0, 0, "NO NAME    ", "TALLY", "", 0x7A11E006 },
		{ "no BS_BootSig", 66, 1, 0, NULL, "TALLY", "", 0x7A11E006 },
		{ "root label deleted", 1, 1, 0xE5, NULL, "", "TALLY", 0x7A11E006 },
		{ "root label with ESC", 1, 0, 0, "RT\x1bLBL     ", "RT\x1bLBL", "TALLY", 0x7A11E006 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fat_info in;
		struct fat_fs *fs;
		struct hdev h;
		uint64_t at;
		uint8_t root[512];

		mount_fresh(&h, im->name, &fs, &in);
		fat_unmount(fs);
		at = cases[i].off;
		if (at == 1) {       /* the root's label entry */
			pread(h.fd, root, 512, (off_t)data_off(&in, in.root_cluster));
			for (at = 0; at < 512 && (root[at + 11] & 0x3F) != FAT_ATTR_VOLUME_ID; at += 32)
				;
			at += data_off(&in, in.root_cluster);
		}
		if (cases[i].name11)
			hdev_patch(&h, at, cases[i].name11, 11);
		else if (cases[i].len)
			hdev_patch_le(&h, at, cases[i].val, cases[i].len);
		fat_mount(&h.dev, &fs, NULL, 0);
		fat_get_info(fs, &in);
		tap_ok(!strcmp(in.label, cases[i].label) && !strcmp(in.boot_label, cases[i].boot) &&
		       in.serial == cases[i].serial && in.part_table == FAT_PT_NONE &&
		       in.partition == 0 && in.start_sector == 0,
		       "label, %s: '%s' (boot sector '%s'), serial %08X", cases[i].what,
		       in.label, in.boot_label, in.serial);
		fat_unmount(fs);
		hdev_close(&h);
	}
}

/* BPB_ExtFlags (spec section 3.3): with bit 7 set only the active FAT
 * (bits 0-3) is used; without it every FAT mirrors FAT 0, which is read. */
static void test_extflags(void)
{
	const struct image *im = main_im;
	static const struct { uint16_t flags; int ok; } cases[] = {
		{ 0x0081, 1 }, { 0x0001, 0 }, { 0x0000, 0 },
	};

	for (unsigned i = 0; i < 3; i++) {
		struct fat_dirent st;
		struct fat_info in;
		struct fat_fs *fs;
		struct fat_file f;
		struct hdev h;
		uint32_t c;
		int ret;

		mount_fresh(&h, im->name, &fs, &in);
		fat_stat(fs, "/frag/scattered.bin", &st);
		c = host_fat(&h, &in, st.first_cluster);
		fat_unmount(fs);
		hdev_patch_le(&h, (uint64_t)in.reserved_sectors * 512 + c * 4, 0, 4);  /* FAT 0 only */
		hdev_patch_le(&h, 40, cases[i].flags, 2);
		fat_mount(&h.dev, &fs, NULL, 0);
		ret = fat_open(fs, "/frag/scattered.bin", &f);
		tap_ok(cases[i].ok ? ret == 0 && check_pieces(fs, im, "/frag/scattered.bin") == 0 :
		       ret == -EIO, "BPB_ExtFlags 0x%04X, FAT 0 broken: %s (%d)", cases[i].flags,
		       cases[i].ok ? "FAT 1 read" : "FAT 0 read, -EIO", ret);
		fat_unmount(fs);
		hdev_close(&h);
	}
}

/* Volumes inside partition tables (mkimages.py: partition 2 after a
 * non-FAT partition 1 at 1 MiB of 4 MiB). */
static void test_partitions(void)
{
	static const struct { const char *img, *what; unsigned sector; uint8_t table;
			      uint64_t start; unsigned off, len; uint64_t val; int err;
			      const char *words; } cases[] = {
		{ "mbr512", "MBR", 512, FAT_PT_MBR, 10240, 0, 0, 0, 0, "" },
		{ "gpt512", "GPT", 512, FAT_PT_GPT, 10240, 0, 0, 0, 0, "" },
		{ "gpt4096", "GPT, 4096-byte blocks", 4096, FAT_PT_GPT, 1280, 0, 0, 0, 0, "" },
		{ "gpt512", "GPT header damaged", 512, 0, 0, 512 + 56, 1, 0x5A, -EINVAL,
		  "GPT HeaderCRC32" },
		{ "mbr512", "MBR, FAT entry emptied", 512, 0, 0, 446 + 16 + 4, 1, 0, -EINVAL,
		  "MBR partition 1 (sector 2048): " },
		{ "mbr512", "MBR, FAT entry past the disk", 512, 0, 0, 446 + 4, 1, 0, -EINVAL,
		  "MBR partition 2 (sector 4294967040): partition start" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char msg[FAT_ERR_MAX] = "";
		struct fat_dirent st;
		struct fat_info in;
		struct fat_fs *fs = NULL;
		struct hdev h;
		int ret;

		fresh_mm();
		if (open_image(&h, cases[i].img, cases[i].sector)) {
			tap_ok(0, "%s present", cases[i].img);
			continue;
		}
		if (cases[i].len)
			hdev_patch_le(&h, cases[i].off, cases[i].val, cases[i].len);
		if (strstr(cases[i].words, "sector 4294967040"))
			hdev_patch_le(&h, 446 + 16 + 8, 0xFFFFFF00u, 4);
		ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
		if (ret == 0) {
			fat_get_info(fs, &in);
			ret = fat_stat(fs, "/a/b/c/file.txt", &st);
			tap_ok(ret == 0 && cases[i].err == 0 && in.part_table == cases[i].table &&
			       in.partition == 2 && in.start_sector == cases[i].start,
			       "%s: partition %u at sector %llu found and read", cases[i].what,
			       in.partition, (unsigned long long)in.start_sector);
			fat_unmount(fs);
		} else {
			tap_ok(ret == cases[i].err && cases[i].err && fs == NULL &&
			       strstr(msg, cases[i].words), "%s: %d, '%s'", cases[i].what, ret, msg);
		}
		hdev_close(&h);
	}
	tap_ok(kmalloc_check() == 0, "mm sound after the partition mounts");
}

/* ---- deep paths (mkimages.py make_deep) ------------------------------ */

/* Level i (1-based) of the deep image's directory top, as DEEP makes it. */
static void deep_name(const char *top, int i, char *out)
{
	int n = !strcmp(top, "wide") ? sprintf(out, "%d", i) :
		!strcmp(top, "long") ? sprintf(out, "%02d", i) : 0;
	int len = !strcmp(top, "wide") ? 202 : !strcmp(top, "long") ? 255 : 1;

	memset(out + n, !strcmp(top, "wide") ? 'w' : !strcmp(top, "long") ? 'n' : 'd',
	       (size_t)(len - n));
	out[len] = '\0';
}

/* /top and its levels 1..n, into a malloc'd string. */
static char *deep_path(const char *top, int n)
{
	char *p = malloc(16 + (size_t)n * 260), name[300];

	sprintf(p, "/%s", top);
	for (int i = 1; i <= n; i++) {
		deep_name(top, i, name);
		strcat(strcat(p, "/"), name);
	}
	return p;
}

/* leaf.txt of the current directory reads "leaf of /top\n". */
static int leaf_ok(struct fat_fs *fs, const char *top)
{
	char want[32], got[32];
	struct fat_file f;
	long n = -1;

	snprintf(want, sizeof(want), "leaf of /%s\n", top);
	if (fat_open(fs, "leaf.txt", &f) == 0) {
		n = fat_read(&f, got, sizeof(got));
		fat_close(&f);
	}
	return n == (long)strlen(want) && !memcmp(got, want, (size_t)n);
}

/* Down /top one cd at a time (each level found by readdir, as a user
 * finds it with ls), pwd and realpath agreeing at every level, the leaf
 * read by its relative name at the bottom, then back up with "..". */
static void deep_case(struct fat_fs *fs, const char *top, int levels)
{
	struct fat_dirent *e = malloc(sizeof(*e));
	char *want = deep_path(top, levels), *real = NULL;
	int ok = fat_chdir(fs, "/") == 0 && fat_chdir(fs, top) == 0, i, ret;

	for (i = 1; ok && i <= levels; i++) {
		struct fat_dir d;
		char *p = deep_path(top, i);

		ok = fat_opendir(fs, ".", &d) == 0 && fat_readdir(&d, e) == 1 &&
		     (e->attr & FAT_ATTR_DIRECTORY) && fat_chdir(fs, e->name) == 0 &&
		     !strcmp(fat_getcwd(fs), p) && real_is(fs, ".", p) == 0;
		if (!ok)
			tap_diag("/%s level %d: %s", top, i, fat_last_error(fs));
		free(p);
	}
	tap_ok(ok && !strcmp(fat_getcwd(fs), want) && fat_stat(fs, "leaf.txt", e) == 0 &&
	       e->size == strlen(top) + 10 && leaf_ok(fs, top),
	       "/%s: cd %d times (last %zu bytes of path), pwd agrees, leaf.txt by relative name",
	       top, levels, strlen(want));
	ret = fat_realpath(fs, "leaf.txt", &real);
	tap_ok(ret == 0 && !strncmp(real, want, strlen(want)) && !strcmp(real + strlen(want), "/leaf.txt"),
	       "/%s: realpath of the leaf is its %zu-byte absolute path", top, real ? strlen(real) : 0);
	kfree(real);
	for (i = 0, ok = 1; ok && i < levels; i++)
		ok = fat_chdir(fs, "..") == 0;
	tap_ok(ok && fat_chdir(fs, "/") == 0 && fat_chdir(fs, want) == 0 &&
	       !strcmp(fat_getcwd(fs), want) && fat_stat(fs, want, e) == 0 &&
	       fat_chdir(fs, "../..") == 0 && strlen(fat_getcwd(fs)) < strlen(want) &&
	       fat_chdir(fs, "/") == 0, "/%s: back up with .., and the whole absolute path works", top);
	free(want);
	free(e);
}

/* Paths longer than any fixed buffer: listed as mdir lists them, reached
 * by cd (one level at a time, or whole), pwd, realpath, relative names. */
static void test_deep(void)
{
	struct strlist got = { 0 }, want = { 0 };
	struct fat_stats s0, s1;
	struct fat_info in;
	struct fat_fs *fs;
	struct hdev h;
	uint64_t used0;
	int same, ret;

	if (!find_image("deep"))
		return (void)tap_ok(0, "deep image built");
	mount_fresh(&h, "deep", &fs, &in);
	fat_get_stats(fs, &s0);
	mm_shrink(~0ul);
	used0 = kmalloc_bytes_in_use();
	ret = walk(fs, "", &got, 0);
	read_list_file("deep", &want);
	qsort(got.v, got.n, sizeof(char *), cmp_str);
	same = ret == 0 && got.n == want.n && want.n > 100;
	for (size_t i = 0; same && i < got.n; i++)
		same = !strcmp(got.v[i], want.v[i]);
	tap_ok(same, "deep: listing of %zu entries equals mdir's (%zu), paths up to 6,158 bytes",
	       got.n, want.n);
	sl_free(&got);
	sl_free(&want);
	deep_case(fs, "wide", 6);
	deep_case(fs, "long", 24);
	deep_case(fs, "d", 70);
	fat_get_stats(fs, &s1);
	mm_shrink(~0ul);   /* the block cache's buffers back */
	tap_ok(s0.held_bytes == 2 * 64 * 4 + 2 * 256 && s1.held_bytes > s0.held_bytes &&
	       kmalloc_bytes_in_use() - used0 == s1.held_bytes - s0.held_bytes,
	       "held_bytes: %lu at mount, %lu after the deep walks: all the fs grew by (%llu)",
	       s0.held_bytes, s1.held_bytes,
	       (unsigned long long)(kmalloc_bytes_in_use() - used0));
	fat_unmount(fs);
	tap_ok(kmalloc_check() == 0 && kmalloc_bytes_in_use() == 0, "deep: nothing left after unmount");
	hdev_close(&h);
}

/* Out of memory while a walk or a path grows: -ENOMEM said, the cwd
 * unchanged, and the same call works once memory is back. */
static void test_deep_nomem(void)
{
	struct fat_dirent *e = malloc(sizeof(*e));
	char *longp = deep_path("long", 24), *dp = deep_path("d", 70), *real = NULL;
	struct fat_info in;
	struct fat_fs *fs;
	struct hdev h;
	void *hog;
	int ret;

	if (!find_image("deep"))
		return (void)tap_ok(0, "deep image built");
	mount_fresh(&h, "deep", &fs, &in);
	hog = hog_all();
	ret = fat_stat(fs, dp, e);
	tap_ok(ret == -ENOMEM && strstr(fat_last_error(fs), "path walk of depth 64: no memory"),
	       "walk past 64 levels without memory: %d, '%s'", ret, fat_last_error(fs));
	ret = fat_chdir(fs, longp);
	tap_ok(ret == -ENOMEM && strstr(fat_last_error(fs), "no memory for it") &&
	       !strcmp(fat_getcwd(fs), "/"), "cd to a 6,149-byte path without memory: %d, "
	       "'%s', cwd still '%s'", ret, fat_last_error(fs), fat_getcwd(fs));
	ret = fat_realpath(fs, longp, &real);
	tap_ok(ret == -ENOMEM && !real, "realpath of it without memory: %d, nothing returned", ret);
	hog_release(hog);
	tap_ok(fat_stat(fs, dp, e) == 0 && fat_chdir(fs, longp) == 0 &&
	       !strcmp(fat_getcwd(fs), longp) && real_is(fs, ".", longp) == 0,
	       "with memory back: the same stat, cd and realpath work");
	hog = hog_all();
	ret = fat_realpath(fs, ".", &real);
	tap_ok(ret == -ENOMEM && !real && strstr(fat_last_error(fs), "no memory for a copy") &&
	       !strcmp(fat_getcwd(fs), longp), "realpath's copy without memory: %d, '%s'",
	       ret, fat_last_error(fs));
	hog_release(hog);
	fat_unmount(fs);   /* afresh: the walk stacks at 64 levels again */
	hdev_close(&h);
	mount_fresh(&h, "deep", &fs, &in);
	ret = fat_chdir(fs, dp);   /* the cwd's stack grows to 128, the other stays at 64 */
	hog = hog_all();
	tap_ok(ret == 0 && fat_stat(fs, "leaf.txt", e) == -ENOMEM &&
	       strstr(fat_last_error(fs), "path walk of depth 64") && !strcmp(fat_getcwd(fs), dp),
	       "a relative walk from 70 levels down without memory for its stack: -ENOMEM");
	hog_release(hog);
	tap_ok(fat_stat(fs, "leaf.txt", e) == 0 && leaf_ok(fs, "d"), "... and with memory back, it works");
	fat_unmount(fs);
	tap_ok(kmalloc_check() == 0 && kmalloc_bytes_in_use() == 0, "nothing leaked");
	hdev_close(&h);
	free(longp);
	free(dp);
	free(e);
}

/* CRC-32 (IEEE, reflected) for headers the tests patch: table-driven,
 * unlike the reader's bitwise one, so a shared mistake is unlikely. */
static uint32_t test_crc32(const uint8_t *p, size_t n)
{
	static uint32_t t[256];
	static bool made;
	uint32_t c = 0xFFFFFFFFu;

	for (uint32_t i = 0; !made && i < 256; i++) {
		uint32_t v = i;

		for (int k = 0; k < 8; k++)
			v = v & 1 ? 0xEDB88320u ^ (v >> 1) : v >> 1;
		t[i] = v;
	}
	made = true;
	while (n--)
		c = t[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return ~c;
}

/* gpt512's header (92 bytes at LBA 1) with field off set to v and its
 * HeaderCRC32 recomputed, so that only the field is wrong. */
static void gpt_patch_field(struct hdev *h, unsigned off, uint64_t v, unsigned len)
{
	uint8_t hdr[92];

	if (pread(h->fd, hdr, sizeof(hdr), 512) != (ssize_t)sizeof(hdr))
		abort();
	for (unsigned i = 0; i < len; i++)
		hdr[off + i] = (uint8_t)(v >> (8 * i));
	memset(hdr + 16, 0, 4);
	hdev_patch_le(h, 512 + off, v, len);
	hdev_patch_le(h, 512 + 16, test_crc32(hdr, sizeof(hdr)), 4);
}

/* GPTs UEFI 2.x (5.3.2) and Linux's efi.c refuse, and device errors while
 * reading one (gpt512: header at LBA 1, 128 entries in LBAs 2..33,
 * FirstUsableLBA 34): each mount fails with its own error and words. */
static void test_gpt_errors(void)
{
	static const struct { const char *what; unsigned off, len; uint64_t val;
			      bool field; unsigned long fail_at; int err; const char *words; } cases[] = {
		{ "protective MBR, no \"EFI PART\"", 512, 1, 'X', false, 0, -EINVAL,
		  "GPT header: protective MBR but no \"EFI PART\" at LBA 1" },
		{ "entry array at LBA 1 (over the header)", 72, 8, 1, true, 0, -EINVAL,
		  "GPT header: entry array not where UEFI puts it" },
		{ "entry array at LBA 3 (past FirstUsableLBA)", 72, 8, 3, true, 0, -EINVAL,
		  "GPT header: entry array not where UEFI puts it" },
		{ "PartitionEntryLBA 2^64 - 8 (LBA + sectors wraps)", 72, 8, UINT64_MAX - 7, true, 0,
		  -EINVAL, "GPT header: entry array not where UEFI puts it" },
		{ "FirstUsableLBA past the disk", 40, 8, UINT64_MAX, true, 0, -EINVAL,
		  "GPT header: entry array not where UEFI puts it" },
		{ "entry 2's name changed", 1024 + 128 + 56, 1, 'Q', false, 0, -EINVAL,
		  "GPT PartitionEntryArrayCRC32 0x" },
		{ "entry 128 (the array's last sector) made used", 1024 + 127 * 128, 1, 1, false, 0,
		  -EINVAL, "GPT PartitionEntryArrayCRC32 0x" },
		{ "header read fails", 0, 0, 0, false, 2, -EIO, "GPT header (LBA 1): read error" },
		{ "first entry sector's read fails (CRC pass)", 0, 0, 0, false, 3, -EIO,
		  "GPT entries at LBA 2: read error" },
		{ "last entry sector's read fails (CRC pass)", 0, 0, 0, false, 34, -EIO,
		  "GPT entries at LBA 33: read error" },
		{ "entry sector's read fails (search pass)", 0, 0, 0, false, 35, -EIO,
		  "GPT entries at LBA 2: read error" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char msg[FAT_ERR_MAX] = "", want[FAT_ERR_MAX];
		struct fat_fs *fs = NULL;
		uint8_t crc[4];
		struct hdev h;
		int ret;

		fresh_mm();
		if (open_image(&h, "gpt512", 512) || pread(h.fd, crc, 4, 512 + 88) != 4) {
			tap_ok(0, "gpt512 present");
			continue;
		}
		if (cases[i].field)
			gpt_patch_field(&h, cases[i].off, cases[i].val, cases[i].len);
		else if (cases[i].len)
			hdev_patch_le(&h, cases[i].off, cases[i].val, cases[i].len);
		h.fail_at = cases[i].fail_at;
		snprintf(want, sizeof(want), "%s", cases[i].words);
		if (strstr(want, "ArrayCRC32"))   /* the value the header holds, in hex */
			snprintf(want, sizeof(want), "GPT PartitionEntryArrayCRC32 0x%X: does not "
				 "match the entries", crc[0] | crc[1] << 8 | crc[2] << 16 |
				 (unsigned)crc[3] << 24);
		ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
		tap_ok(ret == cases[i].err && !fs && !strncmp(msg, want, strlen(want)) &&
		       kmalloc_bytes_in_use() == 0, "GPT, %s: %d, '%s'", cases[i].what, ret, msg);
		if (ret == 0)
			fat_unmount(fs);
		hdev_close(&h);
	}
}

/* 256 KiB clusters are read (check_image); 512 KiB are refused. */
static void test_cluster_limit(void)
{
	char msg[FAT_ERR_MAX] = "";
	struct fat_fs *fs = NULL;
	struct hdev h;
	int ret = -1;

	fresh_mm();
	if (open_image(&h, "s4096c64", 4096) == 0) {
		hdev_patch_le(&h, 13, 128, 1);
		ret = fat_mount(&h.dev, &fs, msg, sizeof(msg));
		hdev_close(&h);
	}
	tap_ok(ret == -EINVAL && strstr(msg, "BPB_SecPerClus 128: clusters above 256 KiB"),
	       "4096 x 128 = 512 KiB clusters refused: '%s'", msg);
}

/* The cases that read s512c1 through one mount, each on its own. */
static void on_s512c1(void (*fn)(struct fat_fs *fs, struct hdev *h))
{
	struct fat_info in;
	struct fat_fs *fs;
	struct hdev h;

	mount_fresh(&h, "s512c1", &fs, &in);
	fn(fs, &h);
	fat_unmount(fs);
	hdev_close(&h);
}

static void paths(struct fat_fs *fs, struct hdev *h)      { (void)h; test_paths(fs); }
static void names(struct fat_fs *fs, struct hdev *h)      { (void)h; test_names(fs); }
static void read_whole(struct fat_fs *fs, struct hdev *h) { (void)h; test_read_whole(fs); }

static void case_paths(void)      { on_s512c1(paths); }
static void case_names(void)      { on_s512c1(names); }
static void case_multisector(void) { on_s512c1(test_multisector); }
static void case_read_whole(void) { on_s512c1(read_whole); }
static void case_io_errors(void)  { on_s512c1(test_io_errors); }

static void dots_in_place(void)   { dots_case(main_im, false); }
static void dots_elsewhere(void)  { dots_case(main_im, true); }

/* check_image's cases: images[arg / 2], on 512-byte sectors when arg is
 * odd, else on the image's own sector size. */
static void case_image(intptr_t arg)
{
	const struct image *im = &images[arg / 2];

	check_image(im, arg % 2 ? 512 : im->bps);
}

static const struct tap_case s512c1_cases[] = {
	TAP_CASE(case_paths),
	TAP_CASE(case_names),
	TAP_CASE(case_multisector),
	TAP_CASE(case_read_whole),
	TAP_CASE(case_io_errors),
	TAP_CASE(test_synthetic_dir),
	TAP_CASE(test_mount_nomem),
	TAP_CASE(test_broken_bpb),
	TAP_CASE(test_truncated),
	TAP_CASE(test_not_fat32),
	TAP_CASE(test_broken_chains),
	TAP_CASE(test_broken_dirs),
	TAP_CASE(test_dir_bytes),
	TAP_CASE(test_dirfull),
	TAP_CASE(dots_in_place),
	TAP_CASE(dots_elsewhere),
	TAP_CASE(test_labels),
	TAP_CASE(test_extflags),
	TAP_CASE(test_partitions),
	TAP_CASE(test_gpt_errors),
	TAP_CASE(test_cluster_limit),
	TAP_CASE(test_deep),
	TAP_CASE(test_deep_nomem),
};

#define NSTATIC (sizeof(s512c1_cases) / sizeof(s512c1_cases[0]))

/* The table: one check_image case per image built (two for a whole
 * volume with sectors over 512 bytes: a partition table's LBAs fix the
 * block size), then the fixed cases. */
int main(void)
{
	static struct tap_case cases[2 * MAXIMG + NSTATIC];
	static char names_buf[2 * MAXIMG][64];
	size_t n = 0;
	time_t t0 = time(NULL);

	tap_begin();
	tap_seed("test_fat32", seed);
	arena = aligned_alloc(4096, ARENA);
	load_manifest();
	tap_ok(nimages >= 7, "images built (%d in the manifest)", nimages);
	for (int i = 0; i < nimages; i++) {
		int whole = !strcmp(images[i].kind, "fat32");

		if (!whole && strcmp(images[i].kind, "mbr") && strcmp(images[i].kind, "gpt"))
			continue;
		for (int v = 0; v < 2; v++) {
			if (v && !(whole && images[i].bps > 512))
				continue;
			snprintf(names_buf[n], sizeof(names_buf[n]), "check_image(%s, %u)",
				 images[i].name, v ? 512 : images[i].bps);
			cases[n] = (struct tap_case)TAP_CASE_AS(names_buf[n], case_image, 2 * i + v);
			n++;
		}
	}
	main_im = find_image("s512c1");
	if (!main_im)
		return tap_ok(0, "s512c1 present"), tap_end();
	for (size_t k = 0; k < NSTATIC; k++)
		cases[n++] = s512c1_cases[k];
	tap_run(cases, n, before, NULL);
	tap_diag("took %ld s", (long)(time(NULL) - t0));
	free(arena);
	return tap_end();
}
