/* segv - makes a bad access and must not survive it: the kernel kills it
 * with a report, and its exit status is 139 (128 + SIGSEGV).
 *
 *   segv [null|read|kernel|exec|stack]    default null
 *     null    store to address 0          read    load from address 0
 *     kernel  load from the kernel image (0x80200000)
 *     exec    jump to address 0           stack   unbounded recursion
 *
 * Prints "segv: KIND" before the access; a survivor prints
 * "FAIL: KIND survived" and exits 1. */
#include <stdint.h>
#include <string.h>

#include "check.h"

static volatile uintptr_t target;
/* Deeper than any stack: the recursion ends in the guard gap first. */
static volatile unsigned long depth_limit = ~0UL;

static unsigned long recurse(unsigned long n)
{
	volatile char pad[512];

	pad[0] = (char)n;
	if (n == depth_limit)
		return 0;
	return recurse(n + 1) + pad[0];
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "null";

	printf("segv: %s\n", kind);
	fflush(stdout);
	if (!strcmp(kind, "null")) {
		*(volatile int *)target = 1;
	} else if (!strcmp(kind, "read")) {
		(void)*(volatile int *)target;
	} else if (!strcmp(kind, "kernel")) {
		target = 0x80200000UL;
		(void)*(volatile int *)target;
	} else if (!strcmp(kind, "exec")) {
		((void (*)(void))target)();
	} else if (!strcmp(kind, "stack")) {
		printf("depth: %lu\n", recurse(0));
	} else {
		printf("FAIL: no kind %s\n", kind);
		return 2;
	}
	printf("FAIL: %s survived\n", kind);
	return 1;
}
