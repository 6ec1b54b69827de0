/* test_threads.c - build/host/libmm.a under threads: every host thread plays
 * a hart (mm_cpu() is its index, include/env/host/mm_env_lock.h). Eight
 * threads allocate, reallocate and free random sizes with patterns, in every
 * mode (one thread switches modes under the others' feet), take and free
 * page blocks of orders 0..4 (through their page lists, mm/buddy.h, and
 * the zones), hand blocks to each other to free (cross-thread frees, pages
 * too), and run transactions that abort or commit at the same time.
 * Afterwards the integrity check is clean, kmalloc's bytes in use are back
 * to the start and, after kmalloc_shrink(), so are the free pages. An
 * object waiting in one thread's magazine is a double free for any other.
 * A thread's gate is closed to kmalloc's fast paths while a reason of
 * mm_slow_paths is set or a stopper holds it, and a stopper waits for an
 * owner inside; the counts stay exact while gates close and open under
 * threads allocating. Thread indexes are reused as threads come and go,
 * and a 65th thread at once is refused loudly (in a child process).
 *
 * Built twice by the Makefile: under ASan+UBSan like every host test, and
 * under ThreadSanitizer against build/host/libmm_tsan.a (test_threads_tsan),
 * where any data race fails the run. Seeds are fixed and printed. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "kerrno.h"
#include "lib/xorshift.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/mm_debug.h"
#include "mm/mm_env.h"
#include "mm/page.h"
#include "mm/mm_host.h"
#include "mm/shrinker.h"
#include "mm/slab.h"
#include "mm/stats.h"
#include "mm/txn.h"
#include "../../src/host/mm_host.h"
#include "../../src/mm/slab_internal.h"   /* a thread's own magazines */   /* the report hooks */

#define NTHREADS 8
#define SLOTS 48
#define MAILBOX 32
#define SEED 0x7417ull

#if defined(__SANITIZE_THREAD__)
#define OPS 2500   /* TSan runs ~10x slower */
#else
#define OPS 20000
#endif

static char arena[48 << 20] __attribute__((aligned(4096)));

static void before(void)
{
	if (mm_host_init(arena, sizeof(arena)) != 0) {
		printf("Bail out! mm_host_init failed\n");
		exit(1);
	}
}

/* ---- blocks with patterns --------------------------------------------------- */

struct blk {
	unsigned char *p;
	size_t n;            /* bytes under the pattern */
	unsigned char tag;
	signed char order;   /* a page block of alloc_pages(), or -1: kmalloc's */
};

/* Page blocks carry a pattern over their first PAGE_BYTES bytes. */
#define PAGE_BYTES 256

/* Give b back to whoever made it; 1 when that was refused. */
static unsigned blk_free(const struct blk *b)
{
	if (b->order < 0) {
		kfree(b->p);
		return 0;
	}
	return free_pages_addr(b->p, (unsigned)b->order) != 0;
}

static void fill(struct blk *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->p[i] = (unsigned char)(b->tag + i * 31);
}

/* Whether the first n bytes still hold b's pattern. */
static bool intact(const struct blk *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b->p[i] != (unsigned char)(b->tag + i * 31))
			return false;
	return true;
}

/* Mostly small objects, some up to a page, a few large blocks. */
static size_t rand_size(uint64_t *rng)
{
	unsigned r = (unsigned)(xorshift64(rng) % 100);

	if (r < 70)
		return 1 + xorshift64(rng) % 256;
	if (r < 93)
		return 257 + xorshift64(rng) % 3840;
	return 4097 + xorshift64(rng) % (60 << 10);
}

/* ---- the mailboxes: blocks handed to another thread to free ----------------- */

static struct mailbox {
	pthread_mutex_t lock;
	struct blk b[MAILBOX];
	unsigned n;
} boxes[NTHREADS];

