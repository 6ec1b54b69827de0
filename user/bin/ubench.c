/* ubench - the kernel's `bench` workloads in user space: the same traces
 * (src/lib/workload.c, the same seeds as src/shell/cmd_bench.c) replayed
 * against this process's malloc and free, which TALLY_MODE picks
 * (tally/malloc.h: simple, twotier, hybrid or picolibc).
 *
 *   ubench WORKLOAD [ops]       small, mixed, large or frag; default
 *                               100000 ops (allocations and frees)
 *
 * Prints one line,
 *   ubench WORKLOAD MODE ops=N instr_per_op=X warm_instr_per_op=W
 *          ticks_per_op=Y failures=F setup_instr=S arena_kib=A
 * instr_per_op: instructions retired (rdinstret, readable from U-mode:
 * the kernel sets scounteren) per operation of the trace's first replay,
 * net of the replay loop's own cost (the trace replayed once against no
 * allocator first). Exact and repeatable only under QEMU's -icount
 * shift=0 and -smp 1 (instret is one counter for the machine there); it
 * counts what the allocator costs the process: its own instructions, the
 * page faults its first touches of fresh memory take (zero-fill in the
 * kernel), the brk or mmap calls, and the few timer interrupts that land
 * meanwhile. warm_instr_per_op: a second replay of the same trace in the
 * same process, its memory already faulted in (nearer what the kernel's
 * `bench` measures). The allocator is set up (arena mapped, caches made)
 * before the timing starts. ticks_per_op: the time CSR, for the first
 * replay. failures: allocations that returned NULL, both replays.
 * setup_instr: the process's first malloc, which sets the allocator up
 * (Tally's modes: maps the arena and builds the mm stack in it;
 * picolibc: its first sbrk), counted apart. arena_kib: the arena
 * (tally/malloc.h; 0 under picolibc).
 * Exit status 0, 1 when an allocation failed, 2 for bad arguments or no
 * memory for the trace. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/workload.h"
#include "tally/malloc.h"

static void *slot[WL_MAX_SLOTS];
static volatile int no_alloc;   /* replay against nothing: the loop's cost */

static inline uint64_t instret(void)
{
	uint64_t n;

	__asm__ volatile("rdinstret %0" : "=r"(n) : : "memory");
	return n;
}

static inline uint64_t ticks(void)
{
	uint64_t t;

	__asm__ volatile("rdtime %0" : "=r"(t) : : "memory");
	return t;
}

/* Replay the whole trace; returns the allocations that failed. */
static unsigned long replay(const struct wl_trace *t)
{
	unsigned long fail = 0;

	for (size_t i = 0; i < t->n; i++) {
		uint32_t op = t->ops[i], s = WL_SLOT(op);

		if (op & WL_FREE) {
			if (!no_alloc)
				free(slot[s]);
		} else {
			slot[s] = no_alloc ? &slot[s] : malloc(WL_SIZE(op));
			fail += slot[s] == NULL;
		}
	}
	return fail;
}

/* instr, ticks of one replay */
static void measure(const struct wl_trace *t, uint64_t *instr, uint64_t *tk, unsigned long *fail)
{
	uint64_t i0 = instret(), t0 = ticks();

	*fail = replay(t);
	*instr = instret() - i0;
	*tk = ticks() - t0;
}

static void fixed1(char *buf, size_t n, uint64_t x10)
{
	snprintf(buf, n, "%lu.%lu", (unsigned long)(x10 / 10), (unsigned long)(x10 % 10));
}

int main(int argc, char **argv)
{
	int k = argc > 1 ? wl_parse(argv[1]) : -1;
	unsigned long ops = argc > 2 ? strtoul(argv[2], NULL, 0) : 100000, fail, loop_fail;
	unsigned long warm_fail;
	uint64_t loop_i, loop_t, instr, tk, warm, warm_t, setup;
	struct wl_trace t = { 0 };
	char ipo[32], wpo[32], tpo[32];
	size_t need;

	if (k < 0 || argc > 3 || ops == 0) {
		fprintf(stderr, "usage: ubench small|mixed|large|frag [ops]\n");
		return 2;
	}
	need = wl_ops_needed((enum wl_kind)k, ops);
	t.ops = mmap(NULL, need * sizeof(uint32_t), PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t.ops == MAP_FAILED) {
		fprintf(stderr, "ubench: no memory for the trace (%zu ops)\n", need);
		return 2;
	}
	t.cap = need;
	if (wl_generate((enum wl_kind)k, ops, 0x7a11 + (uint64_t)k, &t) != 0) {
		fprintf(stderr, "ubench: %s: %s\n", argv[1], wl_why((enum wl_kind)k));
		return 2;
	}
	setup = instret();
	slot[0] = malloc(1);   /* the allocator set up outside the replays (through */
	setup = instret() - setup;
	free(slot[0]);         /* slot[]: a free(malloc(1)) the compiler would drop) */
	slot[0] = NULL;
	no_alloc = 1;
	measure(&t, &loop_i, &loop_t, &loop_fail);
	no_alloc = 0;
	measure(&t, &instr, &tk, &fail);
	measure(&t, &warm, &warm_t, &warm_fail);
	fail += warm_fail;
	instr = instr > loop_i ? instr - loop_i : 0;
	warm = warm > loop_i ? warm - loop_i : 0;
	tk = tk > loop_t ? tk - loop_t : 0;
	fixed1(ipo, sizeof(ipo), instr * 10 / t.n);
	fixed1(wpo, sizeof(wpo), warm * 10 / t.n);
	fixed1(tpo, sizeof(tpo), tk * 10 / t.n);
	printf("ubench %s %s ops=%zu instr_per_op=%s warm_instr_per_op=%s ticks_per_op=%s "
	       "failures=%lu setup_instr=%lu arena_kib=%zu\n", wl_name((enum wl_kind)k),
	       tally_malloc_mode(), t.n, ipo, wpo, tpo, fail, (unsigned long)setup,
	       tally_malloc_arena() / 1024);
	return fail ? 1 : 0;
}
