/* cmd_bench.c - `bench [workload|all] [mode,...|all] [ops] [harts=N]`: the
 * live comparison.
 * Runs the same generated trace (include/lib/workload.h) in each mode, one
 * after another in the same boot, and reports per operation (an allocation
 * or a free) the instructions retired (rdinstret: exact under QEMU's
 * -icount shift=0) and timer ticks (rdtime), net of the replay loop's own
 * cost (measured by replaying the trace against a no-op allocator).
 * At the trace's measuring point (`keep`) it records fragmentation (the
 * mode's measure, see mm/stats.h) and the overhead per live object:
 * (pages the allocators hold - bytes the live objects asked for) / live
 * objects. peak_kib is the most memory taken from the buddy allocator,
 * sampled every BENCH_CHUNK operations outside the timed regions.
 * Ctrl-C stops it between chunks: the live blocks are freed, the modes
 * that finished are reported. With harts=N, one workload in one mode runs
 * on N harts at once instead (bench_harts.c). */
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "bench_internal.h"
#include "kernel/console.h"
#include "kernel/smp.h"
#include "lib/bitops.h"
#include "lib/printf.h"
#include "lib/workload.h"
#include "mm/shrinker.h"
#include "mm/stats.h"
#include "arch/riscv.h"
#include "kerrno.h"

#define BENCH_CHUNK 1024
#define BENCH_OPS   100000
/* The trace is one buddy block: 4 bytes per operation, at most MAX_ORDER. */
#define BENCH_MAX_OPS ((PAGE_SIZE << MAX_ORDER) / sizeof(uint32_t))

struct bench_result {
	uint64_t ops;
	uint64_t instr, ticks;       /* net of the loop, whole trace */
	unsigned long peak_pages, failures;
	unsigned frag_pm;
	uint64_t overhead_x10;       /* bytes per live object, x10 */
	int done;
};

static void *slot[WL_MAX_SLOTS];
static uint16_t slot_size[WL_MAX_SLOTS];
static struct bench_result results[WL_NR][MM_MODE_NR];
static struct wl_trace trace;
static struct page *trace_pages;

static int no_alloc;   /* replay against nothing: measures the loop */

/* Replay ops [from, to); returns allocation failures. */
static unsigned long replay(size_t from, size_t to)
{
	unsigned long fail = 0;

	for (size_t i = from; i < to; i++) {
		uint32_t op = trace.ops[i], s = WL_SLOT(op);

		if (op & WL_FREE) {
			if (!no_alloc)
				kfree(slot[s]);
		} else {
			slot[s] = no_alloc ? &slot[s] : kmalloc(WL_SIZE(op), 0);
			slot_size[s] = (uint16_t)WL_SIZE(op);
			fail += slot[s] == NULL;
		}
	}
	return fail;
}

/* Overhead per live object at the measuring point, x10. */
static uint64_t overhead_x10(unsigned long free_before)
{
	uint64_t live = 0, asked = 0, held;

	for (uint32_t s = 0; s < trace.slots; s++)
		if (slot[s]) {
			live++;
			asked += slot_size[s];
		}
	held = free_before > buddy_free_pages() ?
	       (uint64_t)(free_before - buddy_free_pages()) * PAGE_SIZE : 0;
	return live && held > asked ? (held - asked) * 10 / live : 0;
}

/* Free what the replay of ops [0, done) left live: a slot is live when
 * the last op on it was an allocation. */
static void release_live(size_t done)
{
	static uint32_t seen[WL_MAX_SLOTS / 32];

	memset(seen, 0, sizeof(seen));
	for (size_t i = done; i-- > 0;) {
		uint32_t op = trace.ops[i], s = WL_SLOT(op);

		if (seen[s / 32] & (1u << (s % 32)))
			continue;
		seen[s / 32] |= 1u << (s % 32);
		if (!(op & WL_FREE))
			kfree(slot[s]);
	}
}

/* Outside the timed regions: the peak, and the live set's figures at
 * the measuring point. */
static void sample(struct bench_result *r, unsigned long free_before, size_t to)
{
	unsigned long used = free_before > buddy_free_pages() ? free_before - buddy_free_pages() : 0;
	struct mm_stats st;

	if (used > r->peak_pages)
		r->peak_pages = used;
	if (to == trace.keep && !no_alloc) {
		mm_stats_get(&st);
		r->frag_pm = st.frag_pm;
		r->overhead_x10 = overhead_x10(free_before);
	}
}

/* Replay the whole trace in `mode`; 0, or -EINTR after a Ctrl-C (what
 * was live is freed). */
