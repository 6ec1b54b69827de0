/* proc.h - user processes: an Sv39 address space of their own described
 * by VMAs (proc/vma.h), a kernel stack above a guard (kernel/kstack.h),
 * U-mode entry and exit through the trap vector, page faults, system
 * calls.
 *
 * A process runs a static ELF executable from the disk (proc_spawn,
 * proc_exec, the spawn system call) or a program image given as bytes
 * (proc_run, for the kernel's own tests). Processes are scheduled on
 * every online hart (kernel/sched.c, the second part of this header):
 * round-robin from one run queue, a time slice of one timer tick. ELF segments are read in at load; the stack,
 * bss pages past the file's, and the heap (brk) get a zeroed frame at
 * the first touch (demand paging); the stack grows down on a fault below
 * it, up to USER_STACK_MAX.
 *
 * The address space: the kernel's mappings (its identity map, all below
 * USER_VA_BASE) are shared through the top-level table entries
 * (vm_share), without the U bit, so U-mode cannot touch them; the user's
 * own mappings lie in [USER_VA_BASE, USER_VA_TOP): the upper half of
 * Sv39's lower half, 128 GiB. The kernel reaches user memory only by
 * translating a user address through the process's table and checking
 * the U and R/W bits (copy_from_user), never by dereferencing it. */
#ifndef TALLY_KERNEL_PROC_H
#define TALLY_KERNEL_PROC_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/fdtable.h"
#include "kernel/spinlock.h"
#include "kernel/trap.h"
#include "mm/vm.h"
#include "proc/uspace.h"
#include "proc/vma.h"

struct fat_fs;
struct elf_plan;

/* USER_VA_BASE, USER_VA_TOP, USER_STACK_TOP: proc/uspace.h. */
#define USER_TEXT      USER_VA_BASE      /* where proc_run puts the image */

#define PROC_NAME_MAX  16
#define PROC_CMD_MAX   48                /* ps's command column */
#define PROC_MAX       64                /* processes at once, zombies included */

/* Linux's signal numbers (asm-generic/signal.h) that Tally acts on. */
#define PROC_SIGINT   2
#define PROC_SIGILL   4
#define PROC_SIGKILL  9
#define PROC_SIGSEGV 11
#define PROC_SIGTERM 15

/* Exit statuses of a process stopped by a signal, as a shell shows them:
 * 128 + the Linux signal number (proc_status_code). */
#define PROC_EXIT_SIGSEGV 139
#define PROC_EXIT_SIGILL  132
#define PROC_EXIT_SIGINT  130
#define PROC_EXIT_SIGKILL 137   /* out of memory at a page fault, kill -9 */
#define PROC_EXIT_SIGTERM 143

/* The shell's figure for a Linux wait status: the exit code of a process
 * that exited, 128 + the signal of one that was killed. */
static inline int proc_status_code(int wstatus)
{
	return (wstatus & 0x7f) ? 128 + (wstatus & 0x7f) : (wstatus >> 8) & 0xff;
}

/* Callee-saved registers of a kernel context (src/arch/riscv/swtch.S). */
struct proc_context {
	uint64_t ra, sp, s[12];
};

/* The states (docs/ARCHITECTURE.md draws them): on the run queue; on a
 * hart; asleep in wait4 (woken by a child's exit or a kill); exited, its
 * memory given back, its wait status kept until its parent reaps it. */
enum proc_state { PROC_RUNNABLE = 1, PROC_RUNNING, PROC_SLEEPING, PROC_ZOMBIE };

