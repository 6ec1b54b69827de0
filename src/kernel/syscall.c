/* syscall.c - system calls from U-mode (kernel/proc.h): Linux's riscv64
 * numbers (include/uapi/asm-generic/unistd.h, which riscv64 uses) and
 * calling convention: a7 the number, a0..a5 the arguments, the result or
 * -errno in a0. Every user pointer is checked against the process's page
 * table before a byte is touched (copy_from_user): a bad one gets -EFAULT.
 * Here: write to the console, getpid, brk, exit; the file calls in
 * kernel/sys_file.c; mmap/munmap/mprotect/madvise in kernel/sys_mman.c; the
 * process calls (spawn, wait4, kill, getppid, sched_yield,
 * clock_gettime, times, getrusage) in sys_proc.c. trapvec.S calls
 * syscall_entry for every ecall, which dispatches through
 * sys_call_table: the path a getpid round trip takes (its cost:
 * docs/BENCHMARKS.md). */
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

/* ---- the table: one entry per call, as Linux's sys_call_table ----------
 * Each entry takes the arguments from the frame (a0..a5) in the types
 * its call has. Numbers with no entry go to sys_proc_dispatch (the
 * process calls, and Tally's own above TALLY_NR_PRIVATE_BASE), else
 * -ENOSYS. */
typedef long (*syscall_fn)(struct proc *p, struct trap_frame *tf);

#define A(i) (tf->x[10 + (i)])

static long sc_write(struct proc *p, struct trap_frame *tf)
{
	return sys_write(p, (long)A(0), A(1), A(2));
}

static long sc_openat(struct proc *p, struct trap_frame *tf)   /* sys_file.c */
{
	return sys_openat(p, (long)A(0), A(1), (long)A(2), (long)A(3));
}

static long sc_close(struct proc *p, struct trap_frame *tf)
{
	return sys_close(p, (long)A(0));
}

static long sc_unlinkat(struct proc *p, struct trap_frame *tf)
{
	return sys_unlinkat(p, (long)(int)A(0), A(1), (long)(int)A(2));
}

static long sc_mkdirat(struct proc *p, struct trap_frame *tf)
{
	return sys_mkdirat(p, (long)(int)A(0), A(1), (long)A(2));
}

static long sc_renameat2(struct proc *p, struct trap_frame *tf)
{
	return sys_renameat2(p, (long)(int)A(0), A(1), (long)(int)A(2), A(3), (long)(unsigned)A(4));
}

static long sc_read(struct proc *p, struct trap_frame *tf)
{
	return sys_read(p, (long)A(0), A(1), A(2));
}

static long sc_lseek(struct proc *p, struct trap_frame *tf)
{
	return sys_lseek(p, (long)A(0), (int64_t)A(1), (long)A(2));
}

static long sc_fstat(struct proc *p, struct trap_frame *tf)
{
	return sys_fstat(p, (long)A(0), A(1));
}

static long sc_getdents64(struct proc *p, struct trap_frame *tf)
{
	return sys_getdents64(p, (long)A(0), A(1), A(2));
}

static long sc_getpid(struct proc *p, struct trap_frame *tf)
{
	(void)tf;
	return p->pid;
}

static long sc_brk(struct proc *p, struct trap_frame *tf)
{
	return proc_brk(p, A(0));
}

static long sc_mmap(struct proc *p, struct trap_frame *tf)   /* sys_mman.c */
{
	return sys_mmap(p, A(0), A(1), A(2), A(3), (int)A(4), A(5));
}

static long sc_munmap(struct proc *p, struct trap_frame *tf)
{
	return sys_munmap(p, A(0), A(1));
}

static long sc_mprotect(struct proc *p, struct trap_frame *tf)
{
	return sys_mprotect(p, A(0), A(1), A(2));
}

static long sc_madvise(struct proc *p, struct trap_frame *tf)
{
	return sys_madvise(p, A(0), A(1), A(2));
}

static long sc_exit(struct proc *p, struct trap_frame *tf)
{
	proc_exit(p, (int)A(0));
}

static const syscall_fn sys_call_table[] = {
	[__NR_openat] = sc_openat,
	[__NR_close] = sc_close,
	[__NR_unlinkat] = sc_unlinkat,
	[__NR_mkdirat] = sc_mkdirat,
	[__NR_renameat2] = sc_renameat2,
	[__NR_getdents64] = sc_getdents64,
	[__NR_lseek] = sc_lseek,
	[__NR_read] = sc_read,
	[__NR_write] = sc_write,
	[__NR_fstat] = sc_fstat,
	[__NR_exit] = sc_exit,
	[__NR_exit_group] = sc_exit,
	[__NR_getpid] = sc_getpid,
	[__NR_brk] = sc_brk,
	[__NR_munmap] = sc_munmap,
	[__NR_mmap] = sc_mmap,
	[__NR_mprotect] = sc_mprotect,
	[__NR_madvise] = sc_madvise,
};

#define NR_TABLE (sizeof(sys_call_table) / sizeof(sys_call_table[0]))

long syscall_dispatch(struct proc *p, struct trap_frame *tf)
{
	uint64_t nr = tf->x[17];   /* a7 */
	int handled;
	long rc;

	if (nr < NR_TABLE && sys_call_table[nr])
		return sys_call_table[nr](p, tf);
	rc = sys_proc_dispatch(p, tf, &handled);
	return handled ? rc : -ENOSYS;
}

/* kernel/trap.h: trapvec.S calls this for every ecall from U-mode, with
 * interrupts off. The process is the one whose kernel stack the frame is
 * on (proc_of_frame: no look-up). A pending kill ends it before it
 * returns; a tick that came meanwhile is taken as soon as sret turns
 * interrupts on again in U-mode, and preempts it there. */
void syscall_entry(struct trap_frame *tf)
{
	struct proc *p = proc_of_frame(tf);
	uint64_t nr = tf->x[17];

	tf->sepc += 4;
	p->syscalls++;
	tf->x[10] = (uint64_t)(nr < NR_TABLE && sys_call_table[nr] ? sys_call_table[nr](p, tf)
								    : syscall_dispatch(p, tf));
	if (p->killed)
		proc_die(p, p->killed);
}