static int run_one(struct bench_result *r, int mode)
{
	unsigned long free_before;

	memset(slot, 0, sizeof(slot));
	mm_set_mode(mode);
	kmalloc_shrink();
	free_before = buddy_free_pages();
	memset(r, 0, sizeof(*r));
	for (size_t at = 0; at < trace.n;) {
		size_t to = at + BENCH_CHUNK < trace.n ? at + BENCH_CHUNK : trace.n;
		uint64_t i0, t0;

		if (console_interrupted()) {
			if (!no_alloc)
				release_live(at);
			kmalloc_shrink();
			return -EINTR;
		}
		if (at < trace.keep && to > trace.keep)
			to = trace.keep;
		i0 = rdinstret();
		t0 = rdtime();
		r->failures += replay(at, to);
		r->instr += rdinstret() - i0;
		r->ticks += rdtime() - t0;
		sample(r, free_before, to);
		at = to;
	}
	kmalloc_shrink();
	r->ops = trace.n;
	r->done = 1;
	return 0;
}

static void drop_trace(void)
{
	if (trace_pages)
		free_pages(trace_pages, trace_pages->order);
	trace_pages = NULL;
}

const struct wl_trace *bench_trace(void)
{
	return &trace;
}

static int make_trace(enum wl_kind k, size_t ops)
{
	size_t need = wl_ops_needed(k, ops) * sizeof(uint32_t);
	unsigned order = 0;

	while (order <= MAX_ORDER && (PAGE_SIZE << order) < need)
		order++;
	drop_trace();
	trace_pages = order <= MAX_ORDER ? alloc_pages(GFP_NOINJECT, order) : NULL;
	if (!trace_pages)
		return -1;
	trace = (struct wl_trace){ .ops = page_address(trace_pages), .cap = need / sizeof(uint32_t) };
	return wl_generate(k, ops, 0x7a11 + (uint64_t)k, &trace);
}

void bench_fixed1(uint64_t x10, int width)
{
	char buf[24];

	ksnprintf(buf, sizeof(buf), "%lu.%lu", (unsigned long)(x10 / 10), (unsigned long)(x10 % 10));
	kprintf("%*s", width, buf);
}

static void print_line(enum wl_kind k, int mode, const struct bench_result *r)
{
	kprintf("bench %s %s ops=%lu instr_per_op=", wl_name(k), mm_mode_str(mode),
		(unsigned long)r->ops);
	bench_fixed1(r->instr * 10 / r->ops, 0);
	kprintf(" ticks_per_op=");
	bench_fixed1(r->ticks * 10 / r->ops, 0);
	kprintf(" peak_kib=%lu frag_pct=", r->peak_pages * 4);
	bench_fixed1(r->frag_pm, 0);
	kprintf(" failures=%lu overhead_per_obj=", r->failures);
	bench_fixed1(r->overhead_x10, 0);
	kprintf("\n");
}

static void print_table(unsigned kinds, unsigned modes)
{
	int header = 0;

	for (int k = 0; k < WL_NR; k++)
		for (int m = 0; m < MM_MODE_NR; m++) {
			const struct bench_result *r = &results[k][m];

			if (!(kinds & (1u << k)) || !(modes & (1u << m)) || !r->done)
				continue;
			if (!header++)
				kprintf("\n%-6s %-8s %10s %9s %9s %6s %9s %8s\n", "work", "mode",
					"instr/op", "ticks/op", "peak KiB", "frag%", "ovh B/obj",
					"failures");
			kprintf("%-6s %-8s ", wl_name(k), mm_mode_str(m));
			bench_fixed1(r->instr * 10 / r->ops, 10);
			kputc(' ');
			bench_fixed1(r->ticks * 10 / r->ops, 9);
			kprintf(" %9lu ", r->peak_pages * 4);
			bench_fixed1(r->frag_pm, 6);
			kputc(' ');
			bench_fixed1(r->overhead_x10, 9);
			kprintf(" %8lu\n", r->failures);
		}
}

/* "all" or one name -> bit mask; 0 when unknown. */
static unsigned parse_kinds(const char *a)
{
	int k;

	if (!strcmp(a, "all"))
		return (1u << WL_NR) - 1;
	k = wl_parse(a);
	return k < 0 ? 0 : 1u << k;
}

static unsigned parse_modes(char *a)
{
	unsigned mask = 0;

	if (!strcmp(a, "all"))
		return (1u << MM_MODE_NR) - 1;
	for (char *p = a; p && *p;) {
		char *comma = strchr(p, ',');
		int m;

		if (comma)
			*comma = 0;
		m = mm_mode_parse(p);
		if (m < 0)
			return 0;
		mask |= 1u << m;
		p = comma ? comma + 1 : NULL;
	}
	return mask;
}

