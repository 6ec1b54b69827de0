/* ustack.c - the initial user stack (include/proc/ustack.h).
 *
 * Two passes: measure (every string bounded, every sum checked against
 * the limits before it can wrap), then write top down: end marker,
 * strings, AT_RANDOM's bytes, the pointer table at the 16-byte aligned
 * sp. Every word is stored little-endian byte by byte (lib/le.h), so the
 * host build lays out exactly what the rv64 kernel does. */
#include "proc/ustack.h"
#include "kerrno.h"
#include "lib/le.h"
#include <string.h>

#define USTACK_END_MARKER 8u

/* Bytes of s before its NUL, or USTACK_ARG_MAX + 1 when longer. */
static size_t ustack_strlen(const char *s)
{
	size_t n = 0;

	while (n <= USTACK_ARG_MAX && s[n])
		n++;
	return n;
}

/* Bytes the strings of v[0..n) take with their NULs, added to *total;
 * -EINVAL for a NULL string, -E2BIG past the limits. */
static int ustack_measure(const char *const *v, unsigned n, uint64_t *total)
{
	if (n && !v)
		return -EINVAL;
	if (n > USTACK_ARG_MAX / sizeof(uint64_t))
		return -E2BIG;
	for (unsigned i = 0; i < n; i++) {
		size_t len;

		if (!v[i])
			return -EINVAL;
		len = ustack_strlen(v[i]);
		if (len > USTACK_ARG_MAX)
			return -E2BIG;
		*total += len + 1 + sizeof(uint64_t);   /* its bytes and its pointer */
		if (*total > USTACK_ARG_MAX)
			return -E2BIG;
	}
	return 0;
}

/* Copy v[0..n)'s strings to user address *at (buffer byte *at - base),
 * each pointer into the table at *slot; both move on. */
static void ustack_put_strings(uint8_t *buf, uint64_t base, const char *const *v, unsigned n,
			       uint64_t *at, uint64_t *slot)
{
	for (unsigned i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;

		memcpy(buf + (*at - base), v[i], len);
		put_le64(buf + (*slot - base), *at);
		*at += len;
		*slot += sizeof(uint64_t);
	}
	put_le64(buf + (*slot - base), 0);     /* the NULL after them */
	*slot += sizeof(uint64_t);
}

static void ustack_put_auxv(uint8_t *buf, uint64_t base, uint64_t slot,
			    const struct ustack_args *a, uint64_t random)
{
	const uint64_t auxv[USTACK_AUXV_PAIRS][2] = {
		{ LINUX_AT_PHDR, a->phdr }, { LINUX_AT_PHENT, a->phent },
		{ LINUX_AT_PHNUM, a->phnum }, { LINUX_AT_PAGESZ, TALLY_PAGE_SIZE },
		{ LINUX_AT_ENTRY, a->entry }, { LINUX_AT_RANDOM, random }, { LINUX_AT_NULL, 0 },
	};

	for (unsigned i = 0; i < USTACK_AUXV_PAIRS; i++, slot += 16) {
		put_le64(buf + (slot - base), auxv[i][0]);
		put_le64(buf + (slot - base) + 8, auxv[i][1]);
	}
}

/* Where everything goes below top, or -E2BIG when it passes size. */
static int ustack_plan(const struct ustack_args *a, uint64_t strbytes, size_t size,
		       uint64_t top, struct ustack_layout *l)
{
	uint64_t words = 1 + (a->argc + 1ull) + (a->envc + 1ull) + 2ull * USTACK_AUXV_PAIRS;

	l->strings = top - USTACK_END_MARKER - strbytes;
	l->random = (l->strings - 16) & ~15ull;
	l->sp = (l->random - words * sizeof(uint64_t)) & ~15ull;
	l->used = top - l->sp;
	if (l->used > size)
		return -E2BIG;
	l->argv = l->sp + 8;
	l->envp = l->argv + 8 * (a->argc + 1ull);
	l->auxv = l->envp + 8 * (a->envc + 1ull);
	return 0;
}

int ustack_build(void *buf, size_t size, uint64_t top, const struct ustack_args *a,
		 struct ustack_layout *out)
{
	uint64_t total = 0, base, at, slot;
	struct ustack_layout l;
	uint8_t *b = buf;
	int err;

	if (!buf || !a || !out || top % 16 || top < size)
		return -EINVAL;
	err = ustack_measure(a->argv, a->argc, &total);
	if (!err)
		err = ustack_measure(a->envp, a->envc, &total);
	if (err)
		return err;
	total -= (uint64_t)(a->argc + a->envc) * sizeof(uint64_t);   /* the strings alone */
	err = ustack_plan(a, total, size, top, &l);
	if (err)
		return err;
	base = top - size;
	memset(b + (l.sp - base), 0, l.used);
	put_le64(b + (l.sp - base), a->argc);
	at = l.strings;
	slot = l.argv;
	ustack_put_strings(b, base, a->argv, a->argc, &at, &slot);
	ustack_put_strings(b, base, a->envp, a->envc, &at, &slot);
	memcpy(b + (l.random - base), a->random, 16);
	ustack_put_auxv(b, base, l.auxv, a, l.random);
	*out = l;
	return 0;
}
