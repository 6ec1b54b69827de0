/* rusagetest - getrusage(2) and wait4's rusage against what the program
 * itself did (Linux's semantics, kernel/sys.c and kernel/exit.c):
 *   a child that touches N fresh pages: its own getrusage sees exactly N
 *   more minor faults and an N-page higher high-water mark; the parent's
 *   wait4 rusage of it is a `touch 0` child's plus N pages (ru_minflt and
 *   ru_maxrss, within the little the initial stack may differ by); after
 *   the reap the parent's RUSAGE_CHILDREN grew by exactly what wait4
 *   reported (faults, times) and holds the larger high-water mark;
 *   a child that spawned and reaped a grandchild reports the
 *   grandchild's faults and peak with its own (RUSAGE_BOTH);
 *   CPU time: a child that burned MS ms of CPU reports at least that,
 *   mostly user time, no more than the wall time its wait took plus a
 *   tick, on each hart it may have run on (ticks are charged by the hart
 *   a process runs on, and the harts' ticks are not in step: a process
 *   moved at each slice can be charged by each in one tick's time); the
 *   caller's own time after burning agrees with times(2);
 *   RUSAGE_THREAD is RUSAGE_SELF (one thread); majflt and the counts
 *   Tally keeps none of are 0; times are whole ticks;
 *   refusals: who not SELF/CHILDREN/THREAD -> -EINVAL, the buffer
 *   untouched; a NULL, kernel, read-only or half-mapped buffer ->
 *   -EFAULT with nothing written (Linux's copy_to_user would write the
 *   bytes before the bad page); wait4 with such a buffer -> -EFAULT and
 *   the child not reaped; the libc wrappers set errno.
 * Prints one "rusagetest: ..." line of figures per group, "FAIL: ..." per
 * broken expectation and "result: PASS|FAIL".
 *
 *   rusagetest [HARTS]       the checks (HARTS: the machine's, default 1)
 *   rusagetest touch N       (a child) touch N fresh pages: exit 0 when
 *                            its own getrusage saw exactly that
 *   rusagetest nest N        (a child) spawn `touch N`, reap it, exit 0
 *   rusagetest burn MS       (a child) spin until MS ms of CPU time */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

#include "check.h"
#include "tally/syscall.h"

#define PAGE 4096UL
#define KERNEL_ADDR 0x80200000L
#define TOUCH_PAGES 1024
#define BURN_MS 100
#define TICK_US 10000   /* the kernel's tick: 1/100 s */

static char *self;
static long harts = 1;

static void expect(long got, long want, const char *what)
{
	check(got == want, "%s: %ld, not %ld", what, got, want);
}

static long us(const struct timeval *t)
{
	return (long)t->tv_sec * 1000000 + t->tv_usec;
}

static long cpu_us(const struct rusage *r)
{
	return us(&r->ru_utime) + us(&r->ru_stime);
}

static long now_us(int clk)
{
	struct linux_timespec t;

	tally_syscall2(__NR_clock_gettime, clk, &t);
	return (long)(t.tv_sec * 1000000 + t.tv_nsec / 1000);
}

/* ---- the children --------------------------------------------------- */

static int touch(long n)
{
	struct rusage r[2];
	unsigned char *map = NULL;

	memset(r, 0, sizeof(r));   /* its pages are there before the first count */
	if (getrusage(RUSAGE_SELF, &r[0]) != 0)
		return 2;
	if (n > 0) {
		map = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED)
			return 3;
		for (long i = 0; i < n; i++)
			map[i * PAGE] = 1;
	}
	if (getrusage(RUSAGE_SELF, &r[1]) != 0)
		return 2;
	return r[1].ru_minflt - r[0].ru_minflt == n && r[1].ru_maxrss - r[0].ru_maxrss == n * 4 ? 0 : 1;
}

static pid_t start(const char *mode, const char *arg)
{
	char *args[] = { self, (char *)mode, (char *)arg, NULL };

	return tally_spawn(self, args, NULL);
}

