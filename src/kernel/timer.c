/* timer.c - a TIMER_HZ tick through SBI set_timer (SBI spec ch. 6), and
 * uptime from the time CSR scaled by the device tree's timebase-frequency. */
#include "kernel/timer.h"
#include "kernel/platform.h"
#include "kernel/sbi.h"
#include "arch/riscv.h"
#include "mm/kmalloc.h"

static uint64_t ticks;
static uint64_t interval;
static uint64_t boot_time;

void timer_init(void)
{
	boot_time = rdtime();
	interval = platform.timebase_hz / TIMER_HZ;
	if (!interval)
		interval = 1;
	sbi_set_timer(rdtime() + interval);
	csr_set(sie, SIE_STIE);
}

void timer_tick(void)
{
	ticks++;
	sbi_set_timer(rdtime() + interval);
	kmalloc_tick();   /* the failure window's checkpoint each second */
}

uint64_t timer_ticks(void)
{
	return ticks;
}

uint64_t uptime_us(void)
{
	uint64_t hz = platform.timebase_hz ? platform.timebase_hz : 1;
	uint64_t t = rdtime() - boot_time;

	return t / hz * 1000000 + t % hz * 1000000 / hz;
}
