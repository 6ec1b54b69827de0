/* smp.h - harts: per-hart data, start-up, cross-hart calls, stopping.
 *
 * Every hart the device tree names is started through SBI HSM hart_start
 * (SBI spec ch. 9) with its own boot stack and trap stack, each above an
 * unmapped guard page. A hart is known by a dense index (0 = the hart that
 * booted; hart ids may be sparse) and reaches its own struct hart through
 * the tp register. Secondary harts take their timer tick and then wait in
 * an idle loop for work sent with smp_call() through an SBI IPI (ch. 7);
 * the shell stays on hart 0. A panic or fatal trap on any hart stops the
 * others (smp_stop_others) before QEMU exits. */
#ifndef TALLY_KERNEL_SMP_H
#define TALLY_KERNEL_SMP_H

#define HART_MAX        8
#define HART_GUARD      4096
#define HART_BOOT_STACK 65536
#define HART_TRAP_STACK 8192
/* Per hart, from the bottom: guard, boot stack, guard, trap stack. */
#define HART_AREA       (2 * HART_GUARD + HART_BOOT_STACK + HART_TRAP_STACK)
/* struct hart's overflow_sp, for trapvec.S (checked in trap.c) */
#define HART_OVERFLOW_SP 104

#ifndef __ASSEMBLY__
#include <stdint.h>

enum hart_state {
	HART_ABSENT,      /* not in the device tree (or beyond HART_MAX) */
	HART_STARTING,    /* hart_start asked, not online yet */
	HART_ONLINE,
	HART_FAILED,      /* hart_start refused, or it never came up */
	HART_STOPPED,     /* halted by smp_stop_others */
};

struct hart {
	unsigned index;            /* dense: 0 = the boot hart */
	unsigned long hartid;      /* the SBI / device-tree id */
	volatile int state;        /* enum hart_state */
	volatile uint64_t ticks;   /* its own timer ticks */
	volatile unsigned long calls;   /* smp_call functions it ran */
	long start_error;          /* hart_start's SBI error when FAILED */
	/* the smp_call mailbox: one call at a time per target (smp.c) */
	int call_busy;             /* claimed by a caller */
	int call_pending;          /* posted, not taken yet */
	int call_done;             /* finished */
	void (*call_fn)(void *arg);
	void *call_arg;
	/* the mm's gate in front of this hart's own caches: its protocol and
	 * memory ordering are include/env/kernel/mm_env_lock.h's; kept when
	 * the hart is (re)started, set by the mm from kmalloc_init on */
	struct mm_cpu_gate {
		unsigned long busy;   /* nonzero: the hart is inside */
		unsigned long open;   /* index + 1: kmalloc's fast paths may run; 0: closed */
		unsigned long stop;   /* nonzero: a hart holding the mm lock holds it */
	} mm_gate;
	/* where trapvec.S puts the frame of a trap that would not fit on a
	 * process's kernel stack (kernel/kstack.h): the top of this hart's
	 * trap stack, which is idle while a process's kernel part runs */
	uintptr_t overflow_sp;
};

extern struct hart harts[HART_MAX];
extern unsigned nharts;          /* entries of harts[] in use (online or not) */

static inline struct hart *this_hart(void)
{
	struct hart *h;

	__asm__ volatile("mv %0, tp" : "=r"(h));
	return h;
}

/* The boot hart's own entry (kmain, before anything else): harts[0], tp. */
void smp_init_boot(unsigned long hartid);

/* A secondary hart's C entry (entry.S); never returns. */
void smp_secondary_main(unsigned long hartid, struct hart *h);

/* Start every other hart of the device tree; each gets up to 1 s to come
 * online. One boot-log line: "harts: N online (ids ...), booted on ID",
 * plus one line per hart that failed to start. Returns the harts online. */
unsigned smp_boot(void);

/* Run fn(arg) on hart index `hart` -- from its idle loop, with interrupts
 * on, on a secondary hart; in its software interrupt on a busy one (hart
 * 0 running the shell: fn must then be short) -- and wait for it to
 * finish, however long (fn and arg may live on the caller's stack).
 * On the calling hart itself fn runs directly. Returns 0; -EINVAL for an
 * index that is not an online hart; -EBUSY when another call to that hart
 * is in flight; -EIO when the IPI could not be sent or the target stopped
 * before running fn. */
int smp_call(unsigned hart, void (*fn)(void *arg), void *arg);

/* smp_call in two halves, to run work on several harts at once: post
 * (same errors, and -EINVAL for the calling hart itself), then wait up to
 * ms milliseconds for that hart (0, -EINVAL when nothing was posted,
 * -ETIMEDOUT: the call may still run, so what fn and arg point to must
 * outlive it -- wait again). */
int smp_post(unsigned hart, void (*fn)(void *arg), void *arg);
int smp_wait(unsigned hart, unsigned ms);

/* The online harts' dense indexes, the calling hart's first and the others
 * in index order, into idx (when not NULL); returns how many are online. */
unsigned smp_online(unsigned *idx);

/* Run fn(args[i]) on n online harts at once: i = 0 on the calling hart,
 * 1..n-1 on the others in smp_online's order. Every other hart is posted
 * first and waits at a start line until all are there; one store then
 * releases them together and the caller runs its own part. It returns when
 * every part has finished, having slept in wfi meanwhile (so its waiting
 * retires no instructions and leaves QEMU's host threads to the others).
 * Returns 0; -EINVAL when n is 0 or more than the harts online; -EBUSY
 * when a hart's mailbox is in use; -EIO when an IPI could not be sent or a
 * hart stopped before the start -- in all these cases fn ran on no hart. */
int smp_run_together(unsigned n, void (*fn)(void *arg), void *const args[]);

/* Work for the secondaries' idle loops: fn runs there with interrupts
 * off whenever no call is pending, and returns 1 when it did something
 * (the loop looks again) or 0 (the hart sleeps in wfi until an interrupt).
 * The scheduler's (kernel/sched.c): a process's time slice. */
void smp_set_idle(int (*fn)(void));

/* Wake hart index `hart` with an IPI (its wfi ends; a process it runs in
 * U-mode traps); nothing for this hart or one not online. */
void smp_kick(unsigned hart);

/* The software interrupt on this hart (trap handler): run its mailbox, or
 * stop when smp_stop_others asked. */
void smp_ipi(void);

/* Stop every other online hart (interrupts off, wfi forever) and wait
 * briefly for each; for panic and fatal traps. */
void smp_stop_others(void);

/* Stack bounds of hart index i (0 <= i < HART_MAX). */
uintptr_t hart_boot_stack_top(unsigned i);
uintptr_t hart_trap_stack_top(unsigned i);
#endif

#endif
