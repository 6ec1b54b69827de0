/* cmd_memdebug.c - the tools for making memory misbehave and finding out
 * why: memdebug (poison, red zones, tracking, lock debugging), memleak,
 * faultinj, hog. */
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/console.h"
#include "kernel/ksyms.h"
#include "kernel/lockdep.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/leak.h"
#include "mm/mm_debug.h"

static int on_off(const char *s)
{
	return !strcmp(s, "on") ? 1 : !strcmp(s, "off") ? 0 : -1;
}

/* Lock debugging's figures (kernel/lockdep.h), as the tables are now. */
static void print_locks(void)
{
	struct lockdep_stats st;

	lockdep_get_stats(&st);
	kprintf("locks_tracked: %s\nlock_classes: %u\nlock_edges: %u\nlock_inversions: %lu\n"
		"lock_edges_dropped: %lu\nlock_unheld_releases: %lu\n"
		"lock_out_of_order_releases: %lu\nlock_classes_dropped: %lu\nlock_too_deep: %lu\n",
		st.on ? "on" : "off", st.classes, st.edges, st.inversions, st.edges_dropped,
		st.unheld_releases, st.out_of_order, st.classes_dropped, st.too_deep);
}

/* `memdebug KNOB on|off`: 0, or SH_USAGE after saying what was wrong. */
static int set_knob(const char *knob, const char *value)
{
	int on = on_off(value);

	if (strcmp(knob, "track") && strcmp(knob, "poison") && strcmp(knob, "redzone") &&
	    strcmp(knob, "locks"))
		return SH_USAGE;
	if (on < 0) {
		kprintf("memdebug: %s: '%s' is neither on nor off\n", knob, value);
		return SH_USAGE;
	}
	if (!strcmp(knob, "track"))
		leak_track(on);
	else if (!strcmp(knob, "poison"))
		mm_debug_set(MM_DEBUG_POISON, on);
	else if (!strcmp(knob, "redzone"))
		mm_debug_set(MM_DEBUG_REDZONE, on);
	else
		lockdep_set(on);
	return 0;
}

static int cmd_memdebug(int argc, char **argv)
{
	unsigned f;
	int err;

	if (argc > 1 && !strcmp(argv[1], "locks") && argc <= 3) {
		if (argc == 3 && (err = set_knob(argv[1], argv[2])))
			return err;
		print_locks();
		return 0;
	}
	if (argc == 3 && (err = set_knob(argv[1], argv[2])))
		return err;
	if (argc != 1 && argc != 3)
		return SH_USAGE;
	f = mm_debug_get();
	kprintf("poison: %s\nredzone: %s\ntrack: %s\nlocks: %s\n",
		f & MM_DEBUG_POISON ? "on" : "off", f & MM_DEBUG_REDZONE ? "on" : "off",
		leak_tracking_on ? "on" : "off", lockdep_enabled ? "on" : "off");
	return 0;
}
SH_COMMAND("memdebug", "[poison|redzone|track|locks on|off] | locks",
	   "switch poisoning, red zones, allocation tracking and lock debugging; "
	   "locks: lock debugging's figures", cmd_memdebug);

static void print_site(const struct leak_site *s)
{
	uintptr_t off;
	const char *fn = ksym_lookup((uintptr_t)s->caller, &off);

	if (fn)
		kprintf("%8lu %10lu  %s+0x%lx\n", s->blocks, (unsigned long)s->bytes, fn,
			(unsigned long)off);
	else
		kprintf("%8lu %10lu  %p\n", s->blocks, (unsigned long)s->bytes, s->caller);
}

