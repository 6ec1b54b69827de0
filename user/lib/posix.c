/* posix.c - the POSIX functions picolibc leaves to the system, over
 * Tally's system calls (uapi/tally/unistd.h), plus Tally's own spawn.
 *
 * Each function is the POSIX.1-2017 one of its name (wait4, getdents64
 * and mmap's MAP_ flags: Linux's man pages, section 2) and returns what it
 * says: on failure -1 (mmap: MAP_FAILED) with errno set to the kernel's
 * error. Linux's errno numbers and flag values differ from picolibc's
 * above errno 34 and for open's flags, AT_FDCWD and the clock ids, so this
 * file translates: a flag or clock Linux has no value for is refused with
 * EINVAL before any call, a Linux errno picolibc has no name for becomes
 * EIO; neither is passed on with another meaning. Not here: stdio's
 * streams (stdio.c), the break (brk.c), start-up (crt0.S, start.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "sys/mman.h"
#include "tally/syscall.h"
#include "uapi/tally/fcntl.h"

/* Linux errno numbers above 34 (where picolibc's part ways) that Tally's
 * kernel returns or may; include/uapi/asm-generic/errno.h. */
static const struct { int linux_nr, libc_nr; } errno_map[] = {
	{ 35, EDEADLK }, { 36, ENAMETOOLONG }, { 37, ENOLCK }, { 38, ENOSYS },
	{ 39, ENOTEMPTY }, { 40, ELOOP }, { 75, EOVERFLOW }, { 95, ENOTSUP },
	{ 110, ETIMEDOUT },
};

static int errno_from_linux(long e)
{
	if (e <= 34)
		return (int)e;
	for (size_t i = 0; i < sizeof(errno_map) / sizeof(errno_map[0]); i++)
		if (errno_map[i].linux_nr == e)
			return errno_map[i].libc_nr;
	return EIO;
}

/* A raw result: -4095..-1 is -errno (Linux's convention), anything else a
 * value. */
static long ret(long r)
{
	if (r < 0 && r >= -4095) {
		errno = errno_from_linux(-r);
		return -1;
	}
	return r;
}

static long fail(int e)
{
	errno = e;
	return -1;
}

ssize_t read(int fd, void *buf, size_t count)
{
	return ret(tally_syscall3(__NR_read, fd, buf, count));
}

ssize_t write(int fd, const void *buf, size_t count)
{
	return ret(tally_syscall3(__NR_write, fd, buf, count));
}

/* picolibc's O_ flags -> Linux's; -1 for a flag Linux cannot be told. */
static long open_flags(int flags)
{
	static const struct { int libc, linux; } map[] = {
		{ O_CREAT, LINUX_O_CREAT }, { O_EXCL, LINUX_O_EXCL },
		{ O_NOCTTY, LINUX_O_NOCTTY }, { O_TRUNC, LINUX_O_TRUNC },
		{ O_APPEND, LINUX_O_APPEND }, { O_NONBLOCK, LINUX_O_NONBLOCK },
		{ O_DIRECTORY, LINUX_O_DIRECTORY }, { O_NOFOLLOW, LINUX_O_NOFOLLOW },
		{ O_CLOEXEC, LINUX_O_CLOEXEC },
	};
	long out = flags & O_ACCMODE;   /* 0, 1, 2 in both */
	int rest = flags & ~O_ACCMODE;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (rest & map[i].libc) {
			out |= map[i].linux;
			rest &= ~map[i].libc;
		}
	return rest ? -1 : out;
}

/* ap holds the mode, read only with O_CREAT (as open(2) has it). */
static int open_at(int dirfd, const char *path, int flags, va_list ap)
{
	long lflags = open_flags(flags);
	mode_t mode = flags & O_CREAT ? (mode_t)va_arg(ap, int) : 0;

	if (lflags < 0)
		return fail(EINVAL);
	if (dirfd == AT_FDCWD)
		dirfd = LINUX_AT_FDCWD;
	return ret(tally_syscall4(__NR_openat, dirfd, path, lflags, mode));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	int r;

	va_start(ap, flags);
	r = open_at(dirfd, path, flags, ap);
	va_end(ap);
	return r;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	int r;

	va_start(ap, flags);
	r = open_at(AT_FDCWD, path, flags, ap);
	va_end(ap);
	return r;
}

