/* mm_env_lock.h (host) - the mm lock and the calling CPU on the host, where
 * each thread plays a hart. Found through the host include path; the kernel
 * has its own (include/env/kernel). The functions behind it live in
 * src/host/mm_env_host.c.
 *
 * The CPU: a thread's dense index, 0 .. MM_MAX_CPUS-1, given on its first
 * call (mm_host_cpu_claim: the lowest free slot of a 64-bit map) and given
 * back when the thread exits (a pthread key's destructor), so threads that
 * come and go reuse slots. A 65th thread using the mm while 64 others hold
 * a slot is refused: a report on stderr and abort(), never a shared slot
 * (two threads on one slot would share a transaction nest).
 *
 * The lock: one for the mm stack's slow paths (the buddy allocator's zones
 * and the slab caches have their own mm_spinlock_t, below, taken after
 * it), which its holder may take again
 * (the mm code nests: leak records under kmalloc's lock, fault injection
 * under the caller's). owner is the holder's index + 1 (0: free), taken by
 * compare-and-swap; depth counts the holder's takes. Contended, the waiter
 * spins a little, then yields the host CPU (a test-and-set lock, not the
 * kernel's ticket lock: a host thread whose turn a ticket names may be
 * descheduled, and then everyone waits for it).
 *
 * As the kernel's lock engages only once a second hart is online, this one
 * is taken only once a second thread has used the mm: until then the one
 * thread counts its takes in solo_depth, with plain stores and no atomic
 * read-modify-write, so single-threaded programs pay a few instructions.
 * The second thread to claim an index sets shared, issues membarrier(2) --
 * after which the first thread either sees shared on its next take or has
 * made its solo_depth visible -- and waits for solo_depth to drop to 0;
 * from then on every thread takes the lock. */
#ifndef TALLY_MM_ENV_LOCK_H
#define TALLY_MM_ENV_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#define MM_MAX_CPUS 64
/* kmalloc's fine size classes are built (mm/kmalloc.h: libtally's), the
 * magazine pool (mm/slab.c) has room for all 40, and a cache's magazines
 * are handed out as each CPU slot first needs them: a process never has
 * the pages of 64 slots' magazines resident unless it writes them. */
#define MM_KMALLOC_FINE 1
#define MM_MAG_CACHES 41
#define MM_MAG_LAZY 1

extern __thread unsigned mm_host_cpu_id;   /* index + 1; 0: none yet */

extern struct mm_host_lock {
	unsigned owner;        /* holder's index + 1, 0: free (atomic) */
	unsigned depth;        /* the holder's takes */
	unsigned shared;       /* set once a second thread used the mm (atomic) */
	unsigned solo_depth;   /* the first thread's takes before that (atomic) */
} mm_host_lock;

/* mm_lock()'s state: taken (even), or counted in solo_depth (odd: the
 * depth before, times 2, plus 1 -- mm_unlock stores it back, no load) */
#define MM_HOST_LOCK_HELD 2ul

unsigned mm_host_cpu_claim(void);
void mm_host_lock_wait(unsigned me);

static inline unsigned mm_host_cpu(void)
{
	unsigned id = mm_host_cpu_id;

	if (__builtin_expect(id == 0, 0))
		id = mm_host_cpu_claim();
	return id;
}

static inline unsigned long mm_lock(void)
{
	struct mm_host_lock *l = &mm_host_lock;
	unsigned me = mm_host_cpu(), d;

	if (__builtin_expect(!__atomic_load_n(&l->shared, __ATOMIC_RELAXED), 1)) {
		/* the first thread, alone so far (a second sets shared first) */
		d = __atomic_load_n(&l->solo_depth, __ATOMIC_RELAXED);
		__atomic_store_n(&l->solo_depth, d + 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);   /* membarrier orders the rest */
		if (__builtin_expect(d || !__atomic_load_n(&l->shared, __ATOMIC_RELAXED), 1))
			return 2ul * d + 1;
		__atomic_store_n(&l->solo_depth, 0, __ATOMIC_RELEASE);   /* too late: lock */
	}
	/* __sync's CAS takes no address of a local: kmalloc's and kfree's
	 * slow halves stay tail calls (mm/kmalloc.c, KM_TAIL) */
	if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) != me &&
	    !__sync_bool_compare_and_swap(&l->owner, 0u, me))
		mm_host_lock_wait(me);
	l->depth++;
	return MM_HOST_LOCK_HELD;
}

static inline void mm_unlock(unsigned long state)
{
	struct mm_host_lock *l = &mm_host_lock;

	if (state & 1)
		__atomic_store_n(&l->solo_depth, (unsigned)(state >> 1), __ATOMIC_RELEASE);
	else if (--l->depth == 0)
		__atomic_store_n(&l->owner, 0, __ATOMIC_RELEASE);
}

