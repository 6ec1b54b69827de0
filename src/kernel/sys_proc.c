/* sys_proc.c - the process system calls (sys_proc.h): spawn, wait4,
 * kill, getppid, sched_yield, clock_gettime, times, getrusage. Linux's
 * semantics and errno values (kernel/exit.c's wait4, kernel/sys.c's
 * getrusage, kernel/signal.c's kill, execve's
 * argument rules in fs/exec.c), over the process table of sched.c. Every
 * user pointer is checked against the caller's VMAs before it is
 * touched: a bad one is -EFAULT. Not here: the memory calls (brk is
 * proc.c's), the file calls. */
#include <string.h>
#include "sys_proc.h"
#include "kernel/platform.h"
#include "kernel/timer.h"
#include "arch/riscv.h"
#include "mm/kmalloc.h"
#include "uapi/tally/layout.h"
#include "uapi/tally/types.h"
#include "kerrno.h"

#define PATH_MAX_BYTES 4096   /* Linux's PATH_MAX, the NUL included */

/* The strings of a spawn, copied in: argv then envp, packed. */
struct spawn_args {
	char *strs;              /* TALLY_ARG_MAX bytes */
	size_t used;             /* strings and pointers counted, as ustack.c does */
	const char **vec;        /* argv[0..argc), then envp[0..envc) */
	unsigned argc, envc;
};

/* Append the strings of the NULL-terminated user array at uvec to a:
 * their count in *n. -EFAULT for a bad pointer, -E2BIG past TALLY_ARG_MAX
 * (each string's bytes, its NUL and its pointer count). */
static int copy_vec(struct proc *p, uint64_t uvec, struct spawn_args *a, unsigned *n)
{
	unsigned base = a->argc + a->envc;   /* *n is one of them: counted from 0 */

	for (*n = 0;; (*n)++) {
		uint64_t ustr;
		long len;

		if (copy_from_user(p, &ustr, uvec + *n * sizeof(uint64_t), sizeof(ustr)) != 0)
			return -EFAULT;
		if (!ustr)
			return 0;
		if (a->used + sizeof(uint64_t) + 1 > TALLY_ARG_MAX)
			return -E2BIG;
		len = copy_str_from_user(p, a->strs + a->used, ustr, TALLY_ARG_MAX - a->used - sizeof(uint64_t));
		if (len == -ENAMETOOLONG)
			return -E2BIG;
		if (len < 0)
			return (int)len;
		a->vec[base + *n] = a->strs + a->used;
		a->used += (size_t)len + 1 + sizeof(uint64_t);
	}
}

/* spawn(path, argv, envp): uapi/tally/unistd.h. */
static long sys_spawn(struct proc *p, uint64_t upath, uint64_t uargv, uint64_t uenvp)
{
	struct spawn_args a = { 0 };
	const char *why;
	char *path = kmalloc(PATH_MAX_BYTES, GFP_KERNEL);
	long rc;

	a.strs = kmalloc(TALLY_ARG_MAX, GFP_KERNEL);
	a.vec = kmalloc(TALLY_ARG_MAX / sizeof(uint64_t) * sizeof(char *), GFP_KERNEL);
	rc = path && a.strs && a.vec ? 0 : -ENOMEM;
	if (rc == 0)
		rc = copy_str_from_user(p, path, upath, PATH_MAX_BYTES);
	if (rc >= 0)
		rc = copy_vec(p, uargv, &a, &a.argc);
	if (rc == 0 && uenvp)
		rc = copy_vec(p, uenvp, &a, &a.envc);
	if (rc == 0 && !p->files.fs)
		rc = -ENOENT;   /* no volume */
	if (rc == 0)
		rc = proc_spawn(p->files.fs, path, a.vec, a.argc, a.vec + a.argc, a.envc, p,
				p->files.foreground, &why);   /* its console as the parent's */
	kfree(a.vec);
	kfree(a.strs);
	kfree(path);
	return rc;
}

#define WAIT_KNOWN (LINUX_WNOHANG | 2 | 8 | 0x20000000 | 0x40000000 | 0x80000000u)

