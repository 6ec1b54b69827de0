/* stats.h - one picture of how memory is doing, for the shell, the tests
 * and the benchmarks alike: totals, request counters, failure rates,
 * fragmentation and a health verdict, all computed from live state when
 * mm_stats_get() is called.
 *
 * Definitions (docs/ARCHITECTURE.md, "Accounting and health"):
 *   free             pages on the zones' free lists and on the CPUs' page
 *                    lists (mm/buddy.h): buddy_free_pages()
 *   failure rate     failed kmalloc-level requests / requests, since boot
 *                    and over kmalloc's failure window: about the last
 *                    KMALLOC_WINDOW_MS (window_ms says exactly how long;
 *                    mm/kmalloc.h)
 *   frag_buddy       Linux's unusable free space index for order
 *                    MM_FRAG_ORDER over all zones: the share of free pages
 *                    in blocks too small for a 2^order request
 *   frag_heap        1 - largest free heap block / free heap bytes
 *   frag_slab        free objects in partial slabs and in magazines / all
 *                    slab objects
 *   frag             the measure of the current mode: heap for simple,
 *                    slab for twotier and hybrid
 * Rates and fractions are in per mille (0..1000).
 *
 * Health, the first rule that holds, always with its reason:
 *   critical  a zone below its min watermark; the last integrity check
 *             found violations; window failure rate >= 50%
 *   degraded  a zone below its low watermark; less than MM_LOW_FREE_PCT
 *             percent of memory free; wrong frees refused since
 *             boot; window failure rate >= 5%; frag >= 50% while the
 *             measured allocator holds at least MM_FRAG_MIN_BYTES (a few
 *             objects in a fresh slab are not fragmentation worth a word)
 *   healthy   otherwise */
#ifndef TALLY_MM_STATS_H
#define TALLY_MM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/leak.h"
#include "mm/mm_debug.h"

#define MM_FRAG_ORDER   3   /* 32 KiB: the largest slab a cache asks for */
#define MM_FRAG_MIN_BYTES (1u << 20)
#define MM_LOW_FREE_PCT 5

enum mm_health { MM_HEALTHY, MM_DEGRADED, MM_CRITICAL };

struct mm_stats {
	int mode;
	uint64_t total_bytes, free_bytes, used_bytes;   /* managed RAM */
	unsigned long requests, allocs, frees, failures; /* kmalloc level, all modes */
	unsigned long fail_nomem, fail_inval, fail_injected;
	unsigned failure_rate_pm;
	uint64_t window_requests, window_failures;      /* in the window */
	unsigned window_failure_rate_pm;
	unsigned long long window_ms;                   /* how long it spans */
	unsigned frag_buddy_pm, frag_heap_pm, frag_slab_pm, frag_pm;
	const char *frag_measure;                       /* "heap" or "slab" */
	uint64_t frag_held_bytes;   /* memory the measured allocator holds */
	unsigned long wrong_frees;                      /* every layer */
	unsigned long checks_run;
	int last_check_violations;
	enum mm_health health;
	char reason[96];
	struct buddy_stats buddy;
	struct buddy_pcp_stats pcp;   /* every hart's page lists */
	struct kmalloc_stats km;
	struct heap_stats heap;
	struct mm_debug_stats debug;
	struct faultinj_stats faultinj;
	struct leak_stats leak;
};

void mm_stats_get(struct mm_stats *out);
const char *mm_health_name(enum mm_health h);

/* Run every integrity check (buddy, slab, heap, with poison and red zones
 * when those are on); each violation is reported. Returns their number
 * and remembers it for the health verdict. */
int mm_check(void);

/* Leave out of every figure mm_stats_get() reports (failures, failure
 * rates and the window, wrong frees, debug violations, the last integrity
 * check) what happened since *before was taken: for a self-test case that
 * passed, whose faults were provoked on purpose. The allocators' own
 * counters (memstat counters) still count everything. */
void mm_stats_excuse(const struct mm_stats *before);

/* Forget the last integrity check and everything excused: a fresh
 * process's state (mm_host_init and boot call it after kmalloc_init). */
void mm_stats_reset(void);

#endif
