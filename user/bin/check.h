/* check.h - the test programs' shared reporting: CHECK prints a
 * "FAIL: ..." line for each failed expectation, finish() prints
 * "result: PASS" or "result: FAIL" and gives main's exit status (0 or 1).
 * Output is line-buffered stdout; a QEMU test reads the lines. */
#ifndef TALLY_USER_CHECK_H
#define TALLY_USER_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int check_failures;

__attribute__((format(printf, 2, 3)))
static inline int check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return 1;
	check_failures++;
	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	return 0;
}

static inline int finish(void)
{
	printf("result: %s\n", check_failures ? "FAIL" : "PASS");
	return check_failures ? 1 : 0;
}

#endif
