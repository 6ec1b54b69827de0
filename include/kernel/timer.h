/* timer.h - the periodic tick (SBI TIME extension) and uptime. */
#ifndef TALLY_TIMER_H
#define TALLY_TIMER_H

#include <stdint.h>

#define TIMER_HZ 100

/* Arm the boot hart's first tick and enable its timer interrupts. */
void timer_init(void);
/* The same for the calling hart (a secondary, after timer_init). */
void timer_init_hart(void);
/* Called from the trap handler on a supervisor timer interrupt. */
void timer_tick(void);
/* The boot hart's ticks (each hart's own: struct hart). */
uint64_t timer_ticks(void);
/* Microseconds since boot, from the time CSR and the timebase. */
uint64_t uptime_us(void);

/* Instructions retired from reset to the first prompt (set by kmain; exact
 * under QEMU's -icount shift=0). */
extern uint64_t boot_instret;

#endif
