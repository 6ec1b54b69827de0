/* lockdep.c - lock-order checking for the kernel's spinlocks
 * (kernel/lockdep.h). It checks the orders this run has seen, nothing
 * more: an order no hart took while debugging was on is not known.
 *
 * Layout and invariants:
 *   tab.classes  the lock names met, in the order met; a lock caches its
 *                index in dep_class as epoch << 8 | index (NO_CLASS: the
 *                table was full). `epoch` changes whenever the table is
 *                emptied or put back, so a stale cache is looked up again.
 *   tab.edges    the orders seen, `from` held when `to` was taken, each
 *                once, never removed; no edge joins a class to itself.
 *   per[hart]    the locks the hart holds, oldest first, touched only by
 *                that hart with interrupts off. `gen` changes when
 *                debugging is turned on and around a test: a hart whose
 *                stack is of an older gen empties it first, so a lock taken
 *                while debugging was off is never on a stack.
 * The tables are behind `graph`, a spin word taken with interrupts off and
 * never held while printing or waiting for anything else. Reports are
 * written into the hart's own buffer and printed in one kprintf once the
 * word is dropped; while a hart prints one (`busy`), its own lock takes
 * (the console's) are not tracked. */
#include <string.h>
#include "kernel/console.h"
#include "kernel/ksyms.h"
#include "kernel/ktest.h"
#include "kernel/smp.h"
#include "lib/printf.h"
#include "arch/riscv.h"
#include "kerrno.h"
#include "lockdep_internal.h"

#define NO_CLASS 0xff
#define MSG_SIZE 1024

/* class sets are uint32_t bit masks; class indexes fit a byte */
_Static_assert(LOCKDEP_CLASSES <= 32, "lock classes beyond a 32-bit mask");

struct edge {
	uint8_t from, to;      /* class indexes */
	uint8_t hart;          /* where it was first seen */
	void *from_site, *to_site;
};

struct tables {
	const char *classes[LOCKDEP_CLASSES];
	unsigned nclasses, nedges;
	struct edge edges[LOCKDEP_EDGES];
	uint32_t reported[LOCKDEP_CLASSES];   /* bit t of [h]: "t taken holding h" said */
	unsigned long inversions, edges_dropped, unheld, out_of_order;
	unsigned long classes_dropped, too_deep;
	bool said_full, said_classes, said_deep;
	bool have_last;
	struct lockdep_inversion last;
};

struct held {
	struct spinlock *lock;
	void *site;
	int cls;               /* -1: no class slot */
};

struct hart_locks {
	unsigned gen, depth;
	int busy;              /* printing a report */
	struct held held[LOCKDEP_DEPTH];
	const char *prefix;    /* of every line of the report being written */
	unsigned len;
	char msg[MSG_SIZE];
};

int lockdep_enabled;
static struct tables tab, saved;
static int saved_enabled;
static uint32_t epoch = 1;
static unsigned gen = 1;
static int graph;
static struct hart_locks per[HART_MAX];

/* Class caches hold 24 bits of it; 0 is never current (a lock's cache
 * starts at 0). */
static void new_epoch(void)
{
	epoch = (epoch + 1) & 0xffffff;
	epoch += !epoch;
}

static void graph_take(void)
{
	while (__atomic_exchange_n(&graph, 1, __ATOMIC_ACQUIRE))
		;
}

static void graph_drop(void)
{
	__atomic_store_n(&graph, 0, __ATOMIC_RELEASE);
}

/* This hart's stack, emptied when it is of an older gen. */
static struct hart_locks *mine(void)
{
	struct hart_locks *h = &per[this_hart()->index];
	unsigned g = __atomic_load_n(&gen, __ATOMIC_RELAXED);

	if (h->gen != g) {
		h->gen = g;
		h->depth = 0;
	}
	return h;
}

const char *lockdep_where(const void *site, char *buf, size_t n)
{
	uintptr_t off;
	const char *fn = ksym_lookup((uintptr_t)site, &off);

	if (fn)
		ksnprintf(buf, n, "%s+0x%lx", fn, (unsigned long)off);
	else
		ksnprintf(buf, n, "%p", site);
	return buf;
}

/* ---- reports ----------------------------------------------------------- */

/* A report is counted once by a provoking test (its every line marked). */
static void report_begin(struct hart_locks *h)
{
	h->prefix = ktest_report_expected() ? "    # expected: lockdep: " : "lockdep: ";
	h->len = 0;
}

