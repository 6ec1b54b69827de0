/* power.c - poweroff and failure exits.
 *
 * Debian's OpenSBI 1.1 makes QEMU exit 0 even for an SRST shutdown with
 * reason "system failure", so a failure writes (code << 16) | 0x3333 to the
 * sifive,test0 finisher instead, which QEMU turns into exit status `code`.
 * The finisher is used before paging and after it (it stays mapped). */
#include <stdint.h>
#include "kernel/power.h"
#include "kernel/console.h"
#include "kernel/platform.h"
#include "kernel/sbi.h"
#include "kernel/smp.h"
#include "kernel/trap.h"
#include "arch/riscv.h"

#define FINISHER_FAIL 0x3333
#define FINISHER_PASS 0x5555

static __attribute__((noreturn)) void halt_forever(void)
{
	csr_write(sie, 0);
	for (;;)
		wfi();
}

void poweroff(void)
{
	smp_stop_others();
	kprintf("tally: power off\n");
	sbi_system_reset(SBI_SRST_SHUTDOWN, SBI_SRST_REASON_NONE);
	if (platform.test.size)
		*(volatile uint32_t *)(uintptr_t)platform.test.base = FINISHER_PASS;
	halt_forever();
}

void power_fail(int code)
{
	smp_stop_others();
	kprintf("tally: power off, exit status %d\n", code);
	if (platform.test.size)
		*(volatile uint32_t *)(uintptr_t)platform.test.base =
			((uint32_t)code << 16) | FINISHER_FAIL;
	sbi_system_reset(SBI_SRST_SHUTDOWN, SBI_SRST_REASON_FAIL);
	halt_forever();
}

void panic(const char *fmt, ...)
{
	va_list ap;
	uint64_t fp, pc;

	csr_clear(sstatus, SSTATUS_SIE);
	smp_stop_others();
	kprintf("\nPANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\non hart %u (id %lu)\n", this_hart()->index, this_hart()->hartid);
	__asm__ volatile("mv %0, s0\n\tauipc %1, 0" : "=r"(fp), "=r"(pc));
	backtrace_from(fp, pc);   /* from here: panic, then its caller */
	power_fail(EXIT_PANIC);
}
