/* quote.h - the shell's words: POSIX sh quoting, without expansions.
 *
 * Words are split on blanks (space, tab) outside quotes. As in a POSIX
 * shell (XCU 2.2 Quoting): a backslash outside quotes keeps the next
 * character as it is; inside '...' nothing is special; inside "..." a
 * backslash escapes only '$', '`', '"' and '\' and is kept before any
 * other character. Quotes may sit anywhere in a word ("a"'b'c is abc) and
 * an empty pair makes an empty word. A '#' that starts a word, unquoted,
 * starts a comment. Tally has no expansions: '$' and '`' are text. */
#ifndef TALLY_SHELL_QUOTE_H
#define TALLY_SHELL_QUOTE_H

#include <stdbool.h>

#define SH_TOK_QUOTE    (-1)   /* a quote left open */
#define SH_TOK_ESCAPE   (-2)   /* a backslash ends the line */
#define SH_TOK_TOO_MANY (-3)   /* more than max words */

/* Split line into at most max words in place, quotes removed: argv[i]
 * points into line. Returns the word count, or SH_TOK_QUOTE (then *open
 * is the quote left open), SH_TOK_ESCAPE or SH_TOK_TOO_MANY. */
int sh_tokenize(char *line, char **argv, int max, char *open);

/* The word that ends at byte pos of line (what Tab completes). */
struct sh_word {
	int start;     /* byte where it starts (pos when nothing is typed) */
	bool first;    /* no word before it: a command name */
	char quote;    /* the quote open at pos: 0, '\'' or '"' */
	int len;       /* bytes of text */
};

/* Read the word ending at pos into text (cap bytes, NUL included) as the
 * parser would read it. 0, or -1 when there is no word to complete: pos
 * is inside a comment or right after an escaping backslash, or the text
 * does not fit. */
int sh_word_at(const char *line, int pos, struct sh_word *w, char *text, int cap);

/* Write s[0..n) into out (cap bytes, NUL added) as it is typed inside
 * quote q (0, '\'' or '"') so the parser reads s back; at_start: s
 * begins a word (a '#' there is escaped). Control characters (a tab
 * among them) are left as they are: they cannot be typed, and the
 * terminal filter shows them as \xHH. Returns the bytes written, or
 * -1 when they do not fit. */
int sh_quote(const char *s, int n, char q, bool at_start, char *out, int cap);

#endif
