/* selftest_irq.c - the "irq" KTAP suite: irq_enable's refusals (-EINVAL,
 * -EBUSY, -ENODEV) and irq_disable, on the controllers this machine's
 * device tree lists. Delivery itself is the blk suite's (a disk read). */
#include "drivers/irq.h"
#include "kernel/ktest.h"
#include <stddef.h>
#include "kernel/platform.h"
#include "kerrno.h"

static void never(void *ctx)
{
	(void)ctx;
}

static void test_invalid(struct ktest *t)
{
	uint32_t n;

	KT_EXPECT(t, irq_enable(0, never, NULL) == -EINVAL);
	KT_EXPECT(t, irq_enable(PLAT_IRQ(platform.nintc, 1, 0), never, NULL) == -EINVAL);
	KT_EXPECT(t, irq_enable(PLAT_IRQ(0xfe, 1, 0), never, NULL) == -EINVAL);
	if (!platform.nintc) {
		KT_SKIP(t, "no interrupt controller");
		return;
	}
	n = platform.intc[0].nsources;
	KT_EXPECT(t, irq_enable(PLAT_IRQ(0, 0, 0), never, NULL) == -EINVAL);
	KT_EXPECT(t, irq_enable(PLAT_IRQ(0, n + 1, 0), never, NULL) == -EINVAL);
	KT_EXPECT(t, irq_enable(PLAT_IRQ(0, IRQ_MAX_SOURCES, 0), never, NULL) == -EINVAL);
	KT_EXPECT(t, irq_why(0) != NULL);
}

/* The UART's line is the console's (a Ctrl-C while a command runs): a
 * second route is refused and the console's stays. The routing cycle runs
 * on the highest line of the UART's controller that nobody routes (no
 * device is wired there on QEMU virt). */
static void test_busy(struct ktest *t)
{
	uint32_t uart = platform.uart.irq, irq = 0;
	int c = PLAT_IRQ_INTC(uart);

	if (irq_why(uart) != NULL) {
		KT_SKIP(t, "the UART's interrupt cannot reach this hart");
		return;
	}
	KT_EXPECT(t, irq_enable(uart, never, NULL) == -EBUSY);
	KT_EXPECT(t, irq_why(uart) == NULL);
	for (uint32_t s = platform.intc[c].nsources; s > 0 && !irq; s--)
		if (s < IRQ_MAX_SOURCES &&
		    irq_enable(PLAT_IRQ(c, s, PLAT_IRQ_TYPE(uart)), never, NULL) == 0)
			irq = PLAT_IRQ(c, s, PLAT_IRQ_TYPE(uart));
	KT_EXPECT(t, irq != 0);
	if (!irq)
		return;
	KT_EXPECT(t, irq_why(irq) == NULL);
	KT_EXPECT(t, irq_enable(irq, never, NULL) == -EBUSY);
	irq_disable(irq);
	irq_disable(irq);                   /* a second time: nothing happens */
	KT_EXPECT(t, irq_enable(irq, never, NULL) == 0);
	irq_disable(irq);
}

/* A controller with no supervisor external line to any hart (an APLIC's
 * M-level root domain, an APLIC in MSI mode) is never taken over. */
static void test_unusable(struct ktest *t)
{
	int found = 0;

	for (int i = 0; i < platform.nintc; i++) {
		const struct plat_intc *c = &platform.intc[i];
		int s_mode = 0;

		for (int k = 0; k < c->nctx; k++)
			s_mode |= c->ctx_cause[k] == 9;
		if (s_mode)
			continue;
		found++;
		KT_EXPECT(t, irq_enable(PLAT_IRQ(i, 1, 4), never, NULL) == -ENODEV);
		KT_EXPECT(t, irq_why(PLAT_IRQ(i, 1, 4)) != NULL);
	}
	if (!found)
		KT_SKIP(t, "every controller reaches a hart in S-mode");
}

static const struct ktest_case irq_cases[] = {
	{ "invalid_numbers_refused", test_invalid },
	{ "busy_then_disabled", test_busy },
	{ "unusable_controller_refused", test_unusable },
};
KTEST_SUITE(irq_suite, "irq", irq_cases);
