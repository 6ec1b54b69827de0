/* escape.c - the terminal filter for bytes from outside (lib/escape.h).
 * UTF-8 well-formedness as RFC 3629 section 4 defines it; "printable" is
 * everything but the C0 and C1 control ranges and DEL. */
#include <stdint.h>
#include "lib/escape.h"

/* Length of the printable character at s (1..4 bytes), or 0 when the
 * byte at s must be escaped. */
static size_t char_len(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7F;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1Fu;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0Fu;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3Fu);
	}
	if (cp < 0xA0 || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return len;
}

int esc_write(printf_out_fn out, void *ctx, const char *s, size_t n,
	      unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	int count = 0;

	for (size_t i = 0; i < n;) {
		size_t len = char_len(p + i, n - i);

		if (flags & ESC_DOTS) {
			out(len == 1 ? (char)p[i] : '.', ctx);
			count++;
			i++;
		} else if (len) {
			for (size_t k = 0; k < len; k++)
				out((char)p[i + k], ctx);
			count += (int)len;
			i += len;
		} else {
			out('\\', ctx);
			out('x', ctx);
			out(hex[p[i] >> 4], ctx);
			out(hex[p[i] & 15], ctx);
			count += 4;
			i++;
		}
	}
	return count;
}

size_t esc_span(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, len;

	while (i < n && (len = char_len(p + i, n - i)) != 0)
		i += len;
	return i;
}
