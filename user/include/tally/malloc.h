/* tally/malloc.h - which allocator serves this process's malloc.
 *
 * malloc, free, calloc, realloc, posix_memalign, memalign, aligned_alloc
 * and malloc_usable_size (declared by <stdlib.h> and <malloc.h>) are
 * user/lib/malloc.c's: Tally's own allocator stack (src/mm, the kernel's
 * kmalloc compiled for user space) over one arena mapped with mmap, in the
 * mode TALLY_MODE names, or picolibc's malloc over sbrk. The environment
 * at start-up decides, once per process:
 *
 *   TALLY_MODE=simple|twotier|hybrid|picolibc   default: hybrid (as the
 *        kernel's kmalloc); any other value: a line on stderr and exit
 *        status 2 before main runs
 *   TALLY_HEAP=BYTES[k|m|g]   the arena's size (Tally's modes only; whole
 *        pages, at least 64k). Default: 64m, or the largest of 32m, 16m,
 *        ..., 1m that mmap grants (strict commit refuses a writable
 *        mapping of more pages than are free). The arena does not grow:
 *        once it is full, malloc returns NULL with errno ENOMEM. A
 *        malformed value: a line on stderr and exit status 2; a size mmap
 *        refuses: a line on stderr, and every malloc returns NULL (ENOMEM).
 *
 * Pages of the arena cost a frame only once touched (demand paging);
 * freed memory goes back to the arena's buddy allocator, not to the
 * kernel. Single-threaded, as every Tally process is. */
#ifndef TALLY_USER_MALLOC_H
#define TALLY_USER_MALLOC_H

#include <stddef.h>

/* "simple", "twotier", "hybrid" or "picolibc": the allocator serving
 * malloc in this process. */
const char *tally_malloc_mode(void);

/* Bytes of the arena Tally's allocator runs in: 0 under picolibc, and
 * before the first allocation (the arena is mapped then) or when mmap
 * refused it. */
size_t tally_malloc_arena(void);

#endif
