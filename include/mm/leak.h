/* leak.h - allocation tracking for leak reports (kmemleak's spirit, far
 * simpler): while tracking is on, every kmalloc block remembers its call
 * site, size and a sequence number until it is freed.
 *
 * Off by default; the only cost when off is one flag test in kmalloc and
 * kfree. Blocks allocated while it was off are not tracked. Tracking
 * records live in pages taken straight from the buddy allocator
 * (GFP_NOINJECT): when none can be had, the block is still handed out and
 * counted as untracked. */
#ifndef TALLY_MM_LEAK_H
#define TALLY_MM_LEAK_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct leak_site {
	void *caller;            /* return address inside the allocating function */
	unsigned long blocks;
	uint64_t bytes;          /* requested bytes */
	uint32_t first_seq, last_seq;
};

struct leak_stats {
	bool tracking;
	unsigned long live;      /* tracked blocks alive now */
	unsigned long untracked; /* allocations missed for want of memory */
	uint32_t seq;            /* sequence number of the last tracked block */
	uint32_t mark;           /* sequence number at the last leak_mark() */
	unsigned long record_pages;
};

/* Switch tracking. Turning it off forgets every record and gives their
 * pages back. */
void leak_track(bool on);

/* Remember the current sequence number: leak_report(..., true) then shows
 * only blocks allocated after this point. */
void leak_mark(void);

/* Live tracked blocks grouped by call site, the most bytes first, at most
 * max sites in out. since_mark: only blocks allocated after leak_mark().
 * Returns the number of sites; more than max means some were left out. */
int leak_report(struct leak_site *out, int max, bool since_mark);

void leak_get_stats(struct leak_stats *out);

/* Hooks for kmalloc.c, called with the mm lock held. */
extern bool leak_tracking_on;
void leak_note_alloc(const void *p, size_t size, void *caller);
void leak_note_free(const void *p);

/* Forget everything without touching memory (kmalloc_init on the host). */
void leak_reset(void);

#endif
