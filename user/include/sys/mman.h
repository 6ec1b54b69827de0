/* sys/mman.h - memory mapping for Tally programs (picolibc has none):
 * POSIX's names with Linux's values (uapi/tally/mman.h). Tally maps
 * anonymous private memory only; fd must be -1 and offset 0. */
#ifndef TALLY_USER_SYS_MMAN_H
#define TALLY_USER_SYS_MMAN_H

#include <stddef.h>
#include <sys/types.h>

#include "uapi/tally/mman.h"

#define PROT_NONE             LINUX_PROT_NONE
#define PROT_READ             LINUX_PROT_READ
#define PROT_WRITE            LINUX_PROT_WRITE
#define PROT_EXEC             LINUX_PROT_EXEC
#define MAP_SHARED            LINUX_MAP_SHARED
#define MAP_PRIVATE           LINUX_MAP_PRIVATE
#define MAP_FIXED             LINUX_MAP_FIXED
#define MAP_ANONYMOUS         LINUX_MAP_ANONYMOUS
#define MAP_ANON              LINUX_MAP_ANONYMOUS
#define MAP_NORESERVE         LINUX_MAP_NORESERVE
#define MAP_POPULATE          LINUX_MAP_POPULATE
#define MAP_FIXED_NOREPLACE   LINUX_MAP_FIXED_NOREPLACE
#define MAP_FAILED            ((void *)-1)
#define MADV_NORMAL           LINUX_MADV_NORMAL
#define MADV_RANDOM           LINUX_MADV_RANDOM
#define MADV_SEQUENTIAL       LINUX_MADV_SEQUENTIAL
#define MADV_WILLNEED         LINUX_MADV_WILLNEED
#define MADV_DONTNEED         LINUX_MADV_DONTNEED
#define MADV_FREE             LINUX_MADV_FREE
#define MADV_DONTNEED_LOCKED  LINUX_MADV_DONTNEED_LOCKED

/* mmap(2), munmap(2), mprotect(2), madvise(2): -1 (MAP_FAILED for mmap)
 * with errno set on failure (ENOMEM, EINVAL, EEXIST for
 * MAP_FIXED_NOREPLACE). */
void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
int munmap(void *addr, size_t length);
int mprotect(void *addr, size_t length, int prot);
int madvise(void *addr, size_t length, int advice);

#endif
