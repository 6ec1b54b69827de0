/* proc.h - user processes: an Sv39 address space of their own described
 * by VMAs (proc/vma.h), a kernel stack, U-mode entry and exit through the
 * trap vector, page faults, system calls.
 *
 * A process runs a static ELF executable from the disk (proc_exec) or a
 * program image given as bytes (proc_run, for the kernel's own tests),
 * synchronously on the calling hart, which waits until it exits (the
 * scheduler comes next). ELF segments are read in at load; the stack,
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
#include "kernel/trap.h"
#include "mm/vm.h"
#include "proc/uspace.h"
#include "proc/vma.h"

struct fat_fs;

/* USER_VA_BASE, USER_VA_TOP, USER_STACK_TOP: proc/uspace.h. */
#define USER_TEXT      USER_VA_BASE      /* where proc_run puts the image */

#define PROC_NAME_MAX  16
#define PROC_KSTACK_ORDER 2              /* 16 KiB kernel stack */

/* Exit statuses of a process stopped by the kernel, as a shell shows a
 * signal's: 128 + the Linux signal number. */
#define PROC_EXIT_SIGSEGV 139
#define PROC_EXIT_SIGILL  132
#define PROC_EXIT_SIGINT  130
#define PROC_EXIT_SIGKILL 137   /* out of memory at a page fault */

/* Callee-saved registers of a kernel context (src/arch/riscv/swtch.S). */
struct proc_context {
	uint64_t ra, sp, s[12];
};

enum proc_state { PROC_RUNNING = 1, PROC_EXITED };

struct proc {
	int pid;
	enum proc_state state;
	char name[PROC_NAME_MAX];
	struct vm_space vm;
	struct vma_set vmas;       /* what it may touch */
	uint64_t brk_start, brk;   /* the heap: [brk_start, brk) */
	unsigned long rss;         /* pages mapped */
	unsigned long heap_rss;    /* of them, in the heap */
	unsigned long faults;      /* page faults that mapped a page (minor) */
	void *kstack;              /* 2^PROC_KSTACK_ORDER pages */
	struct trap_frame *tf;     /* at the top of kstack: its user registers */
	struct proc_context ctx;
	int status;                /* exit status, 0..255 */
	unsigned long syscalls;    /* system calls made */
	struct fdtable files;      /* open files (kernel/fdtable.h, sys_file.c) */
};

/* Run a program: the image's bytes (at most one page) at USER_TEXT, R X,
 * entered with a0 = arg and sp = USER_STACK_TOP (its stack a growsdown
 * area, its pages got at the first touch), fds 0..2 the console and the
 * root volume's "/" its cwd; wait for it to exit. Returns 0
 * and *status, -EINVAL for an empty or too large image, -ENOMEM when its
 * memory cannot be had (nothing is left allocated). Every page and table
 * the process held is given back before it returns. Not from interrupt
 * context, not re-entrant on one hart (a process runs until it exits). */
int proc_run(const char *name, const void *image, size_t len, uint64_t arg, int *status);

/* Run the static ELF executable at path on fs with argv[0..argc) (argv[0]
 * is the path, as a shell passes it) and no environment; wait for it to
 * exit. Its fds 0..2 are the console, and its relative paths start at
 * fs's cwd now (kernel/fdtable.h). Returns 0 and *status; -ENOENT/-EISDIR/-EIO... from the file
 * system; -ENOEXEC with *why naming what the file fails (proc/elf.h);
 * -E2BIG for arguments too large; -ENOMEM when its memory cannot be had.
 * On any error nothing is left allocated. */
int proc_exec(struct fat_fs *fs, const char *path, const char *const *argv, unsigned argc,
	      int *status, const char **why);

/* For the trap handler: a trap taken in U-mode (interrupts included,
 * already handled). Returns to the process, or never returns when it
 * exits or is killed. */
void proc_user_trap(struct trap_frame *tf);

/* The process running on this hart, or NULL. */
struct proc *proc_current(void);

/* Copy n bytes from user address src of p into dst: 0, or -EFAULT when
 * any byte is not in an area p may read (nothing is read then). Pages
 * not touched yet are faulted in first. */
int copy_from_user(struct proc *p, void *dst, uint64_t src, size_t n);

/* Copy n bytes from kernel src to user address dst of p: 0, or -EFAULT
 * when any byte is not in an area p may write (nothing is written then).
 * Pages not touched yet are faulted in first. */
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

/* System call dispatch (kernel/syscall.c): Linux's riscv64 numbers and
 * convention (a7 = number, a0..a5 arguments, a0 = result or -errno). */
long syscall_dispatch(struct proc *p, struct trap_frame *tf);

/* Leave the process for good with status (its low 8 bits): back to the
 * hart's proc_run. */
__attribute__((noreturn)) void proc_exit(struct proc *p, int status);

/* Low level (swtch.S): save the callee-saved registers in *from, load *to. */
void proc_switch(struct proc_context *from, const struct proc_context *to);

#endif
