/* test_fork.c - fork(2) while other threads allocate (mm/fork.h): with
 * mm_atfork_prepare / _parent / mm_host_atfork_child around each fork,
 * as libtally.so registers them with pthread_atfork, the child finds no
 * lock held and no gate busy: it allocates and frees in every size range
 * and every mode, runs mm_check, and exits 0 within its alarm (a lock
 * left held would hang it: SIGALRM, a failure). The parent's threads go
 * on unharmed; afterwards mm_check is clean and every frame is free. A
 * child also starts threads of its own (the indexes of the threads left
 * behind are free again). Seeds fixed and printed. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "lib/xorshift.h"
#include "mm/buddy.h"
#include "mm/fork.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/stats.h"

#define NTHREADS 4
#define FORKS 24
#define SEED 0xf04cull

static int stop;
static char arena[64 << 20];

static void churn(uint64_t seed, int ops)
{
	void *slot[32] = { 0 };
	uint64_t rng = seed;

	for (int i = 0; ops < 0 ? !__atomic_load_n(&stop, __ATOMIC_RELAXED) : i < ops; i++) {
		uint64_t r = xorshift64(&rng);
		unsigned s = (unsigned)(r % 32);
		size_t n = (r >> 8) % 8 == 0 ? 4096 + (r >> 16) % 100000 : 8 + (r >> 16) % 1500;

		kfree(slot[s]);
		slot[s] = kmalloc(n, GFP_KERNEL);
		if ((r >> 40) % 1000 == 0)
			mm_set_mode((int)((r >> 50) % MM_MODE_NR));
	}
	for (unsigned s = 0; s < 32; s++)
		kfree(slot[s]);
}

static void *worker(void *arg)
{
	churn(SEED + (uintptr_t)arg, -1);
	return NULL;
}

static void *child_worker(void *arg)
{
	churn(SEED * 3 + (uintptr_t)arg, 2000);
	return NULL;
}

/* The child: its own threads, allocations in every mode, a clean check. */
static int child(void)
{
	pthread_t t[2];

	alarm(20);
	for (int m = 0; m < MM_MODE_NR; m++) {
		mm_set_mode(m);
		churn(SEED + 100 + (unsigned)m, 3000);
	}
	for (uintptr_t i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, child_worker, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return mm_check() == 0 ? 0 : 3;
}

int main(void)
{
	pthread_t t[NTHREADS];
	int good = 0;

	tap_begin();
	tap_seed("fork", SEED);
	tap_ok(mm_host_init(arena, sizeof(arena)) == 0, "mm_host_init");
	for (uintptr_t i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int f = 0; f < FORKS; f++) {
		pid_t pid;
		int status = -1;

		usleep(2000);
		mm_atfork_prepare();
		pid = fork();
		if (pid == 0) {
			mm_host_atfork_child();
			_exit(child());
		}
		mm_atfork_parent();
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			good++;
		else
			tap_diag("fork %d: status %#x", f, status);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	tap_ok(good == FORKS, "%d forks under 4 busy threads: every child allocated in each mode, "
	       "started threads and checked clean (%d)", FORKS, good);
	tap_ok(mm_check() == 0, "the parent: mm_check clean");
	kmalloc_shrink();
	tap_ok(buddy_free_pages() == zone_get(ZONE_NORMAL)->present_pages +
	       zone_get(ZONE_DMA)->present_pages + zone_get(ZONE_HIGH)->present_pages,
	       "the parent: every frame free after");
	return tap_end();
}
