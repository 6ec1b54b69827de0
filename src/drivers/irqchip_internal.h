/* irqchip_internal.h - what src/drivers/irq.c needs from each interrupt
 * controller driver (plic.c, aplic.c). Not for other modules. */
#ifndef TALLY_IRQCHIP_INTERNAL_H
#define TALLY_IRQCHIP_INTERNAL_H

#include <stdint.h>
#include "drivers/irq.h"

struct irq_route {
	void (*fn)(void *ctx);
	void *ctx;
};

struct irqchip {
	const struct plat_intc *dt;
	const struct irqchip_ops *ops;
	volatile uint8_t *regs;
	int ctx;              /* PLIC context / APLIC IDC: this hart, S-mode */
	int ready;            /* set up and taking interrupts */
	char name[24];        /* "plic@c000000" */
	char why[80];         /* why not ready */
	struct irq_route route[IRQ_MAX_SOURCES];
};

struct irqchip_ops {
	/* Take over c->ctx; 0, or -ENODEV with c->why filled. */
	int (*init)(struct irqchip *c);
	/* Enable source src (trigger type as in PLAT_IRQ); 0 or -ENODEV. */
	int (*enable)(struct irqchip *c, uint32_t src, uint32_t type);
	void (*disable)(struct irqchip *c, uint32_t src);
	/* The highest-priority pending source, now claimed; 0 when none. */
	uint32_t (*claim)(struct irqchip *c);
	void (*complete)(struct irqchip *c, uint32_t src);
};

extern const struct irqchip_ops plic_ops, aplic_ops;

static inline uint32_t irqchip_rd(const struct irqchip *c, uint32_t off)
{
	return *(volatile uint32_t *)(c->regs + off);
}

static inline void irqchip_wr(const struct irqchip *c, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(c->regs + off) = v;
}

#endif
