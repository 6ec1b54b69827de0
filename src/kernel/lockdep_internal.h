/* lockdep_internal.h - what spinlock.c and the lockdep KTAP suite see of
 * lockdep.c beyond kernel/lockdep.h: the lock paths' hooks, the last
 * inversion found, and a clean table for a test case. */
#ifndef TALLY_LOCKDEP_INTERNAL_H
#define TALLY_LOCKDEP_INTERNAL_H

#include <stddef.h>
#include "kernel/lockdep.h"
#include "kernel/spinlock.h"

#define LOCKDEP_PATH 4   /* edges of an inversion's path kept for its report */

/* Called with interrupts off, only while lockdep_enabled. acquire: before
 * a blocking take waits (the order is checked then, so a deadlock is
 * reported before it hangs) and after a trylock succeeded (try = 1: no
 * order checked). release: before the lock is released; 0 when this hart
 * does not hold it, which was reported and must be left as it is. */
void lockdep_acquire(struct spinlock *l, void *site, int try);
int lockdep_release(struct spinlock *l, void *site);

/* A call site as "function+0xoff" (or the address outside the kernel's
 * text), in buf; returns buf. */
const char *lockdep_where(const void *site, char *buf, size_t n);

/* One recorded order: `from` was held when `to` was taken, on `hart`. */
struct lockdep_order {
	const char *from, *to;
	void *from_site, *to_site;
	unsigned hart;
};

/* An inversion as reported: `taken` at taken_site while holding `held`,
 * against the recorded path taken -> ... -> held (its first LOCKDEP_PATH
 * edges; nedges counts them all). */
struct lockdep_inversion {
	unsigned hart;
	const char *taken, *held;
	void *taken_site, *held_site;
	unsigned nedges;
	struct lockdep_order path[LOCKDEP_PATH];
};

/* The last inversion found; 0, or -ENOENT when none was since the tables
 * were last emptied. */
int lockdep_last_inversion(struct lockdep_inversion *out);

/* For a test case: put the tables and figures aside, start from empty ones
 * with debugging on; lockdep_test_end puts back what was there and the
 * on/off state, so a selftest leaves the user's figures as they were.
 * Hart 0 only, with no tracked lock held on any hart. */
void lockdep_test_begin(void);
void lockdep_test_end(void);

#endif
