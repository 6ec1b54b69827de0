/* utf8.c - UTF-8 decoding and display width (lib/utf8.h). The width
 * ranges are generated from the Unicode Character Database
 * (tools/gen_wcwidth.py, wcwidth_table.h); nothing here knows about
 * terminals beyond the column counts. */
#include "lib/utf8.h"

struct wc_range {
	uint32_t lo, hi;
};

#include "wcwidth_table.h"

size_t utf8_decode(const char *str, size_t n, uint32_t *cp)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, *cp = s[0] & 0x1Fu;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, *cp = s[0] & 0x0Fu;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, *cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3Fu);
	}
	if ((len == 3 && *cp < 0x800) || (len == 4 && *cp < 0x10000) ||
	    (*cp >= 0xD800 && *cp <= 0xDFFF) || *cp > 0x10FFFF)
		return 0;
	return len;
}

static int in_table(uint32_t cp, const struct wc_range *t, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp > t[mid].hi)
			lo = mid + 1;
		else if (cp < t[mid].lo)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

int utf8_cp_width(uint32_t cp)
{
	if (cp < 0x300)   /* below the first combining mark: the common case */
		return 1;
	if (in_table(cp, wc_zero, sizeof(wc_zero) / sizeof(wc_zero[0])))
		return 0;
	return in_table(cp, wc_wide, sizeof(wc_wide) / sizeof(wc_wide[0])) ? 2 : 1;
}
