/* stress_bg.c - `mmstress [ops] [seed] [harts=N] bg`: mmstress's random
 * stress (cmd_stress.c) on harts 1..N, never on hart 0, which goes on
 * running the shell; `mmstress status` says how far it got, `mmstress
 * wait` waits for its end and prints mmstress's summary, `mmstress stop`
 * tells it to stop first. A Ctrl-C during `wait` does what `stop` does:
 * each hart finishes the operation at hand and frees what it holds, and
 * the summary says INTERRUPTED. Nothing else stops it: a Ctrl-C typed
 * during another command is that command's.
 *
 * Each hart runs its part as a call posted with smp_post, in its idle
 * loop; its mailbox stays claimed until `wait` collects it (smp_wait), so
 * those harts take no other cross-hart call meanwhile, and the commands
 * that need them, or that measure the whole mm as if it were theirs,
 * refuse (sh_bg_stress_refuse names why).
 *
 * Leak checks. kmalloc's bytes in use are one figure for all harts, exact
 * for a before/after comparison only at a moment when the stress holds
 * nothing:
 *  - the stress's own: the figure when `bg` started it and when `wait`
 *    found every hart done, both on hart 0 after mm_shrink, less what the
 *    fs came to keep for its deepest walk meanwhile (held_bytes, as
 *    fsstress leaves out). Nothing else a shell command leaves behind is
 *    kmalloc's (hog's pages come from the buddy allocator, leak records
 *    too);
 *  - another command's (fsstress): sh_bg_stress_park asks every hart to
 *    let go of its blocks (checked and freed, as at its end) and wait,
 *    frees what they handed over, and so makes such a moment; the command
 *    samples there and sh_bg_stress_unpark lets the harts go on. A parked
 *    hart sleeps in wfi, so it may take a tick to notice either. */
#include <stdbool.h>
#include <string.h>
#include "shell/shell.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "kernel/smp.h"
#include "mm/kmalloc.h"
#include "mm/shrinker.h"
#include "mm/stats.h"
#include "arch/riscv.h"
#include "kerrno.h"
#include "stress_internal.h"

/* The background stress: stress_runs[1..harts] run on hart idx[1..harts]. */
static struct {
	bool on;                 /* started, not collected by wait yet */
	unsigned harts;
	unsigned idx[HART_MAX];  /* smp_online's order: idx[0] is hart 0 */
	bool reaped[HART_MAX];   /* its call has returned and its mailbox is free */
	uint64_t ops, seed;
	uint64_t in_use, fs_held;   /* at the start, for the leak check */
	int stop;                /* wait's Ctrl-C or stop: end after this op */
	int park;                /* a park request's number, 0: none */
	int parks;               /* requests so far */
} bg;

/* What the fs keeps for its walks (fat32.h held_bytes); 0 with no volume. */
static uint64_t fs_held(void)
{
	const char *why;
	struct fat_fs *fs = disk_fs(&why);
	struct fat_stats st;

	if (!fs)
		return 0;
	fat_get_stats(fs, &st);
	return st.held_bytes;
}

/* Sleep until the next interrupt (the tick at the latest), then take it. */
static void nap(void)
{
	uint64_t s = irq_save();

	wfi();
	irq_restore(s);
}

/* Part i's call on its hart: the run, then "finished" for a park waiting. */
static void bg_part(void *arg)
{
	struct stress *s = arg;

	stress_run(s);
	__atomic_store_n(&s->finished, 1, __ATOMIC_RELEASE);
}

/* Park request p: let go of every block, say so, wait until it is over. */
static void bg_park(struct stress *s, int p)
{
	stress_let_go(s);
	__atomic_store_n(&s->parked, p, __ATOMIC_RELEASE);
	while (__atomic_load_n(&bg.park, __ATOMIC_ACQUIRE) == p &&
	       !__atomic_load_n(&bg.stop, __ATOMIC_ACQUIRE))
		wfi();   /* interrupts are on here: the tick wakes it */
}

