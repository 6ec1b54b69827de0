/* filetest - the file system calls and their errors, through the raw
 * system calls (tally_syscallN: Linux's -errno values, not picolibc's
 * errno), against the files `make image` puts on the volume:
 *
 *   filetest              every check below; "result: PASS" or FAIL lines
 *   filetest cwd          run from /docs: relative paths from the cwd
 *   filetest crash        open files, then a bad store: killed with 139
 *                         (the kernel must close them all the same)
 *
 * Expected values are Linux's (openat(2), read(2), lseek(2), fstat(2),
 * getdents64(2), unlinkat(2), mkdirat(2), renameat2(2) on a read-only
 * mount) or the volume's own, printed as
 * key: value lines for the QEMU test to compare with the image:
 * readme_size, readme_crc32, readme_mtime, readme_atime, big_crc32,
 * empty_ino, root_names (getdents64's order, '/' after directories). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tally/syscall.h"
#include "uapi/tally/fcntl.h"

#define E(x) (-(long)(x))   /* Linux's errno numbers */
#define EBADF_ 9
#define ENOENT_ 2
#define EFAULT_ 14
#define EEXIST_ 17
#define ENOTDIR_ 20
#define EISDIR_ 21
#define EINVAL_ 22
#define EMFILE_ 24
#define ESPIPE_ 29
#define EROFS_ 30
#define ENAMETOOLONG_ 36
#define EBUSY_ 16
#define ENOTEMPTY_ 39

#define KERNEL_ADDR 0x80200000L
#define FD_MAX 32

static long op(const char *path, long flags)
{
	return tally_syscall4(__NR_openat, LINUX_AT_FDCWD, path, flags, 0);
}

static long opat(long dirfd, const char *path, long flags)
{
	return tally_syscall4(__NR_openat, dirfd, path, flags, 0);
}

static long rd(long fd, void *buf, size_t n)
{
	return tally_syscall3(__NR_read, fd, buf, n);
}

static long cl(long fd)
{
	return tally_syscall1(__NR_close, fd);
}

/* path opens (relative to dirfd) and closes again. */
static void opens_ok(long dirfd, const char *path, long flags)
{
	long fd = opat(dirfd, path, flags);

	check(fd >= 0, "openat(%ld, %s): %ld", dirfd, path, fd);
	if (fd >= 0)
		check(cl(fd) == 0, "close of %s", path);
}

static long sk(long fd, long off, long whence)
{
	return tally_syscall3(__NR_lseek, fd, off, whence);
}

static long st(long fd, struct linux_stat *s)
{
	return tally_syscall2(__NR_fstat, fd, s);
}

static long gd(long fd, void *buf, size_t n)
{
	return tally_syscall3(__NR_getdents64, fd, buf, n);
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xEDB88320u & -(crc & 1));
	}
	return ~crc;
}

