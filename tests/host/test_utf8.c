/* test_utf8.c - host tests of lib/utf8.h. Expected widths are the
 * Unicode Character Database's (EastAsianWidth.txt, UAX #11: W and F are
 * two columns; general categories Mn and Me are combining marks, none);
 * decoding follows RFC 3629 section 4. */
#include <string.h>

#include "tap.h"
#include "lib/utf8.h"

static void test_widths(void)
{
	static const struct { uint32_t cp; int w; const char *what; } cases[] = {
		{ 'a', 1, "ASCII letter (Na)" },
		{ 0xE9, 1, "U+00E9 e acute (A/N: narrow)" },
		{ 0x0301, 0, "U+0301 combining acute (Mn)" },
		{ 0x20DD, 0, "U+20DD combining enclosing circle (Me)" },
		{ 0x1100, 2, "U+1100 Hangul choseong kiyeok (W)" },
		{ 0x3000, 2, "U+3000 ideographic space (F)" },
		{ 0x65E5, 2, "U+65E5 CJK ideograph (W)" },
		{ 0xAC00, 2, "U+AC00 Hangul syllable (W)" },
		{ 0xFF21, 2, "U+FF21 fullwidth A (F)" },
		{ 0xFF61, 1, "U+FF61 halfwidth ideographic full stop (H)" },
		{ 0x1F600, 2, "U+1F600 grinning face (W)" },
		{ 0x2A6DF, 2, "U+2A6DF CJK extension B (W)" },
		{ 0x10FFFF, 1, "U+10FFFF (N)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(utf8_cp_width(cases[i].cp) == cases[i].w, "width %d: %s", cases[i].w,
		       cases[i].what);
}

static void test_decode(void)
{
	uint32_t cp = 0;

	tap_ok(utf8_decode("\xe6\x97\xa5", 3, &cp) == 3 && cp == 0x65E5, "three bytes: U+65E5");
	tap_ok(utf8_decode("\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1F600, "four bytes: U+1F600");
	tap_ok(utf8_decode("\xe6\x97", 2, &cp) == 0, "a truncated sequence is refused");
	tap_ok(utf8_decode("\xc0\xaf", 2, &cp) == 0, "an overlong form is refused");
	tap_ok(utf8_decode("\xed\xa0\x80", 3, &cp) == 0, "a surrogate is refused");
	tap_ok(utf8_decode("\x97", 1, &cp) == 0, "a stray continuation byte is refused");
	tap_ok(utf8_decode("\xf4\x90\x80\x80", 4, &cp) == 0, "above U+10FFFF is refused");
}

/* No state: decoding and widths are pure functions, so no `before`. */
static const struct tap_case cases[] = {
	TAP_CASE(test_widths),
	TAP_CASE(test_decode),
};

int main(void)
{
	return tap_main(TAP_CASES(cases), NULL, NULL);
}
