/* quote.c - the shell's words (include/shell/quote.h): one lexer, read
 * by the tokenizer that makes argv and by Tab completion, which must see
 * a word as the parser will; and the quoting that makes text read back
 * as itself. Not an expander: there are no variables or substitutions. */
#include <string.h>
#include "shell/quote.h"

#define LEX_BLANK (-1)   /* a separator outside quotes */
#define LEX_NONE  (-2)   /* consumed: a quote, or a backslash that escapes */

struct lexer {
	char quote;    /* 0, '\'' or '"' */
	bool escape;   /* the last byte was a backslash that escapes */
};

/* Inside double quotes a backslash escapes only these (XCU 2.2.3; the
 * newline of the list cannot be in a line). */
static bool dquote_escapes(char c)
{
	return c == '$' || c == '`' || c == '"' || c == '\\';
}

/* Read byte c (next follows it, 0 at the end): the byte it adds to the
 * word, LEX_BLANK or LEX_NONE. */
static int lex_step(struct lexer *lx, char c, char next)
{
	if (lx->escape) {
		lx->escape = false;
		return (unsigned char)c;
	}
	if (lx->quote == '\'' && c != '\'')
		return (unsigned char)c;
	if (c == '\\' && (!lx->quote || !next || dquote_escapes(next))) {
		lx->escape = true;
		return LEX_NONE;
	}
	if (lx->quote && c == lx->quote) {
		lx->quote = 0;
		return LEX_NONE;
	}
	if (!lx->quote && (c == '\'' || c == '"')) {
		lx->quote = c;
		return LEX_NONE;
	}
	return !lx->quote && (c == ' ' || c == '\t') ? LEX_BLANK : (unsigned char)c;
}

int sh_tokenize(char *line, char **argv, int max, char *open)
{
	struct lexer lx = { 0, false };
	bool in_word = false;
	char *w = line;   /* never past r: a byte read writes at most one */
	int argc = 0;

	for (const char *r = line; *r; r++) {
		int c;

		if (!in_word && *r == '#')
			break;
		c = lex_step(&lx, r[0], r[1]);
		if (c == LEX_BLANK) {
			if (in_word)
				*w++ = 0;
			in_word = false;
			continue;
		}
		if (!in_word) {
			if (argc == max)
				return SH_TOK_TOO_MANY;
			argv[argc++] = w;
			in_word = true;
		}
		if (c >= 0)
			*w++ = (char)c;
	}
	*w = 0;
	*open = lx.quote;
	return lx.quote ? SH_TOK_QUOTE : lx.escape ? SH_TOK_ESCAPE : argc;
}

int sh_word_at(const char *line, int pos, struct sh_word *w, char *text, int cap)
{
	struct lexer lx = { 0, false };
	bool in_word = false;
	int words = 0;

	w->start = pos;
	w->len = 0;
	for (int i = 0; i < pos; i++) {
		int c;

		if (!in_word && line[i] == '#')
			return -1;
		c = lex_step(&lx, line[i], i + 1 < pos ? line[i + 1] : 0);
		if (c == LEX_BLANK) {
			words += in_word;
			in_word = false;
			w->start = pos;
			w->len = 0;
			continue;
		}
		if (!in_word) {
			in_word = true;
			w->start = i;
		}
		if (c >= 0 && w->len + 1 >= cap)
			return -1;
		if (c >= 0)
			text[w->len++] = (char)c;
	}
	text[w->len] = 0;
	w->first = words == 0;
	w->quote = lx.quote;
	return lx.escape ? -1 : 0;
}

/* Must c be escaped with a backslash inside quote q? A tab, like every
 * control character, is left to the terminal filter, which shows it as
 * \x09: it cannot be typed (Tab completes), and completion never inserts
 * one (it stops before bytes the filter escapes). */
static bool needs_backslash(char c, char q, bool at_start)
{
	if (q == '\'')
		return false;
	if (q == '"')
		return dquote_escapes(c);
	return c == ' ' || c == '\'' || c == '"' || c == '\\' ||
	       (c == '#' && at_start);
}

int sh_quote(const char *s, int n, char q, bool at_start, char *out, int cap)
{
	int o = 0;

	for (int i = 0; i < n; i++) {
		char esc[3] = { '\\', s[i], 0 }, one[2] = { s[i], 0 };
		const char *add = one;
		int k;

		if (q == '\'' && s[i] == '\'')
			add = "'\\''";   /* close, an escaped quote, open again */
		else if (needs_backslash(s[i], q, at_start && i == 0))
			add = esc;
		k = (int)strlen(add);
		if (o + k >= cap)
			return -1;
		memcpy(out + o, add, (size_t)k);
		o += k;
	}
	out[o] = 0;
	return o;
}