/* Ticks of TIMER_HZ as a timeval. */
static struct linux_timeval tick_timeval(unsigned long ticks)
{
	return (struct linux_timeval){ .tv_sec = (int64_t)(ticks / TIMER_HZ),
				       .tv_usec = (int64_t)(ticks % TIMER_HZ * 1000000 / TIMER_HZ) };
}

/* Linux's struct rusage from a proc_usage (kernel/sys.c's getrusage):
 * ru_maxrss in KiB; every fault Tally takes is minor (a zeroed page; the
 * executable's pages are read at load, not at a fault); the counts Tally
 * does not keep are 0. */
static void rusage_fill(struct linux_rusage *r, const struct proc_usage *u)
{
	*r = (struct linux_rusage){ .ru_utime = tick_timeval(u->utime),
				    .ru_stime = tick_timeval(u->stime),
				    .ru_maxrss = (int64_t)(u->maxrss * (PAGE_SIZE / 1024)),
				    .ru_minflt = (int64_t)u->minflt };
}

/* wait4(pid, wstatus, options, rusage): kernel/exit.c's kernel_wait4.
 * Every process is its own process group (no setpgid): pid 0 is any
 * child, pid < -1 the child -pid. wstatus and rusage are checked before
 * anything is reaped, so a bad one is -EFAULT with the child still there
 * (Linux reaps, then fails the copy); both are written only when a child
 * was reaped. rusage is the reaped child's: its own time, faults and
 * high-water mark with those of the children it reaped (RUSAGE_BOTH, as
 * wait_task_zombie fills it). */
static long sys_wait4(struct proc *p, long pid, uint64_t ustatus, long options, uint64_t urusage)
{
	struct proc_usage usage;
	struct linux_rusage ru;
	int ws = 0;
	long rc;

	if ((uint32_t)options & ~(uint32_t)WAIT_KNOWN)   /* an int, as in Linux */
		return -EINVAL;
	if ((int)pid == -2147483647 - 1)
		return -ESRCH;   /* Linux: -INT_MIN has no group */
	if ((ustatus && vma_access_ok(&p->vmas, ustatus, sizeof(int), PROT_WRITE) != 0) ||
	    (urusage && vma_access_ok(&p->vmas, urusage, sizeof(ru), PROT_WRITE) != 0))
		return -EFAULT;
	if (pid == 0)
		pid = -1;
	else if (pid < -1)
		pid = -pid;
	rc = proc_wait(p, (int)pid, &ws, (int)options, &usage);
	if (rc > 0 && urusage)
		rusage_fill(&ru, &usage);
	if (rc > 0 && ((ustatus && copy_to_user(p, ustatus, &ws, sizeof(ws)) != 0) ||
		       (urusage && copy_to_user(p, urusage, &ru, sizeof(ru)) != 0)))
		return -EFAULT;   /* only when a page of theirs could not be had now */
	return rc;
}

/* getrusage(who, ru): kernel/sys.c's getrusage. RUSAGE_SELF the
 * caller's own time, faults and high-water mark; RUSAGE_THREAD the same
 * (one thread per process); RUSAGE_CHILDREN those of the children it
 * reaped, theirs included. -EINVAL for any other who (ru untouched);
 * -EFAULT when ru is not writable -- nothing of it written then, where
 * Linux's copy_to_user writes the bytes before the first bad one. */
static long sys_getrusage(struct proc *p, long who, uint64_t uru)
{
	struct proc_usage usage;
	struct linux_rusage ru;

	if (who != LINUX_RUSAGE_SELF && who != LINUX_RUSAGE_THREAD && who != LINUX_RUSAGE_CHILDREN)
		return -EINVAL;
	proc_get_usage(p, who == LINUX_RUSAGE_CHILDREN ? PROC_USAGE_CHILDREN : PROC_USAGE_SELF,
		       &usage);
	rusage_fill(&ru, &usage);
	return copy_to_user(p, uru, &ru, sizeof(ru)) ? -EFAULT : 0;
}

/* kill(pid, sig): kernel/signal.c's kill_something_info, every process its
 * own group: pid > 0 and pid < -1 name one process, 0 the caller, -1
 * every process but the caller (-ESRCH when there is none). */
