/* sys_proc.h - the process system calls (sys_proc.c), for syscall.c's
 * dispatch: spawn, wait4, kill, getppid, sched_yield, clock_gettime,
 * times, getrusage. */
#ifndef TALLY_KERNEL_SYS_PROC_H
#define TALLY_KERNEL_SYS_PROC_H

#include "kernel/proc.h"
#include "uapi/tally/unistd.h"

/* The call in tf (a7, a0..a5) if it is one of those above: *handled 1
 * and its result (a value or -errno; sys_proc.c names each call's
 * errors); else *handled 0. */
long sys_proc_dispatch(struct proc *p, struct trap_frame *tf, int *handled);

#endif
