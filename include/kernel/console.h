/* console.h - kernel console: formatted output and raw input on the UART
 * the device tree names (SBI's legacy console before that). */
#ifndef TALLY_CONSOLE_H
#define TALLY_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

void console_init(void);
void kputc(char c);
void kputs(const char *s);
/* Start a new line unless the cursor is already at the start of one. */
void console_fresh_line(void);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);
/* Route the UART's receive interrupt (after irq_init):
 * from then on a Ctrl-C is seen while a command runs. 0, -ENODEV (no UART
 * or no irq in the device tree) or irq_enable's error; without it a
 * Ctrl-C is still seen, by polling the UART in console_interrupted(). */
int console_irq_init(void);
/* A received byte, or -1 when none is waiting. Ctrl-C never comes out
 * here: it sets the interrupt flag instead (and drops the bytes before it). */
int console_getc(void);
/* Wait for a byte (sleeping in wfi between interrupts, or doing the idle
 * work: console_set_idle); a pending Ctrl-C is returned as 0x03 and
 * clears the flag. */
int console_getc_wait(void);
/* Work for console_getc_wait's waits (the shell at its prompt): fn runs
 * whenever no byte is waiting and returns 1 when it did something (a
 * process's time slice: kernel/sched.c), 0 to sleep until an interrupt. */
void console_set_idle(int (*fn)(void));
/* n bytes as they are, under the console lock (a process's write: lines
 * of processes on several harts do not interleave within one write). */
void kwrite(const char *s, size_t n);
/* Nonzero once Ctrl-C has been typed and not yet cleared: long commands
 * poll it at safe points. */
int console_interrupted(void);
void console_interrupt_clear(void);

#endif