static int cmd_memleak(int argc, char **argv)
{
	static struct leak_site sites[32];
	struct leak_stats st;
	int since = 0, n;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "mark") && strcmp(argv[1], "new")))
		return SH_USAGE;
	leak_get_stats(&st);
	if (!st.tracking) {
		kprintf("memleak: tracking is off (memdebug track on)\n");
		return -1;
	}
	if (argc == 2 && !strcmp(argv[1], "mark")) {
		leak_mark();
		kprintf("memleak: mark at %u\n", st.seq);
		return 0;
	}
	since = argc == 2;
	n = leak_report(sites, 32, since);
	kprintf("%8s %10s  %s\n", "blocks", "bytes", "allocated at");
	for (int i = 0; i < n && i < 32; i++)
		print_site(&sites[i]);
	kprintf("memleak: sites=%d live=%lu untracked=%lu%s\n", n, st.live, st.untracked,
		since ? " (since mark)" : "");
	return 0;
}
SH_COMMAND("memleak", "[mark|new]",
	   "live tracked blocks by call site (new: since the mark)", cmd_memleak);

static void faultinj_show(void)
{
	struct faultinj_config c;
	struct faultinj_stats s;

	faultinj_get(&c, &s);
	kprintf("faultinj: %s\n", s.enabled ? "on" : "off");
	if (!s.enabled)
		return;
	kprintf("probability: %u\ninterval: %lu\ntimes: %ld\nspace: %lu\n", c.probability,
		c.interval, c.times, c.space);
	kprintf("scope:%s%s%s\nreserve: %s\nseed: %lu\n", c.scope & FI_PAGE ? " page" : "",
		c.scope & FI_SLAB ? " slab" : "", c.scope & FI_HEAP ? " heap" : "",
		c.reserve_too ? "on" : "off", (unsigned long)c.seed);
	kprintf("calls: %lu\ninjected: page %lu, slab %lu, heap %lu\n", s.calls,
		s.injected[0], s.injected[1], s.injected[2]);
}

static int parse_scope(const char *v, unsigned *scope)
{
	*scope = !strcmp(v, "page") ? FI_PAGE : !strcmp(v, "slab") ? FI_SLAB :
		 !strcmp(v, "heap") ? FI_HEAP : !strcmp(v, "all") ? FI_ALL : 0;
	return *scope ? 0 : -1;
}

static int parse_knob(struct faultinj_config *c, const char *a)
{
	const char *v;
	uint64_t n;

	if ((v = sh_kv(a, "scope")))
		return parse_scope(v, &c->scope);
	if ((v = sh_kv(a, "times"))) {   /* -1: no limit */
		if (!strcmp(v, "-1"))
			c->times = -1;
		else if (!sh_parse_u64(v, &n) && n < (1ull << 62))
			c->times = (long)n;
		else
			return -1;
		return 0;
	}
	if ((v = sh_kv(a, "probability")) && !sh_parse_u64(v, &n) && n <= 100)
		return (c->probability = (unsigned)n), 0;
	if ((v = sh_kv(a, "interval")) && !sh_parse_u64(v, &n))
		return (c->interval = n), 0;
	if ((v = sh_kv(a, "space")) && !sh_parse_size(v, &n))
		return (c->space = n), 0;
	if ((v = sh_kv(a, "seed")) && !sh_parse_u64(v, &n))
		return (c->seed = n), 0;
	if ((v = sh_kv(a, "reserve")) && on_off(v) >= 0)
		return (c->reserve_too = on_off(v)), 0;
	return -1;
}

static int cmd_faultinj(int argc, char **argv)
{
	struct faultinj_config c = { .probability = 100, .interval = 1, .times = -1,
				     .scope = FI_ALL, .seed = 1 };

	if (argc == 2 && !strcmp(argv[1], "off")) {
		faultinj_off();
	} else if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (parse_knob(&c, argv[i]))
				return SH_USAGE;
		if (faultinj_set(&c))
			return SH_USAGE;
	}
	faultinj_show();
	return 0;
}
SH_COMMAND("faultinj",
	   "[off | probability=P interval=N times=N space=SIZE scope=page|slab|heap|all seed=N reserve=on|off]",
	   "show or set allocation fault injection", cmd_faultinj);

/* Memory held by `hog`, chained through the first word of each block. */
static struct page *hog_chain;
static unsigned long hog_pages;

