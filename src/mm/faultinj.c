/* faultinj.c - deterministic fault injection for the allocators (see
 * include/mm/faultinj.h for the decision order). One global configuration,
 * its budget (times, space) and random stream shared by every CPU, read
 * and updated under mm_lock (which nests: callers ask under their own);
 * a run replays exactly only on one CPU. The injected count each
 * allocator compares is per CPU (faultinj_injected()). */
#include "lib/xorshift.h"
#include <string.h>
#include "mm/faultinj.h"
#include "mm/mm_env.h"
#include "mm/slowpath.h"
#include "kerrno.h"

static struct faultinj_config cfg;
static struct faultinj_stats stats;
static uint64_t rng;
unsigned long faultinj_injected_cpu[MM_MAX_CPUS];
int faultinj_enabled;

int faultinj_set(const struct faultinj_config *c)
{
	unsigned long irq;

	if (!c || c->probability > 100 || !(c->scope & FI_ALL) || (c->scope & ~FI_ALL) ||
	    c->times < -1)
		return -EINVAL;
	irq = mm_lock();
	cfg = *c;
	rng = c->seed ? c->seed : 0x9e3779b97f4a7c15ull;
	memset(&stats, 0, sizeof(stats));
	stats.enabled = 1;
	__atomic_store_n(&faultinj_enabled, 1, __ATOMIC_RELAXED);
	mm_force_slow_path(MM_SLOW_FAULTINJ, true);
	mm_unlock(irq);
	return 0;
}

void faultinj_off(void)
{
	unsigned long irq = mm_lock();

	stats.enabled = 0;
	__atomic_store_n(&faultinj_enabled, 0, __ATOMIC_RELAXED);
	mm_force_slow_path(MM_SLOW_FAULTINJ, false);
	mm_unlock(irq);
}

void faultinj_reset(void)
{
	unsigned long irq = mm_lock();

	memset(&cfg, 0, sizeof(cfg));
	memset(&stats, 0, sizeof(stats));
	rng = 0;
	memset(faultinj_injected_cpu, 0, sizeof(faultinj_injected_cpu));
	__atomic_store_n(&faultinj_enabled, 0, __ATOMIC_RELAXED);
	mm_force_slow_path(MM_SLOW_FAULTINJ, false);
	mm_unlock(irq);
}

void faultinj_get(struct faultinj_config *c, struct faultinj_stats *st)
{
	unsigned long irq = mm_lock();

	if (c)
		*c = cfg;
	if (st)
		*st = stats;
	mm_unlock(irq);
}

static unsigned scope_index(unsigned scope)
{
	return scope == FI_PAGE ? 0 : scope == FI_SLAB ? 1 : 2;
}

static unsigned random_percent(void)
{
	return (unsigned)(xorshift64(&rng) % 100);
}

static int decide(unsigned scope, size_t bytes, gfp_t gfp)
{
	if (!stats.enabled || !(cfg.scope & scope) || (gfp & GFP_NOINJECT) ||
	    ((gfp & GFP_RESERVE) && !cfg.reserve_too))
		return 0;
	stats.calls++;
	if (cfg.times == 0)
		return 0;
	if (cfg.space > bytes) {
		cfg.space -= bytes;
		return 0;
	}
	if (cfg.interval > 1 && stats.calls % cfg.interval)
		return 0;
	if (cfg.probability <= random_percent())
		return 0;
	if (cfg.times > 0)
		cfg.times--;
	stats.injected[scope_index(scope)]++;
	faultinj_injected_cpu[mm_cpu()]++;
	return 1;
}

int faultinj_decide(unsigned scope, size_t bytes, gfp_t gfp)
{
	unsigned long irq = mm_lock();
	int fail = decide(scope, bytes, gfp);

	mm_unlock(irq);
	return fail;
}
