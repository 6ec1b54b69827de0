/* sys_file.h - the file system calls (kernel/sys_file.c) over a process's
 * descriptor table (kernel/fdtable.h) and the read-only FAT32 volume.
 * Linux's semantics and errno values (fs/open.c, fs/namei.c,
 * fs/read_write.c, fs/readdir.c, fs/stat.c); each call's own errors are
 * listed at it. Common to all: a user pointer the process may not
 * read or write (no area, or one without the access) is -EFAULT before
 * anything changes; a descriptor not open is -EBADF. */
#ifndef TALLY_KERNEL_SYS_FILE_H
#define TALLY_KERNEL_SYS_FILE_H

#include <stdint.h>

struct proc;

#define SYS_PATH_MAX 4096

/* The FAT reader is not re-entrant: every call into the volume from a
 * process's context -- these calls, and spawn's loading (kernel/proc.c)
 * -- holds this one lock, whichever hart it runs on. Returns the
 * interrupt state for sys_file_unlock. */
unsigned long sys_file_lock(void);
void sys_file_unlock(unsigned long flags);

/* The shell's commands use the FAT reader directly, without the lock:
 * between sys_file_kernel_enter and _leave, sys_file_lock from a process
 * gives the process's hart up (sched_yield_proc) until the kernel leaves,
 * and enter waits for a process's call under way. Kernel context (hart 0's
 * shell). _leave returns whether the kernel was inside (so a wait for a
 * process -- proc_wait_kernel -- can leave and enter again). */
void sys_file_kernel_enter(void);
int sys_file_kernel_leave(void);
    /* Linux's PATH_MAX: bytes of a path, NUL included */

/* openat(dirfd, path, flags, mode): the lowest free descriptor. path is
 * absolute, or relative to dirfd (LINUX_AT_FDCWD: the process's cwd; else
 * an open directory). mode is ignored (nothing is created). Errors, in
 * the order Linux checks them: -EINVAL O_CREAT with O_DIRECTORY;
 * -EFAULT path unreadable; -ENAMETOOLONG no NUL in SYS_PATH_MAX bytes, or
 * a component over FAT_NAME_MAX bytes (fs/fat32.h); -ENOENT empty path, a component
 * missing (or no volume); -EMFILE FD_MAX open already; -EBADF dirfd not
 * open (relative path); -ENOTDIR dirfd or a non-final component not a
 * directory, O_DIRECTORY or a trailing '/' on a file; -EROFS O_CREAT of
 * a name that does not exist, O_WRONLY, O_RDWR or O_TRUNC on a file;
 * -EEXIST O_CREAT|O_EXCL of a name that exists; -EISDIR a directory
 * with O_CREAT, write access or O_TRUNC (or O_CREAT and a trailing '/');
 * -EIO, -ELOOP a broken volume; -ENOMEM. */
long sys_openat(struct proc *p, long dirfd, uint64_t path, long flags, long mode);

/* close(fd): 0, -EBADF. */
long sys_close(struct proc *p, long fd);

/* The calls that change names, on the read-only volume: each fails as it
 * does on a read-only mount in Linux, in Linux's order (fs/namei.c): the
 * path's directory part is looked up first (-EFAULT, -ENAMETOOLONG,
 * -ENOENT, -ENOTDIR, -EBADF for dirfd, -EIO, -ELOOP, -ENOMEM), then:
 *   unlinkat(dirfd, path, flags): -EINVAL flags other than
 *     LINUX_AT_REMOVEDIR; a last component ".", ".." or the root: -EISDIR
 *     (unlink), -EINVAL, -ENOTEMPTY, -EBUSY (rmdir); otherwise -EROFS,
 *     whether or not the name exists (mnt_want_write comes first);
 *   mkdirat(dirfd, path, mode): -EEXIST the name exists (or is "." ..);
 *     otherwise -EROFS;
 *   renameat2(olddirfd, oldpath, newdirfd, newpath, flags): -EINVAL
 *     unknown flags or EXCHANGE with NOREPLACE or WHITEOUT; -EBUSY either
 *     last component ".", ".." or the root; otherwise -EROFS.
 * Never 0: nothing on the volume changes. */
long sys_unlinkat(struct proc *p, long dirfd, uint64_t path, long flags);
long sys_mkdirat(struct proc *p, long dirfd, uint64_t path, long mode);
long sys_renameat2(struct proc *p, long olddirfd, uint64_t oldpath, long newdirfd,
		   uint64_t newpath, long flags);

/* read(fd, buf, count): bytes read, 0 at end of file (a short count
 * near it). A file: from its offset, which moves by what was read;
 * the console: kernel/ttyline.h. -EBADF fd not open or not opened for
 * reading; -EISDIR a directory; -EFAULT buf cannot take the first byte
 * (a later bad page ends the read short); -EIO. */
long sys_read(struct proc *p, long fd, uint64_t buf, uint64_t count);

/* lseek(fd, offset, whence): the new offset. A file: SEEK_SET, SEEK_CUR,
 * SEEK_END, any offset in [0, 2^32 - 1] (FAT's largest file: past the
 * end reads 0 bytes). A directory: SEEK_SET or SEEK_CUR to a record
 * count (getdents64's d_off values). -EINVAL bad whence, a result
 * negative or too large (SEEK_END on a directory); -ESPIPE the console;
 * -EBADF. */
long sys_lseek(struct proc *p, long fd, int64_t offset, long whence);

/* fstat(fd, statbuf): 0 and struct linux_stat (uapi/tally/types.h):
 * st_mode S_IFREG|0444, S_IFDIR|0555, the console S_IFCHR|0620; st_size,
 * st_blksize the cluster size, st_blocks (512-byte units of the
 * clusters held); st_mtime and st_ctime DIR_WrtDate/Time, st_atime
 * DIR_LstAccDate, taken as UTC (Linux's vfat; 0 where FAT has none, as
 * for the root). -EBADF, -EFAULT. */
long sys_fstat(struct proc *p, long fd, uint64_t statbuf);

/* getdents64(fd, dirp, count): bytes of struct linux_dirent64 records
 * written, 0 at the end: ".", "..", then the entries (long names).
 * -ENOTDIR fd is not a directory; -EINVAL count too small for the next
 * record; -EFAULT dirp not writable for count bytes; -EIO, -ELOOP. */
long sys_getdents64(struct proc *p, long fd, uint64_t dirp, uint64_t count);

/* For write(2): 0 when fd is open for writing (the console's 1 and 2),
 * else -EBADF (not open, or open read-only: fd 0 and every file). */
long sys_file_writable(struct proc *p, long fd);

#endif
