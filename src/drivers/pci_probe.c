/* pci_probe.c - find virtio devices on a PCI ECAM host bridge, so that a
 * disk QEMU put on PCI is named instead of silently ignored. Detection
 * only: no BARs are assigned and nothing is driven. Reads the vendor and
 * device IDs of function 0 of each device on the bridge's first bus.
 *
 * ECAM (PCI Express Base Specification 7.2.2): a function's 4 KiB of
 * configuration space sits at window + (bus << 20 | dev << 15 | fn << 12);
 * the window starts at the first bus of the bridge's bus-range. Vendor ID
 * at offset 0, device ID at 2 (PCI Local Bus 6.2.1); an empty slot reads
 * all ones. Virtio (VirtIO 1.1 section 4.1.2): vendor 0x1af4, device ID
 * 0x1040 + type, or a transitional 0x1000..0x103f whose subsystem device
 * ID (offset 0x2e) is the type. */
#include "drivers/pci_probe.h"
#include "kernel/memory.h"
#include "kernel/platform.h"
#include "arch/riscv.h"
#include "kerrno.h"

#define ECAM_DEV_SHIFT     15
#define ECAM_DEVICES       32
#define ECAM_BUS_BYTES     ((uint64_t)ECAM_DEVICES << ECAM_DEV_SHIFT)   /* 1 MiB */
#define PCI_VENDOR_VIRTIO  0x1af4
#define PCI_SUBSYSTEM_ID   0x2e
#define VIRTIO_PCI_MODERN  0x1040
#define VIRTIO_PCI_TRANS   0x1000

static uint32_t cfg_read32(uintptr_t fn, uint32_t off)
{
	return *(volatile uint32_t *)(fn + off);
}

/* The virtio device type of the function at fn, or 0 if it is not virtio. */
static uint32_t virtio_type(uintptr_t fn, uint16_t *device_id)
{
	uint32_t id = cfg_read32(fn, 0);

	*device_id = (uint16_t)(id >> 16);
	if ((id & 0xffff) != PCI_VENDOR_VIRTIO || *device_id < VIRTIO_PCI_TRANS)
		return 0;
	if (*device_id >= VIRTIO_PCI_MODERN)
		return *device_id - VIRTIO_PCI_MODERN;
	return cfg_read32(fn, PCI_SUBSYSTEM_ID & ~3u) >> 16;
}

int pci_find_virtio(struct pci_virtio *out, int max)
{
	uintptr_t base = (uintptr_t)platform.pci.base;
	uint64_t bytes = platform.pci.size < ECAM_BUS_BYTES ? platform.pci.size : ECAM_BUS_BYTES;
	int n = 0, rc;

	if (bytes < ECAM_BUS_BYTES)
		return 0;   /* no bridge, or a window too small to be ECAM */
	rc = vm_map(&kernel_vm, base, base, bytes, VM_R | VM_W);
	if (rc)
		return rc == -EEXIST ? 0 : rc;
	sfence_vma();
	for (int d = 0; d < ECAM_DEVICES && n < max; d++) {
		uint16_t device_id;
		uint32_t type = virtio_type(base + ((uintptr_t)d << ECAM_DEV_SHIFT), &device_id);

		if (type)
			out[n++] = (struct pci_virtio){ 0, (uint8_t)d, device_id, type };
	}
	vm_unmap(&kernel_vm, base, bytes);
	sfence_vma();
	return n;
}
