/* uapi/tally/unistd.h - Tally's system call numbers: the contract between
 * user programs (user/lib) and the kernel's system call table.
 *
 * Calling convention (Linux on RISC-V, RISC-V psABI "ecall"): the number in
 * a7, arguments in a0..a5, `ecall`; the result comes back in a0: a value
 * >= 0, or -errno with Linux's errno numbers (include/kerrno.h). No other
 * register changes.
 *
 * Numbers are Linux's generic table, include/uapi/asm-generic/unistd.h,
 * which riscv64 uses unchanged (64-bit: __NR_lseek, __NR_fstat and __NR_mmap
 * are the __NR3264_* entries). Tally's own calls sit in a private range,
 * TALLY_NR_PRIVATE_BASE upwards, far above anything Linux assigns (its
 * table ends below 500; 1024..1079 are its retired no-"at" calls).
 *
 * No includes and no C: the kernel, user programs and assembly can all
 * include it. Structures and flag values of these calls: the other headers
 * of uapi/tally/. */
#ifndef TALLY_UAPI_UNISTD_H
#define TALLY_UAPI_UNISTD_H

#define __NR_mkdirat        34  /* (dirfd, path, mode) -> 0 */
#define __NR_unlinkat       35  /* (dirfd, path, flags) -> 0 */
#define __NR_getdents64     61  /* (fd, struct linux_dirent64 *buf, count) -> bytes */
#define __NR_lseek          62  /* (fd, offset, whence) -> new offset */
#define __NR_read           63  /* (fd, buf, count) -> bytes */
#define __NR_write          64  /* (fd, buf, count) -> bytes */
#define __NR_openat         56  /* (dirfd, path, flags, mode) -> fd */
#define __NR_close          57  /* (fd) -> 0 */
#define __NR_fstat          80  /* (fd, struct linux_stat *) -> 0 */
#define __NR_exit           93  /* (status): ends the calling thread */
#define __NR_exit_group     94  /* (status): ends the process */
#define __NR_clock_gettime 113  /* (clockid, struct linux_timespec *) -> 0 */
#define __NR_sched_yield   124  /* () -> 0 */
#define __NR_kill          129  /* (pid, sig) -> 0 */
#define __NR_times         153  /* (struct linux_tms *) -> clock ticks since boot */
#define __NR_getrusage     165  /* (who, struct linux_rusage *) -> 0 */
#define __NR_getpid        172  /* () -> pid */
#define __NR_getppid       173  /* () -> parent's pid */
#define __NR_brk           214  /* (addr) -> the break after the call */
#define __NR_munmap        215  /* (addr, length) -> 0 */
#define __NR_mmap          222  /* (addr, length, prot, flags, fd, offset) -> addr */
#define __NR_mprotect      226  /* (addr, length, prot) -> 0 */
#define __NR_madvise       233  /* (addr, length, advice) -> 0 */
#define __NR_wait4         260  /* (pid, int *wstatus, options, rusage) -> pid */
#define __NR_renameat2     276  /* (olddirfd, oldpath, newdirfd, newpath, flags) -> 0 */

/* Tally's private calls. */
#define TALLY_NR_PRIVATE_BASE 4096

/* spawn(path, argv, envp) -> pid of a new child process running the static
 * ELF executable at path (absolute, on the FAT32 volume) with those
 * arguments and environment: posix_spawn without file actions or
 * attributes, in one call, as Linux's vfork + execve would do it. argv and
 * envp are NULL-terminated arrays of NUL-terminated strings (envp may be
 * NULL: empty environment). The child's initial stack holds argc, argv[],
 * NULL, envp[], NULL, auxv (uapi/tally/layout.h). Errors: -EFAULT (a bad
 * pointer), -ENOENT, -ENOEXEC (not a valid executable), -E2BIG (arguments
 * over TALLY_ARG_MAX), -ENOMEM, -EAGAIN (no process slot). */
#define __NR_tally_spawn   (TALLY_NR_PRIVATE_BASE + 0)

#endif