struct proc {
	int pid;
	enum proc_state state;     /* the scheduler's, under its lock */
	char name[PROC_NAME_MAX];
	char cmd[PROC_CMD_MAX];    /* path and arguments, cut to fit (ps) */
	/* ---- the scheduler's (kernel/sched.c), under its lock ---- */
	struct proc *parent;       /* NULL: the kernel's (the shell's, or an orphan) */
	int ppid;                  /* parent's pid, 0 for the kernel */
	int autoreap;              /* an orphan: freed when it exits, nobody waits */
	int exiting;               /* left for good; a zombie once off its hart */
	int killed;                /* a signal pending: it dies at its next return to U-mode */
	int on_cpu;                /* its kernel context is live on hart `hart` */
	int wakeup;                /* woken while still on its hart (sched.c) */
	unsigned hart;             /* the hart it runs or last ran on */
	int wstatus;               /* Linux's wait status, once exiting */
	unsigned long slices;      /* time slices it was given */
	struct proc *rq_next;      /* run queue link */
	uint64_t kstack_top;       /* the word trapvec.S loads tp from */
	/* ---- its memory: changed by its own kernel part (system calls,
	 * faults, exit) with mm_lock held; read by itself without it, by
	 * others (memstat PID) only with it (proc_inspect) ---- */
	struct spinlock mm_lock;   /* Linux's mmap_lock, here a spinlock */
	struct vm_space vm;        /* vm.tables: its page-table pages */
	struct vma_set vmas;       /* what it may touch; vmas.bytes is its VSZ */
	uint64_t brk_start, brk;   /* the heap: [brk_start, brk) */
	unsigned long rss;         /* pages mapped (frames owned PAGE_OWNER_USER) */
	unsigned long hiwater_rss; /* the most rss has been (Linux's VmHWM) */
	unsigned long heap_rss;    /* of rss, in the heap */
	unsigned long faults;      /* page faults that mapped a page (minor) */
	char *exe;                 /* its executable's absolute path (kmalloc), or NULL */
	uint32_t exe_ino;          /* the file's first cluster: its identity on the volume */
	struct elf_plan *exe_plan; /* the segments its text and data areas point at */
	/* ---- the rest: its own, and the tick's (sched.c) ---- */
	/* CPU time in ticks (1/TIMER_HZ s), charged as Linux's tick-based
	 * accounting does: a tick that finds it running in U-mode is user
	 * time, in the kernel on its behalf system time (proc_account_tick).
	 * cutime/cstime: its reaped children's, theirs included (times(2)). */
	unsigned long utime, stime, cutime, cstime;
	/* its reaped children's minor faults and the largest of their
	 * high-water marks in pages, theirs included (Linux's signal_struct
	 * cmin_flt and cmaxrss; getrusage(2)'s RUSAGE_CHILDREN) */
	unsigned long cmin_flt, cmaxrss;
	void *kstack;              /* KSTACK_SIZE bytes above a guard (kernel/kstack.h;
				    * 32 KiB: spawn loads from the volume on it) */
	struct trap_frame *tf;     /* at the top of kstack: its user registers */
	struct proc_context ctx;
	unsigned long syscalls;    /* system calls made */
	struct fdtable files;      /* open files (kernel/fdtable.h, sys_file.c) */
};

/* Run a program: the image's bytes (at most one page) at USER_TEXT, R X,
 * entered with a0 = arg and sp = USER_STACK_TOP (its stack a growsdown
 * area, its pages got at the first touch), fds 0..2 the console and the
 * root volume's "/" its cwd, as a child of the kernel; wait for it to
 * exit (running processes on this hart meanwhile) and reap it.
 * Returns 0 and *status (proc_status_code's figure), -EINVAL for an empty
 * or too large image, -ENOMEM when its memory cannot be had, -EAGAIN when
 * the process table is full (nothing is left allocated). Every page and
 * table the process held is given back before it returns. Kernel context
 * only (the shell, selftests), not from a process's system call. */
int proc_run(const char *name, const void *image, size_t len, uint64_t arg, int *status);

/* proc_run's first half: the process made runnable, not waited for.
 * Returns its pid, or proc_run's errors (nothing left allocated). */
int proc_start_image(const char *name, const void *image, size_t len, uint64_t arg);

/* A process that runs only in the kernel (a kernel thread, as Linux has
 * them): an empty address space, fn called on its kernel stack when the
 * scheduler first runs it, with interrupts off and sscratch 0 as in a
 * system call; fn must end it with proc_exit(proc_current(), status).
 * A child of the kernel. Returns its pid; -ENOMEM, -EAGAIN as
 * proc_start_image (nothing left allocated). For crash.c's `kstack`. */
int proc_start_kernel(const char *name, void (*fn)(void));

/* Start the static ELF executable at path on fs with argv[0..argc) (argv[0]
 * is the path, as a shell passes it) and envp[0..envc) as a child of
 * parent (NULL: of the kernel, which reaps it with proc_wait(NULL, ...)):
 * loaded now, runnable on any hart. Its fds 0..2 are the console, fd 0
 * reading it only when foreground (kernel/fdtable.h); its relative
 * paths start at parent's cwd, or fs's cwd now for the kernel's child.
 * Returns its pid (> 0); -ENOENT/-EISDIR/-EIO... from the file system;
 * -EINVAL for no fs or path; -ENOEXEC with *why naming
 * what the file fails (proc/elf.h); -E2BIG for arguments and environment
 * over TALLY_ARG_MAX; -ENOMEM when its memory cannot be had; -EAGAIN when
 * PROC_MAX processes exist. On any error nothing is left allocated.
 * Its frames and tables are GFP_USER (mm/gfp.h): when loading finds none
 * (not by fault injection), the OOM decision kills the process with the
 * largest resident set (the oom-kill line), waits up to 10 s for its
 * frames (sched_wait_exit: the caller's hart runs or yields meanwhile)
 * and loads again -- -ENOMEM once no process holds a page, or parent
 * itself was chosen (it dies on its way back to U-mode). */
