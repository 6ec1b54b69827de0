/* xorshift.h - the one pseudo-random generator of the tree (Marsaglia's
 * xorshift64, shifts 13/7/17): fast, deterministic for a seed on every
 * platform, which is what tests and fault injection need. Not for secrets.
 * The state must not be 0. */
#ifndef TALLY_XORSHIFT_H
#define TALLY_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

#endif
