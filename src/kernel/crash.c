/* crash.c - faults made on purpose (kernel/crash.h). Each one must reach
 * the trap handler or panic(); nothing here recovers from them. */
#include <stdint.h>
#include <string.h>
#include "kernel/crash.h"
#include "kernel/power.h"
#include "kernel/sections.h"
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
	if (!strcmp(kind, "panic"))
		panic("crash panic: on purpose");
	return -EINVAL;
}