__attribute__((format(printf, 2, 3)))
static void say(struct hart_locks *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (h->len >= MSG_SIZE - 1)
		return;
	n = ksnprintf(h->msg + h->len, MSG_SIZE - h->len, "%s", h->prefix);
	h->len = h->len + (unsigned)n < MSG_SIZE - 1 ? h->len + (unsigned)n : MSG_SIZE - 1;
	va_start(ap, fmt);
	n = kvsnprintf(h->msg + h->len, MSG_SIZE - h->len, fmt, ap);
	va_end(ap);
	h->len = h->len + (unsigned)n < MSG_SIZE - 2 ? h->len + (unsigned)n : MSG_SIZE - 2;
	h->msg[h->len++] = '\n';
	h->msg[h->len] = '\0';
}

static void report_end(struct hart_locks *h)
{
	h->busy = 1;
	kprintf("%s", h->msg);
	h->busy = 0;
}

static void report_inversion(struct hart_locks *h, const struct lockdep_inversion *v)
{
	char a[80], b[80];

	report_begin(h);
	say(h, "order inversion on hart %u: \"%s\" taken at %s while holding \"%s\" (taken at %s)",
	    v->hart, v->taken, lockdep_where(v->taken_site, a, sizeof(a)), v->held,
	    lockdep_where(v->held_site, b, sizeof(b)));
	for (unsigned i = 0; i < v->nedges && i < LOCKDEP_PATH; i++) {
		const struct lockdep_order *o = &v->path[i];

		say(h, "  %s \"%s\" -> \"%s\" seen on hart %u: \"%s\" taken at %s, then \"%s\" at %s",
		    i ? "and" : "against", o->from, o->to, o->hart, o->from,
		    lockdep_where(o->from_site, a, sizeof(a)), o->to,
		    lockdep_where(o->to_site, b, sizeof(b)));
	}
	if (v->nedges > LOCKDEP_PATH)
		say(h, "  and %u more orders on the way", v->nedges - LOCKDEP_PATH);
	report_end(h);
}

/* What an acquire found, reported once the graph word is dropped. */
struct found {
	bool inversion, full, classes, deep;
	struct lockdep_inversion inv;
	const char *from, *to;     /* the first order not recorded */
	void *from_site;
};

static void report_found(struct hart_locks *h, const struct found *f,
			 const struct spinlock *l, void *site)
{
	char a[80], b[80];
	const char *name = l->name ? l->name : "(unnamed)";

	if (f->inversion)
		report_inversion(h, &f->inv);
	if (f->classes) {
		report_begin(h);
		say(h, "class table full (%d classes): \"%s\" (taken at %s) and every new class "
		    "after it not checked (lock_classes_dropped)", LOCKDEP_CLASSES, name,
		    lockdep_where(site, a, sizeof(a)));
		report_end(h);
	}
	if (f->full) {
		report_begin(h);
		say(h, "order table full (%d edges): \"%s\" (taken at %s) -> \"%s\" (at %s) and every "
		    "new order after it not recorded (lock_edges_dropped)", LOCKDEP_EDGES, f->from,
		    lockdep_where(f->from_site, a, sizeof(a)), f->to,
		    lockdep_where(site, b, sizeof(b)));
		report_end(h);
	}
	if (f->deep) {
		report_begin(h);
		say(h, "hart %u holds %d locks: \"%s\" taken at %s not tracked (lock_too_deep)",
		    this_hart()->index, LOCKDEP_DEPTH, name, lockdep_where(site, a, sizeof(a)));
		report_end(h);
	}
}

/* ---- the tables (graph word held) --------------------------------------- */

static int class_of(struct spinlock *l, struct found *f)
{
	uint32_t c = __atomic_load_n(&l->dep_class, __ATOMIC_RELAXED);
	const char *name = l->name ? l->name : "(unnamed)";
	unsigned i;

	if (c >> 8 != epoch) {
		for (i = 0; i < tab.nclasses && strcmp(tab.classes[i], name); i++)
			;
		if (i == tab.nclasses && i < LOCKDEP_CLASSES) {
			tab.classes[tab.nclasses++] = name;
		} else if (i == tab.nclasses) {
			i = NO_CLASS;
			tab.classes_dropped++;
			f->classes = !tab.said_classes;
			tab.said_classes = true;
		}
		c = epoch << 8 | i;
		__atomic_store_n(&l->dep_class, c, __ATOMIC_RELAXED);
	}
	return (c & 0xff) == NO_CLASS ? -1 : (int)(c & 0xff);
}

