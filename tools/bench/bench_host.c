/* bench_host.c - the host half of the benchmarks (make bench-host).
 *
 * Replays the workload traces of lib/workload.h against Tally's allocator
 * stack (build/host/libmm.a in the modes twotier, simple, hybrid) and
 * against the C library allocators a programmer would use instead: glibc
 * malloc, jemalloc and mimalloc. Not a test: it asserts nothing about
 * speed; it fails only when a run could not be made or an allocation
 * failed.
 *
 * How one measurement is made (a "run" = one allocator, one workload, one
 * repetition):
 *   - the parent re-executes this program as a child (--child), so every
 *     run starts in a fresh process with a fresh heap. glibc, jemalloc and
 *     mimalloc all define malloc, so they cannot share one process:
 *     jemalloc and mimalloc are loaded with LD_PRELOAD (how they are
 *     deployed in practice), and the child checks with dladdr() that
 *     malloc really resolves to the intended library before it measures;
 *   - the child generates the trace into mmap'd memory (seed: --seed, by
 *     default 0x7a11, plus the workload's index: the kernel's `bench`
 *     uses the same seeds, so frag is the very same trace), sets
 *     up the allocator (Tally: a fresh 512 MiB arena and mm_host_init(),
 *     then mm_set_mode()), and touches everything it will use;
 *   - peak: it resets the kernel's resident high-water mark (writing 5 to
 *     /proc/self/clear_refs), notes VmRSS, replays the trace once writing
 *     one byte into every page of every block (so the memory handed out is
 *     resident, as in a real program), and reads VmHWM: peak = VmHWM -
 *     that VmRSS, i.e. the most memory the allocator made resident at once
 *     for this trace, its own metadata included, Tally's frame array
 *     (allocated by mm_host_init before the reset) excluded;
 *   - time: it then replays the trace again, untouched, `loops` times
 *     (enough for at least --ops operations; only frag needs more than
 *     one) between two CLOCK_MONOTONIC readings: ns per op = elapsed /
 *     (loops * ops in the trace). Only allocator calls are timed.
 *   - repetitions are interleaved: rep 1 of every workload and allocator,
 *     then rep 2, ..., with the allocator order rotated each rep, so slow
 *     phases of the machine hit all allocators alike. The report gives
 *     the median over reps (and min..max), and the largest peak.
 *
 * The live workloads (bench_live.c: user64, usermix, user8k single-
 * threaded; pc and churn at --threads 1,2,4) are measured the same way --
 * a fresh child per run (--child-live), LD_PRELOAD and the dladdr() check
 * for jemalloc and mimalloc, interleaved repetitions, medians -- but are
 * programs rather than traces: they allocate, write and free as they go,
 * and time themselves (see bench_live.c). Their peak is VmHWM - VmRSS from
 * just before the fill to the end of the run. They run for twotier and the
 * three C libraries unless --allocs names others.
 *
 * Output: a table per workload, a table of TwoTier against the fastest of
 * glibc, jemalloc and mimalloc, then one machine line per workload (and
 * thread count) and allocator:
 *   bench-host WORKLOAD ALLOC ns_per_op=X ratio_glibc=X ratio_best=X best=NAME
 *              peak_kib=N reps=N ops=N
 *   bench-host WORKLOAD ALLOC threads=N ns_per_op=X cpu_ns_per_op=X
 *              ratio_glibc=X ratio_best=X best=NAME peak_kib=N reps=N ops=N
 * (ops = operations in one replay of the trace, or timed in one live run,
 * all threads together;
 * ratio_best = this allocator's median / the fastest C library's median
 * in the same run, best = that library; the second form for pc and churn),
 * also written to --out. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_live.h"
#include "lib/workload.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/stats.h"

#define ARENA_BYTES  (512UL << 20)
#define DEFAULT_OPS  2000000UL
#define DEFAULT_REPS 9
#define DEFAULT_SEED 0x7a11   /* + workload index, as the kernel's bench */
#define TINY_OPS     30000UL
#define TINY_REPS    2
#define MAX_REPS     101
#define MAX_THREAD_COUNTS 8
#define MAX_CASES    (WL_NR + LIVE_NR * MAX_THREAD_COUNTS)

