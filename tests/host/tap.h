/* tap.h - a tiny TAP producer for the host unit tests.
 *
 * Each test program prints "TAP version 13", one "ok N - name" or
 * "not ok N - name" line per check, then "1..N". tests/run.py counts the
 * lines; a program that exits non-zero or crashes (ASan/UBSan abort) fails
 * as a whole. tap_seed() prints the seed a randomized test uses, so a
 * failure can be replayed. */
#ifndef TALLY_TAP_H
#define TALLY_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count;
static int tap_failed;

static inline void tap_begin(void)
{
	printf("TAP version 13\n");
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void tap_seed(const char *test, unsigned long long seed)
{
	tap_diag("%s: seed=%llu", test, seed);
}

/* Print the plan and return the process exit status. */
static inline int tap_end(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
