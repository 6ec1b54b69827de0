/* mm_env_host.c - the host's mm environment (mm/mm_env.h): no lock (host
 * tests are single-threaded; include/env/host/mm_env_lock.h), reports to stderr with an "mm: " prefix and
 * counted in mm_host_reports. Not thread-safe. */
#include "mm/mm_env.h"
#include "mm_host.h"

#include <stdio.h>
#include <time.h>

unsigned long long (*mm_host_clock)(void);

unsigned long long mm_clock_ms(void)
{
	struct timespec ts;

	if (mm_host_clock)
		return mm_host_clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

unsigned long mm_host_reports;
char mm_host_last_report[256];
int mm_host_quiet;

void mm_report(const char *fmt, ...)
{
	va_list ap;

	mm_host_reports++;
	va_start(ap, fmt);
	vsnprintf(mm_host_last_report, sizeof(mm_host_last_report), fmt, ap);
	va_end(ap);
	if (!mm_host_quiet)
		fprintf(stderr, "mm: %s\n", mm_host_last_report);
}
