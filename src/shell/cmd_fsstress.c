/* cmd_fsstress.c - `fsstress [rounds] [path]`: read every file under path
 * (absolute or relative to the current directory), round after round, and
 * check each against /SHA256SUMS (which `make image` writes into the
 * volume; read whole into a buffer of its size). Meant to run while `hog`
 * or `faultinj` squeezes memory: reads take one buffer when they can and
 * stream when they cannot, and the summary says how often each happened.
 * Paths from the disk are printed through the terminal filter (%pE).
 * Ctrl-C stops it between files (result=INTERRUPTED). With a background
 * mmstress running it sets up and takes its leak check's samples while
 * that stress is parked (sh_bg_stress_park) and walks while it runs. */
#include <string.h>
#include "shell/shell.h"
#include "kernel/proc.h"
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

/* The walk: depth-first and iterative, one open directory per level and
 * the path it is at (absolute, as /SHA256SUMS names files). Both start in
 * static buffers (64 levels, 4 KiB: an ordinary tree takes no memory, so
 * faultinj hits only the reads) and grow into kmalloc'd ones as the walk
 * goes deeper, with no limit but memory: a directory or a name that
 * cannot be had for want of it is an error, named, and the walk goes on.
 * Given back after the rounds, before the leak check. */
struct level {
	struct fat_dir d;             /* ~600 bytes */
	size_t len;                   /* path length at this level */
};

#define LEVELS_FIXED 64
#define PATH_FIXED 4096
static struct level levels_fixed[LEVELS_FIXED];
static char path_fixed[PATH_FIXED];
static struct level *levels = levels_fixed;
static size_t levels_cap = LEVELS_FIXED;
static char *path = path_fixed;
static size_t path_cap = PATH_FIXED;

/* Make *buf (cap elements of elem bytes, first the static fixed) hold
 * need, doubling: 0 or -ENOMEM (*buf unchanged). */
static int grow(void **buf, size_t *cap, size_t need, size_t elem, void *fixed)
{
	size_t n = *cap;
	void *p;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return 0;
	p = *buf == fixed ? kmalloc(n * elem, 0) : krealloc(*buf, n * elem, 0);
	if (!p)
		return -ENOMEM;
	if (*buf == fixed)
		memcpy(p, fixed, *cap * elem);
	*buf = p;
	*cap = n;
	return 0;
}

static void walk_free(void)
{
	if (levels != levels_fixed)
		kfree(levels);
	if (path != path_fixed)
		kfree(path);
	levels = levels_fixed;
	levels_cap = LEVELS_FIXED;
	path = path_fixed;
	path_cap = PATH_FIXED;
}

/* True when a directory starting at `cluster` is already being walked:
 * a directory entry pointing back up the tree would loop forever. */
static int on_path(size_t depth, uint32_t cluster)
{
	for (size_t i = 0; i < depth; i++)
		if (levels[i].d.first == cluster)
			return 1;
	return 0;
}

/* Enter the directory `path` names as level `depth`; 0 or -1. */
static int enter(size_t depth)
{
	int rc = grow((void **)&levels, &levels_cap, depth + 1, sizeof(*levels),
		      levels_fixed);

	if (rc) {
		walk_error(path, "no memory to enter", rc);
		return -1;
	}
	rc = fat_opendir(st.fs, path, &levels[depth].d);
	if (rc) {
		walk_error(path, "cannot open", rc);
		return -1;
	}
	if (on_path(depth, levels[depth].d.first)) {
		fat_closedir(&levels[depth].d);
		walk_error(path, "directory loop, not entered", -ELOOP);
		return -1;
	}
	levels[depth].len = strlen(path);
	return 0;
}

/* path + '/' + name, growing path: 0 or -1 (said). */
static int path_add(size_t len, const char *name)
{
	size_t n = strlen(name);

	if (grow((void **)&path, &path_cap, len + 1 + n + 1, 1, path_fixed)) {
		path[len] = 0;
		kprintf("fsstress: %pE%s%pE: no memory for its path (%s)\n", path,
			len > 1 ? "/" : "", name, sh_errstr(-ENOMEM));
		st.errors++;
		return -1;
	}
	if (len > 1)
		path[len++] = '/';
	memcpy(path + len, name, n + 1);
	return 0;
}

/* Read every file under start (an absolute path). A Ctrl-C stops it
 * between files, with every open directory closed; returns -EINTR then,
 * else 0. */
