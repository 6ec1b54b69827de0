/* aplic.c - one APLIC interrupt domain in direct delivery mode (RISC-V
 * Advanced Interrupt Architecture 1.0, chapter 4), for src/drivers/irq.c,
 * which picks the domain and the interrupt delivery control (IDC) whose
 * line is this hart's S-mode external interrupt from the device tree.
 *
 * Registers of a domain, relative to its base (AIA 4.5):
 *   0x0000            domaincfg: IE (bit 8) enables the domain, DM (bit 2)
 *                     selects MSI delivery (read-only 1 on an APLIC that
 *                     offers only MSI delivery)
 *   0x0004 + 4*(s-1)  sourcecfg[s]: source mode in bits 2..0; reads 0 when
 *                     s is not delegated to this domain (4.5.2)
 *   0x1edc / 0x1fdc   setienum / clrienum: enable / disable source s
 *   0x3004 + 4*(s-1)  target[s], direct mode: hart index in bits 31..18,
 *                     priority in bits 7..0 (1 highest, 0 invalid; 4.5.16)
 *   0x4000 + 32*i     IDC i (4.8): idelivery +0x00, ithreshold +0x08,
 *                     claimi +0x1c (interrupt identity in bits 25..16;
 *                     reading claims it)
 * Not here: MSI delivery (an IMSIC is needed, and OpenSBI would have to
 * set the domain's MSI address); delegating sources to this domain, which
 * is the M-level parent's and so the firmware's. */
#include "irqchip_internal.h"
#include "lib/printf.h"
#include "kerrno.h"

#define APLIC_DOMAINCFG         0x0000
#define  DOMAINCFG_IE           (1u << 8)
#define  DOMAINCFG_DM           (1u << 2)
#define APLIC_SOURCECFG(s)      (0x0004 + 4 * ((s) - 1))
#define  SOURCECFG_SM_MASK      7u
#define  SM_EDGE1               4u      /* rising edge */
#define  SM_EDGE0               5u      /* falling edge */
#define  SM_LEVEL1              6u      /* high level */
#define  SM_LEVEL0              7u      /* low level */
#define APLIC_SETIENUM          0x1edc
#define APLIC_CLRIENUM          0x1fdc
#define APLIC_TARGET(s)         (0x3004 + 4 * ((s) - 1))
#define  TARGET_HART_SHIFT      18
#define APLIC_IDC(i)            (0x4000 + 32 * (i))
#define  IDC_IDELIVERY          0x00
#define  IDC_ITHRESHOLD         0x08
#define  IDC_CLAIMI             0x1c
#define  CLAIMI_ID_SHIFT        16
#define  CLAIMI_ID_MASK         0x3ffu
#define APLIC_MAX_IDCS          16384

static int aplic_init(struct irqchip *c)
{
	if (c->ctx >= APLIC_MAX_IDCS) {
		ksnprintf(c->why, sizeof(c->why), "%s: IDC %d out of range", c->name, c->ctx);
		return -ENODEV;
	}
	irqchip_wr(c, APLIC_DOMAINCFG, DOMAINCFG_IE);
	if (irqchip_rd(c, APLIC_DOMAINCFG) & DOMAINCFG_DM) {
		ksnprintf(c->why, sizeof(c->why), "%s implements MSI delivery only", c->name);
		return -ENODEV;
	}
	/* threshold 0: every priority is delivered (4.8.1) */
	irqchip_wr(c, APLIC_IDC(c->ctx) + IDC_ITHRESHOLD, 0);
	irqchip_wr(c, APLIC_IDC(c->ctx) + IDC_IDELIVERY, 1);
	return 0;
}

/* The source mode for a device-tree trigger type (1 rising edge, 2
 * falling edge, 4 level high, 8 level low); level high when none. */
static uint32_t aplic_mode(uint32_t type)
{
	switch (type) {
	case 1:
		return SM_EDGE1;
	case 2:
		return SM_EDGE0;
	case 8:
		return SM_LEVEL0;
	default:
		return SM_LEVEL1;
	}
}

static int aplic_enable(struct irqchip *c, uint32_t src, uint32_t type)
{
	uint32_t mode = aplic_mode(type);

	irqchip_wr(c, APLIC_SOURCECFG(src), mode);
	if ((irqchip_rd(c, APLIC_SOURCECFG(src)) & SOURCECFG_SM_MASK) != mode)
		return -ENODEV;   /* not delegated to this domain */
	irqchip_wr(c, APLIC_TARGET(src), (uint32_t)c->ctx << TARGET_HART_SHIFT | 1);
	irqchip_wr(c, APLIC_SETIENUM, src);
	return 0;
}

static void aplic_disable(struct irqchip *c, uint32_t src)
{
	irqchip_wr(c, APLIC_CLRIENUM, src);
	irqchip_wr(c, APLIC_SOURCECFG(src), 0);
}

static uint32_t aplic_claim(struct irqchip *c)
{
	return (irqchip_rd(c, APLIC_IDC(c->ctx) + IDC_CLAIMI) >> CLAIMI_ID_SHIFT) & CLAIMI_ID_MASK;
}

/* claimi already cleared the pending bit; a level source that is still
 * asserted becomes pending again by itself (4.7). */
static void aplic_complete(struct irqchip *c, uint32_t src)
{
	(void)c;
	(void)src;
}

const struct irqchip_ops aplic_ops = {
	aplic_init, aplic_enable, aplic_disable, aplic_claim, aplic_complete,
};
