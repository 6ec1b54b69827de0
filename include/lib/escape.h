/* escape.h - the one filter between bytes from outside (a disk's names,
 * labels and contents) and the terminal.
 *
 * Printable ASCII and well-formed UTF-8 of printable characters pass as
 * they are; every other byte is shown as \xHH (lower-case hex): the C0
 * controls and DEL, the C1 controls U+0080..U+009F (both bytes of their
 * encoding), and each byte of malformed UTF-8 (a stray continuation byte,
 * a truncated sequence, an overlong form, a surrogate, a code point above
 * U+10FFFF). So a crafted name can neither move the cursor nor recolour
 * the screen, and what it holds stays visible. A backslash is shown as it
 * is. kprintf/ksnprintf's %pE conversion (lib/printf.h) runs a NUL-
 * terminated string through it; hexdump's text column uses ESC_DOTS.
 * Not a quoting scheme for the shell's input. */
#ifndef TALLY_LIB_ESCAPE_H
#define TALLY_LIB_ESCAPE_H

#include <stddef.h>
#include "lib/printf.h"

/* One column per byte, as `hexdump -C` shows text: printable ASCII as it
 * is, every other byte (UTF-8 included) as '.'. */
#define ESC_DOTS 1u

/* Write s[0..n) through out (ctx passed on), filtered as above (flags:
 * 0 or ESC_DOTS). Returns the characters written. */
int esc_write(printf_out_fn out, void *ctx, const char *s, size_t n,
	      unsigned flags);

/* How many bytes at the start of s[0..n) esc_write (flags 0) passes
 * unchanged: where text from outside must be cut before it is echoed as
 * it is (the line editor's completion). */
size_t esc_span(const char *s, size_t n);

#endif