/* live: run in the live workloads by default. hybrid is TwoTier's path
 * while TwoTier can serve (these workloads never exhaust it), and simple,
 * a first-fit heap, is no contender there: both only when --allocs asks. */
static const struct allocator {
	const char *name;
	enum alloc_kind kind;
	int mode;              /* AK_TALLY: MM_MODE_* */
	const char *preload;   /* AK_LIBC: library for LD_PRELOAD, or NULL */
	const char *lib;       /* AK_LIBC: substring of the library malloc must be in */
	int live;
} allocs[] = {
	{ "twotier",  AK_TALLY, MM_MODE_TWOTIER, NULL, NULL,                   1 },
	{ "simple",   AK_TALLY, MM_MODE_SIMPLE,  NULL, NULL,                   0 },
	{ "hybrid",   AK_TALLY, MM_MODE_HYBRID,  NULL, NULL,                   0 },
	{ "glibc",    AK_LIBC,  0, NULL,               "libc.so",              1 },
	{ "jemalloc", AK_LIBC,  0, "libjemalloc.so.2", "libjemalloc",          1 },
	{ "mimalloc", AK_LIBC,  0, "libmimalloc.so.2", "libmimalloc",          1 },
};
#define NR_ALLOCS (sizeof(allocs) / sizeof(allocs[0]))

static void *slots[WL_MAX_SLOTS];

/* ---- small helpers ------------------------------------------------------ */

