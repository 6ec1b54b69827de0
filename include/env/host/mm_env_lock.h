/* mm_env_lock.h (host) - the mm lock and the calling CPU on the host:
 * nothing to take (the host programs are single-threaded), CPU 0. Found
 * through the host include path; the kernel has its own
 * (include/env/kernel). */
#ifndef TALLY_MM_ENV_LOCK_H
#define TALLY_MM_ENV_LOCK_H

#define MM_MAX_CPUS 1

static inline unsigned long mm_lock(void)
{
	return 0;
}

static inline void mm_unlock(unsigned long state)
{
	(void)state;
}

static inline unsigned mm_cpu(void)
{
	return 0;
}

#endif
