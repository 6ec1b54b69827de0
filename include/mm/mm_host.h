/* mm_host.h - run Tally's allocator stack in a user-space program.
 *
 * Link build/host/libmm.a (make host-mm), call mm_host_init() with a block
 * of memory, then use mm/kmalloc.h, mm/slab.h, mm/heap.h and mm/buddy.h as
 * the kernel does. Not in the kernel, which sets up from the device tree.
 * MM_HOST_GROW_PHYS_BASE is also the growing arena's (common/mm_grow.h),
 * which Tally's user programs' malloc runs on too (user/lib/malloc.c). */
#ifndef TALLY_MM_MM_HOST_H
#define TALLY_MM_MM_HOST_H

#include <stddef.h>
#include <stdint.h>

/* Where the arena pretends to sit in physical memory. */
#define MM_HOST_PHYS_BASE 0x80000000ULL
/* Where a growing arena does: at 4 GiB, so it is all one zone (High). */
#define MM_HOST_GROW_PHYS_BASE 0x100000000ULL

/* Hand [arena, arena + bytes) to the mm layer as its only RAM region (one
 * zone), pretending it starts at MM_HOST_PHYS_BASE: page_alloc_init(),
 * kmalloc_init() (which resets the modules below it), mm_txn_reset(). The
 * arena is trimmed to whole 4 KiB pages; the frame array lives inside it.
 * May be called again (with any arena) to start over: earlier blocks are
 * forgotten, and every module is as in a fresh process (no transaction
 * open, fault injection off and zeroed, debug checks and leak tracking
 * off, mode hybrid, statistics zeroed, only the allocators' own keepers
 * registered). Returns 0; -EINVAL when arena is NULL or holds no whole
 * page; else page_alloc_init()'s or kmalloc_init()'s error. */
int mm_host_init(void *arena, size_t bytes);

/* An arena that grows (libtally.so's): reserve `reserved` bytes of address
 * space (PROT_NONE, MAP_NORESERVE: nothing backed, nothing committed),
 * make the first `initial` usable and set the mm layer up on it as
 * mm_host_init does, with the frame array in a reservation of its own
 * with room for all of it (its entries are written, so backed, only as
 * frames join). From then on, when a request still fails after the
 * keepers gave back what they keep, the grower (mm_set_grow) makes more
 * of the reservation usable and hot-adds it (page_hot_add): at least the
 * request, at least `step` bytes (0: one MAX_ORDER block, 4 MiB), at
 * least an eighth of the arena; a request fails only once the
 * reservation is used up or the system refuses (mprotect). Free memory
 * goes back: free blocks of 2 MiB and more beyond a keep are given to
 * madvise(MADV_DONTNEED) as they form (mm_set_release, mm/buddy.h), so
 * the resident set follows use. Sizes are
 * rounded up to 4 MiB. May be called again: the last arena is unmapped
 * and forgotten, as mm_host_init forgets. Returns 0; -EINVAL initial 0,
 * above reserved, or reserved over 2^32 frames (16 TiB); -ENOMEM the
 * system refused the reservation; page_alloc_init's or kmalloc_init's
 * error. */
int mm_host_init_growing(size_t initial, size_t reserved, size_t step);

/* fork(2) in a threaded program: mm_atfork_prepare and _parent
 * (mm/fork.h) around it, and in the child this: mm_atfork_child, then
 * the indexes of the threads that did not come along are free again
 * (their magazines and page lists stay with the index for the next
 * thread that claims it). For pthread_atfork. */
void mm_host_atfork_child(void);

/* Called by mm_host_init before it sets up (mm_host_grow.c: the growing
 * arena unmaps itself); NULL: nothing. */
extern void (*mm_host_before_init)(void);

/* Bytes of the growing arena usable now (0: none set up). */
size_t mm_host_arena_bytes(void);

/* The growing arena's whole reservation, [*lo, *hi) (both 0: none): fixed
 * from mm_host_init_growing on, so a caller may test pointers against it
 * without a lock. */
void mm_host_arena_span(uintptr_t *lo, uintptr_t *hi);

#endif