static int find_edge(int from, int to)
{
	for (unsigned e = 0; e < tab.nedges; e++)
		if (tab.edges[e].from == from && tab.edges[e].to == to)
			return (int)e;
	return -1;
}

/* Breadth first from class `from`: the number of edges of the shortest
 * recorded path to class `to` (0: none), its first LOCKDEP_PATH in v. */
static unsigned find_path(int from, int to, struct lockdep_inversion *v)
{
	int via[LOCKDEP_CLASSES], queue[LOCKDEP_CLASSES], qh = 0, qt = 0, chain[LOCKDEP_CLASSES];
	uint32_t seen = 1u << from;
	unsigned n = 0;

	queue[qt++] = from;
	while (qh < qt && !(seen & 1u << to)) {
		int c = queue[qh++];

		for (unsigned e = 0; e < tab.nedges; e++)
			if (tab.edges[e].from == c && !(seen & 1u << tab.edges[e].to)) {
				seen |= 1u << tab.edges[e].to;
				via[tab.edges[e].to] = (int)e;
				queue[qt++] = tab.edges[e].to;
			}
	}
	if (!(seen & 1u << to))
		return 0;
	for (int c = to; c != from; c = tab.edges[via[c]].from)
		chain[n++] = via[c];
	for (unsigned i = 0; i < n && i < LOCKDEP_PATH; i++) {
		const struct edge *e = &tab.edges[chain[n - 1 - i]];

		v->path[i] = (struct lockdep_order){ tab.classes[e->from], tab.classes[e->to],
						     e->from_site, e->to_site, e->hart };
	}
	return n;
}

static void add_edge(const struct held *p, int to, void *site, struct found *f)
{
	if (find_edge(p->cls, to) >= 0)
		return;
	if (tab.nedges == LOCKDEP_EDGES) {
		tab.edges_dropped++;
		if (!tab.said_full) {
			tab.said_full = f->full = true;
			f->from = tab.classes[p->cls];
			f->to = tab.classes[to];
			f->from_site = p->site;
		}
		return;
	}
	tab.edges[tab.nedges++] = (struct edge){ (uint8_t)p->cls, (uint8_t)to,
						 (uint8_t)this_hart()->index, p->site, site };
}

/* Taking class cls at site while holding h's stack: an inversion against
 * a recorded path cls -> ... -> held (counted once per take, said once per
 * pair of classes), else the orders held -> cls recorded. */
static void check_order(struct hart_locks *h, int cls, void *site, struct found *f)
{
	bool inverted = false;

	for (unsigned i = 0; i < h->depth; i++) {
		const struct held *p = &h->held[i];
		struct lockdep_inversion v;

		if (p->cls < 0 || p->cls == cls)
			continue;
		if (!(v.nedges = find_path(cls, p->cls, &v))) {
			add_edge(p, cls, site, f);
			continue;
		}
		if (inverted)
			continue;
		inverted = true;
		v.hart = this_hart()->index;
		v.taken = tab.classes[cls];
		v.held = tab.classes[p->cls];
		v.taken_site = site;
		v.held_site = p->site;
		tab.inversions++;
		tab.last = v;
		tab.have_last = true;
		if (!(tab.reported[p->cls] & 1u << cls)) {
			tab.reported[p->cls] |= 1u << cls;
			f->inversion = true;
			f->inv = v;
		}
	}
}

/* ---- the hooks ----------------------------------------------------------- */

void lockdep_acquire(struct spinlock *l, void *site, int try)
{
	struct hart_locks *h = mine();
	struct found f = { 0 };
	int cls;

	if (h->busy)
		return;
	graph_take();
	cls = class_of(l, &f);
	if (!try && cls >= 0)
		check_order(h, cls, site, &f);
	if (h->depth == LOCKDEP_DEPTH) {
		tab.too_deep++;
		f.deep = !tab.said_deep;
		tab.said_deep = true;
	}
	graph_drop();
	if (h->depth < LOCKDEP_DEPTH)
		h->held[h->depth++] = (struct held){ l, site, cls };
	report_found(h, &f, l, site);
}