static int walk(const char *start)
{
	size_t depth = 0;

	if (grow((void **)&path, &path_cap, strlen(start) + 1, 1, path_fixed)) {
		walk_error(start, "no memory for the path", -ENOMEM);
		return 0;
	}
	memcpy(path, start, strlen(start) + 1);
	if (enter(0))
		return 0;
	for (;;) {
		size_t len = levels[depth].len;
		int rc = console_interrupted() ? -EINTR : fat_readdir(&levels[depth].d, &dent);

		path[len] = 0;
		if (rc == -EINTR) {
			do
				fat_closedir(&levels[depth].d);
			while (depth-- > 0);
			return -EINTR;
		}
		if (rc <= 0) {                   /* end of this directory, or an error */
			if (rc < 0)
				walk_error(path, "readdir failed", rc);
			fat_closedir(&levels[depth].d);
			if (depth-- == 0)
				return 0;
			continue;
		}
		if (path_add(len, dent.name))
			continue;
		if (!(dent.attr & FAT_ATTR_DIRECTORY))
			check_file(path, dent.size);
		else if (enter(depth + 1) == 0)
			depth++;
	}
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

/* The directory to walk, as an absolute path in *start (kfree it); 0, or
 * -1 after saying why not (the same shape for a missing path and a file). */
static int start_dir(const char *top, char **start)
{
	int rc = fat_realpath(st.fs, top, start);

	if (!rc && (rc = fat_stat(st.fs, *start, &dent)) == 0 &&
	    !(dent.attr & FAT_ATTR_DIRECTORY))
		rc = -ENOTDIR;
	if (rc) {
		kfree(*start);
		return sh_fs_fail("fsstress", top, rc);
	}
	return 0;
}

/* Where to walk from (*start: kfree it) and /SHA256SUMS loaded; 0, or -1
 * after saying why not. /SHA256SUMS names files by absolute on-disk paths:
 * the walk starts from one. */
static int set_up(const char *top, char **start)
{
	if (start_dir(top, start))
		return -1;
	if (load_sums()) {
		kfree(*start);
		return -1;
	}
	return 0;
}

static int cmd_fsstress(int argc, char **argv)
{
	char *start = NULL;
	uint64_t rounds = 1, before, leaked;
	unsigned procs;
	char leak[24];
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
	/* A background mmstress lets go of its blocks while this sets up and
	 * samples: the leak check compares all of kmalloc (shell.h). */
	sh_bg_stress_park();
	if (set_up(top, &start)) {
		sh_bg_stress_unpark();
		return -1;
	}
	mm_shrink(~0ul);    /* cached blocks are not leaks: start and end empty */
	before = kmalloc_bytes_in_use();
	procs = proc_count();
	fat_get_stats(st.fs, &f0);
	sh_bg_stress_unpark();
	for (uint64_t r = 0; r < rounds && !intr; r++)
		intr = walk(start) == -EINTR;
	walk_free();
	sh_bg_stress_park();
	fat_get_stats(st.fs, &f1);
	mm_shrink(~0ul);
	/* what the fs keeps for a deeper walk than before is not a leak */
	leaked = kmalloc_bytes_in_use() - before - (f1.held_bytes - f0.held_bytes);
	procs += proc_count();
	sh_bg_stress_unpark();
	kfree(st.sums);
	kfree(start);
	/* user processes on other harts allocate and free kernel memory of
	 * their own (their structs, areas, files) between the two samples:
	 * with any alive at either, the difference says nothing of ours */
	pass = st.mismatches == 0 && st.errors == 0 && (procs || leaked == 0) && st.files > 0;
	if (procs)
		ksnprintf(leak, sizeof(leak), "unknown");
	else
		ksnprintf(leak, sizeof(leak), "%lu", (unsigned long)leaked);
	kprintf("fsstress: files=%lu bytes=%lu enomem=%lu fallbacks=%lu mismatches=%lu "
		"leaked_bytes=%s result=%s\n", st.files, (unsigned long)st.bytes,
		(f1.streamed_reads - f0.streamed_reads) + (f1.stream_stack - f0.stream_stack),
		f1.streamed_reads - f0.streamed_reads, st.mismatches, leak,
		intr ? "INTERRUPTED" : pass ? "PASS" : "FAIL");
	return intr ? SH_INTERRUPTED : pass ? 0 : -1;
}
SH_COMMAND("fsstress", "[rounds] [path]",
	   "read every file, verify against /SHA256SUMS, count fallbacks", cmd_fsstress);
