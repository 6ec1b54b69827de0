/* selftest_lockdep.c - the "lockdep" KTAP suite: lock debugging
 * (kernel/lockdep.h) finds an order inversion on one hart and across two
 * harts (the order table is global), names the call sites of both the
 * recorded order and the current take, stays quiet for a consistent order,
 * reports a release of a lock not held and one out of order, and says once
 * when its order table is full. Each case runs on empty tables
 * (lockdep_test_begin) and puts the user's back afterwards. The locks'
 * call sites are the helpers below, each its own function (noinline,
 * noclone), so a report's sites can be checked by name. */
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/ksyms.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "lib/printf.h"
#include "arch/riscv.h"
#include "kerrno.h"
#include "lockdep_internal.h"

#define HELPER __attribute__((noinline, noclone))

static struct spinlock lk_a = SPINLOCK_INIT("lockdep test A");
static struct spinlock lk_b = SPINLOCK_INIT("lockdep test B");
static struct spinlock lk_c = SPINLOCK_INIT("lockdep test C");
static struct spinlock lk_d = SPINLOCK_INIT("lockdep test D");

/* Whether a recorded call site lies in the function named fn. */
static int site_in(const void *site, const char *fn)
{
	uintptr_t off;
	const char *name = ksym_lookup((uintptr_t)site, &off);

	return name && !strcmp(name, fn);
}

static int lock_free(const struct spinlock *l)
{
	return l->holder == -1 && l->next == l->serving;
}

static struct lockdep_stats stats(void)
{
	struct lockdep_stats st;

	lockdep_get_stats(&st);
	return st;
}

/* Take x, then y while holding x; release in reverse. Inlined into the
 * named helpers below, so the call sites lockdep records (the return
 * addresses of the takes) fall in them. */
static inline __attribute__((always_inline)) void take_pair(struct spinlock *x,
							    struct spinlock *y)
{
	unsigned long fx = spin_lock_irqsave(x);
	unsigned long fy = spin_lock_irqsave(y);

	spin_unlock_irqrestore(y, fy);
	spin_unlock_irqrestore(x, fx);
}

HELPER static void ld_a_then_b(void) { take_pair(&lk_a, &lk_b); }
HELPER static void ld_b_then_a(void) { take_pair(&lk_b, &lk_a); }
HELPER static void ld_b_then_c(void) { take_pair(&lk_b, &lk_c); }
HELPER static void ld_c_then_a(void) { take_pair(&lk_c, &lk_a); }
HELPER static void ld_a_then_c(void) { take_pair(&lk_a, &lk_c); }

/* A -> B recorded, then B -> A on the same hart: reported once with the
 * four call sites, counted every time; the locks work as ever. */
static void test_inversion_one_hart(struct ktest *t)
{
	struct lockdep_inversion v;
	struct lockdep_stats st;

	lockdep_test_begin();
	ld_a_then_b();
	ktest_provoke(t);
	ld_b_then_a();
	KT_EXPECT(t, ktest_provoked(t) == 1);
	st = stats();
	KT_EXPECT(t, st.inversions == 1 && st.edges == 1 && st.classes == 2);
	KT_EXPECT(t, lockdep_last_inversion(&v) == 0);
	KT_EXPECT(t, v.hart == 0 && v.nedges == 1);
	KT_EXPECT(t, !strcmp(v.taken, "lockdep test A") && !strcmp(v.held, "lockdep test B"));
	KT_EXPECT(t, site_in(v.taken_site, "ld_b_then_a") && site_in(v.held_site, "ld_b_then_a") &&
		     v.taken_site != v.held_site);
	KT_EXPECT(t, !strcmp(v.path[0].from, "lockdep test A") &&
		     !strcmp(v.path[0].to, "lockdep test B") && v.path[0].hart == 0);
	KT_EXPECT(t, site_in(v.path[0].from_site, "ld_a_then_b") &&
		     site_in(v.path[0].to_site, "ld_a_then_b") &&
		     v.path[0].from_site != v.path[0].to_site);
	ktest_provoke(t);
	ld_b_then_a();   /* the same pair again: counted, not said again */
	KT_EXPECT(t, ktest_provoked(t) == 0);
	st = stats();
	KT_EXPECT(t, st.inversions == 2 && st.edges == 1);
	KT_EXPECT(t, lock_free(&lk_a) && lock_free(&lk_b));
	lockdep_test_end();
}

