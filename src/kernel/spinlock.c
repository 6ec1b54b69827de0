/* spinlock.c - the ticket lock (kernel/spinlock.h).
 *
 * Taking: draw a ticket with an atomic add, wait until `serving` reaches
 * it (acquire). Releasing: advance `serving` (release). RISC-V's RVWMO
 * with the A extension's amoadd and the fence the __atomic builtins emit
 * give the ordering (RISC-V unprivileged spec, ch. 14 and appendix A). */
#include <stdbool.h>
#include "kernel/spinlock.h"
#include "kernel/power.h"
#include "kernel/smp.h"
#include "arch/riscv.h"

int spin_held(const struct spinlock *l)
{
	return l->holder == (int)this_hart()->index;
}

unsigned long spin_lock_irqsave(struct spinlock *l)
{
	void *caller = __builtin_return_address(0);
	unsigned long flags = irq_save();
	uint32_t ticket;

	if (spin_held(l))
		panic("spinlock %s: taken again by hart %u at %p, held since %p",
		      l->name ? l->name : "?", this_hart()->index, caller, l->caller);
	ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket) {
		l->contended++;   /* a statistic: a race here only loses a count */
		while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket)
			__asm__ volatile("nop");
	}
	l->holder = (int)this_hart()->index;
	l->caller = caller;
	return flags;
}

void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags)
{
	l->holder = -1;
	__atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
	irq_restore(flags);
}

int spin_trylock_irqsave(struct spinlock *l, unsigned long *flags)
{
	unsigned long f = irq_save();
	uint32_t serving = __atomic_load_n(&l->serving, __ATOMIC_RELAXED);
	uint32_t want = serving;

	if (spin_held(l) ||
	    !__atomic_compare_exchange_n(&l->next, &want, serving + 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		irq_restore(f);
		return 0;
	}
	l->holder = (int)this_hart()->index;
	l->caller = __builtin_return_address(0);
	*flags = f;
	return 1;
}