int proc_spawn(struct fat_fs *fs, const char *path, const char *const *argv, unsigned argc,
	       const char *const *envp, unsigned envc, struct proc *parent, bool foreground,
	       const char **why);

/* proc_spawn with no environment as the kernel's child in the
 * foreground, then wait for it (proc_wait_kernel, Ctrl-C not looked at).
 * Returns 0 and *status (proc_status_code's figure), or proc_spawn's
 * error. */
int proc_exec(struct fat_fs *fs, const char *path, const char *const *argv, unsigned argc,
	      int *status, const char **why);

/* For the trap handler: a trap taken in U-mode (interrupts included,
 * already handled). Returns to the process, or never returns when it
 * exits or is killed. */
void proc_user_trap(struct trap_frame *tf);

/* The process running on this hart, or NULL. */
struct proc *proc_current(void);

/* The timer tick on this hart, from trap_handle: charge it to the process
 * running here (if any) as user time when the tick interrupted U-mode
 * (user != 0), system time otherwise. Interrupts off. */
void proc_account_tick(int user);

/* The process of tf, the frame of a trap it took in U-mode: tf->x[0] is
 * its kernel stack's top (sscratch's value while it ran there), whose
 * first word names the hart (trapvec.S's tp) and second the process
 * (proc.c: proc_frame) -- a load instead of proc_current's look-up, for
 * the system call and page fault paths. */
static inline struct proc *proc_of_frame(const struct trap_frame *tf)
{
	return ((struct proc *const *)(uintptr_t)tf->x[0])[1];
}

/* Copy n bytes from user address src of p into dst: 0, or -EFAULT when
 * any byte is not in an area p may read (nothing is read then). Pages
 * not touched yet are faulted in first. */
int copy_from_user(struct proc *p, void *dst, uint64_t src, size_t n);

/* Copy n bytes from kernel src to user address dst of p: 0, or -EFAULT
 * when any byte is not in an area p may write (nothing is written then).
 * Pages not touched yet are faulted in first (-EFAULT too when that
 * fails for want of memory). */
int copy_to_user(struct proc *p, uint64_t dst, const void *src, size_t n);

/* A page fault of p at addr needing prot (PROT_READ, PROT_WRITE or
 * PROT_EXEC): a zeroed frame mapped when addr lies in an area allowing
 * prot (after growing the stack down to it), the page not mapped yet.
 * Returns 0; -EFAULT for a bad access (no area, or one without prot, or
 * mapped already without it); -ENOMEM when no frame can be had. */
int proc_fault(struct proc *p, uint64_t addr, unsigned prot);

/* brk(addr): move p's break to addr and return it; return the break
 * unchanged (Linux's convention: no errno) when addr is below the heap's
 * start or in the mmap range, or growing cannot be committed: no more
 * heap pages than the pages free now plus those the heap holds (strict
 * overcommit), or no area struct. Shrinking gives the pages back. */
long proc_brk(struct proc *p, uint64_t addr);

/* For the memory calls (kernel/sys_mman.c): a vma_change_fn that gives
 * back the frames mapped in piece (a struct proc * as ctx) and their
 * mappings, and the PTE permissions (VM_*) of a page of an area with
 * protection prot (PROT_*): PROT_WRITE brings read; PROT_NONE is VM_R
 * without VM_U, so the frame stays mapped for the kernel and every user
 * access faults. The caller flushes the TLB. */
void proc_unmap_piece(void *ctx, const struct vma *piece, unsigned old_prot);
unsigned proc_pte_perm(unsigned prot);

/* A user process's frames (mm/page.h): user_frame_claim marks a frame
 * (an order-0 PAGE_OWNER_PAGES block) as mapped into a process --
 * owner PAGE_OWNER_USER, counted in page_owner_pages(); user_frame_free
 * gives such a frame back to the page allocator. */
