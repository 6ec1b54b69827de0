/* bench_live.c - the live workloads of bench_host (make bench-host).
 *
 * Not traces: each is a small program that allocates, writes what it
 * allocated and frees, timed as it runs, its random choices drawn from an
 * xorshift64* generator seeded from the fixed seed the report prints (one
 * stream per thread). Not a test: it checks only that every allocation
 * succeeded and, for pc, that every object reached its consumer intact.
 *
 * Writing a block (write_block): its first 64 bytes (all of a smaller
 * block) are set and a tag stored in its first 8, and one byte is written
 * in every further 4 KiB page and at its end, so every page handed out is
 * touched, as by a program that uses its memory. An operation is one
 * allocation or one free, as in the traces; the generator's draws and the
 * writes are timed with them, the same for every allocator.
 *
 * Single-threaded, "user-style" (issue 17): 10,000 live blocks; a round
 * frees a random one, allocates a new one and writes it (2 operations).
 *   user64   64-byte blocks
 *   usermix  a kernel-like mix: 70% of 16..216 B, 30% of 1..7 KiB
 *            (uniform within each range)
 *   user8k   8 KiB blocks
 * Untimed first: the fill (10,000 allocations) and ops/8 rounds of warm-up.
 *
 * Threaded, at T threads. The calling thread is thread 0, so at T = 1 no
 * thread is created and every library sees a single-threaded program.
 *   pc     producer/consumer ring: thread i allocates batches of 64 objects
 *          of 16..256 B, writes them and hands each batch to thread
 *          (i + 1) mod T through a single-producer single-consumer queue
 *          of 8 batches; that thread reads every object's tag and frees the
 *          batch in random order. Each object is freed by a thread other
 *          than the one that allocated it -- except at T = 1, where the one
 *          thread takes its own batches back (same queue, no cross-thread
 *          free: the baseline for T = 2 and 4). A thread consumes when its
 *          queue holds a batch, else produces when the next one's has room,
 *          else spins, then yields: the ring cannot deadlock.
 *   churn  every thread owns 8,192 slots and at each step picks a random
 *          one: frees the object there, or allocates one of 16..256 B into
 *          it and writes it (about half the slots hold an object).
 * Every thread performs about `ops` operations (pc: whole batches), so a
 * run at T threads does T times the work of one at 1 thread (split
 * evenly, a thread at T = 4 ran for only a few ms, about one time slice,
 * and the start-up skew of the threads weighed on the result). A warm-up
 * (pc: a quarter of the batches; churn: 32,768 steps, which fill the slots
 * to their balance) runs before a spinning start line, untimed. Time: wall
 * clock from the first thread leaving the start line to the last one
 * finishing, divided by all threads' operations -- the inverse of
 * throughput, so on 2 cores a perfect allocator at T = 2 shows half its
 * T = 1 figure. cpu_ns_per_op: the threads' CPU time
 * (CLOCK_THREAD_CPUTIME_ID) summed over the same operations, which leaves
 * out time spent descheduled; cpu / wall is how many threads ran at once
 * on average. Threads are not pinned to CPUs: the scheduler places them as
 * it would any program's. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench_live.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mm/kmalloc.h"

#define AI static inline __attribute__((always_inline))

#define USER_LIVE    10000   /* live blocks of the user-style loops */
#define WRITE_BYTES  64      /* written at the start of every block */
#define OBJ_MIN      16      /* pc and churn object sizes, uniform */
#define OBJ_MAX      256
#define CHURN_SLOTS  8192    /* per thread; about half hold an object */
#define CHURN_WARM   (4 * CHURN_SLOTS)
#define PC_BATCH     64      /* objects per batch */
#define PC_QUEUE     8       /* batches a queue holds (a power of two) */
#define SPINS        64      /* pause-loop tries before sched_yield */

