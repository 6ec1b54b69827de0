/* utf8.h - UTF-8 characters: decoding (RFC 3629 section 4) and the
 * columns a terminal gives them (Unicode UAX #11 East Asian Width). */
#ifndef TALLY_LIB_UTF8_H
#define TALLY_LIB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode the character at s[0..n) (n >= 1) into *cp. Returns its length
 * (1..4), or 0 when the bytes at s are not well-formed UTF-8 (a stray
 * continuation byte, a truncated sequence, an overlong form, a surrogate,
 * a code point above U+10FFFF); *cp is then undefined. */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Terminal columns of code point cp: 2 for East Asian Wide and Fullwidth,
 * 0 for combining marks (general categories Mn, Me), else 1. */
int utf8_cp_width(uint32_t cp);

#endif
