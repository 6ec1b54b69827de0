/* main.c - the boot sequence, in order. entry.S calls kmain on the boot
 * hart with paging off, interrupts off and .bss cleared. */
#include <stdint.h>
#include "kernel/console.h"
#include "kernel/crash.h"
#include "kernel/kstack.h"
#include "lib/printf.h"
#include "kernel/disk.h"
#include "kernel/ktest.h"
#include "kernel/memory.h"
#include "kernel/platform.h"
#include "drivers/irq.h"
#include "kernel/power.h"
#include "kernel/smp.h"
#include "kernel/proc.h"
#include "kernel/sections.h"
#include "kernel/timer.h"
#include "kernel/trap.h"
#include "kernel/version.h"
#include "drivers/virtio_blk.h"
#include "shell/shell.h"
#include "arch/riscv.h"

uint64_t boot_instret;   /* see kernel/timer.h */

static void report_memory(void)
{
	uint64_t total = 0;

	for (int i = 0; i < platform.nram; i++)
		total += platform.ram[i].size;
	kprintf("memory: %lu MiB RAM in %d range%s from %lx, %d reserved range%s\n",
		(unsigned long)(total >> 20), platform.nram, platform.nram == 1 ? "" : "s",
		(unsigned long)platform.ram[0].base, platform.nreserved,
		platform.nreserved == 1 ? "" : "s");
}

/* The interrupt controllers named are those the devices' interrupts go
 * to (an APLIC's M-level root domain, say, is not). */
static void report_devices(void)
{
	kprintf("devices: uart@%lx", (unsigned long)platform.uart.base);
	for (int i = 0; i < platform.nintc; i++)
		if (platform.intc[i].used)
			kprintf(" %s@%lx (%u irqs%s)", irq_kind_name(platform.intc[i].kind),
				(unsigned long)platform.intc[i].base, platform.intc[i].nsources,
				platform.intc[i].kind == PLAT_APLIC_MSI ? ", MSI" : "");
	kprintf(" test@%lx virtio-mmio x%d\n", (unsigned long)platform.test.base,
		platform.nvirtio);
}

static void run_boot_selftest(void)
{
	char suite[32];
	int failed;

	if (!bootarg("selftest", suite, sizeof(suite)))
		return;
	failed = ktest_run(suite[0] ? suite : "all");
	if (failed < 0)
		kprintf("selftest: no suite named %s\n", suite);
	kprintf("selftest: %s\n", failed ? "FAIL" : "PASS");
	if (failed)
		power_fail(EXIT_TEST_FAILED);
	poweroff();
}

static void run_boot_crash(void)
{
	char kind[16];

	if (bootarg("crash", kind, sizeof(kind)) && crash(kind))
		kprintf("crash: no kind %s (%s)\n", kind, CRASH_KINDS);
}

void kmain(unsigned long hartid, const void *dtb)
{
	smp_init_boot(hartid);
	trap_init_hart(0);
	if (devtree_parse(dtb)) {
		kprintf("tally: no usable device tree at %p\n", dtb);
		power_fail(EXIT_BOOT_FAILED);
	}
	console_init();
	kprintf("\n%s\n", TALLY_VERSION_STRING);
	report_memory();
	report_devices();
	if (mem_init() || kvm_init() || kmem_init() || kstack_init()) {
		kprintf("tally: memory set-up failed\n");
		power_fail(EXIT_BOOT_FAILED);
	}
	irq_init(hartid);
	console_irq_init();   /* Ctrl-C is seen while a command runs */
	if (disk_mount() == 0)
		sh_fs_init();
	timer_init();
	kprintf("timer: %lu Hz timebase, %d Hz tick\n",
		(unsigned long)platform.timebase_hz, TIMER_HZ);
	csr_set(sie, SIE_SSIE);   /* IPIs: smp_call, smp_stop_others */
	smp_boot();
	sched_init();   /* processes on every hart's idle loop */
	if (platform.bootargs[0])
		kprintf("bootargs: %s\n", platform.bootargs);
	csr_set(sstatus, SSTATUS_SIE);
	vblk_check_irqs();   /* do the disks' interrupts arrive? */
	run_boot_selftest();
	run_boot_crash();
	boot_instret = rdinstret();
	sh_run();
}