bool stress_bg_go_on(struct stress *s)
{
	int p = __atomic_load_n(&bg.park, __ATOMIC_ACQUIRE);

	if (p)
		bg_park(s, p);
	return !__atomic_load_n(&bg.stop, __ATOMIC_ACQUIRE);
}

/* Free the mailboxes of the parts that have returned; how many have not. */
static unsigned bg_reap(void)
{
	unsigned left = 0;

	for (unsigned i = 1; i <= bg.harts; i++) {
		if (bg.reaped[i])
			continue;
		if (smp_wait(bg.idx[i], 0) == 0 || harts[bg.idx[i]].state != HART_ONLINE)
			bg.reaped[i] = true;   /* a stopped hart never will: the machine is going down */
		else
			left++;
	}
	return left;
}

/* Wait for every part to return; with interruptible, a Ctrl-C tells them
 * to stop (returns true then). */
static bool bg_join(bool interruptible)
{
	bool intr = false;

	while (bg_reap()) {
		if (interruptible && !intr && console_interrupted()) {
			intr = true;
			__atomic_store_n(&bg.stop, 1, __ATOMIC_RELEASE);
		}
		nap();
	}
	return intr;
}

/* "1/2/3": the harts it runs on. */
static void print_harts(void)
{
	for (unsigned i = 1; i <= bg.harts; i++)
		kprintf("%s%u", i > 1 ? "/" : "", bg.idx[i]);
}

/* "PREFIX ... on harts 1/2/3 has finished, its summary unread (mmstress
 * wait first)": a finished stress keeps its harts' results until wait. */
static void say_unread(const char *prefix)
{
	kprintf("%sthe background mmstress on harts ", prefix);
	print_harts();
	kprintf(" has finished, its summary unread (mmstress wait first)\n");
}

int sh_bg_stress_refuse(const char *cmd, const char *why)
{
	if (!bg.on)
		return 0;
	kprintf("%s: refused while ", cmd);
	if (!bg_reap()) {
		say_unread("");
		return 1;
	}
	kprintf("the background mmstress runs on harts ");
	print_harts();
	kprintf(": %s (mmstress wait or stop first)\n", why);
	return 1;
}

void sh_bg_stress_park(void)
{
	int p;

	if (!bg.on)
		return;
	if ((p = ++bg.parks) <= 0)
		p = bg.parks = 1;   /* 0 means none */
	__atomic_store_n(&bg.park, p, __ATOMIC_RELEASE);
	for (unsigned i = 1; i <= bg.harts; i++) {
		struct stress *s = &stress_runs[i];

		while (__atomic_load_n(&s->parked, __ATOMIC_ACQUIRE) != p &&
		       !__atomic_load_n(&s->finished, __ATOMIC_ACQUIRE) &&
		       harts[bg.idx[i]].state == HART_ONLINE)
			nap();
	}
	stress_drain(&stress_runs[1]);   /* its hart is parked or done: hart 0 may count there */
}

void sh_bg_stress_unpark(void)
{
	__atomic_store_n(&bg.park, 0, __ATOMIC_RELEASE);
}

/* Which harts: harts=N as given (1..online-1), else every hart but 0.
 * 0, or -1 after one line saying why not. */
static int bg_harts(uint64_t *harts, const char *harts_arg)
{
	unsigned online = smp_online(bg.idx);

	if (online < 2) {
		kprintf("mmstress: bg: no hart but the shell's is online (-smp 1): nothing to "
			"run it on\n");
		return -1;
	}
	if (!harts_arg)
		*harts = online - 1;
	if (*harts == 0 || *harts >= online) {
		kprintf("mmstress: %s: bg runs on harts 1..N, hart 0 stays the shell's: N is 1 to "
			"%u\n", harts_arg, online - 1);
		return -1;
	}
	return 0;
}

/* Post each part to its hart; when one will not take it, stop those
 * already posted (they give back what they took) and say so. 0 or -1. */
