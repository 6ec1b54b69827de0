/* devtree.c - turn the device tree into `struct platform`.
 *
 * Collects each node's interesting properties while fdt_walk visits it and
 * classifies the node when it ends: memory (device_type "memory"), the
 * children of /reserved-memory, and devices by "compatible". Addresses are
 * decoded with the parent's #address-cells/#size-cells (spec 2.3.5). */
#include <string.h>
#include "kernel/platform.h"
#include "lib/fdt.h"
#include "kerrno.h"

struct platform platform;

#define MAX_REGS 4

struct dt_node {
	char name[32];
	int addr_cells, size_cells;     /* declared by this node, for children */
	const char *compat;             /* NUL-separated list */
	uint32_t compat_len;
	const char *device_type;
	const uint8_t *reg;
	uint32_t reg_len;
	uint32_t irq;
	int in_reserved;                /* a child of /reserved-memory */
};

struct dt_state {
	struct dt_node node[FDT_MAX_DEPTH];
};

static int compat_has(const struct dt_node *n, const char *want)
{
	const char *p = n->compat, *end = n->compat + n->compat_len;

	while (p && p < end) {
		if (strcmp(p, want) == 0)
			return 1;
		p += strlen(p) + 1;
	}
	return 0;
}

static void dt_begin(void *ctx, int depth, const char *name)
{
	struct dt_state *s = ctx;
	struct dt_node *n = &s->node[depth];

	memset(n, 0, sizeof(*n));
	strncpy(n->name, name, sizeof(n->name) - 1);
	n->addr_cells = 2;
	n->size_cells = 1;
	n->in_reserved = depth == 2 && strncmp(s->node[1].name, "reserved-memory", 15) == 0;
}

static void dt_prop(void *ctx, int depth, const char *name, const void *val, uint32_t len)
{
	struct dt_node *n = &((struct dt_state *)ctx)->node[depth];

	if (!strcmp(name, "#address-cells") && len == 4)
		n->addr_cells = (int)fdt_be32(val);
	else if (!strcmp(name, "#size-cells") && len == 4)
		n->size_cells = (int)fdt_be32(val);
	else if (!strcmp(name, "compatible")) {
		n->compat = val;
		n->compat_len = len;
	} else if (!strcmp(name, "device_type"))
		n->device_type = val;
	else if (!strcmp(name, "reg")) {
		n->reg = val;
		n->reg_len = len;
	} else if (!strcmp(name, "interrupts") && len >= 4)
		n->irq = fdt_be32(val);
	else if (!strcmp(name, "timebase-frequency") && len >= 4)
		platform.timebase_hz = fdt_cells(val, len >= 8 ? 2 : 1);
	else if (!strcmp(name, "bootargs") && depth == 1 && !strcmp(n->name, "chosen"))
		strncpy(platform.bootargs, val, PLAT_BOOTARGS - 1);
	else if (!strcmp(name, "riscv,ndev") && len == 4)
		platform.plic_ndev = fdt_be32(val);
}

/* Decode reg entry i of node n using its parent's cell sizes. */
static int dt_reg(const struct dt_node *parent, const struct dt_node *n, int i,
		  uint64_t *base, uint64_t *size)
{
	int ac = parent->addr_cells, sc = parent->size_cells;
	uint32_t stride = 4u * (uint32_t)(ac + sc);

	if (!n->reg || ac < 1 || ac > 2 || sc < 0 || sc > 2 ||
	    (uint32_t)(i + 1) * stride > n->reg_len)
		return 0;
	*base = fdt_cells(n->reg + i * stride, ac);
	*size = sc ? fdt_cells(n->reg + i * stride + 4 * ac, sc) : 0;
	return 1;
}

static void add_range(struct plat_range *arr, int *count, int max, uint64_t base, uint64_t size)
{
	if (*count < max && size)
		arr[(*count)++] = (struct plat_range){ base, size };
}

static void set_device(struct plat_device *d, const struct dt_node *parent,
		       const struct dt_node *n)
{
	uint64_t base, size;

	if (dt_reg(parent, n, 0, &base, &size))
		*d = (struct plat_device){ base, size, n->irq };
}

static void dt_end(void *ctx, int depth)
{
	struct dt_state *s = ctx;
	struct dt_node *n = &s->node[depth];
	struct dt_node *parent = depth ? &s->node[depth - 1] : n;
	uint64_t base, size;

	if (n->device_type && !strcmp(n->device_type, "memory")) {
		for (int i = 0; i < MAX_REGS && dt_reg(parent, n, i, &base, &size); i++)
			add_range(platform.ram, &platform.nram, PLAT_MAX_RAM, base, size);
	} else if (n->in_reserved) {
		for (int i = 0; i < MAX_REGS && dt_reg(parent, n, i, &base, &size); i++)
			add_range(platform.reserved, &platform.nreserved,
				  PLAT_MAX_RESERVED, base, size);
	} else if (n->device_type && !strcmp(n->device_type, "cpu")) {
		platform.ncpus++;
	} else if (compat_has(n, "ns16550a") && !platform.uart.size) {
		set_device(&platform.uart, parent, n);
	} else if (compat_has(n, "riscv,plic0") || compat_has(n, "sifive,plic-1.0.0")) {
		set_device(&platform.plic, parent, n);
	} else if (compat_has(n, "sifive,test0")) {
		set_device(&platform.test, parent, n);
	} else if (compat_has(n, "pci-host-ecam-generic") && !platform.pci.size) {
		set_device(&platform.pci, parent, n);
	} else if (compat_has(n, "virtio,mmio") && platform.nvirtio < PLAT_MAX_VIRTIO) {
		set_device(&platform.virtio[platform.nvirtio++], parent, n);
	}
}

static void dt_rsv(void *ctx, uint64_t base, uint64_t size)
{
	(void)ctx;
	add_range(platform.reserved, &platform.nreserved, PLAT_MAX_RESERVED, base, size);
}

int devtree_parse(const void *dtb)
{
	static struct dt_state state;
	struct fdt_visitor v = { &state, dt_begin, dt_prop, dt_end };

	memset(&platform, 0, sizeof(platform));
	platform.dtb_base = (uintptr_t)dtb;
	platform.dtb_size = fdt_total_size(dtb);
	if (!platform.dtb_size || fdt_walk(dtb, &v))
		return -EINVAL;
	fdt_mem_rsv(dtb, dt_rsv, NULL);
	return platform.nram ? 0 : -EINVAL;
}

const char *bootarg(const char *key, char *buf, int len)
{
	size_t klen = strlen(key);
	const char *p = platform.bootargs;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && (p[klen] == '=' || p[klen] == ' ' || !p[klen])) {
			int i = 0;

			p += klen + (p[klen] == '=');
			while (*p && *p != ' ' && i < len - 1)
				buf[i++] = *p++;
			buf[i] = 0;
			return buf;
		}
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}