/* The calling thread's dense index, 0 .. MM_MAX_CPUS-1. */
static inline unsigned mm_cpu(void)
{
	return mm_host_cpu() - 1;
}

/* A CPU gate (mm/mm_env.h): what guards one thread's own caches. Its thread
 * enters with two plain stores and a load -- no atomic read-modify-write,
 * which would cost more than the allocation -- by the same asymmetric
 * handshake as the lock's solo mode: the owner raises busy and then looks
 * at open (kmalloc's and kfree's entry, mm_gate_try) or stop (the page
 * lists', mm_gate_enter); a thread holding the mm lock that wants every
 * gate raises each stop and zeroes each open, issues membarrier(2)
 * (mm_host_gates_stop) -- after which each owner either sees its gate
 * closed or has made its busy visible -- and waits for the busy ones to
 * leave. An owner that finds open 0 does not go in (its caller takes the
 * slow path); one that finds stop lowers busy and waits until the stop is
 * lifted (mm_host_gate_wait). On x86 the compiler fence is all the owner
 * needs besides the plain stores and loads: the loads are acquires and the
 * store leaving the gate a release by the hardware's ordering. */
struct mm_cpu_gate {
	unsigned busy;        /* the owner is inside (atomic) */
	unsigned stop;        /* another thread holds it (atomic) */
	unsigned long open;   /* index + 1: open to mm_gate_try; 0: closed (atomic) */
} __attribute__((aligned(64)));

extern struct mm_cpu_gate mm_cpu_gates[MM_MAX_CPUS];
extern __thread struct mm_cpu_gate *mm_host_gate;   /* the thread's; NULL: no index yet */
extern int mm_host_gates_closed;                     /* mm_gates_close (mm lock) */

void mm_host_gate_wait(struct mm_cpu_gate *g);
void mm_host_gates_stop(void);

static inline struct mm_cpu_gate *mm_cpu_gate(unsigned cpu)
{
	return &mm_cpu_gates[cpu];
}

/* The test builds (-DMM_GATE_AUDIT) check mm/mm_env.h's rule on every
 * entry: a thread that holds the mm lock -- counted solo, or the owner --
 * enters no gate (it would wait for itself once it had stopped them).
 * mm_host_gate_audit reports and aborts. */
void mm_host_gate_audit(void);

static inline void mm_gate_audit(void)
{
#ifdef MM_GATE_AUDIT
	if (__atomic_load_n(&mm_host_lock.solo_depth, __ATOMIC_RELAXED) ||
	    (mm_host_cpu_id && __atomic_load_n(&mm_host_lock.owner, __ATOMIC_RELAXED) == mm_host_cpu_id))
		mm_host_gate_audit();
#endif
}

static inline unsigned long mm_gate_enter(struct mm_cpu_gate *g)
{
	mm_gate_audit();
	__atomic_store_n(&g->busy, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);   /* membarrier orders the rest */
	/* acquire: what a stopper did before lifting its stop happens before
	 * the section (a plain load on x86) */
	if (__builtin_expect(__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE), 0))
		mm_host_gate_wait(g);
	return 0;
}

static inline void mm_gate_leave(struct mm_cpu_gate *g, unsigned long s)
{
	(void)s;
	__atomic_store_n(&g->busy, 0, __ATOMIC_RELEASE);
}

/* kmalloc's and kfree's entry (mm/mm_env.h): .open the thread's index +
 * 1, or 0 when its gate is closed (not entered) -- and on the thread's
 * first call, before it has an index: its slow path claims one (through
 * the mm lock), so no call here makes the fast paths save registers.
 * .state is the gate, for mm_gate_exit. */
struct mm_gate_entry {
	unsigned long open;
	unsigned long state;
};

static inline struct mm_gate_entry mm_gate_try(void)
{
	struct mm_cpu_gate *g = mm_host_gate;
	struct mm_gate_entry e;

	if (__builtin_expect(!g, 0))
		return (struct mm_gate_entry){ 0, 0 };
	mm_gate_audit();
	__atomic_store_n(&g->busy, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);   /* membarrier orders the rest */
	e.open = __atomic_load_n(&g->open, __ATOMIC_ACQUIRE);
	if (__builtin_expect(!e.open, 0))
		__atomic_store_n(&g->busy, 0, __ATOMIC_RELEASE);
	e.state = (unsigned long)g;
	return e;
}

static inline void mm_gate_exit(unsigned long s)
{
	__atomic_store_n(&((struct mm_cpu_gate *)s)->busy, 0, __ATOMIC_RELEASE);
}

static inline void mm_gates_stop(void)
{
	mm_host_gates_stop();
}

