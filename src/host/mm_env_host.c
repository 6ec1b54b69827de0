/* mm_env_host.c - the host's mm environment (mm/mm_env.h): no lock (host
 * tests are single-threaded; include/env/host/mm_env_lock.h), reports to stderr with an "mm: " prefix and
 * counted in mm_host_reports. Not thread-safe. */
#include "mm/mm_env.h"
#include "mm_host.h"

#include <stdio.h>

unsigned long mm_host_reports;
int mm_host_quiet;

void mm_report(const char *fmt, ...)
{
	va_list ap;

	mm_host_reports++;
	if (mm_host_quiet)
		return;
	fputs("mm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
