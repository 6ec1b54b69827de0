/* virtio_blk.c - VirtIO block devices over MMIO (VirtIO 1.1, sections 2.6
 * split virtqueues, 4.2 virtio over MMIO, 5.2 block device).
 *
 * Every virtio-mmio slot the device tree lists that holds a block device
 * gets its own instance (registers, queue, interrupt, struct blkdev). Both
 * register layouts QEMU offers are supported: legacy (MMIO version 1, the
 * default, section 4.2.4: GuestPageSize/QueuePFN, one contiguous ring) and
 * modern (version 2, `-global virtio-mmio.force-legacy=false`: separate
 * descriptor/driver/device area addresses, VIRTIO_F_VERSION_1 required).
 * The logical block size comes from blk_size when the device offers
 * VIRTIO_BLK_F_BLK_SIZE (5.2.3, 5.2.4); requests still count 512-byte
 * sectors (5.2.5). One request per device is in flight: three descriptors
 * (header, data, status); completion is signalled by an interrupt
 * (include/drivers/irq.h) and waited for with wfi, or polled where the
 * device tree gives this hart no route for it, or where the route exists
 * but its interrupts do not arrive (see vblk_note_completion). A request
 * that times out
 * resets the device and sets it up again. Ring and request memory come from the DMA zone. Reads only;
 * not a PCI driver (virtio-pci devices are only detected, by pci_probe.c). */
#include <string.h>
#include "drivers/virtio_blk.h"
#include "kernel/console.h"
#include "kernel/platform.h"
#include "drivers/irq.h"
#include "kernel/trap.h"
#include "lib/printf.h"
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
#define VIRTIO_CONFIG           0x100   /* struct virtio_blk_config (5.2.4) */
#define CONFIG_CAPACITY         0x00    /* le64, in 512-byte sectors */
#define CONFIG_BLK_SIZE         0x14    /* le32, if VIRTIO_BLK_F_BLK_SIZE */

#define MAGIC_VIRT              0x74726976u
#define DEVICE_ID_BLOCK         2

/* Device status bits (2.1) */
#define STATUS_ACK              1
#define STATUS_DRIVER           2
#define STATUS_DRIVER_OK        4
#define STATUS_FEATURES_OK      8
#define STATUS_FAILED           128

#define F_BLK_SIZE              (1u << 6)   /* VIRTIO_BLK_F_BLK_SIZE (5.2.3) */
#define F_VERSION_1_HI          (1u << 0)   /* feature bit 32 (6) */

/* Split virtqueue (2.6) */
#define QSIZE                   16
#define DESC_F_NEXT             1
#define DESC_F_WRITE            2

#define BLK_T_IN                0           /* read (5.2.6) */
#define BLK_S_OK                0
#define SECTOR                  512         /* the protocol's unit (5.2.5) */
#define MAX_BYTES_PER_REQ       (256 * SECTOR)
#define MIN_BLOCK               512         /* struct blkdev's sector sizes */
#define MAX_BLOCK               4096
#define TIMEOUT_MS              5000
#define INJECTED_TIMEOUT_MS     20          /* vblk_inject_timeout's wait */
#define RESET_POLLS             1000000     /* reads of Status after a reset */

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

struct vblk {
	volatile uint8_t *regs;
	uint64_t base;
	int version;
	uint32_t irq;
	int err;                   /* set-up result: 0 or a negative errno */
	char why[80];              /* set-up failure in words */
	int has_blk_size;          /* VIRTIO_BLK_F_BLK_SIZE offered and taken */
	struct page *ring, *reqpg;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t used_seen;
	struct vblk_req *req;
	uint32_t per_block;        /* 512-byte protocol sectors per block */
	struct blkdev dev;
	struct vblk_stats stats;   /* stats.disabled: a reset failed, reads are -EIO */
	int drop_notify;           /* fault injection: see vblk_inject_timeout */
	int fail_reset;            /* fault injection: see vblk_inject_reset_failure */
	int irq_masked;            /* fault injection: see vblk_inject_lost_irq */
	int lost_in_row;           /* completions in a row without their interrupt */
	int irq_lost;              /* polled because its interrupts did not come */
	char name[32];             /* "virtio-mmio@10008000" */
};

static struct vblk vbs[VBLK_MAX];
static int nvbs;

static uint32_t rd(const struct vblk *v, uint32_t off)
{
	return *(volatile uint32_t *)(v->regs + off);
}

static void wr(const struct vblk *v, uint32_t off, uint32_t val)
{
	*(volatile uint32_t *)(v->regs + off) = val;
}

