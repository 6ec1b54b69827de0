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
 * Output: a table per workload, then one machine line per workload and
 * allocator:
 *   bench-host WORKLOAD ALLOC ns_per_op=X ratio_glibc=X peak_kib=N reps=N ops=N
 * (ops = operations in one replay of the trace), also written to --out. */
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

enum alloc_kind { AK_TALLY, AK_LIBC };

static const struct allocator {
	const char *name;
	enum alloc_kind kind;
	int mode;              /* AK_TALLY: MM_MODE_* */
	const char *preload;   /* AK_LIBC: library for LD_PRELOAD, or NULL */
	const char *lib;       /* AK_LIBC: substring of the library malloc must be in */
} allocs[] = {
	{ "twotier",  AK_TALLY, MM_MODE_TWOTIER, NULL, NULL },
	{ "simple",   AK_TALLY, MM_MODE_SIMPLE,  NULL, NULL },
	{ "hybrid",   AK_TALLY, MM_MODE_HYBRID,  NULL, NULL },
	{ "glibc",    AK_LIBC,  0, NULL,               "libc.so" },
	{ "jemalloc", AK_LIBC,  0, "libjemalloc.so.2", "libjemalloc" },
	{ "mimalloc", AK_LIBC,  0, "libmimalloc.so.2", "libmimalloc" },
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

/* ---- parent: spawn, collect, report -------------------------------------- */

struct result {
	double ns;
	long peak_kib;
	int frag_pm;
	size_t ops;
};

struct config {
	size_t ops, min_ops;
	unsigned reps;
	uint64_t seed;
	const char *out;
	int want_alloc[NR_ALLOCS];
	int want_wl[WL_NR];
};

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

static void exec_child(const char *self, int ai, int k,
		       const struct config *cfg, int out_fd)
{
	char ops[32], seed[32], min_ops[32];
	char *argv[] = { (char *)self, "--child", (char *)allocs[ai].name,
			 (char *)wl_name(k), ops, seed, min_ops, NULL };

	snprintf(ops, sizeof(ops), "%zu", cfg->ops);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)(cfg->seed + k));
	snprintf(min_ops, sizeof(min_ops), "%zu", cfg->min_ops);
	if (dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	execve(self, argv, child_env(&allocs[ai]));
	_exit(127);
}

/* One run in a child process; 0 and *r filled, or -1. */
static int spawn_run(const char *self, int ai, int k, const struct config *cfg,
		     struct result *r)
{
	char buf[512] = "";
	int fds[2], status;
	ssize_t got, len = 0;
	pid_t pid;
	const char *p;