static long sys_kill(struct proc *p, long pid, long sig)
{
	struct proc_info *list;
	unsigned n;
	int hit = 0, rc = 0;

	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (pid != -1)
		return proc_kill(pid == 0 ? p->pid : pid < 0 ? (int)-pid : (int)pid, (int)sig);
	list = kmalloc(PROC_MAX * sizeof(*list), GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	n = proc_list(list, PROC_MAX);
	for (unsigned i = 0; i < n && i < PROC_MAX && rc != -EINVAL; i++)
		if (list[i].pid != p->pid && list[i].state != PROC_ZOMBIE) {
			rc = proc_kill(list[i].pid, (int)sig);
			hit |= rc == 0;
		}
	kfree(list);
	return rc == -EINVAL ? -EINVAL : hit ? 0 : -ESRCH;
}

/* clock_gettime(clk, tp): the time CSR at the device tree's
 * timebase-frequency. No RTC is read: CLOCK_REALTIME counts from boot
 * like CLOCK_MONOTONIC (its epoch is the boot). Linux's clocks 0
 * REALTIME, 1 MONOTONIC, 4 MONOTONIC_RAW, 5 REALTIME_COARSE, 6
 * MONOTONIC_COARSE, 7 BOOTTIME; 2 PROCESS_CPUTIME_ID and 3
 * THREAD_CPUTIME_ID (one thread per process) are the caller's user and
 * system time, in whole ticks (proc_account_tick: 10 ms steps, where
 * Linux's are finer); others -EINVAL. */
static long sys_clock_gettime(struct proc *p, long clk, uint64_t utp)
{
	uint64_t hz = platform.timebase_hz ? platform.timebase_hz : 1, t = rdtime();
	struct linux_timespec ts;

	if (clk == LINUX_CLOCK_PROCESS_CPUTIME_ID || clk == LINUX_CLOCK_THREAD_CPUTIME_ID) {
		hz = TIMER_HZ;
		t = p->utime + p->stime;
	} else if (clk != 0 && clk != 1 && (clk < 4 || clk > 7)) {
		return -EINVAL;
	}
	ts.tv_sec = (int64_t)(t / hz);
	ts.tv_nsec = (int64_t)(t % hz * 1000000000ull / hz);
	return copy_to_user(p, utp, &ts, sizeof(ts)) ? -EFAULT : 0;
}

/* Ticks of TIMER_HZ as times(2)'s clock ticks of LINUX_USER_HZ. */
static int64_t user_ticks(uint64_t ticks)
{
	return (int64_t)(ticks * LINUX_USER_HZ / TIMER_HZ);
}

/* times(buf): Linux's times(2): the caller's user and system time and its
 * reaped children's, in LINUX_USER_HZ ticks (buf may be NULL); returns
 * the ticks since boot by the time CSR, which every hart shares (Linux's
 * count starts at an arbitrary point too; one hart's tick count would lag
 * while that hart runs with interrupts off). -EFAULT for a bad buf. */
static long sys_times(struct proc *p, uint64_t ubuf)
{
	struct linux_tms t = { user_ticks(p->utime), user_ticks(p->stime),
			       user_ticks(p->cutime), user_ticks(p->cstime) };
	uint64_t per_tick = platform.timebase_hz / LINUX_USER_HZ;

	if (ubuf && copy_to_user(p, ubuf, &t, sizeof(t)))
		return -EFAULT;
	return (int64_t)(rdtime() / (per_tick ? per_tick : 1));
}

long sys_proc_dispatch(struct proc *p, struct trap_frame *tf, int *handled)
{
	uint64_t *a = &tf->x[10];

	*handled = 1;
	switch (tf->x[17]) {
	case __NR_tally_spawn:
		return sys_spawn(p, a[0], a[1], a[2]);
	case __NR_wait4:
		return sys_wait4(p, (long)(int)a[0], a[1], (long)(int)a[2], a[3]);
	case __NR_kill:
		return sys_kill(p, (long)(int)a[0], (long)(int)a[1]);
	case __NR_getppid:
		return p->ppid;
	case __NR_sched_yield:
		sched_yield_proc(p);
		return 0;
	case __NR_clock_gettime:
		return sys_clock_gettime(p, (long)(int)a[0], a[1]);
	case __NR_times:
		return sys_times(p, a[0]);
	case __NR_getrusage:
		return sys_getrusage(p, (long)(int)a[0], a[1]);
	}
	*handled = 0;
	return -ENOSYS;
}