static const struct {
	const char *name;
	int threaded;
	const char *what;
} live[LIVE_NR] = {
	[LIVE_USER64]  = { "user64", 0, "10,000 live 64 B blocks: free a random one, "
			   "allocate one, write it" },
	[LIVE_USERMIX] = { "usermix", 0, "the same loop, sizes 70% 16..216 B, "
			   "30% 1..7 KiB (a kernel-like mix)" },
	[LIVE_USER8K]  = { "user8k", 0, "the same loop, 8 KiB blocks" },
	[LIVE_PC]      = { "pc", 1, "producer/consumer ring: batches of 64 objects of "
			   "16..256 B, each freed by the next thread in random order" },
	[LIVE_CHURN]   = { "churn", 1, "each thread churns its own 8,192 slots "
			   "(about half live, 16..256 B) in random order" },
};

const char *live_name(int k)
{
	return k >= 0 && k < LIVE_NR ? live[k].name : "?";
}

int live_parse(const char *name)
{
	for (int k = 0; k < LIVE_NR; k++)
		if (!strcmp(name, live[k].name))
			return k;
	return -1;
}

int live_threaded(int k)
{
	return k >= 0 && k < LIVE_NR && live[k].threaded;
}

const char *live_what(int k)
{
	return k >= 0 && k < LIVE_NR ? live[k].what : "?";
}

/* ---- helpers ------------------------------------------------------------ */

/* splitmix64 of seed and stream: unrelated xorshift states for nearby
 * seeds and for each thread (never 0). */
static uint64_t rng_seed(uint64_t seed, unsigned stream)
{
	uint64_t z = seed + (stream + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

/* xorshift64* (Vigna). */
AI uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) by multiply-shift (bias below n / 2^32). */
AI uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((rng_next(s) >> 32) * n) >> 32);
}

AI void *obj_alloc(enum alloc_kind kind, size_t size)
{
	return kind == AK_TALLY ? kmalloc(size, GFP_KERNEL) : malloc(size);
}

AI void obj_free(enum alloc_kind kind, void *p)
{
	if (kind == AK_TALLY)
		kfree(p);
	else
		free(p);
}

/* size >= 8: the tag fits. */
AI void write_block(unsigned char *p, size_t size, uint64_t tag)
{
	memset(p, (int)(tag & 0xff), size < WRITE_BYTES ? size : WRITE_BYTES);
	memcpy(p, &tag, sizeof(tag));
	for (size_t off = 4096; off < size; off += 4096)
		p[off] = 1;
	p[size - 1] = 1;
}

AI uint64_t read_tag(const void *p)
{
	uint64_t tag;

	memcpy(&tag, p, sizeof(tag));
	return tag;
}

static double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Zeroed memory that no allocator under test hands out, or NULL. */
static void *map_zeroed(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Nothing to do yet: pause a little, then give the CPU away (on 2 cores
 * with 4 threads the one we wait for may need it). */
static void wait_turn(unsigned *spins)
{
	if (++*spins < SPINS) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		return;
	}
	sched_yield();
}

/* ---- user-style, single-threaded --------------------------------------- */

AI size_t user_size(int k, uint64_t *rng)
{
	if (k == LIVE_USER64)
		return 64;
	if (k == LIVE_USER8K)
		return 8192;
	if (rng_below(rng, 10) < 7)
		return 16 + rng_below(rng, 216 - 16 + 1);
	return 1024 + rng_below(rng, 7 * 1024 - 1024 + 1);
}

/* n rounds of: free a random live block, allocate one, write it. Returns
 * 1 when an allocation failed (its slot is left NULL), else 0. */
AI unsigned long user_rounds(enum alloc_kind kind, int k, void **blk,
			     size_t n, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t r = rng_below(rng, USER_LIVE);
		size_t size = user_size(k, rng);

		obj_free(kind, blk[r]);
		blk[r] = obj_alloc(kind, size);
		if (!blk[r])
			return 1;
		write_block(blk[r], size, i);
	}
	return 0;
}

/* The timed loops, noinline so a profiler can collect exactly them
 * (valgrind --tool=callgrind --toggle-collect=user_tally). */