#define EXPECT(expr, want) do { long got_ = (expr), want_ = (want); \
	check(got_ == want_, "%s: %ld, expected %ld", #expr, got_, want_); } while (0)

static void opens(void)
{
	long fd;

	EXPECT(op("/nothere", 0), E(ENOENT_));
	EXPECT(op("", 0), E(ENOENT_));
	EXPECT(op("/README.txt/x", 0), E(ENOTDIR_));
	EXPECT(op("/README.txt/", 0), E(ENOTDIR_));
	EXPECT(op("/README.txt", LINUX_O_DIRECTORY), E(ENOTDIR_));
	EXPECT(op("/README.txt", LINUX_O_WRONLY), E(EROFS_));
	EXPECT(op("/README.txt", LINUX_O_RDWR), E(EROFS_));
	EXPECT(op("/README.txt", LINUX_O_TRUNC), E(EROFS_));
	EXPECT(op("/newfile", LINUX_O_CREAT | LINUX_O_WRONLY), E(EROFS_));
	EXPECT(op("/newfile", LINUX_O_CREAT), E(EROFS_));
	EXPECT(op("/newdir/", LINUX_O_CREAT), E(EISDIR_));
	EXPECT(op("/nodir/new", LINUX_O_CREAT), E(ENOENT_));
	EXPECT(op("/README.txt/new", LINUX_O_CREAT), E(ENOTDIR_));
	EXPECT(op("/README.txt", LINUX_O_CREAT | LINUX_O_EXCL), E(EEXIST_));
	EXPECT(op("/README.txt", LINUX_O_CREAT | LINUX_O_DIRECTORY), E(EINVAL_));
	EXPECT(op("/docs", LINUX_O_WRONLY), E(EISDIR_));
	EXPECT(op("/docs", LINUX_O_TRUNC), E(EISDIR_));
	EXPECT(op("/docs", LINUX_O_CREAT), E(EISDIR_));
	EXPECT(op(NULL, 0), E(EFAULT_));
	EXPECT(op((const char *)KERNEL_ADDR, 0), E(EFAULT_));
	/* O_CREAT of a file that exists, read-only: opened, as in Linux */
	fd = op("/README.txt", LINUX_O_CREAT);
	EXPECT(fd, 3);
	EXPECT(cl(fd), 0);
	fd = op("/docs", LINUX_O_DIRECTORY);
	EXPECT(fd, 3);
	EXPECT(cl(fd), 0);
	/* names: long, UTF-8, ASCII case folded, dots */
	opens_ok(LINUX_AT_FDCWD, "/docs/A file with a rather long name for FAT.txt", 0);
	opens_ok(LINUX_AT_FDCWD, "/docs/Grüße.txt", 0);
	opens_ok(LINUX_AT_FDCWD, "/readme.TXT", 0);
	opens_ok(LINUX_AT_FDCWD, "/docs/../docs/./guides/memory.txt", 0);
}

/* The calls that change names: refused as on a read-only mount, in
 * Linux's order (the directory part looked up first; unlinkat's EROFS
 * before the last name is; mkdirat's EEXIST before its EROFS). */
static void names(void)
{
	long at = LINUX_AT_FDCWD, rmdir = LINUX_AT_REMOVEDIR;

	EXPECT(tally_syscall3(__NR_unlinkat, at, "/README.txt", 0), E(EROFS_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "/no-such-file", 0), E(EROFS_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "/no-such-dir/x", 0), E(ENOENT_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "/README.txt/x", 0), E(ENOTDIR_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "", 0), E(ENOENT_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, KERNEL_ADDR, 0), E(EFAULT_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "/docs", 1), E(EINVAL_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "/docs/.", 0), E(EISDIR_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "/docs/.", rmdir), E(EINVAL_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "/docs/..", rmdir), E(ENOTEMPTY_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "/", rmdir), E(EBUSY_));
	EXPECT(tally_syscall3(__NR_unlinkat, at, "/docs", rmdir), E(EROFS_));
	EXPECT(tally_syscall3(__NR_unlinkat, 99, "x", 0), E(EBADF_));
	EXPECT(tally_syscall3(__NR_mkdirat, at, "/docs", 0755), E(EEXIST_));
	EXPECT(tally_syscall3(__NR_mkdirat, at, "/README.txt", 0755), E(EEXIST_));
	EXPECT(tally_syscall3(__NR_mkdirat, at, "/newdir", 0755), E(EROFS_));
	EXPECT(tally_syscall3(__NR_mkdirat, at, "/no-such-dir/x", 0755), E(ENOENT_));
	EXPECT(tally_syscall5(__NR_renameat2, at, "/README.txt", at, "/x", 0), E(EROFS_));
	EXPECT(tally_syscall5(__NR_renameat2, at, "/README.txt", at, "/x", 8), E(EINVAL_));
	EXPECT(tally_syscall5(__NR_renameat2, at, "/README.txt", at, "/x",
			      LINUX_RENAME_EXCHANGE | LINUX_RENAME_NOREPLACE), E(EINVAL_));
	EXPECT(tally_syscall5(__NR_renameat2, at, "/no-such-dir/a", at, "/b", 0), E(ENOENT_));
	EXPECT(tally_syscall5(__NR_renameat2, at, "/README.txt", at, "/no-such-dir/b", 0), E(ENOENT_));
	EXPECT(tally_syscall5(__NR_renameat2, at, "/docs/.", at, "/x", 0), E(EBUSY_));
	EXPECT(tally_syscall5(__NR_renameat2, at, "/README.txt", at, KERNEL_ADDR, 0), E(EFAULT_));
}

static void path_limits(void)
{
	char *p = malloc(4200);
	size_t n;

	if (!check(p != NULL, "malloc"))
		return;
	/* PATH_MAX 4096 counts the NUL: 4095 bytes fit, 4096 do not */
	n = 4095 - strlen("README.txt");
	memset(p, '/', n);
	strcpy(p + n, "README.txt");
	long fd = op(p, 0);
	check(fd >= 0, "a 4095-byte path opens: %ld", fd);
	cl(fd);
	memset(p, '/', n + 1);
	strcpy(p + n + 1, "README.txt");
	EXPECT(op(p, 0), E(ENAMETOOLONG_));
	free(p);
}

static void descriptors(void)
{
	long fds[FD_MAX], fd;
	int n = 0;

	/* lowest free first; 3..FD_MAX-1 then -EMFILE */
	while (n < FD_MAX && (fd = op("/README.txt", 0)) >= 0)
		fds[n++] = fd;
	EXPECT(n, FD_MAX - 3);
	EXPECT(op("/README.txt", 0), E(EMFILE_));
	EXPECT(op("/nothere", 0), E(EMFILE_));   /* Linux takes the fd before the lookup */
	EXPECT(fds[0], 3);
	EXPECT(fds[n - 1], FD_MAX - 1);
	EXPECT(cl(fds[5]), 0);
	EXPECT(op("/README.txt", 0), fds[5]);
	for (int i = 0; i < n; i++)
		EXPECT(cl(fds[i]), 0);
	EXPECT(cl(fds[0]), E(EBADF_));
	EXPECT(cl(-1), E(EBADF_));
	EXPECT(cl(1000), E(EBADF_));
	EXPECT(rd(77, &fd, 1), E(EBADF_));
	EXPECT(rd(1, &fd, 1), E(EBADF_));   /* stdout is write-only */
	EXPECT(sk(77, 0, LINUX_SEEK_SET), E(EBADF_));
	EXPECT(gd(77, &fd, 8), E(EBADF_));
}

static void reads(void)
{
	static unsigned char buf[8192], readme[8192];
	struct linux_stat s;
	long fd = op("/README.txt", 0), n, size;
	uint32_t crc;

	if (!check(fd >= 0, "open README.txt: %ld", fd))
		return;
	EXPECT(st(fd, &s), 0);
	size = s.st_size;
	check((s.st_mode & LINUX_S_IFMT) == LINUX_S_IFREG && (s.st_mode & 07777) == 0444,
	      "README.txt st_mode 0%o", (unsigned)s.st_mode);
	EXPECT(s.st_blksize, 4096);
	EXPECT(s.st_blocks, (size + 4095) / 4096 * 8);
	EXPECT(s.st_nlink, 1);
	check(s.st_ino >= 2 && s.st_ino < (1u << 28), "README.txt st_ino %llu: a cluster",
	      (unsigned long long)s.st_ino);
	printf("readme_size: %ld\nreadme_mtime: %lld\nreadme_atime: %lld\n", size,
	       (long long)s.st_mtime_sec, (long long)s.st_atime_sec);
	EXPECT(s.st_ctime_sec, s.st_mtime_sec);   /* Linux's vfat: no change time */
	/* short reads at the end; 0 after it */
	n = rd(fd, readme, sizeof(readme));
	EXPECT(n, size);
	crc = crc32_update(0, readme, (size_t)n);
	printf("readme_crc32: %08lx\n", (unsigned long)crc);
	EXPECT(rd(fd, buf, sizeof(buf)), 0);
	EXPECT(rd(fd, buf, 0), 0);
	/* lseek */
	EXPECT(sk(fd, 10, LINUX_SEEK_SET), 10);
	EXPECT(sk(fd, 5, LINUX_SEEK_CUR), 15);
	EXPECT(sk(fd, 0, LINUX_SEEK_END), size);
	EXPECT(sk(fd, -1, LINUX_SEEK_END), size - 1);
	EXPECT(rd(fd, buf, 100), 1);
	EXPECT(buf[0], '\n');
	EXPECT(sk(fd, -1, LINUX_SEEK_SET), E(EINVAL_));
	EXPECT(sk(fd, -(size + 1), LINUX_SEEK_END), E(EINVAL_));
	EXPECT(sk(fd, 0, 7), E(EINVAL_));
	EXPECT(sk(fd, 0x100000000L, LINUX_SEEK_SET), E(EINVAL_));
	EXPECT(sk(fd, size + 100, LINUX_SEEK_SET), size + 100);
	EXPECT(rd(fd, buf, 10), 0);
	EXPECT(sk(fd, 3, LINUX_SEEK_SET), 3);
	EXPECT(rd(fd, buf, 4), 4);
	check(!memcmp(buf, readme + 3, 4), "bytes 3..6 after lseek");
	EXPECT(sk(fd, 0, LINUX_SEEK_CUR), 7);
	EXPECT(sk(0, 0, LINUX_SEEK_CUR), E(ESPIPE_));
	EXPECT(sk(1, 5, 99), E(ESPIPE_));
	/* bad buffers: nothing read, the offset unmoved */
	EXPECT(rd(fd, NULL, 10), E(EFAULT_));
	EXPECT(rd(fd, (void *)KERNEL_ADDR, 10), E(EFAULT_));
	EXPECT(sk(fd, 0, LINUX_SEEK_CUR), 7);
	/* writing a file opened read-only, or stdin */
	EXPECT(tally_syscall3(__NR_write, fd, "x", 1), E(EBADF_));
	EXPECT(tally_syscall3(__NR_write, 0, "x", 1), E(EBADF_));
	/* a buffer whose second half is past the heap's end: a short read */
	uintptr_t brk0 = (uintptr_t)tally_syscall1(__NR_brk, 0);
	uintptr_t end = (brk0 + 2 * 4096) & ~(uintptr_t)4095;
	if (check((uintptr_t)tally_syscall1(__NR_brk, end) == end, "brk to %lx", (unsigned long)end)) {
		EXPECT(sk(fd, 0, LINUX_SEEK_SET), 0);
		EXPECT(rd(fd, (void *)(end - 100), 200), 100);
		EXPECT(sk(fd, 0, LINUX_SEEK_CUR), 100);
		check(!memcmp((void *)(end - 100), readme, 100), "the short read's bytes");
	}
	EXPECT(st(fd, NULL), E(EFAULT_));
	EXPECT(st(fd, (void *)KERNEL_ADDR), E(EFAULT_));
	EXPECT(st(88, &s), E(EBADF_));
	EXPECT(st(0, &s), 0);
	check((s.st_mode & LINUX_S_IFMT) == LINUX_S_IFCHR, "stdin st_mode 0%o", (unsigned)s.st_mode);
	EXPECT(cl(fd), 0);

	/* an empty file: no cluster, an inode number all the same */
	fd = op("/empty.txt", 0);
	EXPECT(fd, 3);
	EXPECT(st(fd, &s), 0);
	EXPECT(s.st_size, 0);
	EXPECT(s.st_blocks, 0);
	check(s.st_ino >= (1ull << 48), "empty.txt st_ino %llx", (unsigned long long)s.st_ino);
	printf("empty_ino: %llu\n", (unsigned long long)s.st_ino);
	EXPECT(rd(fd, buf, sizeof(buf)), 0);
	cl(fd);
}

/* The 4 MiB file in reads of odd sizes: crc32 of the whole. */
static void big(void)
{
	static const size_t sizes[] = { 1, 4095, 4097, 65536, 513, 200000 };
	unsigned char *buf = malloc(200000);
	long fd = op("/big/random-4M.bin", 0), n, total = 0;
	uint32_t crc = 0;
	unsigned i = 0;

	if (!check(fd >= 0 && buf, "open big: %ld", fd))
		return;
	while ((n = rd(fd, buf, sizes[i++ % 6])) > 0) {
		crc = crc32_update(crc, buf, (size_t)n);
		total += n;
	}
	EXPECT(n, 0);
	EXPECT(total, 4 << 20);
	printf("big_crc32: %08lx\n", (unsigned long)crc);
	cl(fd);
	free(buf);
}

/* Every record of fd's directory into names (one '\n'-ended line each),
 * reading with a buffer of bufsize: the record count. */
static int list(long fd, size_t bufsize, char *names, size_t cap, uint64_t *dot_ino,
		uint64_t *readme_ino, uint64_t *empty_ino)
{
	static char buf[4096];
	int count = 0;
	long n;
	int64_t last_off = 0;

	names[0] = '\0';
	while ((n = gd(fd, buf, bufsize)) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);

			check(d->d_reclen % 8 == 0 && d->d_reclen >= 20, "d_reclen %u", d->d_reclen);
			check(d->d_off > last_off, "d_off %lld after %lld", (long long)d->d_off,
			      (long long)last_off);
			last_off = d->d_off;
			if (!strcmp(d->d_name, "."))
				*dot_ino = d->d_ino;
			if (!strcmp(d->d_name, "README.txt"))
				*readme_ino = d->d_ino;
			if (!strcmp(d->d_name, "empty.txt"))
				*empty_ino = d->d_ino;
			snprintf(names + strlen(names), cap - strlen(names), "%s%s\n", d->d_name,
				 d->d_type == LINUX_DT_DIR ? "/" : d->d_type == LINUX_DT_REG ? "" : "?");
			off += d->d_reclen;
			count++;
		}
	}
	EXPECT(n, 0);
	return count;
}

