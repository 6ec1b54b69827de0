/* tap.h - a tiny TAP producer and case runner for the host unit tests.
 *
 * Each test program prints "TAP version 13", one "ok N - name" or
 * "not ok N - name" line per check, then "1..N". tests/run.py counts the
 * lines; a program that exits non-zero or crashes (ASan/UBSan abort) fails
 * as a whole. tap_seed() prints the seed a randomized test uses, so a
 * failure can be replayed.
 *
 * Cases, as the in-kernel KTAP suites have them (src/kernel/ktest.c): a
 * file lists its cases in a table and hands it to tap_run() (or the
 * whole of its main to tap_main()) with a
 * `before` hook (kunit's per-case init, ztest's `before`), typically
 * mm_host_init() on the file's arena, so every case starts from a fresh
 * system and none depends on the ones before it. Each case is announced
 * by a "# case N/M: name" comment and a failing check names its case.
 * Environment, for debugging: TAP_REVERSE=1 runs the cases last to first
 * (the isolation check), TAP_CASE=name runs only the cases whose name
 * contains `name`. */
#ifndef TALLY_TAP_H
#define TALLY_TAP_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int tap_count;
static int tap_failed;
static const char *tap_case_name;   /* the case running, NULL outside tap_run */

static inline void tap_begin(void)
{
	printf("TAP version 13\n");
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond && tap_case_name)
		printf("#   in case %s\n", tap_case_name);
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void tap_seed(const char *test, unsigned long long seed)
{
	tap_diag("%s: seed=%llu", test, seed);
}

/* The whole file at path in a malloc'd buffer with a NUL after it (for
 * text), its length in *len; NULL when it cannot be opened (an unreadable
 * tail reads as an empty file). */
static inline char *tap_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Print the plan and return the process exit status. */
static inline int tap_end(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

/* Randomized tests run an integrity check every TAP_CHECK_EVERY
 * operations (Zephyr's heap tests validate after each one; every few
 * hundred keeps `make test-host` fast). tap_check_every() runs check()
 * when op is a multiple of it and, when the check finds violations, fails
 * with the seed and the operation number. Returns the violations found
 * (0 when it did not run). */
#define TAP_CHECK_EVERY 256

static inline int tap_check_every(int (*check)(void), const char *what,
				  unsigned long long seed, long op)
{
	int v;

	if (op % TAP_CHECK_EVERY)
		return 0;
	v = check();
	if (v)
		tap_ok(0, "%s: seed=%llu op %ld: integrity check found %d violation(s)",
		       what, seed, op, v);
	return v;
}

/* A death test: fn(arg) in a child process (fork) with its stderr into
 * err (len bytes, NUL-terminated, what fits); returns the child's wait
 * status (WIFSIGNALED / WTERMSIG / WEXITSTATUS), or -1 when the pipe or
 * the fork failed. A child that returns from fn exits with 0. */
static inline int tap_death(void (*fn)(void *), void *arg, char *err, size_t len)
{
	int fds[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len && (n = read(fds[0], err + got, len - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = 0;
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* A case: fn(), or fn_arg(arg) for one function run with several
 * arguments (a mode, a seed, a table row). */
struct tap_case {
	const char *name;
	void (*fn)(void);
	void (*fn_arg)(intptr_t arg);
	intptr_t arg;
};

#define TAP_CASE(f)           { #f, f, NULL, 0 }
#define TAP_CASE_ARG(f, a)    { #f "(" #a ")", NULL, f, (intptr_t)(a) }
#define TAP_CASE_AS(n, f, a)  { n, NULL, f, (intptr_t)(a) }
#define TAP_CASES(table)      (table), (sizeof(table) / sizeof((table)[0]))

/* Run every case of a table, each after before() (when not NULL); after()
 * (when not NULL) runs once each case returns. Returns the number of
 * cases with a failing check. */
static inline int tap_run(const struct tap_case *cases, size_t n, void (*before)(void),
			  void (*after)(void))
{
	const char *only = getenv("TAP_CASE");
	const char *rev = getenv("TAP_REVERSE");
	int reverse = rev && *rev && strcmp(rev, "0");
	int bad = 0;

	if (reverse)
		tap_diag("TAP_REVERSE: cases run last to first");
	for (size_t k = 0; k < n; k++) {
		size_t i = reverse ? n - 1 - k : k;
		const struct tap_case *c = &cases[i];
		int failed = tap_failed;

		if (only && !strstr(c->name, only))
			continue;
		tap_diag("case %zu/%zu: %s", i + 1, n, c->name);
		tap_case_name = c->name;
		if (before)
			before();
		if (c->fn)
			c->fn();
		else
			c->fn_arg(c->arg);
		if (after)
			after();
		tap_case_name = NULL;
		if (tap_failed != failed) {
			tap_diag("case %s: %d check(s) failed", c->name, tap_failed - failed);
			bad++;
		}
	}
	return bad;
}

/* A test program's run and finish: "TAP version 13", every case of the
 * table (tap_run, with before and after), the plan. Returns main's exit
 * status: 0, or 1 when a check failed. */
static inline int tap_main(const struct tap_case *cases, size_t n, void (*before)(void),
			   void (*after)(void))
{
	tap_begin();
	tap_run(cases, n, before, after);
	return tap_end();
}

#endif