	if (pipe(fds))
		die("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(fds[0]);
		exec_child(self, ai, k, cfg, fds[1]);
	}
	close(fds[1]);
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (got = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += got;
	buf[len] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	p = strstr(buf, "result ");
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !p ||
	    sscanf(p, "result ns_per_op=%lf ops=%zu %*s peak_kib=%ld frag_pm=%d",
		   &r->ns, &r->ops, &r->peak_kib, &r->frag_pm) != 4) {
		fprintf(stderr, "bench_host: %s %s failed (status %#x): %s\n",
			allocs[ai].name, wl_name(k), status, buf);
		return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct summary {
	double median, min, max;
	long peak_kib;
	int frag_pm;
	size_t ops;
};

static void summarize(const struct result *r, unsigned reps, struct summary *s)
{
	double v[MAX_REPS];
	unsigned i;

	s->peak_kib = 0;
	for (i = 0; i < reps; i++) {
		v[i] = r[i].ns;
		if (r[i].peak_kib > s->peak_kib)
			s->peak_kib = r[i].peak_kib;
	}
	qsort(v, reps, sizeof(v[0]), cmp_double);
	s->median = reps % 2 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
	s->min = v[0];
	s->max = v[reps - 1];
	s->frag_pm = r[0].frag_pm;
	s->ops = r[0].ops;
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

static void print_table(FILE *f, int k, struct summary *s, const struct config *cfg)
{
	int g = find_alloc("glibc"), m = find_alloc("mimalloc");
	double glibc = cfg->want_alloc[g] ? s[g].median : 0;
	double mi = cfg->want_alloc[m] ? s[m].median : 0;

	out(f, "\n%s (%zu ops per replay, seed %#llx)\n", wl_name(k), s[0].ops ?
	    s[0].ops : s[g].ops, (unsigned long long)(cfg->seed + k));
	out(f, "  %-9s %9s %19s %7s %7s %10s %6s\n", "allocator", "ns/op",
	    "(min..max)", "/glibc", "/mimal", "peak KiB", "frag");
	for (size_t a = 0; a < NR_ALLOCS; a++) {
		char range[32], frag[16] = "-";

		if (!cfg->want_alloc[a])
			continue;
		snprintf(range, sizeof(range), "(%.1f..%.1f)", s[a].min, s[a].max);
		if (s[a].frag_pm >= 0)
			snprintf(frag, sizeof(frag), "%d.%d%%", s[a].frag_pm / 10,
				 s[a].frag_pm % 10);
		out(f, "  %-9s %9.2f %19s %7.2f %7.2f %10ld %6s\n", allocs[a].name,
		    s[a].median, range, glibc ? s[a].median / glibc : 0,
		    mi ? s[a].median / mi : 0, s[a].peak_kib, frag);
	}
}

static void print_machine(FILE *f, int k, const struct summary *s,
			  const struct config *cfg)
{
	int g = find_alloc("glibc");
	double glibc = cfg->want_alloc[g] ? s[g].median : 0;

	for (size_t a = 0; a < NR_ALLOCS; a++)
		if (cfg->want_alloc[a])
			out(f, "bench-host %s %s ns_per_op=%.2f ratio_glibc=%.3f "
			    "peak_kib=%ld reps=%u ops=%zu\n", wl_name(k),
			    allocs[a].name, s[a].median,
			    glibc ? s[a].median / glibc : 0, s[a].peak_kib,
			    cfg->reps, s[a].ops);
}

/* results[k][a][rep] */
static struct result results[WL_NR][NR_ALLOCS][MAX_REPS];

/* Every (rep, workload, allocator) run, reps outermost, the allocator
 * order rotated by one each rep. Returns the runs that failed. */
static int run_all(const char *self, const struct config *cfg)
{
	int failed = 0;

	for (unsigned rep = 0; rep < cfg->reps; rep++) {
		fprintf(stderr, "bench_host: rep %u/%u\n", rep + 1, cfg->reps);
		for (int k = 0; k < WL_NR; k++) {
			for (size_t i = 0; i < NR_ALLOCS; i++) {
				size_t a = (i + rep) % NR_ALLOCS;

				if (!cfg->want_wl[k] || !cfg->want_alloc[a])
					continue;
				if (spawn_run(self, (int)a, k, cfg,
					      &results[k][a][rep]))
					failed++;
			}
		}
	}
	return failed;
}

static void report(const struct config *cfg)
{
	FILE *f = NULL;
	struct summary s[WL_NR][NR_ALLOCS];

	if (cfg->out && !(f = fopen(cfg->out, "w")))
		die(cfg->out);
	out(f, "bench-host: seed=%#llx+workload ops=%zu min_ops_timed=%zu reps=%u "
	    "arena=%lu MiB\n", (unsigned long long)cfg->seed, cfg->ops,
	    cfg->min_ops, cfg->reps, ARENA_BYTES >> 20);
	out(f, "ns/op: median over reps of (timed replay time / ops); peak: "
	    "most resident KiB above the start of the warm-up replay; frag: "
	    "Tally's mm_stats frag at the measured live set\n");
	memset(s, 0, sizeof(s));
	for (int k = 0; k < WL_NR; k++) {
		if (!cfg->want_wl[k])
			continue;
		for (size_t a = 0; a < NR_ALLOCS; a++)
			if (cfg->want_alloc[a])
				summarize(results[k][a], cfg->reps, &s[k][a]);
		print_table(f, k, s[k], cfg);
	}
	out(f, "\n");
	for (int k = 0; k < WL_NR; k++)
		if (cfg->want_wl[k])
			print_machine(f, k, s[k], cfg);
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

static const char *alloc_name(int i)
{
	return allocs[i].name;
}

static const char *workload_name(int i)
{
	return wl_name(i);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_host [--tiny] [--ops N] [--reps N] [--seed N] [--out FILE]\n"
		"                  [--workloads small,mixed,large,frag]\n"
		"                  [--allocs twotier,simple,hybrid,glibc,jemalloc,mimalloc]\n");
	exit(2);
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	const char *wl = NULL, *al = NULL;

	cfg->ops = DEFAULT_OPS;
	cfg->reps = DEFAULT_REPS;
	cfg->seed = DEFAULT_SEED;
	cfg->out = NULL;
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
		else
			usage();
	}
	if (!cfg->ops || !cfg->reps || cfg->reps > MAX_REPS ||
	    parse_list(wl, cfg->want_wl, WL_NR, workload_name) ||
	    parse_list(al, cfg->want_alloc, NR_ALLOCS, alloc_name))
		usage();
	cfg->min_ops = cfg->ops;
}

int main(int argc, char **argv)
{
	struct config cfg;
	char self[4096];
	ssize_t n;
	int failed;

	if (argc == 7 && !strcmp(argv[1], "--child"))
		return run_child(argv[2], argv[3], strtoul(argv[4], NULL, 0),
				 strtoull(argv[5], NULL, 0),
				 strtoul(argv[6], NULL, 0));
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
