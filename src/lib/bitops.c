/* bitops.c - the table behind ctz64() on cores without Zbb (lib/bitops.h).
 * index[(2^i * mul) >> 58] = i for the de Bruijn sequence mul = B(2, 6). */
#include "lib/bitops.h"

#if defined(__riscv) && !defined(__riscv_zbb)
const struct ctz64_debruijn ctz64_table = {
	.mul = 0x03f79d71b4cb0a89ull,
	.index = {
		 0,  1, 48,  2, 57, 49, 28,  3, 61, 58, 50, 42, 38, 29, 17,  4,
		62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12,  5,
		63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
		46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19,  9, 13,  8,  7,  6,
	},
};
#endif
