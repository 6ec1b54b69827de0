/* brk.c - the program break: brk(2) and sbrk(3) over Linux's brk call,
 * which returns the break after the call (the old one when it could not
 * move). picolibc's malloc grows through sbrk. The break starts at the
 * page after bss (user.ld's _end); the kernel decides how far it may go. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "tally/syscall.h"

static uintptr_t cur_brk;

/* Set the break to `addr`. 0, or -1 with errno ENOMEM when the kernel
 * left it where it was. */
int brk(void *addr)
{
	uintptr_t got = (uintptr_t)tally_syscall1(__NR_brk, addr);

	cur_brk = got;
	if (got != (uintptr_t)addr) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Move the break by `incr` bytes (negative shrinks). Returns the old
 * break, or (void *)-1 with errno ENOMEM (no room, or the sum would wrap). */
void *sbrk(ptrdiff_t incr)
{
	uintptr_t old, want;

	if (!cur_brk)
		cur_brk = (uintptr_t)tally_syscall1(__NR_brk, 0);
	old = cur_brk;
	if (incr == 0)
		return (void *)old;
	want = old + (uintptr_t)incr;
	if ((incr > 0 && want < old) || (incr < 0 && want > old)) {
		errno = ENOMEM;
		return (void *)-1;
	}
	if (brk((void *)want) < 0)
		return (void *)-1;
	return (void *)old;
}