void user_frame_claim(struct page *pg);
void user_frame_free(struct page *pg);

/* p's rss up by n pages (mm_lock held), its high-water mark with it. */
static inline void proc_rss_add(struct proc *p, unsigned long n)
{
	p->rss += n;
	if (p->rss > p->hiwater_rss)
		p->hiwater_rss = p->rss;
}

/* System call dispatch (kernel/syscall.c): Linux's riscv64 numbers and
 * convention (a7 = number, a0..a5 arguments, a0 = result or -errno).
 * Returns the call's result (each call names its errors), -ENOSYS for a
 * number no call has; exit and exit_group do not return. syscall_entry
 * (kernel/trap.h) is the path from trapvec.S. */
long syscall_dispatch(struct proc *p, struct trap_frame *tf);

/* Leave the process for good with exit code status (its low 8 bits; wait
 * status status << 8): every frame and table of its space is given back
 * now, its kernel stack and wait status when it is reaped. p must be the
 * caller's own process (proc_current()). */
__attribute__((noreturn)) void proc_exit(struct proc *p, int status);

/* The same, killed by signal sig (wait status sig; a shell shows 128 +
 * sig). SIGINT says "pid N (name): interrupted" first. */
__attribute__((noreturn)) void proc_die(struct proc *p, int sig);

/* Low level (swtch.S): save the callee-saved registers in *from, load *to. */
void proc_switch(struct proc_context *from, const struct proc_context *to);

/* ---- for the other system calls (mmap, files): p's own memory --------- */

/* Copy the NUL-terminated string at user address src of p into dst (at
 * most max bytes with the NUL). Returns its length; -EFAULT when a byte
 * before the NUL is unreadable; -ENAMETOOLONG when no NUL comes within
 * max bytes. Reads no page past the NUL's. */
long copy_str_from_user(struct proc *p, char *dst, uint64_t src, size_t max);

/* After p's mappings in [va, va + len) were removed or downgraded (munmap,
 * mprotect): flush them from the TLB of this hart and, if p runs on
 * another hart now, of that one (an IPI through smp_call; it runs there
 * at its next trap or in its scheduler loop). Every satp switch
 * (sched.c) flushes the whole TLB, so no other hart keeps stale entries
 * of a space it does not run. Call with no spinlock held. */
void proc_tlb_shootdown(struct proc *p, uint64_t va, uint64_t len);

/* ==== the scheduler (kernel/sched.c) ==================================== */

/* Hook the scheduler into the harts' idle loops (smp_set_idle) and the
 * shell's wait for input (console_set_idle); after smp_boot. */
void sched_init(void);

/* Make p (whose frame proc.c built) runnable as a child of parent (NULL:
 * the kernel's): a pid and a slot, the run queue, an idle hart woken.
 * Returns the pid; -EAGAIN when PROC_MAX processes exist (p untouched). */
int sched_add(struct proc *p, struct proc *parent);

/* Run one time slice of the process at the head of the run queue on this
 * hart (kernel context: an idle loop, the shell waiting). Returns 1 when
 * it ran one, 0 when the queue was empty. */
int sched_run_one(void);

/* From p's own kernel context (a trap, interrupts off): give the hart
 * back; p stays runnable and goes to the tail of the queue (sched_yield,
 * the tick's preemption). Returns when p is given a hart again, maybe
 * another. */
void sched_yield_proc(struct proc *p);

/* Leave the hart for good (p->exiting set, its space freed): the
 * scheduler makes it a zombie, reparents its children and wakes its
 * parent. Never returns. */
__attribute__((noreturn)) void sched_exit_proc(struct proc *p);

/* What getrusage(2) reports of a process, in the kernel's units: CPU
 * time in ticks of 1/TIMER_HZ s, the resident set's high-water mark in
 * pages, minor faults (faults that mapped a page: every fault Tally takes
 * is served without I/O, so it has no major ones). */
struct proc_usage {
	unsigned long utime, stime;
	unsigned long maxrss;
	unsigned long minflt;
};

/* Which part of it (Linux's RUSAGE_SELF, RUSAGE_CHILDREN and the
 * RUSAGE_BOTH that wait4 reports of the child it reaps). */
enum proc_usage_who { PROC_USAGE_SELF = 1, PROC_USAGE_CHILDREN = 2, PROC_USAGE_BOTH = 3 };

