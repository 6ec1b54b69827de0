/* slowpath.h - the gate word in front of kmalloc's fast paths.
 *
 * Each layer that needs every request to take the full path while some
 * state holds sets its own reason bit: debug checks on, fault injection
 * on, leak tracking on, SimpleHeap mode, kmalloc's caches missing, the
 * caches bypassed (an undo that must put every block back where it came
 * from). The fast paths test the whole word: one load when nothing is on.
 * A leaf: it knows none of the layers that set it. */
#ifndef TALLY_MM_SLOWPATH_H
#define TALLY_MM_SLOWPATH_H

#include <stdbool.h>

enum {
	MM_SLOW_DEBUG    = 1u << 0,   /* mm_debug: checks on */
	MM_SLOW_FAULTINJ = 1u << 1,   /* faultinj: injection on */
	MM_SLOW_LEAK     = 1u << 2,   /* leak: tracking on */
	MM_SLOW_SIMPLE   = 1u << 3,   /* kmalloc: SimpleHeap mode */
	MM_SLOW_SETUP    = 1u << 4,   /* kmalloc: its caches could not be made */
	MM_SLOW_BYPASS   = 1u << 5,   /* kmalloc: frees bypass its caches */
};

/* Read on hot paths; change it only through mm_force_slow_path(). */
extern unsigned mm_slow_paths;

/* Set (on) or clear the reason bit why; mm lock held. Stops every gate
 * once after the store (when the word changed), so no fast path still
 * runs on the old word when the caller goes on. */
void mm_force_slow_path(unsigned why, bool on);

/* The same with every gate already stopped by the caller (mm lock held),
 * who changes more state the fast paths must see at the same moment
 * (kmalloc's mode with its counts' fold) and starts the gates after. */
void mm_force_slow_path_stopped(unsigned why, bool on);

#endif
