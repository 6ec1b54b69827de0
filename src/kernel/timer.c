/* timer.c - a TIMER_HZ tick on every hart through SBI set_timer (SBI spec
 * ch. 6; each hart arms its own), and uptime from the time CSR scaled by
 * the device tree's timebase-frequency. Each hart counts its own ticks
 * (struct hart); the boot hart's are the system's. */
#include "kernel/timer.h"
#include "kernel/platform.h"
#include "kernel/sbi.h"
#include "kernel/smp.h"
#include "arch/riscv.h"
#include "mm/kmalloc.h"

static uint64_t interval;
static uint64_t boot_time;

void timer_init(void)
{
	boot_time = rdtime();
	interval = platform.timebase_hz / TIMER_HZ;
	if (!interval)
		interval = 1;
	timer_init_hart();
}

void timer_init_hart(void)
{
	sbi_set_timer(rdtime() + interval);
	csr_set(sie, SIE_STIE);
}

void timer_tick(void)
{
	struct hart *h = this_hart();

	h->ticks++;
	sbi_set_timer(rdtime() + interval);
	if (h->index == 0)
		kmalloc_tick();   /* the failure window's checkpoint each second */
}

uint64_t timer_ticks(void)
{
	return harts[0].ticks;
}

uint64_t uptime_us(void)
{
	uint64_t hz = platform.timebase_hz ? platform.timebase_hz : 1;
	uint64_t t = rdtime() - boot_time;

	return t / hz * 1000000 + t % hz * 1000000 / hz;
}
