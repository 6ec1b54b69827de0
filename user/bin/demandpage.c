/* demandpage - touches sparse pages of a large anonymous mapping: with
 * demand paging only the touched pages ever get frames. Maps MIB MiB
 * (default 64) PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, then in a
 * fixed pseudo-random order touches one page in every STRIDE (default
 * 16): each must read zero before its first write, then gets its page
 * number written at both ends; all are read back, an untouched page must
 * still read zero, and the mapping is unmapped.
 *
 *   demandpage [mib] [stride]
 *
 * Prints "demandpage: mapped_kib=N stride=S", "touched: N",
 * "zero_before_write: ok|bad", "patterns: ok|bad", "result: PASS|FAIL". */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"

#define PAGE 4096UL

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	size_t stride = argc > 2 ? strtoul(argv[2], NULL, 0) : 16;
	size_t pages = mib * 256, touched = 0, zero_bad = 0, pat_bad = 0;
	unsigned char *map;

	if (!check(mib > 0 && stride > 0 && pages / stride > 1, "bad arguments"))
		return finish();
	printf("demandpage: mapped_kib=%zu stride=%zu\n", pages * 4, stride);
	map = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!check(map != MAP_FAILED, "mmap %zu KiB: errno %d", pages * 4, errno))
		return finish();
	/* Visit the touched pages k*stride in the order of a multiplicative
	 * walk over k, so neighbours are not touched one after another. */
	size_t n = pages / stride, step = 7919 % n;
	while (step == 0 || gcd(step, n) != 1)
		step = (step + 1) % n;
	for (size_t i = 0, k = 0; i < n; i++, k = (k + step) % n) {
		uint64_t *first = (uint64_t *)(map + k * stride * PAGE);
		uint64_t *last = (uint64_t *)(map + (k * stride + 1) * PAGE) - 1;
		if (*first || *last)
			zero_bad++;
		*first = *last = k * stride;
		touched++;
	}
	for (size_t k = 0; k < n; k++) {
		uint64_t *first = (uint64_t *)(map + k * stride * PAGE);
		uint64_t *last = (uint64_t *)(map + (k * stride + 1) * PAGE) - 1;
		if (*first != k * stride || *last != k * stride)
			pat_bad++;
	}
	check(*(volatile uint64_t *)(map + PAGE) == 0, "an untouched page is not zero");
	printf("touched: %zu\nzero_before_write: %s\npatterns: %s\n", touched,
	       zero_bad ? "bad" : "ok", pat_bad ? "bad" : "ok");
	check(!zero_bad, "%zu pages not zero at first touch", zero_bad);
	check(!pat_bad, "%zu pages lost their pattern", pat_bad);
	check(munmap(map, pages * PAGE) == 0, "munmap: errno %d", errno);
	return finish();
}
