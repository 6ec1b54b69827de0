/* devtree.c - turn the device tree into `struct platform`.
 *
 * Collects each node's interesting properties while fdt_walk visits it and
 * classifies the node when it ends: memory (device_type "memory"), the
 * children of /reserved-memory, and devices by "compatible". Addresses are
 * decoded with the parent's #address-cells/#size-cells (spec 2.3.5).
 *
 * Interrupts (spec 2.4) are resolved after the walk, since a phandle may
 * name a node that comes later: a device's "interrupts" are specifiers of
 * its interrupt parent ("interrupt-parent", else inherited from the
 * nearest ancestor that has one), "interrupts-extended" names the parent
 * per entry; each controller's #interrupt-cells says how long a specifier
 * is. A controller's own "interrupts-extended" gives the harts it drives:
 * entries naming a cpu node's "riscv,cpu-intc" (RISC-V CPU binding). */
#include <string.h>
#include "kernel/platform.h"
#include "lib/fdt.h"
#include "kerrno.h"

struct platform platform;

#define MAX_REGS 4
#define MAX_CTLS 64      /* interrupt-controller nodes with a phandle */
#define MAX_IRQREFS (PLAT_MAX_VIRTIO + 2)

struct dt_prop_ref {
	const uint8_t *val;
	uint32_t len;
};

struct dt_node {
	char name[32];
	int addr_cells, size_cells;     /* declared by this node, for children */
	const char *compat;             /* NUL-separated list */
	uint32_t compat_len;
	const char *device_type;
	const uint8_t *reg;
	uint32_t reg_len;
	int in_reserved;                /* a child of /reserved-memory */
	uint32_t phandle;
	uint32_t irq_parent;            /* own interrupt-parent, else inherited */
	struct dt_prop_ref irqs, irqs_ext;  /* interrupts, interrupts-extended */
	int irq_cells;                  /* #interrupt-cells, -1 if absent */
	int is_intc;                    /* has "interrupt-controller" */
	int msi;                        /* has "msi-parent" */
	uint32_t nsources;              /* riscv,ndev / riscv,num-sources */
};

/* An interrupt controller node, to size the specifiers that name it;
 * hart >= 0 for a hart's riscv,cpu-intc. */
struct dt_ctl {
	uint32_t phandle;
	int cells;
	int32_t hart;
};

/* A device whose interrupt is resolved after the walk. */
struct dt_irqref {
	struct plat_device *dev;
	uint32_t parent;
	struct dt_prop_ref irqs, irqs_ext;
};

struct dt_state {
	struct dt_node node[FDT_MAX_DEPTH];
	struct dt_ctl ctl[MAX_CTLS];
	int nctl;
	struct dt_irqref ref[MAX_IRQREFS];
	int nref;
	struct dt_prop_ref intc_ext[PLAT_MAX_INTC];  /* platform.intc[i]'s */
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
	n->irq_parent = depth ? s->node[depth - 1].irq_parent : 0;
	n->irq_cells = -1;
}

/* Properties that describe interrupts (spec 2.4.1, 2.4.2). Returns 1 if
 * `name` was one of them. */
static int dt_irq_prop(struct dt_node *n, const char *name, const void *val, uint32_t len)
{
	if (!strcmp(name, "interrupts"))
		n->irqs = (struct dt_prop_ref){ val, len };
	else if (!strcmp(name, "interrupts-extended"))
		n->irqs_ext = (struct dt_prop_ref){ val, len };
	else if (!strcmp(name, "interrupt-parent") && len == 4)
		n->irq_parent = fdt_be32(val);
	else if (!strcmp(name, "#interrupt-cells") && len == 4)
		n->irq_cells = (int)fdt_be32(val);
	else if (!strcmp(name, "interrupt-controller"))
		n->is_intc = 1;
	else if (!strcmp(name, "msi-parent"))
		n->msi = 1;
	else if (!strcmp(name, "phandle") && len == 4)
		n->phandle = fdt_be32(val);
	else if ((!strcmp(name, "riscv,ndev") || !strcmp(name, "riscv,num-sources")) && len == 4)
		n->nsources = fdt_be32(val);
	else
		return 0;
	return 1;
}