static int nest(const char *n)
{
	pid_t pid = start("touch", n);
	int st;

	return pid > 0 && wait4(pid, &st, 0, NULL) == pid && st == 0 ? 0 : 1;
}

static int burn(long ms)
{
	volatile unsigned long sink = 0;
	long t0 = now_us(LINUX_CLOCK_MONOTONIC);

	while (now_us(LINUX_CLOCK_PROCESS_CPUTIME_ID) < ms * 1000 &&
	       now_us(LINUX_CLOCK_MONOTONIC) - t0 < 10000000)
		for (unsigned long i = 0; i < 200000; i++)
			sink += i;
	return now_us(LINUX_CLOCK_PROCESS_CPUTIME_ID) >= ms * 1000 ? 0 : 1;
}

/* ---- the checks ------------------------------------------------------ */

/* Spawn a child `mode arg`, wait4 it with rusage: its status must be 0. */
static int reap(const char *mode, const char *arg, struct rusage *ru, long *wall_us)
{
	long t0 = now_us(LINUX_CLOCK_MONOTONIC);
	pid_t pid = start(mode, arg);
	int st = -1;

	memset(ru, 0xa5, sizeof(*ru));
	if (!check(pid > 0, "spawn %s %s: errno %d", mode, arg, errno))
		return 0;
	expect(wait4(pid, &st, 0, ru), pid, mode);
	check(st == 0, "%s %s: status %#x", mode, arg, st);
	if (wall_us)
		*wall_us = now_us(LINUX_CLOCK_MONOTONIC) - t0;
	return 1;
}