static __attribute__((noinline)) unsigned long
user_tally(int k, void **blk, size_t n, uint64_t *rng)
{
	return user_rounds(AK_TALLY, k, blk, n, rng);
}

static __attribute__((noinline)) unsigned long
user_libc(int k, void **blk, size_t n, uint64_t *rng)
{
	return user_rounds(AK_LIBC, k, blk, n, rng);
}

static unsigned long user_fill(enum alloc_kind kind, int k, void **blk,
			       uint64_t *rng)
{
	for (size_t i = 0; i < USER_LIVE; i++) {
		size_t size = user_size(k, rng);

		blk[i] = obj_alloc(kind, size);
		if (!blk[i])
			return 1;
		write_block(blk[i], size, i);
	}
	return 0;
}

static int run_user(enum alloc_kind kind, int k, size_t ops, uint64_t seed,
		    struct live_result *r)
{
	void **blk = map_zeroed(USER_LIVE * sizeof(void *));
	uint64_t rng = rng_seed(seed, 0);
	size_t rounds = ops / 2 ? ops / 2 : 1;
	unsigned long (*loop)(int, void **, size_t, uint64_t *) =
		kind == AK_TALLY ? user_tally : user_libc;
	double t0, c0;

	if (!blk)
		return -1;
	r->failed = user_fill(kind, k, blk, &rng);
	if (!r->failed)
		r->failed = loop(k, blk, rounds / 8, &rng);
	t0 = clock_ns(CLOCK_MONOTONIC);
	c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (!r->failed)
		r->failed = loop(k, blk, rounds, &rng);
	r->ns_per_op = (clock_ns(CLOCK_MONOTONIC) - t0) / (2.0 * rounds);
	r->cpu_ns_per_op = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (2.0 * rounds);
	r->ops = 2 * rounds;
	for (size_t i = 0; i < USER_LIVE; i++)
		if (blk[i])
			obj_free(kind, blk[i]);
	munmap(blk, USER_LIVE * sizeof(void *));
	return 0;
}

/* ---- threaded ----------------------------------------------------------- */

/* One single-producer single-consumer queue of batches: the producer
 * fills batch[tail % PC_QUEUE] and publishes it by advancing tail; the
 * consumer empties batch[head % PC_QUEUE] and gives it back by advancing
 * head. Each counter is written by one side only. */
struct queue {
	_Alignas(64) unsigned long head;
	_Alignas(64) unsigned long tail;
	_Alignas(64) void *batch[PC_QUEUE][PC_BATCH];
};

struct crew;

struct worker {
	_Alignas(64) struct crew *crew;
	unsigned index;
	enum alloc_kind kind;
	int k;
	size_t warm, work;        /* pc: batches; churn: steps */
	uint64_t rng;
	struct queue *in, *out;   /* pc: own queue, the next thread's */
	unsigned long seq;        /* pc: batches made so far */
	uint64_t sent, received;  /* pc: tags of objects made / freed, summed */
	unsigned long failed;
	double t0, t1, cpu;       /* timed phase: wall start and end, CPU ns */
	pthread_t tid;
	void *slot[CHURN_SLOTS];  /* churn */
};

struct crew {
	unsigned arrived;         /* threads at the start line */
	int stop;                 /* a thread failed: the others give up */
	unsigned threads;
	struct worker w[LIVE_MAX_THREADS];
	struct queue q[LIVE_MAX_THREADS];
};

AI unsigned long churn_steps(enum alloc_kind kind, struct worker *w, size_t n)
{
	uint64_t rng = w->rng;

	for (size_t i = 0; i < n; i++) {
		uint32_t s = rng_below(&rng, CHURN_SLOTS);
		size_t size;

		if (w->slot[s]) {
			obj_free(kind, w->slot[s]);
			w->slot[s] = NULL;
			continue;
		}
		size = OBJ_MIN + rng_below(&rng, OBJ_MAX - OBJ_MIN + 1);
		w->slot[s] = obj_alloc(kind, size);
		if (!w->slot[s])
			return 1;
		write_block(w->slot[s], size, i);
	}
	w->rng = rng;
	return 0;
}

