/* faultinj.h - fault injection for the allocators, after Linux's failslab
 * and fail_page_alloc knobs (Documentation/fault-injection).
 *
 * A call site asks faultinj_should_fail(scope, bytes, gfp) before it
 * allocates; when the answer is yes it fails the request exactly as if
 * memory had run out (-ENOMEM), and counts it as injected. Decision order,
 * as in Linux's should_fail():
 *   1. off, scope not selected, GFP_NOINJECT, or a GFP_RESERVE request
 *      while reserve requests are exempt        -> no
 *   2. times == 0 (the failure budget is spent)   -> no
 *   3. space > bytes: space -= bytes              -> no  (let N bytes through)
 *   4. interval > 1 and this is not an interval-th eligible call -> no
 *   5. probability <= random % 100                -> no
 *   6. times > 0: times--;                        -> yes
 * The random stream is a xorshift seeded by `seed`, so a run replays. */
#ifndef TALLY_MM_FAULTINJ_H
#define TALLY_MM_FAULTINJ_H

#include <stddef.h>
#include <stdint.h>
#include "mm/gfp.h"
#include "mm/mm_env.h"

#define FI_PAGE  (1u << 0)   /* buddy allocations (alloc_pages and all above it) */
#define FI_SLAB  (1u << 1)   /* kmem_cache_alloc */
#define FI_HEAP  (1u << 2)   /* SimpleHeap allocations */
#define FI_ALL   (FI_PAGE | FI_SLAB | FI_HEAP)

struct faultinj_config {
	unsigned probability;    /* percent, 0..100 */
	unsigned long interval;  /* fail only every Nth eligible call (0/1: every) */
	long times;              /* failures left; -1 unlimited */
	unsigned long space;     /* bytes let through before anything fails */
	unsigned scope;          /* FI_* bits */
	int reserve_too;         /* also fail GFP_RESERVE requests */
	uint64_t seed;
};

struct faultinj_stats {
	int enabled;
	unsigned long calls;     /* eligible calls seen */
	unsigned long injected[3]; /* by scope: page, slab, heap */
};

/* Turn injection on with cfg (copied). Returns 0, or -EINVAL when
 * probability > 100, scope has no FI_* bit or unknown bits, or times < -1. */
int faultinj_set(const struct faultinj_config *cfg);
void faultinj_off(void);
/* Off, configuration and every counter zeroed: the state of a fresh
 * process (kmalloc_init calls it). */
void faultinj_reset(void);
/* The configuration as it stands (times and space count down) and counters. */
void faultinj_get(struct faultinj_config *cfg, struct faultinj_stats *st);
/* Should this allocation fail? `scope` is one FI_* bit. Costs one load
 * and a branch while injection is off. */
extern int faultinj_enabled;
int faultinj_decide(unsigned scope, size_t bytes, gfp_t gfp);
static inline int faultinj_should_fail(unsigned scope, size_t bytes, gfp_t gfp)
{
	return __atomic_load_n(&faultinj_enabled, __ATOMIC_RELAXED) &&
	       faultinj_decide(scope, bytes, gfp);
}
/* Failures injected on each CPU since boot, all scopes, and the calling
 * CPU's (mm_cpu()): the allocators compare it before and after a try to
 * tell an injected failure from a real one, so it is per CPU -- another
 * CPU's injection meanwhile is not this request's. */
extern unsigned long faultinj_injected_cpu[MM_MAX_CPUS];
static inline unsigned long faultinj_injected(void)
{
	return faultinj_injected_cpu[mm_cpu()];
}

#endif