int bench_prepare(enum wl_kind k, uint64_t ops)
{
	if (wl_ops_needed(k, ops) > ops)
		kprintf("bench: %s runs %lu ops, not %lu: %s\n", wl_name(k),
			(unsigned long)wl_ops_needed(k, ops), (unsigned long)ops, wl_why(k));
	if (make_trace(k, ops)) {
		kprintf("bench: no memory for the %s trace\n", wl_name(k));
		return -ENOMEM;
	}
	return 0;
}

/* Run workload k in each mode of the mask, printing a line per mode.
 * 0, -ENOMEM (no room for the trace) or -EINTR. */
static int bench_kind(enum wl_kind k, unsigned modes, uint64_t ops, int old)
{
	struct bench_result base;

	if (bench_prepare(k, ops))
		return -ENOMEM;
	no_alloc = 1;
	if (run_one(&base, old))
		return -EINTR;
	no_alloc = 0;
	for (int m = 0; m < MM_MODE_NR; m++) {
		struct bench_result *r = &results[k][m];

		if (!(modes & (1u << m)))
			continue;
		if (run_one(r, m))
			return -EINTR;
		r->instr = r->instr > base.instr ? r->instr - base.instr : 0;
		r->ticks = r->ticks > base.ticks ? r->ticks - base.ticks : 0;
		print_line(k, m, r);
	}
	return 0;
}

/* harts=N: a count of online harts, with one workload in one mode (the
 * masks' single bits). 0, or -1 after one line saying why not. */
static int parse_harts(const char *arg, unsigned kinds, unsigned modes, unsigned *harts)
{
	unsigned online = smp_online(NULL);
	uint64_t n;

	if (sh_parse_u64(sh_kv(arg, "harts"), &n)) {
		kprintf("bench: %s: not a number\n", arg);
		return -1;
	}
	if (n == 0 || n > online) {
		kprintf("bench: %s: %s (%u online)\n", arg,
			n ? "more harts than are online" : "at least 1 hart", online);
		return -1;
	}
	if ((kinds & (kinds - 1)) || (modes & (modes - 1))) {
		kprintf("bench: %s runs one workload in one mode, not all or a list\n", arg);
		return -1;
	}
	*harts = (unsigned)n;
	return 0;
}

static int cmd_bench(int argc, char **argv)
{
	const char *harts_arg = sh_take_kv(&argc, argv, "harts");   /* anywhere */
	unsigned kinds, modes, harts = 0;
	uint64_t ops = BENCH_OPS;
	int old = mm_get_mode(), rc = 0;

	if (argc > 4)
		return SH_USAGE;
	kinds = argc > 1 ? parse_kinds(argv[1]) : (1u << WL_NR) - 1;
	modes = argc > 2 ? parse_modes(argv[2]) : (1u << MM_MODE_NR) - 1;
	if (!kinds || !modes || (argc > 3 && sh_parse_u64(argv[3], &ops)))
		return SH_USAGE;
	if (!ops || ops > BENCH_MAX_OPS)
		return sh_bad_number("bench", argv[3], ops ? "more ops than a trace of one "
				     "4 MiB block holds (1048576)" : "at least 1 op");
	if (harts_arg && parse_harts(harts_arg, kinds, modes, &harts))
		return -1;
	if (sh_bg_stress_refuse("bench", "its instructions (rdinstret counts every hart under "
				"QEMU), peak and fragmentation would be the stress's too, and it "
				"switches the mode"))
		return -1;
	mm_shrink(~0ul);   /* cached buffers must not be reclaimed mid-measurement */
	memset(results, 0, sizeof(results));
	if (harts) {
		rc = bench_prepare((int)ctz64(kinds), ops);
		if (!rc)
			rc = bench_harts((int)ctz64(kinds), (int)ctz64(modes), harts);
	}
	for (int k = 0; k < WL_NR && !rc && !harts; k++)
		if (kinds & (1u << k))
			rc = bench_kind(k, modes, ops, old);
	no_alloc = 0;
	drop_trace();
	print_table(kinds, modes);
	mm_set_mode(old);
	return rc == -EINTR ? SH_INTERRUPTED : rc ? -1 : 0;
}
SH_COMMAND("bench", "[small|mixed|large|frag|all] [MODE[,MODE]|all] [ops] [harts=N]",
	   "run the workloads in each mode and compare (harts=N: one workload in "
	   "one mode on N harts at once)", cmd_bench);
