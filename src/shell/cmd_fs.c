/* cmd_fs.c - file commands on the root FAT32 volume: ls, cd, pwd, cat,
 * stat, hexdump, sha256sum; and Tab completion of paths. Errors name the
 * path and the reason; with no disk every command says so. Names from
 * the disk are printed through the terminal filter (%pE, lib/escape.h);
 * cat prints a file's bytes as they are, as cat does. */
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "lib/escape.h"
#include "lib/printf.h"
#include "lib/sha256.h"
#include "mm/kmalloc.h"
#include "kerrno.h"

static struct fat_dirent ent;   /* large: kept off the stack */
static char iobuf[4096];

const char *sh_errstr(int err)
{
	switch (err) {
	case -ENOENT: return "no such file or directory";
	case -ENOTDIR: return "not a directory";
	case -EISDIR: return "is a directory";
	case -ENOMEM: return "out of memory";
	case -EIO: return "I/O error";
	case -ELOOP: return "cluster chain loops";
	case -ENAMETOOLONG: return "name too long";
	case -EINTR: return "interrupted";
	default: return "invalid";
	}
}

/* The mounted volume, or NULL after telling the user why there is none. */
struct fat_fs *sh_fs_or_say(void)
{
	const char *why = "no disk";
	struct fat_fs *fs = disk_fs(&why);

	if (!fs)
		kprintf("error: no filesystem: %s\n", why);
	return fs;
}

int sh_fs_fail(const char *cmd, const char *path, int err)
{
	kprintf("%s: %pE: %s\n", cmd, path, sh_errstr(err));
	return -1;
}

static void print_entry(const struct fat_dirent *e, int longfmt)
{
	int dir = e->attr & FAT_ATTR_DIRECTORY;

	if (longfmt)   /* type, then FAT's read-only, hidden, system, archive */
		kprintf("%c%c%c%c%c %10u  %04u-%02u-%02u %02u:%02u  ", dir ? 'd' : '-',
			e->attr & FAT_ATTR_READ_ONLY ? 'r' : '-',
			e->attr & FAT_ATTR_HIDDEN ? 'h' : '-', e->attr & FAT_ATTR_SYSTEM ? 's' : '-',
			e->attr & FAT_ATTR_ARCHIVE ? 'a' : '-', e->size, e->mtime.year,
			e->mtime.month, e->mtime.day, e->mtime.hour, e->mtime.min);
	kprintf("%pE%s\n", e->name, dir ? "/" : "");
}

static int cmd_ls(int argc, char **argv)
{
	struct fat_fs *fs;
	struct fat_dir d;
	int longfmt = argc > 1 && !strcmp(argv[1], "-l");
	const char *path = argc > 1 + longfmt ? argv[1 + longfmt] : ".";
	int rc;

	if (argc > 2 + longfmt || !(fs = sh_fs_or_say()))
		return argc > 2 + longfmt ? SH_USAGE : -1;
	rc = fat_stat(fs, path, &ent);
	if (rc)
		return sh_fs_fail("ls", path, rc);
	if (!(ent.attr & FAT_ATTR_DIRECTORY)) {
		print_entry(&ent, longfmt);
		return 0;
	}
	rc = fat_opendir(fs, path, &d);
	while (!rc && (rc = fat_readdir(&d, &ent)) == 1)
		rc = (print_entry(&ent, longfmt), 0);
	fat_closedir(&d);
	return rc < 0 ? sh_fs_fail("ls", path, rc) : 0;
}
SH_COMMAND("ls", "[-l] [path]", "list a directory", cmd_ls);

static int cmd_cd(int argc, char **argv)
{
	struct fat_fs *fs;
	int rc;

	if (argc > 2)
		return SH_USAGE;
	if (!(fs = sh_fs_or_say()))
		return -1;
	rc = fat_chdir(fs, argc == 2 ? argv[1] : "/");
	return rc ? sh_fs_fail("cd", argc == 2 ? argv[1] : "/", rc) : 0;
}
SH_COMMAND("cd", "[path]", "change the current directory", cmd_cd);

