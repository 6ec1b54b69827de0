/* proctest - the process system calls' answers, raw (the -errno values
 * Linux gives, compared as the kernel returns them):
 *   spawn: a bad path pointer, a bad argv pointer, a bad string in argv
 *   (-EFAULT), a missing file (-ENOENT), a file that is no executable
 *   (-ENOEXEC), arguments over 64 KiB (-E2BIG); a good one -> pid > 0;
 *   wait4: WNOHANG before the child ends -> 0; an unknown option bit ->
 *   -EINVAL; a bad status or rusage pointer -> -EFAULT (the child not
 *   reaped); rusage filled (its figures: /bin/rusagetest);
 *   a pid that is no child -> -ECHILD; the child reaped with its status
 *   (exit code << 8); again -> -ECHILD;
 *   kill: SIGTERM to a spinning child -> its status is signal 15; a pid
 *   that does not exist -> -ESRCH; signal 99 -> -EINVAL; signal 0 -> 0;
 *   getppid: the child sees the parent's pid (its exit code says so);
 *   sched_yield -> 0;
 *   clock_gettime: MONOTONIC does not go back, tv_nsec < 1e9; an unknown
 *   clock -> -EINVAL; a bad pointer -> -EFAULT;
 *   CPU time (clock_gettime's PROCESS/THREAD_CPUTIME_ID, times): grows
 *   while it spins, never past the wall time; a reaped child's in
 *   cutime + cstime; a bad buffer -> -EFAULT.
 * Prints "FAIL: ..." per broken expectation and "result: PASS|FAIL".
 *
 *   proctest               the checks
 *   proctest ppid N        (the child) exit 0 when getppid() == N, else 1
 *   proctest burn MS       (the child) spin until MS ms of CPU time: exit 0
 *   proctest waitspin      spawn /bin/spin and wait for it (asleep in
 *                          wait4: the scheduler's tests kill one or both);
 *                          exit with its status as a shell shows it */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "check.h"
#include "tally/syscall.h"

#define KERNEL_ADDR 0x80200000L

static void expect(long got, long want, const char *what)
{
	check(got == want, "%s: %ld, not %ld", what, got, want);
}

static long spawn(const char *path, char *const *argv)
{
	return tally_syscall3(__NR_tally_spawn, path, argv, 0);
}

static void spawn_errors(char *self)
{
	static char big[70 * 1024];
	char *bad_str[] = { self, (char *)KERNEL_ADDR, NULL };
	char *args[] = { self, NULL };
	char *bigargs[] = { self, big, NULL };

	memset(big, 'x', sizeof(big) - 1);
	expect(spawn((char *)KERNEL_ADDR, args), -14, "spawn bad path");
	expect(spawn(self, (char **)KERNEL_ADDR), -14, "spawn bad argv");
	expect(spawn(self, bad_str), -14, "spawn bad argv string");
	expect(spawn("/bin/nothere", args), -2, "spawn missing");
	expect(spawn("/README.txt", args), -8, "spawn text file");
	expect(spawn(self, bigargs), -7, "spawn 70 KiB argument");
}

static void wait_and_ppid(char *self)
{
	char ppid[16];
	char *args[] = { self, "ppid", ppid, NULL };
	struct rusage rusage;
	long pid;
	int st = -1;

	snprintf(ppid, sizeof(ppid), "%ld", tally_syscall0(__NR_getpid));
	pid = spawn(self, args);
	check(pid > 0, "spawn self: %ld", pid);
	expect(tally_syscall4(__NR_wait4, pid, &st, 0x100, 0), -22, "wait4 bad option");
	expect(tally_syscall4(__NR_wait4, pid, KERNEL_ADDR, 0, 0), -14, "wait4 bad status pointer");
	expect(tally_syscall4(__NR_wait4, pid, &st, 0, KERNEL_ADDR), -14, "wait4 bad rusage pointer");
	expect(tally_syscall4(__NR_wait4, 99999, &st, 0, 0), -10, "wait4 not a child");
	memset(&rusage, 0xff, sizeof(rusage));
	expect(tally_syscall4(__NR_wait4, pid, &st, 0, &rusage), pid, "wait4 child");
	check(st == 0, "child's status %#x: getppid saw the parent (exit 0)", st);
	check(rusage.ru_maxrss > 0 && rusage.ru_minflt > 0 && rusage.ru_majflt == 0,
	      "rusage: peak %ld KiB, %ld minor faults, %ld major (rusagetest checks the figures)",
	      rusage.ru_maxrss, rusage.ru_minflt, rusage.ru_majflt);
	expect(tally_syscall4(__NR_wait4, -1, &st, 0, 0), -10, "wait4 again");
}

static void kill_child(void)
{
	char *args[] = { "/bin/spin", NULL };
	long pid = spawn("/bin/spin", args);
	int st = -1;

	check(pid > 0, "spawn spin: %ld", pid);
	expect(tally_syscall4(__NR_wait4, pid, &st, LINUX_WNOHANG, 0), 0, "wait4 WNOHANG on a running child");
	expect(tally_syscall2(__NR_kill, pid, 0), 0, "kill sig 0");
	expect(tally_syscall2(__NR_kill, pid, 99), -22, "kill sig 99");
	expect(tally_syscall2(__NR_kill, 99999, 15), -3, "kill no such pid");
	expect(tally_syscall2(__NR_kill, pid, 15), 0, "kill SIGTERM");
	expect(tally_syscall4(__NR_wait4, pid, &st, 0, 0), pid, "wait4 killed");
	check(st == 15, "killed child's status %#x, not 15 (SIGTERM)", st);
	check(tally_exit_code(st) == 143, "shown as %d", tally_exit_code(st));
}