static void die(const char *what)
{
	fprintf(stderr, "bench_host: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Anonymous memory that no allocator under test hands out. */
static void *map_bytes(size_t bytes, int noreserve)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0),
		       -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* A "Key:   N kB" field of /proc/self/status, or -1. */
static long status_kib(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Reset VmHWM to the current VmRSS (Linux >= 4.0). */
static int reset_hwm(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs("5", f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int find_alloc(const char *name)
{
	for (size_t i = 0; i < NR_ALLOCS; i++)
		if (!strcmp(allocs[i].name, name))
			return (int)i;
	return -1;
}

/* ---- the replay loops --------------------------------------------------- */

/* Write one byte into every page of the block, so it is resident. */
static void touch(char *p, size_t size)
{
	for (size_t off = 0; off < size; off += 4096)
		p[off] = 1;
	p[size - 1] = 1;
}

/* One replay of ops[0..n) with malloc (kind AK_LIBC) or kmalloc (AK_TALLY);
 * always_inline so each call site gets a branch-free loop for its
 * constant arguments. Returns the allocations that failed. */
static inline __attribute__((always_inline)) unsigned long
replay(const uint32_t *ops, size_t n, enum alloc_kind kind, int touching)
{
	unsigned long failed = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t op = ops[i], s = WL_SLOT(op);

		if (op & WL_FREE) {
			if (kind == AK_TALLY)
				kfree(slots[s]);
			else
				free(slots[s]);
			continue;
		}
		slots[s] = kind == AK_TALLY ? kmalloc(WL_SIZE(op), GFP_KERNEL)
					    : malloc(WL_SIZE(op));
		if (!slots[s])
			failed++;
		else if (touching)
			touch(slots[s], WL_SIZE(op));
	}
	return failed;
}

/* The timed loops; noinline so a profiler can collect exactly them
 * (valgrind --tool=callgrind --toggle-collect=replay_tally). */
static __attribute__((noinline)) unsigned long replay_tally(const uint32_t *ops, size_t n)
{
	return replay(ops, n, AK_TALLY, 0);
}

static __attribute__((noinline)) unsigned long replay_libc(const uint32_t *ops, size_t n)
{
	return replay(ops, n, AK_LIBC, 0);
}

static unsigned long replay_touch(const uint32_t *ops, size_t n,
				  enum alloc_kind kind)
{
	return kind == AK_TALLY ? replay(ops, n, AK_TALLY, 1)
				: replay(ops, n, AK_LIBC, 1);
}

/* ---- child: one measurement --------------------------------------------- */

/* Library that defines the malloc this process calls. */
static const char *malloc_library(void)
{
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	Dl_info info;

	if (!m || !dladdr(m, &info) || !info.dli_fname)
		return "?";
	return info.dli_fname;
}

static int setup_allocator(const struct allocator *a, const char **lib)
{
	int ret;

	if (a->kind == AK_LIBC) {
		*lib = malloc_library();
		if (!strstr(*lib, a->lib)) {
			fprintf(stderr, "bench_host: %s: malloc comes from %s, "
				"not %s (is it installed? tools/deps.sh)\n",
				a->name, *lib, a->lib);
			return -1;
		}
		return 0;
	}
	*lib = "build/host/libmm.a";
	ret = mm_host_init(map_bytes(ARENA_BYTES, 1), ARENA_BYTES);
	if (!ret)
		ret = mm_set_mode(a->mode);
	if (ret)
		fprintf(stderr, "bench_host: mm_host_init: %d\n", ret);
	return ret;
}

/* Trace of workload k into mmap'd memory (so no allocator under test
 * holds it). */
static void make_trace(int k, size_t ops, uint64_t seed, struct wl_trace *t)
{
	memset(t, 0, sizeof(*t));
	t->cap = wl_ops_needed(k, ops);
	t->ops = map_bytes(t->cap * sizeof(uint32_t), 0);
	if (wl_generate(k, ops, seed, t)) {
		fprintf(stderr, "bench_host: wl_generate(%s) failed\n", wl_name(k));
		exit(2);
	}
}

/* The warm-up replay, measuring peak resident memory; stops at `keep` to
 * read Tally's fragmentation there. */
static unsigned long measure_peak(const struct allocator *a,
				  const struct wl_trace *t, long *peak_kib,
				  int *frag_pm)
{
	long base;
	unsigned long failed;
	struct mm_stats st;

	if (reset_hwm())
		fprintf(stderr, "bench_host: cannot reset VmHWM; peak includes set-up\n");
	base = status_kib("VmRSS");
	failed = replay_touch(t->ops, t->keep, a->kind);
	*frag_pm = -1;
	if (a->kind == AK_TALLY) {
		mm_stats_get(&st);
		*frag_pm = (int)st.frag_pm;
	}
	failed += replay_touch(t->ops + t->keep, t->n - t->keep, a->kind);
	*peak_kib = status_kib("VmHWM") - base;
	return failed;
}

static int run_child(const char *alloc, const char *workload, size_t ops,
		     uint64_t seed, size_t min_ops)
{
	int ai = find_alloc(alloc), k = wl_parse(workload), frag_pm;
	const struct allocator *a;
	struct wl_trace t;
	const char *lib;
	unsigned long failed;
	size_t loops;
	long peak_kib;
	double t0, t1;

	if (ai < 0 || k < 0)
		return 2;
	a = &allocs[ai];
	make_trace(k, ops, seed, &t);
	if (setup_allocator(a, &lib))
		return 2;
	memset(slots, 0, sizeof(slots));
	failed = measure_peak(a, &t, &peak_kib, &frag_pm);
	loops = (min_ops + t.n - 1) / t.n;
	t0 = now_ns();
	for (size_t l = 0; l < loops; l++)
		failed += a->kind == AK_TALLY ? replay_tally(t.ops, t.n)
					      : replay_libc(t.ops, t.n);
	t1 = now_ns();
	printf("result ns_per_op=%.3f ops=%zu loops=%zu peak_kib=%ld frag_pm=%d "
	       "failed=%lu peak_live=%u lib=%s\n", (t1 - t0) / ((double)loops * t.n),
	       t.n, loops, peak_kib, frag_pm, failed, t.peak_live, lib);
	return failed ? 1 : 0;
}

/* Tally after a live run, which frees everything it allocated: no block
 * still counted in use, no free refused. 0, or -1 (reported). */
static int tally_clean(void)
{
	struct kmalloc_stats st;
	uint64_t in_use = 0;

	kmalloc_get_stats(&st);
	for (int b = 0; b < KM_BACKEND_NR; b++)
		in_use += st.backend[b].bytes_in_use;
	if (!in_use && !st.wrong_frees)
		return 0;
	fprintf(stderr, "bench_host: after the run Tally counts %llu bytes in use "
		"and %lu wrong frees\n", (unsigned long long)in_use, st.wrong_frees);
	return -1;
}

/* One run of a live workload (bench_live.c); peak from before its fill. */
static int run_child_live(const char *alloc, const char *workload,
			  unsigned threads, size_t ops, uint64_t seed)
{
	int ai = find_alloc(alloc), k = live_parse(workload);
	struct live_result r;
	const char *lib;
	long base, peak_kib;

	if (ai < 0 || k < 0)
		return 2;
	if (setup_allocator(&allocs[ai], &lib))
		return 2;
	if (reset_hwm())
		fprintf(stderr, "bench_host: cannot reset VmHWM; peak includes set-up\n");
	base = status_kib("VmRSS");
	if (live_run(allocs[ai].kind, k, threads, ops, seed, &r)) {
		fprintf(stderr, "bench_host: %s %s on %u threads could not run\n",
			alloc, workload, threads);
		return 2;
	}
	peak_kib = status_kib("VmHWM") - base;
	if (allocs[ai].kind == AK_TALLY && tally_clean())
		r.failed++;
	printf("result ns_per_op=%.3f ops=%zu loops=1 peak_kib=%ld frag_pm=-1 "
	       "failed=%lu cpu_ns_per_op=%.3f threads=%u lib=%s\n", r.ns_per_op,
	       r.ops, peak_kib, r.failed, r.cpu_ns_per_op, threads, lib);
	return r.failed ? 1 : 0;
}

/* ---- parent: spawn, collect, report -------------------------------------- */

/* What one set of runs measures: trace workload k (live 0), or live
 * workload k (bench_live.h) on `threads` threads. */
struct bcase {
	int live, k;
	unsigned threads;
};

struct result {
	double ns, cpu_ns;       /* cpu_ns: live runs only, else -1 */
	long peak_kib;
	int frag_pm;
	size_t ops;
};

struct config {
	size_t ops, min_ops;
	unsigned reps;
	uint64_t seed;
	const char *out;
	int want_alloc[NR_ALLOCS];       /* trace workloads */
	int want_alloc_live[NR_ALLOCS];  /* live workloads */
	unsigned threads[MAX_THREAD_COUNTS], nthreads;
	struct bcase cases[MAX_CASES];
	int ncases;
};

static const char *case_name(const struct bcase *c)
{
	return c->live ? live_name(c->k) : wl_name(c->k);
}

/* Trace workloads: seed + index, as the kernel's bench; live ones follow
 * (seed + 4 + index), each thread its own stream of that seed. */
static uint64_t case_seed(const struct config *cfg, const struct bcase *c)
{
	return cfg->seed + (uint64_t)(c->live ? WL_NR + c->k : c->k);
}

static int case_wants(const struct config *cfg, const struct bcase *c, size_t a)
{
	return c->live ? cfg->want_alloc_live[a] : cfg->want_alloc[a];
}

/* Environment for a child of allocator a: ours without LD_PRELOAD, plus
 * a's library when it has one. */
static char **child_env(const struct allocator *a)
{
	extern char **environ;
	static char preload[256];
	size_t n = 0, i;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		die("calloc");
	for (i = n = 0; environ[i]; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11))
			env[n++] = environ[i];
	if (a->preload) {
		snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", a->preload);
		env[n++] = preload;
	}
	return env;
}

/* --child ALLOC WORKLOAD OPS SEED MIN_OPS, or
 * --child-live ALLOC WORKLOAD THREADS OPS SEED */
static void exec_child(const char *self, int ai, const struct bcase *c,
		       const struct config *cfg, int out_fd)
{
	char ops[32], seed[32], extra[32];
	char *name = (char *)allocs[ai].name, *wl = (char *)case_name(c);
	char *trace_argv[] = { (char *)self, "--child", name, wl, ops, seed,
			       extra, NULL };
	char *live_argv[] = { (char *)self, "--child-live", name, wl, extra,
			      ops, seed, NULL };

	snprintf(ops, sizeof(ops), "%zu", cfg->ops);
	snprintf(seed, sizeof(seed), "%llu",
		 (unsigned long long)case_seed(cfg, c));
	if (c->live)
		snprintf(extra, sizeof(extra), "%u", c->threads);
	else
		snprintf(extra, sizeof(extra), "%zu", cfg->min_ops);
	if (dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	execve(self, c->live ? live_argv : trace_argv, child_env(&allocs[ai]));
	_exit(127);
}

/* The child's "result ..." line into *r: 0, or -1. */
static int parse_result(const char *buf, struct result *r)
{
	const char *p = strstr(buf, "result "), *cpu;

	if (!p || sscanf(p, "result ns_per_op=%lf ops=%zu %*s peak_kib=%ld frag_pm=%d",
			 &r->ns, &r->ops, &r->peak_kib, &r->frag_pm) != 4)
		return -1;
	cpu = strstr(p, " cpu_ns_per_op=");
	r->cpu_ns = cpu ? strtod(cpu + 15, NULL) : -1;
	return 0;
}

/* One run in a child process; 0 and *r filled, or -1. */
static int spawn_run(const char *self, int ai, const struct bcase *c,
		     const struct config *cfg, struct result *r)
{
	char buf[512] = "";
	int fds[2], status;
	ssize_t got, len = 0;
	pid_t pid;

	if (pipe(fds))
		die("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(fds[0]);
		exec_child(self, ai, c, cfg, fds[1]);
	}
	close(fds[1]);
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (got = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += got;
	buf[len] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) || parse_result(buf, r)) {
		fprintf(stderr, "bench_host: %s %s (threads %u) failed (status %#x): %s\n",
			allocs[ai].name, case_name(c), c->threads, status, buf);
		return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct summary {
	double median, min, max, cpu;
	long peak_kib;
	int frag_pm;
	size_t ops;
};

static void summarize(const struct result *r, unsigned reps, struct summary *s)
{
	double v[MAX_REPS], cpu[MAX_REPS];
	unsigned i;

	s->peak_kib = 0;
	for (i = 0; i < reps; i++) {
		v[i] = r[i].ns;
		cpu[i] = r[i].cpu_ns;
		if (r[i].peak_kib > s->peak_kib)
			s->peak_kib = r[i].peak_kib;
	}
	s->median = median(v, reps);
	s->min = v[0];
	s->max = v[reps - 1];
	s->cpu = median(cpu, reps);
	s->frag_pm = r[0].frag_pm;
	s->ops = r[0].ops;
}

/* A case's medians and what they are compared with: glibc, mimalloc, and
 * the fastest of glibc, jemalloc and mimalloc (0 / -1 when not run). */
struct case_sum {
	struct summary s[NR_ALLOCS];
	double glibc, mimal, best;
	int best_a;
};

static void case_summarize(const struct config *cfg, const struct bcase *c,
			   struct result (*res)[MAX_REPS], struct case_sum *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->best_a = -1;
	for (size_t a = 0; a < NR_ALLOCS; a++) {
		if (!case_wants(cfg, c, a))
			continue;
		summarize(res[a], cfg->reps, &cs->s[a]);
		if (allocs[a].kind == AK_LIBC &&
		    (cs->best_a < 0 || cs->s[a].median < cs->best)) {
			cs->best = cs->s[a].median;
			cs->best_a = (int)a;
		}
	}
	if (case_wants(cfg, c, (size_t)find_alloc("glibc")))
		cs->glibc = cs->s[find_alloc("glibc")].median;
	if (case_wants(cfg, c, (size_t)find_alloc("mimalloc")))
		cs->mimal = cs->s[find_alloc("mimalloc")].median;
}

static double ratio(double x, double base)
{
	return base > 0 ? x / base : 0;
}

static const char *best_name(const struct case_sum *cs)
{
	return cs->best_a >= 0 ? allocs[cs->best_a].name : "-";
}

/* Print to stdout and to f (when open). */
static void out(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (f) {
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
	}
}

static void print_head(FILE *f, const struct bcase *c, const struct case_sum *cs,
		       const struct config *cfg)
{
	size_t ops = 0;

	for (size_t a = 0; a < NR_ALLOCS && !ops; a++)
		ops = cs->s[a].ops;
	if (!c->live) {
		out(f, "\n%s (%zu ops per replay, seed %#llx)\n", case_name(c), ops,
		    (unsigned long long)case_seed(cfg, c));
		return;
	}
	if (live_threaded(c->k))
		out(f, "\n%s (about %zu ops per thread and run, seed %#llx): %s\n",
		    case_name(c), cfg->ops, (unsigned long long)case_seed(cfg, c),
		    live_what(c->k));
	else
		out(f, "\n%s (%zu ops per run, seed %#llx): %s\n", case_name(c),
		    ops, (unsigned long long)case_seed(cfg, c), live_what(c->k));
}

/* Trace and single-threaded live workloads: one table each. */
static void print_table(FILE *f, const struct bcase *c, const struct case_sum *cs,
			const struct config *cfg)
{
	print_head(f, c, cs, cfg);
	out(f, "  %-9s %9s %19s %7s %7s %7s %10s %6s\n", "allocator", "ns/op",
	    "(min..max)", "/glibc", "/mimal", "/best", "peak KiB", "frag");
	for (size_t a = 0; a < NR_ALLOCS; a++) {
		const struct summary *s = &cs->s[a];
		char range[32], frag[16] = "-";

		if (!case_wants(cfg, c, a))
			continue;
		snprintf(range, sizeof(range), "(%.1f..%.1f)", s->min, s->max);
		if (s->frag_pm >= 0)
			snprintf(frag, sizeof(frag), "%d.%d%%", s->frag_pm / 10,
				 s->frag_pm % 10);
		out(f, "  %-9s %9.2f %19s %7.2f %7.2f %7.2f %10ld %6s\n",
		    allocs[a].name, s->median, range, ratio(s->median, cs->glibc),
		    ratio(s->median, cs->mimal), ratio(s->median, cs->best),
		    s->peak_kib, frag);
	}
}

/* A threaded workload: the rows of case c (one thread count), under the
 * heading printed with its first thread count. */
static void print_threaded(FILE *f, const struct bcase *c, const struct case_sum *cs,
			   const struct config *cfg, int first)
{
	if (first) {
		print_head(f, c, cs, cfg);
		out(f, "  %-9s %7s %9s %19s %9s %5s %7s %7s %10s\n", "allocator",
		    "threads", "ns/op", "(min..max)", "cpu ns/op", "par",
		    "/glibc", "/best", "peak KiB");
	} else {
		out(f, "\n");
	}
	for (size_t a = 0; a < NR_ALLOCS; a++) {
		const struct summary *s = &cs->s[a];
		char range[32];

		if (!case_wants(cfg, c, a))
			continue;
		snprintf(range, sizeof(range), "(%.1f..%.1f)", s->min, s->max);
		out(f, "  %-9s %7u %9.2f %19s %9.2f %5.2f %7.2f %7.2f %10ld\n",
		    allocs[a].name, c->threads, s->median, range, s->cpu,
		    ratio(s->cpu, s->median), ratio(s->median, cs->glibc),
		    ratio(s->median, cs->best), s->peak_kib);
	}
}

/* TwoTier's median against the fastest C library's, every case. */
static void print_vs_best(FILE *f, const struct config *cfg, const struct case_sum *cs)
{
	int t = find_alloc("twotier");

	if (!cfg->want_alloc[t] && !cfg->want_alloc_live[t])
		return;
	out(f, "\ntwotier against the fastest of glibc, jemalloc and mimalloc "
	    "(medians of this run)\n");
	out(f, "  %-9s %7s %9s %9s %-9s %12s\n", "workload", "threads", "twotier",
	    "best", "(which)", "twotier/best");
	for (int i = 0; i < cfg->ncases; i++) {
		const struct bcase *c = &cfg->cases[i];

		if (!case_wants(cfg, c, (size_t)t) || cs[i].best_a < 0)
			continue;
		out(f, "  %-9s %7u %9.2f %9.2f %-9s %12.2f\n", case_name(c),
		    c->threads, cs[i].s[t].median, cs[i].best, best_name(&cs[i]),
		    ratio(cs[i].s[t].median, cs[i].best));
	}
}

static void print_machine(FILE *f, const struct bcase *c, const struct case_sum *cs,
			  const struct config *cfg)
{
	char thr[64];

	for (size_t a = 0; a < NR_ALLOCS; a++) {
		const struct summary *s = &cs->s[a];

		if (!case_wants(cfg, c, a))
			continue;
		thr[0] = '\0';
		if (c->live && live_threaded(c->k))
			snprintf(thr, sizeof(thr), " threads=%u", c->threads);
		out(f, "bench-host %s %s%s ns_per_op=%.2f", case_name(c),
		    allocs[a].name, thr, s->median);
		if (thr[0])
			out(f, " cpu_ns_per_op=%.2f", s->cpu);
		out(f, " ratio_glibc=%.3f ratio_best=%.3f best=%s peak_kib=%ld "
		    "reps=%u ops=%zu\n", ratio(s->median, cs->glibc),
		    ratio(s->median, cs->best), best_name(cs), s->peak_kib,
		    cfg->reps, s->ops);
	}
}

/* results[case][allocator][rep] */
static struct result results[MAX_CASES][NR_ALLOCS][MAX_REPS];

/* Every (rep, case, allocator) run, reps outermost, the allocator order
 * rotated by one each rep. Returns the runs that failed. */
static int run_all(const char *self, const struct config *cfg)
{
	int failed = 0;

	for (unsigned rep = 0; rep < cfg->reps; rep++) {
		fprintf(stderr, "bench_host: rep %u/%u\n", rep + 1, cfg->reps);
		for (int i = 0; i < cfg->ncases; i++) {
			const struct bcase *c = &cfg->cases[i];

			for (size_t j = 0; j < NR_ALLOCS; j++) {
				size_t a = (j + rep) % NR_ALLOCS;

				if (!case_wants(cfg, c, a))
					continue;
				if (spawn_run(self, (int)a, c, cfg, &results[i][a][rep]))
					failed++;
			}
		}
	}
	return failed;
}

static void print_threads(FILE *f, const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->nthreads; i++)
		out(f, "%s%u", i ? "," : "", cfg->threads[i]);
}

static void report(const struct config *cfg)
{
	static struct case_sum cs[MAX_CASES];
	FILE *f = NULL;

	if (cfg->out && !(f = fopen(cfg->out, "w")))
		die(cfg->out);
	out(f, "bench-host: seed=%#llx+workload ops=%zu min_ops_timed=%zu reps=%u "
	    "arena=%lu MiB threads=", (unsigned long long)cfg->seed, cfg->ops,
	    cfg->min_ops, cfg->reps, ARENA_BYTES >> 20);
	print_threads(f, cfg);
	out(f, "\nns/op: median over reps of (timed replay time / ops); peak: "
	    "most resident KiB above the start of the warm-up replay; frag: "
	    "Tally's mm_stats frag at the measured live set\n");
	out(f, "live workloads (user64 usermix user8k pc churn): programs that "
	    "write what they allocate, timed as they run; ns/op: wall time / "
	    "operations of all threads; cpu ns/op: the threads' CPU time / the "
	    "same; par: cpu / wall, the threads running at once on average; "
	    "peak from before the fill; /best: to the fastest of glibc, "
	    "jemalloc and mimalloc in this run\n");
	for (int i = 0; i < cfg->ncases; i++) {
		const struct bcase *c = &cfg->cases[i];

		case_summarize(cfg, c, results[i], &cs[i]);
		if (c->live && live_threaded(c->k))
			print_threaded(f, c, &cs[i], cfg,
				       !i || cfg->cases[i - 1].k != c->k ||
				       !cfg->cases[i - 1].live);
		else
			print_table(f, c, &cs[i], cfg);
	}
	print_vs_best(f, cfg, cs);
	out(f, "\n");
	for (int i = 0; i < cfg->ncases; i++)
		print_machine(f, &cfg->cases[i], &cs[i], cfg);
	if (f && fclose(f))
		die(cfg->out);
}

/* A comma-separated list of names into want[]; all when list is NULL. */
static int parse_list(const char *list, int *want, int n,
		      const char *(*name)(int))
{
	char buf[256], *tok, *save;
	int i, found;

	for (i = 0; i < n; i++)
		want[i] = list == NULL;
	if (!list)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = found = 0; i < n; i++)
			if (!strcmp(tok, name(i)))
				want[i] = found = 1;
		if (!found) {
			fprintf(stderr, "bench_host: unknown name %s\n", tok);
			return -1;
		}
	}
	return 0;
}

/* "1,2,4" into cfg->threads: 0, or -1 for a count outside
 * 1..LIVE_MAX_THREADS or too many counts. */
static int parse_threads(const char *list, struct config *cfg)
{
	char buf[128], *tok, *save, *end;
	unsigned long n;

	cfg->nthreads = 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		n = strtoul(tok, &end, 10);
		if (*end || !n || n > LIVE_MAX_THREADS ||
		    cfg->nthreads == MAX_THREAD_COUNTS) {
			fprintf(stderr, "bench_host: --threads: counts of 1..%d, "
				"at most %d of them\n", LIVE_MAX_THREADS, MAX_THREAD_COUNTS);
			return -1;
		}
		cfg->threads[cfg->nthreads++] = (unsigned)n;
	}
	return cfg->nthreads ? 0 : -1;
}

