/* malloctest - the allocation functions' contract (tally/malloc.h,
 * user/lib/malloc.c) in whichever mode TALLY_MODE picked: zero sizes,
 * usable sizes, calloc's zeroing and overflow, realloc's copy and its
 * zero size, posix_memalign/memalign/aligned_alloc's alignments and
 * errors, a size no memory holds. In Tally's modes also: allocating until
 * the arena is full ends in NULL with errno ENOMEM, all of it comes back
 * when freed; a free of a pointer inside a block is refused and reported
 * on stderr ("mm: ..."), the block left intact; alignments above 4096 are
 * ENOMEM. (picolibc's malloc is not asked those: it follows a bad pointer,
 * takes larger alignments, and grows until the machine is out.)
 *
 * Prints "malloctest: mode=M", a "FAIL: ..." line per broken expectation,
 * "filled_kib: N" (Tally's modes: what the arena held when it was full),
 * then "result: PASS|FAIL"; exits 0 on PASS. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tally/malloc.h"
#include "check.h"

#define FILL_BLOCK (64 * 1024)
#define FILL_MAX   4096

/* Sizes and pointers the compiler must not see through (it refuses a
 * call it can prove wrong, which is what is tested here). */
static volatile size_t huge = SIZE_MAX, half = SIZE_MAX / 2;
static void *volatile inside;

static int aligned_to(const void *p, size_t a)
{
	return p && ((uintptr_t)p & (a - 1)) == 0;
}

static void zero_sizes(void)
{
	char *a = malloc(0), *b = malloc(0);

	check(a && b && a != b, "malloc(0): two unique pointers (%p, %p)", (void *)a, (void *)b);
	free(a);
	free(b);
	free(NULL);
}

static void sizes_and_calloc(void)
{
	unsigned char *p = malloc(100), *z = calloc(1000, 8);
	size_t i;

	check(p && malloc_usable_size(p) >= 100, "malloc(100): usable size %zu",
	      p ? malloc_usable_size(p) : 0);
	for (i = 0; z && i < 8000 && !z[i]; i++)
		;
	check(z && i == 8000, "calloc(1000, 8): zeroed (byte %zu)", i);
	free(p);
	free(z);
	errno = 0;
	check(!calloc(half, 4) && errno == ENOMEM, "calloc overflowing: NULL, ENOMEM");
	errno = 0;
	check(!malloc(huge) && errno == ENOMEM, "malloc(SIZE_MAX): NULL, ENOMEM");
}

static void reallocs(void)
{
	unsigned char *p = realloc(NULL, 40), *q;
	int kept = 1;

	if (!check(p != NULL, "realloc(NULL, 40): a block"))
		return;
	for (int i = 0; i < 40; i++)
		p[i] = (unsigned char)(i * 7 + 1);
	q = realloc(p, 20000);
	for (int i = 0; q && i < 40; i++)
		kept &= q[i] == (unsigned char)(i * 7 + 1);
	check(q && kept, "realloc(p, 20000): contents moved");
	p = q ? q : p;
	q = realloc(p, 10);
	check(q && q[9] == 9 * 7 + 1, "realloc down to 10: contents kept");
	p = q ? q : p;
	check(realloc(p, 0) == NULL, "realloc(p, 0): freed, NULL");
}

static void alignments(int tally)
{
	void *p = (void *)1;
	int e;

	check(posix_memalign(&p, 24, 8) == EINVAL, "posix_memalign(24): EINVAL");
	check(posix_memalign(&p, 4, 8) == EINVAL, "posix_memalign(4): EINVAL (not a multiple of a pointer)");
	e = posix_memalign(&p, 4096, 10);
	check(e == 0 && aligned_to(p, 4096), "posix_memalign(4096, 10): %d %p", e, p);
	free(e ? NULL : p);
	p = aligned_alloc(64, 128);
	check(aligned_to(p, 64), "aligned_alloc(64, 128): %p", p);
	free(p);
	p = memalign(256, 1);
	check(aligned_to(p, 256), "memalign(256, 1): %p", p);
	free(p);
	if (!tally)
		return;
	errno = 0;
	check(!memalign(24, 8) && errno == EINVAL, "memalign(24): NULL, EINVAL");
	p = (void *)1;
	e = posix_memalign(&p, 8192, 10);
	check(e == ENOMEM && p == NULL, "posix_memalign(8192): ENOMEM (Tally aligns to 4096 at most)");
}

/* 64 KiB blocks until NULL: ENOMEM, within the arena (as it has grown
 * by then, within its bound); all back after. */
static void fill_arena(void)
{
	static void *held[FILL_MAX];
	size_t n = 0, arena;
	void *again;

	errno = 0;
	while (n < FILL_MAX && (held[n] = malloc(FILL_BLOCK)) != NULL)
		n++;
	arena = tally_malloc_arena();
	check(arena <= tally_malloc_arena_max(), "the arena (%zu KiB) within its bound (%zu KiB)",
	      arena / 1024, tally_malloc_arena_max() / 1024);
	check(n < FILL_MAX && errno == ENOMEM, "filling the arena: NULL with ENOMEM after %zu blocks", n);
	check(n > 0 && n * FILL_BLOCK <= arena, "filled %zu KiB of a %zu KiB arena",
	      n * FILL_BLOCK / 1024, arena / 1024);
	printf("filled_kib: %zu\n", n * FILL_BLOCK / 1024);
	while (n)
		free(held[--n]);
	again = malloc(FILL_BLOCK * 8);
	check(again != NULL, "after freeing everything: 512 KiB at once again");
	free(again);
}

static void bad_free(void)
{
	unsigned char *p = malloc(64);

	if (!check(p != NULL, "malloc(64)"))
		return;
	memset(p, 0x5a, 64);
	fflush(stdout);
	inside = p + 8;
	free(inside);   /* refused, reported on stderr */
	check(p[0] == 0x5a && p[63] == 0x5a && malloc_usable_size(p) >= 64,
	      "a free inside a block: refused, the block intact");
	free(p);
}

int main(void)
{
	const char *mode = tally_malloc_mode();
	int tally = strcmp(mode, "picolibc") != 0;

	printf("malloctest: mode=%s\n", mode);
	zero_sizes();
	sizes_and_calloc();
	reallocs();
	alignments(tally);
	if (tally) {
		fill_arena();
		bad_free();
	}
	return finish();
}
