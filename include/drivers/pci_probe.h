/* pci_probe.h - detect virtio devices on the PCI bus, so the boot log can
 * say that a disk attached there (`-drive if=virtio`, virtio-scsi-pci) is
 * not used. Detection only: Tally has no PCI driver. */
#ifndef TALLY_PCI_PROBE_H
#define TALLY_PCI_PROBE_H

#include <stdint.h>

#define VIRTIO_ID_BLOCK 2   /* virtio device types (VirtIO 1.1 section 5) */
#define VIRTIO_ID_SCSI  8

struct pci_virtio {
	uint8_t bus, dev;       /* function 0 of bus:dev */
	uint16_t device_id;     /* PCI device ID (0x1000..0x107f) */
	uint32_t type;          /* virtio device type: VIRTIO_ID_* */
};

/* Scan the first bus behind the device tree's pci-host-ecam-generic bridge
 * for virtio devices (vendor 0x1af4); fill at most max entries. Returns how
 * many were found (0 without a bridge), or -ENOMEM when the page table
 * cannot map the bus's configuration space. */
int pci_find_virtio(struct pci_virtio *out, int max);

#endif