static void dirs(void)
{
	static char names[4096], names1[4096], buf[512];
	uint64_t dot = 0, readme = 0, empty = 0, x;
	struct linux_stat s, rs;
	long fd = op("/", LINUX_O_DIRECTORY), rfd, n;
	int count, count1;

	if (!check(fd >= 0, "open /: %ld", fd))
		return;
	EXPECT(st(fd, &s), 0);
	check((s.st_mode & LINUX_S_IFMT) == LINUX_S_IFDIR && (s.st_mode & 07777) == 0555,
	      "/ st_mode 0%o", (unsigned)s.st_mode);
	check(s.st_size > 0 && s.st_size % 4096 == 0, "/ st_size %lld: whole clusters",
	      (long long)s.st_size);
	count = list(fd, sizeof(buf), names, sizeof(names), &dot, &readme, &empty);
	for (char *c = names; *c; c++)
		if (*c == '\n')
			*c = ' ';
	printf("root_names: %s\n", names);
	EXPECT(dot, s.st_ino);
	rfd = op("/README.txt", 0);
	EXPECT(st(rfd, &rs), 0);
	EXPECT(readme, rs.st_ino);
	cl(rfd);
	rfd = op("/empty.txt", 0);
	EXPECT(st(rfd, &rs), 0);
	EXPECT(empty, rs.st_ino);
	cl(rfd);
	/* the same records one call at a time (a buffer for one only) */
	EXPECT(sk(fd, 0, LINUX_SEEK_SET), 0);
	count1 = list(fd, 40, names1, sizeof(names1), &x, &x, &x);
	EXPECT(count1, count);
	for (char *c = names1; *c; c++)
		if (*c == '\n')
			*c = ' ';
	check(!strcmp(names, names1), "one at a time: %s", names1);
	/* too small for one record; at the end nothing is too small */
	EXPECT(sk(fd, 0, LINUX_SEEK_SET), 0);
	EXPECT(gd(fd, buf, 16), E(EINVAL_));
	EXPECT(gd(fd, NULL, 64), E(EFAULT_));
	EXPECT(gd(fd, (void *)KERNEL_ADDR, 64), E(EFAULT_));
	/* lseek to a d_off: the next record is the one after it */
	n = gd(fd, buf, 40);   /* "." */
	struct linux_dirent64 *d = (void *)buf;
	EXPECT(n, d->d_reclen);
	EXPECT(sk(fd, 0, LINUX_SEEK_CUR), d->d_off);
	EXPECT(sk(fd, 3, LINUX_SEEK_SET), 3);
	n = gd(fd, buf, 48);
	check(n > 0 && d->d_off == 4, "after lseek 3: d_off %lld", (long long)d->d_off);
	EXPECT(sk(fd, 0, LINUX_SEEK_END), E(EINVAL_));
	EXPECT(sk(fd, 100000, LINUX_SEEK_SET), 100000);
	EXPECT(gd(fd, buf, sizeof(buf)), 0);
	EXPECT(rd(fd, buf, 10), E(EISDIR_));
	EXPECT(tally_syscall3(__NR_write, fd, "x", 1), E(EBADF_));
	/* openat relative to a directory fd */
	long dfd = op("/docs", LINUX_O_DIRECTORY);
	opens_ok(dfd, "guides/memory.txt", 0);
	long g = opat(dfd, "../README.txt", 0);
	check(g >= 0, "openat(docs, ../README.txt): %ld", g);
	EXPECT(opat(g, "x", 0), E(ENOTDIR_));
	EXPECT(opat(0, "x", 0), E(ENOTDIR_));
	EXPECT(opat(99, "x", 0), E(EBADF_));
	opens_ok(99, "/README.txt", 0);   /* absolute: dirfd not looked at */
	cl(g);
	/* getdents64 on what is not a directory */
	EXPECT(gd(0, buf, sizeof(buf)), E(ENOTDIR_));
	rfd = op("/README.txt", 0);
	EXPECT(gd(rfd, buf, sizeof(buf)), E(ENOTDIR_));
	cl(rfd);
	/* ".." of /docs is the root */
	uint64_t ddot = 0, dotdot = 0;
	n = gd(dfd, buf, sizeof(buf));
	for (long off = 0; off < n; off += ((struct linux_dirent64 *)(buf + off))->d_reclen) {
		struct linux_dirent64 *e = (void *)(buf + off);

		if (!strcmp(e->d_name, ".."))
			dotdot = e->d_ino;
		if (!strcmp(e->d_name, "."))
			ddot = e->d_ino;
	}
	EXPECT(dotdot, s.st_ino);
	EXPECT(st(dfd, &rs), 0);
	EXPECT(ddot, rs.st_ino);
	cl(dfd);
	cl(fd);
}

/* Run from /docs (the shell's cwd is the process's). */
static void cwd(void)
{
	opens_ok(LINUX_AT_FDCWD, "guides/memory.txt", 0);
	opens_ok(LINUX_AT_FDCWD, "../README.txt", 0);
	opens_ok(LINUX_AT_FDCWD, ".", LINUX_O_DIRECTORY);
	EXPECT(op("README.txt", 0), E(ENOENT_));
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "cwd")) {
		cwd();
		return finish();
	}
	if (argc > 1 && !strcmp(argv[1], "crash")) {
		for (int i = 0; i < 10; i++)
			op("/README.txt", 0);
		op("/docs", LINUX_O_DIRECTORY);
		printf("crash: files open\n");
		fflush(stdout);
		*(volatile int *)0 = 1;
		return 1;
	}
	opens();
	names();
	path_limits();
	descriptors();
	reads();
	big();
	dirs();
	return finish();
}
