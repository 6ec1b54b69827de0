/* plic.h - the RISC-V platform-level interrupt controller (PLIC spec 1.0).
 * Routes device interrupts to this hart's S-mode context. */
#ifndef TALLY_PLIC_H
#define TALLY_PLIC_H

#include <stdint.h>

/* Set up the PLIC the device tree names, for S-mode on `hart`, and install
 * the external-interrupt handler. Returns 0, or -ENODEV without a PLIC. */
int plic_init(unsigned long hart);

/* Route interrupt `irq` to fn. Returns 0, -EINVAL (irq 0 or beyond the
 * PLIC's riscv,ndev), -EBUSY (already routed), or -ENODEV. */
int plic_enable(uint32_t irq, void (*fn)(void *ctx), void *ctx);

#endif
