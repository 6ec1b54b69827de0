/* uarena - malloc's arena grows and shrinks with use (user/lib/malloc.c,
 * common/mm_grow.h), for test_uarena.py.
 *
 *   uarena grow MIB KEEP_MIB SECONDS
 *       malloc MIB MiB in 1 MiB blocks, each page written with a pattern;
 *       say "uarena: peak pid P allocated_kib=N arena_kib=A" and wait
 *       SECONDS (yielding); free all but the first KEEP_MIB blocks; say
 *       "uarena: freed pid P kept_kib=N arena_kib=A" and wait SECONDS
 *       again; check the kept blocks' patterns, malloc and free MIB MiB
 *       once more (the freed memory comes back), then the result lines.
 *   uarena fill
 *       malloc and write 1 MiB blocks until malloc returns NULL, which must
 *       come with errno ENOMEM (growth refused: memory or commit short),
 *       then free them all and malloc 1 MiB again (if any came before):
 *       the process goes on.
 *
 * Output: key: value lines (allocated_kib, failures, mismatches), then
 * check.h's "result: PASS" (exit 0) or "result: FAIL" (exit 1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tally/malloc.h"
#include "tally/syscall.h"

#define BLOCK    (1ul << 20)
#define PAGE     4096ul
#define MAX_BLKS 4096

static unsigned char *blocks[MAX_BLKS];

static unsigned char pattern(size_t i, size_t off)
{
	return (unsigned char)(i * 7 + off / PAGE + 1);
}

static void fill(size_t i)
{
	for (size_t off = 0; off < BLOCK; off += PAGE)
		blocks[i][off] = pattern(i, off);
}

static unsigned long mismatches(size_t i)
{
	unsigned long bad = 0;

	for (size_t off = 0; off < BLOCK; off += PAGE)
		bad += blocks[i][off] != pattern(i, off);
	return bad;
}

static void hold(long seconds)
{
	struct linux_timespec start, now;

	tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &start);
	do {
		tally_syscall0(__NR_sched_yield);
		tally_syscall2(__NR_clock_gettime, LINUX_CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < seconds);
}

static int grow(size_t mib, size_t keep, long seconds)
{
	unsigned long bad = 0;
	size_t n = 0;

	while (n < mib && (blocks[n] = malloc(BLOCK)) != NULL)
		fill(n++);
	check(n == mib, "allocated %zu of %zu MiB", n, mib);
	printf("uarena: peak pid %d allocated_kib=%zu arena_kib=%zu\n", getpid(), n * BLOCK / 1024,
	       tally_malloc_arena() / 1024);
	fflush(stdout);
	hold(seconds);
	for (size_t i = keep; i < n; i++)
		free(blocks[i]);
	printf("uarena: freed pid %d kept_kib=%zu arena_kib=%zu\n", getpid(),
	       (keep < n ? keep : n) * BLOCK / 1024, tally_malloc_arena() / 1024);
	fflush(stdout);
	hold(seconds);
	for (size_t i = 0; i < keep && i < n; i++)
		bad += mismatches(i);
	for (size_t i = keep; i < n; i++) {
		check((blocks[i] = malloc(BLOCK)) != NULL, "again: block %zu", i);
		if (blocks[i])
			fill(i);
	}
	for (size_t i = 0; i < n; i++)
		bad += blocks[i] ? mismatches(i) : 0;
	for (size_t i = 0; i < n; i++)
		free(blocks[i]);
	printf("mismatches: %lu\n", bad);
	check(bad == 0, "patterns intact");
	return finish();
}

static int fill_until_null(void)
{
	size_t n = 0;
	void *again;

	errno = 0;
	while (n < MAX_BLKS && (blocks[n] = malloc(BLOCK)) != NULL)
		fill(n++);
	printf("allocated_kib: %zu\narena_kib: %zu\nerrno_enomem: %d\n", n * BLOCK / 1024,
	       tally_malloc_arena() / 1024, errno == ENOMEM);
	check(n < MAX_BLKS && errno == ENOMEM, "NULL with ENOMEM after %zu MiB", n);
	while (n)
		free(blocks[--n]);
	again = malloc(BLOCK);
	check(again != NULL || !n, "after freeing: 1 MiB again");
	free(again);
	return finish();
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "grow") && atol(argv[2]) > 0 && atol(argv[2]) <= MAX_BLKS)
		return grow((size_t)atol(argv[2]), (size_t)atol(argv[3]), atol(argv[4]));
	if (argc == 2 && !strcmp(argv[1], "fill"))
		return fill_until_null();
	fprintf(stderr, "usage: uarena grow MIB KEEP_MIB SECONDS | uarena fill\n");
	return 2;
}
