/* bench_live.h - bench_host's live workloads (tools/bench/bench_live.c).
 *
 * What the driver in bench_host.c needs to run them: their names, which
 * of them are threaded, and one measurement inside a child process whose
 * allocator is already set up. Host only; not part of Tally's build. */
#ifndef TALLY_BENCH_LIVE_H
#define TALLY_BENCH_LIVE_H

#include <stddef.h>
#include <stdint.h>

/* How a child reaches its allocator: Tally's kmalloc/kfree (libmm.a) or
 * the malloc/free this process resolves (glibc, or an LD_PRELOAD'ed one). */
enum alloc_kind { AK_TALLY, AK_LIBC };

enum live_kind { LIVE_USER64, LIVE_USERMIX, LIVE_USER8K, LIVE_PC, LIVE_CHURN,
		 LIVE_NR };

#define LIVE_MAX_THREADS 16

struct live_result {
	double ns_per_op;      /* wall time of the timed phase / its ops */
	double cpu_ns_per_op;  /* the threads' CPU time summed / the same ops */
	size_t ops;            /* operations timed (allocations + frees) */
	unsigned long failed;  /* allocations that failed, objects that arrived wrong */
};

/* "user64", "usermix", "user8k", "pc", "churn" / the inverse (-1). */
const char *live_name(int k);
int live_parse(const char *name);
/* 1 when workload k runs on a number of threads (pc, churn). */
int live_threaded(int k);
/* One line saying what workload k does (for the report). */
const char *live_what(int k);

/* Run workload k once on `threads` threads (1 for the single-threaded
 * ones; the caller's thread is thread 0), timing about `ops` operations
 * per thread after an untimed fill and warm-up; random choices from
 * `seed`. Returns
 * 0 with *r filled (r->failed may be non-zero), or -1 when the run could
 * not be made (bad arguments, no thread or memory for the harness). */
int live_run(enum alloc_kind kind, int k, unsigned threads, size_t ops,
	     uint64_t seed, struct live_result *r);

#endif