static bool post(unsigned to, const struct blk *b)
{
	struct mailbox *m = &boxes[to];
	bool ok;

	pthread_mutex_lock(&m->lock);
	ok = m->n < MAILBOX;
	if (ok)
		m->b[m->n++] = *b;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

/* Empty mailbox m into got (room for MAILBOX); how many it held. */
static unsigned mailbox_take(struct mailbox *m, struct blk *got)
{
	unsigned n;

	pthread_mutex_lock(&m->lock);
	n = m->n;
	memcpy(got, m->b, n * sizeof(got[0]));
	m->n = 0;
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* Free what others handed us; the number of blocks whose pattern broke. */
static unsigned collect(unsigned me, unsigned long *freed)
{
	struct mailbox *m = &boxes[me];
	struct blk got[MAILBOX];
	unsigned n, bad = 0;

	n = mailbox_take(m, got);
	for (unsigned i = 0; i < n; i++) {
		bad += !intact(&got[i], got[i].n);
		bad += blk_free(&got[i]);
		(*freed)++;
	}
	return bad;
}

/* ---- one thread's run ----------------------------------------------------------- */

struct worker {
	pthread_t th;
	unsigned me;
	uint64_t seed;
	bool switch_modes;    /* thread 0: the mode switch under the others */
	unsigned cpu;         /* mm_cpu() as this thread saw it */
	unsigned long ops, cross_frees, txns, aborts, commits, switches, pages;
	unsigned corrupt, failed;
};

/* A page block: orders 0..3 go through this thread's page lists, 4 to the
 * zones; some for DMA, some zeroed. */
static int do_alloc_pages(struct worker *w, uint64_t *rng, struct blk *b)
{
	static const gfp_t flags[] = { 0, 0, 0, GFP_ZERO, GFP_DMA, GFP_DMA32 };
	unsigned order = (unsigned)(xorshift64(rng) % 5);
	gfp_t gfp = flags[xorshift64(rng) % 6];
	struct page *pg = alloc_pages(gfp, order);
	unsigned char *p;

	if (!pg) {
		w->failed++;
		return -ENOMEM;
	}
	p = page_address(pg);
	if ((gfp & GFP_ZERO) && (p[0] || p[(PAGE_SIZE << order) - 1]))
		w->corrupt++;
	if (((gfp & GFP_DMA) && pg->zone != ZONE_DMA) || pg->order != order)
		w->corrupt++;
	*b = (struct blk){ p, PAGE_BYTES, (unsigned char)xorshift64(rng), (signed char)order };
	fill(b);
	w->pages++;
	return 0;
}

static int do_alloc(struct worker *w, uint64_t *rng, struct blk *b)
{
	size_t n = rand_size(rng);
	void *p = NULL;

	if (xorshift64(rng) % 100 < 20)
		return do_alloc_pages(w, rng, b);
	switch (xorshift64(rng) % 3) {
	case 0: p = kmalloc(n, GFP_KERNEL); break;
	case 1: p = kzalloc(n, GFP_KERNEL); break;
	default: (void)kmem_try_alloc(n, 16u << (xorshift64(rng) % 3), GFP_KERNEL, &p); break;
	}
	if (!p) {
		w->failed++;
		return -ENOMEM;
	}
	*b = (struct blk){ p, n, (unsigned char)xorshift64(rng), -1 };
	fill(b);
	return 0;
}

/* A transaction of a few blocks, maybe with a savepoint, that commits
 * (the blocks become ours to free) or aborts (they vanish). */
static void do_txn(struct worker *w, uint64_t *rng, struct blk *slot)
{
	struct mm_txn t, sp;
	struct blk b[6];
	unsigned k = 1 + (unsigned)(xorshift64(rng) % 6), got = 0;
	bool nest = xorshift64(rng) & 1, commit = xorshift64(rng) % 3 == 0;

	w->txns++;
	mm_txn_begin(&t);
	for (unsigned i = 0; i < k; i++) {
		struct mm_txn *in = &t;
		size_t n = rand_size(rng);
		void *p;

		if (nest && i == k / 2)
			mm_txn_begin(&sp);
		if (nest && i >= k / 2)
			in = &sp;
		if (i % 4 == 3) {   /* a page block: from the zones, the lists bypassed */
			struct page *pg;
			unsigned order = (unsigned)(xorshift64(rng) % 3);

			if (mm_txn_alloc_pages(in, order, GFP_KERNEL, &pg) != 0)
				continue;
			b[got] = (struct blk){ page_address(pg), PAGE_BYTES,
					       (unsigned char)(w->me * 16 + i), (signed char)order };
			fill(&b[got++]);
			continue;
		}
		if (mm_txn_alloc(in, n, 0, GFP_KERNEL, &p) != 0)
			continue;
		b[got] = (struct blk){ p, n, (unsigned char)(w->me * 16 + i), -1 };
		fill(&b[got++]);
	}
	if (nest)
		mm_txn_commit(&sp);
	for (unsigned i = 0; i < got; i++)
		w->corrupt += !intact(&b[i], b[i].n);
	if (!commit) {
		mm_txn_abort(&t);
		w->aborts++;
		return;
	}
	mm_txn_commit(&t);
	w->commits++;
	for (unsigned i = 0; i < got; i++) {   /* committed: ours now */
		if (!slot->p)
			*slot = b[i];
		else
			w->corrupt += blk_free(&b[i]);
	}
}

static void *work(void *arg)
{
	static const int modes[] = { MM_MODE_TWOTIER, MM_MODE_SIMPLE, MM_MODE_HYBRID };
	struct worker *w = arg;
	struct blk slot[SLOTS] = { { 0 } };
	uint64_t rng = w->seed;

	w->cpu = mm_cpu();
	for (unsigned long op = 0; op < OPS; op++, w->ops++) {
		struct blk *b = &slot[xorshift64(&rng) % SLOTS];
		unsigned r = (unsigned)(xorshift64(&rng) % 100);

		if (w->switch_modes && op % 400 == 399) {
			mm_set_mode(modes[(op / 400) % 3]);
			w->switches++;
		}
		if (r < 3) {
			do_txn(w, &rng, b);
		} else if (!b->p) {
			do_alloc(w, &rng, b);
		} else if (r < 30 && b->order < 0) {   /* krealloc: the old prefix survives */
			size_t n = rand_size(&rng);
			void *q = krealloc(b->p, n, GFP_KERNEL);

			if (q) {
				b->p = q;
				w->corrupt += !intact(b, b->n < n ? b->n : n);
				b->n = n;
				fill(b);
			}
		} else if (r < 55) {   /* hand it over: another thread frees it */
			if (post((w->me + 1 + (unsigned)(xorshift64(&rng) % (NTHREADS - 1))) % NTHREADS, b))
				b->p = NULL;
		} else {
			w->corrupt += !intact(b, b->n);
			w->corrupt += blk_free(b);
			b->p = NULL;
		}
		if (op % 16 == 0)
			w->corrupt += collect(w->me, &w->cross_frees);
	}
	for (unsigned i = 0; i < SLOTS; i++)
		if (slot[i].p) {
			w->corrupt += !intact(&slot[i], slot[i].n);
			w->corrupt += blk_free(&slot[i]);
		}
	return NULL;
}

static void test_stress(void)
{
	uint64_t in_use0, free0;
	struct worker w[NTHREADS] = { { 0 } };
	unsigned long cross = 0, aborts = 0, commits = 0, ops = 0, drained = 0, pages = 0;
	unsigned corrupt = 0, cpus_ok = 1, bad;
	struct buddy_pcp_stats pcp0, pcp1;
	struct buddy_stats bs;

	kmalloc_shrink();
	in_use0 = kmalloc_bytes_in_use();
	free0 = buddy_free_pages();
	buddy_pcp_get(BUDDY_PCP_ALL, &pcp0);
	tap_seed("threads", SEED);
	for (unsigned i = 0; i < NTHREADS; i++) {
		pthread_mutex_init(&boxes[i].lock, NULL);
		boxes[i].n = 0;
	}
	for (unsigned i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .me = i, .seed = SEED + i, .switch_modes = i == 0 };
		pthread_create(&w[i].th, NULL, work, &w[i]);
	}
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_join(w[i].th, NULL);
	bad = 0;
	for (unsigned i = 0; i < NTHREADS; i++)
		bad += collect(i, &drained);   /* posted after their owner's last look */
	for (unsigned i = 0; i < NTHREADS; i++) {
		ops += w[i].ops;
		cross += w[i].cross_frees;
		aborts += w[i].aborts;
		commits += w[i].commits;
		corrupt += w[i].corrupt;
		pages += w[i].pages;
		cpus_ok &= w[i].cpu < 64;
		for (unsigned j = 0; j < i; j++)
			cpus_ok &= w[i].cpu != w[j].cpu;
		tap_diag("thread %u: cpu %u ops %lu page blocks %lu cross_frees %lu txns %lu "
			 "(aborted %lu) mode switches %lu failures %u", i, w[i].cpu, w[i].ops,
			 w[i].pages, w[i].cross_frees, w[i].txns, w[i].aborts, w[i].switches,
			 w[i].failed);
	}
	buddy_pcp_get(BUDDY_PCP_ALL, &pcp1);
	mm_set_mode(MM_MODE_HYBRID);
	tap_ok(cpus_ok, "each live thread has its own index below 64");
	tap_ok(ops == (unsigned long)NTHREADS * OPS && corrupt + bad == 0,
	       "%lu operations, every pattern intact", ops);
	tap_ok(cross + drained > 1000 && aborts > 50 && commits > 20 && w[0].switches > 5,
	       "cross-thread frees %lu, transactions aborted %lu and committed %lu at once, "
	       "%lu mode switches", cross + drained, aborts, commits, w[0].switches);
	tap_ok(pages > 1000 && pcp1.allocs - pcp0.allocs > pages / 2 &&
	       pcp1.frees - pcp0.frees > pages / 2 && pcp1.refills > pcp0.refills &&
	       pcp1.trims > pcp0.trims,
	       "%lu page blocks: %lu from the threads' page lists, %lu freed onto them, "
	       "%lu refills, %lu batches given back", pages, pcp1.allocs - pcp0.allocs,
	       pcp1.frees - pcp0.frees, pcp1.refills - pcp0.refills, pcp1.trims - pcp0.trims);
	tap_ok(mm_check() == 0, "mm_check clean");
	tap_ok(kmalloc_bytes_in_use() == in_use0, "kmalloc bytes in use back to the start (%lu)",
	       (unsigned long)in_use0);
	kmalloc_shrink();
	buddy_get_stats(&bs);
	buddy_pcp_get(BUDDY_PCP_ALL, &pcp1);
	tap_ok(buddy_free_pages() == free0 && pcp1.total_pages == 0 && bs.pages_in_use == 0,
	       "free pages back after kmalloc_shrink (%lu), no page on any list, none in use",
	       (unsigned long)free0);
}

/* ---- indexes ------------------------------------------------------------------------ */

static void *one_block(void *arg)
{
	void *p = kmalloc(64, GFP_KERNEL);

	*(unsigned *)arg = mm_cpu();
	kfree(p);
	return NULL;
}

/* 200 threads one after another: each gets an index, gives it back at
 * exit, and the next takes the lowest free one again. */
static void test_index_reuse(void)
{
	unsigned cpu, first = 0, same = 1;

	for (unsigned i = 0; i < 200; i++) {
		pthread_t th;

		pthread_create(&th, NULL, one_block, &cpu);
		pthread_join(th, NULL);
		if (i == 0)
			first = cpu;
		same &= cpu == first;
	}
	tap_ok(same && first < 64, "200 threads in turn share index %u, given back at exit", first);
	tap_ok(mm_check() == 0, "mm_check clean");
}

/* ---- the SimpleHeap path ------------------------------------------------------- */

#define HEAP_THREADS 4
#define HEAP_SLOTS   64

/* Blocks handed between the SimpleHeap threads: each slot holds one at a
 * time (the test's own lock, not the mm's). */
static struct blk heap_swap[HEAP_SLOTS];
static pthread_mutex_t heap_swap_lock = PTHREAD_MUTEX_INITIALIZER;

struct heap_worker {
	pthread_t th;
	uint64_t rng;
	unsigned long allocs, bad;
	uint64_t requested;
};

/* Allocate, fill, check and free random sizes up to 6 KiB in SimpleHeap
 * mode, half the frees of blocks another thread made. */
static void *heap_work(void *arg)
{
	struct heap_worker *w = arg;
	struct blk mine[16] = { { 0 } };

	for (unsigned op = 0; op < OPS; op++) {
		unsigned k = (unsigned)(xorshift64(&w->rng) % 16);
		struct blk *b = &mine[k];

		if (b->p) {
			if (xorshift64(&w->rng) & 1) {   /* swap it for a block of another thread's */
				unsigned j = (unsigned)(xorshift64(&w->rng) % HEAP_SLOTS);
				struct blk t;

				pthread_mutex_lock(&heap_swap_lock);
				t = heap_swap[j];
				heap_swap[j] = *b;
				pthread_mutex_unlock(&heap_swap_lock);
				*b = t;
			}
			if (b->p) {
				w->bad += !intact(b, b->n);
				kfree(b->p);
			}
			b->p = NULL;
			continue;
		}
		b->n = 1 + xorshift64(&w->rng) % 6000;
		b->tag = (unsigned char)op;
		b->order = -1;
		b->p = kmalloc(b->n, GFP_KERNEL);
		if (!b->p) {
			w->bad++;
			continue;
		}
		w->allocs++;
		w->requested += b->n;
		fill(b);
	}
	for (unsigned k = 0; k < 16; k++)
		if (mine[k].p) {
			w->bad += !intact(&mine[k], mine[k].n);
			kfree(mine[k].p);
		}
	return NULL;
}

/* SimpleHeap mode on four threads at once: kmalloc and kfree take the
 * heap's own lock, not the mm lock, when the heap's runs serve them
 * (kmalloc.c, km_heap_alloc). Every block keeps its pattern, the mode's
 * counters add up to exactly the requests made (folded from the path's
 * own), nothing is left in use, and a double free through that path is
 * refused and counted once. */
static void test_simple_heap_threads(void)
{
	const uint64_t seed = SEED ^ 0x4ea9;
	struct heap_worker w[HEAP_THREADS];
	struct kmalloc_stats k0, k1;
	unsigned long allocs = 0, bad = 0, reports;
	uint64_t requested = 0;
	void *p;

	tap_seed("simple heap threads", seed);
	mm_set_mode(MM_MODE_SIMPLE);
	kmalloc_get_stats(&k0);
	for (unsigned i = 0; i < HEAP_THREADS; i++) {
		w[i] = (struct heap_worker){ .rng = seed + i };
		pthread_create(&w[i].th, NULL, heap_work, &w[i]);
	}
	for (unsigned i = 0; i < HEAP_THREADS; i++) {
		pthread_join(w[i].th, NULL);
		allocs += w[i].allocs;
		bad += w[i].bad;
		requested += w[i].requested;
	}
	for (unsigned j = 0; j < HEAP_SLOTS; j++)
		if (heap_swap[j].p) {
			bad += !intact(&heap_swap[j], heap_swap[j].n);
			kfree(heap_swap[j].p);
			heap_swap[j].p = NULL;
		}
	kmalloc_get_stats(&k1);
	tap_ok(!bad && allocs > OPS, "%lu blocks on %d threads, every pattern intact", allocs, HEAP_THREADS);
	tap_ok(k1.mode[MM_MODE_SIMPLE].requests - k0.mode[MM_MODE_SIMPLE].requests == allocs &&
	       k1.mode[MM_MODE_SIMPLE].successes - k0.mode[MM_MODE_SIMPLE].successes == allocs &&
	       k1.mode[MM_MODE_SIMPLE].bytes_requested - k0.mode[MM_MODE_SIMPLE].bytes_requested == requested,
	       "SimpleHeap's counters: %lu requests, %llu bytes asked, as made",
	       k1.mode[MM_MODE_SIMPLE].requests - k0.mode[MM_MODE_SIMPLE].requests,
	       (unsigned long long)(k1.mode[MM_MODE_SIMPLE].bytes_requested -
				    k0.mode[MM_MODE_SIMPLE].bytes_requested));
	tap_ok(k1.backend[KM_BACKEND_HEAP].bytes_in_use == k0.backend[KM_BACKEND_HEAP].bytes_in_use &&
	       k1.backend[KM_BACKEND_HEAP].frees - k0.backend[KM_BACKEND_HEAP].frees == allocs &&
	       k1.backend[KM_BACKEND_HEAP].peak_bytes_in_use > k0.backend[KM_BACKEND_HEAP].bytes_in_use,
	       "heap backend: every block freed, nothing left in use, a peak seen");
	p = kmalloc(100, GFP_KERNEL);
	kfree(p);
	reports = mm_host_reports;
	mm_host_quiet = 1;
	kfree(p);
	mm_host_quiet = 0;
	kmalloc_get_stats(&k0);
	tap_ok(mm_host_reports == reports + 1 && k0.wrong_frees == k1.wrong_frees + 1 &&
	       k0.backend[KM_BACKEND_HEAP].wrong_frees == k1.backend[KM_BACKEND_HEAP].wrong_frees + 1,
	       "a double free of a heap block: refused, reported and counted once");
	tap_ok(mm_check() == 0, "mm_check clean");
	mm_set_mode(MM_MODE_HYBRID);
}

static sem_t heap_done;

static void *heap_one(void *arg)
{
	void *p = kmalloc(100, GFP_KERNEL);

	*(void **)arg = p;
	kfree(p);
	sem_post(&heap_done);
	return NULL;
}

/* While this thread holds the mm lock, another one's kmalloc and kfree in
 * SimpleHeap mode, served from a run the heap has, finish: they take the
 * heap's lock only. (Were they to take the mm lock, they would wait until
 * it is dropped, after the time limit.) */
static void test_simple_heap_no_mm_lock(void)
{
	struct timespec until;
	pthread_t th;
	unsigned long s;
	void *p = NULL;
	int done;

	pthread_create(&th, NULL, one_block, &(unsigned){ 0 });   /* a second thread has used the mm */
	pthread_join(th, NULL);
	mm_set_mode(MM_MODE_SIMPLE);
	kfree(kmalloc(100, GFP_KERNEL));   /* the heap has a run with room */
	sem_init(&heap_done, 0, 0);
	s = mm_lock();
	pthread_create(&th, NULL, heap_one, &p);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	done = sem_timedwait(&heap_done, &until) == 0;
	mm_unlock(s);
	pthread_join(th, NULL);
	tap_ok(done && p, "SimpleHeap mode: kmalloc and kfree on another thread finish while "
	       "the mm lock is held (they take the heap's lock only)");
	mm_set_mode(MM_MODE_HYBRID);
	sem_destroy(&heap_done);
}

/* ---- per-thread magazines ------------------------------------------------------ */

static void *free_it(void *arg)
{
	kfree(arg);
	return NULL;
}

/* An object a second thread freed waits in that thread's magazine (it
 * stays there after the thread exits); a free of it by this thread is a
 * double free, refused, and the object is cached once. Every thread's
 * magazines come back with kmalloc_shrink. */
static void test_double_free_across_threads(void)
{
	struct kmem_cache_stats s0, s1;
	unsigned long free0, reports;
	pthread_t th;
	void *p;

	kmalloc_shrink();
	free0 = buddy_free_pages();
	p = kmalloc(64, GFP_KERNEL);
	pthread_create(&th, NULL, free_it, p);
	pthread_join(th, NULL);
	kmem_cache_get_stats(kmalloc_cache(3), &s0);
	reports = mm_host_reports;
	mm_host_quiet = 1;
	kfree(p);
	mm_host_quiet = 0;
	kmem_cache_get_stats(kmalloc_cache(3), &s1);
	tap_ok(s0.cached >= 1 && ksize(p) == 0 && mm_host_reports == reports + 1 &&
	       s1.wrong_frees == s0.wrong_frees + 1 && s1.cached == s0.cached,
	       "a free of an object in another thread's magazine: refused, reported, cached once");
	tap_ok(mm_check() == 0, "mm_check clean");
	kmalloc_shrink();
	kmem_cache_get_stats(kmalloc_cache(3), &s1);
	tap_ok(s1.cached == 0 && buddy_free_pages() == free0,
	       "kmalloc_shrink empties every thread's magazines: free pages back (%lu)", free0);
}

/* ---- the gates ----------------------------------------------------------------------- */

static int gate_inside, gate_release, gate_stopped, gate_restart;

/* Enter this thread's gate as kmalloc does, say so, stay until told. */
static void *gate_owner(void *arg)
{
	struct mm_gate_entry e = mm_gate_try();

	tap_ok(e.open == 0, "a thread's first entry, before it has an index: closed");
	mm_cpu();   /* what its slow path does first */
	e = mm_gate_try();

	*(unsigned long *)arg = e.open;
	__atomic_store_n(&gate_inside, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&gate_release, __ATOMIC_ACQUIRE))
		sched_yield();
	if (e.open)
		mm_gate_exit(e.state);
	return NULL;
}

