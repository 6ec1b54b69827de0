/* mm_debug.c - the switches and counters behind mm/mm_debug.h.
 *
 * Only state and byte scanning live here; each allocator decides where its
 * poison and red zones go. The counters are atomic: a slab cache counts
 * under its own lock only (slab.c); the switches change under the mm lock
 * and are read without it. */
#include "mm/mm_debug.h"
#include "mm/slowpath.h"
#include "mm/mm_env.h"
#include "kerrno.h"

unsigned mm_debug_flags;
static struct mm_debug_stats debug_stats;
static unsigned long (*on_poison)(void);   /* mm_debug_on_poison() */

void mm_debug_on_poison(unsigned long (*fn)(void))
{
	on_poison = fn;
}

int mm_debug_set(unsigned mask, bool on)
{
	unsigned long s;

	if (mask & ~MM_DEBUG_ALL)
		return -EINVAL;
	s = mm_lock();
	__atomic_store_n(&mm_debug_flags, on ? mm_debug_flags | mask : mm_debug_flags & ~mask,
			 __ATOMIC_RELAXED);
	mm_force_slow_path(MM_SLOW_DEBUG, mm_debug_flags != 0);
	if (on && (mask & MM_DEBUG_POISON) && on_poison)
		on_poison();
	mm_unlock(s);
	return 0;
}

unsigned mm_debug_get(void)
{
	return mm_debug_flags;
}

void mm_debug_get_stats(struct mm_debug_stats *out)
{
	out->poison_violations = __atomic_load_n(&debug_stats.poison_violations, __ATOMIC_RELAXED);
	out->redzone_violations = __atomic_load_n(&debug_stats.redzone_violations, __ATOMIC_RELAXED);
	out->corruptions = __atomic_load_n(&debug_stats.corruptions, __ATOMIC_RELAXED);
}

void mm_debug_reset(void)
{
	__atomic_store_n(&mm_debug_flags, 0, __ATOMIC_RELAXED);
	mm_force_slow_path(MM_SLOW_DEBUG, false);
	debug_stats = (struct mm_debug_stats){ 0 };   /* set-up: no other CPU in the mm */
	on_poison = NULL;
}

void mm_debug_count_poison(void)
{
	__atomic_fetch_add(&debug_stats.poison_violations, 1, __ATOMIC_RELAXED);
}

void mm_debug_count_redzone(void)
{
	__atomic_fetch_add(&debug_stats.redzone_violations, 1, __ATOMIC_RELAXED);
}

void mm_debug_count_corruption(void)
{
	__atomic_fetch_add(&debug_stats.corruptions, 1, __ATOMIC_RELAXED);
}

size_t mm_debug_find_not(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != c)
			return i;
	return n;
}
