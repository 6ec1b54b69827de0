/* mm_env_lock.h (kernel) - the mm lock and the calling CPU, inline. Found
 * through the kernel's include path; the host has its own (include/env/host).
 *
 * The lock: interrupts off on the calling hart, and -- once a second hart
 * is online (mm_lock_smp, set by smp_boot before it starts any) -- one
 * test-and-set lock for the mm's slow paths, which a hart may take again
 * while it holds it (the mm code nests: leak records taken under kmalloc's
 * lock, fault injection asked under the caller's). The fast paths take
 * none: each hart's caches are behind its gate (below). The buddy
 * allocator's zones and the slab caches' slow paths are not behind it
 * either: each has its own mm_spinlock_t (below; mm/buddy.c, mm/slab.c),
 * taken after the mm lock and the gates when several are held. With one
 * hart, one load and a branch more than interrupts off. */
#ifndef TALLY_MM_ENV_LOCK_H
#define TALLY_MM_ENV_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/riscv.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"

#define MM_MAX_CPUS HART_MAX

extern int mm_lock_smp;

/* The big lock itself: a test-and-set lock (test-and-test-and-set) that
 * its holder may take again; inline with no call. Not a ticket lock,
 * unlike kernel/spinlock.h: the mm's slow paths run on every hart every
 * few dozen operations, and under QEMU -- which runs harts in turns, up
 * to millions of instructions each with -icount -- a fair lock whose
 * every hart holds a ticket hands out one slow path per hart per turn (a
 * convoy that never dissolves); here the hart that is running takes the
 * lock whenever it is free. What is left behind it once the zones and
 * the caches took locks of their own (the SimpleHeap, kmalloc's kept
 * blocks, ...) is next to split. */
extern struct mm_big_lock {
	uint32_t locked;          /* 1: held */
	int owner;                /* hart index, -1 free */
	unsigned depth;           /* the owner's takes */
} mm_big;

static inline void mm_lock_take(void)
{
	int me = (int)this_hart()->index;

	if (mm_big.owner != me) {
		while (__atomic_exchange_n(&mm_big.locked, 1, __ATOMIC_ACQUIRE))
			while (__atomic_load_n(&mm_big.locked, __ATOMIC_RELAXED))
				;
		mm_big.owner = me;
	}
	mm_big.depth++;
}

static inline void mm_lock_drop(void)
{
	if (--mm_big.depth == 0) {
		mm_big.owner = -1;
		__atomic_store_n(&mm_big.locked, 0, __ATOMIC_RELEASE);
	}
}

/* The state mm_lock returns: the previous SIE bit (SSTATUS_SIE) and
 * MM_LOCK_TAKEN when it took the spin lock, so mm_unlock undoes exactly
 * what mm_lock did without loading mm_lock_smp again. */
#define MM_LOCK_TAKEN 1ul

static inline unsigned long mm_lock(void)
{
	unsigned long s = irq_save();

	if (__builtin_expect(mm_lock_smp, 0)) {
		mm_lock_take();
		s |= MM_LOCK_TAKEN;
	}
	return s;
}

static inline void mm_unlock(unsigned long state)
{
	if (__builtin_expect(state & MM_LOCK_TAKEN, 0))
		mm_lock_drop();
	irq_restore(state & SSTATUS_SIE);
}

/* The calling hart's dense index, 0 .. MM_MAX_CPUS-1. */
static inline unsigned mm_cpu(void)
{
	return this_hart()->index;
}

/* A CPU gate (mm/mm_env.h): what guards one hart's own caches. Its hart
 * enters it with interrupts off, so nothing on that hart interrupts the
 * section; a spin lock besides, because a hart holding the mm lock may
 * take every gate to drain or count the caches behind it (as Linux's
 * per-cpu pages take pcp->lock, mm/page_alloc.c). Uncontended -- the
 * common case -- it is one amoswap to take and a release store to give. */
struct mm_cpu_gate {
	unsigned long lock;   /* 1: held (a full word: amoswap.d needs no sign extension) */
} __attribute__((aligned(64)));

extern struct mm_cpu_gate mm_cpu_gates[MM_MAX_CPUS];

static inline void mm_gate_take(struct mm_cpu_gate *g)
{
	while (__atomic_exchange_n(&g->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&g->lock, __ATOMIC_RELAXED))
			;
}

/* Enter the calling hart's own gate; returns the state mm_gate_leave
 * restores (the previous SIE bit). */
static inline unsigned long mm_gate_enter(struct mm_cpu_gate *g)
{
	unsigned long s = irq_save();

	mm_gate_take(g);
	return s;
}

static inline void mm_gate_leave(struct mm_cpu_gate *g, unsigned long s)
{
	__atomic_store_n(&g->lock, 0, __ATOMIC_RELEASE);
	irq_restore(s);
}

/* Take / give every hart's gate (the mm lock held, interrupts off: the
 * only code that takes more than one gate, so in index order). */
static inline void mm_gates_stop(void)
{
	for (unsigned i = 0; i < MM_MAX_CPUS; i++)
		mm_gate_take(&mm_cpu_gates[i]);
}

static inline void mm_gates_start(void)
{
	for (unsigned i = 0; i < MM_MAX_CPUS; i++)
		__atomic_store_n(&mm_cpu_gates[i].lock, 0, __ATOMIC_RELEASE);
}

/* A lock of the mm's own structures (a zone's free lists, a slab cache,
 * a block cache's lists): the kernel's spinlock in its test-and-set form
 * (unfair, for the reason kernel/spinlock.h gives), interrupts saved,
 * holder recorded, lock debugging's order checks. */
typedef struct spinlock mm_spinlock_t;

static inline void mm_spin_init(mm_spinlock_t *l, const char *name)
{
	*l = (struct spinlock)SPINLOCK_INIT_UNFAIR(name);
}

static inline unsigned long mm_spin_lock(mm_spinlock_t *l)
{
	return spin_lock_irqsave(l);
}

static inline void mm_spin_unlock(mm_spinlock_t *l, unsigned long state)
{
	spin_unlock_irqrestore(l, state);
}

/* A counter only its own hart writes and others read with the gates
 * stopped: a plain store (GCC 12 makes a relaxed atomic store an amoswap). */
static inline void mm_cpu_count(unsigned long *n, unsigned long v)
{
	*(volatile unsigned long *)n = v;
}

/* A 32-bit word other harts load (atomically) without a lock this one
 * holds while it changes it (a frame's flags, under a page list's fast
 * path or the block's owner, while a zone's lock holder merges a buddy): a
 * plain store, for the same reason. */
static inline void mm_store32(uint32_t *w, uint32_t v)
{
	*(volatile uint32_t *)w = v;
}

/* Set bits of a word other harts may set or clear bits of at once;
 * returns the word before (amoor.d). Clear: amoand.d. */
static inline uint64_t mm_bits_set(uint64_t *w, uint64_t bits)
{
	return __atomic_fetch_or(w, bits, __ATOMIC_RELAXED);
}

static inline void mm_bits_clear(uint64_t *w, uint64_t bits)
{
	__atomic_fetch_and(w, ~bits, __ATOMIC_RELAXED);
}

/* Replace a 32-bit word other harts change without a common lock (a
 * frame's flags: the claim of a block being freed, mm/buddy_pcp.c) with
 * want if it still holds old; whether it did (lr.w/sc.w). */
static inline bool mm_cas32(uint32_t *w, uint32_t old, uint32_t want)
{
	return __atomic_compare_exchange_n(w, &old, want, false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

#endif
