/* spinlock.c - the ticket lock (kernel/spinlock.h).
 *
 * Taking: draw a ticket with an atomic add, wait until `serving` reaches
 * it (acquire). Releasing: advance `serving` (release). An unfair lock
 * swaps 1 into `next` (acquire) until it swapped out a 0, reading while
 * it is 1 (test-and-test-and-set), and stores 0 to release. RISC-V's RVWMO
 * with the A extension's amoadd and the fence the __atomic builtins emit
 * give the ordering (RISC-V unprivileged spec, ch. 14 and appendix A).
 * Lock debugging (lockdep.c) hooks in behind one load and a branch on
 * each path while it is off. */
#include <stdbool.h>
#include "kernel/spinlock.h"
#include "kernel/power.h"
#include "kernel/smp.h"
#include "arch/riscv.h"
#include "lockdep_internal.h"

int spin_held(const struct spinlock *l)
{
	return l->holder == (int)this_hart()->index;
}

/* Recursion deadlocks for sure: a panic naming both call sites, whether
 * lock debugging is on or not. */
__attribute__((noreturn, noinline))
static void spin_recursion(const struct spinlock *l, void *caller)
{
	char now[80], then[80];

	panic("spinlock \"%s\": taken again by hart %u at %s, held since %s",
	      l->name ? l->name : "?", this_hart()->index,
	      lockdep_where(caller, now, sizeof(now)), lockdep_where(l->caller, then, sizeof(then)));
}

/* The paths below are inline twice: as they are, and with lockdep's hooks
 * in a function of their own, called when debugging is on. With it off
 * the lock paths pay one load and a branch, and keep no stack frame: the
 * compiler sets one up on the debugging path only (shrink-wrapping), as
 * long as the call there is not a tail call, which would need the frame
 * on every path. */
static inline __attribute__((always_inline))
unsigned long take(struct spinlock *l, void *caller, bool dep)
{
	unsigned long flags = irq_save();
	uint32_t ticket;

	if (spin_held(l))
		spin_recursion(l, caller);
	if (dep)
		lockdep_acquire(l, caller, 0);
	if (l->unfair) {
		if (__atomic_exchange_n(&l->next, 1, __ATOMIC_ACQUIRE)) {
			l->contended++;   /* a statistic, as below */
			do {
				while (__atomic_load_n(&l->next, __ATOMIC_RELAXED))
					__asm__ volatile("nop");
			} while (__atomic_exchange_n(&l->next, 1, __ATOMIC_ACQUIRE));
		}
		l->holder = (int)this_hart()->index;
		l->caller = caller;
		return flags;
	}
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

static inline __attribute__((always_inline))
void release(struct spinlock *l, unsigned long flags)
{
	l->holder = -1;
	if (l->unfair)
		__atomic_store_n(&l->next, 0, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
	irq_restore(flags);
}

static inline __attribute__((always_inline))
int trytake(struct spinlock *l, unsigned long *flags, void *caller, bool dep)
{
	unsigned long f = irq_save();
	uint32_t serving = __atomic_load_n(&l->serving, __ATOMIC_RELAXED);
	uint32_t want = serving;

	if (l->unfair) {
		serving = 0;
		want = 0;
	}
	if (spin_held(l) ||
	    !__atomic_compare_exchange_n(&l->next, &want, l->unfair ? 1 : serving + 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		irq_restore(f);
		return 0;
	}
	l->holder = (int)this_hart()->index;
	l->caller = caller;
	if (dep)
		lockdep_acquire(l, caller, 1);
	*flags = f;
	return 1;
}

__attribute__((noinline))
static unsigned long spin_lock_checked(struct spinlock *l, void *caller)
{
	return take(l, caller, true);
}

/* A release lockdep refused (not this hart's lock) changes nothing. */
__attribute__((noinline))
static void spin_unlock_checked(struct spinlock *l, unsigned long flags, void *caller)
{
	if (lockdep_release(l, caller))
		release(l, flags);
	else
		irq_restore(flags);
}

__attribute__((noinline))
static int spin_trylock_checked(struct spinlock *l, unsigned long *flags, void *caller)
{
	return trytake(l, flags, caller, true);
}

unsigned long spin_lock_irqsave(struct spinlock *l)
{
	if (__builtin_expect(lockdep_enabled, 0))
		return spin_lock_checked(l, __builtin_return_address(0));
	return take(l, __builtin_return_address(0), false);
}

void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags)
{
	if (__builtin_expect(lockdep_enabled, 0)) {
		spin_unlock_checked(l, flags, __builtin_return_address(0));
		__asm__ volatile("");   /* no tail call: see above */
		return;
	}
	release(l, flags);
}

int spin_trylock_irqsave(struct spinlock *l, unsigned long *flags)
{
	int got;

	if (__builtin_expect(lockdep_enabled, 0)) {
		got = spin_trylock_checked(l, flags, __builtin_return_address(0));
		__asm__ volatile("");   /* no tail call: see above */
		return got;
	}
	return trytake(l, flags, __builtin_return_address(0), false);
}
