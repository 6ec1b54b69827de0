/* syscall.c - system calls from U-mode (kernel/proc.h): Linux's riscv64
 * numbers (include/uapi/asm-generic/unistd.h, which riscv64 uses) and
 * calling convention: a7 the number, a0..a5 the arguments, the result or
 * -errno in a0. Every user pointer is checked against the process's page
 * table before a byte is touched (copy_from_user): a bad one gets -EFAULT.
 * Here: write to the console, getpid, brk, exit; the file calls in
 * kernel/sys_file.c; mmap/munmap/mprotect in kernel/sys_mman.c; the
 * process calls (spawn, wait4, kill, getppid, sched_yield,
 * clock_gettime) in sys_proc.c. */
#include "kernel/proc.h"
#include "kernel/mman.h"
#include "kernel/console.h"
#include "kernel/sys_file.h"
#include "sys_proc.h"
#include "mm/page.h"
#include "kerrno.h"
#include "uapi/tally/unistd.h"


/* write(fd, buf, count): the console, through fds open for writing (1
 * and 2 at the start; a file or fd 0 is -EBADF: opened read-only). A buffer bad from
 * its first byte writes nothing (-EFAULT); one that goes bad later writes
 * what came before it and returns that count, as Linux does. */
static long sys_write(struct proc *p, long fd, uint64_t buf, uint64_t count)
{
	char chunk[128];
	uint64_t done = 0;

	if (sys_file_writable(p, fd) != 0)
		return -EBADF;
	if (count > (1ul << 20))
		count = 1ul << 20;   /* a short write, as Linux caps one at MAX_RW_COUNT */
	if (count && copy_from_user(p, chunk, buf, 1) != 0)
		return -EFAULT;
	while (done < count) {
		uint64_t page_left = PAGE_SIZE - ((buf + done) & (PAGE_SIZE - 1));
		size_t n = count - done < sizeof(chunk) ? count - done : sizeof(chunk);

		if (n > page_left)
			n = page_left;   /* a page at a time: what came before a bad one is written */

		if (copy_from_user(p, chunk, buf + done, n) != 0)
			return done ? (long)done : -EFAULT;
		kwrite(chunk, n);
		done += n;
	}
	return (long)done;
}

long syscall_dispatch(struct proc *p, struct trap_frame *tf)
{
	uint64_t *a = &tf->x[10];   /* a0..a5 */

	switch (tf->x[17]) {        /* a7 */
	case __NR_write:
		return sys_write(p, (long)a[0], a[1], a[2]);
	case __NR_openat:       /* sys_file.c */
		return sys_openat(p, (long)a[0], a[1], (long)a[2], (long)a[3]);
	case __NR_close:
		return sys_close(p, (long)a[0]);
	case __NR_unlinkat:
		return sys_unlinkat(p, (long)(int)a[0], a[1], (long)(int)a[2]);
	case __NR_mkdirat:
		return sys_mkdirat(p, (long)(int)a[0], a[1], (long)a[2]);
	case __NR_renameat2:
		return sys_renameat2(p, (long)(int)a[0], a[1], (long)(int)a[2], a[3],
				     (long)(unsigned)a[4]);
	case __NR_read:
		return sys_read(p, (long)a[0], a[1], a[2]);
	case __NR_lseek:
		return sys_lseek(p, (long)a[0], (int64_t)a[1], (long)a[2]);
	case __NR_fstat:
		return sys_fstat(p, (long)a[0], a[1]);
	case __NR_getdents64:
		return sys_getdents64(p, (long)a[0], a[1], a[2]);
	case __NR_getpid:
		return p->pid;
	case __NR_brk:
		return proc_brk(p, a[0]);
	case __NR_mmap:
		return sys_mmap(p, a[0], a[1], a[2], a[3], (int)a[4], a[5]);
	case __NR_munmap:
		return sys_munmap(p, a[0], a[1]);
	case __NR_mprotect:
		return sys_mprotect(p, a[0], a[1], a[2]);
	case __NR_exit:
	case __NR_exit_group:
		proc_exit(p, (int)a[0]);
	default: {
		int handled;
		long rc = sys_proc_dispatch(p, tf, &handled);

		return handled ? rc : -ENOSYS;
	}
	}
}
