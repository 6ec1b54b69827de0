/* bitops.h - bit tricks shared by the kernel and the host builds. */
#ifndef TALLY_LIB_BITOPS_H
#define TALLY_LIB_BITOPS_H

#include <stddef.h>
#include <stdint.h>

/* x rounded up to a multiple of a (a power of two). */
static inline size_t round_up(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

#if defined(__riscv) && !defined(__riscv_zbb)
/* No count-trailing-zeros instruction (and no libgcc to call): a de Bruijn
 * sequence maps each isolated bit to a distinct top-6-bit pattern. The
 * multiplier sits in memory next to its table so it costs one load rather
 * than an eight-instruction constant. */
struct ctz64_debruijn {
	uint64_t mul;
	uint8_t index[64];
};
extern const struct ctz64_debruijn ctz64_table;

/* Index of the lowest set bit of x; x must not be 0. */
static inline unsigned ctz64(uint64_t x)
{
	const struct ctz64_debruijn *t = &ctz64_table;

	return t->index[((x & -x) * t->mul) >> 58];
}
#else
static inline unsigned ctz64(uint64_t x)
{
	return (unsigned)__builtin_ctzll(x);
}
#endif

/* Set bits of x (no libgcc in the kernel, no Zbb: a loop that clears the
 * lowest set bit; for counting, not for hot paths). */
static inline unsigned popcount64(uint64_t x)
{
	unsigned n = 0;

	for (; x; x &= x - 1)
		n++;
	return n;
}

#endif
