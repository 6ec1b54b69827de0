/* uapi/tally/mman.h - mmap, munmap, mprotect and madvise's values, Linux's
 * (include/uapi/asm-generic/mman-common.h and linux/mman.h). Every value
 * carries a LINUX_ prefix: it is the Linux ABI, and user code may also see
 * a C library's spelling of the same names (user/include/sys/mman.h maps
 * them one to one). Tally serves anonymous private mappings only. */
#ifndef TALLY_UAPI_MMAN_H
#define TALLY_UAPI_MMAN_H

#define LINUX_PROT_NONE            0x0
#define LINUX_PROT_READ            0x1
#define LINUX_PROT_WRITE           0x2
#define LINUX_PROT_EXEC            0x4

#define LINUX_MAP_SHARED           0x01
#define LINUX_MAP_PRIVATE          0x02
#define LINUX_MAP_FIXED            0x10
#define LINUX_MAP_ANONYMOUS        0x20
#define LINUX_MAP_NORESERVE        0x004000
#define LINUX_MAP_POPULATE         0x008000
#define LINUX_MAP_FIXED_NOREPLACE  0x100000

/* madvise advice (the ones Tally takes: kernel/mman.h) */
#define LINUX_MADV_NORMAL          0
#define LINUX_MADV_RANDOM          1
#define LINUX_MADV_SEQUENTIAL      2
#define LINUX_MADV_WILLNEED        3
#define LINUX_MADV_DONTNEED        4
#define LINUX_MADV_FREE            8
#define LINUX_MADV_DONTNEED_LOCKED 24

#endif
