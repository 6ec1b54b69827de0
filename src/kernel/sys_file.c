/* sys_file.c - openat, close, read, lseek, fstat, getdents64, the refused
 * unlinkat, mkdirat and renameat2 (and write's
 * descriptor check) over a process's fd table and the read-only FAT32
 * volume (kernel/sys_file.h). Not a VFS: one volume, two kinds of file
 * plus the console. Paths are resolved by the FAT reader from an absolute
 * path built here (the process's cwd or a directory fd's path, then the
 * user's path), so the shell's own cwd on the volume is never moved.
 *
 * The FAT reader is not re-entrant: every call into it from here holds
 * fs_lock; user memory is touched only outside it (copy_to_user may
 * fault pages in); spawn's loading takes it too (sys_file_lock). The
 * shell's commands call the FAT reader without it: while one runs
 * (sys_file_kernel_enter .. _leave) a process on another hart that wants
 * the volume gives its hart up until the command is done or waits for a
 * process. */
#include <string.h>
#include "kernel/sys_file.h"
#include "kernel/fdtable.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/ttyline.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "kerrno.h"
#include "uapi/tally/fcntl.h"
#include "uapi/tally/types.h"

#define FAT_MAX_BYTES 0xFFFFFFFFull   /* a FAT file's largest size: Linux's s_maxbytes */
#define EMPTY_INO_BASE (1ull << 48)   /* above every cluster number (28 bits) */
#define RECLEN_HEAD 19                /* offsetof(struct linux_dirent64, d_name) */

static struct spinlock fs_lock = SPINLOCK_INIT("sys_file");

/* The kernel's own use of the volume (the shell's commands): processes
 * keep off it meanwhile (sys_file_kernel_enter). */
static int kernel_busy;

unsigned long sys_file_lock(void)
{
	for (;;) {
		unsigned long flags = spin_lock_irqsave(&fs_lock);
		struct proc *p = proc_current();

		if (!p || !__atomic_load_n(&kernel_busy, __ATOMIC_RELAXED))
			return flags;
		spin_unlock_irqrestore(&fs_lock, flags);
		sched_yield_proc(p);   /* the shell's command first; back at a later slice */
	}
}

void sys_file_unlock(unsigned long flags)
{
	spin_unlock_irqrestore(&fs_lock, flags);
}

void sys_file_kernel_enter(void)
{
	unsigned long flags;

	__atomic_store_n(&kernel_busy, 1, __ATOMIC_RELAXED);
	flags = spin_lock_irqsave(&fs_lock);   /* a process's call under way ends first */
	spin_unlock_irqrestore(&fs_lock, flags);
}

int sys_file_kernel_leave(void)
{
	return __atomic_exchange_n(&kernel_busy, 0, __ATOMIC_RELEASE);
}

/* ---- user strings and paths ------------------------------------------- */

/* Copy the NUL-terminated string at user address src into dst (cap
 * bytes; copy_str_from_user, kernel/proc.h). 0; -EFAULT; -ENAMETOOLONG
 * when no NUL is found in cap bytes. */
static int path_from_user(struct proc *p, char *dst, uint64_t src, size_t cap)
{
	long n = copy_str_from_user(p, dst, src, cap);

	return n < 0 ? (int)n : 0;
}

/* base "/" path -> a new absolute path (kmalloc), or NULL. */
static char *path_join(const char *base, const char *path)
{
	size_t b = strlen(base), n = strlen(path);
	char *out = kmalloc(b + n + 2, GFP_KERNEL);

	if (!out)
		return NULL;
	memcpy(out, base, b);
	out[b] = '/';
	memcpy(out + b + 1, path, n + 1);
	return out;
}

