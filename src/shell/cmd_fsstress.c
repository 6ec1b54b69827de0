/* cmd_fsstress.c - `fsstress [rounds] [path]`: read every file under path
 * (absolute or relative to the current directory), round after round, and
 * check each against /SHA256SUMS (which `make image` writes into the
 * volume; read whole into a buffer of its size). Meant to run while `hog`
 * or `faultinj` squeezes memory: reads take one buffer when they can and
 * stream when they cannot, and the summary says how often each happened.
 * Paths from the disk are printed through the terminal filter (%pE).
 * Ctrl-C stops it between files (result=INTERRUPTED). */
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "lib/printf.h"
#include "mm/kmalloc.h"
#include "mm/shrinker.h"
#include "mm/stats.h"
#include "kerrno.h"

struct fsstress {
	struct fat_fs *fs;
	char *sums;                   /* /SHA256SUMS, sums_len bytes (kmalloc) */
	size_t sums_len;
	unsigned long files, mismatches, errors;
	uint64_t bytes;
};

static struct fsstress st;
static struct fat_dirent dent;

/* The digest SHA256SUMS lists for path, or NULL. Lines: "<64 hex>  /path". */
static const char *expected(const char *path)
{
	size_t plen = strlen(path);
	const char *l = st.sums, *end = st.sums + st.sums_len;

	while (l < end) {
		size_t len = 0;

		while (l + len < end && l[len] != '\n')
			len++;
		if (len == 66 + plen && !memcmp(l + 66, path, plen))
			return l;
		l += len + 1;
	}
	return NULL;
}

static void walk_error(const char *path, const char *what, int rc)
{
	kprintf("fsstress: %pE: %s (%s)\n", path, what, sh_errstr(rc));
	st.errors++;
}

static void check_file(const char *path, uint32_t size)
{
	const char *want = expected(path);
	char hex[65];
	int rc;

	if (!want) {
		if (strcmp(path, "/SHA256SUMS")) {
			kprintf("fsstress: %pE: not in /SHA256SUMS\n", path);
			st.mismatches++;
		}
		return;
	}
	rc = sh_sha256_file(st.fs, path, hex);
	st.files++;
	if (rc) {
		walk_error(path, "read failed", rc);
	} else if (strncmp(hex, want, 64)) {
		kprintf("fsstress: %pE: sha256 mismatch\n", path);
		st.mismatches++;
	} else {
		st.bytes += size;
	}
}

/* One open directory per level of the walk, kept off the stack (a level
 * is ~600 bytes): depth-first, iterative, at most FSSTRESS_DEPTH deep. */
#define FSSTRESS_DEPTH 64

/* The walk's path: where it started (at most FAT_PATH_MAX) and one name
 * per level, so that it holds any path the walk can reach. */
#define WALK_PATH_MAX (FAT_PATH_MAX + FSSTRESS_DEPTH * (FAT_NAME_MAX + 1))

static struct fat_dir levels[FSSTRESS_DEPTH];
static size_t level_len[FSSTRESS_DEPTH];   /* path length at each level */

/* True when a directory starting at `cluster` is already being walked:
 * a directory entry pointing back up the tree would loop forever. */
static int on_path(int depth, uint32_t cluster)
{
	for (int i = 0; i < depth; i++)
		if (levels[i].first == cluster)
			return 1;
	return 0;
}

/* Enter the directory `path` names as level `depth`; 0 or -1. */
static int enter(char *path, int depth)
{
	int rc;

	if (depth == FSSTRESS_DEPTH) {
		kprintf("fsstress: %pE: deeper than %d levels, not entered\n", path, FSSTRESS_DEPTH);
		st.errors++;
		return -1;
	}
	rc = fat_opendir(st.fs, path, &levels[depth]);
	if (rc) {
		walk_error(path, "cannot open", rc);
		return -1;
	}
	if (on_path(depth, levels[depth].first)) {
		fat_closedir(&levels[depth]);
		walk_error(path, "directory loop, not entered", -ELOOP);
		return -1;
	}
	level_len[depth] = strlen(path);
	return 0;
}

/* Read every file under `path` (a WALK_PATH_MAX buffer, extended in place).
 * A Ctrl-C stops it between files, with every open directory closed;
 * returns -EINTR then, else 0. */