/* The same order every time, nested three deep: orders recorded, no
 * report. */
static void test_consistent_order(struct ktest *t)
{
	struct lockdep_inversion v;
	struct lockdep_stats st;
	unsigned long fa, fb, fc;

	lockdep_test_begin();
	ktest_provoke(t);
	ld_a_then_b();
	ld_a_then_b();
	fa = spin_lock_irqsave(&lk_a);
	fb = spin_lock_irqsave(&lk_b);
	fc = spin_lock_irqsave(&lk_c);
	spin_unlock_irqrestore(&lk_c, fc);
	spin_unlock_irqrestore(&lk_b, fb);
	spin_unlock_irqrestore(&lk_a, fa);
	ld_b_then_c();
	KT_EXPECT(t, ktest_provoked(t) == 0);
	st = stats();
	KT_EXPECT(t, st.edges == 3 && st.classes == 3);   /* A->B, A->C, B->C */
	KT_EXPECT(t, st.inversions == 0 && st.unheld_releases == 0 && st.out_of_order == 0);
	KT_EXPECT(t, lockdep_last_inversion(&v) == -ENOENT);
	lockdep_test_end();
}

/* A -> B and B -> C recorded; C then A closes the cycle through B: the
 * report names both recorded orders with their sites. */
static void test_inversion_through_chain(struct ktest *t)
{
	struct lockdep_inversion v;

	lockdep_test_begin();
	ld_a_then_b();
	ld_b_then_c();
	ktest_provoke(t);
	ld_c_then_a();
	KT_EXPECT(t, ktest_provoked(t) == 1);
	KT_EXPECT(t, stats().inversions == 1);
	KT_EXPECT(t, lockdep_last_inversion(&v) == 0 && v.nedges == 2);
	KT_EXPECT(t, !strcmp(v.taken, "lockdep test A") && !strcmp(v.held, "lockdep test C") &&
		     site_in(v.taken_site, "ld_c_then_a") && site_in(v.held_site, "ld_c_then_a"));
	KT_EXPECT(t, !strcmp(v.path[0].to, "lockdep test B") &&
		     site_in(v.path[0].from_site, "ld_a_then_b") &&
		     site_in(v.path[1].from_site, "ld_b_then_c") &&
		     !strcmp(v.path[1].to, "lockdep test C"));
	lockdep_test_end();
}

/* A release of a lock no one holds is reported and changes nothing (the
 * ticket count stays sound); a release out of order is reported and the
 * stack stays right for the next release. */
static void test_bad_releases(struct ktest *t)
{
	struct lockdep_stats st;
	unsigned long f, fa, fb;

	lockdep_test_begin();
	ktest_provoke(t);
	f = irq_save();
	spin_unlock_irqrestore(&lk_d, f);   /* never taken */
	KT_EXPECT(t, ktest_provoked(t) == 1);
	KT_EXPECT(t, lock_free(&lk_d) && lk_d.next == 0);
	ktest_provoke(t);
	take_pair(&lk_d, &lk_a);   /* still takes and releases as ever */
	KT_EXPECT(t, ktest_provoked(t) == 0 && lock_free(&lk_d));
	ktest_provoke(t);
	fa = spin_lock_irqsave(&lk_a);
	fb = spin_lock_irqsave(&lk_b);
	spin_unlock_irqrestore(&lk_a, fb);   /* A before B */
	spin_unlock_irqrestore(&lk_b, fa);
	KT_EXPECT(t, ktest_provoked(t) == 1);
	st = stats();
	KT_EXPECT(t, st.unheld_releases == 1 && st.out_of_order == 1 && st.inversions == 0);
	KT_EXPECT(t, lock_free(&lk_a) && lock_free(&lk_b));
	lockdep_test_end();
}