/* ---- what fstat and getdents64 report --------------------------------- */

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (the days-from-civil computation: years from March, 400-year eras). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* A FAT time as seconds since the epoch: FAT stores local time with no
 * zone; it is taken as UTC (Linux's vfat with no tz= and a UTC clock).
 * Not set (year 0) or out of range: 0. */
static struct linux_timespec fat_to_unix(const struct fat_time *t)
{
	struct linux_timespec ts = { 0, 0 };

	if (!t->year || t->month < 1 || t->month > 12 || t->day < 1)
		return ts;
	ts.tv_sec = days_from_civil(t->year, t->month, t->day) * 86400 +
		    t->hour * 3600 + t->min * 60 + t->sec;
	ts.tv_nsec = (int64_t)t->centi * 10000000;
	return ts;
}

/* d_ino / st_ino: the first cluster; an empty file has none, so it gets
 * one from its entry's place: EMPTY_INO_BASE | directory cluster << 16 |
 * the entry's slot (both fixed on a read-only volume). */
static uint64_t ino_of(uint32_t first_cluster, uint32_t dir_clus, uint32_t slot)
{
	if (first_cluster)
		return first_cluster;
	return EMPTY_INO_BASE | (uint64_t)dir_clus << 16 | slot;
}

static void meta_from(struct file_meta *m, const struct fat_dirent *e, uint64_t ino)
{
	m->ino = ino;
	m->size = e->size;
	m->mtime = e->mtime;
	m->adate = e->adate;
}

/* An empty file's entry place: its parent listed until the entry with
 * its on-disk name (real is fat_realpath's). Under fs_lock. */
static int empty_file_ino(struct fat_fs *fs, char *real, struct fat_dirent *e, uint64_t *ino)
{
	char *slash = strrchr(real, '/');
	const char *name = slash + 1;
	struct fat_dir d;
	int rc;

	*slash = '\0';
	rc = fat_opendir(fs, slash == real ? "/" : real, &d);
	*slash = '/';
	if (rc)
		return rc;
	while ((rc = fat_readdir(&d, e)) == 1)
		if (e->first_cluster == 0 && strcmp(e->name, name) == 0) {
			*ino = ino_of(0, d.first, d.index - 1);
			return 0;
		}
	return rc ? rc : -EIO;   /* it was there a moment ago */
}

/* ---- openat -------------------------------------------------------------- */

/* The absolute path path names for p: itself, or after the cwd or
 * dirfd's directory. -EBADF, -ENOTDIR (dirfd a file or the console),
 * -ENOMEM. */
static int resolve_base(struct proc *p, long dirfd, const char *path, char **out)
{
	const char *base;
	struct file *d;

	if (path[0] == '/')
		base = "";   /* dirfd is not looked at, as in Linux */
	else if (dirfd == LINUX_AT_FDCWD)
		base = p->files.cwd ? p->files.cwd : "";
	else if (!(d = fdtable_get(&p->files, dirfd)))
		return -EBADF;
	else if (d->kind != FILE_DIR)
		return -ENOTDIR;
	else
		base = d->path;
	if (!strcmp(base, "/"))
		base = "";
	*out = path[0] == '/' ? path_join("", path + 1) : path_join(base, path);
	return *out ? 0 : -ENOMEM;
}

/* What the last component of a path is (Linux's nd->last_type). */
enum last_kind { LAST_NORM, LAST_DOT, LAST_DOTDOT, LAST_ROOT };

/* Look abs's directory part up, as Linux's filename_parentat does before
 * a name is made or removed: 0 when it exists and is a directory (or abs
 * is "/"), with *kind what the last component is; -ENOENT, -ENOTDIR (a
 * component a file), -EIO, -ELOOP, -ENOMEM. abs is absolute; it is given
 * back unchanged. Under fs_lock. */
static int parent_lookup(struct fat_fs *fs, char *abs, enum last_kind *kind)
{
	size_t n = strlen(abs), len;
	struct fat_dirent *parent;
	char *last, keep;
	int rc;

	while (n > 1 && abs[n - 1] == '/')
		n--;
	last = abs + n;
	while (last > abs && last[-1] != '/')
		last--;
	len = (size_t)(abs + n - last);
	if (len == 0) {
		*kind = LAST_ROOT;
		return 0;
	}
	*kind = last[0] != '.' || len > 2 ? LAST_NORM :
		len == 1 ? LAST_DOT : last[1] == '.' ? LAST_DOTDOT : LAST_NORM;
	parent = kmalloc(sizeof(*parent), GFP_KERNEL);
	if (!parent)
		return -ENOMEM;
	keep = *last;
	*last = '\0';   /* abs is "/" or ends in '/' here */
	rc = fat_stat(fs, abs, parent);
	*last = keep;
	if (rc == 0 && !(parent->attr & FAT_ATTR_DIRECTORY))
		rc = -ENOTDIR;
	kfree(parent);
	return rc;
}

/* O_CREAT of abs, which lookup found missing (-ENOENT): the last
 * component is what is missing when abs's directory part exists, and
 * creating it is -EROFS (-EISDIR with a trailing '/': Linux's check
 * for that comes first); otherwise the lookup's error stands. */
static int create_decide(struct fat_fs *fs, char *abs, bool slash)
{
	enum last_kind kind;
	int rc = parent_lookup(fs, abs, &kind);

	if (rc)
		return rc;
	if (kind != LAST_NORM)
		return -ENOENT;   /* "." or "..": a directory before it is missing */
	return slash ? -EISDIR : -EROFS;
}

/* What Linux's namei decides for a name that exists (e) or not (rc from
 * the lookup), read-only mount: see sys_openat's contract. */
static int open_decide(struct fat_fs *fs, char *abs, int rc, const struct fat_dirent *e,
		       long flags, bool slash)
{
	bool want_write = (flags & LINUX_O_ACCMODE) != LINUX_O_RDONLY || (flags & LINUX_O_TRUNC);

	if (rc == -ENOENT && (flags & LINUX_O_CREAT))
		return create_decide(fs, abs, slash);
	if (rc)
		return rc;
	if (flags & LINUX_O_CREAT) {
		if (slash)
			return -EISDIR;
		if (flags & LINUX_O_EXCL)
			return -EEXIST;
	}
	if (e->attr & FAT_ATTR_DIRECTORY)
		return (flags & LINUX_O_CREAT) || want_write ? -EISDIR : 0;
	if (slash || (flags & LINUX_O_DIRECTORY))
		return -ENOTDIR;
	return want_write ? -EROFS : 0;
}

/* Open abs (decided openable) into a new struct file. Under fs_lock. */
static int open_file(struct fat_fs *fs, char *abs, const struct fat_dirent *e, struct file **out)
{
	struct file *f = kzalloc(sizeof(*f), GFP_KERNEL);
	struct fat_dirent *tmp = kmalloc(sizeof(*tmp), GFP_KERNEL);
	uint64_t ino = e->first_cluster, bytes;
	int rc = f && tmp ? 0 : -ENOMEM;

	if (rc == 0 && (e->attr & FAT_ATTR_DIRECTORY)) {
		f->kind = FILE_DIR;
		rc = fat_realpath(fs, abs, &f->path);
		if (rc == 0)
			rc = fat_opendir(fs, f->path, &f->d);
		if (rc == 0)
			rc = fat_dir_bytes(fs, e->first_cluster, &bytes);
		if (rc == 0) {
			char *up = path_join(f->path, "..");

			rc = up ? fat_stat(fs, up, tmp) : -ENOMEM;
			if (rc == 0)
				f->parent_ino = tmp->first_cluster;
			kfree(up);
		}
	} else if (rc == 0) {
		char *real = NULL;

		f->kind = FILE_REG;
		bytes = e->size;
		rc = fat_open(fs, abs, &f->f);
		if (rc == 0 && !e->first_cluster)
			rc = fat_realpath(fs, abs, &real);
		if (rc == 0 && !e->first_cluster)
			rc = empty_file_ino(fs, real, tmp, &ino);
		kfree(real);
	}
	kfree(tmp);
	if (rc) {
		if (f)
			kfree(f->path);
		kfree(f);
		return rc;
	}
	f->acc = LINUX_O_RDONLY;
	meta_from(&f->meta, e, ino);
	f->meta.size = (uint32_t)bytes;
	*out = f;
	return 0;
}

/* Resolve abs and open it per flags. Under fs_lock. */
static int open_path(struct fat_fs *fs, char *abs, long flags, bool slash, struct file **out)
{
	struct fat_dirent *e = kmalloc(sizeof(*e), GFP_KERNEL);
	int rc;

	if (!e)
		return -ENOMEM;
	rc = fat_stat(fs, abs, e);
	rc = open_decide(fs, abs, rc, e, flags, slash);
	if (rc == 0)
		rc = open_file(fs, abs, e, out);
	kfree(e);
	return rc;
}

long sys_openat(struct proc *p, long dirfd, uint64_t upath, long flags, long mode)
{
	char *path, *abs = NULL;
	struct file *f = NULL;
	unsigned long irq;
	size_t n;
	int fd = -1, rc;

	(void)mode;
	if ((flags & LINUX_O_CREAT) && (flags & LINUX_O_DIRECTORY))
		return -EINVAL;   /* Linux 6.4 on: no such combination */
	path = kmalloc(SYS_PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	rc = path_from_user(p, path, upath, SYS_PATH_MAX);
	if (rc == 0 && !path[0])
		rc = -ENOENT;
	if (rc == 0 && (fd = fdtable_free_slot(&p->files)) < 0)
		rc = fd;
	if (rc == 0 && !p->files.fs)
		rc = -ENOENT;
	if (rc == 0)
		rc = resolve_base(p, dirfd, path, &abs);
	if (rc == 0) {
		n = strlen(path);
		irq = sys_file_lock();
		rc = open_path(p->files.fs, abs, flags, path[n - 1] == '/', &f);
		sys_file_unlock(irq);
	}
	kfree(abs);
	kfree(path);
	if (rc)
		return rc;
	fdtable_install(&p->files, fd, f);
	return fd;
}

long sys_close(struct proc *p, long fd)
{
	return fdtable_close(&p->files, fd);
}

/* ---- unlinkat, mkdirat, renameat2: refused, as on a read-only mount ---- */

/* The user's path upath (after dirfd) looked up as a name to make or
 * remove: 0 when its directory part exists (parent_lookup), *kind its
 * last component's kind, *exists (when not NULL) whether it names
 * something now. -EFAULT, -ENAMETOOLONG, -ENOENT (empty path, no
 * volume), -EBADF, -ENOTDIR, -EIO, -ELOOP, -ENOMEM. */
static int name_lookup(struct proc *p, long dirfd, uint64_t upath, enum last_kind *kind, int *exists)
{
	char *path = kmalloc(SYS_PATH_MAX, GFP_KERNEL), *abs = NULL;
	struct fat_dirent *e = NULL;
	unsigned long irq;
	int rc = path ? path_from_user(p, path, upath, SYS_PATH_MAX) : -ENOMEM;

	if (rc == 0 && (!path[0] || !p->files.fs))
		rc = -ENOENT;
	if (rc == 0)
		rc = resolve_base(p, dirfd, path, &abs);
	if (rc == 0 && exists && !(e = kmalloc(sizeof(*e), GFP_KERNEL)))
		rc = -ENOMEM;
	if (rc == 0) {
		irq = sys_file_lock();
		rc = parent_lookup(p->files.fs, abs, kind);
		if (rc == 0 && exists)
			*exists = fat_stat(p->files.fs, abs, e) == 0;
		sys_file_unlock(irq);
	}
	kfree(e);
	kfree(abs);
	kfree(path);
	return rc;
}

long sys_unlinkat(struct proc *p, long dirfd, uint64_t upath, long flags)
{
	enum last_kind kind;
	int rc;

	if (flags & ~(long)LINUX_AT_REMOVEDIR)
		return -EINVAL;
	rc = name_lookup(p, dirfd, upath, &kind, NULL);
	if (rc)
		return rc;
	if (kind != LAST_NORM && !(flags & LINUX_AT_REMOVEDIR))
		return -EISDIR;
	if (kind != LAST_NORM)
		return kind == LAST_DOTDOT ? -ENOTEMPTY : kind == LAST_DOT ? -EINVAL : -EBUSY;
	return -EROFS;
}

long sys_mkdirat(struct proc *p, long dirfd, uint64_t upath, long mode)
{
	enum last_kind kind;
	int exists = 0, rc = name_lookup(p, dirfd, upath, &kind, &exists);

	(void)mode;
	if (rc)
		return rc;
	return kind != LAST_NORM || exists ? -EEXIST : -EROFS;
}

long sys_renameat2(struct proc *p, long olddirfd, uint64_t oldpath, long newdirfd,
		   uint64_t newpath, long flags)
{
	enum last_kind from, to;
	int rc;

	if (flags & ~(long)(LINUX_RENAME_NOREPLACE | LINUX_RENAME_EXCHANGE | LINUX_RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & LINUX_RENAME_EXCHANGE) &&
	    (flags & (LINUX_RENAME_NOREPLACE | LINUX_RENAME_WHITEOUT)))
		return -EINVAL;
	rc = name_lookup(p, olddirfd, oldpath, &from, NULL);
	if (rc == 0)
		rc = name_lookup(p, newdirfd, newpath, &to, NULL);
	if (rc)
		return rc;
	return from != LAST_NORM || to != LAST_NORM ? -EBUSY : -EROFS;
}

long sys_file_writable(struct proc *p, long fd)
{
	struct file *f = fdtable_get(&p->files, fd);

	return f && f->acc != LINUX_O_RDONLY ? 0 : -EBADF;
}

/* ---- read, lseek --------------------------------------------------------- */

#define READ_CHUNK 4096
#define MAX_RW_COUNT 0x7ffff000ul   /* Linux: INT_MAX rounded down to a page */

/* A file's bytes from f->pos into user buf, a user page at a time (what
 * came before a bad page is read). */
static long read_file(struct proc *p, struct file *f, uint64_t buf, uint64_t count)
{
	char small[256], *bounce = kmalloc(READ_CHUNK, GFP_KERNEL);
	size_t cap = bounce ? READ_CHUNK : sizeof(small);
	uint64_t done = 0;
	long rc = 0;

	if (!bounce)
		bounce = small;   /* slower, not refused */
	if (count > MAX_RW_COUNT)
		count = MAX_RW_COUNT;
	while (done < count && f->pos < f->meta.size) {
		size_t n = PAGE_SIZE - ((buf + done) & (PAGE_SIZE - 1));
		unsigned long irq;

		if (n > cap)
			n = cap;
		if (n > count - done)
			n = count - done;
		irq = sys_file_lock();
		rc = fat_pread(&f->f, f->pos, bounce, n);
		sys_file_unlock(irq);
		if (rc <= 0)
			break;
		if (copy_to_user(p, buf + done, bounce, (size_t)rc) != 0) {
			rc = -EFAULT;
			break;
		}
		f->pos += (uint64_t)rc;
		done += (uint64_t)rc;
		rc = 0;
	}
	if (bounce != small)
		kfree(bounce);
	return done ? (long)done : rc;
}

long sys_read(struct proc *p, long fd, uint64_t buf, uint64_t count)
{
	struct file *f = fdtable_get(&p->files, fd);

	if (!f || f->acc == LINUX_O_WRONLY)
		return -EBADF;
	if (f->kind == FILE_DIR)
		return -EISDIR;
	if (count && vma_access_ok(&p->vmas, buf, 1, PROT_WRITE) != 0)
		return -EFAULT;
	if (f->kind == FILE_CONSOLE)
		return f->input ? ttyline_read(p, buf, count > TTYLINE_MAX ? TTYLINE_MAX : count) : 0;
	return read_file(p, f, buf, count);
}

/* Move directory f to record pos: "." and ".." are records 0 and 1, the
 * volume's entries follow. Under fs_lock. */
static int dir_seek(struct file *f, uint64_t pos)
{
	struct fat_dirent *e;
	int rc;

	if (pos == f->pos)
		return 0;
	e = kmalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	rc = fat_opendir(f->d.fs, f->path, &f->d);
	for (uint64_t i = 2; rc >= 0 && i < pos; i++)
		if ((rc = fat_readdir(&f->d, e)) != 1)
			break;   /* past the end (0): reads return 0 */
	kfree(e);
	if (rc < 0)
		return rc;
	f->pos = pos;
	return 0;
}

long sys_lseek(struct proc *p, long fd, int64_t off, long whence)
{
	struct file *f = fdtable_get(&p->files, fd);
	int64_t base;
	uint64_t to;

	if (!f)
		return -EBADF;
	if (f->kind == FILE_CONSOLE)
		return -ESPIPE;
	if (whence == LINUX_SEEK_SET)
		base = 0;
	else if (whence == LINUX_SEEK_CUR)
		base = (int64_t)f->pos;
	else if (whence == LINUX_SEEK_END && f->kind == FILE_REG)
		base = f->meta.size;
	else
		return -EINVAL;
	if ((off < 0 && -(off + 1) >= base) || (off > 0 && (uint64_t)off > FAT_MAX_BYTES - (uint64_t)base))
		return -EINVAL;   /* below 0, or past the largest offset */
	to = (uint64_t)(base + off);
	if (f->kind == FILE_DIR) {
		unsigned long irq = sys_file_lock();
		int rc = dir_seek(f, to);

		sys_file_unlock(irq);
		if (rc)
			return rc;
	}
	f->pos = to;
	return (long)to;
}

/* ---- fstat ----------------------------------------------------------------- */

/* The times, size and blocks of a file or directory (the volume's
 * geometry from info). */
static void stat_fill(const struct file *f, const struct fat_info *info, struct linux_stat *st)
{
	struct linux_timespec a = fat_to_unix(&f->meta.adate), m = fat_to_unix(&f->meta.mtime);
	uint64_t clus = info->cluster_bytes;

	st->st_dev = info->serial;
	st->st_ino = f->meta.ino;
	st->st_mode = f->kind == FILE_DIR ? LINUX_S_IFDIR | 0555 : LINUX_S_IFREG | 0444;
	st->st_size = f->meta.size;
	st->st_blksize = (int32_t)clus;
	st->st_blocks = (int64_t)((f->meta.size + clus - 1) / clus * (clus / 512));
	st->st_atime_sec = a.tv_sec;
	st->st_atime_nsec = (uint64_t)a.tv_nsec;
	st->st_mtime_sec = m.tv_sec;
	st->st_mtime_nsec = (uint64_t)m.tv_nsec;
	/* Linux's vfat: ctime is mtime (FAT has no change time; the creation
	 * time is statx's btime, which struct stat has no field for) */
	st->st_ctime_sec = m.tv_sec;
	st->st_ctime_nsec = (uint64_t)m.tv_nsec;
}

long sys_fstat(struct proc *p, long fd, uint64_t ubuf)
{
	struct file *f = fdtable_get(&p->files, fd);
	struct linux_stat st;
	struct fat_info info;

	if (!f)
		return -EBADF;
	memset(&st, 0, sizeof(st));
	st.st_nlink = 1;   /* a directory's too: 1 says "not counted" (find -noleaf) */
	if (f->kind == FILE_CONSOLE) {
		st.st_mode = LINUX_S_IFCHR | 0620;
		st.st_blksize = 1024;
	} else {
		unsigned long irq = sys_file_lock();

		fat_get_info(p->files.fs, &info);
		sys_file_unlock(irq);
		stat_fill(f, &info, &st);
	}
	return copy_to_user(p, ubuf, &st, sizeof(st)) ? -EFAULT : 0;
}

/* ---- getdents64 -------------------------------------------------------- */

/* Scratch for one getdents64 call (off the kernel stack). */
struct dents_scratch {
	struct fat_dirent e;
	struct fat_dir saved;
	char rec[RECLEN_HEAD + FAT_NAME_MAX + 1 + 8];
};

/* Build the record for name into s->rec; its length. */
static size_t dent_build(struct dents_scratch *s, uint64_t ino, int64_t off, uint8_t type,
			 const char *name)
{
	size_t n = strlen(name), reclen = (RECLEN_HEAD + n + 1 + 7) & ~(size_t)7;
	struct linux_dirent64 h = { .d_ino = ino, .d_off = off, .d_reclen = (uint16_t)reclen,
				    .d_type = type };

	memset(s->rec, 0, reclen);
	memcpy(s->rec, &h, RECLEN_HEAD);
	memcpy(s->rec + RECLEN_HEAD, name, n);
	return reclen;
}

/* The record at f->pos into s->rec: 1 and its length, 0 at the end, or
 * an error. f->d moves past it (s->saved holds where it was). Under
 * fs_lock. */
static int dent_next(struct file *f, struct dents_scratch *s, size_t *len)
{
	int rc;

	s->saved = f->d;
	if (f->pos < 2) {
		*len = dent_build(s, f->pos ? f->parent_ino : f->meta.ino, (int64_t)f->pos + 1,
				  LINUX_DT_DIR, f->pos ? ".." : ".");
		return 1;
	}
	rc = fat_readdir(&f->d, &s->e);
	if (rc != 1)
		return rc;
	*len = dent_build(s, ino_of(s->e.first_cluster, f->d.first, f->d.index - 1),
			  (int64_t)f->pos + 1,
			  s->e.attr & FAT_ATTR_DIRECTORY ? LINUX_DT_DIR : LINUX_DT_REG, s->e.name);
	return 1;
}

long sys_getdents64(struct proc *p, long fd, uint64_t dirp, uint64_t count)
{
	struct file *f = fdtable_get(&p->files, fd);
	struct dents_scratch *s;
	uint64_t done = 0;
	long rc = 0;

	if (!f)
		return -EBADF;
	if (f->kind != FILE_DIR)
		return -ENOTDIR;
	if (count > MAX_RW_COUNT)
		count = MAX_RW_COUNT;
	if (vma_access_ok(&p->vmas, dirp, count, PROT_WRITE) != 0)
		return -EFAULT;
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	for (;;) {
		unsigned long irq = sys_file_lock();
		size_t len = 0;

		rc = dent_next(f, s, &len);
		sys_file_unlock(irq);
		if (rc != 1)
			break;
		if (len > count - done || copy_to_user(p, dirp + done, s->rec, len) != 0) {
			f->d = s->saved;   /* not returned: the next call starts with it */
			rc = len > count - done ? -EINVAL : -EFAULT;
			break;
		}
		f->pos++;
		done += len;
	}
	kfree(s);
	return done ? (long)done : rc;
}
