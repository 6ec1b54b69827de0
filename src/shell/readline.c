/* readline.c - the shell's line editor (see include/shell/readline.h).
 * Redraws with plain VT100 sequences: "\b" to move left, and the tail of
 * the line rewritten after an edit in the middle. The line is UTF-8: the
 * cursor moves by characters (a lead byte and its 10xxxxxx continuation
 * bytes) and the screen by one column per character. */
#include <stdbool.h>
#include <string.h>
#include "shell/readline.h"
#include "kernel/console.h"
#include "lib/escape.h"

#define KEY_CTRL(c) ((c) & 0x1f)
#define MAX_CANDIDATES 64

struct line {
	char *buf;
	int cap, len, pos, overflow;
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

/* Screen columns of buf[from, to): one per character. */
static int cols(const char *buf, int from, int to)
{
	int n = 0;

	for (int i = from; i < to; i++)
		n += !continuation(buf[i]);
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
	move_left(cols(l->buf, l->pos, l->len) + erase);
}

/* One character right, echoing it; to the end. */
static void right(struct line *l)
{
	if (l->pos == l->len)
		return;
	do
		kputc(l->buf[l->pos++]);
	while (l->pos < l->len && continuation(l->buf[l->pos]));
}

static void end(struct line *l)
{
	while (l->pos < l->len)
		right(l);
}

/* One character left; to the start. */
static void left(struct line *l)
{
	if (l->pos == 0)
		return;
	while (--l->pos > 0 && continuation(l->buf[l->pos]))
		;
	kputc('\b');
}

static void home(struct line *l)
{
	move_left(cols(l->buf, 0, l->pos));
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

/* Delete the character before the cursor. */
static void backspace(struct line *l)
{
	int at = l->pos;

	if (at == 0)
		return;
	left(l);
	memmove(l->buf + l->pos, l->buf + at, (size_t)(l->len - at));
	l->len -= at - l->pos;
	redraw_tail(l, 1);
}

/* Replace the whole line with s. */
static void set_line(struct line *l, const char *s)
{
	int old = cols(l->buf, 0, l->len), now;
	int n = (int)strlen(s);

	home(l);
	if (n > l->cap - 1)
		n = l->cap - 1;
	memcpy(l->buf, s, (size_t)n);
	l->len = n;
	end(l);
	now = cols(l->buf, 0, n);
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

static void complete(struct line *l, int again)
{
	static struct matches m;
	static char word[RL_LINE_MAX];
	int start = l->pos, add, keep;

	while (start > 0 && l->buf[start - 1] != ' ')
		start--;
	if (!completer || l->pos - start >= (int)sizeof(word))
		return;
	memcpy(word, l->buf + start, (size_t)(l->pos - start));
	word[l->pos - start] = 0;
	memset(&m, 0, sizeof(m));
	m.word = word;
	m.wlen = l->pos - start;
	completer(word, start == 0, collect, &m);
	if (m.n == 0)
		return;
	add = (int)strlen(m.common) - m.wlen;
	keep = add > 0 ? (int)esc_span(m.common + m.wlen, (size_t)add) : 0;
	if (keep > 0)
		insert(l, m.common + m.wlen, keep);
	if (m.n == 1 && keep == add && m.common[strlen(m.common) - 1] != '/')
		insert(l, " ", 1);
	else if (m.n > 1 && again) {
		kputs("\n");
		for (int i = 0; i < m.n && i < MAX_CANDIDATES; i++)
			kprintf("%pE%s", m.all[i], i + 1 < m.n ? "  " : "\n");
		kputs(l->prompt);
		for (int i = 0; i < l->len; i++)
			kputc(l->buf[i]);
		move_left(cols(l->buf, l->pos, l->len));
	}
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

int rl_readline(const char *prompt, char *buf, int cap)
{
	struct line l = { buf, cap, 0, 0, 0, prompt };
	int hist_pos = hist_count, last = 0;

	console_fresh_line();   /* the prompt always starts a line */
	kputs(prompt);
	for (;;) {
		int c = console_getc_wait();

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
			char ch = (char)c;

			insert(&l, &ch, 1);
		}
		last = c;
	}
}
