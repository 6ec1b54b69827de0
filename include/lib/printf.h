/* printf.h - Tally's printf core, shared by kprintf, ksnprintf and the shell.
 *
 * Conversions: %d %i %u %x %X %o %p %s %c %%, length modifiers l, ll, z;
 * flags '-' (left-align) and '0' (zero pad); a field width (or '*').
 * %pE (after Linux's) prints a NUL-terminated string through the terminal
 * filter of lib/escape.h, for text that came from outside (a disk): no
 * field width. */
#ifndef TALLY_PRINTF_H
#define TALLY_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*printf_out_fn)(char c, void *ctx);

/* Format to a callback; returns the number of characters produced. */
int kvprintf_cb(printf_out_fn out, void *ctx, const char *fmt, va_list ap);

/* snprintf semantics: always NUL-terminates when n > 0; returns the
 * length the full output would have had. */
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
