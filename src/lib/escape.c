/* escape.c - the terminal filter for bytes from outside (lib/escape.h).
 * UTF-8 well-formedness is lib/utf8.c's (RFC 3629 section 4); "printable" is
 * everything but the C0 and C1 control ranges and DEL. */
#include <stdint.h>
#include "lib/escape.h"
#include "lib/utf8.h"

/* Length of the printable character at s (1..4 bytes), or 0 when the
 * byte at s must be escaped. */
static size_t char_len(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t len = utf8_decode((const char *)s, n, &cp);

	if (!len || cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
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