int close(int fd)
{
	return ret(tally_syscall1(__NR_close, fd));
}

/* The calls that change names: the volume is read-only, so each fails
 * (EROFS once the path's directory is found; kernel/sys_file.h says
 * which error comes first), as on a read-only mount in Linux. */
int unlink(const char *path)
{
	return ret(tally_syscall3(__NR_unlinkat, LINUX_AT_FDCWD, path, 0));
}

int rmdir(const char *path)
{
	return ret(tally_syscall3(__NR_unlinkat, LINUX_AT_FDCWD, path, LINUX_AT_REMOVEDIR));
}

int mkdir(const char *path, mode_t mode)
{
	return ret(tally_syscall3(__NR_mkdirat, LINUX_AT_FDCWD, path, mode));
}

int rename(const char *from, const char *to)
{
	return ret(tally_syscall5(__NR_renameat2, LINUX_AT_FDCWD, from, LINUX_AT_FDCWD, to, 0));
}

off_t lseek(int fd, off_t offset, int whence)
{
	/* SEEK_SET/CUR/END are 0/1/2 in both. */
	return ret(tally_syscall3(__NR_lseek, fd, offset, whence));
}

static struct timespec timespec_from_linux(int64_t sec, int64_t nsec)
{
	return (struct timespec){ .tv_sec = sec, .tv_nsec = nsec };
}

int fstat(int fd, struct stat *st)
{
	struct linux_stat ls;
	long r = ret(tally_syscall2(__NR_fstat, fd, &ls));

	if (r < 0)
		return -1;
	*st = (struct stat){
		.st_dev = ls.st_dev, .st_ino = ls.st_ino, .st_mode = ls.st_mode,
		.st_nlink = ls.st_nlink, .st_uid = ls.st_uid, .st_gid = ls.st_gid,
		.st_rdev = ls.st_rdev, .st_size = ls.st_size,
		.st_blksize = ls.st_blksize, .st_blocks = ls.st_blocks,
		.st_atim = timespec_from_linux(ls.st_atime_sec, ls.st_atime_nsec),
		.st_mtim = timespec_from_linux(ls.st_mtime_sec, ls.st_mtime_nsec),
		.st_ctim = timespec_from_linux(ls.st_ctime_sec, ls.st_ctime_nsec),
	};
	return 0;
}

/* stat(2) as open + fstat + close: Tally has no newfstatat. */
int stat(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY);
	int r, saved;

	if (fd < 0)
		return -1;
	r = fstat(fd, st);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

ssize_t getdents64(int fd, void *buf, size_t count)
{
	return ret(tally_syscall3(__NR_getdents64, fd, buf, count));
}

pid_t getpid(void)
{
	return (pid_t)tally_syscall0(__NR_getpid);
}

pid_t getppid(void)
{
	return (pid_t)tally_syscall0(__NR_getppid);
}

int kill(pid_t pid, int sig)
{
	/* SIGKILL 9 and SIGSEGV 11 are the same in picolibc and Linux. */
	return ret(tally_syscall2(__NR_kill, pid, sig));
}

void _exit(int status)
{
	for (;;)
		tally_syscall1(__NR_exit_group, status);
}

int sched_yield(void)
{
	return ret(tally_syscall0(__NR_sched_yield));
}

