/* mm_env_host.c - the host's mm environment (mm/mm_env.h): the threads'
 * indexes and the contended half of the mm lock (the inline half is
 * include/env/host/mm_env_lock.h, which says how they work), the clock,
 * and reports to stderr with an "mm: " prefix, counted in mm_host_reports
 * (under the mm lock, so threads may report at once). */
#include "mm/mm_env.h"
#include "mm_host.h"
#include "mm/fork.h"
#include "mm/mm_host.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(MM_MAX_CPUS == 64, "the slot map is one 64-bit word");

__thread unsigned mm_host_cpu_id;
struct mm_cpu_gate mm_cpu_gates[MM_MAX_CPUS];
__thread struct mm_cpu_gate *mm_host_gate;
int mm_host_gates_closed = 1;   /* mm_slow_paths starts with MM_SLOW_SETUP */
struct mm_host_lock mm_host_lock;

static uint64_t cpu_slots;        /* bit i: index i held by a live thread */
static unsigned long cpu_claims;  /* indexes ever given */
static pthread_key_t cpu_key;
static pthread_once_t cpu_key_once = PTHREAD_ONCE_INIT;

/* A thread that used the mm exits: its index is free again. */
static void cpu_release(void *v)
{
	unsigned id = (unsigned)(uintptr_t)v;

	mm_host_cpu_id = 0;   /* a later destructor that allocates claims a fresh index */
	mm_host_gate = NULL;
	__atomic_fetch_and(&cpu_slots, ~(1ull << (id - 1)), __ATOMIC_RELEASE);
}

static void cpu_key_make(void)
{
	if (pthread_key_create(&cpu_key, cpu_release) != 0) {
		fprintf(stderr, "mm: pthread_key_create failed: thread indexes cannot be reused\n");
		abort();
	}
}

/* Every other thread has run a full barrier since the caller's last store
 * (membarrier(2)); refused loudly when the kernel offers none. */
