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
/* The kernel builds Linux's kmalloc table alone (mm/kmalloc.h): its fast
 * path keeps one compare for a large size, and the magazine pool
 * (mm/slab.c) has room for its 12 caches. Its magazines are handed out
 * when a cache is made (its memory is its own, written or not), so its
 * slow paths need not look whether a hart has its own yet. */
#define MM_KMALLOC_FINE 0
#define MM_MAG_CACHES 12
#define MM_MAG_LAZY 0

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
 * section; and, since a hart holding the mm lock may hold every gate at
 * once to drain or count the caches behind them (as Linux's per-cpu pages
 * take pcp->lock, mm/page_alloc.c), a handshake with that stopper: no
 * atomic read-modify-write on the owner's side, one fence each way.
 * struct mm_cpu_gate sits in the hart's struct hart (kernel/smp.h), so the
 * owner reaches it through tp without knowing its index.
 *
 *   owner, entering:  busy = 1; fence w,r; load open (or stop)
 *   owner, leaving:   fence rw,w; busy = 0
 *   stopper:          stop = 1, open = 0 (each gate); fence rw,rw;
 *                     wait until each busy == 0; fence r,rw
 *   stopper, restart: fence rw,w; open = index + 1 (0 while closed); stop = 0
 *
 * Why that is enough, by the RISC-V weak memory model (RVWMO, unprivileged
 * spec ch. 17), rule numbers as there:
 * - Mutual exclusion is Dekker's: each side stores its flag, fences the
 *   store before its load (fence w,r: rule 4, "a precedes b by a fence")
 *   and loads the other's. In the global memory order one of the two
 *   stores comes first, so at least one side sees the other's flag: the
 *   owner finds the gate closed (and goes in no further), or the stopper
 *   finds busy and waits.
 * - The owner's section happens before the stopper's work: the section's
 *   accesses precede the busy = 0 store by fence rw,w (rule 4); the
 *   stopper's load of that 0 precedes its own accesses by fence r,rw.
 * - The stopper's work happens before the owner's next section: the work
 *   precedes open = index + 1 by fence rw,w; the owner's loads of its
 *   per-CPU data have a syntactic address dependency on the open value it
 *   read (kmalloc and kfree index their CPU's share with it: rule 9, a
 *   load ordered after the load its address depends on), and the page
 *   lists' entry, which reads stop instead, fences r,rw after the load.
 * - Leaving, a plain store after the fence (GCC 12 makes a release store
 *   a fence and an amoswap); interrupts come back on with one csrs (the
 *   state is the previous SIE bit, or 0).
 * Per fast path that is a csrrc and an andi, a store, two fences, a load
 * and a branch, and the csrs: no amoswap, and the mm_slow_paths word folded
 * into open (mm_gates_close). A stopper's wait is bounded: a gate section
 * waits for nothing but a zone lock (the page lists' refill and trim),
 * and the lock order (mm lock, then gates, then zone locks) has no
 * stopper holding one while it stops the gates. */

/* The hart's own struct hart, read straight from tp (as Linux's riscv
 * `current`): this_hart()'s asm would copy it to another register at
 * each use. */
register struct hart *mm_tp __asm__("tp");

struct mm_gate_entry {
	unsigned long open;    /* index + 1; 0: closed, not entered */
	unsigned long state;   /* for mm_gate_exit */
};

static inline struct mm_cpu_gate *mm_cpu_gate(unsigned cpu)
{
	return &harts[cpu].mm_gate;
}

static inline void mm_gate_fence_wr(void)
{
	__asm__ volatile("fence w,r" ::: "memory");
}

static inline void mm_gate_fence_rw_w(void)
{
	__asm__ volatile("fence rw,w" ::: "memory");
}

static inline void mm_gate_fence_r_rw(void)
{
	__asm__ volatile("fence r,rw" ::: "memory");
}

static inline void mm_irq_restore(unsigned long s)
{
	__asm__ volatile("csrs sstatus, %0" :: "r"(s) : "memory");   /* s: SIE or 0 */
}

/* Enter the calling hart's own gate g whether kmalloc's fast paths are
 * closed or not (the page lists' entry), waiting while a stopper holds
 * it; returns the state mm_gate_leave restores (the previous SIE bit). */
static inline unsigned long mm_gate_enter(struct mm_cpu_gate *g)
{
	unsigned long s = irq_save();

	for (;;) {
		*(volatile unsigned long *)&g->busy = 1;
		mm_gate_fence_wr();
		if (!*(volatile unsigned long *)&g->stop)
			break;
		*(volatile unsigned long *)&g->busy = 0;
		mm_irq_restore(s);
		while (*(volatile unsigned long *)&g->stop)
			;
		s = irq_save();
	}
	mm_gate_fence_r_rw();
	return s;
}

static inline void mm_gate_leave(struct mm_cpu_gate *g, unsigned long s)
{
	mm_gate_fence_rw_w();
	*(volatile unsigned long *)&g->busy = 0;
	mm_irq_restore(s);
}

/* kmalloc's and kfree's entry: enter the calling hart's gate if it is
 * open; .open is the hart's index + 1, .state what mm_gate_exit restores.
 * .open 0 when it is closed (held by a stopper, or mm_gates_close): then
 * the gate was not entered and the fast path must not run. The caller
 * indexes its per-CPU data with .open (see above). A pair by value, not
 * an out-parameter: a caller whose local had its address taken could not
 * end in a tail call (mm/kmalloc.c, KM_TAIL). */
static inline struct mm_gate_entry mm_gate_try(void)
{
	struct mm_cpu_gate *g = &mm_tp->mm_gate;
	struct mm_gate_entry e;

	e.state = irq_save();
	*(volatile unsigned long *)&g->busy = (unsigned long)mm_tp;   /* nonzero */
	mm_gate_fence_wr();
	e.open = *(volatile unsigned long *)&g->open;
	if (__builtin_expect(!e.open, 0)) {
		*(volatile unsigned long *)&g->busy = 0;   /* nothing read behind it */
		mm_irq_restore(e.state);
	}
	return e;
}

static inline void mm_gate_exit(unsigned long s)
{
	mm_gate_leave(&mm_tp->mm_gate, s);
}

/* Hold / give back every hart's gate (the mm lock held, interrupts off;
 * nothing between them enters a gate). mm_gates_close(closed), with the
 * gates held: whether they open for kmalloc's fast paths when given back
 * (mm_slow_paths, mm/slowpath.c). */
extern int mm_gates_closed;

static inline void mm_gates_stop(void)
{
	for (unsigned i = 0; i < MM_MAX_CPUS; i++) {
		*(volatile unsigned long *)&harts[i].mm_gate.stop = 1;
		*(volatile unsigned long *)&harts[i].mm_gate.open = 0;
	}
	__asm__ volatile("fence rw,rw" ::: "memory");
	for (unsigned i = 0; i < MM_MAX_CPUS; i++)
		while (*(volatile unsigned long *)&harts[i].mm_gate.busy)
			;
	mm_gate_fence_r_rw();
}

static inline void mm_gates_start(void)
{
	mm_gate_fence_rw_w();
	for (unsigned i = 0; i < MM_MAX_CPUS; i++) {
		*(volatile unsigned long *)&harts[i].mm_gate.open = mm_gates_closed ? 0 : i + 1;
		*(volatile unsigned long *)&harts[i].mm_gate.stop = 0;
	}
}

static inline void mm_gates_close(bool closed)
{
	mm_gates_closed = closed;
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
 * returns the word before (amoor.d.aq: the caller's later loads come
 * after it, as a claim needs). Clear: amoand.d. */
static inline uint64_t mm_bits_set(uint64_t *w, uint64_t bits)
{
	return __atomic_fetch_or(w, bits, __ATOMIC_ACQUIRE);
}

/* Set bit i (0..63) of w as mm_bits_set does; whether it was set. */
static inline bool mm_bit_claim(uint64_t *w, unsigned i)
{
	uint64_t bit = 1ull << (i % 64);

	return (mm_bits_set(w, bit) & bit) != 0;
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
