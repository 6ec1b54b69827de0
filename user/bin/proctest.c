/* proctest - the process system calls' answers, raw (the -errno values
 * Linux gives, compared as the kernel returns them):
 *   spawn: a bad path pointer, a bad argv pointer, a bad string in argv
 *   (-EFAULT), a missing file (-ENOENT), a file that is no executable
 *   (-ENOEXEC), arguments over 64 KiB (-E2BIG); a good one -> pid > 0;
 *   wait4: WNOHANG before the child ends -> 0; an unknown option bit ->
 *   -EINVAL; a bad status or rusage pointer -> -EFAULT (the child not
 *   reaped); rusage filled (with zeros: Tally counts none of it);
 *   a pid that is no child -> -ECHILD; the child reaped with its status
 *   (exit code << 8); again -> -ECHILD;
 *   kill: SIGTERM to a spinning child -> its status is signal 15; a pid
 *   that does not exist -> -ESRCH; signal 99 -> -EINVAL; signal 0 -> 0;
 *   getppid: the child sees the parent's pid (its exit code says so);
 *   sched_yield -> 0;
 *   clock_gettime: MONOTONIC does not go back, tv_nsec < 1e9; an unknown
 *   clock -> -EINVAL; a bad pointer -> -EFAULT.
 * Prints "FAIL: ..." per broken expectation and "result: PASS|FAIL".
 *
 *   proctest               the checks
 *   proctest ppid N        (the child) exit 0 when getppid() == N, else 1
 *   proctest waitspin      spawn /bin/spin and wait for it (asleep in
 *                          wait4: the scheduler's tests kill one or both);
 *                          exit with its status as a shell shows it */
#include <stdlib.h>
#include <string.h>

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
	unsigned char rusage[144];   /* struct rusage on 64-bit Linux */
	long pid;
	int st = -1;

	snprintf(ppid, sizeof(ppid), "%ld", tally_syscall0(__NR_getpid));
	pid = spawn(self, args);
	check(pid > 0, "spawn self: %ld", pid);
	expect(tally_syscall4(__NR_wait4, pid, &st, 0x100, 0), -22, "wait4 bad option");
	expect(tally_syscall4(__NR_wait4, pid, KERNEL_ADDR, 0, 0), -14, "wait4 bad status pointer");
	expect(tally_syscall4(__NR_wait4, pid, &st, 0, KERNEL_ADDR), -14, "wait4 bad rusage pointer");
	expect(tally_syscall4(__NR_wait4, 99999, &st, 0, 0), -10, "wait4 not a child");
	memset(rusage, 0xff, sizeof(rusage));
	expect(tally_syscall4(__NR_wait4, pid, &st, 0, rusage), pid, "wait4 child");
	check(st == 0, "child's status %#x: getppid saw the parent (exit 0)", st);
	for (unsigned i = 0; i < sizeof(rusage); i++)
		if (rusage[i]) {
			check(0, "rusage byte %u: %#x, not 0", i, rusage[i]);
			break;
		}
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
	expect(tally_syscall2(__NR_clock_gettime, 2, &a), -22, "cputime clock");
	expect(tally_syscall2(__NR_clock_gettime, 1, KERNEL_ADDR), -14, "clock bad tp");
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "ppid"))
		return tally_syscall0(__NR_getppid) == atol(argv[2]) ? 0 : 1;
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
	return finish();
}