static void barrier_all_threads(void)
{
	static int registered;   /* 1: private expedited registered, -1: refused */

	if (!__atomic_load_n(&registered, __ATOMIC_ACQUIRE))
		__atomic_store_n(&registered, syscall(SYS_membarrier,
				 MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 ? 1 : -1,
				 __ATOMIC_RELEASE);
	if (__atomic_load_n(&registered, __ATOMIC_ACQUIRE) == 1 &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	fprintf(stderr, "mm: membarrier(2) unavailable: a second thread cannot join the mm safely\n");
	abort();
}

static void gates_wait_idle(void);

/* A second thread is here: from now on every take is a real one. Waits for
 * the first thread to leave the section it may be in without the lock. */
static void go_shared(void)
{
	__atomic_store_n(&mm_host_lock.shared, 1, __ATOMIC_SEQ_CST);
	barrier_all_threads();
	while (__atomic_load_n(&mm_host_lock.solo_depth, __ATOMIC_ACQUIRE))
		sched_yield();
	gates_wait_idle();   /* its plain bit updates (mm_bits_set) are done */
}

unsigned mm_host_cpu_claim(void)
{
	uint64_t used = __atomic_load_n(&cpu_slots, __ATOMIC_RELAXED);
	unsigned id;

	pthread_once(&cpu_key_once, cpu_key_make);
	do {
		if (used == ~0ull) {
			fprintf(stderr, "mm: refused: a thread uses the mm while %d others do "
				"(MM_MAX_CPUS, include/env/host/mm_env_lock.h)\n", MM_MAX_CPUS);
			abort();
		}
		id = (unsigned)__builtin_ctzll(~used) + 1;
	} while (!__atomic_compare_exchange_n(&cpu_slots, &used, used | (1ull << (id - 1)), 0,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	if (__atomic_fetch_add(&cpu_claims, 1, __ATOMIC_ACQ_REL) > 0)
		go_shared();
	mm_host_cpu_id = id;
	mm_host_gate = &mm_cpu_gates[id - 1];
	pthread_setspecific(cpu_key, (void *)(uintptr_t)id);
	return id;
}

void mm_host_atfork_child(void)
{
	mm_atfork_child();
	/* only this thread came along: the others' indexes are free again */
	__atomic_store_n(&cpu_slots, mm_host_cpu_id ? 1ull << (mm_host_cpu_id - 1) : 0,
			 __ATOMIC_RELEASE);
}

/* The lock is another thread's: spin a little, then give the CPU away
 * between tries (the holder may be waiting for one). */
void mm_host_lock_wait(unsigned me)
{
	unsigned free;

	for (unsigned tries = 0;; tries++) {
		free = 0;
		if (!__atomic_load_n(&mm_host_lock.owner, __ATOMIC_RELAXED) &&
		    __atomic_compare_exchange_n(&mm_host_lock.owner, &free, me, 0,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if (tries >= 64)
			sched_yield();
	}
}

/* The owner of g found it stopped: step out, wait for the stop to be
 * lifted, step in again -- with a full fence this time, as the waiter
 * may be any thread (mm_env_lock.h). */
void mm_host_gate_wait(struct mm_cpu_gate *g)
{
	do {
		__atomic_store_n(&g->busy, 0, __ATOMIC_RELEASE);
		while (__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE))
			sched_yield();
		__atomic_store_n(&g->busy, 1, __ATOMIC_SEQ_CST);
	} while (__atomic_load_n(&g->stop, __ATOMIC_SEQ_CST));
}

/* Wait until no owner is inside its gate (after a barrier on every
 * thread: each then sees what the caller stored before, or has made its
 * busy visible). */
static void gates_wait_idle(void)
{
	for (unsigned i = 0; i < MM_MAX_CPUS; i++)
		while (__atomic_load_n(&mm_cpu_gates[i].busy, __ATOMIC_ACQUIRE))
			sched_yield();
}

/* Hold every gate (the mm lock held): raise each stop and close each
 * gate to mm_gate_try, make every running thread pass a full barrier,
 * wait for each owner inside to leave. Alone (one thread so far), the
 * caller is inside none. */
unsigned long mm_host_gate_stops;

void mm_host_gates_stop(void)
{
	__atomic_fetch_add(&mm_host_gate_stops, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < MM_MAX_CPUS; i++) {
		__atomic_store_n(&mm_cpu_gates[i].stop, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&mm_cpu_gates[i].open, 0, __ATOMIC_SEQ_CST);
	}
	if (!__atomic_load_n(&mm_host_lock.shared, __ATOMIC_RELAXED))
		return;
	barrier_all_threads();
	gates_wait_idle();
}

/* l is held: by this thread (a deadlock: report, abort), else wait. */
void mm_host_spin_wait(mm_spinlock_t *l, unsigned me)
{
	for (unsigned tries = 0;; tries++) {
		unsigned free = 0;

		if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == me) {
			fprintf(stderr, "mm: lock %s taken again by the thread holding it\n",
				l->name ? l->name : "?");
			abort();
		}
		if (!__atomic_load_n(&l->owner, __ATOMIC_RELAXED) &&
		    __atomic_compare_exchange_n(&l->owner, &free, me, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		if (tries >= 64)
			sched_yield();
	}
}

void mm_host_gate_audit(void)
{
	fprintf(stderr, "mm: thread %u entered its gate holding the mm lock "
		"(mm/mm_env.h: never; a CPU that stopped the gates would wait for itself)\n",
		mm_host_cpu_id - 1);
	abort();
}

unsigned long long (*mm_host_clock)(void);

unsigned long long mm_clock_ms(void)
{
	struct timespec ts;

	if (mm_host_clock)
		return mm_host_clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

unsigned long mm_host_reports;
char mm_host_last_report[256];
int mm_host_quiet;
void (*mm_host_report_hook)(const char *text);

void mm_report(const char *fmt, ...)
{
	unsigned long s = mm_lock();
	va_list ap;

	mm_host_reports++;
	va_start(ap, fmt);
	vsnprintf(mm_host_last_report, sizeof(mm_host_last_report), fmt, ap);
	va_end(ap);
	if (!mm_host_quiet)
		fprintf(stderr, "mm: %s\n", mm_host_last_report);
	if (mm_host_report_hook)
		mm_host_report_hook(mm_host_last_report);
	mm_unlock(s);
}
