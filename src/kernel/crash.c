/* crash.c - faults made on purpose (kernel/crash.h). Each one must reach
 * the trap handler or panic(); nothing here recovers from them. */
#include <stdint.h>
#include <string.h>
#include "kernel/crash.h"
#include "kernel/power.h"
#include "kernel/proc.h"
#include "kernel/sections.h"
#include "kernel/spinlock.h"
#include "kerrno.h"

static volatile int crash_limit = 1 << 30;

/* Recurses until the stack runs into its guard page (the limit is only
 * there to tell the compiler the recursion can end). */
static int recurse_deep(int depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	if (depth >= crash_limit)
		return pad[0];
	return recurse_deep(depth + 1) + pad[0];
}

/* The kernel part of crash kstack's process: the same recursion, on its
 * kernel stack, until the guard below it (kernel/kstack.h). */
static void kstack_body(void)
{
	recurse_deep(0);
	proc_exit(proc_current(), 0);   /* not reached */
}

static int kstack_overflow(void)
{
	int status, pid = proc_start_kernel("kstack", kstack_body);

	if (pid < 0)
		return pid;
	return proc_wait_kernel(pid, &status, 0);   /* returns only if it did not */
}

static struct spinlock crash_lock = SPINLOCK_INIT("crash");

/* The second take is the recursion spinlock.c panics on; noinline (and
 * no tail call) keeps both call sites in this function for the report. */
__attribute__((noinline)) static void take_twice(void)
{
	unsigned long first = spin_lock_irqsave(&crash_lock);
	unsigned long again = spin_lock_irqsave(&crash_lock);

	spin_unlock_irqrestore(&crash_lock, again);
	spin_unlock_irqrestore(&crash_lock, first);
}

int crash(const char *kind)
{
	if (!strcmp(kind, "null"))
		return *(volatile int *)0;
	if (!strcmp(kind, "text")) {
		*(volatile uint32_t *)(uintptr_t)_text_start = 0;
		return 0;
	}
	if (!strcmp(kind, "illegal")) {
		__asm__ volatile(".word 0");
		return 0;
	}
	if (!strcmp(kind, "stack"))
		return recurse_deep(0);
	if (!strcmp(kind, "kstack"))
		return kstack_overflow();
	if (!strcmp(kind, "panic"))
		panic("crash panic: on purpose");
	if (!strcmp(kind, "lock"))
		take_twice();
	return -EINVAL;
}
