/* test_env.c - the host mm environment's refusals (src/host/mm_env_host.c,
 * include/env/host/mm_env_lock.h), each a death test in a child process:
 * the gate audit of the test builds (-DMM_GATE_AUDIT) aborts a thread
 * that enters its gate holding the mm lock, counted solo or owned; a
 * thread taking an mm spin lock it already holds is reported and aborts
 * (it would wait for itself). The parent checks the signal and the
 * report. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "mm/kmalloc.h"
#include "mm/mm_env.h"
#include "mm/mm_host.h"

static char arena[8 << 20] __attribute__((aligned(4096)));

static void before(void)
{
	if (mm_host_init(arena, sizeof(arena)) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
}

/* kmalloc's fast path with the mm lock held: the gate audit aborts. */
static void alloc_holding_lock(void *arg)
{
	unsigned long s;

	(void)arg;
	s = mm_lock();
	kfree(kmalloc(64, 0));
	mm_unlock(s);
}

static void *touch_mm(void *arg)
{
	(void)arg;
	kfree(kmalloc(64, 0));
	return NULL;
}

/* The control: the same allocation without the lock. */
static void alloc_unlocked(void *arg)
{
	(void)arg;
	kfree(kmalloc(64, 0));
}

/* The same once a second thread has used the mm: the lock is owned,
 * not counted solo. */
static void alloc_holding_shared_lock(void *arg)
{
	pthread_t th;

	pthread_create(&th, NULL, touch_mm, NULL);
	pthread_join(th, NULL);
	alloc_holding_lock(arg);
}

static int aborted_saying(int status, const char *err, const char *what)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
	       strstr(err, what) != NULL;
}

static void test_gate_audit(void)
{
	const char *what = "entered its gate holding the mm lock";
	char err[1024];
	int status;

	kfree(kmalloc(64, 0));   /* the fast path runs: a refill, then the magazine */
	status = tap_death(alloc_holding_lock, NULL, err, sizeof(err));
	tap_ok(aborted_saying(status, err, what),
	       "one thread, mm lock held (solo count), kmalloc enters its gate: abort with '%s'",
	       what);
	status = tap_death(alloc_holding_shared_lock, NULL, err, sizeof(err));
	tap_ok(aborted_saying(status, err, what),
	       "two threads, mm lock owned, kmalloc enters its gate: abort with '%s'", what);
	status = tap_death(alloc_unlocked, NULL, err, sizeof(err));
	tap_ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "without the lock held the same allocation goes through");
}

/* An mm spin lock taken again by its holder. */
static void spin_twice(void *arg)
{
	mm_spinlock_t l;

	(void)arg;
	mm_spin_init(&l, "test lock");
	mm_spin_lock(&l);
	mm_spin_lock(&l);
}

/* Taken, given, taken again: no report. */
static void spin_in_turn(void *arg)
{
	mm_spinlock_t l;
	unsigned long f;

	(void)arg;
	mm_spin_init(&l, "test lock");
	f = mm_spin_lock(&l);
	mm_spin_unlock(&l, f);
	f = mm_spin_lock(&l);
	mm_spin_unlock(&l, f);
}

static void test_spin_lock_twice(void)
{
	const char *what = "mm: lock test lock taken again by the thread holding it";
	char err[1024];
	int status;

	status = tap_death(spin_twice, NULL, err, sizeof(err));
	tap_ok(aborted_saying(status, err, what), "a spin lock taken twice by its holder: abort "
	       "with '%s'", what);
	status = tap_death(spin_in_turn, NULL, err, sizeof(err));
	tap_ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && err[0] == 0,
	       "taken and given in turn: no report");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_gate_audit),
	TAP_CASE(test_spin_lock_twice),
};

int main(void)
{
	return tap_main(TAP_CASES(cases), before, NULL);
}
