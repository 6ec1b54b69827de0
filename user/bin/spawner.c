/* spawner - shares out work among children with spawn and wait4: starts
 * N copies of itself (default 4) as "spawner child I PARENT"; child I sums
 * 1..(I+1)*100000, checks getppid() against PARENT, prints
 * "child I: pid P sum S" and exits with status 10 + I. The parent reaps
 * them with wait4(-1) in whatever order they end and checks that every
 * pid comes back exactly once with its own status; then wait4 must fail
 * with ECHILD.
 *
 *   spawner [n]           1..16 children
 *
 * Prints "spawner: children=N", the children's lines,
 * "reaped: N", "statuses: ok|bad", "echild: ok|bad", "result: PASS|FAIL". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tally/syscall.h"

#define MAX_CHILDREN 16

static int child(int i, long parent)
{
	unsigned long long sum = 0;

	for (unsigned long k = 1; k <= (unsigned long)(i + 1) * 100000; k++)
		sum += k;
	printf("child %d: pid %d sum %llu\n", i, (int)getpid(), sum);
	if (getppid() != parent) {
		printf("FAIL: child %d: parent %d, not %ld\n", i, (int)getppid(), parent);
		return 1;
	}
	return 10 + i;
}

int main(int argc, char **argv)
{
	pid_t pids[MAX_CHILDREN];
	int n, reaped = 0, bad = 0, status;
	char parent[16], index[16];

	if (argc > 3 && !strcmp(argv[1], "child"))
		return child(atoi(argv[2]), atol(argv[3]));
	n = argc > 1 ? atoi(argv[1]) : 4;
	if (!check(n >= 1 && n <= MAX_CHILDREN, "children: 1..%d", MAX_CHILDREN))
		return finish();
	printf("spawner: children=%d\n", n);
	fflush(stdout);
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	for (int i = 0; i < n; i++) {
		char *args[] = { argv[0], "child", index, parent, NULL };
		snprintf(index, sizeof(index), "%d", i);
		pids[i] = tally_spawn(argv[0], args, NULL);
		check(pids[i] > 0, "spawn child %d: errno %d", i, errno);
	}
	for (;;) {
		pid_t got = wait4(-1, &status, 0, NULL);
		int i;
		if (got < 0)
			break;
		for (i = 0; i < n && pids[i] != got; i++)
			;
		if (i == n || tally_exit_code(status) != 10 + i) {
			bad++;
			check(0, "pid %d: status %d", (int)got, tally_exit_code(status));
		} else {
			pids[i] = 0;   /* reaped: a second report of it is caught */
		}
		reaped++;
	}
	check(errno == ECHILD, "wait4 ended with errno %d, not ECHILD", errno);
	printf("reaped: %d\nstatuses: %s\nechild: %s\n", reaped, bad ? "bad" : "ok",
	       errno == ECHILD ? "ok" : "bad");
	check(reaped == n, "reaped %d of %d", reaped, n);
	return finish();
}