static int cmd_pwd(int argc, char **argv)
{
	struct fat_fs *fs;

	(void)argv;
	if (argc != 1)
		return SH_USAGE;
	if (!(fs = sh_fs_or_say()))
		return -1;
	kprintf("%pE\n", fat_getcwd(fs));
	return 0;
}
SH_COMMAND("pwd", "", "print the current directory", cmd_pwd);

static int cmd_cat(int argc, char **argv)
{
	struct fat_fs *fs;
	struct fat_file f;
	long n = 0;
	int rc;

	if (argc != 2)
		return SH_USAGE;
	if (!(fs = sh_fs_or_say()))
		return -1;
	rc = fat_open(fs, argv[1], &f);
	if (rc)
		return sh_fs_fail("cat", argv[1], rc);
	while (!console_interrupted() && (n = fat_read(&f, iobuf, sizeof(iobuf))) > 0)
		for (long i = 0; i < n; i++)
			kputc(iobuf[i]);
	fat_close(&f);
	if (console_interrupted())
		return console_fresh_line(), SH_INTERRUPTED;
	return n < 0 ? sh_fs_fail("cat", argv[1], (int)n) : 0;
}
SH_COMMAND("cat", "path", "print a file", cmd_cat);

static void print_time(const char *key, const struct fat_time *t)
{
	kprintf("%s: %04u-%02u-%02u %02u:%02u:%02u\n", key, t->year, t->month, t->day,
		t->hour, t->min, t->sec);
}

static int cmd_stat(int argc, char **argv)
{
	struct fat_fs *fs;
	int rc;

	if (argc != 2)
		return SH_USAGE;
	if (!(fs = sh_fs_or_say()))
		return -1;
	rc = fat_stat(fs, argv[1], &ent);
	if (rc)
		return sh_fs_fail("stat", argv[1], rc);
	kprintf("name: %pE\nshort_name: %pE\n", ent.name, ent.short_name);
	kprintf("type: %s\nsize: %u\n", ent.attr & FAT_ATTR_DIRECTORY ? "directory" : "file",
		ent.size);
	kprintf("attributes: 0x%02x\nfirst_cluster: %u\n", ent.attr, ent.first_cluster);
	print_time("created", &ent.ctime);
	print_time("modified", &ent.mtime);
	kprintf("accessed: %04u-%02u-%02u\n", ent.adate.year, ent.adate.month, ent.adate.day);
	return 0;
}
SH_COMMAND("stat", "path", "show a file's directory entry", cmd_stat);

static void console_out(char c, void *ctx)
{
	(void)ctx;
	kputc(c);
}

static void hexline(uint64_t off, const unsigned char *p, size_t n)
{
	kprintf("%08lx ", (unsigned long)off);
	for (size_t i = 0; i < 16; i++) {
		if (i < n)
			kprintf(" %02x", p[i]);
		else
			kprintf("   ");
		if (i == 7)
			kputc(' ');
	}
	kprintf("  |");
	esc_write(console_out, NULL, (const char *)p, n, ESC_DOTS);
	kprintf("|\n");
}

