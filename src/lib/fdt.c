/* fdt.c - walk a flattened device tree (Devicetree spec v0.4, ch. 5).
 * The header (5.2) gives the offsets of the structure block (5.4: tokens
 * BEGIN_NODE, END_NODE, PROP, NOP, END, all 4-byte aligned) and the
 * strings block; every offset is bounds-checked against the blob. */
#include "lib/fdt.h"
#include "kerrno.h"

#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

struct fdt_hdr {
	uint32_t totalsize, off_struct, off_strings, off_rsvmap, version;
	uint32_t size_strings, size_struct;
};

static int fdt_header(const void *blob, struct fdt_hdr *h)
{
	const uint8_t *b = blob;

	if (fdt_be32(b) != FDT_MAGIC)
		return -EINVAL;
	h->totalsize = fdt_be32(b + 4);
	h->off_struct = fdt_be32(b + 8);
	h->off_strings = fdt_be32(b + 12);
	h->off_rsvmap = fdt_be32(b + 16);
	h->version = fdt_be32(b + 20);
	h->size_strings = fdt_be32(b + 32);
	h->size_struct = fdt_be32(b + 36);
	if (h->version < 16 ||
	    h->off_struct > h->totalsize ||
	    h->size_struct > h->totalsize - h->off_struct ||
	    h->off_strings > h->totalsize ||
	    h->size_strings > h->totalsize - h->off_strings ||
	    h->off_rsvmap > h->totalsize)
		return -EINVAL;
	return 0;
}

uint32_t fdt_total_size(const void *blob)
{
	struct fdt_hdr h;

	return fdt_header(blob, &h) ? 0 : h.totalsize;
}

static uint32_t align4(uint32_t x)
{
	return (x + 3) & ~3u;
}

/* Length of the NUL-terminated string at s, or -1 if it runs past end. */
static long bounded_strlen(const char *s, const char *end)
{
	for (const char *p = s; p < end; p++)
		if (!*p)
			return p - s;
	return -1;
}

int fdt_walk(const void *blob, const struct fdt_visitor *v)
{
	struct fdt_hdr h;
	const char *base = blob;
	const char *strs, *end;
	uint32_t off = 0;
	int depth = -1;

	if (fdt_header(blob, &h))
		return -EINVAL;
	strs = base + h.off_strings;
	end = base + h.off_struct + h.size_struct;
	for (;;) {
		const char *p = base + h.off_struct + off;
		uint32_t tok;

		if (p + 4 > end)
			return -EINVAL;
		tok = fdt_be32(p);
		p += 4;
		switch (tok) {
		case FDT_BEGIN_NODE: {
			long len = bounded_strlen(p, end);

			if (len < 0 || ++depth >= FDT_MAX_DEPTH)
				return -EINVAL;
			if (v->node_begin)
				v->node_begin(v->ctx, depth, p);
			off += 4 + align4((uint32_t)len + 1);
			break;
		}
		case FDT_END_NODE:
			if (depth < 0)
				return -EINVAL;
			if (v->node_end)
				v->node_end(v->ctx, depth);
			depth--;
			off += 4;
			break;
		case FDT_PROP: {
			uint32_t len, nameoff;

			if (p + 8 > end || depth < 0)
				return -EINVAL;
			len = fdt_be32(p);
			nameoff = fdt_be32(p + 4);
			if (len > (uint32_t)(end - (p + 8)) || nameoff >= h.size_strings ||
			    bounded_strlen(strs + nameoff, strs + h.size_strings) < 0)
				return -EINVAL;
			if (v->prop)
				v->prop(v->ctx, depth, strs + nameoff, p + 8, len);
			off += 12 + align4(len);
			break;
		}
		case FDT_NOP:
			off += 4;
			break;
		case FDT_END:
			return depth == -1 ? 0 : -EINVAL;
		default:
			return -EINVAL;
		}
	}
}

int fdt_mem_rsv(const void *blob, void (*fn)(void *ctx, uint64_t base, uint64_t size),
		void *ctx)
{
	struct fdt_hdr h;
	const char *p;
	int n = 0;

	if (fdt_header(blob, &h))
		return 0;
	p = (const char *)blob + h.off_rsvmap;
	for (; p + 16 <= (const char *)blob + h.totalsize; p += 16) {
		uint64_t base = fdt_cells(p, 2), size = fdt_cells(p + 8, 2);

		if (base == 0 && size == 0)
			break;
		fn(ctx, base, size);
		n++;
	}
	return n;
}