/* kernel/sys.c's getrusage for p: SELF its own time, faults and
 * high-water mark; CHILDREN those of its reaped children (theirs
 * included); BOTH the sums, the larger mark. p is the caller's own
 * process, or a zombie being reaped (nothing else changes them then). */
void proc_get_usage(const struct proc *p, enum proc_usage_who who, struct proc_usage *u);

/* Reap a child of self (NULL: a child of the kernel, autoreaped orphans
 * excepted) that has exited: pid > 0 that child, -1 any. Returns its pid
 * and *wstatus (Linux's wait status) and, if usage is not NULL, its
 * resource usage (PROC_USAGE_BOTH: kernel/exit.c's wait_task_zombie),
 * its kernel stack and struct freed; its usage is added to self's
 * children's (times, faults, the larger high-water mark);
 * 0 when options has LINUX_WNOHANG and no such child has exited yet;
 * -ECHILD when there is no such child; -EINTR when self was killed while
 * waiting. Without WNOHANG self sleeps until a child exits (the kernel
 * must pass WNOHANG). */
int proc_wait(struct proc *self, int pid, int *wstatus, int options, struct proc_usage *usage);

/* The kernel waits for its child pid: runs processes on this hart (or
 * sleeps in wfi) until it exits, reaps it, returns 0 and *status
 * (proc_status_code's figure), or -ECHILD. ctrl_c: a Ctrl-C on the
 * console (hart 0's) kills it with SIGINT (status 130). */
int proc_wait_kernel(int pid, int *status, int ctrl_c);

/* Wait until process pid has exited (a zombie: every frame it held is
 * back; or gone from the table): from kernel context running processes
 * on this hart meanwhile (as proc_wait_kernel, the shell's hold on the
 * volume let go), from a process's kernel context giving its hart up
 * (sched_yield_proc). At most ms milliseconds. Returns 0; -ETIMEDOUT;
 * -EINTR when the calling process was killed meanwhile. */
int sched_wait_exit(int pid, unsigned ms);

/* Send signal sig to process pid: SIGKILL, SIGTERM, SIGINT and the
 * other signals whose default action ends a process end it (at its next
 * return to U-mode; one asleep in wait4 is woken for it; one running on
 * another hart is sent an IPI), with wait status sig; 0 only checks that
 * it exists. Returns 0; -ESRCH when no process (a zombie counts) has that
 * pid; -EINVAL for sig outside 0..64 or a signal that would stop it
 * (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: no job control). Signals ignored by
 * default (SIGCHLD, SIGCONT, SIGURG, SIGWINCH) change nothing. */
int proc_kill(int pid, int sig);

/* A process as ps shows it. */
struct proc_info {
	int pid, ppid;
	enum proc_state state;
	unsigned hart;             /* where it runs or last ran */
	uint64_t vsz;              /* bytes */
	unsigned long rss;         /* pages */
	unsigned long hiwater_rss; /* pages */
	unsigned long tables;      /* page-table pages of its space */
	unsigned long faults;
	char cmd[PROC_CMD_MAX];
};

/* Fill out[0..max) with the processes in pid order; returns how many
 * exist (may exceed max). */
unsigned proc_list(struct proc_info *out, unsigned max);

/* Run fn(p, arg) on process pid with proc_lock and its mm_lock held
 * (interrupts off): p's areas, page table and memory counters hold
 * still, and p cannot be freed meanwhile, wherever it runs. fn must not
 * sleep, allocate, print or take another lock; it copies what it needs
 * out, quickly (every hart's scheduler waits for proc_lock). A zombie's areas
 * are gone already (empty set, rss 0). Lock order: proc_lock, then the
 * process's mm_lock (never the other way round: nothing holding an
 * mm_lock takes proc_lock). Returns 0, or -ESRCH when no process (a
 * zombie counts) has that pid. */
int proc_inspect(int pid, void (*fn)(const struct proc *p, void *arg), void *arg);

/* With no process in the table (none alive, none a zombie) no frame may
 * be a user process's or one of its page tables: the page allocator's
 * counts by owner (page_owner_pages) must both be 0 -- every frame of
 * every process that ended came back. Returns the violations (0 or 1),
 * each reported; 0 when processes exist (their counts move as they run:
 * the proc suite compares them with processes held still). For
 * memcheck; call from the shell's hart (nothing else spawns while no
 * process exists). */
int proc_check_frames(void);

/* Time slices hart index `hart` has run since boot. */
unsigned long sched_hart_slices(unsigned hart);

/* Processes that exist now (zombies included). */
unsigned proc_count(void);

#endif
