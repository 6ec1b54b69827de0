/* readline.c - the shell's line editor (see include/shell/readline.h).
 * Redraws with plain VT100 sequences: "\b" to move left one column, and
 * the tail of the line rewritten after an edit in the middle. The line is
 * UTF-8: the cursor moves by characters, a combining mark going with the
 * character before it, and the screen by the columns a terminal gives
 * them (lib/utf8.h: two for East Asian Wide and Fullwidth, none for a
 * combining mark). Completion reads and writes words with the parser's
 * quoting (shell/quote.h). */
#include <stdbool.h>
#include <string.h>
#include "shell/readline.h"
#include "kernel/console.h"
#include "lib/escape.h"
#include "lib/utf8.h"
#include "shell/quote.h"

#define KEY_CTRL(c) ((c) & 0x1f)
#define MAX_CANDIDATES 64

struct line {
	char *buf;
	int cap, len, pos, overflow;
	int pushback;   /* a key read after a character it did not finish, or -1 */
	const char *prompt;
};

static char history[RL_HISTORY][RL_LINE_MAX];
static int hist_count;   /* entries ever added */
static rl_complete_fn completer;

void rl_set_completer(rl_complete_fn fn)
{
	completer = fn;
}

static bool continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/* The character at buf[i]: its bytes, and its columns in *width (a byte
 * that is not well-formed UTF-8 is one column: a terminal shows U+FFFD). */
static int char_at(const struct line *l, int i, int *width)
{
	uint32_t cp;
	int n = (int)utf8_decode(l->buf + i, (size_t)(l->len - i), &cp);

	*width = n ? utf8_cp_width(cp) : 1;
	return n ? n : 1;
}

/* The cursor steps over a character and the combining marks after it. */
static int next_unit(const struct line *l, int i)
{
	int w;

	i += char_at(l, i, &w);
	while (i < l->len) {
		int n = char_at(l, i, &w);

		if (w)
			break;
		i += n;
	}
	return i;
}

static int prev_unit(const struct line *l, int i)
{
	int w = 0;

	while (i > 0 && !w) {
		while (--i > 0 && continuation(l->buf[i]))
			;
		char_at(l, i, &w);
	}
	return i;
}

/* Screen columns of buf[from, to). */
static int cols(const struct line *l, int from, int to)
{
	int n = 0, w;

	while (from < to) {
		from += char_at(l, from, &w);
		n += w;
	}
	return n;
}

static void move_left(int n)
{
	while (n-- > 0)
		kputc('\b');
}

/* Rewrite from the cursor to the end (plus `erase` blank columns), return
 * the cursor. */
static void redraw_tail(struct line *l, int erase)
{
	for (int i = l->pos; i < l->len; i++)
		kputc(l->buf[i]);
	for (int i = 0; i < erase; i++)
		kputc(' ');
	move_left(cols(l, l->pos, l->len) + erase);
}

/* One character right, echoing it; to the end. */
static void right(struct line *l)
{
	int to = l->pos < l->len ? next_unit(l, l->pos) : l->pos;

	while (l->pos < to)
		kputc(l->buf[l->pos++]);
}

static void end(struct line *l)
{
	while (l->pos < l->len)
		kputc(l->buf[l->pos++]);
}

/* One character left, as many columns as it takes; to the start. */
static void left(struct line *l)
{
	int to = prev_unit(l, l->pos);

	move_left(cols(l, to, l->pos));
	l->pos = to;
}

static void home(struct line *l)
{
	move_left(cols(l, 0, l->pos));
	l->pos = 0;
}

static void insert(struct line *l, const char *s, int n)
{
	if (l->len + n > l->cap - 1) {
		l->overflow = 1;
		return;
	}
	memmove(l->buf + l->pos + n, l->buf + l->pos, (size_t)(l->len - l->pos));
	memcpy(l->buf + l->pos, s, (size_t)n);
	l->len += n;
	for (int i = 0; i < n; i++)
		kputc(s[i]);
	l->pos += n;
	redraw_tail(l, 0);
}

