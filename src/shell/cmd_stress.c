/* cmd_stress.c - `mmstress` and `txn`: the allocator under load and under
 * pressure, each ending with one summary line scripts can parse (`fsstress`
 * is in cmd_fsstress.c; mmstress's background form, on harts other than
 * the shell's, in stress_bg.c). Ctrl-C stops mmstress between operations. */
#include "lib/pattern.h"
#include "lib/xorshift.h"
#include <stdbool.h>
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "mm/shrinker.h"
#include "mm/stats.h"
#include "mm/txn.h"
#include "kerrno.h"
#include "stress_internal.h"

#define HANDOFF_SLOTS 64

struct stress stress_runs[HART_MAX];

/* Blocks one hart hands to another: the taker checks the pattern and
 * frees it (a cross-hart free). */
static struct {
	struct spinlock lock;
	struct sblk b[HANDOFF_SLOTS];
	const struct stress *from[HANDOFF_SLOTS];   /* the run that handed it */
	int n;
} handoff = { .lock = SPINLOCK_INIT("mmstress handoff") };

static uint64_t rnd(struct stress *s)
{
	return xorshift64(&s->rng);
}

static void pattern(struct sblk *b)
{
	pattern_fill(b->p, b->size, b->id);
}

static int corrupt(const struct sblk *b)
{
	return !pattern_intact(b->p, b->size, b->id);
}

static uint32_t stress_size(struct stress *s)
{
	return rnd(s) % 100 < 80 ? 1 + (uint32_t)(rnd(s) % 512) : 1 + (uint32_t)(rnd(s) % 16384);
}

/* A transaction of up to 4 allocations that commits or aborts at random;
 * committed blocks join the live set. */
static void stress_txn(struct stress *s)
{
	struct mm_txn t;
	struct sblk got[4];
	int k = 0, want = 1 + (int)(rnd(s) % 4);

	mm_txn_begin(&t);
	for (; k < want && s->n + k < STRESS_SLOTS; k++) {
		got[k] = (struct sblk){ NULL, stress_size(s), s->next_id++ };
		if (mm_txn_alloc(&t, got[k].size, 0, 0, (void **)&got[k].p)) {
			s->failures++;
			break;
		}
	}
	if (k < want || rnd(s) % 4 == 0) {
		mm_txn_abort(&t);
		return;
	}
	mm_txn_commit(&t);
	for (int i = 0; i < k; i++) {
		pattern(&got[i]);
		s->blocks[s->n++] = got[i];
	}
}

/* Hand block i to another hart, or take one handed over and free it
 * (counted in s->cross when another run handed it). */
static void stress_handoff(struct stress *s, int i)
{
	unsigned long f = spin_lock_irqsave(&handoff.lock);
	struct sblk b = { NULL, 0, 0 };
	const struct stress *from = NULL;

	if (i >= 0 && handoff.n < HANDOFF_SLOTS) {
		handoff.from[handoff.n] = s;
		handoff.b[handoff.n++] = s->blocks[i];
		s->blocks[i] = s->blocks[--s->n];
	} else if (i < 0 && handoff.n) {
		from = handoff.from[--handoff.n];
		b = handoff.b[handoff.n];
	}
	spin_unlock_irqrestore(&handoff.lock, f);
	if (b.p) {
		s->corrupt += corrupt(&b);
		kfree(b.p);
		s->cross += from != s;
	}
}

static void stress_alloc(struct stress *s)
{
	struct sblk b = { NULL, stress_size(s), s->next_id++ };

	if (kmem_try_alloc(b.size, 0, 0, (void **)&b.p)) {
		s->failures++;
		return;
	}
	pattern(&b);
	s->blocks[s->n++] = b;
}

static void stress_realloc(struct stress *s)
{
	struct sblk *b = &s->blocks[rnd(s) % (uint64_t)s->n];
	uint32_t size = stress_size(s);
	unsigned char *q;

	s->corrupt += corrupt(b);
	q = krealloc(b->p, size, 0);
	if (!q) {
		s->failures++;
		return;
	}
	b->p = q;
	b->size = size;
	pattern(b);
}

