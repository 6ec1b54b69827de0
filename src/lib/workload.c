/* workload.c - trace generator for the benchmarks (include/lib/workload.h).
 * Deterministic for a seed on every platform: xorshift64, integer math. */
#include "lib/xorshift.h"
#include <string.h>
#include "lib/workload.h"
#include "kerrno.h"

struct gen {
	struct wl_trace *t;
	uint32_t nlive;
	uint32_t slot_list[WL_MAX_SLOTS];  /* live slots, unordered */
	uint16_t size[WL_MAX_SLOTS];       /* slot -> size of its live block */
	uint32_t free_slots[WL_MAX_SLOTS]; /* freed slots, reused last-in first */
	uint32_t nfree, fresh;             /* stack depth; next never-used slot */
	uint64_t rng;
};

static struct gen g;   /* large: static, generation is single-threaded */

static const char *const names[WL_NR] = { "small", "mixed", "large", "frag" };

const char *wl_name(enum wl_kind k)
{
	return (unsigned)k < WL_NR ? names[k] : "?";
}

int wl_parse(const char *name)
{
	for (int k = 0; k < WL_NR; k++)
		if (!strcmp(name, names[k]))
			return k;
	return -1;
}

static uint64_t rnd(void)
{
	return xorshift64(&g.rng);
}

static void emit(uint32_t op)
{
	if (g.t->n < g.t->cap)
		g.t->ops[g.t->n] = op;
	g.t->n++;
}

/* Allocate `size` bytes into a slot: the last one freed, or a fresh one,
 * so slot numbers stay below the peak live count. */
static void op_alloc(uint32_t size)
{
	uint32_t s = g.nfree ? g.free_slots[--g.nfree] : g.fresh++;

	g.size[s] = (uint16_t)size;
	g.slot_list[g.nlive++] = s;
	if (g.nlive > g.t->peak_live)
		g.t->peak_live = g.nlive;
	emit(s << 16 | size);
}

static void op_free_index(uint32_t i)
{
	uint32_t s = g.slot_list[i];

	g.free_slots[g.nfree++] = s;
	g.slot_list[i] = g.slot_list[--g.nlive];
	emit(WL_FREE | s << 16);
}

static void op_free_random(void)
{
	op_free_index((uint32_t)(rnd() % g.nlive));
}

static void drain(void)
{
	while (g.nlive)
		op_free_index(g.nlive - 1);
}

/* 8 B..8 KiB, log-uniform: pick a power of two, then a size inside it. */
static uint32_t mixed_size(void)
{
	unsigned shift = 3 + (unsigned)(rnd() % 11);   /* 8 .. 8192 */
	uint32_t lo = 1u << shift;

	return shift == 13 ? lo : lo + (uint32_t)(rnd() % lo);
}

/* Fill to `target` live blocks, then alternate: free a random live block,
 * allocate a new one; stop early enough to drain within `ops`. */
static void churn(size_t ops, uint32_t target, uint32_t size, int mixed)
{
	while (g.nlive < target && g.t->n + 2 * g.nlive + 2 <= ops)
		op_alloc(mixed ? mixed_size() : size);
	while (g.t->n + g.nlive + 2 <= ops) {
		op_free_random();
		op_alloc(mixed ? mixed_size() : size);
	}
}

static void gen_frag(size_t ops)
{
	while (g.t->n + 2 * g.nlive + 4 < ops / 2 && g.nlive + 2 < g.t->slots) {
		op_alloc(16 + (uint32_t)(rnd() % 48));             /* small, stays */
		op_alloc(1024 + (uint32_t)(rnd() % 3072));         /* buffer, goes */
	}
	for (uint32_t i = g.nlive; i-- > 0;)                     /* free buffers */
		if (g.size[g.slot_list[i]] >= 1024)   /* i < nlive: the list shrinks behind i */
			op_free_index(i);
	while (g.t->n + g.nlive + 1 < ops && g.nlive + 1 < g.t->slots)
		op_alloc(4096 + 16 + (uint32_t)(rnd() % 1024));  /* too big for a hole */
	g.t->keep = g.t->n;
}

size_t wl_ops_needed(enum wl_kind k, size_t ops)
{
	switch (k) {
	case WL_SMALL: return ops < 2 * 10000 + 2 ? 2 * 10000 + 2 : ops;
	case WL_FRAG:  return ops < 64 ? 64 : ops;
	default:       return ops < 16 ? 16 : ops;
	}
}

const char *wl_why(enum wl_kind k)
{
	switch (k) {
	case WL_SMALL: return "it fills 10,001 live objects and frees them all";
	case WL_FRAG:  return "its fill, free and refill phases need 64";
	default:       return "its fill and drain phases need 16";
	}
}

int wl_generate(enum wl_kind k, size_t ops, uint64_t seed, struct wl_trace *t)
{
	static const uint32_t slots[WL_NR] = { 10001, 2000, 256, 16384 };

	if ((unsigned)k >= WL_NR || !t || !t->ops || t->cap < wl_ops_needed(k, ops))
		return -EINVAL;
	ops = wl_ops_needed(k, ops);
	memset(&g, 0, sizeof(g));
	g.t = t;
	g.rng = seed ? seed : 1;
	t->n = t->keep = 0;
	t->peak_live = 0;
	t->slots = slots[k];
	if (k == WL_SMALL) {
		while (g.nlive < t->slots)
			op_alloc(64);
		churn(ops, t->slots, 64, 0);
	} else if (k == WL_FRAG) {
		gen_frag(ops);
	} else {
		churn(ops, t->slots, k == WL_LARGE ? 8192 : 0, k == WL_MIXED);
	}
	if (k != WL_FRAG)
		t->keep = t->n;
	drain();
	return t->n <= t->cap ? 0 : -EINVAL;
}
