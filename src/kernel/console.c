/* console.c - kprintf and console input. Output goes to the NS16550A once
 * console_init() has found it in the device tree, and to SBI's legacy
 * putchar before that (so even a device-tree failure can be reported).
 * Each kprintf is written whole, with interrupts off and the console lock
 * held, so lines from several harts do not interleave.
 *
 * Input: the UART's receive interrupt (or a reader, before interrupts are
 * on) moves bytes into `rx`. Ctrl-C is not queued: like a terminal's ISIG
 * it drops what was typed ahead and raises `interrupt`, which a running
 * command polls at safe points and the line editor reads as a Ctrl-C.
 * While rx is full the receive interrupt is masked until a reader makes
 * room, so the UART (and QEMU behind it) holds the rest: delayed, never
 * dropped. Input typed during boot waits in the UART's FIFO; a byte that
 * reached the UART before the firmware set it up is gone before the kernel
 * runs (OpenSBI's FIFO enable resets the receiver). */
#include <string.h>
#include "kernel/console.h"
#include "kernel/smp.h"
#include "kernel/platform.h"
#include "drivers/irq.h"
#include "kernel/sbi.h"
#include "kernel/spinlock.h"
#include "drivers/uart.h"
#include "lib/printf.h"
#include "arch/riscv.h"
#include "kerrno.h"

#define CTRL_C  0x03
#define RX_SIZE 256

static int have_uart;
static int at_line_start = 1;
static char rx[RX_SIZE];
static volatile unsigned rx_head, rx_tail;   /* next to read, next to write */
static volatile int interrupt;
static int rx_irq, rx_masked;   /* the receive interrupt is routed; masked */
static struct spinlock console_lock = SPINLOCK_INIT("console");

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

/* Under the console lock, as kprintf: a string (the shell's prompt) is
 * not split by another hart's line. */
void kputs(const char *s)
{
	kwrite(s, strlen(s));
}

static void out_console(char c, void *ctx)
{
	(void)ctx;
	kputc(c);
}

/* Take the console for one kvprintf: lines from several harts do not
 * interleave. A hart printing inside its own print (a trap while printing)
 * goes on; one that cannot have it for about 100 ms (its holder stopped
 * by a panic) prints anyway. Returns whether it holds the lock. */
static int console_take(unsigned long *flags)
{
	uint64_t give_up = rdtime() + platform.timebase_hz / 10;

	if (spin_held(&console_lock)) {
		*flags = irq_save();
		return 0;
	}
	while (!spin_trylock_irqsave(&console_lock, flags))
		if (rdtime() > give_up) {
			*flags = irq_save();
			return 0;
		}
	return 1;
}

int kvprintf(const char *fmt, va_list ap)
{
	unsigned long flags;
	int locked = console_take(&flags);
	int n = kvprintf_cb(out_console, 0, fmt, ap);

	if (locked)
		spin_unlock_irqrestore(&console_lock, flags);
	else
		irq_restore(flags);
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

/* Move received bytes into rx; called with interrupts off. */
static void rx_pull(void)
{
	int c;

	while (rx_tail - rx_head < RX_SIZE && (c = uart_getc()) >= 0) {
		if (c == CTRL_C) {
			rx_head = rx_tail;
			interrupt = 1;
		} else {
			rx[rx_tail++ % RX_SIZE] = (char)c;
		}
	}
	if (rx_irq && rx_masked != (rx_tail - rx_head == RX_SIZE)) {
		rx_masked = !rx_masked;
		uart_rx_irq(!rx_masked);
	}
}

/* The receive ring and the UART's receiver: the interrupt comes to one
 * hart, and a process reading the console (kernel/ttyline.c) may run on
 * another (kernel/sched.c). Test-and-set, innermost: nothing is taken
 * under it. */
static struct spinlock rx_lock = SPINLOCK_INIT_UNFAIR("console rx");

static void rx_interrupt(void *ctx)
{
	unsigned long f = spin_lock_irqsave(&rx_lock);

	(void)ctx;
	rx_pull();
	spin_unlock_irqrestore(&rx_lock, f);
}

int console_irq_init(void)
{
	uint64_t s;
	int rc;

	if (!have_uart || !platform.uart.irq)
		return -ENODEV;
	rc = irq_enable(platform.uart.irq, rx_interrupt, NULL);
	if (rc)
		return rc;
	s = irq_save();
	rx_irq = 1;
	uart_rx_irq(1);
	irq_restore(s);
	return 0;
}

int console_getc(void)
{
	unsigned long s;
	int c = -1;

	if (!have_uart)
		return -1;
	s = spin_lock_irqsave(&rx_lock);
	rx_pull();
	if (rx_head != rx_tail)
		c = (unsigned char)rx[rx_head++ % RX_SIZE];
	if (rx_irq && rx_masked)
		rx_pull();   /* room again: unmask */
	spin_unlock_irqrestore(&rx_lock, s);
	return c;
}

static int (*idle_work)(void);

void console_set_idle(int (*fn)(void))
{
	idle_work = fn;
}

/* A Ctrl-C read at the prompt is consumed here. */
int console_getc_wait(void)
{
	int c;

	for (;;) {
		if (interrupt) {
			interrupt = 0;
			return CTRL_C;
		}
		if ((c = console_getc()) >= 0)
			return c;
		if (idle_work && idle_work())
			continue;
		wfi();
	}
}

void kwrite(const char *s, size_t n)
{
	unsigned long flags;
	int held = console_take(&flags);

	while (n--)
		kputc(*s++);
	if (held)
		spin_unlock_irqrestore(&console_lock, flags);
	else
		irq_restore(flags);
}

int console_interrupted(void)
{
	/* no receive interrupt: look now -- on hart 0 only, the shell's:
	 * other harts' long work (bench/mmstress harts=N) asks too, and a
	 * poll there would only cost them */
	if (have_uart && !rx_irq && this_hart()->index == 0) {
		unsigned long s = spin_lock_irqsave(&rx_lock);

		rx_pull();
		spin_unlock_irqrestore(&rx_lock, s);
	}
	return interrupt;
}

void console_interrupt_clear(void)
{
	interrupt = 0;
}
