/* mm_env.c - the kernel side of include/mm/mm_env.h: reports go to the
 * console. The lock is inline, in include/env/kernel/mm_env_lock.h. */
#include "mm/mm_env.h"
#include "kernel/console.h"
#include "kernel/ktest.h"
#include "kernel/platform.h"
#include "arch/riscv.h"

/* From the time CSR, not uptime_us(): that one restarts at timer_init,
 * after kmalloc_init has read the clock. */
unsigned long long mm_clock_ms(void)
{
	uint64_t per_ms = platform.timebase_hz / 1000;

	return rdtime() / (per_ms ? per_ms : 1);
}

void mm_report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kprintf(ktest_report_expected() ? "    # expected: mm: " : "mm: ");
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
}

/* The mm lock once several harts run (mm_env_lock.h). */
int mm_lock_smp;
struct mm_big_lock mm_big = { .owner = -1 };
