/* mm_env.c - the kernel side of include/mm/mm_env.h: the mm lock is
 * "interrupts off" on the one running hart (nestable: the state is the
 * previous SIE bit), and reports go to the console. */
#include "mm/mm_env.h"
#include "kernel/console.h"
#include "arch/riscv.h"

unsigned long mm_lock(void)
{
	return irq_save();
}

void mm_unlock(unsigned long state)
{
	irq_restore(state);
}

void mm_report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kprintf("mm: ");
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
}
