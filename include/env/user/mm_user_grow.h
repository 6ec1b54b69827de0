/* mm_user_grow.h - the user environment's memory calls for the growing
 * arena (common/mm_grow.h): Tally's mmap (PROT_NONE, committed by
 * nothing), mprotect (committed: strict commit may refuse), madvise
 * (MADV_DONTNEED) and munmap, in user/lib/mm_env_user.c; malloc.c hands
 * them to mm_grow_init. */
#ifndef TALLY_ENV_USER_MM_USER_GROW_H
#define TALLY_ENV_USER_MM_USER_GROW_H

#include "common/mm_grow.h"

extern const struct mm_grow_ops mm_user_grow_ops;

#endif
