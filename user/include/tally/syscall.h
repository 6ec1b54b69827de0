/* tally/syscall.h - Tally's system calls from C, raw and wrapped.
 *
 * Raw: tally_syscall0..6(nr, args...) make the call exactly as the kernel
 * sees it (uapi/tally/unistd.h: a7 = number, a0..a5, ecall) and return a0
 * unchanged: a value >= 0 or -errno with Linux's numbers (-EFAULT is -14).
 * Programs that test the kernel's answers use these.
 *
 * Wrapped: the POSIX functions of picolibc's headers (read, write, open,
 * mmap, ...; user/lib/posix.c) return -1 and set errno, in picolibc's
 * numbering, as ISO C programs expect. Below: Tally's calls that have no
 * POSIX header. */
#ifndef TALLY_USER_SYSCALL_H
#define TALLY_USER_SYSCALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "uapi/tally/unistd.h"
#include "uapi/tally/types.h"

static inline long tally_syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r0 __asm__("a0") = a0;
	register long r1 __asm__("a1") = a1;
	register long r2 __asm__("a2") = a2;
	register long r3 __asm__("a3") = a3;
	register long r4 __asm__("a4") = a4;
	register long r5 __asm__("a5") = a5;
	register long r7 __asm__("a7") = nr;

	__asm__ volatile("ecall"
			 : "+r"(r0)
			 : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r7)
			 : "memory");
	return r0;
}

#define tally_syscall0(nr)                 tally_syscall6((nr), 0, 0, 0, 0, 0, 0)
#define tally_syscall1(nr, a)              tally_syscall6((nr), (long)(a), 0, 0, 0, 0, 0)
#define tally_syscall2(nr, a, b)           tally_syscall6((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define tally_syscall3(nr, a, b, c)        tally_syscall6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define tally_syscall4(nr, a, b, c, d)     tally_syscall6((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define tally_syscall5(nr, a, b, c, d, e)  tally_syscall6((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* spawn (uapi/tally/unistd.h): start the executable at `path` as a child
 * with `argv` (NULL-terminated) and `envp` (NULL: the caller's environ).
 * Returns the child's pid, or -1 with errno set (ENOENT, ENOEXEC, EFAULT,
 * E2BIG, ENOMEM, EAGAIN). */
pid_t tally_spawn(const char *path, char *const argv[], char *const envp[]);

/* getdents64(2): up to `count` bytes of struct linux_dirent64 records
 * from the directory open on `fd`. Returns the bytes filled, 0 at the end,
 * or -1 with errno set (EBADF, ENOTDIR, EFAULT, EINVAL: buffer too small
 * for the next record). */
ssize_t getdents64(int fd, void *buf, size_t count);

/* wait4(2): rusage (sys/resource.h; may be NULL) gets the reaped child's
 * usage, its own children's included. Returns the pid reaped, 0 with
 * WNOHANG and nothing to reap, or -1 with errno set (ECHILD, EFAULT,
 * EINVAL). */
struct rusage;
pid_t wait4(pid_t pid, int *wstatus, int options, struct rusage *rusage);

/* brk(2): set the program break to `addr`. 0, or -1 with errno ENOMEM
 * when the kernel left it where it was (sbrk, in picolibc's unistd.h,
 * moves it by an increment). */
int brk(void *addr);

/* A wait status as a shell's $? shows it: the exit code of a process that
 * exited, 128 + the signal of one that was killed (a segmentation fault:
 * 139). */
static inline int tally_exit_code(int wstatus)
{
	return (wstatus & 0x7f) ? 128 + (wstatus & 0x7f) : (wstatus >> 8) & 0xff;
}

/* Auxiliary vector entry `type` (LINUX_AT_*, uapi/tally/layout.h), 0 when
 * the kernel gave none. */
unsigned long tally_getauxval(unsigned long type);

#endif
