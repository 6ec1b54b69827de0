/* uapi/tally/types.h - the structures Tally's system calls read and fill
 * in, and their remaining values: fstat's stat, getdents64's records,
 * clock_gettime's timespec and clocks, getrusage's and wait4's rusage,
 * wait4's status word. Linux's riscv64 layouts
 * (include/uapi/asm-generic/stat.h, the getdents64(2) man page's struct
 * linux_dirent64, include/uapi/linux/time_types.h's __kernel_timespec,
 * include/uapi/linux/resource.h's rusage).
 * Fixed-width fields, so the kernel and user programs agree whatever their
 * C library calls these things. */
#ifndef TALLY_UAPI_TYPES_H
#define TALLY_UAPI_TYPES_H

#include <stdint.h>

/* st_mode's file type bits (same in Linux and picolibc). */
#define LINUX_S_IFMT   0170000
#define LINUX_S_IFDIR  0040000
#define LINUX_S_IFCHR  0020000     /* the console (fds 0, 1, 2) */
#define LINUX_S_IFREG  0100000

struct linux_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

/* 128 bytes, Linux's struct stat field for field. */
struct linux_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint32_t st_mode;
	uint32_t st_nlink;
	uint32_t st_uid;
	uint32_t st_gid;
	uint64_t st_rdev;
	uint64_t __pad1;
	int64_t  st_size;          /* bytes */
	int32_t  st_blksize;       /* the volume's cluster size */
	int32_t  __pad2;
	int64_t  st_blocks;        /* 512-byte units */
	int64_t  st_atime_sec;     /* Linux: st_atime (a macro in C libraries) */
	uint64_t st_atime_nsec;
	int64_t  st_mtime_sec;
	uint64_t st_mtime_nsec;
	int64_t  st_ctime_sec;
	uint64_t st_ctime_nsec;
	uint32_t __unused4;
	uint32_t __unused5;
};

/* One getdents64 record; d_reclen covers the NUL-terminated name and pads
 * the record to 8 bytes. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t  d_off;
	uint16_t d_reclen;
	uint8_t  d_type;           /* LINUX_DT_* */
	char     d_name[];
};

#define LINUX_DT_UNKNOWN 0
#define LINUX_DT_DIR     4
#define LINUX_DT_REG     8

/* clock_gettime's clocks (include/uapi/linux/time.h). */
#define LINUX_CLOCK_REALTIME   0
#define LINUX_CLOCK_MONOTONIC  1
#define LINUX_CLOCK_PROCESS_CPUTIME_ID 2
#define LINUX_CLOCK_THREAD_CPUTIME_ID  3

/* times(2)'s buffer (include/uapi/linux/times.h): clock ticks of
 * LINUX_USER_HZ per second (Linux's USER_HZ). */
#define LINUX_USER_HZ 100
struct linux_tms {
	int64_t tms_utime;    /* the caller's user time */
	int64_t tms_stime;    /* its system time */
	int64_t tms_cutime;   /* its waited-for children's user time, theirs included */
	int64_t tms_cstime;   /* and system time */
};

/* getrusage's and wait4's resource usage (include/uapi/linux/resource.h),
 * 144 bytes: Linux's struct rusage of a 64-bit process, times as
 * __kernel_old_timeval. ru_maxrss in KiB; fields Tally keeps no count
 * of (ru_ixrss..ru_nivcsw but ru_minflt and ru_majflt) are 0, as most
 * of them are on Linux too. */
#define LINUX_RUSAGE_SELF      0
#define LINUX_RUSAGE_CHILDREN (-1)
#define LINUX_RUSAGE_THREAD    1   /* the calling thread: with one thread, the process */
struct linux_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};
struct linux_rusage {
	struct linux_timeval ru_utime;   /* user time */
	struct linux_timeval ru_stime;   /* system time */
	int64_t ru_maxrss;               /* the largest resident set, KiB */
	int64_t ru_ixrss, ru_idrss, ru_isrss;
	int64_t ru_minflt;               /* page faults served without I/O */
	int64_t ru_majflt;               /* page faults that needed I/O */
	int64_t ru_nswap, ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv;
	int64_t ru_nsignals, ru_nvcsw, ru_nivcsw;
};

/* wait4's status word and options (what glibc's bits/waitstatus.h decodes):
 * exited: (code & 0xff) << 8; killed by a signal: the signal number in the
 * low 7 bits. A process the kernel stops for a bad access ends as if
 * killed by LINUX_SIGSEGV: 139 as a shell shows it (128 + 11), the
 * kernel's PROC_EXIT_SIGSEGV; user code reads either encoding of it as
 * 139 through tally_exit_code (user/include/tally/syscall.h). */
#define LINUX_WNOHANG   1
#define LINUX_SIGKILL   9
#define LINUX_SIGSEGV   11

#endif
