/* cmd_system.c - the basic commands: help, echo, version, uptime,
 * poweroff, crash (deliberate faults, to see the trap report), selftest. */
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/console.h"
#include "kernel/crash.h"
#include "kernel/smp.h"
#include "kernel/ktest.h"
#include "kernel/power.h"
#include "kernel/timer.h"
#include "kernel/version.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/slab.h"

extern const struct sh_cmd _shcmd_start[], _shcmd_end[];

static int cmd_help(int argc, char **argv)
{
	if (argc > 2)
		return SH_USAGE;
	if (argc == 2) {
		const struct sh_cmd *c = sh_find(argv[1]);

		if (!c) {
			kprintf("unknown command: %s\n", argv[1]);
			return -1;
		}
		kprintf("%s - %s\n", c->name, c->help);
		sh_print_usage(c);
		return 0;
	}
	for (const struct sh_cmd *c = _shcmd_start; c < _shcmd_end; c++)
		kprintf("  %-10s %s\n", c->name, c->help);
	return 0;
}
SH_COMMAND("help", "[command]", "list commands, or show one command's usage", cmd_help);

static int cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		kprintf("%s%s", argv[i], i + 1 < argc ? " " : "");
	kprintf("\n");
	return 0;
}
SH_COMMAND("echo", "[text...]", "print the arguments", cmd_echo);

/* Numbered like bash's `history`: from 1, the oldest remembered first. */
static int cmd_history(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return SH_USAGE;
	for (int n = 0; n < rl_history_count(); n++) {
		const char *line = rl_history_entry(n);

		if (line)
			kprintf("%5d  %s\n", n + 1, line);
	}
	return 0;
}
SH_COMMAND("history", "", "list the remembered command lines", cmd_history);

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return SH_USAGE;
	kprintf("%s\n", TALLY_VERSION_STRING);
	return 0;
}
SH_COMMAND("version", "", "print the kernel version", cmd_version);

static int cmd_uptime(int argc, char **argv)
{
	uint64_t us = uptime_us();

	(void)argv;
	if (argc != 1)
		return SH_USAGE;
	kprintf("uptime: %lu.%03lu s\n", (unsigned long)(us / 1000000),
		(unsigned long)(us / 1000 % 1000));
	kprintf("ticks: %lu\n", (unsigned long)timer_ticks());
	kprintf("boot_instructions: %lu (exact under -icount; host clock otherwise)\n",
		(unsigned long)boot_instret);
	return 0;
}
SH_COMMAND("uptime", "", "time since boot and timer ticks", cmd_uptime);

static int cmd_poweroff(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return SH_USAGE;
	poweroff();
}
SH_COMMAND("poweroff", "", "shut the machine down (QEMU exits 0)", cmd_poweroff);

struct crash_req {
	const char *kind;
	int rc;
};

static void crash_call(void *arg)
{
	struct crash_req *r = arg;

	r->rc = crash(r->kind);   /* returns only for an unknown kind */
}

/* crash KIND [HART]: on this hart, or on hart index HART through
 * smp_call (the report then names that hart). */
static int cmd_crash(int argc, char **argv)
{
	struct crash_req r = { argc > 1 ? argv[1] : NULL, 0 };
	uint64_t hart = 0;
	int rc;

	if (argc < 2 || argc > 3)
		return SH_USAGE;
	if (argc == 2)
		return crash(argv[1]), SH_USAGE;
	if (sh_parse_u64(argv[2], &hart) || hart >= nharts || harts[hart].state != HART_ONLINE) {
		kprintf("crash: no hart %s online (harts lists them)\n", argv[2]);
		return 1;
	}
	rc = smp_call((unsigned)hart, crash_call, &r);
	if (rc == -EBUSY)
		kprintf("crash: hart %lu is busy with another cross-hart call (a background "
			"mmstress runs there until mmstress wait or stop)\n", (unsigned long)hart);
	else if (rc)
		kprintf("crash: hart %lu: error %d\n", (unsigned long)hart, rc);
	return r.rc ? SH_USAGE : 1;
}
SH_COMMAND("crash", CRASH_KINDS " [hart]",
	   "fault or panic on purpose (on hart index HART) to show the report", cmd_crash);

static const char *const hart_states[] = {
	"absent", "starting", "online", "failed", "stopped"
};

/* cache_allocs: allocations its own caches served with no shared lock --
 * objects from its magazines, blocks from its page lists (memstat pcp has
 * both). */
static int cmd_harts(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return SH_USAGE;
	kprintf("%-5s %-5s %-8s %10s %8s %12s\n", "hart", "id", "state", "ticks", "calls",
		"cache_allocs");
	for (unsigned i = 0; i < nharts; i++) {
		struct buddy_pcp_stats p;
		struct kmem_cpu_stats m;

		buddy_pcp_get(i, &p);
		kmem_cache_cpu_stats(i, &m);
		kprintf("%-5u %-5lu %-8s %10lu %8lu %12lu\n", i, harts[i].hartid,
			hart_states[harts[i].state], (unsigned long)harts[i].ticks,
			harts[i].calls, m.allocs + p.allocs);
	}
	return 0;
}
SH_COMMAND("harts", "", "each hart: index, id, state, ticks, calls run, allocations "
	   "its caches served", cmd_harts);

static int cmd_selftest(int argc, char **argv)
{
	int failed;

	if (argc > 2)
		return SH_USAGE;
	if (argc == 2 && !strcmp(argv[1], "list")) {
		ktest_list();
		return 0;
	}
	if (sh_bg_stress_refuse("selftest", "the suites compare free pages before and after, "
				"inject failures on every hart and run work on the other harts"))
		return -1;
	failed = ktest_run(argc == 2 ? argv[1] : "all");
	if (failed == KTEST_INTERRUPTED)
		return SH_INTERRUPTED;
	if (failed < 0) {
		kprintf("selftest: no suite named %s\n", argv[1]);
		return SH_USAGE;
	}
	kprintf("selftest: %s\n", failed ? "FAIL" : "PASS");
	return failed ? -1 : 0;
}
SH_COMMAND("selftest", "[list|all|SUITE]", "run the in-kernel KTAP test suites", cmd_selftest);
