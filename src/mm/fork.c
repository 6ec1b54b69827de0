/* fork.c - every lock of the mm stack held across fork(2) (mm/fork.h).
 *
 * Lock order (mm/buddy.c): mm lock -> CPU gates -> heap_lock -> the slab
 * caches' locks (by index: nothing else ever holds two, since a cache's
 * lock is taken inside a gate or under the mm lock, both held here) ->
 * zone locks (ascending). Released in reverse. */
#include "mm/fork.h"
#include "mm/mm_env.h"
#include "mm_internal.h"
#include "heap_internal.h"
#include "slab_internal.h"

static struct {
	unsigned long mm, heap, zones[NR_ZONES];
} held;

void mm_atfork_prepare(void)
{
	held.mm = mm_lock();
	mm_gates_stop();
	held.heap = heap_lock();
	slab_lock_all();
	buddy_zones_lock(held.zones);
}

static void release(void)
{
	buddy_zones_unlock(held.zones);
	slab_unlock_all();
	heap_unlock(held.heap);
	mm_gates_start();
	mm_unlock(held.mm);
}

void mm_atfork_parent(void)
{
	release();
}

void mm_atfork_child(void)
{
	release();
}