/* struct rusage (sys/resource.h) is Linux's: the kernel fills it in place. */
_Static_assert(sizeof(struct rusage) == sizeof(struct linux_rusage), "struct rusage");
_Static_assert(offsetof(struct rusage, ru_stime) == offsetof(struct linux_rusage, ru_stime) &&
	       offsetof(struct rusage, ru_maxrss) == offsetof(struct linux_rusage, ru_maxrss) &&
	       offsetof(struct rusage, ru_minflt) == offsetof(struct linux_rusage, ru_minflt) &&
	       offsetof(struct rusage, ru_nivcsw) == offsetof(struct linux_rusage, ru_nivcsw),
	       "struct rusage's fields");

pid_t wait4(pid_t pid, int *wstatus, int options, struct rusage *rusage)
{
	/* WNOHANG is 1 in both; the status word is Linux's encoding, which
	 * picolibc's W* macros decode. */
	if (options & ~WNOHANG)
		return fail(EINVAL);
	return ret(tally_syscall4(__NR_wait4, pid, wstatus, options, rusage));
}

int getrusage(int who, struct rusage *usage)
{
	return (int)ret(tally_syscall2(__NR_getrusage, who, usage));
}

pid_t waitpid(pid_t pid, int *wstatus, int options)
{
	return wait4(pid, wstatus, options, NULL);
}

pid_t wait(int *wstatus)
{
	return wait4(-1, wstatus, 0, NULL);
}

pid_t tally_spawn(const char *path, char *const argv[], char *const envp[])
{
	return ret(tally_syscall3(__NR_tally_spawn, path, argv, envp ? envp : environ));
}

/* picolibc's number for it, declared only under _POSIX_MONOTONIC_CLOCK. */
#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC ((clockid_t)4)
#endif

static int clock_to_linux(clockid_t clk)
{
	if (clk == CLOCK_REALTIME)
		return LINUX_CLOCK_REALTIME;
	if (clk == CLOCK_MONOTONIC)
		return LINUX_CLOCK_MONOTONIC;
#ifdef CLOCK_PROCESS_CPUTIME_ID
	if (clk == CLOCK_PROCESS_CPUTIME_ID)
		return LINUX_CLOCK_PROCESS_CPUTIME_ID;
	if (clk == CLOCK_THREAD_CPUTIME_ID)
		return LINUX_CLOCK_THREAD_CPUTIME_ID;
#endif
	return -1;
}

int clock_gettime(clockid_t clk, struct timespec *tp)
{
	struct linux_timespec lt;
	int lclk = clock_to_linux(clk);

	if (lclk < 0)
		return fail(EINVAL);
	if (ret(tally_syscall2(__NR_clock_gettime, lclk, &lt)) < 0)
		return -1;
	*tp = timespec_from_linux(lt.tv_sec, lt.tv_nsec);
	return 0;
}

/* times(2) in picolibc's clock_t unit: CLK_TCK = CLOCKS_PER_SEC ticks a
 * second (clock() adds tms_utime and tms_stime), from Linux's
 * LINUX_USER_HZ. */
clock_t times(struct tms *buf)
{
	struct linux_tms lt;
	long r = ret(tally_syscall1(__NR_times, buf ? &lt : NULL));
	const clock_t k = CLOCKS_PER_SEC / LINUX_USER_HZ;

	if (r < 0)
		return (clock_t)-1;
	if (buf) {
		buf->tms_utime = (clock_t)lt.tms_utime * k;
		buf->tms_stime = (clock_t)lt.tms_stime * k;
		buf->tms_cutime = (clock_t)lt.tms_cutime * k;
		buf->tms_cstime = (clock_t)lt.tms_cstime * k;
	}
	return (clock_t)r * k;
}

int gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec ts;

	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	return (void *)ret(tally_syscall6(__NR_mmap, (long)addr, (long)length, prot, flags, fd, offset));
}

int munmap(void *addr, size_t length)
{
	return ret(tally_syscall2(__NR_munmap, addr, length));
}

int mprotect(void *addr, size_t length, int prot)
{
	return ret(tally_syscall3(__NR_mprotect, addr, length, prot));
}

int madvise(void *addr, size_t length, int advice)
{
	return ret(tally_syscall3(__NR_madvise, addr, length, advice));
}
