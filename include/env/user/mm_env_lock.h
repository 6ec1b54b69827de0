/* mm_env_lock.h (user) - the mm lock and the calling CPU in a Tally user
 * process, where src/mm serves malloc (user/lib/malloc.c). Found through
 * the user build's include path (mk/user.mk); the kernel and the host have
 * their own (include/env/kernel, include/env/host). The functions behind
 * it live in user/lib/mm_env_user.c.
 *
 * A Tally process has one thread (no clone, no signal handlers that
 * allocate), so there is one CPU, index 0, and nothing runs beside the
 * code holding the lock: mm_lock takes nothing (nothing could contend,
 * and it nests by doing nothing); the gate is one word; a structure's
 * spinlock is a flag that catches the mm code taking it twice; every
 * "atomic" operation is a plain read-modify-write. Not for a program that allocates from two threads or
 * from a signal handler: Tally has neither. */
#ifndef TALLY_MM_ENV_LOCK_H
#define TALLY_MM_ENV_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#define MM_MAX_CPUS 1
/* kmalloc's fine size classes are built (mm/kmalloc.h: user malloc's),
 * the magazine pool (mm/slab.c) has room for all 40, and magazines are
 * handed out on first need (pages a process never writes it never has). */
#define MM_KMALLOC_FINE 1
#define MM_MAG_CACHES 41
#define MM_MAG_LAZY 1

static inline unsigned long mm_lock(void)
{
	return 0;
}

static inline void mm_unlock(unsigned long state)
{
	(void)state;
}

static inline unsigned mm_cpu(void)
{
	return 0;
}

/* The one CPU's gate: open is 1 (the CPU's index + 1) when kmalloc's fast
 * paths may run, 0 while mm_gates_close closed them (mm_slow_paths) or
 * between mm_gates_stop and mm_gates_start. No one else enters it, so
 * there is no busy flag to wait for. */
struct mm_cpu_gate {
	unsigned long open;
};

struct mm_gate_entry {
	unsigned long open;    /* 1: entered; 0: closed, not entered */
	unsigned long state;   /* unused */
};

extern struct mm_cpu_gate mm_user_gate;
extern int mm_user_gates_closed;

static inline struct mm_cpu_gate *mm_cpu_gate(unsigned cpu)
{
	(void)cpu;
	return &mm_user_gate;
}

static inline unsigned long mm_gate_enter(struct mm_cpu_gate *g)
{
	(void)g;
	return 0;
}

static inline void mm_gate_leave(struct mm_cpu_gate *g, unsigned long s)
{
	(void)g;
	(void)s;
}

static inline struct mm_gate_entry mm_gate_try(void)
{
	return (struct mm_gate_entry){ mm_user_gate.open, 0 };
}

static inline void mm_gate_exit(unsigned long s)
{
	(void)s;
}

static inline void mm_gates_stop(void)
{
	mm_user_gate.open = 0;
}

static inline void mm_gates_start(void)
{
	mm_user_gate.open = mm_user_gates_closed ? 0 : 1;
}

static inline void mm_gates_close(bool closed)
{
	mm_user_gates_closed = closed;
}

/* A structure's own lock: nothing else runs, so a word that says held,
 * for the same misuse the host's catches (taking it twice is reported by
 * mm_user_spin_again and the process exits). */
typedef struct {
	unsigned held;
	const char *name;
} mm_spinlock_t;

void mm_user_spin_again(mm_spinlock_t *l);

static inline void mm_spin_init(mm_spinlock_t *l, const char *name)
{
	l->held = 0;
	l->name = name;
}

static inline unsigned long mm_spin_lock(mm_spinlock_t *l)
{
	if (__builtin_expect(l->held, 0))
		mm_user_spin_again(l);
	l->held = 1;
	return 0;
}

static inline void mm_spin_unlock(mm_spinlock_t *l, unsigned long state)
{
	(void)state;
	l->held = 0;
}

static inline void mm_cpu_count(unsigned long *n, unsigned long v)
{
	*n = v;
}

static inline void mm_store32(uint32_t *w, uint32_t v)
{
	*w = v;
}

static inline uint64_t mm_bits_set(uint64_t *w, uint64_t bits)
{
	uint64_t old = *w;

	*w = old | bits;
	return old;
}

static inline bool mm_bit_claim(uint64_t *w, unsigned i)
{
	uint64_t bit = 1ull << (i % 64);

	return (mm_bits_set(w, bit) & bit) != 0;
}

static inline void mm_bits_clear(uint64_t *w, uint64_t bits)
{
	*w &= ~bits;
}

static inline bool mm_cas32(uint32_t *w, uint32_t old, uint32_t want)
{
	if (*w != old)
		return false;
	*w = want;
	return true;
}

#endif
