/* bench_internal.h - what `bench` (cmd_bench.c) shares with its run on
 * several harts at once (bench_harts.c): the trace, made once and read by
 * every hart, and the fixed-point printing. Not an interface for anything
 * else. */
#ifndef TALLY_SHELL_BENCH_INTERNAL_H
#define TALLY_SHELL_BENCH_INTERNAL_H

#include <stdint.h>
#include "lib/workload.h"

/* The current trace (bench_prepare made it; cmd_bench drops it). */
const struct wl_trace *bench_trace(void);

/* Make workload k's trace of about `ops` operations, saying so when it
 * needs more than asked. 0, or -ENOMEM (said: no room for the trace). */
int bench_prepare(enum wl_kind k, uint64_t ops);

/* A fixed-point x10 value as "N.d", right-aligned in width (0: none). */
void bench_fixed1(uint64_t x10, int width);

/* Replay the prepared trace of workload k in `mode` on `harts` online
 * harts at once (bench_harts.c), printing a line per hart and a total.
 * The caller restores the mode. 0; -ENOMEM or -EIO (said); -EINTR after
 * a Ctrl-C, with the lines for what was done and every block freed. */
int bench_harts(enum wl_kind k, int mode, unsigned harts);

#endif
