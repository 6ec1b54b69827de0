/* platform.h - what the device tree told us about the machine.
 * Filled once at boot by devtree_parse(); read-only afterwards. Nothing
 * about RAM or device addresses is assumed anywhere else. */
#ifndef TALLY_PLATFORM_H
#define TALLY_PLATFORM_H

#include <stdint.h>

#define PLAT_MAX_RAM      8
#define PLAT_MAX_RESERVED 16
#define PLAT_MAX_VIRTIO   16
#define PLAT_BOOTARGS     256
#define PLAT_MAX_CPUS     64
#define PLAT_MAX_NO_REG   4     /* cpu nodes without a hart id named in the log */
#define PLAT_MAX_INTC     4      /* PLICs and APLIC domains */
#define PLAT_MAX_CTX      32     /* interrupts-extended entries kept per controller */

struct plat_range {
	uint64_t base, size;
};

/* A device's interrupt as the kernel names it (include/drivers/irq.h):
 * bits 0..15 the controller's source number (specifier cell 0), bits
 * 16..23 the index of the controller in platform.intc plus one, bits
 * 24..31 the trigger type where the controller's specifiers have a second
 * cell (1 rising edge, 2 falling edge, 4 level high, 8 level low), else 0.
 * 0 when the node has no interrupt or its parent is no controller Tally
 * knows. */
#define PLAT_IRQ(intc, src, type) (((uint32_t)(type) << 24) | \
				   (((uint32_t)(intc) + 1) << 16) | (uint32_t)(src))
#define PLAT_IRQ_INTC(irq)   ((int)(((irq) >> 16) & 0xffu) - 1)
#define PLAT_IRQ_SRC(irq)    ((irq) & 0xffffu)
#define PLAT_IRQ_TYPE(irq)   ((irq) >> 24)

struct plat_device {
	uint64_t base, size;
	uint32_t irq;      /* PLAT_IRQ(...), 0 when the node has no interrupts */
};

enum plat_intc_kind {
	PLAT_PLIC = 1,       /* riscv,plic0 / sifive,plic-1.0.0 */
	PLAT_APLIC,          /* riscv,aplic delivering directly to harts */
	PLAT_APLIC_MSI,      /* riscv,aplic with msi-parent: delivers MSIs to an IMSIC */
};

/* One interrupt controller. Its "interrupts-extended" lists the interrupt
 * lines it drives, in the order of its contexts (PLIC) or interrupt
 * delivery controls (APLIC): entry i is hart ctx_hart[i]'s local interrupt
 * ctx_cause[i] (9 = supervisor external, 11 = machine external; privileged
 * spec, mip/mie). ctx_hart is -1 when the target is not a hart's cpu-intc. */
struct plat_intc {
	uint64_t base, size;
	enum plat_intc_kind kind;
	uint32_t phandle;
	uint32_t nsources;   /* riscv,ndev or riscv,num-sources */
	int nctx;
	int32_t ctx_hart[PLAT_MAX_CTX];
	uint32_t ctx_cause[PLAT_MAX_CTX];
	int used;            /* some device's interrupt parent */
};

struct platform {
	struct plat_range ram[PLAT_MAX_RAM];
	int nram;
	struct plat_range reserved[PLAT_MAX_RESERVED];  /* /reserved-memory + rsvmap */
	int nreserved;
	struct plat_device uart;        /* ns16550a; size 0 if none */
	struct plat_intc intc[PLAT_MAX_INTC];
	int nintc;
	struct plat_device test;        /* sifive,test0 finisher */
	struct plat_device pci;         /* pci-host-ecam-generic: its ECAM window */
	struct plat_device virtio[PLAT_MAX_VIRTIO];
	int nvirtio;
	uint64_t timebase_hz;
	int ncpus;                      /* cpu nodes with a readable "reg" (harts) */
	uint64_t hartid[PLAT_MAX_CPUS]; /* their ids ("reg"), the first PLAT_MAX_CPUS */
	int ncpus_no_reg;               /* cpu nodes skipped: no readable "reg" */
	char cpu_no_reg[PLAT_MAX_NO_REG][32];   /* the first ones' names */
	char bootargs[PLAT_BOOTARGS];
	uint64_t dtb_base, dtb_size;
};

extern struct platform platform;

/* Fill `platform` from the blob; 0 or -EINVAL (no valid blob, no RAM). */
int devtree_parse(const void *dtb);

/* The value of "key=value" in bootargs, copied into buf; NULL if absent. */
const char *bootarg(const char *key, char *buf, int len);

#endif
