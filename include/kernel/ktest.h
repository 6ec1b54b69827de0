/* ktest.h - in-kernel test suites that print KTAP (KTAP version 1).
 *
 * A suite is a named array of cases placed in the .ktest section by
 * KTEST_SUITE(); `selftest [suite]` and the boot argument selftest=NAME|all
 * run them. A case reports its checks with KT_EXPECT; a failed check prints
 * a diagnostic line and marks the case "not ok". */
#ifndef TALLY_KTEST_H
#define TALLY_KTEST_H

struct ktest {
	int failed;
	const char *skip;   /* set by KT_SKIP: the case did not apply */
};

struct ktest_case {
	const char *name;
	void (*fn)(struct ktest *t);
};

struct ktest_suite {
	const char *name;
	const struct ktest_case *cases;
	int ncases;
};

#define KTEST_SUITE(ident, sname, case_array)                                 \
	static const struct ktest_suite ident                                 \
	__attribute__((section(".ktest"), used, aligned(8))) = {              \
		sname, case_array, (int)(sizeof(case_array) / sizeof(case_array[0])) }

void ktest_check(struct ktest *t, int cond, const char *expr, const char *file, int line);
#define KT_EXPECT(t, cond) ktest_check((t), !!(cond), #cond, __FILE__, __LINE__)

/* Mark the case skipped (reported "ok N name # SKIP reason"). */
#define KT_SKIP(t, reason) ((t)->skip = (reason))

/* Faults a case provokes on purpose. Between ktest_provoke(t) and
 * ktest_provoked(t), every mm report is printed as a KTAP diagnostic
 * "    # expected: mm: ..." and counted; ktest_provoked returns the count
 * (a case asserts it). A case left provoking fails. Whatever a case that
 * passes provoked -- failures, wrong frees, debug violations, a failed
 * integrity check -- is left out of the system's figures afterwards
 * (mm_stats_excuse), so `memstat` after a passing selftest reads as
 * before it. */
void ktest_provoke(struct ktest *t);
int ktest_provoked(struct ktest *t);

/* For the kernel's mm_report: whether this report was provoked on purpose
 * (counted when it was). */
int ktest_report_expected(void);

#define KTEST_INTERRUPTED (-2)

/* Hold free memory -- the largest blocks first, never a target of fault
 * injection -- until about leave_pages pages stay free, so a case runs
 * near exhaustion in the same time whatever -m is. Returns what it holds
 * (NULL when nothing), for ktest_unhold to give back. */
struct ktest_hold;
struct ktest_hold *ktest_hold(unsigned long leave_pages);
void ktest_unhold(struct ktest_hold *h);

/* Run the suite named `name` ("all" or NULL for every suite). Prints KTAP;
 * returns the number of failed cases, -1 when no suite has that name, or
 * KTEST_INTERRUPTED when a Ctrl-C stopped it between two cases. */
int ktest_run(const char *name);

/* Print the suite names, one per line. */
void ktest_list(void);

#endif