/* Taken while debugging was off: not tracked, so its release is not
 * reported either; no order is recorded while off. */
static void test_off_records_nothing(struct ktest *t)
{
	unsigned long fa;

	lockdep_test_begin();
	lockdep_set(false);
	ktest_provoke(t);
	ld_a_then_b();
	fa = spin_lock_irqsave(&lk_a);
	lockdep_set(true);
	ld_b_then_c();   /* holding A, untracked: records only B -> C */
	spin_unlock_irqrestore(&lk_a, fa);
	ld_b_then_a();   /* A -> B was never recorded: no inversion */
	KT_EXPECT(t, ktest_provoked(t) == 0);
	KT_EXPECT(t, stats().edges == 2 && stats().unheld_releases == 0);
	lockdep_test_end();
}

/* The table holds LOCKDEP_EDGES orders: twelve classes taken pairwise in
 * one order make 66; two are dropped, said once. */
static struct spinlock many[12] = {
	SPINLOCK_INIT("lockdep test 0"), SPINLOCK_INIT("lockdep test 1"),
	SPINLOCK_INIT("lockdep test 2"), SPINLOCK_INIT("lockdep test 3"),
	SPINLOCK_INIT("lockdep test 4"), SPINLOCK_INIT("lockdep test 5"),
	SPINLOCK_INIT("lockdep test 6"), SPINLOCK_INIT("lockdep test 7"),
	SPINLOCK_INIT("lockdep test 8"), SPINLOCK_INIT("lockdep test 9"),
	SPINLOCK_INIT("lockdep test 10"), SPINLOCK_INIT("lockdep test 11"),
};

static void test_table_full(struct ktest *t)
{
	struct lockdep_stats st;
	unsigned pairs = 0;

	_Static_assert(12 * 11 / 2 > LOCKDEP_EDGES && 12 <= LOCKDEP_CLASSES, "pairs overflow");
	lockdep_test_begin();
	ktest_provoke(t);
	for (unsigned i = 0; i < 12; i++)
		for (unsigned j = i + 1; j < 12; j++, pairs++)
			take_pair(&many[i], &many[j]);
	take_pair(&many[0], &many[1]);   /* recorded already: nothing dropped */
	KT_EXPECT(t, ktest_provoked(t) == 1);
	st = stats();
	KT_EXPECT(t, st.edges == LOCKDEP_EDGES && st.classes == 12);
	KT_EXPECT(t, st.edges_dropped == pairs - LOCKDEP_EDGES && st.inversions == 0);
	lockdep_test_end();
}

/* A hart holding LOCKDEP_DEPTH locks takes one more: said once, that one
 * not tracked (its release not reported), the rest as ever. */
static void test_too_deep(struct ktest *t)
{
	unsigned long f[LOCKDEP_DEPTH + 2];
	struct lockdep_stats st;
	int n = LOCKDEP_DEPTH + 2;

	_Static_assert(LOCKDEP_DEPTH + 2 <= 12, "not enough locks");
	lockdep_test_begin();
	ktest_provoke(t);
	for (int i = 0; i < n; i++)
		f[i] = spin_lock_irqsave(&many[i]);
	for (int i = n - 1; i >= 0; i--)
		spin_unlock_irqrestore(&many[i], f[i]);
	KT_EXPECT(t, ktest_provoked(t) == 1);
	st = stats();
	KT_EXPECT(t, st.too_deep == 2 && st.unheld_releases == 0 && st.out_of_order == 0);
	/* the tracked ones' orders among themselves and to each untracked one
	 * (seen all the same); none from an untracked one (on no stack) */
	KT_EXPECT(t, st.edges == LOCKDEP_DEPTH * (LOCKDEP_DEPTH - 1) / 2 + 2 * LOCKDEP_DEPTH);
	for (int i = 0; i < n; i++)
		KT_EXPECT(t, lock_free(&many[i]));
	lockdep_test_end();
}

/* One class more than the table holds: said once, that lock's orders not
 * checked; it still takes and releases as ever. */