/* Delete the character before the cursor (with its combining marks). */
static void backspace(struct line *l)
{
	int at = l->pos, gone;

	if (at == 0)
		return;
	l->pos = prev_unit(l, at);
	gone = cols(l, l->pos, at);
	move_left(gone);
	memmove(l->buf + l->pos, l->buf + at, (size_t)(l->len - at));
	l->len -= at - l->pos;
	redraw_tail(l, gone);
}

/* Replace the whole line with s. */
static void set_line(struct line *l, const char *s)
{
	int old = cols(l, 0, l->len), now;
	int n = (int)strlen(s);

	home(l);
	if (n > l->cap - 1)
		n = l->cap - 1;
	memcpy(l->buf, s, (size_t)n);
	l->len = n;
	end(l);
	now = cols(l, 0, n);
	for (int i = now; i < old; i++)
		kputc(' ');
	move_left(old > now ? old - now : 0);
}

static void history_add(const char *s)
{
	if (!*s || (hist_count && !strcmp(history[(hist_count - 1) % RL_HISTORY], s)))
		return;
	strncpy(history[hist_count % RL_HISTORY], s, sizeof(history[0]) - 1);
	history[hist_count % RL_HISTORY][sizeof(history[0]) - 1] = 0;
	hist_count++;
}

const char *rl_history_entry(int n)
{
	int oldest = hist_count > RL_HISTORY ? hist_count - RL_HISTORY : 0;

	return n >= oldest && n < hist_count ? history[n % RL_HISTORY] : NULL;
}

int rl_history_count(void)
{
	return hist_count;
}

struct matches {
	const char *word;
	int wlen, n;
	char common[RL_LINE_MAX];
	const char *all[MAX_CANDIDATES];
};

static void collect(const char *cand, void *ctx)
{
	struct matches *m = ctx;
	int i;

	if (strncmp(cand, m->word, (size_t)m->wlen))
		return;
	if (m->n == 0)
		strncpy(m->common, cand, sizeof(m->common) - 1);
	for (i = 0; m->common[i] && m->common[i] == cand[i]; i++)
		;
	m->common[i] = 0;
	if (m->n < MAX_CANDIDATES)
		m->all[m->n] = cand;
	m->n++;
}

/* Text the parser reads back as the candidates (sh_quote at most
 * quadruples a byte). */
static char typed[4 * RL_LINE_MAX];

/* Insert what all candidates share beyond the word, quoted as the word
 * is; a single candidate that is not a directory ends the word. */
static void complete_insert(struct line *l, const struct matches *m, const struct sh_word *w)
{
	int add = (int)strlen(m->common) - m->wlen, n = 0;
	int keep = add > 0 ? (int)esc_span(m->common + m->wlen, (size_t)add) : 0;

	if (keep > 0)
		n = sh_quote(m->common + m->wlen, keep, w->quote, w->start == l->pos,
			     typed, sizeof(typed));
	if (n > 0)
		insert(l, typed, n);
	if (m->n == 1 && keep == add && m->common[strlen(m->common) - 1] != '/') {
		if (w->quote)
			insert(l, &w->quote, 1);
		insert(l, " ", 1);
	}
}

/* Tab-Tab: the candidates as they would be typed (in the word's quote),
 * then the prompt and the line again. */
static void list_candidates(struct line *l, const struct matches *m, const struct sh_word *w)
{
	kputs("\n");
	for (int i = 0; i < m->n && i < MAX_CANDIDATES; i++) {
		const char *c = m->all[i];
		const char *q = w->quote == '"' ? "\"" : w->quote ? "'" : "";

		if (sh_quote(c, (int)strlen(c), w->quote, true, typed, sizeof(typed)) >= 0)
			kprintf("%s%pE%s", q, typed, q);
		kputs(i + 1 < m->n ? "  " : "\n");
	}
	kputs(l->prompt);
	for (int i = 0; i < l->len; i++)
		kputc(l->buf[i]);
	move_left(cols(l, l->pos, l->len));
}

/* Tab: complete the word before the cursor as the parser reads it (its
 * quotes and escapes removed); again: the second Tab in a row. */