static void dt_prop(void *ctx, int depth, const char *name, const void *val, uint32_t len)
{
	struct dt_node *n = &((struct dt_state *)ctx)->node[depth];

	if (dt_irq_prop(n, name, val, len))
		return;
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
	} else if (!strcmp(name, "timebase-frequency") && len >= 4)
		platform.timebase_hz = fdt_cells(val, len >= 8 ? 2 : 1);
	else if (!strcmp(name, "bootargs") && depth == 1 && !strcmp(n->name, "chosen"))
		strncpy(platform.bootargs, val, PLAT_BOOTARGS - 1);
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

static void set_device(struct dt_state *s, struct plat_device *d,
		       const struct dt_node *parent, const struct dt_node *n)
{
	uint64_t base, size;

	if (!dt_reg(parent, n, 0, &base, &size))
		return;
	*d = (struct plat_device){ base, size, 0 };
	if ((n->irqs.val || n->irqs_ext.val) && s->nref < MAX_IRQREFS)
		s->ref[s->nref++] = (struct dt_irqref){ d, n->irq_parent, n->irqs, n->irqs_ext };
}

/* Remember an interrupt controller node; a hart's riscv,cpu-intc sits
 * under its cpu node, whose "reg" is the hart id (RISC-V CPU binding). */
static void add_ctl(struct dt_state *s, int depth, const struct dt_node *n)
{
	uint64_t hart, size;
	int32_t h = -1;

	if (!n->is_intc || !n->phandle || s->nctl == MAX_CTLS)
		return;
	if (compat_has(n, "riscv,cpu-intc") && depth >= 2 &&
	    dt_reg(&s->node[depth - 2], &s->node[depth - 1], 0, &hart, &size))
		h = (int32_t)hart;
	s->ctl[s->nctl++] = (struct dt_ctl){ n->phandle, n->irq_cells, h };
}

static void add_intc(struct dt_state *s, const struct dt_node *parent,
		     const struct dt_node *n, enum plat_intc_kind kind)
{
	struct plat_intc *c = &platform.intc[platform.nintc];
	uint64_t base, size;

	if (platform.nintc == PLAT_MAX_INTC || !dt_reg(parent, n, 0, &base, &size))
		return;
	*c = (struct plat_intc){ .base = base, .size = size, .kind = kind,
				 .phandle = n->phandle, .nsources = n->nsources };
	s->intc_ext[platform.nintc++] = n->irqs_ext;
}

/* A cpu node is a hart only with a hart id: its "reg" (RISC-V CPU
 * binding). One without a readable reg cannot be started or told apart
 * from the others: left out, its name kept for the boot log (smp.c). */
static void add_cpu(const struct dt_node *parent, const struct dt_node *n)
{
	uint64_t id, size;

	if (!dt_reg(parent, n, 0, &id, &size)) {
		if (platform.ncpus_no_reg < PLAT_MAX_NO_REG)
			memcpy(platform.cpu_no_reg[platform.ncpus_no_reg], n->name,
			       sizeof(platform.cpu_no_reg[0]));
		platform.ncpus_no_reg++;
		return;
	}
	if (platform.ncpus < PLAT_MAX_CPUS)
		platform.hartid[platform.ncpus] = id;
	platform.ncpus++;
}