/* Hold every gate (the mm lock first, as the rule says) until told. */
static void *gate_stopper(void *arg)
{
	unsigned long s = mm_lock();

	(void)arg;
	mm_gates_stop();
	__atomic_store_n(&gate_stopped, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&gate_restart, __ATOMIC_ACQUIRE))
		sched_yield();
	mm_gates_start();
	mm_unlock(s);
	return NULL;
}

/* kmalloc's and kfree's gate (mm/mm_env.h): open to the thread (its
 * index + 1) while nothing is set, closed (not entered) while a reason
 * of mm_slow_paths is, when kmalloc and kfree still serve through the
 * slow paths; a stopper holding every gate waits for an owner inside to
 * leave, and while it holds them the gate is closed to the fast paths. */
static void test_gates(void)
{
	struct kmalloc_stats k0, k1;
	struct mm_gate_entry e;
	unsigned long open_a = 0;
	pthread_t a, b;
	unsigned cpu = mm_cpu();
	void *p;

	e = mm_gate_try();
	tap_ok(e.open == cpu + 1 && __atomic_load_n(&mm_cpu_gate(cpu)->busy, __ATOMIC_RELAXED),
	       "open: the gate gives the thread's index + 1 (%lu) and is entered", e.open);
	mm_gate_exit(e.state);
	tap_ok(!__atomic_load_n(&mm_cpu_gate(cpu)->busy, __ATOMIC_RELAXED), "left");

	mm_debug_set(MM_DEBUG_POISON, true);
	e = mm_gate_try();
	tap_ok(e.open == 0 && !__atomic_load_n(&mm_cpu_gate(cpu)->busy, __ATOMIC_RELAXED),
	       "a reason set (poisoning on): closed, not entered");
	kmalloc_get_stats(&k0);
	p = kmalloc(64, GFP_KERNEL);
	kfree(p);
	kmalloc_get_stats(&k1);
	tap_ok(p && k1.backend[KM_BACKEND_SLAB].frees == k0.backend[KM_BACKEND_SLAB].frees + 1 &&
	       k1.backend[KM_BACKEND_SLAB].bytes_in_use == k0.backend[KM_BACKEND_SLAB].bytes_in_use,
	       "closed: kmalloc and kfree served by the slow paths, counted");
	mm_debug_set(MM_DEBUG_POISON, false);
	e = mm_gate_try();
	tap_ok(e.open == cpu + 1, "the reason cleared: open again");
	if (e.open)
		mm_gate_exit(e.state);

	gate_inside = gate_release = gate_stopped = gate_restart = 0;
	pthread_create(&a, NULL, gate_owner, &open_a);
	while (!__atomic_load_n(&gate_inside, __ATOMIC_ACQUIRE))
		sched_yield();
	pthread_create(&b, NULL, gate_stopper, NULL);
	usleep(50000);
	tap_ok(open_a != 0 && !__atomic_load_n(&gate_stopped, __ATOMIC_ACQUIRE),
	       "a stopper waits while another thread is inside its gate (50 ms)");
	__atomic_store_n(&gate_release, 1, __ATOMIC_RELEASE);
	pthread_join(a, NULL);
	while (!__atomic_load_n(&gate_stopped, __ATOMIC_ACQUIRE))
		sched_yield();
	e = mm_gate_try();
	tap_ok(e.open == 0, "the owner left: the stopper holds every gate, closed to the fast paths");
	__atomic_store_n(&gate_restart, 1, __ATOMIC_RELEASE);
	pthread_join(b, NULL);
	e = mm_gate_try();
	tap_ok(e.open == cpu + 1, "given back: open again");
	if (e.open)
		mm_gate_exit(e.state);
	tap_ok(mm_check() == 0, "mm_check clean");
}