static void stress_step(struct stress *s, bool shared)
{
	unsigned r = (unsigned)(rnd(s) % 100);

	if (s->n < STRESS_SLOTS && (s->n == 0 || r < 45)) {
		stress_alloc(s);
	} else if (r < 60 && s->n) {
		stress_realloc(s);
	} else if (r < 70) {
		stress_txn(s);
	} else if (shared && r < 80) {
		stress_handoff(s, r < 75 && s->n ? (int)(rnd(s) % (uint64_t)s->n) : -1);
	} else if (s->n) {
		int i = (int)(rnd(s) % (uint64_t)s->n);

		s->corrupt += corrupt(&s->blocks[i]);
		kfree(s->blocks[i].p);
		s->blocks[i] = s->blocks[--s->n];
	}
}

/* Before each op: a foreground run stops on Ctrl-C, a background one when
 * hart 0 tells it to (and parks when asked). */
static bool stress_go_on(struct stress *s)
{
	return s->bg ? stress_bg_go_on(s) : !console_interrupted();
}

void stress_let_go(struct stress *s)
{
	while (s->n) {
		s->corrupt += corrupt(&s->blocks[--s->n]);
		kfree(s->blocks[s->n].p);
	}
}

void stress_run(void *arg)
{
	struct stress *s = arg;
	uint64_t done = 0;

	for (; done < s->want && stress_go_on(s); done++) {
		stress_step(s, s->shared);
		__atomic_store_n(&s->ops, done + 1, __ATOMIC_RELAXED);   /* `mmstress status` */
	}
	stress_let_go(s);
}

void stress_drain(struct stress *s)
{
	while (handoff.n)
		stress_handoff(s, -1);
}

void stress_init(struct stress *s, unsigned i, uint64_t ops, uint64_t seed, bool shared)
{
	*s = (struct stress){ .rng = (seed ? seed : 1) + i * 0x9e3779b97f4a7c15ull,
			      .want = ops, .shared = shared };
	s->rng = s->rng ? s->rng : 1;
}

/* mmstress's arguments: [ops] [seed] [harts=N] [bg], in any order but ops
 * before seed; *harts_arg is the harts=N word (NULL when not given), whose
 * range the caller checks. */
static int stress_args(int argc, char **argv, uint64_t *ops, uint64_t *seed, uint64_t *harts,
		       const char **harts_arg, bool *bg)
{
	int pos = 0;

	*harts_arg = sh_take_kv(&argc, argv, "harts");
	if (*harts_arg && sh_parse_u64(sh_kv(*harts_arg, "harts"), harts))
		return SH_USAGE;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "bg") && !*bg) {
			*bg = true;
		} else if (pos > 1 || sh_parse_u64(argv[i], pos ? seed : ops)) {
			return SH_USAGE;
		} else if (pos++ == 0 && *ops == 0) {
			return sh_bad_number("mmstress", argv[i], "at least 1 op");
		}
	}
	return 0;
}

/* Run i on the i-th online hart, all at once (hart 0, the shell's, runs
 * runs[0]); when a hart would not take its run, none runs. */
static int stress_start(unsigned harts, uint64_t ops, uint64_t seed)
{
	void *args[HART_MAX];
	int rc;

	for (unsigned i = 0; i < harts; i++) {
		stress_init(&stress_runs[i], i, ops, seed, harts > 1);
		args[i] = &stress_runs[i];
	}
	rc = smp_run_together(harts, stress_run, args);
	if (rc)
		kprintf("mmstress: the harts would not take the work (%d)\n", rc);
	return rc;
}

int stress_summary(unsigned first, unsigned n, uint64_t ops, bool per_hart, int64_t leaked,
		   bool checked)
{
	unsigned long failures = 0, corrupt = 0, cross = 0;
	uint64_t done = 0;
	bool pass, whole;

	if (per_hart)
		kprintf("mmstress: harts=%u ops_per_hart=", n);
	for (unsigned i = first; i < first + n; i++) {
		const struct stress *s = &stress_runs[i];

		if (per_hart)
			kprintf("%s%lu", i > first ? "/" : "", (unsigned long)s->ops);
		done += s->ops;
		failures += s->failures;
		corrupt += s->corrupt;
		cross += s->cross;
	}
	if (per_hart)
		kprintf(" cross_hart_frees=%lu\n", cross);
	pass = corrupt == 0 && leaked == 0 && checked;
	whole = done == ops * n;
	kprintf("mmstress: ops=%lu failures=%lu corrupt=%lu leaked_bytes=%ld result=%s\n",
		(unsigned long)done, failures, corrupt, (long)leaked,
		!pass ? "FAIL" : whole ? "PASS" : "INTERRUPTED");
	return !pass ? -1 : whole ? 0 : SH_INTERRUPTED;
}

