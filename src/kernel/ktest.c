/* ktest.c - the KTAP runner: one top-level test per suite, each suite a
 * subtest with one line per case (KTAP version 1 nesting, 4 spaces). */
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/console.h"

extern const struct ktest_suite _ktest_start[], _ktest_end[];

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

		s->cases[i].fn(&t);
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
	for (const struct ktest_suite *s = _ktest_start; s < _ktest_end; s++)
		if (matches(s, name))
			failed += run_suite(s, ++index);
	kprintf("# selftest: %d failed\n", failed);
	return failed;
}

void ktest_list(void)
{
	for (const struct ktest_suite *s = _ktest_start; s < _ktest_end; s++)
		kprintf("%s\n", s->name);
}