static const char *alloc_name(int i)
{
	return allocs[i].name;
}

/* Trace workloads 0..WL_NR-1, then the live ones. */
static const char *any_workload_name(int i)
{
	return i < WL_NR ? wl_name(i) : live_name(i - WL_NR);
}

/* The cases in report order: traces, user-style, then each threaded
 * workload at every thread count. */
static void make_cases(struct config *cfg, const int *want)
{
	cfg->ncases = 0;
	for (int k = 0; k < WL_NR; k++)
		if (want[k])
			cfg->cases[cfg->ncases++] = (struct bcase){ 0, k, 1 };
	for (int k = 0; k < LIVE_NR; k++) {
		if (!want[WL_NR + k])
			continue;
		if (!live_threaded(k)) {
			cfg->cases[cfg->ncases++] = (struct bcase){ 1, k, 1 };
			continue;
		}
		for (unsigned i = 0; i < cfg->nthreads; i++)
			cfg->cases[cfg->ncases++] = (struct bcase){ 1, k, cfg->threads[i] };
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_host [--tiny] [--ops N] [--reps N] [--seed N] [--out FILE]\n"
		"                  [--workloads small,mixed,large,frag,user64,usermix,user8k,pc,churn]\n"
		"                  [--allocs twotier,simple,hybrid,glibc,jemalloc,mimalloc]\n"
		"                  [--threads 1,2,4]\n"
		"       (the live workloads, user64..churn, run twotier, glibc, jemalloc\n"
		"        and mimalloc unless --allocs is given)\n");
	exit(2);
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	const char *wl = NULL, *al = NULL, *th = "1,2,4";
	int want[WL_NR + LIVE_NR];

	memset(cfg, 0, sizeof(*cfg));
	cfg->ops = DEFAULT_OPS;
	cfg->reps = DEFAULT_REPS;
	cfg->seed = DEFAULT_SEED;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--tiny")) {
			cfg->ops = TINY_OPS;
			cfg->reps = TINY_REPS;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(o, "--ops"))
			cfg->ops = strtoul(v, NULL, 0);
		else if (!strcmp(o, "--reps"))
			cfg->reps = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--seed"))
			cfg->seed = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--out"))
			cfg->out = v;
		else if (!strcmp(o, "--workloads"))
			wl = v;
		else if (!strcmp(o, "--allocs"))
			al = v;
		else if (!strcmp(o, "--threads"))
			th = v;
		else
			usage();
	}
	if (!cfg->ops || !cfg->reps || cfg->reps > MAX_REPS ||
	    parse_list(wl, want, WL_NR + LIVE_NR, any_workload_name) ||
	    parse_list(al, cfg->want_alloc, NR_ALLOCS, alloc_name) ||
	    parse_threads(th, cfg))
		usage();
	for (size_t a = 0; a < NR_ALLOCS; a++)
		cfg->want_alloc_live[a] = al ? cfg->want_alloc[a] : allocs[a].live;
	make_cases(cfg, want);
	cfg->min_ops = cfg->ops;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	char self[4096];
	ssize_t n;
	int failed;

	if (argc == 7 && !strcmp(argv[1], "--child"))
		return run_child(argv[2], argv[3], strtoul(argv[4], NULL, 0),
				 strtoull(argv[5], NULL, 0),
				 strtoul(argv[6], NULL, 0));
	if (argc == 7 && !strcmp(argv[1], "--child-live"))
		return run_child_live(argv[2], argv[3],
				      (unsigned)strtoul(argv[4], NULL, 0),
				      strtoul(argv[5], NULL, 0),
				      strtoull(argv[6], NULL, 0));
	parse_args(argc, argv, &cfg);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		die("readlink /proc/self/exe");
	self[n] = '\0';
	failed = run_all(self, &cfg);
	if (failed) {
		fprintf(stderr, "bench_host: %d runs failed\n", failed);
		return 1;
	}
	report(&cfg);
	return 0;
}