/* What Tally keeps no count of is 0; times are whole ticks. */
static void check_rest(const struct rusage *r, const char *what)
{
	const long rest[] = { r->ru_ixrss, r->ru_idrss, r->ru_isrss, r->ru_nswap, r->ru_inblock,
			      r->ru_oublock, r->ru_msgsnd, r->ru_msgrcv, r->ru_nsignals, r->ru_nvcsw,
			      r->ru_nivcsw };

	check(r->ru_majflt == 0, "%s: ru_majflt %ld: no fault of Tally's needs I/O", what, r->ru_majflt);
	for (unsigned i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		check(rest[i] == 0, "%s: count %u of those Tally keeps none of: %ld", what, i, rest[i]);
	check(r->ru_utime.tv_usec % TICK_US == 0 && r->ru_stime.tv_usec % TICK_US == 0 &&
	      r->ru_utime.tv_usec < 1000000 && r->ru_stime.tv_usec < 1000000,
	      "%s: times %ld.%06ld, %ld.%06ld not whole ticks", what, (long)r->ru_utime.tv_sec,
	      (long)r->ru_utime.tv_usec, (long)r->ru_stime.tv_sec, (long)r->ru_stime.tv_usec);
}

/* A touch N child against a touch 0 one: N more faults and N more pages
 * at the peak. The two differ only in the touching and in one argument
 * string on the initial stack (4 bytes), which can move the stack's used
 * part over one more page: one fault and 4 KiB of slack. After each
 * reap, RUSAGE_CHILDREN grew by what wait4 said. */
static void pages(void)
{
	struct rusage base, ru, c0, c1;
	char n[16];

	snprintf(n, sizeof(n), "%d", TOUCH_PAGES);
	getrusage(RUSAGE_CHILDREN, &c0);
	if (!reap("touch", "0", &base, NULL) || !reap("touch", n, &ru, NULL))
		return;
	getrusage(RUSAGE_CHILDREN, &c1);
	printf("rusagetest: touch 0: minflt=%ld maxrss=%ld; touch %d: minflt=%ld maxrss=%ld KiB\n",
	       base.ru_minflt, base.ru_maxrss, TOUCH_PAGES, ru.ru_minflt, ru.ru_maxrss);
	check(base.ru_minflt > 0 && base.ru_maxrss > 0, "touch 0: no fault or no peak");
	check(ru.ru_minflt - base.ru_minflt >= TOUCH_PAGES &&
	      ru.ru_minflt - base.ru_minflt <= TOUCH_PAGES + 1,
	      "touch %d: %ld faults more than touch 0", TOUCH_PAGES, ru.ru_minflt - base.ru_minflt);
	check(ru.ru_maxrss - base.ru_maxrss >= TOUCH_PAGES * 4 &&
	      ru.ru_maxrss - base.ru_maxrss <= TOUCH_PAGES * 4 + 4,
	      "touch %d: peak %ld KiB above touch 0's", TOUCH_PAGES, ru.ru_maxrss - base.ru_maxrss);
	check(ru.ru_maxrss % 4 == 0, "ru_maxrss %ld KiB: not whole pages", ru.ru_maxrss);
	check_rest(&ru, "wait4 touch");
	expect(c1.ru_minflt - c0.ru_minflt, base.ru_minflt + ru.ru_minflt, "RUSAGE_CHILDREN faults");
	expect(cpu_us(&c1) - cpu_us(&c0), cpu_us(&base) + cpu_us(&ru), "RUSAGE_CHILDREN time");
	expect(c1.ru_maxrss, c0.ru_maxrss > ru.ru_maxrss ? c0.ru_maxrss : ru.ru_maxrss,
	       "RUSAGE_CHILDREN peak");
	check_rest(&c1, "RUSAGE_CHILDREN");

	/* a grandchild's usage comes with its parent's */
	struct rusage nested;
	if (!reap("nest", n, &nested, NULL))
		return;
	printf("rusagetest: nest %d: minflt=%ld maxrss=%ld KiB\n", TOUCH_PAGES, nested.ru_minflt,
	       nested.ru_maxrss);
	check(nested.ru_minflt > ru.ru_minflt, "nest: %ld faults, the grandchild alone had %ld",
	      nested.ru_minflt, ru.ru_minflt);
	check(nested.ru_maxrss >= ru.ru_maxrss - 4, "nest: peak %ld KiB, the grandchild's ~%ld",
	      nested.ru_maxrss, ru.ru_maxrss);
}

/* A child that burns BURN_MS of CPU, mostly in U-mode; the caller's own
 * time agrees with times(2), read before and after. */
static void cpu(void)
{
	struct rusage ru, s, th;
	struct tms t0, t1;
	char ms[16];
	long wall;

	snprintf(ms, sizeof(ms), "%d", BURN_MS);
	if (!reap("burn", ms, &ru, &wall))
		return;
	printf("rusagetest: burn %d: utime=%ld stime=%ld us, wall %ld us\n", BURN_MS,
	       us(&ru.ru_utime), us(&ru.ru_stime), wall);
	check(cpu_us(&ru) >= BURN_MS * 1000, "burn: %ld us of CPU", cpu_us(&ru));
	check(us(&ru.ru_utime) >= BURN_MS * 1000 / 2, "burn: only %ld us of it user time",
	      us(&ru.ru_utime));
	check(cpu_us(&ru) <= harts * (wall + TICK_US), "burn: %ld us of CPU in %ld us of wall time",
	      cpu_us(&ru), wall);
	check_rest(&ru, "wait4 burn");

	burn(BURN_MS);   /* the caller's own */
	times(&t0);
	expect(getrusage(RUSAGE_SELF, &s), 0, "getrusage SELF");
	expect(getrusage(RUSAGE_THREAD, &th), 0, "getrusage THREAD");
	times(&t1);
	/* times' clock_t is CLOCKS_PER_SEC a second (user/lib/posix.c) */
	long u0 = (long)t0.tms_utime * (1000000 / CLOCKS_PER_SEC), u1 = (long)t1.tms_utime * (1000000 / CLOCKS_PER_SEC);
	check(us(&s.ru_utime) >= u0 && us(&s.ru_utime) <= u1, "SELF utime %ld us, times said %ld..%ld",
	      us(&s.ru_utime), u0, u1);
	check(cpu_us(&s) >= BURN_MS * 1000, "SELF: %ld us after burning %d ms", cpu_us(&s), BURN_MS);
	check(cpu_us(&th) >= cpu_us(&s) && th.ru_minflt == s.ru_minflt && th.ru_maxrss == s.ru_maxrss,
	      "THREAD is not SELF: %ld/%ld faults, %ld/%ld KiB", th.ru_minflt, s.ru_minflt,
	      th.ru_maxrss, s.ru_maxrss);
	check(s.ru_minflt > 0 && s.ru_maxrss > 0, "SELF: %ld faults, peak %ld KiB", s.ru_minflt,
	      s.ru_maxrss);
	check_rest(&s, "SELF");
}

static int untouched(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0xa5)
			return 0;
	return 1;
}

