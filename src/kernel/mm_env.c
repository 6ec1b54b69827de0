/* mm_env.c - the kernel side of include/mm/mm_env.h: reports go to the
 * console. The lock is inline, in include/env/kernel/mm_env_lock.h. */
#include "mm/mm_env.h"
#include "kernel/console.h"
#include "kernel/ktest.h"
#include "kernel/platform.h"
#include "lib/printf.h"
#include "arch/riscv.h"

/* From the time CSR, not uptime_us(): that one restarts at timer_init,
 * after kmalloc_init has read the clock. */
unsigned long long mm_clock_ms(void)
{
	uint64_t per_ms = platform.timebase_hz / 1000;

	return rdtime() / (per_ms ? per_ms : 1);
}

/* One kprintf, so a report is one line even while other harts print
 * (the console lock covers one kprintf); cut at 255 bytes. */
void mm_report(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	kprintf("%s%s\n", ktest_report_expected() ? "    # expected: mm: " : "mm: ", line);
}

/* The mm lock once several harts run (mm_env_lock.h). */
int mm_lock_smp;
struct mm_big_lock mm_big = { .owner = -1 };
int mm_gates_closed = 1;   /* mm_slow_paths starts with MM_SLOW_SETUP */
