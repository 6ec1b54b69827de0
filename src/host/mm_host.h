/* mm_host.h - test hooks of the host mm environment (src/host/mm_env_host.c).
 * Host only; the kernel has no such thing. mm_report() writes the first
 * two under the mm lock; read them while no other thread reports. */
#ifndef TALLY_MM_HOST_H
#define TALLY_MM_HOST_H

/* Lines mm_report() has produced since start (tests assert "reported"). */
extern unsigned long mm_host_reports;

/* The text of the last report (tests check what it names). */
extern char mm_host_last_report[256];

/* Non-zero: count reports but do not print them (noisy tests). */
extern int mm_host_quiet;

/* Called with each report's text after it is printed, under the mm lock
 * (libtally.so's TALLY_BAD_FREE=abort aborts there); NULL: none. */
extern void (*mm_host_report_hook)(const char *text);

/* Times every gate was stopped (mm_gates_stop), since start: tests
 * measure how often the fast paths of every thread were held up. */
extern unsigned long mm_host_gate_stops;

/* Set: mm_clock_ms() returns what it returns (tests move time by hand);
 * NULL: the monotonic clock. */
extern unsigned long long (*mm_host_clock)(void);

#endif