/* The refusals, raw and through the wrappers. */
static void refusals(void)
{
	struct rusage r;
	unsigned char *two, *ro;
	struct rusage *half;
	size_t head;
	pid_t pid;
	int st = -1;

	memset(&r, 0xa5, sizeof(r));
	expect(tally_syscall2(__NR_getrusage, 2, &r), -22, "getrusage who 2");
	expect(tally_syscall2(__NR_getrusage, -2, &r), -22, "getrusage who -2");
	check(untouched((unsigned char *)&r, sizeof(r)), "a refused who wrote the buffer");
	expect(tally_syscall2(__NR_getrusage, RUSAGE_SELF, 0), -14, "getrusage NULL");
	expect(tally_syscall2(__NR_getrusage, RUSAGE_CHILDREN, KERNEL_ADDR), -14, "getrusage kernel address");
	expect(tally_syscall2(__NR_getrusage, 5, KERNEL_ADDR), -22, "getrusage bad who and pointer: who first");

	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(ro != MAP_FAILED, "mmap read-only");
	expect(tally_syscall2(__NR_getrusage, RUSAGE_SELF, ro), -14, "getrusage read-only page");

	/* a buffer whose tail lies past the end of a mapping */
	two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!check(two != MAP_FAILED && munmap(two + PAGE, PAGE) == 0, "mmap, munmap"))
		return;
	head = 72;
	half = (struct rusage *)(two + PAGE - head);
	memset(half, 0xa5, head);
	expect(tally_syscall2(__NR_getrusage, RUSAGE_SELF, half), -14, "getrusage half-mapped");
	check(untouched((unsigned char *)half, head), "getrusage half-mapped: wrote its head");

	pid = start("touch", "0");
	check(pid > 0, "spawn touch 0");
	expect(tally_syscall4(__NR_wait4, pid, &st, 0, half), -14, "wait4 half-mapped rusage");
	check(untouched((unsigned char *)half, head), "wait4 half-mapped: wrote its head");
	expect(tally_syscall4(__NR_wait4, pid, &st, 0, ro), -14, "wait4 read-only rusage");
	expect(wait4(pid, &st, 0, &r), pid, "wait4 after the refusals: the child still there");
	check(st == 0 && r.ru_maxrss > 0, "touch 0: status %#x, peak %ld KiB", st, r.ru_maxrss);

	errno = 0;
	check(getrusage(7, &r) == -1 && errno == EINVAL, "getrusage(7): errno %d", errno);
	errno = 0;
	check(getrusage(RUSAGE_SELF, (struct rusage *)ro) == -1 && errno == EFAULT,
	      "getrusage read-only: errno %d", errno);
	check(getrusage(RUSAGE_CHILDREN, &r) == 0, "getrusage(RUSAGE_CHILDREN): errno %d", errno);
	munmap(two, PAGE);
	munmap(ro, PAGE);
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc == 3 && !strcmp(argv[1], "touch"))
		return touch(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "nest"))
		return nest(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "burn"))
		return burn(atol(argv[2]));
	if (argc == 2)
		harts = atol(argv[1]) > 0 ? atol(argv[1]) : 1;
	pages();
	cpu();
	refusals();
	return finish();
}
