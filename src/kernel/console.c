/* console.c - kprintf and console input. Output goes to the NS16550A once
 * console_init() has found it in the device tree, and to SBI's legacy
 * putchar before that (so even a device-tree failure can be reported).
 * Each output line is written whole with interrupts off. */
#include "kernel/console.h"
#include "kernel/platform.h"
#include "kernel/sbi.h"
#include "kernel/uart.h"
#include "lib/printf.h"
#include "arch/riscv.h"

static int have_uart;
static int at_line_start = 1;

void console_init(void)
{
	if (platform.uart.size) {
		uart_init((uintptr_t)platform.uart.base);
		have_uart = 1;
	}
}

static void raw_putc(char c)
{
	if (have_uart)
		uart_putc(c);
	else
		sbi_console_putchar(c);
}

void kputc(char c)
{
	if (c == '\n')
		raw_putc('\r');
	raw_putc(c);
	at_line_start = c == '\n';
}

void console_fresh_line(void)
{
	if (!at_line_start)
		kputc('\n');
}

void kputs(const char *s)
{
	while (*s)
		kputc(*s++);
}

static void out_console(char c, void *ctx)
{
	(void)ctx;
	kputc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
	uint64_t irq = irq_save();
	int n = kvprintf_cb(out_console, 0, fmt, ap);

	irq_restore(irq);
	return n;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

int console_getc(void)
{
	return have_uart ? uart_getc() : -1;
}

int console_getc_wait(void)
{
	int c;

	while ((c = console_getc()) < 0)
		wfi();
	return c;
}
