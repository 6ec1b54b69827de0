/* reset_internal.h - clearing a layer's static tables at its reset
 * (page_alloc_init, kmalloc_init and the resets they call) without making
 * them resident.
 *
 * Static storage starts zeroed. A reset that writes zeros over a table
 * nothing has written yet makes every page of it resident on the host,
 * where the per-CPU tables are sized for 64 threads and a program under
 * libtally.so uses one or two of them: so the first reset in a program
 * writes nothing, and only a later one (the host tests set the mm layer
 * up again and again) clears what the last life left. Nothing writes a
 * table before its layer's first reset. */
#ifndef TALLY_RESET_INTERNAL_H
#define TALLY_RESET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Zero bytes bytes at p unless *once is still false (the first reset: they
 * are zero); *once is true after. */
static inline void mm_reset_static(void *p, size_t bytes, bool *once)
{
	if (*once)
		memset(p, 0, bytes);
	*once = true;
}

#endif