/* One batch into the next thread's queue: 1, 0 when it is full, -1 when
 * an allocation failed. */
AI int pc_produce(enum alloc_kind kind, struct worker *w, uint64_t *rng)
{
	struct queue *q = w->out;
	unsigned long t = q->tail;
	void **b;

	if (t - __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) == PC_QUEUE)
		return 0;
	b = q->batch[t % PC_QUEUE];
	for (unsigned i = 0; i < PC_BATCH; i++) {
		size_t size = OBJ_MIN + rng_below(rng, OBJ_MAX - OBJ_MIN + 1);
		uint64_t tag = ((uint64_t)w->index << 48) + w->seq * PC_BATCH + i + 1;

		b[i] = obj_alloc(kind, size);
		if (!b[i])
			return -1;
		write_block(b[i], size, tag);
		w->sent += tag;
	}
	w->seq++;
	__atomic_store_n(&q->tail, t + 1, __ATOMIC_RELEASE);
	return 1;
}

/* One batch out of our queue, its objects read and freed in random
 * order: 1, or 0 when the queue is empty. */
AI int pc_consume(enum alloc_kind kind, struct worker *w, uint64_t *rng)
{
	struct queue *q = w->in;
	unsigned long h = q->head;
	void **b;

	if (__atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) == h)
		return 0;
	b = q->batch[h % PC_QUEUE];
	for (unsigned left = PC_BATCH; left > 0; left--) {
		uint32_t j = rng_below(rng, left);
		void *p = b[j];

		b[j] = b[left - 1];
		w->received += read_tag(p);
		obj_free(kind, p);
	}
	__atomic_store_n(&q->head, h + 1, __ATOMIC_RELEASE);
	return 1;
}

/* Make n batches and take n back; 0, or 1 when this or another thread
 * failed. */
AI unsigned long pc_batches(enum alloc_kind kind, struct worker *w, size_t n)
{
	size_t made = 0, taken = 0;
	unsigned spins = 0;
	uint64_t rng = w->rng;
	int got;

	while (made < n || taken < n) {
		if (taken < n && pc_consume(kind, w, &rng)) {
			taken++;
			spins = 0;
		} else if (made < n && (got = pc_produce(kind, w, &rng))) {
			if (got < 0) {
				__atomic_store_n(&w->crew->stop, 1, __ATOMIC_RELAXED);
				return 1;
			}
			made++;
			spins = 0;
		} else if (__atomic_load_n(&w->crew->stop, __ATOMIC_RELAXED)) {
			return 1;
		} else {
			wait_turn(&spins);
		}
	}
	w->rng = rng;
	return 0;
}

static __attribute__((noinline)) unsigned long
mt_tally(struct worker *w, size_t n)
{
	return w->k == LIVE_PC ? pc_batches(AK_TALLY, w, n)
			       : churn_steps(AK_TALLY, w, n);
}

static __attribute__((noinline)) unsigned long
mt_libc(struct worker *w, size_t n)
{
	return w->k == LIVE_PC ? pc_batches(AK_LIBC, w, n)
			       : churn_steps(AK_LIBC, w, n);
}

static unsigned long mt_phase(struct worker *w, size_t n)
{
	return w->kind == AK_TALLY ? mt_tally(w, n) : mt_libc(w, n);
}

/* Wait until every thread has arrived, spinning: a thread asleep in a
 * futex (pthread_barrier_wait) was seen to start its timed phase 2..4 ms
 * after the others, woken onto the waker's CPU. */
static void crew_wait_start(struct crew *c)
{
	unsigned spins = 0;

	__atomic_add_fetch(&c->arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&c->arrived, __ATOMIC_ACQUIRE) < c->threads)
		wait_turn(&spins);
}