static int walk(char *path)
{
	int depth = 0;

	if (enter(path, 0))
		return 0;
	while (depth >= 0) {
		size_t len = level_len[depth];
		int rc = console_interrupted() ? -EINTR : fat_readdir(&levels[depth], &dent);

		path[len] = 0;
		if (rc == -EINTR) {
			while (depth >= 0)
				fat_closedir(&levels[depth--]);
			return -EINTR;
		}
		if (rc <= 0) {                   /* end of this directory, or an error */
			if (rc < 0)
				walk_error(path, "readdir failed", rc);
			fat_closedir(&levels[depth--]);
			continue;
		}
		ksnprintf(path + len, WALK_PATH_MAX - len, "%s%s", len > 1 ? "/" : "", dent.name);
		if (!(dent.attr & FAT_ATTR_DIRECTORY))
			check_file(path, dent.size);
		else if (enter(path, depth + 1) == 0)
			depth++;
	}
	return 0;
}

/* /SHA256SUMS into a buffer of its size; says why when it cannot. */
static int load_sums(void)
{
	void *buf;
	int rc = fat_read_whole(st.fs, "/SHA256SUMS", &buf, &st.sums_len, NULL, NULL);

	if (rc == -ENOMEM && fat_stat(st.fs, "/SHA256SUMS", &dent) == 0)
		kprintf("fsstress: /SHA256SUMS: no memory for its %u bytes\n", dent.size);
	else if (rc)
		kprintf("fsstress: cannot read /SHA256SUMS (%s)\n", sh_errstr(rc));
	st.sums = rc ? NULL : buf;
	return rc;
}

/* The directory to walk, as an absolute path in start; 0, or -1 after
 * saying why not (the same shape for a missing path and a file). */
static int start_dir(const char *top, char *start)
{
	int rc = fat_realpath(st.fs, top, start);

	if (!rc && (rc = fat_stat(st.fs, start, &dent)) == 0 &&
	    !(dent.attr & FAT_ATTR_DIRECTORY))
		rc = -ENOTDIR;
	return rc ? sh_fs_fail("fsstress", top, rc) : 0;
}

static int cmd_fsstress(int argc, char **argv)
{
	static char path[WALK_PATH_MAX], start[FAT_PATH_MAX];
	uint64_t rounds = 1, before, leaked;
	struct fat_stats f0, f1;
	const char *top = argc > 2 ? argv[2] : "/";
	int pass, intr = 0;

	if (argc > 3 || (argc > 1 && sh_parse_u64(argv[1], &rounds)))
		return SH_USAGE;
	if (rounds == 0)
		return sh_bad_number("fsstress", argv[1], "at least 1 round");
	memset(&st, 0, sizeof(st));
	if (!(st.fs = sh_fs_or_say()))
		return -1;
	/* /SHA256SUMS names files by absolute on-disk paths: walk from one */
	if (start_dir(top, start) || load_sums())
		return -1;
	mm_shrink(~0ul);    /* cached blocks are not leaks: start and end empty */
	before = kmalloc_bytes_in_use();
	fat_get_stats(st.fs, &f0);
	for (uint64_t r = 0; r < rounds && !intr; r++) {
		memcpy(path, start, strlen(start) + 1);
		intr = walk(path) == -EINTR;
	}
	fat_get_stats(st.fs, &f1);
	mm_shrink(~0ul);
	leaked = kmalloc_bytes_in_use() - before;
	kfree(st.sums);
	pass = st.mismatches == 0 && st.errors == 0 && leaked == 0 && st.files > 0;
	kprintf("fsstress: files=%lu bytes=%lu enomem=%lu fallbacks=%lu mismatches=%lu "
		"leaked_bytes=%lu result=%s\n", st.files, (unsigned long)st.bytes,
		(f1.streamed_reads - f0.streamed_reads) + (f1.stream_stack - f0.stream_stack),
		f1.streamed_reads - f0.streamed_reads, st.mismatches, (unsigned long)leaked,
		intr ? "INTERRUPTED" : pass ? "PASS" : "FAIL");
	return intr ? SH_INTERRUPTED : pass ? 0 : -1;
}
SH_COMMAND("fsstress", "[rounds] [path]",
	   "read every file, verify against /SHA256SUMS, count fallbacks", cmd_fsstress);
