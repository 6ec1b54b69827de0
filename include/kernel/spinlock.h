/* spinlock.h - a ticket lock that saves and restores interrupts, fair
 * under contention (harts are served in the order they asked), recording
 * its holder (hart index and the caller's address) for reports.
 *
 * Or, made with SPINLOCK_INIT_UNFAIR, a test-and-set lock: the hart that
 * is running takes it whenever it is free. For the locks of the memory
 * allocator's slow paths, which every hart takes every few dozen
 * operations: Tally runs under QEMU, whose harts run in turns (thousands
 * to millions of instructions each), and a fair lock whose next ticket
 * belongs to a hart that is not running stays unavailable to the ones
 * that are, a convoy that never dissolves. Linux makes the same choice on
 * a hypervisor without paravirtual spinlocks (virt_spin_lock(),
 * arch/x86/include/asm/qspinlock.h).
 *
 *	unsigned long flags = spin_lock_irqsave(&lock);
 *	...
 *	spin_unlock_irqrestore(&lock, flags);
 *
 * Not recursive: taking a lock the hart already holds is reported (with
 * both call sites) and the kernel panics rather than spin forever. With
 * lock debugging on (kernel/lockdep.h, `memdebug locks on`) the order in
 * which locks are taken is checked too. Kernel only; the mm and fs code
 * get their lock through mm_env. */
#ifndef TALLY_KERNEL_SPINLOCK_H
#define TALLY_KERNEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct spinlock {
	uint32_t next;          /* the ticket the next taker draws (unfair: 1 = held) */
	uint32_t serving;       /* the ticket that holds the lock (unfair: unused) */
	bool unfair;            /* test-and-set, not tickets */
	int holder;             /* hart index, -1 when free */
	uint32_t dep_class;     /* lockdep's cached class of `name` (lockdep.c) */
	void *caller;           /* where the holder took it */
	const char *name;       /* also its lock class for lockdep */
	unsigned long contended;   /* takes that had to wait */
};

#define SPINLOCK_INIT(n) { .holder = -1, .name = (n) }
#define SPINLOCK_INIT_UNFAIR(n) { .unfair = true, .holder = -1, .name = (n) }

unsigned long spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags);

/* Take l only if it is free now: 1 and *flags, or 0 (interrupts as
 * they were). */
int spin_trylock_irqsave(struct spinlock *l, unsigned long *flags);

/* Whether this hart holds l (for assertions and the panic path). */
int spin_held(const struct spinlock *l);

#endif
