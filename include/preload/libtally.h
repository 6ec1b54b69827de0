/* libtally.h - libtally.so's allocation functions under their own names
 * (src/preload/libtally.c). The library exports them as malloc, free, ...
 * for LD_PRELOAD; a program built with the library's objects and
 * LIBTALLY_NO_OVERRIDE (the AddressSanitizer test) calls these instead,
 * keeping the system's malloc for everything else. Each has the
 * semantics of the glibc function of the same name without the prefix. */
#ifndef TALLY_PRELOAD_LIBTALLY_H
#define TALLY_PRELOAD_LIBTALLY_H

#include <stddef.h>

void *tally_malloc(size_t n);
void tally_free(void *p);
void *tally_calloc(size_t n, size_t size);
void *tally_realloc(void *p, size_t n);
void *tally_reallocarray(void *p, size_t n, size_t size);
int tally_posix_memalign(void **out, size_t align, size_t n);
void *tally_aligned_alloc(size_t align, size_t n);
void *tally_memalign(size_t align, size_t n);
void *tally_valloc(size_t n);
void *tally_pvalloc(size_t n);
size_t tally_malloc_usable_size(void *p);
void tally_free_sized(void *p, size_t n);
void tally_free_aligned_sized(void *p, size_t align, size_t n);
void tally_cfree(void *p);

#endif