static void clock_and_yield(void)
{
	struct linux_timespec a, b;

	expect(tally_syscall0(__NR_sched_yield), 0, "sched_yield");
	check(tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &a) == 0, "clock a");
	check(tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &b) == 0, "clock b");
	check(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec),
	      "monotonic went back");
	check(a.tv_nsec >= 0 && a.tv_nsec < 1000000000, "tv_nsec %lld", (long long)a.tv_nsec);
	expect(tally_syscall2(__NR_clock_gettime, 8, &a), -22, "unknown clock (REALTIME_ALARM)");
	expect(tally_syscall2(__NR_clock_gettime, 1, KERNEL_ADDR), -14, "clock bad tp");
}

static int64_t ns(const struct linux_timespec *t)
{
	return t->tv_sec * 1000000000ll + t->tv_nsec;
}

/* Spin until the CPU-time clock says ms milliseconds (10 s of wall time
 * at most); its reading in *cpu. */
static void burn(long ms, struct linux_timespec *cpu)
{
	struct linux_timespec start, now;
	volatile unsigned long sink = 0;

	tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &start);
	do {
		for (unsigned long i = 0; i < 200000; i++)
			sink += i;
		tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_PROCESS_CPUTIME_ID, cpu);
		tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &now);
	} while (ns(cpu) < ms * 1000000 && ns(&now) - ns(&start) < 10000000000ll);
}

/* CPU time: after 50 ms of it by the CPU-time clock, times(2) agrees:
 * user + system >= 5 ticks of 1/100 s, no more than the wall time that
 * passed; a reaped child's time shows in cutime + cstime, a running
 * one's does not. */
static void cpu_times(char *self)
{
	struct linux_timespec cpu, thread;
	struct linux_tms t0, t1, t2;
	char *args[] = { self, "burn", "100", NULL };
	long e0, e1, pid;
	int st;

	e0 = tally_syscall1(__NR_times, &t0);
	check(e0 >= 0, "times: %ld", e0);
	burn(50, &cpu);
	check(ns(&cpu) >= 50000000, "CPU-time clock at %lld ns after 10 s of spinning",
	      (long long)ns(&cpu));
	expect(tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_THREAD_CPUTIME_ID, &thread), 0,
	       "thread CPU-time clock");
	check(ns(&thread) >= ns(&cpu), "thread clock %lld ns behind the process's %lld",
	      (long long)ns(&thread), (long long)ns(&cpu));
	e1 = tally_syscall1(__NR_times, &t1);
	check(t1.tms_utime + t1.tms_stime >= 5, "times: %lld + %lld ticks after 50 ms of CPU",
	      (long long)t1.tms_utime, (long long)t1.tms_stime);
	check(t1.tms_utime + t1.tms_stime - t0.tms_utime - t0.tms_stime <= e1 - e0 + 1,
	      "more CPU time than wall time: %lld > %ld ticks",
	      (long long)(t1.tms_utime + t1.tms_stime - t0.tms_utime - t0.tms_stime), e1 - e0);
	check(tally_syscall1(__NR_times, 0) >= e1, "times(NULL) went back");
	expect(tally_syscall1(__NR_times, KERNEL_ADDR), -14, "times bad buf");

	pid = spawn(self, args);
	check(pid > 0, "spawn burn: %ld", pid);
	tally_syscall1(__NR_times, &t2);
	check(t2.tms_cutime == t0.tms_cutime && t2.tms_cstime == t0.tms_cstime,
	      "a running child's time counted");
	expect(tally_syscall4(__NR_wait4, pid, &st, 0, 0), pid, "wait4 burn");
	check(st == 0, "burn's status %#x", st);
	tally_syscall1(__NR_times, &t2);
	check(t2.tms_cutime + t2.tms_cstime >= t0.tms_cutime + t0.tms_cstime + 10,
	      "a reaped child's 100 ms of CPU not in cutime + cstime (%lld + %lld ticks)",
	      (long long)t2.tms_cutime, (long long)t2.tms_cstime);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "ppid"))
		return tally_syscall0(__NR_getppid) == atol(argv[2]) ? 0 : 1;
	if (argc == 3 && !strcmp(argv[1], "burn")) {
		struct linux_timespec cpu;

		burn(atol(argv[2]), &cpu);
		return ns(&cpu) >= atol(argv[2]) * 1000000 ? 0 : 1;
	}
	if (argc == 2 && !strcmp(argv[1], "waitspin")) {
		char *args[] = { "/bin/spin", NULL };
		long pid = spawn("/bin/spin", args);
		int st = 0;

		if (pid < 0 || tally_syscall4(__NR_wait4, pid, &st, 0, 0) != pid)
			return 1;
		return tally_exit_code(st);
	}
	spawn_errors(argv[0]);
	wait_and_ppid(argv[0]);
	kill_child();
	clock_and_yield();
	cpu_times(argv[0]);
	return finish();
}
