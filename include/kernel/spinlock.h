/* spinlock.h - a ticket lock that saves and restores interrupts, fair
 * under contention (harts are served in the order they asked), recording
 * its holder (hart index and the caller's address) for reports.
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

#include <stdint.h>

struct spinlock {
	uint32_t next;          /* the ticket the next taker draws */
	uint32_t serving;       /* the ticket that holds the lock */
	int holder;             /* hart index, -1 when free */
	uint32_t dep_class;     /* lockdep's cached class of `name` (lockdep.c) */
	void *caller;           /* where the holder took it */
	const char *name;       /* also its lock class for lockdep */
	unsigned long contended;   /* takes that had to wait */
};

#define SPINLOCK_INIT(n) { .holder = -1, .name = (n) }

unsigned long spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags);

/* Take l only if it is free now: 1 and *flags, or 0 (interrupts as
 * they were). */
int spin_trylock_irqsave(struct spinlock *l, unsigned long *flags);

/* Whether this hart holds l (for assertions and the panic path). */
int spin_held(const struct spinlock *l);

#endif
