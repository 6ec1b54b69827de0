/* plic.c - PLIC set-up and dispatch (RISC-V PLIC specification 1.0.0).
 *
 * Register map relative to the base from the device tree:
 *   0x000000 + 4*irq                  priority (0 = never)
 *   0x002000 + 0x80*ctx               enable bits
 *   0x200000 + 0x1000*ctx             priority threshold
 *   0x200004 + 0x1000*ctx             claim / complete
 * QEMU virt numbers contexts 2*hart (M-mode) and 2*hart+1 (S-mode). */
#include "kernel/plic.h"
#include "kernel/console.h"
#include "kernel/platform.h"
#include "kernel/trap.h"
#include "arch/riscv.h"
#include "kerrno.h"

#define PLIC_MAX_IRQ 128

struct plic_route {
	void (*fn)(void *ctx);
	void *ctx;
};

static volatile uint32_t *plic;
static unsigned long context;
static struct plic_route routes[PLIC_MAX_IRQ];

static volatile uint32_t *reg(uint32_t off)
{
	return (volatile uint32_t *)((uintptr_t)plic + off);
}

static void plic_dispatch(void)
{
	uint32_t irq;

	while ((irq = *reg(0x200004 + 0x1000 * context)) != 0) {
		if (irq < PLIC_MAX_IRQ && routes[irq].fn)
			routes[irq].fn(routes[irq].ctx);
		else
			kprintf("plic: spurious irq %u\n", irq);
		*reg(0x200004 + 0x1000 * context) = irq;
	}
}

int plic_init(unsigned long hart)
{
	if (!platform.plic.size)
		return -ENODEV;
	plic = (volatile uint32_t *)(uintptr_t)platform.plic.base;
	context = 2 * hart + 1;
	*reg(0x200000 + 0x1000 * context) = 0;
	trap_set_external_handler(plic_dispatch);
	csr_set(sie, SIE_SEIE);
	return 0;
}

int plic_enable(uint32_t irq, void (*fn)(void *ctx), void *ctx)
{
	uint32_t limit = platform.plic_ndev < PLIC_MAX_IRQ ? platform.plic_ndev + 1 : PLIC_MAX_IRQ;

	if (!plic)
		return -ENODEV;
	if (irq == 0 || irq >= limit)
		return -EINVAL;
	if (routes[irq].fn)
		return -EBUSY;
	routes[irq] = (struct plic_route){ fn, ctx };
	*reg(4 * irq) = 1;
	*reg(0x2000 + 0x80 * context + 4 * (irq / 32)) |= 1u << (irq % 32);
	return 0;
}
