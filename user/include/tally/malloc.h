/* tally/malloc.h - which allocator serves this process's malloc.
 *
 * malloc, free, calloc, realloc, posix_memalign, memalign, aligned_alloc
 * and malloc_usable_size (declared by <stdlib.h> and <malloc.h>) are
 * user/lib/malloc.c's: Tally's own allocator stack (src/mm, the kernel's
 * kmalloc compiled for user space) over an arena that grows and shrinks
 * with use, in the mode TALLY_MODE names, or picolibc's malloc over sbrk.
 * The environment at start-up decides, once per process:
 *
 *   TALLY_MODE=simple|twotier|hybrid|picolibc   default: hybrid (as the
 *        kernel's kmalloc); any other value: a line on stderr and exit
 *        status 2 before main runs
 *   TALLY_HEAP=BYTES[k|m|g]   the arena's upper bound (Tally's modes
 *        only; whole pages, at least 64k). Default: 16g -- address space
 *        only, what memory can back is the real bound: the arena is
 *        reserved PROT_NONE (nothing committed), its first 4m made
 *        writable at the first allocation, and more of it (at least 4m and
 *        an eighth of what it has) each time the allocator runs short,
 *        through mprotect, which Tally's strict commit judges
 *        (kernel/mman.h). Once the bound is reached or the kernel refuses,
 *        malloc returns NULL with errno ENOMEM and the program goes on. A
 *        malformed value: a line on stderr and exit status 2; a
 *        reservation (or its first 4m) refused: a line on stderr, and
 *        every malloc returns NULL (ENOMEM).
 *
 * Pages of the arena cost a frame only once touched (demand paging);
 * whole free 4 MiB blocks beyond a small keep go back to the kernel
 * (madvise MADV_DONTNEED), so the process's RSS follows its use.
 * Single-threaded, as every Tally process is. */
#ifndef TALLY_USER_MALLOC_H
#define TALLY_USER_MALLOC_H

#include <stddef.h>

/* "simple", "twotier", "hybrid" or "picolibc": the allocator serving
 * malloc in this process. */
const char *tally_malloc_mode(void);

/* Bytes of the arena Tally's allocator runs in now (what it has grown
 * to): 0 under picolibc, and before the first allocation (the arena is
 * reserved then) or when it was refused. */
size_t tally_malloc_arena(void);

/* The arena's upper bound in bytes (TALLY_HEAP or the default; 0 as
 * tally_malloc_arena). */
size_t tally_malloc_arena_max(void);

#endif