static int cmd_mmstress(int argc, char **argv)
{
	uint64_t ops = 20000, seed = 1, harts = 1, before, after;
	const char *harts_arg = NULL;
	bool bg = false;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "wait") || !strcmp(argv[1], "stop") ||
			  !strcmp(argv[1], "status")))
		return stress_bg_command(argv[1]);
	if ((rc = stress_args(argc, argv, &ops, &seed, &harts, &harts_arg, &bg)))
		return rc;
	if (bg)
		return stress_bg_start(ops, seed, harts, harts_arg);
	if (harts == 0 || harts > smp_online(NULL))
		return sh_bad_number("mmstress", harts_arg, "not a count of online harts");
	if (sh_bg_stress_refuse("mmstress", "it would need the same harts, and its leak "
				"check compares all of kmalloc before and after"))
		return -1;
	mm_shrink(~0ul);   /* shrinkers' caches drained first: a shrinker run is not a leak */
	before = kmalloc_bytes_in_use();
	kprintf("mmstress: mode %s, %lu ops, seed %lu\n", mm_mode_name(), (unsigned long)ops,
		(unsigned long)seed);
	if (stress_start((unsigned)harts, ops, seed)) {
		stress_drain(&stress_runs[0]);
		return -1;
	}
	stress_drain(&stress_runs[0]);
	mm_shrink(~0ul);
	after = kmalloc_bytes_in_use();
	return stress_summary(0, (unsigned)harts, ops, harts > 1, (int64_t)(after - before),
			      mm_check() == 0);
}
SH_COMMAND("mmstress", "[ops] [seed] [harts=N] [bg] | wait | stop | status",
	   "random kmalloc/krealloc/kfree/transactions with pattern checks, on N harts "
	   "at once handing blocks to each other (bg: on harts 1..N, the shell going on)",
	   cmd_mmstress);

/* `txn N K`: a transaction of N allocations whose K-th fails (fault
 * injection on every allocator for that one request, so no fallback can
 * save it); the stats before and after show the abort left nothing. */
static void txn_show(const char *when)
{
	struct mm_stats s;

	mm_stats_get(&s);
	kprintf("%s: free=%lu KiB in_use=%lu bytes allocs=%lu frees=%lu\n", when,
		(unsigned long)(s.free_bytes >> 10), (unsigned long)kmalloc_bytes_in_use(), s.allocs, s.frees);
}

static int cmd_txn(int argc, char **argv)
{
	uint64_t n = 8, k = 5;
	struct faultinj_config fi = { .probability = 100, .interval = 1, .times = -1,
				      .scope = FI_ALL, .seed = 1 };
	struct mm_txn t;
	void *p;
	uint64_t i;
	int rc = 0;

	struct faultinj_stats fs;

	if (argc > 3 || (argc > 1 && sh_parse_u64(argv[1], &n)) ||
	    (argc > 2 && sh_parse_u64(argv[2], &k)))
		return SH_USAGE;
	if (n == 0 || n > 10000)
		return sh_bad_number("txn", argv[1], "N is 1 to 10000 allocations");
	if (k > n)
		return sh_bad_number("txn", argv[2], "K is a step of the N (0: none fails)");
	if (sh_bg_stress_refuse("txn", "its before and after figures are the whole mm's, and "
				"the failure it injects would hit another hart's allocation"))
		return -1;
	faultinj_get(NULL, &fs);
	if (fs.enabled) {
		kprintf("txn: fault injection is on; `faultinj off` first\n");
		return -1;
	}
	mm_shrink(~0ul);   /* nothing may be reclaimed between the two samples */
	txn_show("before");
	mm_txn_begin(&t);
	for (i = 1; i <= n && !rc; i++) {
		if (i == k)
			faultinj_set(&fi);
		rc = mm_txn_alloc(&t, 64 + 64 * (size_t)(i % 8), 0, 0, &p);
		faultinj_off();
	}
	if (rc) {
		kprintf("txn: allocation %lu of %lu failed (%d): abort\n", (unsigned long)(i - 1),
			(unsigned long)n, rc);
		mm_txn_abort(&t);
	} else {
		kprintf("txn: %lu allocations made: abort all the same\n", (unsigned long)n);
		mm_txn_abort(&t);
	}
	txn_show("after");
	return 0;
}
SH_COMMAND("txn", "[N] [K]", "a transaction of N allocations failing at step K, rolled back",
	   cmd_txn);
