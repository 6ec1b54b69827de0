/* mm_env_lock.h (kernel) - the mm lock, inline: interrupts off on the one
 * running hart, nestable (the state is the previous SIE bit). Found through
 * the kernel's include path; the host has its own (include/env/host). */
#ifndef TALLY_MM_ENV_LOCK_H
#define TALLY_MM_ENV_LOCK_H

#include "arch/riscv.h"

static inline unsigned long mm_lock(void)
{
	return irq_save();
}

static inline void mm_unlock(unsigned long state)
{
	irq_restore(state);
}

#endif
