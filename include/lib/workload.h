/* workload.h - the benchmark workloads as a trace of allocations and frees.
 *
 * One generator feeds the in-kernel `bench` command and the host benchmark
 * (tools/bench), so both run exactly the same operations for a seed. A
 * trace is generated before it is timed, so measurements contain only the
 * allocator calls. Each op is 32 bits: bit 31 = free, bits 30..16 = slot
 * (the index of the live block it refers to), bits 15..0 = size in bytes
 * (0 for a free). Every trace frees everything it allocated, except where
 * the workload's `keep` marks the point where the live set is measured.
 *
 * Workloads (`ops` counts allocations and frees alike):
 *   small  64-byte objects: fill 10,001 live, then churn (free a random live
 *          object, allocate a new one), then free all
 *   mixed  sizes 8 B..8 KiB, log-uniform, churn around 2,000 live objects
 *   large  8 KiB objects, churn around 256 live objects
 *   frag   fills with small objects interleaved with 1..4 KiB buffers, frees
 *          the buffers, then asks for sizes a little larger than the holes:
 *          the pattern that splinters a first-fit heap; the live set at the
 *          end (`keep`) is where fragmentation is measured */
#ifndef TALLY_WORKLOAD_H
#define TALLY_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

enum wl_kind { WL_SMALL, WL_MIXED, WL_LARGE, WL_FRAG, WL_NR };

#define WL_FREE        0x80000000u
#define WL_SLOT(op)    (((op) >> 16) & 0x7fff)
#define WL_SIZE(op)    ((op) & 0xffff)
#define WL_MAX_SLOTS   32768

struct wl_trace {
	uint32_t *ops;       /* caller-provided, capacity `cap` */
	size_t cap, n;       /* n: ops generated */
	size_t keep;         /* ops before the measured live set (frag); else n */
	uint32_t slots;      /* slot indices used are < slots */
	uint32_t peak_live;
};

/* "small", "mixed", "large", "frag" / the inverse (-1 if unknown). */
const char *wl_name(enum wl_kind k);
int wl_parse(const char *name);

/* Ops that workload k generates for a requested size `ops` (>= what the
 * fill and drain phases need), so callers can size the buffer. */
size_t wl_ops_needed(enum wl_kind k, size_t ops);
/* Why workload k needs at least wl_ops_needed(k, 0) ops, in words. */
const char *wl_why(enum wl_kind k);

/* Generate workload k with about `ops` operations into t->ops (capacity
 * t->cap) from `seed`. Returns 0, or -EINVAL (unknown kind, cap too small:
 * see wl_ops_needed). */
int wl_generate(enum wl_kind k, size_t ops, uint64_t seed, struct wl_trace *t);

#endif