/* Take up to `pages` in the largest blocks that come; 0, or -EINTR when
 * a Ctrl-C stopped it (what it took stays on the chain). */
static int hog_take(unsigned long pages)
{
	for (int order = MAX_ORDER; order >= 0 && pages; order--) {
		struct page *pg;

		while (pages >= (1ul << order)) {
			if (console_interrupted())
				return -EINTR;
			if (!(pg = alloc_pages(GFP_NOINJECT, order)))
				break;
			*(struct page **)page_address(pg) = hog_chain;
			hog_chain = pg;
			hog_pages += 1ul << order;
			pages -= 1ul << order;
		}
	}
	return 0;
}

/* Give back the newest blocks until `keep` pages are held. */
static void hog_release_to(unsigned long keep)
{
	while (hog_chain && hog_pages > keep) {
		struct page *pg = hog_chain;

		hog_chain = *(struct page **)page_address(pg);
		hog_pages -= 1ul << pg->order;
		free_pages(pg, pg->order);
	}
}

/* Pages that hold bytes (rounded up). */
static unsigned long pages_of(uint64_t bytes)
{
	return (unsigned long)(bytes / PAGE_SIZE + (bytes % PAGE_SIZE != 0));
}

/* What the zones keep from ordinary requests: their min watermarks. */
static unsigned long reserve_pages(void)
{
	unsigned long n = 0;

	for (int z = 0; z < NR_ZONES; z++)
		n += zone_get(z)->present_pages ? zone_get(z)->wmark_min : 0;
	return n;
}

/* `hog leave`: take until `keep` pages are free; 0 or -EINTR. */
static int hog_leave(unsigned long keep)
{
	unsigned long held;
	int rc;

	if (buddy_free_pages() <= keep) {
		kprintf("hog: free %lu KiB is not above the %lu KiB asked: nothing taken\n",
			buddy_free_pages() * 4, keep * 4);
		return 0;
	}
	do {   /* again while taking made the kernel give memory back */
		held = hog_pages;
		rc = hog_take(buddy_free_pages() > keep ? buddy_free_pages() - keep : 0);
	} while (!rc && hog_pages != held && buddy_free_pages() > keep);
	if (!rc && buddy_free_pages() > keep)
		kprintf("hog: left %lu KiB free, not %lu KiB: %lu KiB is the zones' reserve "
			"(min watermarks), kept for GFP_RESERVE requests\n", buddy_free_pages() * 4,
			keep * 4, reserve_pages() * 4);
	return rc;
}

/* `hog SIZE`: take `want` pages more; 0 or -EINTR. */
static int hog_more(unsigned long want)
{
	unsigned long before = hog_pages;
	int rc = hog_take(want);

	if (!rc && hog_pages - before < want)
		kprintf("hog: took %lu KiB of the %lu KiB asked: memory ran out (%lu KiB free, "
			"%lu KiB of it the zones' reserve)\n", (hog_pages - before) * 4, want * 4,
			buddy_free_pages() * 4, reserve_pages() * 4);
	return rc;
}

static int cmd_hog(int argc, char **argv)
{
	unsigned long before = hog_pages;
	uint64_t bytes;
	int rc = 0;

	if (argc == 2 && !strcmp(argv[1], "release"))
		hog_release_to(0);
	else if (argc == 2 && !sh_parse_size(argv[1], &bytes))
		rc = hog_more(pages_of(bytes));
	else if (argc == 3 && !strcmp(argv[1], "leave") && !sh_parse_size(argv[2], &bytes))
		rc = hog_leave(pages_of(bytes));
	else
		return SH_USAGE;
	if (rc)   /* interrupted: give back what this command took */
		hog_release_to(before);
	kprintf("hog: holding %lu KiB, free %lu KiB\n", hog_pages * 4, buddy_free_pages() * 4);
	return rc ? SH_INTERRUPTED : 0;
}
SH_COMMAND("hog", "SIZE | leave SIZE | release", "hold memory to create pressure on purpose",
	   cmd_hog);
