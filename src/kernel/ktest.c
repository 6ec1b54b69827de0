/* ktest.c - the KTAP runner: one top-level test per suite, each suite a
 * subtest with one line per case (KTAP version 1 nesting, 4 spaces). */
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/console.h"
#include "mm/buddy.h"
#include "mm/stats.h"

extern const struct ktest_suite _ktest_start[], _ktest_end[];

static int provoking, provoked;

void ktest_provoke(struct ktest *t)
{
	(void)t;
	provoking = 1;
	provoked = 0;
}

int ktest_provoked(struct ktest *t)
{
	(void)t;
	provoking = 0;
	return provoked;
}

int ktest_report_expected(void)
{
	provoked += provoking;
	return provoking;
}

/* One case; a passing one's provoked faults are excused. */
static void run_case(const struct ktest_case *c, struct ktest *t)
{
	struct mm_stats before;

	mm_stats_get(&before);
	c->fn(t);
	if (provoking) {
		provoking = 0;
		ktest_check(t, 0, "ktest_provoked() after ktest_provoke()", __FILE__, __LINE__);
	}
	if (!t->failed)
		mm_stats_excuse(&before);
}

void ktest_check(struct ktest *t, int cond, const char *expr, const char *file, int line)
{
	if (cond)
		return;
	t->failed++;
	kprintf("    # %s:%d: expected %s\n", file, line, expr);
}

static int matches(const struct ktest_suite *s, const char *name)
{
	return !name || !strcmp(name, "all") || !strcmp(name, s->name);
}

static int run_suite(const struct ktest_suite *s, int index)
{
	int failed = 0;

	kprintf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", s->name, s->ncases);
	for (int i = 0; i < s->ncases; i++) {
		struct ktest t = { 0 };

		if (console_interrupted()) {
			kprintf("    # interrupted before case %d\n", i + 1);
			return KTEST_INTERRUPTED;
		}
		run_case(&s->cases[i], &t);
		kprintf("    %sok %d %s%s%s\n", t.failed ? "not " : "", i + 1, s->cases[i].name,
			t.skip ? " # SKIP " : "", t.skip ? t.skip : "");
		failed += t.failed != 0;
	}
	kprintf("%sok %d %s\n", failed ? "not " : "", index, s->name);
	return failed;
}

int ktest_run(const char *name)
{
	int n = 0, index = 0, failed = 0;

	for (const struct ktest_suite *s = _ktest_start; s < _ktest_end; s++)
		n += matches(s, name);
	if (!n)
		return -1;
	kprintf("KTAP version 1\n1..%d\n", n);
	for (const struct ktest_suite *s = _ktest_start; s < _ktest_end; s++) {
		int f = matches(s, name) ? run_suite(s, ++index) : 0;

		if (f == KTEST_INTERRUPTED)
			return KTEST_INTERRUPTED;
		failed += f;
	}
	kprintf("# selftest: %d failed\n", failed);
	return failed;
}

void ktest_list(void)
{
	for (const struct ktest_suite *s = _ktest_start; s < _ktest_end; s++)
		kprintf("%s\n", s->name);
}

/* A held block's first words: the next block, its order. */
struct ktest_hold {
	struct ktest_hold *next;
	unsigned order;
};

struct ktest_hold *ktest_hold(unsigned long leave_pages)
{
	struct ktest_hold *chain = NULL, *h;
	struct page *pg;

	for (int o = MAX_ORDER; o >= 0; o--)
		while (buddy_free_pages() > leave_pages + (1ul << o) &&
		       (pg = alloc_pages(GFP_NOINJECT, (unsigned)o))) {
			h = page_address(pg);
			h->next = chain;
			h->order = (unsigned)o;
			chain = h;
		}
	return chain;
}

void ktest_unhold(struct ktest_hold *h)
{
	while (h) {
		struct ktest_hold *next = h->next;

		free_pages(virt_to_page(h), h->order);
		h = next;
	}
}
