/* cmd_memstat.c - `memstat`: how memory is doing, from mm_stats_get().
 * `memstat PID` is one process's (memstat_proc.c).
 * The summary is key: value lines (exactly the keys scripts rely on); the
 * details follow Linux's /proc/buddyinfo and /proc/slabinfo layouts, and
 * the per-hart caches (page lists and magazines) get a table of their own. */
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/console.h"
#include "kernel/proc.h"
#include "kernel/smp.h"
#include "mm/slab.h"
#include "mm/stats.h"

static void kv_pm(const char *key, unsigned pm, const char *suffix)
{
	kprintf("%s: ", key);
	sh_print_pm(pm);
	kprintf("%%%s\n", suffix);
}

/* Of used: the frames user processes hold, as the page allocator counts
 * them by owner (mm/page.h): mapped into a process, and its page tables. */
static void user_line(void)
{
	unsigned long mapped = page_owner_pages(PAGE_OWNER_USER);
	unsigned long tables = page_owner_pages(PAGE_OWNER_USER_PGTABLE);

	kprintf("user: %lu KiB (%lu pages mapped, %lu page-table pages)\n",
		(mapped + tables) * (PAGE_SIZE >> 10), mapped, tables);
}

static void summary(const struct mm_stats *s)
{
	kprintf("mode: %s\n", mm_mode_str(s->mode));
	kprintf("total: %lu KiB\n", (unsigned long)(s->total_bytes >> 10));
	kprintf("free: %lu KiB\n", (unsigned long)(s->free_bytes >> 10));
	kprintf("used: %lu KiB\n", (unsigned long)(s->used_bytes >> 10));
	user_line();
	kprintf("allocs: %lu\n", s->allocs);
	kprintf("frees: %lu\n", s->frees);
	kprintf("failures: %lu\n", s->failures);
	kprintf("failure_rate: ");
	sh_print_pm(s->failure_rate_pm);
	kprintf("%% (last %llu.%llu s: ", s->window_ms / 1000, s->window_ms % 1000 / 100);
	sh_print_pm(s->window_failure_rate_pm);
	kprintf("%% of %lu requests)\n", (unsigned long)s->window_requests);
	kprintf("fragmentation: ");
	sh_print_pm(s->frag_pm);
	if (s->mode == MM_MODE_SIMPLE) {
		kprintf("%% of free heap bytes are outside its largest block\n");
	} else {
		uint64_t kib = s->frag_held_bytes >> 10;   /* fits 80 columns */

		kprintf("%% of slab objects are free in partial slabs (%lu %s held)\n",
			(unsigned long)(kib < 10000 ? kib : kib >> 10), kib < 10000 ? "KiB" : "MiB");
	}
	if (s->health == MM_HEALTHY)
		kprintf("health: healthy\n");
	else
		kprintf("health: %s (%s)\n", mm_health_name(s->health), s->reason);
}

/* The detail views take the snapshot; the zone tables take the buddy
 * allocator's own (buddy_zone_info: one moment's, every zone locked), the
 * cache table reads the live structures. */
/* free: on the zone's free lists; pcp: free on the harts' page lists
 * (the two add up to the zone's free pages). */
static void zones(const struct mm_stats *unused)
{
	int w = sh_addr_width();
	struct buddy_zone_info zi[NR_ZONES];

	(void)unused;
	buddy_zone_info(zi);
	kprintf("%-7s %-*s %-*s %9s %9s %6s %6s %6s %6s\n", "zone", w, "start", w, "end",
		"pages", "free", "pcp", "min", "low", "high");
	for (int z = 0; z < NR_ZONES; z++) {
		const struct zone *zn = zone_get(z);

		if (!zn->present_pages)
			continue;
		kprintf("%-7s %0*lx %0*lx %9lu %9lu %6lu %6lu %6lu %6lu\n", zn->name,
			w, (unsigned long)(zn->start_pfn << PAGE_SHIFT),
			w, (unsigned long)(zn->end_pfn << PAGE_SHIFT), zn->present_pages,
			zi[z].free_pages, zi[z].pcp_pages, zn->wmark_min, zn->wmark_low,
			zn->wmark_high);
	}
}

/* /proc/buddyinfo's numbers: free blocks per order, one row per zone,
 * under a header naming the orders (the "Node 0, zone" prefix dropped to
 * fit 80 columns). */
static void buddyinfo(const struct mm_stats *unused)
{
	struct buddy_zone_info zi[NR_ZONES];

	(void)unused;
	buddy_zone_info(zi);
	kprintf("%-7s", "order");
	for (int o = 0; o <= MAX_ORDER; o++)
		kprintf(" %5d", o);
	kprintf("\n");
	for (int z = 0; z < NR_ZONES; z++) {
		const struct zone *zn = zone_get(z);

		if (!zn->present_pages)
			continue;
		kprintf("%-7s", zn->name);
		for (int o = 0; o <= MAX_ORDER; o++)
			kprintf(" %5lu", zi[z].nr_free[o]);
		kprintf("\n");
	}
}

