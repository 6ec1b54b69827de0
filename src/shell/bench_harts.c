/* bench_harts.c - `bench WORKLOAD MODE [ops] harts=N`: one workload's trace
 * replayed on N harts at once, each hart on its own objects, all released
 * together (smp_run_together), to show what sharing the mm stack costs.
 *
 * What is measured, and why so. Each hart reads rdinstret and rdtime at
 * its start and end. Under QEMU both are one clock for the whole machine:
 * QEMU 7.2 answers rdinstret with its single instruction count (-icount)
 * or the host's time stamp counter (without), whichever hart asks. So:
 *  - the total is exact under -icount shift=0: there the harts take turns
 *    on one host thread, and the machine's count from the first start to
 *    the last end is every instruction every hart retired, lock spinning
 *    included. Net of the replay loops and divided by all the harts' ops,
 *    it is the mean of the harts' own instructions per operation: the
 *    figure to hold against the same trace on one hart;
 *  - a hart's own figure (elapsed_instr) counts from its start to its end,
 *    other harts' instructions included when they ran meanwhile: how long
 *    it took, not what it did. QEMU gives no count of a hart's own
 *    instructions, and a hart cannot see its turns end (a hart spinning
 *    on a lock reads nothing), so none is printed;
 *  - QEMU's turns under -icount last up to millions of instructions: a
 *    short run may fit in one turn, so the harts run one after another and
 *    share nothing. `concurrency` on the total line says how far the runs
 *    overlapped.
 * Both are net of the replay loop, measured by replaying the trace on
 * this hart alone against no allocator. Ctrl-C stops every hart before
 * its next op; the lines then show what was done, and this hart frees
 * what the others left. */
#include <string.h>
#include "bench_internal.h"
#include "kernel/console.h"
#include "kernel/smp.h"
#include "mm/buddy.h"
#include "mm/gfp.h"
#include "mm/kmalloc.h"
#include "mm/shrinker.h"
#include "arch/riscv.h"
#include "kerrno.h"

/* One hart's part: its own objects and what it measured. */
struct bench_part {
	void **slot;                 /* trace->slots entries, NULL when free */
	struct page *slot_pages;
	unsigned order;
	int no_alloc;                /* replay against nothing: the loop */
	uint64_t ops;                /* ops it replayed (fewer after Ctrl-C) */
	uint64_t i0, i1, t0, t1;     /* rdinstret and rdtime at start and end */
	unsigned long failures;      /* allocations that returned NULL */
};

static struct bench_part parts[HART_MAX];

/* Replay the trace on p's objects, looking for a Ctrl-C before every op:
 * with a lock shared by harts that take turns, an op may wait for every
 * other hart's turn (QEMU's, under -icount: millions of instructions), so
 * a chunk of ops between looks could take minutes. Ends with p->ops. */
static void part_replay(struct bench_part *p, const struct wl_trace *t)
{
	void **slot = p->slot;
	size_t i;

	for (i = 0; i < t->n && !console_interrupted(); i++) {
		uint32_t op = t->ops[i], s = WL_SLOT(op);

		if (op & WL_FREE) {
			if (!p->no_alloc)
				kfree(slot[s]);
			slot[s] = NULL;
		} else {
			slot[s] = p->no_alloc ? &slot[s] : kmalloc(WL_SIZE(op), 0);
			p->failures += slot[s] == NULL;
		}
	}
	p->ops = i;
}

/* One hart's run (smp_run_together calls it on each). */
static void part_run(void *arg)
{
	struct bench_part *p = arg;

	p->i0 = rdinstret();
	p->t0 = rdtime();
	part_replay(p, bench_trace());
	p->i1 = rdinstret();
	p->t1 = rdtime();
}

/* What a stopped run left live, freed here, once the harts are done: on
 * their own harts each free could wait for the others' turns. */
static void part_release(struct bench_part *p)
{
	for (uint32_t s = 0; s < bench_trace()->slots; s++)
		if (p->slot[s])
			kfree(p->slot[s]);
}

static void parts_free(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (parts[i].slot_pages)
			free_pages(parts[i].slot_pages, parts[i].order);
	memset(parts, 0, sizeof(parts));
}

/* Slot arrays for n parts, empty. 0 or -ENOMEM (nothing kept). Page
 * allocations fault injection may fail (scope=page), unlike the trace:
 * that is how their failure is tested; faultinj scope=slab or heap leaves
 * them alone for a run under a storm of failures. */