static int cmd_hexdump(int argc, char **argv)
{
	uint64_t off = 0, len = 256;
	struct fat_fs *fs;
	struct fat_file f;
	int rc;

	if (argc < 2 || argc > 4 || (argc > 2 && sh_parse_size(argv[2], &off)) ||
	    (argc > 3 && sh_parse_size(argv[3], &len)))
		return SH_USAGE;
	if (!(fs = sh_fs_or_say()))
		return -1;
	rc = fat_open(fs, argv[1], &f);
	if (rc)
		return sh_fs_fail("hexdump", argv[1], rc);
	if (off > f.size) {
		kprintf("hexdump: %s: offset %lu past end of file (%u bytes)\n", argv[1],
			(unsigned long)off, f.size);
		fat_close(&f);
		return -1;
	}
	while (len) {
		long n = fat_pread(&f, off, iobuf, len < 16 ? len : 16);

		if (n <= 0) {
			rc = (int)n;
			break;
		}
		hexline(off, (unsigned char *)iobuf, (size_t)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	fat_close(&f);
	return rc < 0 ? sh_fs_fail("hexdump", argv[1], rc) : 0;
}
SH_COMMAND("hexdump", "path [offset [length]]", "show bytes of a file in hex", cmd_hexdump);

static int hash_sink(void *ctx, const void *data, size_t len)
{
	sha256_update(ctx, data, len);
	return 0;
}

/* Hash a file the fallible way: one buffer when memory allows, streamed
 * through the sink when it does not. Returns 0 or a negative errno. */
int sh_sha256_file(struct fat_fs *fs, const char *path, char hex[65])
{
	struct sha256 s;
	uint8_t digest[32];
	void *buf = NULL;
	size_t len = 0;
	int rc;

	sha256_init(&s);
	rc = fat_read_whole(fs, path, &buf, &len, hash_sink, &s);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		sha256_update(&s, buf, len);
		kfree(buf);
	}
	sha256_final(&s, digest);
	sha256_hex(digest, hex);
	return 0;
}

static int cmd_sha256sum(int argc, char **argv)
{
	struct fat_fs *fs;
	char hex[65];
	int bad = 0;

	if (argc < 2)
		return SH_USAGE;
	if (!(fs = sh_fs_or_say()))
		return -1;
	for (int i = 1; i < argc; i++) {
		int rc = sh_sha256_file(fs, argv[i], hex);

		if (rc)
			bad = sh_fs_fail("sha256sum", argv[i], rc);
		else
			kprintf("%s  %s\n", hex, argv[i]);
	}
	return bad;
}
SH_COMMAND("sha256sum", "path...", "SHA-256 of files, as coreutils prints it", cmd_sha256sum);

/* Tab completion of a path: offer the entries of its directory part that
 * start with its last part (up to COMPLETE_MAX of them). A candidate is
 * the typed directory part and a name; one that would not fit a line is
 * not offered. The directory part is relative to the current directory,
 * which has no length limit: completion works at any depth. */
#define COMPLETE_MAX 32
_Static_assert(RL_LINE_MAX >= 1024 + FAT_NAME_MAX + 16,
	       "a line holds a command, 1,023 bytes of directory and any name the reader lists");

static void complete_path(const char *word, int first, rl_emit_fn emit, void *ctx)
{
	static char cands[COMPLETE_MAX][RL_LINE_MAX];
	static char dir[RL_LINE_MAX];
	struct fat_fs *fs = disk_fs(NULL);
	const char *slash = strrchr(word, '/');
	size_t dlen = slash ? (size_t)(slash - word) + 1 : 0, blen = strlen(word + dlen);
	struct fat_dir d;
	int n = 0;

	(void)first;
	if (!fs || dlen >= sizeof(dir))
		return;
	memcpy(dir, word, dlen);
	dir[dlen] = 0;
	if (fat_opendir(fs, dlen ? dir : ".", &d))
		return;
	while (n < COMPLETE_MAX && fat_readdir(&d, &ent) == 1) {
		int dirflag = (ent.attr & FAT_ATTR_DIRECTORY) != 0;

		if (!strncmp(ent.name, word + dlen, blen) &&
		    ksnprintf(cands[n], sizeof(cands[n]), "%s%s%s", dir, ent.name,
			      dirflag ? "/" : "") < (int)sizeof(cands[n]))
			emit(cands[n++], ctx);
	}
	fat_closedir(&d);
}

void sh_fs_init(void)
{
	sh_set_arg_completer(complete_path);
}
