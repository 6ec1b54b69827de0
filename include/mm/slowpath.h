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

/* Set (on) or clear the reason bit why; mm lock held. */
void mm_force_slow_path(unsigned why, bool on);

#endif
