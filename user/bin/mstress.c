/* mstress - malloc stress with pattern checks: a fixed-seed random mix of
 * malloc, calloc, realloc, posix_memalign and free over up to 512 live
 * blocks of 1 byte to 64 KiB (one in 32 up to 1 MiB). Every block holds a
 * pattern derived from its slot and generation, checked before it is freed
 * or resized and after realloc (the old prefix must survive); calloc's
 * memory must read zero; aligned blocks must be aligned.
 *
 *   mstress [ops] [seed]        defaults: 20000 ops, seed 1
 *
 * Prints "mstress: mode=M ops=N seed=S" (M: the allocator serving malloc,
 * chosen by TALLY_MODE: simple, twotier, hybrid or picolibc; see
 * tally/malloc.h) then "arena_kib: N" (Tally's modes: the arena malloc
 * runs in; 0 under picolibc), "live_peak_kib: N", "failures: N"
 * (allocations refused: counted, not errors), "mismatches: N",
 * "result: PASS|FAIL". Exits 0 on PASS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tally/malloc.h"
#include "check.h"

#define SLOTS 512

struct slot {
	unsigned char *p;
	size_t size;
	uint32_t gen;
};

static struct slot slots[SLOTS];
static uint64_t rng_state;
static size_t live, live_peak;
static unsigned long mismatches, refused;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned char pat(size_t slot, uint32_t gen, size_t i)
{
	return (unsigned char)((slot * 131 + gen * 7 + i * 13) ^ (i >> 8));
}

static void fill(size_t s, size_t from)
{
	for (size_t i = from; i < slots[s].size; i++)
		slots[s].p[i] = pat(s, slots[s].gen, i);
}

static int verify(size_t s, size_t upto)
{
	for (size_t i = 0; i < upto; i++)
		if (slots[s].p[i] != pat(s, slots[s].gen, i)) {
			mismatches++;
			check(0, "slot %zu size %zu: byte %zu is %#x, not %#x", s, slots[s].size, i,
			      slots[s].p[i], pat(s, slots[s].gen, i));
			return 0;
		}
	return 1;
}

static size_t pick_size(void)
{
	if (rng() % 32 == 0)
		return 1 + rng() % (1 << 20);
	return 1 + rng() % (rng() % 4 ? 256 : 65536);
}

static void release(size_t s)
{
	verify(s, slots[s].size);
	free(slots[s].p);
	live -= slots[s].size;
	slots[s].p = NULL;
}

static void allocate(size_t s)
{
	size_t size = pick_size();
	unsigned kind = rng() % 4;
	void *p = NULL;

	if (kind == 0) {
		p = calloc(1, size);
		for (size_t i = 0; p && i < size; i++)
			if (((unsigned char *)p)[i]) {
				check(0, "calloc(%zu): byte %zu not zero", size, i);
				break;
			}
	} else if (kind == 1) {
		size_t align = (size_t)16 << (rng() % 8);
		if (posix_memalign(&p, align, size))
			p = NULL;
		check(!p || ((uintptr_t)p & (align - 1)) == 0, "posix_memalign(%zu): %p", align, p);
	} else {
		p = malloc(size);
	}
	if (!p) {
		refused++;
		return;
	}
	slots[s] = (struct slot){ p, size, slots[s].gen + 1 };
	live += size;
	fill(s, 0);
}

static void resize(size_t s)
{
	size_t size = pick_size(), keep = size < slots[s].size ? size : slots[s].size;
	unsigned char *p;

	verify(s, slots[s].size);
	p = realloc(slots[s].p, size);
	if (!p) {
		refused++;
		return;
	}
	slots[s].p = p;
	verify(s, keep);
	live += size - slots[s].size;
	slots[s].size = size;
	fill(s, keep);
}

int main(int argc, char **argv)
{
	unsigned long ops = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	unsigned long seed = argc > 2 ? strtoul(argv[2], NULL, 0) : 1;

	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	printf("mstress: mode=%s ops=%lu seed=%lu\n", tally_malloc_mode(), ops, seed);
	for (unsigned long op = 0; op < ops && !mismatches; op++) {
		size_t s = rng() % SLOTS;
		if (!slots[s].p)
			allocate(s);
		else if (rng() % 3 == 0)
			resize(s);
		else
			release(s);
		if (live > live_peak)
			live_peak = live;
	}
	for (size_t s = 0; s < SLOTS; s++)
		if (slots[s].p)
			release(s);
	printf("arena_kib: %zu\n", tally_malloc_arena() / 1024);
	printf("live_peak_kib: %zu\nfailures: %lu\nmismatches: %lu\n", live_peak / 1024, refused,
	       mismatches);
	return finish();
}
