/* sys/resource.h - resource usage for Tally programs: getrusage(2) with
 * Linux's struct rusage (picolibc's has only the two times), which
 * wait4 fills too. Tally keeps the times (whole 10 ms ticks), ru_maxrss
 * (KiB) and ru_minflt; every other count is 0 (uapi/tally/types.h). */
#ifndef TALLY_USER_SYS_RESOURCE_H
#define TALLY_USER_SYS_RESOURCE_H
#define _SYS_RESOURCE_H_   /* picolibc's own is never wanted beside this one */

#include <sys/time.h>

#define RUSAGE_SELF      0
#define RUSAGE_CHILDREN (-1)
#define RUSAGE_THREAD    1

/* Linux's layout field for field (user/lib/posix.c checks it against
 * struct linux_rusage): the kernel fills it in place. */
struct rusage {
	struct timeval ru_utime;   /* user time */
	struct timeval ru_stime;   /* system time */
	long ru_maxrss;            /* the largest resident set, KiB */
	long ru_ixrss, ru_idrss, ru_isrss;
	long ru_minflt;            /* page faults served without I/O */
	long ru_majflt;            /* page faults that needed I/O: 0 on Tally */
	long ru_nswap, ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv;
	long ru_nsignals, ru_nvcsw, ru_nivcsw;
};

/* getrusage(2): who RUSAGE_SELF (the caller), RUSAGE_THREAD (the same:
 * one thread) or RUSAGE_CHILDREN (the children it waited for, theirs
 * included). 0, or -1 with errno EINVAL (another who) or EFAULT (usage
 * not writable; nothing written). */
int getrusage(int who, struct rusage *usage);

#endif
