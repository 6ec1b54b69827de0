/* mm_grow.h - an arena for the mm layer that grows and shrinks with use,
 * over memory an operating system hands out: reserve address space, make
 * parts of it usable and hot-add them (page_hot_add) as the mm asks for
 * more (mm_set_grow), give whole free MAX_ORDER blocks back
 * (mm_set_release). Shared by the environments that run src/mm as a
 * program's allocator -- the host's (src/host/mm_host_grow.c: Linux's
 * mmap, mprotect, madvise) and Tally's user space (user/lib/malloc.c:
 * Tally's) -- which hand in the system calls as hooks; no OS or arch
 * header here, and nothing of it is in the kernel, whose RAM comes from
 * the device tree. One arena per program. */
#ifndef TALLY_COMMON_MM_GROW_H
#define TALLY_COMMON_MM_GROW_H

#include <stddef.h>
#include <stdint.h>

/* What the environment does with address space; bytes are whole pages,
 * addr page-aligned. */
struct mm_grow_ops {
	/* bytes of address space, none of it usable or committed yet: its
	 * address, or NULL when refused (mmap PROT_NONE) */
	void *(*reserve)(size_t bytes);
	/* make [addr, addr + bytes) of a reservation readable and writable,
	 * zero-filled at the first touch: 0, or non-zero when the system
	 * refuses (mprotect; Tally's strict commit says ENOMEM) */
	int (*commit)(void *addr, size_t bytes);
	/* undo commit (mprotect PROT_NONE) */
	void (*decommit)(void *addr, size_t bytes);
	/* the frames behind [addr, addr + bytes) go back; it stays usable and
	 * reads zero at the next touch (madvise MADV_DONTNEED). Called under a
	 * zone's lock: it must not call into the mm. */
	void (*release)(void *addr, size_t bytes);
	/* give a whole reservation back (munmap) */
	void (*unreserve)(void *addr, size_t bytes);
};

/* Reserve `reserved` bytes (rounded up to pages) for the arena and, apart,
 * room for its frame array; commit the first `initial` bytes (at most
 * reserved) and the array entries they need, and set the mm layer up on
 * them as mm_host_init does (page_alloc_init at MM_HOST_GROW_PHYS_BASE,
 * one zone, kmalloc_init, mm_txn_reset, mm_stats_reset). Then, when a
 * request still fails after the keepers gave back what they keep, the
 * grower commits the next part of the reservation and hot-adds it: at
 * least the request, `step` bytes (0: one MAX_ORDER block, 4 MiB) and an
 * eighth of the arena, in whole 4 MiB blocks, all that is left when less;
 * array entries are committed with their frames, so the array costs in
 * step with the arena. A request fails (the mm's NULL or -ENOMEM) only
 * once the reservation is used up or ops->commit refuses. Free blocks of
 * 2 MiB and more beyond the buddy allocator's keep go to ops->release as
 * they form (mm_set_release, mm/buddy.h). ops
 * must outlive the arena. An arena set up before is given back first.
 * Returns 0; -EINVAL initial 0 or reserved over 2^32 frames (16 TiB);
 * -ENOMEM a reservation or commit refused (nothing left reserved);
 * page_alloc_init's or kmalloc_init's error (the reservations kept until
 * mm_grow_forget, as mm_host_init's arena is the caller's). */
int mm_grow_init(const struct mm_grow_ops *ops, size_t initial, size_t reserved, size_t step);

/* Give the arena's reservations back (ops->unreserve) and forget it; the
 * mm layer must be set up anew before it is used again. Nothing: none. */
void mm_grow_forget(void);

/* Bytes of the arena committed and hot-added so far (0: none set up). */
size_t mm_grow_bytes(void);

/* The arena's whole reservation, [*lo, *hi) (both 0: none): fixed from
 * mm_grow_init on, so a caller may test pointers against it without a
 * lock. */
void mm_grow_span(uintptr_t *lo, uintptr_t *hi);

#endif
