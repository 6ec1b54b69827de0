/* shell.h - the serial shell and how commands plug into it.
 *
 * A command is declared anywhere with SH_COMMAND(); the linker gathers them
 * (sorted by name) into the .shcmd section, so adding a command touches
 * one file. A handler gets argc/argv (argv[0] is the command name) and
 * returns 0, SH_USAGE to have the shell print the usage line, or
 * SH_INTERRUPTED. */
#ifndef TALLY_SHELL_H
#define TALLY_SHELL_H

#define SH_USAGE (-1000)
/* A command that saw console_interrupted() (Ctrl-C) stops at a safe
 * point, gives back what it took, prints what it did so far and returns
 * this; the shell then prints "NAME: interrupted". */
#define SH_INTERRUPTED (-1001)

struct sh_cmd {
	const char *name;
	const char *usage;   /* arguments, e.g. "[text...]" */
	const char *help;    /* one line */
	int (*fn)(int argc, char **argv);
};

#define SH_COMMAND(cname, cusage, chelp, cfn)                                  \
	static const struct sh_cmd sh_cmd_##cfn                                \
	__attribute__((section(".shcmd." cname), used, aligned(8))) = {        \
		cname, cusage, chelp, cfn }

/* Run the interactive shell; never returns. */
__attribute__((noreturn)) void sh_run(void);

/* Execute one command line; returns the handler's result (or -1 when the
 * command is unknown). */
int sh_exec(char *line);

const struct sh_cmd *sh_find(const char *name);

/* Tab completion for arguments (e.g. paths); see shell/readline.h. */
#include "shell/readline.h"
void sh_set_arg_completer(rl_complete_fn fn);

/* Paths complete with Tab once the root filesystem is mounted. */
void sh_fs_init(void);
/* Reap the background processes `run ... &` started that have ended,
 * one line each (`[PID] done: exit status N`); before every prompt. */
void sh_reap_background(void);

/* `memstat PID` (memstat_proc.c): process arg's areas as Linux's
 * /proc/PID/maps lays them out, then its counters. Returns 0; -1 when no
 * process has that pid (said); SH_USAGE when arg is not a pid. */
int sh_memstat_pid(const char *arg);

struct fat_fs;
/* The mounted volume, or NULL after printing why there is none. */
struct fat_fs *sh_fs_or_say(void);

/* Print "cmd: path: reason" for a filesystem error; returns -1. */
int sh_fs_fail(const char *cmd, const char *path, int err);

/* The words for a filesystem errno. */
const char *sh_errstr(int err);

/* SHA-256 of a file as 64 hex digits, read the fallible way (one buffer,
 * or streamed when memory is short). 0 or a negative errno. */
int sh_sha256_file(struct fat_fs *fs, const char *path, char hex[65]);
void sh_print_usage(const struct sh_cmd *c);

/* The background mmstress (`mmstress ... bg`, src/shell/stress_bg.c) as
 * other commands see it. */

/* While one exists (running, or finished and not collected by `mmstress
 * wait` yet): print "CMD: refused while the background mmstress runs on
 * harts 1/2/3: WHY (mmstress wait or stop first)" and return nonzero.
 * Else 0. */
int sh_bg_stress_refuse(const char *cmd, const char *why);

/* A quiet moment for a leak check: every background hart lets go of the
 * blocks it holds (pattern-checked and freed, as at its end) and waits,
 * and what they handed each other is freed, so that until
 * sh_bg_stress_unpark kmalloc's bytes in use hold nothing of the stress.
 * Takes a tick or so. Both do nothing when no background stress exists. */
void sh_bg_stress_park(void);
void sh_bg_stress_unpark(void);

#endif
