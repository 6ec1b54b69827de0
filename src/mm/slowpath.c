/* slowpath.c - the gate word of mm/slowpath.h. */
#include "mm/slowpath.h"

unsigned mm_slow_paths = MM_SLOW_SETUP;   /* until kmalloc_init succeeds */

/* Written under the mm lock; a relaxed store, since kmalloc also reads it
 * without the lock (a first look, checked again under it). */
void mm_force_slow_path(unsigned why, bool on)
{
	unsigned w = on ? mm_slow_paths | why : mm_slow_paths & ~why;

	__atomic_store_n(&mm_slow_paths, w, __ATOMIC_RELAXED);
}
