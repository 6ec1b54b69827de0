/* fdt.h - a small flattened-device-tree reader (Devicetree spec v0.4, ch. 5).
 *
 * It validates the header and walks the structure block, calling back once
 * per node start, property and node end. It allocates nothing and never
 * writes to the blob. Higher-level meaning (memory, devices) lives in
 * src/kernel/devtree.c. */
#ifndef TALLY_FDT_H
#define TALLY_FDT_H

#include <stdint.h>
#include <stddef.h>

#define FDT_MAGIC 0xd00dfeedu
#define FDT_MAX_DEPTH 16   /* nodes nested deeper make the walk fail; visitors
			    * may keep one record per depth */

struct fdt_visitor {
	void *ctx;
	/* depth 0 is the root node (whose name is ""). */
	void (*node_begin)(void *ctx, int depth, const char *name);
	void (*prop)(void *ctx, int depth, const char *name,
		     const void *val, uint32_t len);
	void (*node_end)(void *ctx, int depth);
};

/* Total size of the blob from its header, or 0 if the magic is wrong. */
uint32_t fdt_total_size(const void *blob);

/* Walk every node. Returns 0, or -EINVAL for a malformed blob (bad magic,
 * version < 16, a token or offset outside the blob, nesting over 16). */
int fdt_walk(const void *blob, const struct fdt_visitor *v);

/* Visit each entry of the memory-reservation block; returns the count. */
int fdt_mem_rsv(const void *blob, void (*fn)(void *ctx, uint64_t base, uint64_t size),
		void *ctx);

/* Big-endian cell readers for property values. */
static inline uint32_t fdt_be32(const void *p)
{
	const uint8_t *b = p;
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
	       ((uint32_t)b[2] << 8) | b[3];
}

/* Read a number of `cells` 32-bit cells (1 or 2) at p. */
static inline uint64_t fdt_cells(const void *p, int cells)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (int i = 0; i < cells; i++)
		v = (v << 32) | fdt_be32(b + 4 * i);
	return v;
}

#endif