static void complete(struct line *l, int again)
{
	static struct matches m;
	static char word[RL_LINE_MAX];
	struct sh_word w;

	if (!completer || sh_word_at(l->buf, l->pos, &w, word, sizeof(word)))
		return;
	memset(&m, 0, sizeof(m));
	m.word = word;
	m.wlen = w.len;
	completer(word, w.first, collect, &m);
	if (m.n == 0)
		return;
	complete_insert(l, &m, &w);
	if (m.n > 1 && again)
		list_candidates(l, &m, &w);
}

/* Delete the character under the cursor (the Delete key): step over it,
 * then erase back. */
static void delete_at(struct line *l)
{
	if (l->pos == l->len)
		return;
	right(l);
	backspace(l);
}

/* ESC [ x, ESC O x and ESC [ n ~ sequences; returns after consuming one. */
static void escape(struct line *l, int *hist_pos)
{
	int c = console_getc_wait();

	if (c != '[' && c != 'O')
		return;
	c = console_getc_wait();
	if (c >= '0' && c <= '9') {   /* VT220 keys: 1/7 Home, 4/8 End, 3 Delete */
		int n = c - '0', d;

		while ((d = console_getc_wait()) >= '0' && d <= '9')
			n = n * 10 + (d - '0');
		c = d != '~' ? 0 : n == 1 || n == 7 ? 'H' : n == 4 || n == 8 ? 'F' : n == 3 ? 'X' : 0;
	}
	if (c == 'X') {
		delete_at(l);
	} else if (c == 'D') {
		left(l);
	} else if (c == 'C') {
		right(l);
	} else if (c == 'H') {
		home(l);
	} else if (c == 'F') {
		end(l);
	} else if (c == 'A' || c == 'B') {
		int oldest = hist_count > RL_HISTORY ? hist_count - RL_HISTORY : 0;
		int next = *hist_pos + (c == 'A' ? -1 : 1);

		if (next < oldest || next > hist_count)
			return;
		*hist_pos = next;
		set_line(l, next == hist_count ? "" : history[next % RL_HISTORY]);
	}
}

/* The rest of the UTF-8 character that byte c starts, into ch: the
 * editor inserts whole characters, so the terminal never sees a tail
 * rewritten after half of one. A byte that cannot continue it is kept in
 * *pushback for the next key. Returns the bytes in ch. */
static int read_char(int c, char ch[4], int *pushback)
{
	int want = c >= 0xF8 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1, n = 1;

	ch[0] = (char)c;
	while (n < want) {
		int d = console_getc_wait();

		if (!continuation((char)d)) {
			*pushback = d;
			break;
		}
		ch[n++] = (char)d;
	}
	return n;
}

int rl_readline(const char *prompt, char *buf, int cap)
{
	struct line l = { buf, cap, 0, 0, 0, -1, prompt };
	int hist_pos = hist_count, last = 0;

	console_fresh_line();   /* the prompt always starts a line */
	kputs(prompt);
	for (;;) {
		int c = l.pushback >= 0 ? l.pushback : console_getc_wait();

		l.pushback = -1;
		if (c == '\r' || c == '\n') {
			kputs("\n");
			buf[l.len] = 0;
			if (l.overflow) {
				kprintf("error: line longer than %d bytes refused\n", cap - 1);
				return -1;
			}
			history_add(buf);
			return l.len;
		}
		if (c == KEY_CTRL('C')) {
			kputs("^C\n");
			return -1;
		} else if (c == KEY_CTRL('U')) {
			set_line(&l, "");
			l.overflow = 0;
		} else if (c == 8 || c == 127) {
			backspace(&l);
		} else if (c == KEY_CTRL('A')) {
			home(&l);
		} else if (c == KEY_CTRL('E')) {
			end(&l);
		} else if (c == '\t') {
			complete(&l, last == '\t');
		} else if (c == 27) {
			escape(&l, &hist_pos);
		} else if (c >= 32 && c != 127) {   /* text, UTF-8 bytes included */
			char ch[4];

			insert(&l, ch, read_char(c, ch, &l.pushback));
		}
		last = c;
	}
}
