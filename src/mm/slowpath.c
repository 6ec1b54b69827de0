/* slowpath.c - the gate word of mm/slowpath.h. */
#include "mm/slowpath.h"
#include "mm/mm_env.h"

unsigned mm_slow_paths = MM_SLOW_SETUP;   /* until kmalloc_init succeeds */

/* Written under the mm lock; a relaxed store, since the page lists' fast
 * paths read it inside their CPU's gate without the lock. Returns whether
 * it changed. */
static bool slow_path_store(unsigned why, bool on)
{
	unsigned w = on ? mm_slow_paths | why : mm_slow_paths & ~why;

	if (w == mm_slow_paths)
		return false;
	__atomic_store_n(&mm_slow_paths, w, __ATOMIC_RELAXED);
	return true;
}

/* Every gate is stopped once after the store, so no fast path that read
 * the old word is still running when the caller goes on, and given back
 * closed to kmalloc's fast paths while any reason is set: they test the
 * gate's open word, not this one (mm/mm_env.h). */
void mm_force_slow_path(unsigned why, bool on)
{
	if (!slow_path_store(why, on))
		return;
	mm_gates_stop();
	mm_gates_close(mm_slow_paths != 0);
	mm_gates_start();
}

/* The caller holds every gate: they open (or not) on the new word when it
 * gives them back. */
void mm_force_slow_path_stopped(unsigned why, bool on)
{
	if (slow_path_store(why, on))
		mm_gates_close(mm_slow_paths != 0);
}
