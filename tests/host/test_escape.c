/* test_escape.c - host tests of the terminal filter (lib/escape.h) and
 * printf's %pE. Expected strings follow from the filter's rule: C0
 * controls, DEL and the C1 controls (U+0080..U+009F) are not printable;
 * UTF-8 is well-formed as RFC 3629 section 4 defines it (no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "lib/escape.h"
#include "lib/printf.h"

struct buf {
	char s[512];
	size_t n;
};

static void put(char c, void *ctx)
{
	struct buf *b = ctx;

	if (b->n + 1 < sizeof(b->s))
		b->s[b->n++] = c;
	b->s[b->n] = '\0';
}

/* esc_write(in[0..n)) equals want, and the count is its length. */
static int filtered(const char *in, size_t n, unsigned flags, const char *want)
{
	struct buf b = { "", 0 };
	int count = esc_write(put, &b, in, n, flags);

	if (strcmp(b.s, want) || count != (int)strlen(want)) {
		tap_diag("got '%s' (%d), want '%s'", b.s, count, want);
		return 0;
	}
	return 1;
}

static void test_controls(void)
{
	char in[40], want[200], *w = want;
	size_t n = 0;

	for (int c = 1; c < 0x20; c++)
		in[n++] = (char)c;
	in[n++] = 0x7F;
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "\\x%02x", (unsigned char)in[i]);
	tap_ok(filtered(in, n, 0, want), "every C0 control and DEL shown as \\xHH");
	tap_ok(filtered("a\0b", 3, 0, "a\\x00b"), "a NUL byte inside a buffer is \\x00");
	tap_ok(filtered("\xC2\x9B" "2J", 4, 0, "\\xc2\\x9b2J"),
	       "C1 control U+009B (CSI) shown byte by byte");
	tap_ok(filtered("\xC2\x80\xC2\x9F\xC2\xA0", 6, 0, "\\xc2\\x80\\xc2\\x9f\xC2\xA0"),
	       "U+0080 and U+009F escaped, U+00A0 (first after C1) passes");
}

static void test_utf8(void)
{
	tap_ok(filtered("Gr\xC3\xBC\xC3\x9F" "e \xE6\x97\xA5 \xF0\x9F\x98\x80 ~", 18, 0,
			"Gr\xC3\xBC\xC3\x9F" "e \xE6\x97\xA5 \xF0\x9F\x98\x80 ~"),
	       "ASCII, 2-, 3- and 4-byte characters pass unchanged");
	tap_ok(filtered("\x80x", 2, 0, "\\x80x"), "stray continuation byte");
	tap_ok(filtered("\xC3", 1, 0, "\\xc3") && filtered("\xE6\x97", 2, 0, "\\xe6\\x97"),
	       "sequences cut short at the end");
	tap_ok(filtered("\xC3x", 2, 0, "\\xc3x"), "lead byte followed by ASCII");
	tap_ok(filtered("\xC0\xAF", 2, 0, "\\xc0\\xaf") &&
	       filtered("\xE0\x80\xAF", 3, 0, "\\xe0\\x80\\xaf") &&
	       filtered("\xF0\x80\x80\xAF", 4, 0, "\\xf0\\x80\\x80\\xaf"),
	       "overlong forms of '/' (2, 3 and 4 bytes)");
	tap_ok(filtered("\xED\xA0\x80", 3, 0, "\\xed\\xa0\\x80"), "UTF-16 surrogate U+D800 encoded");
	tap_ok(filtered("\xF4\x90\x80\x80", 4, 0, "\\xf4\\x90\\x80\\x80") &&
	       filtered("\xF5\x80\x80\x80", 4, 0, "\\xf5\\x80\\x80\\x80") &&
	       filtered("\xFF", 1, 0, "\\xff"),
	       "above U+10FFFF, F5 and FF lead bytes");
	tap_ok(filtered("\xF4\x8F\xBF\xBF", 4, 0, "\xF4\x8F\xBF\xBF"), "U+10FFFF passes");
	tap_ok(filtered("a\\x1bb", 6, 0, "a\\x1bb"), "a backslash passes as it is");
}

static void test_dots_span_printf(void)
{
	char out[64];
	int n;

	tap_ok(filtered("ab\n\x1b\xC3\xBC~\x7F", 8, ESC_DOTS, "ab....~."),
	       "ESC_DOTS: one column per byte, as hexdump -C");
	tap_ok(esc_span("abc\x1b" "d", 5) == 3 && esc_span("\xC3\xBCx", 3) == 3 &&
	       esc_span("\xC3", 1) == 0 && esc_span("", 0) == 0,
	       "esc_span: the bytes that pass unchanged");
	n = ksnprintf(out, sizeof(out), "[%pE] %s", "x\x1b[31my\a", "\x1b");
	tap_ok(!strcmp(out, "[x\\x1b[31my\\x07] \x1b") && n == (int)strlen(out),
	       "%%pE filters its string, %%s does not: '%s'", out);
	ksnprintf(out, sizeof(out), "%pE|%d", (const char *)NULL, 7);
	tap_ok(!strcmp(out, "(null)|7"), "%%pE of NULL, and the arguments after it");
	n = ksnprintf(out, 5, "%pE", "\x01\x02");
	tap_ok(n == 8 && !strcmp(out, "\\x01"), "ksnprintf counts the escaped length when it cuts");
}

/* No state: the filter is a pure function, so no `before`. */
static const struct tap_case cases[] = {
	TAP_CASE(test_controls),
	TAP_CASE(test_utf8),
	TAP_CASE(test_dots_span_printf),
};

int main(void)
{
	return tap_main(TAP_CASES(cases), NULL, NULL);
}