/* The per-hart caches. pcp_batch: the pages a hart's page list takes
 * from or gives back to each zone at a time. Then one row per hart: pages
 * on its page lists per zone and blocks per order (all zones), blocks the
 * lists handed out; objects in its magazines (loaded and previous), their
 * KiB, objects the magazines handed out. Each row is exact (read with
 * every hart's caches held still); the totals are the rows'. */
static void pcpinfo(const struct mm_stats *unused)
{
	unsigned long pages = 0, objs = 0;
	uint64_t bytes = 0;

	(void)unused;
	kprintf("pcp_batch:");
	for (int z = 0, n = 0; z < NR_ZONES; z++)
		if (zone_get(z)->present_pages)
			kprintf("%s %s %lu", n++ ? "," : "", zone_get(z)->name,
				zone_get(z)->pcp_batch);
	kprintf(" pages (high: %d batches a list)\n", BUDDY_PCP_HIGH);
	kprintf("%-4s", "hart");
	for (int z = 0; z < NR_ZONES; z++)
		if (zone_get(z)->present_pages)
			kprintf(" %6s", zone_get(z)->name);
	kprintf("  o0  o1  o2  o3 %10s %8s %7s %10s\n", "pcp_allocs", "mag_objs", "mag_KiB",
		"mag_allocs");
	for (unsigned h = 0; h < nharts; h++) {
		struct buddy_pcp_stats p;
		struct kmem_cpu_stats m;

		buddy_pcp_get(h, &p);
		kmem_cache_cpu_stats(h, &m);
		kprintf("%-4u", h);
		for (int z = 0; z < NR_ZONES; z++)
			if (zone_get(z)->present_pages)
				kprintf(" %6lu", p.pages[z]);
		for (int o = 0; o <= BUDDY_PCP_ORDER; o++) {
			unsigned long blocks = 0;

			for (int z = 0; z < NR_ZONES; z++)
				blocks += p.blocks[z][o];
			kprintf(" %3lu", blocks);
		}
		kprintf(" %10lu %8lu %7lu %10lu\n", p.allocs, m.objects,
			(unsigned long)((m.bytes + 1023) >> 10), m.allocs);
		pages += p.total_pages;
		objs += m.objects;
		bytes += m.bytes;
	}
	kprintf("pcp_pages: %lu (%lu KiB)\n", pages, pages * 4);
	kprintf("magazine_objects: %lu (%lu KiB)\n", objs, (unsigned long)((bytes + 1023) >> 10));
}

/* /proc/slabinfo's leading columns, named shorter to fit 80 columns:
 * active = active_objs, objs = num_objs, size = objsize, per_slab =
 * objperslab, pages = pagesperslab, slabs = num_slabs. */
static void slabinfo(const struct mm_stats *unused)
{
	struct kmem_cache_stats cs;

	(void)unused;
	kprintf("# %-10s %7s %7s %5s %8s %5s : slabdata %12s %5s\n", "name", "active", "objs",
		"size", "per_slab", "pages", "active_slabs", "slabs");
	for (unsigned i = 0; kmem_cache_info(i, &cs) == 0; i++)
		kprintf("%-12s %7lu %7lu %5zu %8u %5u : slabdata %12lu %5lu\n",
			cs.name, cs.active_objs, cs.total_objs, cs.stride, cs.objs_per_slab,
			1u << cs.order, cs.active_slabs, cs.slabs);
}

static void heapinfo(const struct mm_stats *s)
{
	const struct heap_stats *h = &s->heap;

	kprintf("heap_arena: %lu KiB in %lu runs (%lu entirely free)\n",
		(unsigned long)(h->arena_bytes >> 10), h->runs, h->free_runs);
	kprintf("heap_blocks: %lu used, %lu free\n", h->used_blocks, h->free_blocks);
	kprintf("heap_free: %zu bytes, largest block %zu bytes\n", h->free_bytes, h->largest_free);
	kprintf("heap_in_use: %lu bytes (peak %lu)\n", (unsigned long)h->bytes_in_use,
		(unsigned long)h->peak_bytes_in_use);
	kv_pm("heap_fragmentation", s->frag_heap_pm, "");
}

/* Freed objects waiting in the slab caches' magazines. */
static unsigned long slab_cached_objects(void)
{
	struct kmem_cache_stats cs;
	unsigned long n = 0;

	for (unsigned i = 0; kmem_cache_info(i, &cs) == 0; i++)
		n += cs.cached;
	return n;
}

