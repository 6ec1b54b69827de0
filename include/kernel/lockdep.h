/* lockdep.h - lock debugging for the kernel's spinlocks: Linux's lockdep
 * in miniature, switched at run time (`memdebug locks on|off`), off at
 * boot (there is no debug build).
 *
 * Every spinlock belongs to a class, its name. While debugging is on, each
 * hart keeps a stack of the locks it holds (with where each was taken);
 * taking lock B while holding A records the order A -> B in one global
 * table of edges, with the hart and the two call sites of the first time
 * it was seen. Taking a lock whose class already leads, through recorded
 * edges, to the class of one the hart holds is an order inversion: two
 * harts doing both could deadlock. It is reported (the current call sites
 * and every recorded edge of the path, with theirs), counted, and the
 * lock taken as asked -- a report, not a panic. Also reported: releasing a
 * lock this hart does not hold (the lock is then left as it is), and
 * releasing out of order. The tables are fixed-size; what does not fit is
 * counted and said once. Trylocks are pushed on the stack but record no
 * edge to themselves (they cannot wait). Two locks of one class held at
 * once are not checked against each other.
 *
 * Not lockdep: taking a lock the hart already holds stays a panic in
 * spinlock.c, on or off (it deadlocks for sure). The mm lock
 * (include/env/kernel/mm_env_lock.h) is not a struct spinlock and is not
 * tracked. With debugging off, the lock paths pay one load and a branch. */
#ifndef TALLY_KERNEL_LOCKDEP_H
#define TALLY_KERNEL_LOCKDEP_H

#include <stdbool.h>

#define LOCKDEP_CLASSES 32   /* lock classes (names) known at once */
#define LOCKDEP_EDGES   64   /* recorded orders A -> B */
#define LOCKDEP_DEPTH   8    /* locks one hart holds at once, tracked */

struct lockdep_stats {
	bool on;
	unsigned classes;              /* classes met while on */
	unsigned edges;                /* orders recorded */
	unsigned long inversions;      /* takes against a recorded order */
	unsigned long edges_dropped;   /* takes that met a new order the full table
					  could not hold */
	unsigned long unheld_releases; /* releases of a lock this hart did not hold */
	unsigned long out_of_order;    /* releases of a lock not taken last */
	unsigned long classes_dropped; /* locks whose class found no slot */
	unsigned long too_deep;        /* takes beyond LOCKDEP_DEPTH held locks */
};

/* Read on every lock path; change it only through lockdep_set() (or as
 * smp_stop_others does before a panic's report: a plain store of 0). */
extern int lockdep_enabled;

/* Turn lock debugging on or off. What was recorded stays (orders seen
 * before still count); each hart's stack of held locks starts empty, so
 * locks taken before it was turned on are not tracked until released. */
void lockdep_set(bool on);

/* The figures, read from the tables as they are now. */
void lockdep_get_stats(struct lockdep_stats *out);

#endif
