/* shell.c - the read-eval loop: prompt, line input, tokenizing, dispatch.
 *
 * Lines are edited in place (backspace/DEL, Ctrl-C drops the line, Ctrl-U
 * erases it); a line longer than SH_LINE_MAX is refused whole. Arguments
 * are split on blanks; double quotes group words ("a b"). */
#include <string.h>
#include "shell/shell.h"
#include "kernel/console.h"

#define SH_LINE_MAX 256
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

/* Split line into argv in place; returns argc, or -1 on an open quote
 * or too many arguments. */
static int tokenize(char *line, char **argv)
{
	int argc = 0;
	char *r = line, *w = line;

	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (!*r)
			return argc;
		if (argc == SH_ARGV_MAX)
			return -1;
		argv[argc++] = w;
		for (int quoted = 0; *r && (quoted || (*r != ' ' && *r != '\t')); r++) {
			if (*r == '"')
				quoted = !quoted;
			else
				*w++ = *r;
			if (quoted && !r[1])
				return -1;
		}
		if (*r)
			r++;
		*w++ = 0;
	}
}

int sh_exec(char *line)
{
	char *argv[SH_ARGV_MAX + 1];
	int argc = tokenize(line, argv);
	const struct sh_cmd *c;
	int rc;

	if (argc < 0) {
		kprintf("error: unbalanced quote or more than %d arguments\n", SH_ARGV_MAX);
		return -1;
	}
	if (argc == 0)
		return 0;
	argv[argc] = NULL;
	c = sh_find(argv[0]);
	if (!c) {
		kprintf("unknown command: %s\n", argv[0]);
		return -1;
	}
	rc = c->fn(argc, argv);
	if (rc == SH_USAGE)
		sh_print_usage(c);
	return rc;
}

/* Read one line with echo. Returns its length, or -1 when it was dropped
 * (Ctrl-C) or refused (too long). */
static int sh_readline(char *buf, int cap)
{
	int len = 0, overflow = 0;

	for (;;) {
		int c = console_getc_wait();

		if (c == '\r' || c == '\n') {
			kputs("\n");
			if (overflow) {
				kprintf("error: line longer than %d bytes refused\n", cap - 1);
				return -1;
			}
			buf[len] = 0;
			return len;
		} else if (c == 3) {            /* Ctrl-C */
			kputs("^C\n");
			return -1;
		} else if (c == 21) {           /* Ctrl-U */
			for (; len > 0; len--)
				kputs("\b \b");
		} else if (c == 8 || c == 127) {
			if (len > 0) {
				len--;
				kputs("\b \b");
			}
		} else if (c >= 32 && c < 127) {
			if (len < cap - 1) {
				buf[len++] = (char)c;
				kputc((char)c);
			} else {
				overflow = 1;
			}
		}
	}
}

void sh_run(void)
{
	static char line[SH_LINE_MAX];

	for (;;) {
		kputs(PROMPT);
		if (sh_readline(line, sizeof(line)) >= 0)
			sh_exec(line);
	}
}