#define NAMED (LOCKDEP_CLASSES + 1)
static char names[NAMED][24];
static struct spinlock named[NAMED];

static void test_class_table_full(struct ktest *t)
{
	struct lockdep_stats st;

	for (int i = 0; i < NAMED; i++) {
		ksnprintf(names[i], sizeof(names[i]), "lockdep class %d", i);
		named[i] = (struct spinlock)SPINLOCK_INIT(names[i]);
	}
	lockdep_test_begin();
	ktest_provoke(t);
	for (int i = 0; i < NAMED; i++) {
		unsigned long f = spin_lock_irqsave(&named[i]);

		spin_unlock_irqrestore(&named[i], f);
	}
	take_pair(&named[NAMED - 1], &named[0]);   /* both ways: no order checked */
	take_pair(&named[0], &named[NAMED - 1]);
	KT_EXPECT(t, ktest_provoked(t) == 1);
	st = stats();
	KT_EXPECT(t, st.classes == LOCKDEP_CLASSES && st.classes_dropped == 1);
	KT_EXPECT(t, st.edges == 0 && st.inversions == 0);
	KT_EXPECT(t, lock_free(&named[NAMED - 1]) && lock_free(&named[0]));
	lockdep_test_end();
}

/* ---- two harts ----------------------------------------------------------- */

static void on_hart_a_then_b(void *arg)
{
	(void)arg;
	ld_a_then_b();
}

static void on_hart_a_then_c(void *arg)
{
	(void)arg;
	ld_a_then_c();
}

/* Orders taken on different harts at different times (so nothing
 * deadlocks) meet in the one table: hart 1's A -> B against hart 0's
 * B -> A, then hart 0's C -> A against hart 1's A -> C. */
static void test_inversion_two_harts(struct ktest *t)
{
	struct lockdep_inversion v;

	if (nharts < 2) {
		KT_SKIP(t, "one hart");
		return;
	}
	lockdep_test_begin();
	KT_EXPECT(t, smp_call(1, on_hart_a_then_b, NULL) == 0);
	ktest_provoke(t);
	ld_b_then_a();
	KT_EXPECT(t, ktest_provoked(t) == 1);
	KT_EXPECT(t, lockdep_last_inversion(&v) == 0 && v.hart == 0 && v.nedges == 1 &&
		     v.path[0].hart == 1);
	KT_EXPECT(t, site_in(v.taken_site, "ld_b_then_a") &&
		     site_in(v.path[0].from_site, "ld_a_then_b") &&
		     site_in(v.path[0].to_site, "ld_a_then_b"));
	ld_c_then_a();   /* C -> A recorded on hart 0 */
	ktest_provoke(t);
	KT_EXPECT(t, smp_call(1, on_hart_a_then_c, NULL) == 0);
	KT_EXPECT(t, ktest_provoked(t) == 1);
	KT_EXPECT(t, lockdep_last_inversion(&v) == 0 && v.hart == 1 && v.path[0].hart == 0);
	KT_EXPECT(t, site_in(v.taken_site, "ld_a_then_c") &&
		     site_in(v.path[0].from_site, "ld_c_then_a"));
	KT_EXPECT(t, stats().inversions == 2);
	KT_EXPECT(t, lock_free(&lk_a) && lock_free(&lk_b) && lock_free(&lk_c));
	lockdep_test_end();
}

static const struct ktest_case lockdep_cases[] = {
	{ "inversion_one_hart_reported", test_inversion_one_hart },
	{ "consistent_order_no_report", test_consistent_order },
	{ "inversion_through_a_chain", test_inversion_through_chain },
	{ "bad_releases_reported", test_bad_releases },
	{ "off_records_nothing", test_off_records_nothing },
	{ "edge_table_full_said_once", test_table_full },
	{ "held_too_deep_said_once", test_too_deep },
	{ "class_table_full_said_once", test_class_table_full },
	{ "inversion_across_two_harts", test_inversion_two_harts },
};
KTEST_SUITE(lockdep_suite, "lockdep", lockdep_cases);
