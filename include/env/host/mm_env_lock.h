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
 * The lock: one for the whole mm stack, which its holder may take again
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

#define MM_MAX_CPUS 64

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

#endif