static inline void mm_gates_start(void)
{
	for (unsigned i = 0; i < MM_MAX_CPUS; i++) {
		__atomic_store_n(&mm_cpu_gates[i].open, mm_host_gates_closed ? 0ul : i + 1ul,
				 __ATOMIC_RELEASE);
		__atomic_store_n(&mm_cpu_gates[i].stop, 0, __ATOMIC_RELEASE);
	}
}

static inline void mm_gates_close(bool closed)
{
	mm_host_gates_closed = closed;
}

/* A lock of the mm's own structures (a zone's free lists, a block cache's
 * lists): owner word
 * (index + 1, 0: free) taken by compare-and-swap, a waiter spinning a
 * little, then yielding (mm_host_spin_wait). Not recursive: a thread
 * taking one it holds is reported and aborts. */
typedef struct {
	unsigned owner;
	const char *name;
} mm_spinlock_t;

void mm_host_spin_wait(mm_spinlock_t *l, unsigned me);

static inline void mm_spin_init(mm_spinlock_t *l, const char *name)
{
	l->owner = 0;
	l->name = name;
}

static inline unsigned long mm_spin_lock(mm_spinlock_t *l)
{
	unsigned me = mm_host_cpu(), free = 0;

	if (!__atomic_compare_exchange_n(&l->owner, &free, me, 0, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		mm_host_spin_wait(l, me);
	return 0;
}

static inline void mm_spin_unlock(mm_spinlock_t *l, unsigned long state)
{
	(void)state;
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELEASE);
}

/* A counter only its own thread writes and others read with the gates
 * stopped: a relaxed store (a plain one to the compiler, seen by TSan). */
static inline void mm_cpu_count(unsigned long *n, unsigned long v)
{
	__atomic_store_n(n, v, __ATOMIC_RELAXED);
}

/* A 32-bit word other threads load (atomically) without a lock this one
 * holds while it changes it (a frame's flags, under a page list's fast
 * path or the block's owner, while a zone's lock holder merges a buddy). */
static inline void mm_store32(uint32_t *w, uint32_t v)
{
	__atomic_store_n(w, v, __ATOMIC_RELAXED);
}

/* Set bits of a word other threads may set or clear bits of at once;
 * returns the word before (an acquire: the caller's later loads come after
 * it, as a claim needs). Atomic once a second thread uses the mm; before,
 * a plain read-modify-write (no lock prefix to pay). */
static inline uint64_t mm_bits_set(uint64_t *w, uint64_t bits)
{
	uint64_t old;

	if (__builtin_expect(__atomic_load_n(&mm_host_lock.shared, __ATOMIC_RELAXED), 0))
		return __atomic_fetch_or(w, bits, __ATOMIC_ACQUIRE);
	old = __atomic_load_n(w, __ATOMIC_RELAXED);
	__atomic_store_n(w, old | bits, __ATOMIC_RELAXED);
	return old;
}

/* Set bit i (0..63) of w as mm_bits_set does; whether it was set (one
 * lock bts once shared: a fetch-or whose whole old word is wanted is a
 * compare-and-swap loop on x86). */
static inline bool mm_bit_claim(uint64_t *w, unsigned i)
{
	uint64_t bit = 1ull << (i % 64), old;

	if (__builtin_expect(__atomic_load_n(&mm_host_lock.shared, __ATOMIC_RELAXED), 0))
		return (__atomic_fetch_or(w, bit, __ATOMIC_ACQUIRE) & bit) != 0;
	old = __atomic_load_n(w, __ATOMIC_RELAXED);
	__atomic_store_n(w, old | bit, __ATOMIC_RELAXED);
	return (old & bit) != 0;
}

static inline void mm_bits_clear(uint64_t *w, uint64_t bits)
{
	if (__builtin_expect(__atomic_load_n(&mm_host_lock.shared, __ATOMIC_RELAXED), 0))
		__atomic_fetch_and(w, ~bits, __ATOMIC_RELAXED);
	else
		__atomic_store_n(w, __atomic_load_n(w, __ATOMIC_RELAXED) & ~bits, __ATOMIC_RELAXED);
}

/* Replace a 32-bit word other threads change without a common lock (a
 * frame's flags: the claim of a block being freed, mm/buddy_pcp.c) with
 * want if it still holds old; whether it did. Alone, a plain compare. */
static inline bool mm_cas32(uint32_t *w, uint32_t old, uint32_t want)
{
	if (__builtin_expect(__atomic_load_n(&mm_host_lock.shared, __ATOMIC_RELAXED), 0))
		return __atomic_compare_exchange_n(w, &old, want, false, __ATOMIC_RELAXED,
						   __ATOMIC_RELAXED);
	if (__atomic_load_n(w, __ATOMIC_RELAXED) != old)
		return false;
	__atomic_store_n(w, want, __ATOMIC_RELAXED);
	return true;
}

#endif
