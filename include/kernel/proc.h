/* proc.h - user processes: an Sv39 address space of their own, a kernel
 * stack, U-mode entry and exit through the trap vector, system calls.
 *
 * The first step of issue 18: a process runs a program image given as
 * bytes (one text page and a stack page; loading ELF files, VMAs, demand
 * paging and the scheduler build on it), synchronously on the calling
 * hart, which waits in proc_run() until the process exits.
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
#include "kernel/trap.h"
#include "mm/vm.h"
#include "proc/uspace.h"

/* USER_VA_BASE, USER_VA_TOP, USER_STACK_TOP: proc/uspace.h. */
#define USER_TEXT      USER_VA_BASE      /* where proc_run puts the image */

#define PROC_NAME_MAX  16
#define PROC_KSTACK_ORDER 2              /* 16 KiB kernel stack */

/* Exit statuses of a process stopped by the kernel, as a shell shows a
 * signal's: 128 + the Linux signal number. */
#define PROC_EXIT_SIGSEGV 139
#define PROC_EXIT_SIGILL  132
#define PROC_EXIT_SIGINT  130

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
	void *kstack;              /* 2^PROC_KSTACK_ORDER pages */
	struct trap_frame *tf;     /* at the top of kstack: its user registers */
	struct proc_context ctx;
	int status;                /* exit status, 0..255 */
	unsigned long syscalls;    /* system calls made */
};

/* Run a program: the image's bytes (at most one page) at USER_TEXT, R X,
 * entered with a0 = arg and sp = USER_STACK_TOP on a zeroed stack page;
 * wait for it to exit. Returns 0 and *status, -EINVAL for an empty or
 * too large image, -ENOMEM when its memory cannot be had (nothing is
 * left allocated). Every page and table the process held is given back
 * before it returns. Not from interrupt context, not re-entrant on one
 * hart (a process runs until it exits). */
int proc_run(const char *name, const void *image, size_t len, uint64_t arg, int *status);

/* For the trap handler: a trap taken in U-mode (interrupts included,
 * already handled). Returns to the process, or never returns when it
 * exits or is killed. */
void proc_user_trap(struct trap_frame *tf);

/* The process running on this hart, or NULL. */
struct proc *proc_current(void);

/* Copy n bytes from user address src of p into dst: 0, or -EFAULT when
 * any byte is not mapped readable for U-mode (nothing is read then). */
int copy_from_user(struct proc *p, void *dst, uint64_t src, size_t n);

/* System call dispatch (kernel/syscall.c): Linux's riscv64 numbers and
 * convention (a7 = number, a0..a5 arguments, a0 = result or -errno). */
long syscall_dispatch(struct proc *p, struct trap_frame *tf);

/* Leave the process for good with status (its low 8 bits): back to the
 * hart's proc_run. */
__attribute__((noreturn)) void proc_exit(struct proc *p, int status);

/* Low level (swtch.S): save the callee-saved registers in *from, load *to. */
void proc_switch(struct proc_context *from, const struct proc_context *to);

#endif
