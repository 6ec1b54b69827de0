/* shell.c - the read-eval loop: prompt, dispatch, completion. Line
 * editing is readline.c's; words, quotes and comments are quote.c's. */
#include <string.h>
#include "shell/shell.h"
#include "kernel/sys_file.h"
#include "shell/readline.h"
#include "shell/quote.h"
#include "kernel/console.h"

#define SH_ARGV_MAX 16
#define PROMPT "tally> "

extern const struct sh_cmd _shcmd_start[], _shcmd_end[];

const struct sh_cmd *sh_find(const char *name)
{
	for (const struct sh_cmd *c = _shcmd_start; c < _shcmd_end; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void sh_print_usage(const struct sh_cmd *c)
{
	kprintf("usage: %s%s%s\n", c->name, c->usage[0] ? " " : "", c->usage);
}

static int run(const struct sh_cmd *c, int argc, char **argv)
{
	int rc;

	console_interrupt_clear();   /* a Ctrl-C typed before is not for it */
	sys_file_kernel_enter();     /* processes on other harts keep off the volume */
	rc = c->fn(argc, argv);
	sys_file_kernel_leave();
	if (rc == SH_USAGE)
		sh_print_usage(c);
	if (rc == SH_INTERRUPTED)
		kprintf("%s: interrupted\n", c->name);
	console_interrupt_clear();   /* one typed while it ran was for it */
	return rc;
}

int sh_exec(char *line)
{
	char *argv[SH_ARGV_MAX + 1];
	char open;
	int argc = sh_tokenize(line, argv, SH_ARGV_MAX, &open);
	const struct sh_cmd *c;

	if (argc == SH_TOK_QUOTE) {
		kprintf("error: unbalanced quote (%c)\n", open);
		return -1;
	}
	if (argc == SH_TOK_ESCAPE) {
		kprintf("error: a backslash ends the line (nothing to escape)\n");
		return -1;
	}
	if (argc == SH_TOK_TOO_MANY) {
		kprintf("error: too many arguments (at most %d)\n", SH_ARGV_MAX - 1);
		return -1;
	}
	if (argc == 0)
		return 0;
	argv[argc] = NULL;
	c = sh_find(argv[0]);
	if (!c) {
		kprintf("unknown command: %s (type help)\n", argv[0]);
		return -1;
	}
	return run(c, argc, argv);
}

static rl_complete_fn arg_completer;

void sh_set_arg_completer(rl_complete_fn fn)
{
	arg_completer = fn;
}

/* Tab: command names for the first word, the registered argument
 * completer (paths, once a filesystem is mounted) for the others. */
static void sh_complete(const char *word, int first, rl_emit_fn emit, void *ctx)
{
	if (!first) {
		if (arg_completer)
			arg_completer(word, 0, emit, ctx);
		return;
	}
	for (const struct sh_cmd *c = _shcmd_start; c < _shcmd_end; c++)
		emit(c->name, ctx);
}

void sh_run(void)
{
	static char line[RL_LINE_MAX];

	rl_set_completer(sh_complete);
	for (;;) {
		sh_reap_background();
		if (rl_readline(PROMPT, line, sizeof(line)) >= 0)
			sh_exec(line);
	}
}
