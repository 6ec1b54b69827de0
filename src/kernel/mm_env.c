/* mm_env.c - the kernel side of include/mm/mm_env.h: reports go to the
 * console. The lock is inline, in include/env/kernel/mm_env_lock.h. */
#include "mm/mm_env.h"
#include "kernel/console.h"

void mm_report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kprintf("mm: ");
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
}
