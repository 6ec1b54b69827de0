/* stress_internal.h - what `mmstress` (cmd_stress.c) shares with its
 * background form (stress_bg.c): one hart's run of the random stress, the
 * hand-off between harts and the summary lines. Not an interface for
 * anything else (other commands see the background stress through
 * shell/shell.h's sh_bg_stress_*). */
#ifndef TALLY_SHELL_STRESS_INTERNAL_H
#define TALLY_SHELL_STRESS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/smp.h"

#define STRESS_SLOTS 512

struct sblk {
	unsigned char *p;
	uint32_t size, id;
};

/* One hart's run: its live blocks, its random stream, its counts. A
 * background run (bg) stops when stress_bg_go_on says so instead of on
 * Ctrl-C, and is read by hart 0 while it runs (ops, parked, finished). */
struct stress {
	struct sblk blocks[STRESS_SLOTS];
	int n;
	uint64_t rng, want;
	uint64_t ops;         /* done so far: stored after each op */
	bool shared;          /* other harts run too: hand blocks over */
	bool bg;
	int parked;           /* bg: the park request it answered (stress_bg.c) */
	int finished;         /* bg: done, holding nothing */
	unsigned long failures, corrupt;
	unsigned long cross;  /* blocks another run handed over, freed by this one */
	uint32_t next_id;
};

/* runs[i]: the i-th hart's run, in smp_online's order (0: hart 0's). */
extern struct stress stress_runs[HART_MAX];

/* A fresh run i of `ops` operations from seed (the same streams as
 * mmstress's harts=N), handing blocks over when shared. */
void stress_init(struct stress *s, unsigned i, uint64_t ops, uint64_t seed, bool shared);

/* The whole run of s (smp_run_together or smp_post run it on a hart);
 * everything it still holds is checked and freed at the end. */
void stress_run(void *arg);

/* Check and free every block s holds (not those handed over). */
void stress_let_go(struct stress *s);

/* Check and free what is still handed over, freed by s. Only
 * while no run is at work. */
void stress_drain(struct stress *s);

/* The summary: with per_hart, a line of runs[first..first+n-1]'s op
 * counts, then `ops= failures= corrupt= leaked_bytes= result=`. `checked`:
 * the integrity check after the run was clean. FAIL when anything was
 * found, else INTERRUPTED when fewer ops ran than asked, else PASS.
 * Returns 0, -1 (FAIL) or SH_INTERRUPTED. */
int stress_summary(unsigned first, unsigned n, uint64_t ops, bool per_hart, int64_t leaked,
		   bool checked);

/* A background run's look before each op (stress_bg.c): waits out a park
 * (having let go of every block) and returns false once told to stop. */
bool stress_bg_go_on(struct stress *s);

/* `mmstress ... bg` (harts_arg: the harts=N word, NULL when not given)
 * and `mmstress wait|stop|status` (stress_bg.c): the command's result. */
int stress_bg_start(uint64_t ops, uint64_t seed, uint64_t harts, const char *harts_arg);
int stress_bg_command(const char *what);

#endif
