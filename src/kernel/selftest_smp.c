/* selftest_smp.c - the "smp" KTAP suite: every hart of the device tree is
 * online with its own stacks and tick, smp_call reaches each one (and
 * refuses what it must), and the ticket lock keeps a shared count exact
 * while every hart hammers it at once. Meaningful with -smp 2..8; with one
 * hart the cross-hart cases are skipped. Nothing here allocates: secondary
 * harts do not touch mm yet (smp.c). */
#include <stddef.h>
#include "kernel/ktest.h"
#include "kernel/platform.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "arch/riscv.h"
#include "kerrno.h"

static void whoami(void *arg)
{
	unsigned *out = arg;
	uintptr_t sp;

	__asm__ volatile("mv %0, sp" : "=r"(sp));
	out[0] = this_hart()->index;
	out[1] = sp <= hart_boot_stack_top(out[0]) &&
		 sp > hart_boot_stack_top(out[0]) - HART_BOOT_STACK;
}

static void test_online(struct ktest *t)
{
	unsigned want = platform.ncpus < HART_MAX ? (unsigned)platform.ncpus : HART_MAX;

	KT_EXPECT(t, nharts == want);
	for (unsigned i = 0; i < nharts; i++)
		KT_EXPECT(t, harts[i].state == HART_ONLINE && harts[i].index == i);
	KT_EXPECT(t, this_hart() == &harts[0]);
}

/* Each hart runs the call itself, on its own boot stack. */
static void test_call_each(struct ktest *t)
{
	for (unsigned i = 0; i < nharts; i++) {
		unsigned got[2] = { ~0u, 0 };

		KT_EXPECT(t, smp_call(i, whoami, got) == 0);
		KT_EXPECT(t, got[0] == i && got[1]);
	}
}

static void test_call_refused(struct ktest *t)
{
	unsigned got[2];

	KT_EXPECT(t, smp_call(nharts, whoami, got) == -EINVAL);
	KT_EXPECT(t, smp_call(HART_MAX + 5, whoami, got) == -EINVAL);
	KT_EXPECT(t, smp_post(0, whoami, got) == -EINVAL);   /* itself */
	KT_EXPECT(t, smp_wait(0, 1) == -EINVAL);             /* nothing posted */
	if (nharts < 2) {
		KT_SKIP(t, "one hart");
		return;
	}
	KT_EXPECT(t, smp_post(1, whoami, got) == 0);
	KT_EXPECT(t, smp_post(1, whoami, got) == -EBUSY);
	KT_EXPECT(t, smp_wait(1, 1000) == 0 && got[0] == 1);
}

static void test_ticks(struct ktest *t)
{
	uint64_t before[HART_MAX], until = rdtime() + platform.timebase_hz / 10;

	for (unsigned i = 0; i < nharts; i++)
		before[i] = harts[i].ticks;
	while (rdtime() < until)
		wfi();
	for (unsigned i = 0; i < nharts; i++)
		KT_EXPECT(t, harts[i].ticks > before[i]);
}

/* Takes of the lock, shared among the harts: with more harts than host
 * cores (QEMU's harts are host threads), each hand-over of a ticket lock
 * may wait for the host to schedule the next ticket's hart. */
#define HAMMER_TOTAL 4000

static struct spinlock hammer_lock = SPINLOCK_INIT("hammer");
static volatile unsigned long hammer_count;
static volatile int hammer_go;

static void hammer(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&hammer_go, __ATOMIC_ACQUIRE))
		;
	for (unsigned i = 0; i < HAMMER_TOTAL / nharts; i++) {
		unsigned long f = spin_lock_irqsave(&hammer_lock);

		hammer_count = hammer_count + 1;   /* not atomic: the lock makes it exact */
		spin_unlock_irqrestore(&hammer_lock, f);
	}
}

/* Every hart at once: the count is exact and the lock ends free. */
static void test_lock_hammer(struct ktest *t)
{
	unsigned posted = 0;

	hammer_count = 0;
	hammer_go = 0;
	for (unsigned i = 1; i < nharts; i++)
		posted += smp_post(i, hammer, NULL) == 0;
	KT_EXPECT(t, posted == nharts - 1);
	__atomic_store_n(&hammer_go, 1, __ATOMIC_RELEASE);
	hammer(NULL);
	for (unsigned i = 1; i < nharts; i++)
		KT_EXPECT(t, smp_wait(i, 30000) == 0);
	KT_EXPECT(t, hammer_count == (unsigned long)(HAMMER_TOTAL / nharts) * (posted + 1));
	KT_EXPECT(t, hammer_lock.holder == -1 && hammer_lock.next == hammer_lock.serving);
}

static const struct ktest_case smp_cases[] = {
	{ "all_harts_online", test_online },
	{ "call_runs_on_each_hart", test_call_each },
	{ "call_refusals", test_call_refused },
	{ "every_hart_ticks", test_ticks },
	{ "lock_exact_under_contention", test_lock_hammer },
};
KTEST_SUITE(smp_suite, "smp", smp_cases);
