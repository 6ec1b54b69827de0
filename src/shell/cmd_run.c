/* cmd_run.c - processes from the shell (kernel/proc.h): `run
 * [NAME=VALUE...] PATH [ARGS...] [&]`, `ps`, `kill PID [SIG]`.
 *
 * `run` starts a static ELF executable from the volume as a child of the
 * kernel. Words of the form NAME=VALUE before the path (NAME a letter or
 * '_', then letters, digits and '_': POSIX's name, as sh takes
 * assignments before a command) are its environment, in that order, and
 * the only one it has (the shell keeps no variables of its own): `run
 * TALLY_MODE=twotier /bin/mstress` picks its malloc (user/include/tally/
 * malloc.h). In the foreground the shell waits for it, running processes on
 * hart 0 meanwhile (the other harts run them from their idle loops);
 * Ctrl-C kills it with SIGINT. A non-zero exit status is printed (128 + a
 * signal's number when it was killed: 139 a bad access, 137 out of memory
 * or SIGKILL, 130 Ctrl-C, 143 SIGTERM). With `&` as its last word it runs
 * in the background: `[PID]` is printed and the prompt comes back; the
 * shell reaps it once it has ended, before a later prompt, saying
 * `[PID] done: exit status N`; its fd 0 is at end of file (only the
 * foreground process reads the console: kernel/fdtable.h). A file that
 * is not one Tally runs is refused with what is wrong with it. */
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/smp.h"
#include "mm/page.h"
#include "kernel/console.h"
#include "kernel/proc.h"
#include "uapi/tally/types.h"
#include "kerrno.h"

/* Whether w is an environment assignment, NAME=VALUE (VALUE may be
 * empty). */
static bool is_assignment(const char *w)
{
	const char *c = w;

	if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || *c == '_'))
		return false;
	while ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
	       *c == '_')
		c++;
	return *c == '=';
}

static int cmd_run(int argc, char **argv)
{
	struct fat_fs *fs;
	const char *why;
	int status = 0, pid, envc = 0, bg = argc > 2 && !strcmp(argv[argc - 1], "&");

	if (bg)
		argc--;
	while (1 + envc < argc && is_assignment(argv[1 + envc]))
		envc++;
	if (argc < 2 + envc) {
		kprintf("usage: run [NAME=VALUE...] PATH [ARGS...] [&]\n");
		return -1;
	}
	argv += envc;   /* argv[1] is the path now; the assignments just before */
	argc -= envc;
	fs = sh_fs_or_say();
	if (!fs)
		return -1;
	pid = proc_spawn(fs, argv[1], (const char *const *)argv + 1, (unsigned)argc - 1,
			 (const char *const *)argv + 1 - envc, (unsigned)envc, NULL, !bg,
			 &why);   /* fd 0 reads the console in the foreground only */
	if (pid == -ENOEXEC) {
		kprintf("run: %pE: not an executable (%s)\n", argv[1], why);
		return -1;
	}
	if (pid == -E2BIG) {
		kprintf("run: %pE: argument list too long\n", argv[1]);
		return -1;
	}
	if (pid == -EAGAIN) {
		kprintf("run: %pE: too many processes (%d)\n", argv[1], PROC_MAX);
		return -1;
	}
	if (pid < 0)
		return sh_fs_fail("run", argv[1], pid);
	if (bg) {
		kprintf("[%d]\n", pid);
		return 0;
	}
	console_interrupt_clear();   /* a Ctrl-C from now on is the process's */
	if (proc_wait_kernel(pid, &status, 1) != 0)
		return -1;
	if (status == PROC_EXIT_SIGINT)
		console_interrupt_clear();   /* the Ctrl-C was the process's */
	if (status) {
		kprintf("run: %pE: exit status %d\n", argv[1], status);
		return -1;
	}
	return 0;
}
SH_COMMAND("run", "[name=value...] path [args...] [&]", "run a program (a static ELF executable) in a process, with the name=value words as its environment; & in the background", cmd_run);

void sh_reap_background(void)
{
	int ws, pid;

	while ((pid = proc_wait(NULL, -1, &ws, LINUX_WNOHANG, NULL)) > 0)
		kprintf("[%d] done: exit status %d\n", pid, proc_status_code(ws));
}

static const char *state_name(enum proc_state s)
{
	switch (s) {
	case PROC_RUNNABLE: return "runnable";
	case PROC_RUNNING: return "running";
	case PROC_SLEEPING: return "sleeping";
	default: return "zombie";
	}
}

static int cmd_ps(int argc, char **argv)
{
	static struct proc_info list[PROC_MAX];
	unsigned n = proc_list(list, PROC_MAX);

	(void)argv;
	if (argc != 1)
		return SH_USAGE;
	kprintf("%5s %5s %-8s %4s %8s %8s %7s %s\n", "PID", "PPID", "STATE", "HART", "VSZ", "RSS",
		"FAULTS", "COMMAND");
	for (unsigned i = 0; i < n && i < PROC_MAX; i++) {
		const struct proc_info *q = &list[i];

		kprintf("%5d %5d %-8s %4u %8lu %8lu %7lu %s\n", q->pid, q->ppid, state_name(q->state),
			q->hart, (unsigned long)(q->vsz >> 10), q->rss * (PAGE_SIZE >> 10), q->faults,
			q->cmd);
	}
	kprintf("slices:");
	for (unsigned h = 0; h < nharts; h++)
		kprintf(" hart%u=%lu", h, sched_hart_slices(h));
	kprintf("\n");
	return 0;
}
SH_COMMAND("ps", "", "list processes: pid, parent, state, hart, VSZ KiB, RSS KiB, page faults, command; time slices per hart", cmd_ps);

static int cmd_kill(int argc, char **argv)
{
	uint64_t pid, sig = PROC_SIGTERM;
	int rc;

	if (argc < 2 || argc > 3 || sh_parse_u64(argv[1], &pid) != 0 || !pid || pid > 0x7fffffff ||
	    (argc == 3 && (sh_parse_u64(argv[2], &sig) != 0 || sig > 64)))
		return SH_USAGE;
	rc = proc_kill((int)pid, (int)sig);
	if (rc == -ESRCH) {
		kprintf("kill: %lu: no such process\n", (unsigned long)pid);
		return -1;
	}
	if (rc) {
		kprintf("kill: %lu: signal %lu not supported\n", (unsigned long)pid, (unsigned long)sig);
		return -1;
	}
	return 0;
}
SH_COMMAND("kill", "pid [signal]", "send a signal to a process (default 15, SIGTERM; 9 SIGKILL, 2 SIGINT)", cmd_kill);
