/* shell.c - the read-eval loop: prompt, tokenizing, dispatch, completion.
 * Line editing is readline.c's. Arguments are split on blanks; double
 * quotes group words ("a b"); '#' at the start of a word starts a comment. */
#include <string.h>
#include "shell/shell.h"
#include "shell/readline.h"
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

#define TOK_QUOTE   (-1)   /* tokenize: a quote left open */
#define TOK_TOO_MANY (-2)  /* tokenize: more than SH_ARGV_MAX words */

/* Split line into argv in place; returns argc, TOK_QUOTE or TOK_TOO_MANY.
 * A '#' that starts a word starts a comment, as in a POSIX shell. */
static int tokenize(char *line, char **argv)
{
	int argc = 0;
	char *r = line, *w = line;

	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (!*r || *r == '#')
			return argc;
		if (argc == SH_ARGV_MAX)
			return TOK_TOO_MANY;
		argv[argc++] = w;
		for (int quoted = 0; *r && (quoted || (*r != ' ' && *r != '\t')); r++) {
			if (*r == '"')
				quoted = !quoted;
			else
				*w++ = *r;
			if (quoted && !r[1])
				return TOK_QUOTE;
		}
		if (*r)
			r++;
		*w++ = 0;
	}
}

static int run(const struct sh_cmd *c, int argc, char **argv)
{
	int rc;

	console_interrupt_clear();   /* a Ctrl-C typed before is not for it */
	rc = c->fn(argc, argv);
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
	int argc = tokenize(line, argv);
	const struct sh_cmd *c;

	if (argc == TOK_QUOTE) {
		kprintf("error: unbalanced quote (\")\n");
		return -1;
	}
	if (argc == TOK_TOO_MANY) {
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
	for (;;)
		if (rl_readline(PROMPT, line, sizeof(line)) >= 0)
			sh_exec(line);
}
