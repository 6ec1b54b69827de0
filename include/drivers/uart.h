/* uart.h - NS16550A UART (the "ns16550a" node of the device tree). */
#ifndef TALLY_UART_H
#define TALLY_UART_H

#include <stdint.h>

void uart_init(uintptr_t base);
void uart_putc(char c);
/* A received byte, or -1 when the receive FIFO is empty. */
int uart_getc(void);
/* Raise the device's interrupt while received data waits (on), or not. */
void uart_rx_irq(int on);

#endif
