/* irq.c - device interrupts: the controllers the device tree lists, which
 * of their contexts is this hart's, routes and dispatch.
 *
 * A controller's "interrupts-extended" lists the interrupt lines it
 * drives in the order of its contexts (PLIC binding sifive,plic-1.0.0) or
 * interrupt delivery controls (AIA spec 4.8; APLIC binding riscv,aplic):
 * the one whose line is this hart's supervisor external interrupt (cause 9,
 * privileged spec 3.1.9/4.1.3) is ours. Several controllers can be in use
 * at once (QEMU gives each -numa socket its own PLIC); each one whose line
 * does not reach this hart, or whose kind is not supported, is left alone
 * and says why through irq_why. Not here: per-controller registers
 * (plic.c, aplic.c). */
#include "drivers/irq.h"
#include "kernel/console.h"
#include "kernel/trap.h"
#include "lib/printf.h"
#include "arch/riscv.h"
#include "irqchip_internal.h"
#include "kerrno.h"

#define CAUSE_S_EXTERNAL 9

static struct irqchip chips[PLAT_MAX_INTC];
static unsigned long irq_hart;   /* the hart whose contexts are taken */

const char *irq_kind_name(enum plat_intc_kind kind)
{
	switch (kind) {
	case PLAT_PLIC:
		return "plic";
	case PLAT_APLIC:
	case PLAT_APLIC_MSI:
		return "aplic";
	}
	return "?";
}

static void irq_dispatch(void)
{
	for (int i = 0; i < platform.nintc; i++) {
		struct irqchip *c = &chips[i];
		uint32_t src;

		while (c->ready && (src = c->ops->claim(c)) != 0) {
			if (src < IRQ_MAX_SOURCES && c->route[src].fn)
				c->route[src].fn(c->route[src].ctx);
			else
				kprintf("irq: %s: spurious source %u\n", c->name, src);
			c->ops->complete(c, src);
		}
	}
}

/* The entry of dt's interrupts-extended that is `hart`'s S-mode external
 * interrupt, or -1. */
static int chip_context(const struct plat_intc *dt, unsigned long hart)
{
	for (int i = 0; i < dt->nctx; i++)
		if (dt->ctx_hart[i] == (int32_t)hart && dt->ctx_cause[i] == CAUSE_S_EXTERNAL)
			return i;
	return -1;
}

static int chip_init(struct irqchip *c, const struct plat_intc *dt, unsigned long hart)
{
	*c = (struct irqchip){ .dt = dt, .regs = (volatile uint8_t *)(uintptr_t)dt->base };
	ksnprintf(c->name, sizeof(c->name), "%s@%lx", irq_kind_name(dt->kind),
		  (unsigned long)dt->base);
	c->ops = dt->kind == PLAT_PLIC ? &plic_ops : dt->kind == PLAT_APLIC ? &aplic_ops : NULL;
	c->ctx = chip_context(dt, hart);
	if (!c->ops)
		ksnprintf(c->why, sizeof(c->why), "%s delivers MSIs to an IMSIC, not supported",
			  c->name);
	else if (c->ctx < 0)
		ksnprintf(c->why, sizeof(c->why), "%s has no S-mode context for hart %lu",
			  c->name, hart);
	else if (c->ops->init(c) == 0)
		c->ready = 1;
	return c->ready ? 0 : -ENODEV;
}

int irq_init(unsigned long hart)
{
	int ready = 0;

	irq_hart = hart;
	for (int i = 0; i < platform.nintc; i++)
		if (chip_init(&chips[i], &platform.intc[i], hart) == 0)
			ready++;
	if (!ready)
		return -ENODEV;
	trap_set_external_handler(irq_dispatch);
	csr_set(sie, SIE_SEIE);
	return 0;
}

/* The controller of irq, after the checks irq_enable documents. */
static int irq_chip(uint32_t irq, struct irqchip **out)
{
	int i = PLAT_IRQ_INTC(irq);
	uint32_t src = PLAT_IRQ_SRC(irq);

	if (irq == 0 || i < 0 || i >= platform.nintc || src == 0 ||
	    src > platform.intc[i].nsources || src >= IRQ_MAX_SOURCES)
		return -EINVAL;
	*out = &chips[i];
	return chips[i].ready ? 0 : -ENODEV;
}

int irq_enable(uint32_t irq, void (*fn)(void *ctx), void *ctx)
{
	struct irqchip *c;
	uint32_t src = PLAT_IRQ_SRC(irq);
	int rc = irq_chip(irq, &c);

	if (rc)
		return rc;
	if (c->route[src].fn)
		return -EBUSY;
	c->route[src] = (struct irq_route){ fn, ctx };
	rc = c->ops->enable(c, src, PLAT_IRQ_TYPE(irq));
	if (rc)
		c->route[src] = (struct irq_route){ 0 };
	return rc;
}

void irq_disable(uint32_t irq)
{
	struct irqchip *c;
	uint32_t src = PLAT_IRQ_SRC(irq);

	if (irq_chip(irq, &c) || !c->route[src].fn)
		return;
	c->ops->disable(c, src);
	c->route[src] = (struct irq_route){ 0 };
}

const char *irq_where(uint32_t irq)
{
	static char where[64];
	struct irqchip *c;

	if (irq_chip(irq, &c))
		return NULL;
	ksnprintf(where, sizeof(where), "%s %s %d, hart %lu", c->name,
		  c->dt->kind == PLAT_PLIC ? "context" : "IDC", c->ctx, irq_hart);
	return where;
}

const char *irq_why(uint32_t irq)
{
	static char why[96];
	struct irqchip *c;
	int rc = irq_chip(irq, &c);

	if (rc == -EINVAL)
		return "no interrupt Tally can route in the device tree";
	if (rc == -ENODEV)
		return c->why[0] ? c->why : "interrupts not set up";
	if (c->route[PLAT_IRQ_SRC(irq)].fn)
		return NULL;
	ksnprintf(why, sizeof(why), "%s refused source %u (not delegated to its domain?)",
		  c->name, PLAT_IRQ_SRC(irq));
	return why;
}
