/* mm_host.h - run Tally's allocator stack in a user-space program.
 *
 * Link build/host/libmm.a (make host-mm), call mm_host_init() with a block
 * of memory, then use mm/kmalloc.h, mm/slab.h, mm/heap.h and mm/buddy.h as
 * the kernel does. Not in the kernel, which sets up from the device tree;
 * Tally's user programs use it too (user/lib/malloc.c, over an mmap'd
 * arena). */
#ifndef TALLY_MM_MM_HOST_H
#define TALLY_MM_MM_HOST_H

#include <stddef.h>
#include <stdint.h>

/* Where the arena pretends to sit in physical memory. */
#define MM_HOST_PHYS_BASE 0x80000000ULL

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

#endif