/* A thread's life: warm-up, the start line, the timed phase, then
 * (untimed) its churn objects freed. pc's queues are empty at the end of
 * each phase. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	double c0;

	w->failed = mt_phase(w, w->warm);
	if (w->failed)
		__atomic_store_n(&w->crew->stop, 1, __ATOMIC_RELAXED);
	crew_wait_start(w->crew);
	w->t0 = clock_ns(CLOCK_MONOTONIC);
	c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (!w->failed && !__atomic_load_n(&w->crew->stop, __ATOMIC_RELAXED))
		w->failed = mt_phase(w, w->work);
	w->t1 = clock_ns(CLOCK_MONOTONIC);
	w->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	for (unsigned s = 0; s < CHURN_SLOTS; s++)
		if (w->slot[s])
			obj_free(w->kind, w->slot[s]);
	return NULL;
}

static void crew_setup(struct crew *c, enum alloc_kind kind, int k,
		       unsigned threads, size_t ops, uint64_t seed)
{
	size_t batches = ops / (2 * PC_BATCH);

	c->threads = threads;
	for (unsigned i = 0; i < threads; i++) {
		struct worker *w = &c->w[i];

		w->crew = c;
		w->index = i;
		w->kind = kind;
		w->k = k;
		w->rng = rng_seed(seed, i);
		w->in = &c->q[i];
		w->out = &c->q[(i + 1) % threads];
		w->work = k == LIVE_PC ? (batches ? batches : 1) : ops;
		w->warm = k == LIVE_PC ? w->work / 4 + 1 : CHURN_WARM;
	}
}

/* Wall time over all threads' timed phases, CPU time, ops, and the pc
 * check that every tag a thread sent arrived at the next one. */
static void crew_result(const struct crew *c, struct live_result *r)
{
	double t0 = c->w[0].t0, t1 = c->w[0].t1, cpu = 0;
	size_t ops = 0;

	r->failed = 0;
	for (unsigned i = 0; i < c->threads; i++) {
		const struct worker *w = &c->w[i], *next = &c->w[(i + 1) % c->threads];

		t0 = w->t0 < t0 ? w->t0 : t0;
		t1 = w->t1 > t1 ? w->t1 : t1;
		cpu += w->cpu;
		ops += w->k == LIVE_PC ? w->work * 2 * PC_BATCH : w->work;
		r->failed += w->failed;
		if (w->k == LIVE_PC && !w->failed && w->sent != next->received) {
			fprintf(stderr, "bench_live: pc: thread %u's objects arrived "
				"changed at thread %u\n", i, next->index);
			r->failed++;
		}
	}
	r->ops = ops;
	r->ns_per_op = (t1 - t0) / (double)ops;
	r->cpu_ns_per_op = cpu / (double)ops;
}

/* Threads 1..T-1 are created, the caller runs thread 0. When the harness
 * cannot be built (no memory, no thread) the child gives up: -1, and the
 * threads already started wait at the start line until the process exits. */
static int run_threads(enum alloc_kind kind, int k, unsigned threads,
		       size_t ops, uint64_t seed, struct live_result *r)
{
	struct crew *c = map_zeroed(sizeof(*c));

	if (!c)
		return -1;
	crew_setup(c, kind, k, threads, ops, seed);
	for (unsigned i = 1; i < threads; i++)
		if (pthread_create(&c->w[i].tid, NULL, worker_main, &c->w[i])) {
			fprintf(stderr, "bench_live: pthread_create failed\n");
			return -1;
		}
	worker_main(&c->w[0]);
	for (unsigned i = 1; i < threads; i++)
		pthread_join(c->w[i].tid, NULL);
	crew_result(c, r);
	munmap(c, sizeof(*c));
	return 0;
}

int live_run(enum alloc_kind kind, int k, unsigned threads, size_t ops,
	     uint64_t seed, struct live_result *r)
{
	if (k < 0 || k >= LIVE_NR || !threads || threads > LIVE_MAX_THREADS ||
	    (!live[k].threaded && threads != 1) || !ops)
		return -1;
	memset(r, 0, sizeof(*r));
	return live[k].threaded ? run_threads(kind, k, threads, ops, seed, r)
				: run_user(kind, k, ops, seed, r);
}
