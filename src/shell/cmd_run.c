/* cmd_run.c - `run PATH [ARGS...]`: run a static ELF executable from the
 * volume in a process of its own (kernel/proc.h), in the foreground: the
 * shell waits until it exits; Ctrl-C stops it. A non-zero exit status is
 * printed (128 + a signal's number when the kernel stopped it: 139 a bad
 * access, 137 out of memory, 130 Ctrl-C). A file that is not one Tally
 * runs is refused with what is wrong with it. */
#include "shell/shell.h"
#include "kernel/console.h"
#include "kernel/proc.h"
#include "kerrno.h"

static int cmd_run(int argc, char **argv)
{
	struct fat_fs *fs;
	const char *why;
	int status = 0, rc;

	if (argc < 2) {
		kprintf("usage: run PATH [ARGS...]\n");
		return -1;
	}
	fs = sh_fs_or_say();
	if (!fs)
		return -1;
	rc = proc_exec(fs, argv[1], (const char *const *)argv + 1, (unsigned)argc - 1, &status, &why);
	if (rc == -ENOEXEC) {
		kprintf("run: %pE: not an executable (%s)\n", argv[1], why);
		return -1;
	}
	if (rc == -E2BIG) {
		kprintf("run: %pE: argument list too long\n", argv[1]);
		return -1;
	}
	if (rc)
		return sh_fs_fail("run", argv[1], rc);
	if (status == PROC_EXIT_SIGINT)
		console_interrupt_clear();   /* the Ctrl-C was the process's */
	if (status) {
		kprintf("run: %pE: exit status %d\n", argv[1], status);
		return -1;
	}
	return 0;
}
SH_COMMAND("run", "path [args...]", "run a program (a static ELF executable) in a process", cmd_run);
