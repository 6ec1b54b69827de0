/* cmd_stress.c - `mmstress` and `txn`: the allocator under load and under
 * pressure, each ending with one summary line scripts can parse (`fsstress`
 * is in cmd_fsstress.c). Ctrl-C stops mmstress between operations. */
#include "lib/pattern.h"
#include "lib/xorshift.h"
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "mm/shrinker.h"
#include "mm/stats.h"
#include "mm/txn.h"
#include "kerrno.h"

#define STRESS_SLOTS 512

struct sblk {
	unsigned char *p;
	uint32_t size, id;
};

static struct sblk blocks[STRESS_SLOTS];
static uint64_t rng;

static uint64_t rnd(void)
{
	return xorshift64(&rng);
}

static void pattern(struct sblk *b)
{
	pattern_fill(b->p, b->size, b->id);
}

static int corrupt(const struct sblk *b)
{
	return !pattern_intact(b->p, b->size, b->id);
}

static uint32_t stress_size(void)
{
	return rnd() % 100 < 80 ? 1 + (uint32_t)(rnd() % 512) : 1 + (uint32_t)(rnd() % 16384);
}

struct stress {
	unsigned long ops, failures, corrupt;
	uint32_t next_id;
};

/* A transaction of up to 4 allocations that commits or aborts at random;
 * committed blocks join the live set. */
static void stress_txn(struct stress *s, int *n)
{
	struct mm_txn t;
	struct sblk got[4];
	int k = 0, want = 1 + (int)(rnd() % 4);

	mm_txn_begin(&t);
	for (; k < want && *n + k < STRESS_SLOTS; k++) {
		got[k] = (struct sblk){ NULL, stress_size(), s->next_id++ };
		if (mm_txn_alloc(&t, got[k].size, 0, 0, (void **)&got[k].p)) {
			s->failures++;
			break;
		}
	}
	if (k < want || rnd() % 4 == 0) {
		mm_txn_abort(&t);
		return;
	}
	mm_txn_commit(&t);
	for (int i = 0; i < k; i++) {
		pattern(&got[i]);
		blocks[(*n)++] = got[i];
	}
}

static void stress_step(struct stress *s, int *n)
{
	unsigned r = (unsigned)(rnd() % 100);

	if (*n < STRESS_SLOTS && (*n == 0 || r < 45)) {
		struct sblk b = { NULL, stress_size(), s->next_id++ };

		if (kmem_try_alloc(b.size, 0, 0, (void **)&b.p)) {
			s->failures++;
			return;
		}
		pattern(&b);
		blocks[(*n)++] = b;
	} else if (r < 60 && *n) {
		struct sblk *b = &blocks[rnd() % (uint64_t)*n];
		uint32_t size = stress_size();
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
	} else if (r < 70) {
		stress_txn(s, n);
	} else if (*n) {
		int i = (int)(rnd() % (uint64_t)*n);

		s->corrupt += corrupt(&blocks[i]);
		kfree(blocks[i].p);
		blocks[i] = blocks[--*n];
	}
}

static int cmd_mmstress(int argc, char **argv)
{
	uint64_t ops = 20000, seed = 1;
	struct stress s = { 0 };
	uint64_t before, after;
	int n = 0, pass;

	if (argc > 3 || (argc > 1 && sh_parse_u64(argv[1], &ops)) ||
	    (argc > 2 && sh_parse_u64(argv[2], &seed)))
		return SH_USAGE;
	if (ops == 0)
		return sh_bad_number("mmstress", argv[1], "at least 1 op");
	mm_shrink(~0ul);   /* shrinkers' caches drained first: a shrinker run is not a leak */
	before = kmalloc_bytes_in_use();
	rng = seed ? seed : 1;
	kprintf("mmstress: mode %s, %lu ops, seed %lu\n", mm_mode_name(), (unsigned long)ops,
		(unsigned long)seed);
	for (s.ops = 0; s.ops < ops && !console_interrupted(); s.ops++)
		stress_step(&s, &n);
	while (n) {
		s.corrupt += corrupt(&blocks[--n]);
		kfree(blocks[n].p);
	}
	mm_shrink(~0ul);
	after = kmalloc_bytes_in_use();
	pass = s.corrupt == 0 && after == before && mm_check() == 0;
	kprintf("mmstress: ops=%lu failures=%lu corrupt=%lu leaked_bytes=%ld result=%s\n", s.ops,
		s.failures, s.corrupt, (long)(after - before),
		s.ops < ops ? "INTERRUPTED" : pass ? "PASS" : "FAIL");
	return s.ops < ops ? SH_INTERRUPTED : pass ? 0 : -1;
}
SH_COMMAND("mmstress", "[ops] [seed]",
	   "random kmalloc/krealloc/kfree/transactions with pattern checks", cmd_mmstress);

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