static void dt_end(void *ctx, int depth)
{
	struct dt_state *s = ctx;
	struct dt_node *n = &s->node[depth];
	struct dt_node *parent = depth ? &s->node[depth - 1] : n;
	uint64_t base, size;

	add_ctl(s, depth, n);
	if (n->device_type && !strcmp(n->device_type, "memory")) {
		for (int i = 0; i < MAX_REGS && dt_reg(parent, n, i, &base, &size); i++)
			add_range(platform.ram, &platform.nram, PLAT_MAX_RAM, base, size);
	} else if (n->in_reserved) {
		for (int i = 0; i < MAX_REGS && dt_reg(parent, n, i, &base, &size); i++)
			add_range(platform.reserved, &platform.nreserved,
				  PLAT_MAX_RESERVED, base, size);
	} else if (n->device_type && !strcmp(n->device_type, "cpu")) {
		add_cpu(parent, n);
	} else if (compat_has(n, "ns16550a") && !platform.uart.size) {
		set_device(s, &platform.uart, parent, n);
	} else if (compat_has(n, "riscv,plic0") || compat_has(n, "sifive,plic-1.0.0")) {
		add_intc(s, parent, n, PLAT_PLIC);
	} else if (compat_has(n, "riscv,aplic")) {
		add_intc(s, parent, n, n->msi ? PLAT_APLIC_MSI : PLAT_APLIC);
	} else if (compat_has(n, "sifive,test0")) {
		set_device(s, &platform.test, parent, n);
	} else if (compat_has(n, "pci-host-ecam-generic") && !platform.pci.size) {
		set_device(s, &platform.pci, parent, n);
	} else if (compat_has(n, "virtio,mmio") && platform.nvirtio < PLAT_MAX_VIRTIO) {
		set_device(s, &platform.virtio[platform.nvirtio++], parent, n);
	}
}

static const struct dt_ctl *ctl_find(const struct dt_state *s, uint32_t phandle)
{
	for (int i = 0; i < s->nctl; i++)
		if (s->ctl[i].phandle == phandle)
			return &s->ctl[i];
	return NULL;
}

/* Decode the interrupt specifier at *p (spec 2.4): cell 0 and, where the
 * controller has two or more cells, cell 1. With parent 0 the specifier
 * starts with its controller's phandle (interrupts-extended). Advances *p;
 * returns the controller, or NULL at the end of the list or when it names
 * no known controller. */
static const struct dt_ctl *irq_spec(const struct dt_state *s, const uint8_t **p,
				     const uint8_t *end, uint32_t parent, uint32_t cell[2])
{
	const struct dt_ctl *c;

	if (!parent) {
		if (end - *p < 4)
			return NULL;
		parent = fdt_be32(*p);
		*p += 4;
	}
	c = ctl_find(s, parent);
	if (!c || c->cells < 1 || c->cells > 4 || end - *p < 4 * c->cells)
		return NULL;
	cell[0] = fdt_be32(*p);
	cell[1] = c->cells > 1 ? fdt_be32(*p + 4) : 0;
	*p += 4 * c->cells;
	return c;
}

/* A controller's contexts: which hart's which local interrupt each of its
 * interrupts-extended entries drives. */
static void resolve_contexts(const struct dt_state *s, int i)
{
	struct plat_intc *c = &platform.intc[i];
	const uint8_t *p = s->intc_ext[i].val, *end = p + s->intc_ext[i].len;
	const struct dt_ctl *t;
	uint32_t cell[2];

	while (p && c->nctx < PLAT_MAX_CTX && (t = irq_spec(s, &p, end, 0, cell))) {
		c->ctx_hart[c->nctx] = t->hart;
		c->ctx_cause[c->nctx++] = cell[0];
	}
}

/* A device's first interrupt, named by its controller's index. */
static void resolve_irq(const struct dt_state *s, const struct dt_irqref *r)
{
	int ext = r->irqs_ext.val != NULL;
	const struct dt_prop_ref *pr = ext ? &r->irqs_ext : &r->irqs;
	const uint8_t *p = pr->val;
	const struct dt_ctl *c = NULL;
	uint32_t cell[2];

	if (ext || r->parent)
		c = irq_spec(s, &p, p + pr->len, ext ? 0 : r->parent, cell);
	for (int i = 0; c && i < platform.nintc; i++)
		if (platform.intc[i].phandle == c->phandle && cell[0] <= 0xffff && cell[1] <= 0xff) {
			r->dev->irq = PLAT_IRQ(i, cell[0], cell[1]);
			platform.intc[i].used = 1;
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
	memset(&state, 0, sizeof(state));
	platform.dtb_base = (uintptr_t)dtb;
	platform.dtb_size = fdt_total_size(dtb);
	if (!platform.dtb_size || fdt_walk(dtb, &v))
		return -EINVAL;
	fdt_mem_rsv(dtb, dt_rsv, NULL);
	for (int i = 0; i < platform.nintc; i++)
		resolve_contexts(&state, i);
	for (int i = 0; i < state.nref; i++)
		resolve_irq(&state, &state.ref[i]);
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