static void report_unheld(struct hart_locks *h, const struct spinlock *l, int holder,
			  void *site)
{
	char a[80], b[80];
	const char *name = l->name ? l->name : "(unnamed)";

	report_begin(h);
	if (holder < 0)
		say(h, "hart %u releases \"%s\" at %s, which is not held: left as it is",
		    this_hart()->index, name, lockdep_where(site, a, sizeof(a)));
	else
		say(h, "hart %u releases \"%s\" at %s, held by hart %d (taken at %s): left as it is",
		    this_hart()->index, name, lockdep_where(site, a, sizeof(a)), holder,
		    lockdep_where(l->caller, b, sizeof(b)));
	report_end(h);
}

static void report_out_of_order(struct hart_locks *h, const struct held *p,
				const struct held *top, void *site)
{
	char a[80], b[80], c[80];

	report_begin(h);
	say(h, "hart %u releases \"%s\" at %s (taken at %s) out of order: \"%s\", taken after it "
	    "at %s, is still held", this_hart()->index, p->lock->name ? p->lock->name : "(unnamed)",
	    lockdep_where(site, a, sizeof(a)), lockdep_where(p->site, b, sizeof(b)),
	    top->lock->name ? top->lock->name : "(unnamed)", lockdep_where(top->site, c, sizeof(c)));
	report_end(h);
}

int lockdep_release(struct spinlock *l, void *site)
{
	struct hart_locks *h = mine();
	int holder = l->holder, i;

	if (h->busy)
		return 1;
	if (holder != (int)this_hart()->index) {
		__atomic_fetch_add(&tab.unheld, 1, __ATOMIC_RELAXED);
		report_unheld(h, l, holder, site);
		return 0;
	}
	for (i = (int)h->depth - 1; i >= 0 && h->held[i].lock != l; i--)
		;
	if (i < 0)
		return 1;   /* taken before debugging was on, or too deep */
	if (i != (int)h->depth - 1) {
		__atomic_fetch_add(&tab.out_of_order, 1, __ATOMIC_RELAXED);
		report_out_of_order(h, &h->held[i], &h->held[h->depth - 1], site);
	}
	memmove(&h->held[i], &h->held[i + 1], (h->depth - 1 - (unsigned)i) * sizeof(h->held[0]));
	h->depth--;
	return 1;
}

/* ---- switches, figures, tests --------------------------------------------- */

void lockdep_set(bool on)
{
	unsigned long f = irq_save();

	graph_take();
	if (on && !lockdep_enabled)
		__atomic_store_n(&gen, gen + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&lockdep_enabled, on, __ATOMIC_RELEASE);
	graph_drop();
	irq_restore(f);
}

void lockdep_get_stats(struct lockdep_stats *out)
{
	unsigned long f = irq_save();

	graph_take();
	*out = (struct lockdep_stats){
		.on = lockdep_enabled,
		.classes = tab.nclasses,
		.edges = tab.nedges,
		.inversions = tab.inversions,
		.edges_dropped = tab.edges_dropped,
		.unheld_releases = __atomic_load_n(&tab.unheld, __ATOMIC_RELAXED),
		.out_of_order = __atomic_load_n(&tab.out_of_order, __ATOMIC_RELAXED),
		.classes_dropped = tab.classes_dropped,
		.too_deep = tab.too_deep,
	};
	graph_drop();
	irq_restore(f);
}

int lockdep_last_inversion(struct lockdep_inversion *out)
{
	unsigned long f = irq_save();
	int err = -ENOENT;

	graph_take();
	if (tab.have_last) {
		*out = tab.last;
		err = 0;
	}
	graph_drop();
	irq_restore(f);
	return err;
}

void lockdep_test_begin(void)
{
	unsigned long f = irq_save();

	graph_take();
	saved = tab;
	saved_enabled = lockdep_enabled;
	memset(&tab, 0, sizeof(tab));
	new_epoch();
	__atomic_store_n(&gen, gen + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&lockdep_enabled, 1, __ATOMIC_RELEASE);
	graph_drop();
	irq_restore(f);
}

void lockdep_test_end(void)
{
	unsigned long f = irq_save();

	graph_take();
	tab = saved;
	new_epoch();
	__atomic_store_n(&gen, gen + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&lockdep_enabled, saved_enabled, __ATOMIC_RELEASE);
	graph_drop();
	irq_restore(f);
}