static void wr64(const struct vblk *v, uint32_t lo, uint64_t val)
{
	wr(v, lo, (uint32_t)val);
	wr(v, lo + 4, (uint32_t)(val >> 32));
}

static void vblk_irq(void *ctx)
{
	struct vblk *v = ctx;
	uint32_t s = rd(v, VIRTIO_INTERRUPT_STATUS);

	wr(v, VIRTIO_INTERRUPT_ACK, s);
	v->stats.interrupts++;
}

/* Steps 1-6 of the initialization sequence (3.1.1). The one optional
 * feature taken is VIRTIO_BLK_F_BLK_SIZE (5.2.3); a modern device must also
 * get VIRTIO_F_VERSION_1 back. Returns 0 or -EIO (features refused). */
static int vblk_negotiate(struct vblk *v)
{
	uint32_t offered;

	wr(v, VIRTIO_STATUS, 0);
	wr(v, VIRTIO_STATUS, STATUS_ACK);
	wr(v, VIRTIO_STATUS, STATUS_ACK | STATUS_DRIVER);
	wr(v, VIRTIO_DEVICE_FEAT_SEL, 0);
	offered = rd(v, VIRTIO_DEVICE_FEATURES);
	v->has_blk_size = (offered & F_BLK_SIZE) != 0;
	wr(v, VIRTIO_DRIVER_FEAT_SEL, 0);
	wr(v, VIRTIO_DRIVER_FEATURES, offered & F_BLK_SIZE);
	if (v->version == 1) {
		wr(v, VIRTIO_GUEST_PAGE_SIZE, PAGE_SIZE);
		return 0;
	}
	wr(v, VIRTIO_DEVICE_FEAT_SEL, 1);
	if (!(rd(v, VIRTIO_DEVICE_FEATURES) & F_VERSION_1_HI))
		return -EIO;
	wr(v, VIRTIO_DRIVER_FEAT_SEL, 1);
	wr(v, VIRTIO_DRIVER_FEATURES, F_VERSION_1_HI);
	wr(v, VIRTIO_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
	return (rd(v, VIRTIO_STATUS) & STATUS_FEATURES_OK) ? 0 : -EIO;
}

/* Queue 0 in two DMA pages, cleared: descriptors and avail ring in the
 * first, the used ring at the next 4 KiB boundary (the legacy layout,
 * 2.6.2). Returns 0 or -EIO (the queue is too small). */
static int vblk_setup_queue(struct vblk *v)
{
	uint8_t *base = page_address(v->ring);

	wr(v, VIRTIO_QUEUE_SEL, 0);
	if (rd(v, VIRTIO_QUEUE_NUM_MAX) < QSIZE)
		return -EIO;
	memset(base, 0, 2 * PAGE_SIZE);
	v->desc = (struct virtq_desc *)base;
	v->avail = (struct virtq_avail *)(base + QSIZE * sizeof(struct virtq_desc));
	v->used = (struct virtq_used *)(base + PAGE_SIZE);
	v->used_seen = 0;
	wr(v, VIRTIO_QUEUE_NUM, QSIZE);
	if (v->version == 1) {
		wr(v, VIRTIO_QUEUE_ALIGN, PAGE_SIZE);
		wr(v, VIRTIO_QUEUE_PFN, (uint32_t)(page_to_phys(v->ring) >> PAGE_SHIFT));
		return 0;
	}
	wr64(v, VIRTIO_QUEUE_DESC_LO, virt_to_phys(v->desc));
	wr64(v, VIRTIO_QUEUE_DRIVER_LO, virt_to_phys(v->avail));
	wr64(v, VIRTIO_QUEUE_DEVICE_LO, virt_to_phys(v->used));
	wr(v, VIRTIO_QUEUE_READY, 1);
	return 0;
}

static int vblk_read(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf);

/* Capacity and logical block size from the configuration space (5.2.4):
 * capacity always counts 512-byte sectors; blk_size, when offered, is the
 * logical block size, which becomes the blkdev's sector size (a trailing
 * part block is not addressable). Returns 0 or -EINVAL (a block size
 * struct blkdev cannot carry). */
static int vblk_read_config(struct vblk *v)
{
	uint64_t cap = rd(v, VIRTIO_CONFIG + CONFIG_CAPACITY) |
		       (uint64_t)rd(v, VIRTIO_CONFIG + CONFIG_CAPACITY + 4) << 32;
	uint32_t bs = v->has_blk_size ? rd(v, VIRTIO_CONFIG + CONFIG_BLK_SIZE) : SECTOR;

	if (bs < MIN_BLOCK || bs > MAX_BLOCK || (bs & (bs - 1))) {
		ksnprintf(v->why, sizeof(v->why),
			  "block size %u not supported (512..4096, a power of two)", bs);
		return -EINVAL;
	}
	v->per_block = bs / SECTOR;
	v->dev = (struct blkdev){ v->name, bs, cap / v->per_block, vblk_read, v };
	return 0;
}

/* The whole initialization sequence (3.1.1), up to DRIVER_OK; the
 * configuration is read the first time only (a reset keeps the disk's
 * geometry). On failure the device is marked FAILED and v->why says why.
 * Returns 0, -EIO or -EINVAL. */
static int vblk_start(struct vblk *v)
{
	int rc = vblk_negotiate(v);

	if (rc)
		ksnprintf(v->why, sizeof(v->why), "device refused the features");
	else if ((rc = vblk_setup_queue(v)))
		ksnprintf(v->why, sizeof(v->why), "queue 0 holds fewer than %d entries", QSIZE);
	else if (!v->dev.read)
		rc = vblk_read_config(v);
	if (rc) {
		wr(v, VIRTIO_STATUS, STATUS_FAILED);
		return rc;
	}
	wr(v, VIRTIO_STATUS, rd(v, VIRTIO_STATUS) | STATUS_DRIVER_OK);
	return 0;
}

/* After a timeout the device still owns the request's buffers: reset it
 * (0 written to Status, 4.2.2) so a late completion cannot write into
 * memory about to be reused, wait until Status reads 0 (2.1.1: required
 * before re-initializing), and go through initialization again (3.1.1).
 * Returns 0, or -EIO when the device would not come back: the disk is
 * then disabled, and FAILED is written to Status (2.1.1: the driver has
 * given up on the device). */
static int vblk_reset(struct vblk *v)
{
	long polls = RESET_POLLS;

	v->stats.resets++;
	wr(v, VIRTIO_STATUS, 0);
	while (rd(v, VIRTIO_STATUS) != 0 && --polls)
		;
	if (v->fail_reset) {
		v->fail_reset = 0;  /* injected: as if Status never read 0 */
		polls = 0;
	}
	v->stats.disabled = !polls || vblk_start(v) != 0;
	if (!v->stats.disabled)
		return 0;
	wr(v, VIRTIO_STATUS, STATUS_FAILED);
	return -EIO;
}

/* A completion was found in the used ring while waiting for its
 * interrupt: by_irq says whether the interrupt came. A route that looks
 * right can still deliver nothing (QEMU 7.2's second-socket PLIC under
 * -numa raises no hart's interrupt line), and then every request lasts
 * until the next timer tick ends the wfi. A completion counts as lost
 * when the device says it has interrupted (InterruptStatus set, 4.2.2)
 * and no handler ran: the device writes the used ring before it raises
 * the interrupt, so without that check a completion found in between
 * would count. VBLK_LOST_IRQ_LIMIT lost ones in a row switch the disk to
 * polled completions for good (its source disabled at the controller),
 * said in one log line. */
static void vblk_note_completion(struct vblk *v, int by_irq)
{
	const char *where;
	uint32_t isr;

	if (by_irq) {
		v->lost_in_row = 0;
		return;
	}
	isr = rd(v, VIRTIO_INTERRUPT_STATUS);
	if (!isr)
		return;           /* not raised yet: it may still come */
	wr(v, VIRTIO_INTERRUPT_ACK, isr);
	v->stats.lost_irqs++;
	if (++v->lost_in_row < VBLK_LOST_IRQ_LIMIT)
		return;
	where = irq_where(v->irq);
	kprintf("virtio-blk %s: completions polled: the interrupt from %s did not arrive "
		"for %d completions in a row\n", v->name, where ? where : "its controller",
		v->lost_in_row);
	irq_disable(v->irq);
	v->stats.polled = 1;
	v->irq_lost = 1;
}

/* Wait up to ms milliseconds for the device to use our request. The check
 * and the wfi run with interrupts off: an interrupt arriving in between
 * still ends the wfi (it is pending), and is taken as soon as they are
 * back on. Returns 0 or -EIO (timed out). */
static int vblk_wait(struct vblk *v, uint32_t ms)
{
	uint64_t deadline = rdtime() + platform.timebase_hz * ms / 1000;
	uint64_t start = rdinstret(), irq0 = trap_irq_instret, irq = irq_save();
	unsigned long interrupts = v->stats.interrupts;
	int rc = 0, by_irq = irq && !v->stats.polled;

	while (*(volatile uint16_t *)&v->used->idx == v->used_seen) {
		if (rdtime() > deadline) {
			rc = -EIO;
			break;
		}
		if (irq && !v->stats.polled) {
			wfi();
			irq_restore(irq);   /* take the completion interrupt */
			irq = irq_save();
		}
	}
	irq_restore(irq);
	/* the handlers of interrupts taken here are trap_irq_instret's */
	v->stats.wait_instret += rdinstret() - start - (trap_irq_instret - irq0);
	if (rc)
		return rc;
	__sync_synchronize();
	v->used_seen++;
	if (by_irq)
		vblk_note_completion(v, v->stats.interrupts != interrupts);
	return 0;
}

/* The device did not answer: reset and set it up again (the next request
 * may succeed); the request itself has failed. Returns -EIO. */
static int vblk_timed_out(struct vblk *v)
{
	int rc;

	v->stats.timeouts++;
	rc = vblk_reset(v);
	kprintf("virtio-blk %s: request timed out; device reset, %s\n", v->name,
		rc ? "did not come back: disk disabled (reads fail with -EIO)" : "set up again");
	return -EIO;
}

/* One read of `bytes` (at most MAX_BYTES_PER_REQ) from 512-byte sector
 * `sector` (5.2.6). Returns 0 or -EIO. */
static int vblk_request(struct vblk *v, uint64_t sector, uint32_t bytes, void *buf)
{
	uint32_t ms = TIMEOUT_MS;

	v->req->type = BLK_T_IN;
	v->req->reserved = 0;
	v->req->sector = sector;
	v->req->status = 0xff;
	v->desc[0] = (struct virtq_desc){ virt_to_phys(v->req), 16, DESC_F_NEXT, 1 };
	v->desc[1] = (struct virtq_desc){ virt_to_phys(buf), bytes,
					  DESC_F_NEXT | DESC_F_WRITE, 2 };
	v->desc[2] = (struct virtq_desc){ virt_to_phys(&v->req->status), 1, DESC_F_WRITE, 0 };
	v->avail->ring[v->avail->idx % QSIZE] = 0;
	__sync_synchronize();
	v->avail->idx++;
	__sync_synchronize();
	v->stats.requests++;
	if (v->drop_notify) {
		v->drop_notify = 0;   /* injected: the device never hears of it */
		ms = INJECTED_TIMEOUT_MS;
	} else {
		wr(v, VIRTIO_QUEUE_NOTIFY, 0);
	}
	if (vblk_wait(v, ms))
		return vblk_timed_out(v);
	return v->req->status == BLK_S_OK ? 0 : -EIO;
}

static int vblk_read(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf)
{
	struct vblk *v = dev->priv;
	uint32_t max = MAX_BYTES_PER_REQ / dev->sector_size;
	char *p = buf;

	if (count == 0 || lba >= dev->capacity || count > dev->capacity - lba)
		return -EINVAL;
	while (count) {
		uint32_t n = count < max ? count : max;
		int rc = v->stats.disabled ? -EIO :
			 vblk_request(v, lba * v->per_block, n * dev->sector_size, p);

		if (rc) {
			v->stats.errors++;
			return rc;
		}
		v->stats.blocks += n;
		lba += n;
		p += (size_t)n * dev->sector_size;
		count -= n;
	}
	return 0;
}

/* The one place the driver asks for an interrupt route. Without one
 * (irq_why says why, in the boot log) vblk_wait polls instead of waiting
 * for an interrupt that would never come. */
static void vblk_route_irq(struct vblk *v)
{
	v->stats.polled = irq_enable(v->irq, vblk_irq, v) != 0;
	if (v->stats.polled)
		kprintf("virtio-blk %s: completions polled: %s\n", v->name, irq_why(v->irq));
}

/* Bring up the block device in one virtio-mmio slot. Returns 0, -ENODEV
 * (no block device there), -ENOMEM (no DMA memory for the queue), -EIO
 * (the device refused set-up) or -EINVAL (unsupported block size); v->why
 * says which in words. */
static int vblk_setup(struct vblk *v, const struct plat_device *slot)
{
	int rc;

	v->regs = (volatile uint8_t *)(uintptr_t)slot->base;
	if (rd(v, VIRTIO_MAGIC) != MAGIC_VIRT || rd(v, VIRTIO_DEVICE_ID) != DEVICE_ID_BLOCK)
		return -ENODEV;
	v->base = slot->base;
	v->irq = slot->irq;
	v->version = (int)rd(v, VIRTIO_VERSION);
	ksnprintf(v->name, sizeof(v->name), "virtio-mmio@%lx", (unsigned long)v->base);
	v->ring = alloc_pages(GFP_DMA | GFP_ZERO, 1);
	v->reqpg = alloc_pages(GFP_DMA | GFP_ZERO, 0);
	if (!v->ring || !v->reqpg) {
		ksnprintf(v->why, sizeof(v->why), "no DMA memory for its queue");
		rc = -ENOMEM;
		goto free_pages;
	}
	v->req = page_address(v->reqpg);
	rc = vblk_start(v);
	if (rc)
		goto free_pages;
	vblk_route_irq(v);
	return 0;

free_pages:
	if (v->reqpg)
		free_pages(v->reqpg, 0);
	if (v->ring)
		free_pages(v->ring, 1);
	wr(v, VIRTIO_STATUS, STATUS_FAILED);
	return rc;
}

int vblk_init(void)
{
	nvbs = 0;
	for (int i = 0; i < platform.nvirtio && nvbs < VBLK_MAX; i++) {
		struct vblk *v = &vbs[nvbs];

		memset(v, 0, sizeof(*v));
		v->err = vblk_setup(v, &platform.virtio[i]);
		if (v->err != -ENODEV)
			nvbs++;
	}
	return nvbs;
}

int vblk_count(void)
{
	return nvbs;
}

int vblk_get_info(int i, struct vblk_info *out)
{
	struct vblk *v;

	if (i < 0 || i >= nvbs)
		return -ENODEV;
	v = &vbs[i];
	*out = (struct vblk_info){ v->name, v->version == 1 ? "legacy" : "modern",
				   v->err, v->err ? v->why : "",
				   v->err ? NULL : &v->dev };
	return 0;
}

struct blkdev *vblk_dev(int i)
{
	return i >= 0 && i < nvbs && !vbs[i].err ? &vbs[i].dev : NULL;
}

/* The instance behind d, or NULL when d is not one of ours. */
static struct vblk *vblk_of(const struct blkdev *d)
{
	for (int i = 0; i < nvbs; i++)
		if (d == &vbs[i].dev && !vbs[i].err)
			return &vbs[i];
	return NULL;
}

int vblk_get_stats(const struct blkdev *d, struct vblk_stats *out)
{
	const struct vblk *v = vblk_of(d);

	if (!v)
		return -ENODEV;
	*out = v->stats;
	return 0;
}

int vblk_inject_timeout(struct blkdev *d)
{
	struct vblk *v = vblk_of(d);

	if (!v)
		return -ENODEV;
	v->drop_notify = 1;
	return 0;
}

int vblk_check_irqs(void)
{
	struct page *pg = alloc_pages(0, 0);   /* one block of up to 4 KiB */
	int switched = 0;

	if (!pg)
		return -ENOMEM;
	for (int i = 0; i < nvbs; i++) {
		struct vblk *v = &vbs[i];

		if (v->err || !v->dev.capacity)
			continue;
		for (int n = 0; n < VBLK_LOST_IRQ_LIMIT && !v->stats.polled &&
				!v->stats.disabled; n++) {
			unsigned long interrupts = v->stats.interrupts;

			if (vblk_read(&v->dev, 0, 1, page_address(pg)) ||
			    v->stats.interrupts != interrupts)
				break;
		}
		switched += v->irq_lost;
	}
	free_pages(pg, 0);
	return switched;
}

int vblk_inject_lost_irq(struct blkdev *d, int on)
{
	struct vblk *v = vblk_of(d);
	int rc;

	if (!v)
		return -ENODEV;
	if (on) {
		if (v->stats.polled)
			return -EINVAL;
		irq_disable(v->irq);
		v->irq_masked = 1;
		return 0;
	}
	if (!v->irq_masked && !v->irq_lost)
		return 0;
	rc = irq_enable(v->irq, vblk_irq, v);
	if (rc)
		return rc;
	v->irq_masked = v->irq_lost = v->lost_in_row = 0;
	v->stats.polled = 0;
	return 0;
}

int vblk_inject_reset_failure(struct blkdev *d)
{
	struct vblk *v = vblk_of(d);

	if (!v)
		return -ENODEV;
	v->drop_notify = !v->stats.disabled;   /* a disabled disk sends nothing */
	v->fail_reset = 1;
	return 0;
}

int vblk_retry(struct blkdev *d)
{
	struct vblk *v = vblk_of(d);
	int rc;

	if (!v)
		return -ENODEV;
	if (!v->stats.disabled)
		return 0;
	rc = vblk_reset(v);
	kprintf("virtio-blk %s: disabled disk reset again: %s\n", v->name,
		rc ? "did not come back, stays disabled" : "set up again");
	return rc;
}
