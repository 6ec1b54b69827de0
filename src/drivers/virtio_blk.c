/* virtio_blk.c - VirtIO block device over MMIO (VirtIO 1.1, sections 2.4
 * split virtqueues, 4.2 virtio over MMIO, 5.2 block device).
 *
 * Supports both register layouts QEMU offers: legacy (MMIO version 1, the
 * default, section 4.2.4: GuestPageSize/QueuePFN, one contiguous ring) and
 * modern (version 2, `-global virtio-mmio.force-legacy=false`: separate
 * descriptor/driver/device area addresses, VIRTIO_F_VERSION_1 required).
 * One request is in flight at a time: three descriptors (header, data,
 * status); completion is signalled through the PLIC and waited for with
 * wfi. Ring and request memory come from the DMA zone. Reads only. */
#include <string.h>
#include "kernel/virtio_blk.h"
#include "kernel/console.h"
#include "kernel/platform.h"
#include "kernel/plic.h"
#include "kernel/trap.h"
#include "mm/buddy.h"
#include "arch/riscv.h"
#include "kerrno.h"

/* MMIO registers (4.2.2) */
#define VIRTIO_MAGIC            0x000
#define VIRTIO_VERSION          0x004
#define VIRTIO_DEVICE_ID        0x008
#define VIRTIO_DEVICE_FEATURES  0x010
#define VIRTIO_DEVICE_FEAT_SEL  0x014
#define VIRTIO_DRIVER_FEATURES  0x020
#define VIRTIO_DRIVER_FEAT_SEL  0x024
#define VIRTIO_GUEST_PAGE_SIZE  0x028   /* legacy */
#define VIRTIO_QUEUE_SEL        0x030
#define VIRTIO_QUEUE_NUM_MAX    0x034
#define VIRTIO_QUEUE_NUM        0x038
#define VIRTIO_QUEUE_ALIGN      0x03c   /* legacy */
#define VIRTIO_QUEUE_PFN        0x040   /* legacy */
#define VIRTIO_QUEUE_READY      0x044   /* modern */
#define VIRTIO_QUEUE_NOTIFY     0x050
#define VIRTIO_INTERRUPT_STATUS 0x060
#define VIRTIO_INTERRUPT_ACK    0x064
#define VIRTIO_STATUS           0x070
#define VIRTIO_QUEUE_DESC_LO    0x080
#define VIRTIO_QUEUE_DESC_HI    0x084
#define VIRTIO_QUEUE_DRIVER_LO  0x090
#define VIRTIO_QUEUE_DRIVER_HI  0x094
#define VIRTIO_QUEUE_DEVICE_LO  0x0a0
#define VIRTIO_QUEUE_DEVICE_HI  0x0a4
#define VIRTIO_CONFIG           0x100   /* virtio_blk_config: capacity first */

#define MAGIC_VIRT              0x74726976u
#define DEVICE_ID_BLOCK         2

/* Device status bits (2.1) */
#define STATUS_ACK              1
#define STATUS_DRIVER           2
#define STATUS_DRIVER_OK        4
#define STATUS_FEATURES_OK      8
#define STATUS_FAILED           128

#define F_VERSION_1_HI          (1u << 0)   /* feature bit 32 */

/* Split virtqueue (2.6) */
#define QSIZE                   16
#define DESC_F_NEXT             1
#define DESC_F_WRITE            2

#define BLK_T_IN                0           /* read (5.2.6) */
#define BLK_S_OK                0
#define SECTOR                  512         /* virtio-blk sectors are 512 B */
#define MAX_SECTORS_PER_REQ     256
#define TIMEOUT_SECONDS         5

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct virtq_avail {
	uint16_t flags, idx;
	uint16_t ring[QSIZE];
	uint16_t used_event;
};

struct virtq_used_elem {
	uint32_t id, len;
};

struct virtq_used {
	uint16_t flags, idx;
	struct virtq_used_elem ring[QSIZE];
	uint16_t avail_event;
};

struct vblk_req {
	uint32_t type, reserved;
	uint64_t sector;
	uint8_t status;
};

static struct vblk {
	volatile uint8_t *regs;
	int version;
	uint32_t irq;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t used_seen;
	struct vblk_req *req;
	struct blkdev dev;
	struct vblk_stats stats;
	int broken;
} vb;

