/* slowpath.c - the gate word of mm/slowpath.h. */
#include "mm/slowpath.h"

unsigned mm_slow_paths = MM_SLOW_SETUP;   /* until kmalloc_init succeeds */

void mm_force_slow_path(unsigned why, bool on)
{
	if (on)
		mm_slow_paths |= why;
	else
		mm_slow_paths &= ~why;
}
