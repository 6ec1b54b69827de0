/* iso_c.c - an ordinary ISO C program, nothing Tally-specific: built by
 * test_run.py with `build/user/tally-cc iso_c.c -o iso_c -lm` and run.
 * stdio to a file and back, formatted I/O, qsort, strtol, malloc/realloc,
 * math, errno from a failed fopen. Prints "iso_c: ..." lines and exits 0
 * when every result is the expected one. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
	int v[] = { 42, 7, 19, 3, 88, 1 }, bad = 0;
	char line[64], *grow = NULL;
	FILE *f;

	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), cmp);
	printf("iso_c: sorted %d %d %d %d %d %d\n", v[0], v[1], v[2], v[3], v[4], v[5]);
	printf("iso_c: strtol %ld\n", strtol("-0x7f", NULL, 16));
	printf("iso_c: sqrt2 %.6f\n", sqrt(2.0));
	for (int i = 1; i <= 10; i++) {
		char *p = realloc(grow, (size_t)i * 1000);
		if (!p)
			return 2;
		grow = p;
		memset(grow + (i - 1) * 1000, 'a' + i, 1000);
	}
	bad += grow[0] != 'b' || grow[9999] != 'k';
	free(grow);
	if (argc > 1 && (f = fopen(argv[1], "r"))) {
		if (fgets(line, sizeof(line), f))
			printf("iso_c: first line %s", line);
		fseek(f, 0, SEEK_END);
		printf("iso_c: size %ld\n", ftell(f));
		fclose(f);
	}
	errno = 0;
	f = fopen("/no/such/file", "r");
	printf("iso_c: fopen missing %s errno %s\n", f ? "opened" : "NULL",
	       errno == ENOENT ? "ENOENT" : "other");
	fprintf(stderr, "iso_c: to stderr\n");
	return bad;
}
