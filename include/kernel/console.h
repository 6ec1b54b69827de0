/* console.h - kernel console: formatted output and raw input on the UART
 * the device tree names (SBI's legacy console before that). */
#ifndef TALLY_CONSOLE_H
#define TALLY_CONSOLE_H

#include <stdarg.h>

void console_init(void);
void kputc(char c);
void kputs(const char *s);
/* Start a new line unless the cursor is already at the start of one. */
void console_fresh_line(void);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);
/* A received byte, or -1 when none is waiting. */
int console_getc(void);
/* Wait for a byte (sleeping in wfi between timer ticks). */
int console_getc_wait(void);

#endif
