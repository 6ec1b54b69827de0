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

struct plat_range {
	uint64_t base, size;
};

struct plat_device {
	uint64_t base, size;
	uint32_t irq;      /* 0 when the node has no interrupts */
};

struct platform {
	struct plat_range ram[PLAT_MAX_RAM];
	int nram;
	struct plat_range reserved[PLAT_MAX_RESERVED];  /* /reserved-memory + rsvmap */
	int nreserved;
	struct plat_device uart;        /* ns16550a; size 0 if none */
	struct plat_device plic;        /* riscv,plic0 */
	struct plat_device test;        /* sifive,test0 finisher */
	struct plat_device pci;         /* pci-host-ecam-generic: its ECAM window */
	struct plat_device virtio[PLAT_MAX_VIRTIO];
	int nvirtio;
	uint64_t timebase_hz;
	int ncpus;
	uint32_t plic_ndev;             /* riscv,ndev */
	char bootargs[PLAT_BOOTARGS];
	uint64_t dtb_base, dtb_size;
};

extern struct platform platform;

/* Fill `platform` from the blob; 0 or -EINVAL (no valid blob, no RAM). */
int devtree_parse(const void *dtb);

/* The value of "key=value" in bootargs, copied into buf; NULL if absent. */
const char *bootarg(const char *key, char *buf, int len);

#endif