#define GATE_THREADS 4
#define GATE_OPS (OPS / 2)

struct gate_count {
	uint64_t rng;
	unsigned long allocs, frees, bad;
	uint64_t bytes;
};

static int gate_churn_done;

/* kmalloc / kfree of 1..256 bytes through the magazines, a ring of 8
 * live, counting what was asked and served. */
static void *gate_churn(void *arg)
{
	struct gate_count *c = arg;
	struct blk ring[8] = { 0 };

	for (unsigned i = 0; i < GATE_OPS + 8; i++) {
		struct blk *b = &ring[i % 8];

		if (b->p) {
			c->bad += !intact(b, b->n);
			kfree(b->p);
			c->frees++;
			b->p = NULL;
		}
		if (i >= GATE_OPS)
			continue;
		b->n = 1 + xorshift64(&c->rng) % 256;
		b->tag = (unsigned char)i;
		b->order = -1;
		b->p = kmalloc(b->n, GFP_KERNEL);
		if (b->p) {
			fill(b);
			c->allocs++;
			c->bytes += b->n;
		}
	}
	__atomic_fetch_add(&gate_churn_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Threads allocate and free through their magazines while this one stops
 * every gate again and again (folding the counts) and closes and opens
 * them (poisoning on and off): every allocation, free and requested byte
 * is counted once, no block is handed out twice (patterns intact). */
static void test_counts_while_gates_close(void)
{
	struct gate_count counts[GATE_THREADS];
	struct mm_stats *st0 = calloc(2, sizeof(*st0)), *st1 = st0 + 1;
	unsigned long allocs = 0, frees = 0, bad = 0, stops = 0, free0;
	uint64_t in_use0;
	uint64_t bytes = 0;
	pthread_t th[GATE_THREADS];

	kmalloc_shrink();
	free0 = buddy_free_pages();
	mm_stats_get(st0);   /* every gate stopped: the threads' counts folded */
	in_use0 = kmalloc_bytes_in_use();
	gate_churn_done = 0;
	tap_seed("gate churn", SEED + 17);
	for (unsigned i = 0; i < GATE_THREADS; i++) {
		counts[i] = (struct gate_count){ .rng = SEED + 17 + i };
		pthread_create(&th[i], NULL, gate_churn, &counts[i]);
	}
	while (__atomic_load_n(&gate_churn_done, __ATOMIC_ACQUIRE) < GATE_THREADS) {
		mm_stats_get(st1);
		mm_debug_set(MM_DEBUG_POISON, stops % 2 == 0);
		stops++;
	}
	mm_debug_set(MM_DEBUG_POISON, false);
	for (unsigned i = 0; i < GATE_THREADS; i++) {
		pthread_join(th[i], NULL);
		allocs += counts[i].allocs;
		frees += counts[i].frees;
		bytes += counts[i].bytes;
		bad += counts[i].bad;
	}
	mm_stats_get(st1);
	tap_ok(bad == 0 && allocs == (unsigned long)GATE_OPS * GATE_THREADS && frees == allocs,
	       "%u threads: %lu allocations and frees, patterns intact, %lu closes and opens meanwhile",
	       GATE_THREADS, allocs, stops);
	tap_ok(st1->allocs - st0->allocs == allocs && st1->frees - st0->frees == frees &&
	       st1->km.mode[st1->mode].bytes_requested - st0->km.mode[st0->mode].bytes_requested ==
	       bytes && kmalloc_bytes_in_use() == in_use0,
	       "counted exactly: %lu allocations, %lu frees, %llu bytes requested, in use as before",
	       st1->allocs - st0->allocs, st1->frees - st0->frees,
	       (unsigned long long)(st1->km.mode[st1->mode].bytes_requested -
				    st0->km.mode[st0->mode].bytes_requested));
	free(st0);
	tap_ok(mm_check() == 0, "mm_check clean");
	kmalloc_shrink();
	tap_ok(buddy_free_pages() == free0, "free pages back (%lu)", free0);
}

/* ---- a thread's index after it gave it back -------------------------------------- */

static pthread_key_t late_key;
static sem_t released, second_in, dtor_in;
static unsigned cpu_in_dtor, cpu_of_b;

/* A destructor that runs after the mm's own gave the thread's index back
 * (it sets its value again in the first round of destructors, so the
 * second calls it, after the mm's whatever their order) and allocates: it
 * must claim a fresh index, not go on with the one a new thread holds by
 * now. */
static void late_dtor(void *v)
{
	if (v == (void *)1) {   /* the first round: come back in the next, after the mm's */
		pthread_setspecific(late_key, (void *)2);
		return;
	}
	sem_post(&released);
	sem_wait(&second_in);
	cpu_in_dtor = mm_cpu();
	sem_post(&dtor_in);   /* the new thread holds its index until here */
	for (int i = 0; i < 2000; i++)
		kfree(kmalloc(64, GFP_KERNEL));
}

static void *late_a(void *arg)
{
	(void)arg;
	kfree(kmalloc(64, GFP_KERNEL));
	pthread_setspecific(late_key, (void *)1);
	return NULL;
}

static void *late_b(void *arg)
{
	(void)arg;
	sem_wait(&released);
	cpu_of_b = mm_cpu();
	sem_post(&second_in);
	for (int i = 0; i < 2000; i++)
		kfree(kmalloc(64, GFP_KERNEL));
	sem_wait(&dtor_in);
	return NULL;
}

static void test_index_after_exit(void)
{
	pthread_t a, b;

	kfree(kmalloc(64, GFP_KERNEL));   /* this thread's index, the mm's key */
	pthread_key_create(&late_key, late_dtor);
	sem_init(&released, 0, 0);
	sem_init(&second_in, 0, 0);
	sem_init(&dtor_in, 0, 0);
	pthread_create(&b, NULL, late_b, NULL);
	pthread_create(&a, NULL, late_a, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_key_delete(late_key);
	tap_ok(cpu_in_dtor != cpu_of_b && mm_check() == 0,
	       "a destructor allocating after its thread gave its index back claims another "
	       "(%u, the new thread %u)", cpu_in_dtor, cpu_of_b);
}

/* ---- reclaim: another thread's magazines before any data --------------------------- */

static unsigned long data_scans;

static unsigned long data_count(struct shrinker *sh)
{
	(void)sh;
	return 1 << 20;
}

static unsigned long data_scan(struct shrinker *sh, unsigned long want)
{
	(void)sh;
	(void)want;
	data_scans++;
	return 0;
}

static struct shrinker data_cache = { .count = data_count, .scan = data_scan };
static void *b_objs[128];

static void *free_half(void *arg)
{
	(void)arg;
	for (int i = 0; i < 128; i += 2)   /* every other one: no slab empties */
		kfree(b_objs[i]);
	return NULL;
}

/* Memory used up while 64-byte objects wait in another thread's magazines:
 * kmalloc(64) gets one of them back without the data shrinker being asked
 * (the keepers put objects back though no frame comes back, and the
 * request tries again before round 1). */
static void test_reclaim_objects_before_data(void)
{
	pthread_t b;
	void *p;

	mm_set_mode(MM_MODE_TWOTIER);
	for (int i = 0; i < 128; i++)
		b_objs[i] = kmalloc(64, GFP_KERNEL);
	shrinker_register(&data_cache);
	while (kmalloc(64, GFP_KERNEL))
		;
	while (kmalloc(4096, GFP_KERNEL))
		;
	pthread_create(&b, NULL, free_half, NULL);
	pthread_join(b, NULL);
	data_scans = 0;
	p = kmalloc(64, GFP_KERNEL);
	tap_ok(p && data_scans == 0,
	       "out of memory, 64-byte objects in another thread's magazines: kmalloc(64) served "
	       "from them, the data shrinker not asked (%lu scans)", data_scans);
	shrinker_unregister(&data_cache);
}

static pthread_barrier_t hold;

static void *hold_index(void *arg)
{
	(void)arg;
	kfree(kmalloc(32, GFP_KERNEL));
	pthread_barrier_wait(&hold);   /* all 64 indexes taken */
	pthread_barrier_wait(&hold);   /* the 65th has been refused */
	return NULL;
}

/* The child: 64 threads hold an index (the main thread and 63), a 65th
 * asks for one. */
static void sixty_fifth(void *arg)
{
	pthread_t th[63], last;

	(void)arg;
	pthread_barrier_init(&hold, NULL, 64);
	for (unsigned i = 0; i < 63; i++)
		pthread_create(&th[i], NULL, hold_index, NULL);
	pthread_barrier_wait(&hold);
	pthread_create(&last, NULL, hold_index, NULL);   /* aborts the process */
	pthread_join(last, NULL);
}

/* In a child: a 65th thread at once is refused with a report and
 * abort(), never a shared index. */
static __attribute__((unused)) void test_too_many(void)
{
	char out[512];
	int status;

	mm_cpu();   /* the main thread holds one too */
	status = tap_death(sixty_fifth, NULL, out, sizeof(out));
	tap_ok(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
	       strstr(out, "mm: refused"), "a 65th thread at once is refused: abort() with a report");
}

/* ---- requests counted under the mode they were made in ------------------ */

#define SWITCH_WORKERS 3
#if defined(__SANITIZE_THREAD__)
#define SWITCH_OPS 3000
#else
#define SWITCH_OPS 30000
#endif

#define SWITCHES_MIN 1000
static int switch_done;            /* workers finished (atomic) */
static unsigned long switch_count; /* switches made so far (atomic) */

#define SWITCH_LIVE 8   /* blocks a worker holds at most: its magazines seldom run dry */

struct switch_worker {
	pthread_t th;
	uint64_t rng;
	unsigned long by_slab, by_heap, other;   /* blocks served, by owner */
	unsigned long dry;   /* requests met with both magazines empty */
};

/* kmalloc and free small blocks (SWITCH_OPS, and on until the switcher
 * made SWITCHES_MIN switches), each sorted by who served it: a slab
 * (TwoTier: the magazines' fast path or the slow path) or the SimpleHeap
 * (simple mode). */
static void *switch_work(void *arg)
{
	struct switch_worker *w = arg;
	struct kmem_cache *c = kmalloc_cache(3);   /* kmalloc-64 */
	void *live[SWITCH_LIVE] = { 0 };

	for (unsigned i = 0; i < SWITCH_OPS ||
	     __atomic_load_n(&switch_count, __ATOMIC_RELAXED) < SWITCHES_MIN; i++) {
		unsigned s = xorshift64(&w->rng) % SWITCH_LIVE;
		const struct slab_cpu *pc = &c->cpu[mm_cpu()];   /* this thread's: no race */
		struct page *head;

		if (live[s]) {
			kfree(live[s]);
			live[s] = NULL;
			continue;
		}
		w->dry += !pc->loaded || (!pc->loaded->n && (!pc->prev || !pc->prev->n));
		live[s] = kmalloc(33 + xorshift64(&w->rng) % 32, 0);
		if (!live[s]) {
			w->other++;
			continue;
		}
		head = compound_head(virt_to_page(live[s]));
		if (head->owner == PAGE_OWNER_SLAB)
			w->by_slab++;
		else if (head->owner == PAGE_OWNER_HEAP)
			w->by_heap++;
		else
			w->other++;
	}
	for (unsigned s = 0; s < SWITCH_LIVE; s++)
		kfree(live[s]);
	__atomic_fetch_add(&switch_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* One thread switches TwoTier <-> simple until three threads allocating
 * meanwhile are done: TwoTier serves from slabs (mostly its fast path,
 * counted per CPU and folded into the mode's figures), simple from the
 * SimpleHeap. A mode switch folds and stores the mode with every gate
 * stopped (and heap_lock held) across both, so each mode's requests are
 * the blocks its backend served -- but for a request that met both its
 * magazines empty: the refill that serves it, outside the gate, may
 * count after the switch (kmalloc.c, mm_set_mode), so a slab block may
 * be counted under simple, at most one per such request. */
static void test_mode_counts_across_switches(void)
{
	struct switch_worker w[SWITCH_WORKERS];
	struct kmalloc_stats a, b;
	unsigned long slab = 0, heap = 0, other = 0, dry = 0, tw, sm, switches = 0;

	mm_set_mode(MM_MODE_TWOTIER);
	kmalloc_get_stats(&a);
	switch_done = 0;
	switch_count = 0;
	for (unsigned i = 0; i < SWITCH_WORKERS; i++) {
		w[i] = (struct switch_worker){ .rng = SEED * 31 + i };
		tap_seed("mode switch worker", w[i].rng);
		pthread_create(&w[i].th, NULL, switch_work, &w[i]);
	}
	while (__atomic_load_n(&switch_done, __ATOMIC_ACQUIRE) < SWITCH_WORKERS || switches % 2) {
		mm_set_mode(switches % 2 ? MM_MODE_TWOTIER : MM_MODE_SIMPLE);
		__atomic_store_n(&switch_count, ++switches, __ATOMIC_RELAXED);
		sched_yield();
	}
	for (unsigned i = 0; i < SWITCH_WORKERS; i++) {
		pthread_join(w[i].th, NULL);
		slab += w[i].by_slab;
		heap += w[i].by_heap;
		other += w[i].other;
		dry += w[i].dry;
	}
	kmalloc_get_stats(&b);
	tw = b.mode[MM_MODE_TWOTIER].requests - a.mode[MM_MODE_TWOTIER].requests;
	sm = b.mode[MM_MODE_SIMPLE].requests - a.mode[MM_MODE_SIMPLE].requests;
	tap_ok(other == 0 && slab > 0 && heap > 0 && switches >= SWITCHES_MIN &&
	       b.mode_switches - a.mode_switches == switches,
	       "%lu switches while %u threads allocate: %lu blocks from slabs, %lu from the heap",
	       switches, SWITCH_WORKERS, slab, heap);
	tap_ok(tw <= slab && slab - tw <= dry && sm - heap == slab - tw,
	       "each mode counts the requests made in it: twotier %lu (slabs served %lu), "
	       "simple %lu (heap served %lu), off by no more than the %lu requests a refill "
	       "served", tw, slab, sm, heap, dry);
	tap_ok(tw + sm == slab + heap && b.mode[MM_MODE_HYBRID].requests == a.mode[MM_MODE_HYBRID].requests,
	       "and they add up to the requests made (%lu)", slab + heap);
	mm_set_mode(MM_MODE_HYBRID);
}

/* ---- krealloc and ksize without the mm lock ------------------------------------ */

static sem_t ra_ready, ra_go, ra_done;
static unsigned ra_ok;

/* Warm this thread's magazines of the classes it will use, wait for the
 * main thread to hold the mm lock, then ksize and krealloc: in place,
 * moved to another class, a large block shrunk in place. */
static void *realloc_one(void *arg)
{
	unsigned char *p, *q, *big;
	unsigned ok = 1;

	(void)arg;
	kfree(kmalloc(200, GFP_KERNEL));   /* a kmalloc-256 object waits in a magazine */
	p = kmalloc(100, GFP_KERNEL);
	big = kmalloc(12000, GFP_KERNEL);
	memset(p, 0x5a, 100);
	sem_post(&ra_ready);
	sem_wait(&ra_go);   /* main holds the mm lock now */
	ok &= ksize(p) == 128 && ksize(big) == 16384;
	ok &= krealloc(p, 120, GFP_KERNEL) == p;
	q = krealloc(p, 200, GFP_KERNEL);
	ok &= q && q != p && ksize(q) == 256 && q[0] == 0x5a && q[99] == 0x5a;
	ok &= krealloc(big, 5000, GFP_KERNEL) == big;
	__atomic_store_n(&ra_ok, ok, __ATOMIC_RELAXED);
	sem_post(&ra_done);
	sem_wait(&ra_go);   /* the mm lock dropped: free what is left */
	kfree(q);
	kfree(big);
	return NULL;
}

/* While this thread holds the mm lock, another one's ksize and krealloc
 * (in place, moved between size classes, a large block) finish: they
 * read the owner from the frame and go through kmalloc's and kfree's
 * fast paths. (Were they to take the mm lock, they would wait past the
 * time limit.) A pointer they cannot vouch for takes the lock: the
 * wrong-pointer cases are test_krealloc_threads' and test_kmalloc's. */
static void test_krealloc_no_mm_lock(void)
{
	struct timespec until;
	pthread_t th;
	unsigned long s;
	int done;

	mm_set_mode(MM_MODE_TWOTIER);
	sem_init(&ra_ready, 0, 0);
	sem_init(&ra_go, 0, 0);
	sem_init(&ra_done, 0, 0);
	pthread_create(&th, NULL, realloc_one, NULL);
	sem_wait(&ra_ready);
	s = mm_lock();
	sem_post(&ra_go);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	done = sem_timedwait(&ra_done, &until) == 0;
	mm_unlock(s);
	if (!done)
		sem_wait(&ra_done);
	sem_post(&ra_go);
	pthread_join(th, NULL);
	tap_ok(done && ra_ok, "TwoTier: ksize and krealloc (in place, to another class, a large "
	       "block) on another thread finish while the mm lock is held");
	tap_ok(mm_check() == 0, "mm_check clean");
	mm_set_mode(MM_MODE_HYBRID);
	sem_destroy(&ra_ready);
	sem_destroy(&ra_go);
	sem_destroy(&ra_done);
}

#define RA_THREADS 4

struct ra_worker {
	pthread_t th;
	unsigned me;
	uint64_t rng;
	/* what this thread did, for the counters to match: allocations
	 * made (kmalloc, a krealloc that moved), failed, frees made (kfree,
	 * a krealloc that moved), wrong pointers refused */
	unsigned long allocs, failed, frees, refused, moved, in_place, cross;
	unsigned corrupt;
};

static struct mailbox ra_boxes[RA_THREADS];
static unsigned ra_finished;   /* workers done */

/* krealloc b to n bytes, checking what survives; the counts follow. */
static void ra_realloc(struct ra_worker *w, struct blk *b, size_t n)
{
	unsigned char *q = krealloc(b->p, n, GFP_KERNEL);

	if (!q) {
		w->failed++;
		return;
	}
	if (q != b->p) {
		w->moved++;
		w->allocs++;
		w->frees++;
	} else {
		w->in_place++;
	}
	b->p = q;
	w->corrupt += !intact(b, b->n < n ? b->n : n) || ksize(q) < n;
	b->n = n;
	fill(b);
}

/* Blocks another thread handed over: reallocated here, then freed. */
static void ra_collect(struct ra_worker *w, uint64_t *rng)
{
	struct mailbox *m = &ra_boxes[w->me];
	struct blk got[MAILBOX];
	unsigned n;

	n = mailbox_take(m, got);
	for (unsigned i = 0; i < n; i++) {
		w->corrupt += !intact(&got[i], got[i].n);
		ra_realloc(w, &got[i], rand_size(rng));
		kfree(got[i].p);
		w->frees++;
		w->cross++;
	}
}

static void *ra_work(void *arg)
{
	struct ra_worker *w = arg;
	struct blk slot[SLOTS] = { { 0 } };

	for (unsigned long op = 0; op < OPS; op++) {
		struct blk *b = &slot[xorshift64(&w->rng) % SLOTS];
		unsigned r = (unsigned)(xorshift64(&w->rng) % 100);

		if (!b->p) {
			b->n = rand_size(&w->rng);
			b->tag = (unsigned char)xorshift64(&w->rng);
			b->order = -1;
			if (!(b->p = kmalloc(b->n, GFP_KERNEL))) {
				w->failed++;
				continue;
			}
			w->allocs++;
			fill(b);
		} else if (r < 50) {
			ra_realloc(w, b, rand_size(&w->rng));
		} else if (r < 52 && b->n >= 64) {   /* inside a block: refused */
			w->corrupt += ksize(b->p + 8) != 0 || krealloc(b->p + 8, 100, GFP_KERNEL) != NULL;
			w->refused++;
		} else if (r < 70) {
			struct mailbox *m = &ra_boxes[(w->me + 1 + (unsigned)(xorshift64(&w->rng) % (RA_THREADS - 1))) % RA_THREADS];

			pthread_mutex_lock(&m->lock);
			if (m->n < MAILBOX) {
				m->b[m->n++] = *b;
				b->p = NULL;
			}
			pthread_mutex_unlock(&m->lock);
		} else {
			w->corrupt += !intact(b, b->n) || ksize(b->p) < b->n;
			kfree(b->p);
			w->frees++;
			b->p = NULL;
		}
		if (op % 16 == 0)
			ra_collect(w, &w->rng);
	}
	for (unsigned i = 0; i < SLOTS; i++)
		if (slot[i].p) {
			w->corrupt += !intact(&slot[i], slot[i].n);
			kfree(slot[i].p);
			w->frees++;
		}
	__atomic_add_fetch(&ra_finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Threads krealloc their own blocks and blocks others handed them (then
 * free those), check ksize, and try wrong pointers (inside a block) while
 * the main thread switches TwoTier, Hybrid and SimpleHeap under them:
 * patterns intact, each wrong pointer refused and reported once, and the
 * counters exact afterwards -- every request, free and refusal the
 * threads made, bytes in use back to the start. */
static void test_krealloc_threads(void)
{
	static const int modes[] = { MM_MODE_TWOTIER, MM_MODE_HYBRID, MM_MODE_SIMPLE };
	struct ra_worker w[RA_THREADS];
	struct kmalloc_stats a, b;
	unsigned long allocs = 0, failed = 0, frees = 0, refused = 0, moved = 0, in_place = 0;
	unsigned long cross = 0, switches = 0, reports, req = 0, nomem = 0, freed = 0;
	unsigned corrupt = 0;
	uint64_t in_use0;

	kmalloc_shrink();
	in_use0 = kmalloc_bytes_in_use();
	kmalloc_get_stats(&a);
	reports = mm_host_reports;
	mm_host_quiet = 1;
	__atomic_store_n(&ra_finished, 0, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < RA_THREADS; i++) {
		pthread_mutex_init(&ra_boxes[i].lock, NULL);
		ra_boxes[i].n = 0;
		w[i] = (struct ra_worker){ .me = i, .rng = SEED * 7 + i };
		tap_seed("krealloc worker", w[i].rng);
	}
	for (unsigned i = 0; i < RA_THREADS; i++)
		pthread_create(&w[i].th, NULL, ra_work, &w[i]);
	while (__atomic_load_n(&ra_finished, __ATOMIC_ACQUIRE) < RA_THREADS) {
		mm_set_mode(modes[switches++ % 3]);   /* a switch, then a breath */
		sched_yield();
	}
	for (unsigned i = 0; i < RA_THREADS; i++)
		pthread_join(w[i].th, NULL);
	mm_set_mode(MM_MODE_TWOTIER);
	for (unsigned i = 0; i < RA_THREADS; i++) {   /* handed over after their owner's last look */
		ra_collect(&w[i], &w[i].rng);
		allocs += w[i].allocs;
		failed += w[i].failed;
		frees += w[i].frees;
		refused += w[i].refused;
		moved += w[i].moved;
		in_place += w[i].in_place;
		cross += w[i].cross;
		corrupt += w[i].corrupt;
	}
	mm_host_quiet = 0;
	kmalloc_get_stats(&b);
	for (int m = 0; m < MM_MODE_NR; m++) {
		req += b.mode[m].requests - a.mode[m].requests;
		nomem += b.mode[m].fail_nomem - a.mode[m].fail_nomem;
	}
	for (int k = 0; k < KM_BACKEND_NR; k++)
		freed += b.backend[k].frees - a.backend[k].frees;
	tap_ok(corrupt == 0 && moved > 1000 && in_place > 1000 && cross > 500 && switches > 10,
	       "%u threads: %lu kreallocs moved, %lu in place, %lu of others' blocks, %lu mode "
	       "switches: every pattern and ksize right", RA_THREADS, moved, in_place, cross, switches);
	tap_ok(refused > 50 && b.wrong_frees - a.wrong_frees == refused &&
	       mm_host_reports - reports == refused,
	       "%lu pointers inside blocks: each refused, counted and reported once", refused);
	tap_ok(req == allocs + failed && nomem == failed && freed == frees,
	       "counters exact: %lu requests (%lu allocations the threads made, %lu failed), "
	       "%lu frees", req, allocs, failed, freed);
	tap_ok(kmalloc_bytes_in_use() == in_use0 && mm_check() == 0,
	       "bytes in use back to the start (%lu), mm_check clean", (unsigned long)in_use0);
	mm_set_mode(MM_MODE_HYBRID);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_stress),
	TAP_CASE(test_index_reuse),
	TAP_CASE(test_simple_heap_threads),
	TAP_CASE(test_simple_heap_no_mm_lock),
	TAP_CASE(test_double_free_across_threads),
	TAP_CASE(test_gates),
	TAP_CASE(test_counts_while_gates_close),
	TAP_CASE(test_reclaim_objects_before_data),
	TAP_CASE(test_index_after_exit),
	TAP_CASE(test_mode_counts_across_switches),
	TAP_CASE(test_krealloc_no_mm_lock),
	TAP_CASE(test_krealloc_threads),
#if !defined(__SANITIZE_THREAD__)
	TAP_CASE(test_too_many),   /* fork with threads about: not under TSan */
#endif
};

int main(void)
{
	return tap_main(TAP_CASES(cases), before, NULL);
}
