/* mm_env_user.c - the mm environment (mm/mm_env.h) of a Tally user
 * process, where src/mm serves malloc (malloc.c): the one CPU's gate
 * word, the clock (clock_gettime), reports to fd 2 with an "mm: "
 * prefix, and Tally's memory calls for the growing arena
 * (common/mm_grow.h). The lock and the rest are inline in
 * include/env/user. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mm/mm_env.h"
#include "mm_user_grow.h"

struct mm_cpu_gate mm_user_gate;
int mm_user_gates_closed = 1;   /* mm_slow_paths starts with MM_SLOW_SETUP */

/* One write(2) per report, so a line is never split by the program's own
 * output; cut at 255 bytes. */
void mm_report(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	memcpy(line, "mm: ", 4);
	va_start(ap, fmt);
	n = vsnprintf(line + 4, sizeof(line) - 5, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	n += 4;
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	line[n++] = '\n';
	write(2, line, (size_t)n);
}

/* A structure's lock taken twice: with one thread that can only be the mm
 * code's own mistake, which would deadlock the kernel or the host. */
void mm_user_spin_again(mm_spinlock_t *l)
{
	mm_report("lock %s taken again by its holder", l->name ? l->name : "?");
	_exit(134);
}

/* picolibc declares it only under _POSIX_MONOTONIC_CLOCK (posix.c maps it) */
#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC ((clockid_t)4)
#endif

/* posix.c's; picolibc declares it only under _POSIX_TIMERS */
int clock_gettime(clockid_t clk, struct timespec *tp);

unsigned long long mm_clock_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* The arena's reservation is PROT_NONE without MAP_NORESERVE: nothing is
 * committed until a part is made writable, and then Tally's strict commit
 * judges it (kernel/mman.h) -- growth that memory cannot back is an
 * mprotect refusal, so malloc's NULL with ENOMEM, never an out-of-memory
 * kill at a later touch, which a MAP_NORESERVE area (not committed even
 * when writable) would risk. */
static void *user_reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int user_commit(void *addr, size_t bytes)
{
	return mprotect(addr, bytes, PROT_READ | PROT_WRITE);
}

static void user_decommit(void *addr, size_t bytes)
{
	mprotect(addr, bytes, PROT_NONE);
}

/* The frames go back (RSS falls); the promise stays, as Linux's
 * MADV_DONTNEED keeps it, so the block can be used again. */
static void user_release(void *addr, size_t bytes)
{
	madvise(addr, bytes, MADV_DONTNEED);
}

static void user_unreserve(void *addr, size_t bytes)
{
	munmap(addr, bytes);
}

const struct mm_grow_ops mm_user_grow_ops = {
	.reserve = user_reserve,
	.commit = user_commit,
	.decommit = user_decommit,
	.release = user_release,
	.unreserve = user_unreserve,
};
