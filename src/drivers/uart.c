/* uart.c - NS16550A driver (TI PC16550D datasheet register map).
 * Byte-wide registers at the address the device tree gives. Output is
 * polled; input is read by whoever calls uart_getc(), the console's
 * receive interrupt handler once uart_rx_irq(1) has switched it on. QEMU
 * holds back input while the receive FIFO is full, so a fast paste is
 * delayed, never dropped. */
#include "drivers/uart.h"

#define RBR 0   /* receive buffer (read) */
#define THR 0   /* transmit holding (write) */
#define IER 1   /* interrupt enable */
#define IIR 2   /* interrupt identification (read) */
#define FCR 2   /* FIFO control (write) */
#define LCR 3   /* line control */
#define LSR 5   /* line status */

#define LCR_8N1      0x03
#define FCR_ENABLE   0x01  /* enable the FIFOs */
#define IIR_FIFO_ON  0xc0  /* both bits set while the FIFOs are enabled */
#define IER_ERBFI    0x01  /* interrupt on received data available */
#define LSR_DR       0x01  /* data ready */
#define LSR_THRE     0x20  /* transmit holding register empty */

static volatile uint8_t *uart;

static inline uint8_t reg_read(int r)
{
	return uart[r];
}

static inline void reg_write(int r, uint8_t v)
{
	uart[r] = v;
}

void uart_init(uintptr_t base)
{
	uart = (volatile uint8_t *)base;
	reg_write(IER, 0);
	reg_write(LCR, LCR_8N1);
	/* Turning the FIFOs on resets them, which would drop input typed
	 * during boot: only do it when the firmware left them off. */
	if ((reg_read(IIR) & IIR_FIFO_ON) != IIR_FIFO_ON)
		reg_write(FCR, FCR_ENABLE);
}

void uart_putc(char c)
{
	while (!(reg_read(LSR) & LSR_THRE))
		;
	reg_write(THR, (uint8_t)c);
}

int uart_getc(void)
{
	if (!(reg_read(LSR) & LSR_DR))
		return -1;
	return reg_read(RBR);
}

void uart_rx_irq(int on)
{
	if (uart)
		reg_write(IER, on ? IER_ERBFI : 0);
}
