/* irq.h - device interrupts, routed as the device tree says.
 *
 * A device's interrupt is named by the number devtree_parse put in its
 * struct plat_device (PLAT_IRQ: controller, source, trigger type). Every
 * controller the device tree lists whose interrupt lines reach this hart's
 * supervisor external interrupt is set up: a PLIC (PLIC spec 1.0.0) or an
 * APLIC domain in direct delivery mode (RISC-V AIA spec 1.0, chapter 4).
 * An APLIC delivering MSIs to an IMSIC is not supported: its devices must
 * be polled. */
#ifndef TALLY_IRQ_H
#define TALLY_IRQ_H

#include <stdint.h>
#include "kernel/platform.h"

/* Set up every controller that can interrupt `hart` in S-mode and install
 * the external-interrupt handler. Returns 0, or -ENODEV when none can. */
int irq_init(unsigned long hart);

/* Route interrupt `irq` to fn(ctx), called with interrupts off. Returns 0;
 * -EINVAL for 0, a controller index the device tree does not have, or a
 * source that is 0 or beyond the controller's (riscv,ndev /
 * riscv,num-sources, at most IRQ_MAX_SOURCES - 1); -EBUSY when it is
 * routed already; -ENODEV when its controller cannot interrupt this hart
 * (irq_why says why). */
int irq_enable(uint32_t irq, void (*fn)(void *ctx), void *ctx);

/* Undo irq_enable; nothing happens for an irq that is not routed. */
void irq_disable(uint32_t irq);

/* Why irq_enable refuses (or refused) `irq`: one phrase naming the
 * controller; NULL when the irq is routed. */
const char *irq_why(uint32_t irq);

/* Where irq is delivered once routed, in words: the controller, its
 * context (PLIC) or interrupt delivery control (APLIC), and the hart
 * ("plic@c600000 context 1, hart 1"); NULL when irq_enable would refuse
 * it with -EINVAL or -ENODEV (irq_why says why). */
const char *irq_where(uint32_t irq);

/* "plic" or "aplic": a controller's kind as the boot log names it. */
const char *irq_kind_name(enum plat_intc_kind kind);

#define IRQ_MAX_SOURCES 128

#endif
