/* plic.c - one PLIC context (RISC-V PLIC specification 1.0.0), for
 * src/drivers/irq.c, which finds the context from the device tree.
 *
 * Register map relative to the base from the device tree (spec chapter 3):
 *   0x000000 + 4*src                  priority (0 = never)
 *   0x002000 + 0x80*ctx               enable bits, 32 sources per word
 *   0x200000 + 0x1000*ctx             priority threshold
 *   0x200004 + 0x1000*ctx             claim / complete
 * The PLIC has no trigger types: gateways turn every source into a
 * request (spec 1.0.0, chapter 5). */
#include "irqchip_internal.h"
#include "lib/printf.h"
#include "kerrno.h"

#define PLIC_PRIORITY(src)      (4 * (src))
#define PLIC_ENABLE(ctx, src)   (0x2000 + 0x80 * (ctx) + 4 * ((src) / 32))
#define PLIC_THRESHOLD(ctx)     (0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)         (0x200004 + 0x1000 * (ctx))
#define PLIC_MAX_CONTEXTS       15872

static int plic_init(struct irqchip *c)
{
	if (c->ctx >= PLIC_MAX_CONTEXTS) {
		ksnprintf(c->why, sizeof(c->why), "%s: context %d out of range", c->name, c->ctx);
		return -ENODEV;
	}
	irqchip_wr(c, PLIC_THRESHOLD(c->ctx), 0);
	return 0;
}

static int plic_enable(struct irqchip *c, uint32_t src, uint32_t type)
{
	(void)type;
	irqchip_wr(c, PLIC_PRIORITY(src), 1);
	irqchip_wr(c, PLIC_ENABLE(c->ctx, src),
		   irqchip_rd(c, PLIC_ENABLE(c->ctx, src)) | 1u << (src % 32));
	return 0;
}

static void plic_disable(struct irqchip *c, uint32_t src)
{
	irqchip_wr(c, PLIC_ENABLE(c->ctx, src),
		   irqchip_rd(c, PLIC_ENABLE(c->ctx, src)) & ~(1u << (src % 32)));
	irqchip_wr(c, PLIC_PRIORITY(src), 0);
}

static uint32_t plic_claim(struct irqchip *c)
{
	return irqchip_rd(c, PLIC_CLAIM(c->ctx));
}

static void plic_complete(struct irqchip *c, uint32_t src)
{
	irqchip_wr(c, PLIC_CLAIM(c->ctx), src);
}

const struct irqchip_ops plic_ops = {
	plic_init, plic_enable, plic_disable, plic_claim, plic_complete,
};
