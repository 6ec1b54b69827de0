/* kmalloc_window.c - kmalloc's failure window: how many of the requests
 * of about the last KMALLOC_WINDOW_MS failed (mm/kmalloc.h).
 *
 * A checkpoint records, at some moment, kmalloc's request count and the
 * window's failure count; the window is everything since the newest
 * checkpoint at least KMALLOC_WINDOW_MS old (or the oldest there is). One
 * is taken when a second has begun since the last -- on a failure, a read
 * or a kmalloc_tick() -- so with the kernel's tick the window is
 * the last 10 s to within a second, and without ticks (the host) it says
 * how long it really spans. Nothing is recorded on the fast paths. All
 * with the mm lock held; kmalloc.c supplies the request count. */
#include <string.h>
#include "mm/mm_env.h"
#include "kmalloc_internal.h"

#define CP_SLOTS 16   /* > KMALLOC_WINDOW_MS in seconds + 1: the start survives */

struct checkpoint {
	unsigned long long ms;
	uint64_t requests, failures;
};

static struct checkpoint cp[CP_SLOTS];
static unsigned cp_next, cp_count;
static uint64_t failures;   /* noted, less those forgotten */
/* The second of the newest checkpoint, plus 1 (0: none): km_window_due
 * reads it without the lock (kmalloc_tick), so it is one word, atomic. */
static unsigned long long cp_sec;

bool km_window_due(unsigned long long now)
{
	return __atomic_load_n(&cp_sec, __ATOMIC_RELAXED) != now / 1000 + 1;
}

void km_window_note(unsigned long long now, uint64_t requests)
{
	if (!km_window_due(now))
		return;
	cp[cp_next] = (struct checkpoint){ now, requests, failures };
	cp_next = (cp_next + 1) % CP_SLOTS;
	if (cp_count < CP_SLOTS)
		cp_count++;
	__atomic_store_n(&cp_sec, now / 1000 + 1, __ATOMIC_RELAXED);
}

void km_window_reset(void)
{
	memset(cp, 0, sizeof(cp));
	cp_next = cp_count = 0;
	__atomic_store_n(&cp_sec, 0, __ATOMIC_RELAXED);
	failures = 0;
	km_window_note(mm_clock_ms(), 0);
}

void km_window_fail(void)
{
	failures++;
}

/* The window's start for now: the newest checkpoint at least
 * KMALLOC_WINDOW_MS old, else the oldest (there is always one). */
static const struct checkpoint *cp_window_start(unsigned long long now)
{
	for (unsigned i = 1; i <= cp_count; i++) {
		const struct checkpoint *c = &cp[(cp_next + CP_SLOTS - i) % CP_SLOTS];

		if (c->ms + KMALLOC_WINDOW_MS <= now)
			return c;
	}
	return &cp[(cp_next + CP_SLOTS - cp_count) % CP_SLOTS];
}

void km_window_get(uint64_t requests, struct kmalloc_window *out)
{
	unsigned long long now = mm_clock_ms();
	const struct checkpoint *start;

	km_window_note(now, requests);
	start = cp_window_start(now);
	out->ms = now - start->ms;
	out->requests = requests - start->requests;
	out->failures = failures - start->failures;
}

void km_window_forget(uint64_t n)
{
	failures = n < failures ? failures - n : 0;
	for (unsigned i = 0; i < CP_SLOTS; i++)   /* taken meanwhile: count none */
		if (cp[i].failures > failures)
			cp[i].failures = failures;
}