static int parts_alloc(unsigned n, uint32_t slots)
{
	size_t bytes = (size_t)slots * sizeof(void *);
	unsigned order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	memset(parts, 0, sizeof(parts));
	for (unsigned i = 0; i < n; i++) {
		parts[i].order = order;
		parts[i].slot_pages = alloc_pages(0, order);
		if (!parts[i].slot_pages) {
			parts_free(i);
			return -ENOMEM;
		}
		parts[i].slot = page_address(parts[i].slot_pages);
		memset(parts[i].slot, 0, PAGE_SIZE << order);
	}
	return 0;
}

/* The replay loop's own cost for `ops` operations, scaled from `base`,
 * what it cost for the whole trace. */
static uint64_t loop_cost(uint64_t base, uint64_t ops)
{
	uint64_t n = bench_trace()->n;

	return n ? base * ops / n : 0;
}

static uint64_t net(uint64_t raw, uint64_t loop)
{
	return raw > loop ? raw - loop : 0;
}

/* A line per hart, then the total over the span from the first start to
 * the last end, with how many harts were mid-run on average (the harts'
 * spans over the total's: 1.0 when they ran one after another, which
 * says nothing about sharing; N when they all ran throughout). */
static void print_parts(enum wl_kind k, int mode, unsigned n, const struct bench_part *base)
{
	uint64_t i0 = ~0ull, i1 = 0, t0 = ~0ull, t1 = 0, ops = 0, spans = 0, bi, bt;
	unsigned long failures = 0;
	unsigned idx[HART_MAX];

	smp_online(idx);
	for (unsigned i = 0; i < n; i++) {
		const struct bench_part *p = &parts[i];
		uint64_t e = net(p->i1 - p->i0, loop_cost(base->i1 - base->i0, p->ops));

		kprintf("bench %s %s hart=%u ops=%lu elapsed_instr=%lu elapsed_per_op=", wl_name(k),
			mm_mode_str(mode), idx[i], (unsigned long)p->ops, (unsigned long)e);
		bench_fixed1(p->ops ? e * 10 / p->ops : 0, 0);
		kprintf(" failures=%lu\n", p->failures);
		i0 = p->i0 < i0 ? p->i0 : i0;
		i1 = p->i1 > i1 ? p->i1 : i1;
		t0 = p->t0 < t0 ? p->t0 : t0;
		t1 = p->t1 > t1 ? p->t1 : t1;
		ops += p->ops;
		spans += p->i1 - p->i0;
		failures += p->failures;
	}
	bi = net(i1 - i0, loop_cost(base->i1 - base->i0, ops));
	bt = net(t1 - t0, loop_cost(base->t1 - base->t0, ops));
	kprintf("bench %s %s harts=%u ops=%lu instructions=%lu instr_per_op=", wl_name(k),
		mm_mode_str(mode), n, (unsigned long)ops, (unsigned long)bi);
	bench_fixed1(ops ? bi * 10 / ops : 0, 0);
	kprintf(" ticks_per_op=");
	bench_fixed1(ops ? bt * 10 / ops : 0, 0);
	kprintf(" concurrency=");
	bench_fixed1(i1 > i0 ? spans * 10 / (i1 - i0) : 0, 0);
	kprintf(" failures=%lu\n", failures);
}

int bench_harts(enum wl_kind k, int mode, unsigned harts)
{
	struct bench_part base = { 0 };
	void *args[HART_MAX];
	int rc;

	if (parts_alloc(harts, bench_trace()->slots)) {
		kprintf("bench: no memory for %u harts' slot arrays\n", harts);
		return -ENOMEM;
	}
	base = parts[0];
	base.no_alloc = 1;
	part_run(&base);   /* the loop alone, on this hart */
	if (base.ops < bench_trace()->n) {
		parts_free(harts);
		return -EINTR;
	}
	memset(parts[0].slot, 0, PAGE_SIZE << parts[0].order);
	for (unsigned i = 0; i < harts; i++)
		args[i] = &parts[i];
	mm_set_mode(mode);
	kmalloc_shrink();
	rc = smp_run_together(harts, part_run, args);
	for (unsigned i = 0; i < harts; i++)
		part_release(&parts[i]);
	kmalloc_shrink();
	if (rc) {
		kprintf("bench: the harts would not take the work (%d)\n", rc);
	} else {
		print_parts(k, mode, harts, &base);   /* after a Ctrl-C: what was done */
		for (unsigned i = 0; i < harts && !rc; i++)
			if (parts[i].ops < bench_trace()->n)
				rc = -EINTR;
	}
	parts_free(harts);
	return rc == -EINTR ? rc : rc ? -EIO : 0;
}