static int bg_post_all(void)
{
	unsigned i;
	int rc = 0;

	for (i = 1; i <= bg.harts; i++) {
		stress_init(&stress_runs[i], i, bg.ops, bg.seed, bg.harts > 1);
		stress_runs[i].bg = true;
		bg.reaped[i] = true;   /* until posted */
	}
	for (i = 1; i <= bg.harts; i++) {
		if ((rc = smp_post(bg.idx[i], bg_part, &stress_runs[i])))
			break;
		bg.reaped[i] = false;
	}
	if (!rc)
		return 0;
	kprintf("mmstress: hart %u would not take its part (%d): not started\n", bg.idx[i], rc);
	__atomic_store_n(&bg.stop, 1, __ATOMIC_RELEASE);
	bg_join(false);
	stress_drain(&stress_runs[1]);
	return -1;
}

int stress_bg_start(uint64_t ops, uint64_t seed, uint64_t harts, const char *harts_arg)
{
	if (bg.on && !bg_reap()) {
		say_unread("mmstress: ");
		return -1;
	}
	if (bg.on) {
		kprintf("mmstress: a background mmstress already runs on harts ");
		print_harts();
		kprintf(" (mmstress wait or stop first)\n");
		return -1;
	}
	if (bg_harts(&harts, harts_arg))
		return -1;
	bg.harts = (unsigned)harts;
	bg.ops = ops;
	bg.seed = seed;
	bg.stop = bg.park = 0;
	mm_shrink(~0ul);   /* as mmstress: a shrinker run is not a leak */
	bg.in_use = kmalloc_bytes_in_use();
	bg.fs_held = fs_held();
	if (bg_post_all())
		return -1;
	bg.on = true;
	kprintf("mmstress: bg=started harts=%u on=", bg.harts);
	print_harts();
	kprintf(" ops_per_hart=%lu seed=%lu mode=%s\n", (unsigned long)ops, (unsigned long)seed,
		mm_mode_name());
	return 0;
}

/* `mmstress status`: one line, whatever the state. */
static int bg_status(void)
{
	unsigned left;

	if (!bg.on) {
		kprintf("mmstress: bg=none\n");
		return 0;
	}
	left = bg_reap();
	kprintf("mmstress: bg=%s harts=%u on=", left ? "running" : "finished", bg.harts);
	print_harts();
	kprintf(" ops_per_hart=%lu done_per_hart=", (unsigned long)bg.ops);
	for (unsigned i = 1; i <= bg.harts; i++)
		kprintf("%s%lu", i > 1 ? "/" : "",
			(unsigned long)__atomic_load_n(&stress_runs[i].ops, __ATOMIC_RELAXED));
	kprintf("\n");
	return 0;
}

/* `mmstress wait` / `stop`: join the harts, check for leaks, summarize. */
static int bg_collect(bool stop)
{
	uint64_t in_use, held;
	bool intr;
	int rc;

	if (stop)
		__atomic_store_n(&bg.stop, 1, __ATOMIC_RELEASE);
	intr = bg_join(true);
	stress_drain(&stress_runs[1]);
	mm_shrink(~0ul);
	in_use = kmalloc_bytes_in_use();
	held = fs_held();
	rc = stress_summary(1, bg.harts, bg.ops, true,
			    (int64_t)(in_use - bg.in_use) - (int64_t)(held - bg.fs_held),
			    mm_check() == 0);
	bg.on = false;
	if (rc == SH_INTERRUPTED && !intr)
		rc = 0;   /* stopped as asked: not the command's interruption */
	return rc;
}

int stress_bg_command(const char *what)
{
	if (!strcmp(what, "status"))
		return bg_status();
	if (!bg.on) {
		kprintf("mmstress: %s: no background mmstress runs (mmstress [ops] [seed] "
			"[harts=N] bg starts one)\n", what);
		return -1;
	}
	return bg_collect(!strcmp(what, "stop"));
}