static void counters(const struct mm_stats *s)
{
	static const char *const backends[KM_BACKEND_NR] = { "slab", "large", "heap" };
	const struct buddy_stats *b = &s->buddy;

	kprintf("%-9s %9s %9s %7s %7s %7s\n", "mode", "requests", "ok", "nomem", "inval",
		"inject");
	for (int m = 0; m < MM_MODE_NR; m++) {
		const struct mm_alloc_counters *c = &s->km.mode[m];

		kprintf("%-9s %9lu %9lu %7lu %7lu %7lu\n", mm_mode_str(m), c->requests,
			c->successes, c->fail_nomem, c->fail_inval, c->fail_injected);
	}
	kprintf("%-9s %9s %9s %7s %10s %10s\n", "allocator", "blocks", "frees", "wrong",
		"inuse_KiB", "peak_KiB");
	for (int k = 0; k < KM_BACKEND_NR; k++) {
		const struct mm_alloc_counters *c = &s->km.backend[k];

		kprintf("%-9s %9lu %9lu %7lu %10lu %10lu\n", backends[k], c->successes, c->frees,
			c->wrong_frees, (unsigned long)(c->bytes_in_use >> 10),
			(unsigned long)(c->peak_bytes_in_use >> 10));
	}
	kprintf("%-9s %9lu %9lu %7lu %10lu %10lu\n", "buddy", b->successes, b->frees,
		b->wrong_frees, b->pages_in_use * 4, b->peak_pages_in_use * 4);
	kprintf("buddy_failures: nomem %lu, inval %lu, injected %lu\n", b->fail_nomem,
		b->fail_inval, b->fail_injected);
	kprintf("hybrid_fallbacks: %lu\nmode_switches: %lu\n", s->km.hybrid_fallbacks,
		s->km.mode_switches);
	kprintf("kept_blocks: %lu (%lu KiB)\n", s->km.kept_blocks,
		(unsigned long)(s->km.kept_bytes >> 10));
	kprintf("slab_cached: %lu objects\n", slab_cached_objects());
	kv_pm("buddy_unusable_index", s->frag_buddy_pm, " (order 3)");
	kv_pm("slab_fragmentation", s->frag_slab_pm, "");
	kprintf("debug_violations: poison %lu, redzone %lu, corrupt %lu\n",
		s->debug.poison_violations, s->debug.redzone_violations, s->debug.corruptions);
	kprintf("integrity_checks: %lu run, last found %d\n", s->checks_run,
		s->last_check_violations);
}

/* The detail views, in the order `memstat all` shows them. */
static const struct {
	const char *name;
	void (*show)(const struct mm_stats *s);
} views[] = {
	{ "zones", zones }, { "buddy", buddyinfo }, { "pcp", pcpinfo }, { "slab", slabinfo },
	{ "heap", heapinfo }, { "counters", counters },
};

static int known_view(const char *name)
{
	for (unsigned i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		if (!strcmp(name, views[i].name))
			return 1;
	return 0;
}

static int cmd_memstat(int argc, char **argv)
{
	static struct mm_stats s;
	const char *what = argc > 1 ? argv[1] : "";
	int all = !strcmp(what, "all");

	if (argc > 2)
		return SH_USAGE;
	if (argc == 2 && what[0] >= '0' && what[0] <= '9')
		return sh_memstat_pid(what);
	if (argc == 2 && !all && !known_view(what))
		return SH_USAGE;
	mm_stats_get(&s);
	if (argc == 1 || all)
		summary(&s);
	for (unsigned i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		if (!all && strcmp(what, views[i].name))
			continue;
		if (all)
			kprintf("\n[%s]\n", views[i].name);
		views[i].show(&s);
	}
	return 0;
}
SH_COMMAND("memstat", "[zones|buddy|pcp|slab|heap|counters|all|PID]",
	   "memory summary and health, or one detail, or process PID's areas and counters",
	   cmd_memstat);

static int cmd_setmode(int argc, char **argv)
{
	int mode;

	if (argc > 2)
		return SH_USAGE;
	if (argc == 2) {
		mode = mm_mode_parse(argv[1]);
		if (mode < 0)
			return SH_USAGE;
		mm_set_mode(mode);
	}
	kprintf("mode: %s\n", mm_mode_name());
	return 0;
}
SH_COMMAND("setmode", "[simple|twotier|hybrid]", "switch the kmalloc mode live, or show it",
	   cmd_setmode);

static int cmd_memcheck(int argc, char **argv)
{
	int v;

	(void)argv;
	if (argc != 1)
		return SH_USAGE;
	v = mm_check() + proc_check_frames();   /* the allocators, then every user frame back */
	if (v)
		kprintf("memcheck: %d violations\n", v);
	else
		kprintf("memcheck: ok\n");
	return v ? -1 : 0;
}
SH_COMMAND("memcheck", "", "check the allocators' invariants; with no process, no user frame held",
	   cmd_memcheck);