static uint32_t rd(uint32_t off)
{
	return *(volatile uint32_t *)(vb.regs + off);
}

static void wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(vb.regs + off) = v;
}

static void vblk_irq(void *ctx)
{
	uint32_t s = rd(VIRTIO_INTERRUPT_STATUS);

	(void)ctx;
	wr(VIRTIO_INTERRUPT_ACK, s);
	vb.stats.interrupts++;
}

/* Find the first virtio-mmio slot holding a block device. */
static int vblk_probe(void)
{
	for (int i = 0; i < platform.nvirtio; i++) {
		vb.regs = (volatile uint8_t *)(uintptr_t)platform.virtio[i].base;
		if (rd(VIRTIO_MAGIC) == MAGIC_VIRT && rd(VIRTIO_DEVICE_ID) == DEVICE_ID_BLOCK) {
			vb.version = (int)rd(VIRTIO_VERSION);
			vb.irq = platform.virtio[i].irq;
			return 0;
		}
	}
	vb.regs = NULL;
	return -ENODEV;
}

/* Steps 1-6 of the initialization sequence (3.1.1); we need no optional
 * feature, but a modern device must get VIRTIO_F_VERSION_1 back. */
static int vblk_negotiate(void)
{
	wr(VIRTIO_STATUS, 0);
	wr(VIRTIO_STATUS, STATUS_ACK);
	wr(VIRTIO_STATUS, STATUS_ACK | STATUS_DRIVER);
	wr(VIRTIO_DRIVER_FEAT_SEL, 0);
	wr(VIRTIO_DRIVER_FEATURES, 0);
	if (vb.version == 1) {
		wr(VIRTIO_GUEST_PAGE_SIZE, PAGE_SIZE);
		return 0;
	}
	wr(VIRTIO_DEVICE_FEAT_SEL, 1);
	if (!(rd(VIRTIO_DEVICE_FEATURES) & F_VERSION_1_HI))
		return -EIO;
	wr(VIRTIO_DRIVER_FEAT_SEL, 1);
	wr(VIRTIO_DRIVER_FEATURES, F_VERSION_1_HI);
	wr(VIRTIO_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
	return (rd(VIRTIO_STATUS) & STATUS_FEATURES_OK) ? 0 : -EIO;
}

static void wr64(uint32_t lo, uint64_t v)
{
	wr(lo, (uint32_t)v);
	wr(lo + 4, (uint32_t)(v >> 32));
}

/* Queue 0 in two DMA pages: descriptors and avail ring in the first, the
 * used ring at the next 4 KiB boundary (the legacy layout, 2.6.2). */
static int vblk_setup_queue(struct page *ring)
{
	uint8_t *base = page_address(ring);

	wr(VIRTIO_QUEUE_SEL, 0);
	if (rd(VIRTIO_QUEUE_NUM_MAX) < QSIZE)
		return -EIO;
	vb.desc = (struct virtq_desc *)base;
	vb.avail = (struct virtq_avail *)(base + QSIZE * sizeof(struct virtq_desc));
	vb.used = (struct virtq_used *)(base + PAGE_SIZE);
	wr(VIRTIO_QUEUE_NUM, QSIZE);
	if (vb.version == 1) {
		wr(VIRTIO_QUEUE_ALIGN, PAGE_SIZE);
		wr(VIRTIO_QUEUE_PFN, (uint32_t)(page_to_phys(ring) >> PAGE_SHIFT));
		return 0;
	}
	wr64(VIRTIO_QUEUE_DESC_LO, virt_to_phys(vb.desc));
	wr64(VIRTIO_QUEUE_DRIVER_LO, virt_to_phys(vb.avail));
	wr64(VIRTIO_QUEUE_DEVICE_LO, virt_to_phys(vb.used));
	wr(VIRTIO_QUEUE_READY, 1);
	return 0;
}

/* Wait for the device to use our request. The check and the wfi run with
 * interrupts off: an interrupt arriving in between still ends the wfi
 * (it is pending), and is taken as soon as they are back on. */
static int vblk_wait(void)
{
	uint64_t deadline = rdtime() + platform.timebase_hz * TIMEOUT_SECONDS;
	uint64_t start = rdinstret(), irq0 = trap_irq_instret, irq = irq_save();
	int rc = 0;

	while (*(volatile uint16_t *)&vb.used->idx == vb.used_seen) {
		if (rdtime() > deadline) {
			rc = -EIO;
			break;
		}
		if (irq) {
			wfi();
			irq_restore(irq);   /* take the completion interrupt */
			irq = irq_save();
		}
	}
	irq_restore(irq);
	/* the handlers of interrupts taken here are trap_irq_instret's */
	vb.stats.wait_instret += rdinstret() - start - (trap_irq_instret - irq0);
	if (rc)
		return rc;
	__sync_synchronize();
	vb.used_seen++;
	return 0;
}

/* One request of at most MAX_SECTORS_PER_REQ sectors. */
static int vblk_request(uint64_t lba, uint32_t count, void *buf)
{
	vb.req->type = BLK_T_IN;
	vb.req->reserved = 0;
	vb.req->sector = lba;
	vb.req->status = 0xff;
	vb.desc[0] = (struct virtq_desc){ virt_to_phys(vb.req), 16, DESC_F_NEXT, 1 };
	vb.desc[1] = (struct virtq_desc){ virt_to_phys(buf), count * SECTOR,
					  DESC_F_NEXT | DESC_F_WRITE, 2 };
	vb.desc[2] = (struct virtq_desc){ virt_to_phys(&vb.req->status), 1, DESC_F_WRITE, 0 };
	vb.avail->ring[vb.avail->idx % QSIZE] = 0;
	__sync_synchronize();
	vb.avail->idx++;
	__sync_synchronize();
	vb.stats.requests++;
	wr(VIRTIO_QUEUE_NOTIFY, 0);
	if (vblk_wait()) {
		/* The device still owns our buffers: reset it (status 0, VirtIO
		 * 1.1 section 2.1.2) so a late completion cannot write into
		 * memory that is about to be freed, and give up on the disk. */
		wr(VIRTIO_STATUS, 0);
		vb.broken = 1;
		kprintf("virtio-blk: request timed out; device reset, disk disabled\n");
		return -EIO;
	}
	return vb.req->status == BLK_S_OK ? 0 : -EIO;
}

static int vblk_read(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf)
{
	char *p = buf;

	if (count == 0 || lba >= dev->capacity || count > dev->capacity - lba)
		return -EINVAL;
	while (count) {
		uint32_t n = count < MAX_SECTORS_PER_REQ ? count : MAX_SECTORS_PER_REQ;
		int rc = vb.broken ? -EIO : vblk_request(lba, n, p);

		if (rc) {
			vb.stats.errors++;
			return rc;
		}
		vb.stats.sectors += n;
		lba += n;
		p += (size_t)n * SECTOR;
		count -= n;
	}
	return 0;
}

int vblk_init(void)
{
	struct page *ring = NULL, *reqpg = NULL;
	int rc = vblk_probe();

	if (rc)
		return rc;
	rc = vblk_negotiate();
	if (rc)
		goto fail_status;
	ring = alloc_pages(GFP_DMA | GFP_ZERO, 1);
	reqpg = alloc_pages(GFP_DMA | GFP_ZERO, 0);
	rc = -ENOMEM;
	if (!ring || !reqpg)
		goto free_pages;
	rc = vblk_setup_queue(ring);
	if (rc)
		goto free_pages;
	vb.req = page_address(reqpg);
	vb.dev = (struct blkdev){ "virtio-blk", SECTOR,
				  (uint64_t)rd(VIRTIO_CONFIG) | ((uint64_t)rd(VIRTIO_CONFIG + 4) << 32),
				  vblk_read, &vb };
	if (vb.irq)
		plic_enable(vb.irq, vblk_irq, NULL);
	wr(VIRTIO_STATUS, rd(VIRTIO_STATUS) | STATUS_DRIVER_OK);
	return 0;

free_pages:
	if (reqpg)
		free_pages(reqpg, 0);
	if (ring)
		free_pages(ring, 1);
fail_status:
	wr(VIRTIO_STATUS, STATUS_FAILED);
	vb.regs = NULL;
	return rc;
}

struct blkdev *vblk_dev(void)
{
	return vb.regs ? &vb.dev : NULL;
}

void vblk_get_stats(struct vblk_stats *out)
{
	*out = vb.stats;
}

const char *vblk_transport(void)
{
	return vb.version == 1 ? "legacy" : "modern";
}
