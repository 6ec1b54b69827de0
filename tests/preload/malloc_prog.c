/* malloc_prog.c - a program for tests/preload/test_libtally.py to run
 * under LD_PRELOAD=build/host/libtally.so (built plainly), and, built with
 * -DUSE_TALLY_API against the library's objects under AddressSanitizer,
 * calling tally_malloc & co. directly (ASan keeps the system's malloc).
 *
 *   malloc_prog api           glibc's contract of every function (malloc(3),
 *                             posix_memalign(3)...): "api: ok" or FAIL lines
 *   malloc_prog threads       8 threads, blocks handed between them and freed
 *                             by another thread, patterns checked
 *   malloc_prog fork          4 threads allocating while the main one forks
 *                             10 times; each child allocates and exits 0
 *   malloc_prog resident      400 blocks of 16..4096 bytes, half freed; then its VmHWM and
 *                             RssAnon lines (/proc/self/status)
 *   malloc_prog faultinj N    N mallocs of 64 bytes: "nulls: K", "errno: ENOMEM"
 *   malloc_prog broken        (run where the library cannot set up, e.g.
 *                             under a small RLIMIT_AS) every allocation
 *                             function fails with ENOMEM: "broken: ok"
 *   malloc_prog grow          (a growing arena) RLIMIT_DATA lowered to what
 *                             the process has, 64 KiB blocks until malloc
 *                             says NULL (the arena's growth refused),
 *                             ENOMEM; the limit back: as many blocks again
 *                             and more; every block's pattern intact:
 *                             "grow: N refused, M after, patterns ok"
 *   malloc_prog huge          realloc of blocks over 2 MiB: grown, shrunk in place,
 *                             moved, with mremap refused (this program's own
 *                             mremap, which the library's calls reach, says
 *                             ENOMEM on demand) and with the address space
 *                             full (RLIMIT_AS): "huge: ok" or FAIL lines
 *   malloc_prog calloc        calloc of 300 KiB (mapped), freed, again (from the
 *                             arena now: the threshold rose), then 400 KiB
 *                             (mapped), the last two kept: each zeroed even
 *                             where a dirty block was; "calloc: ok"
 *   malloc_prog double|interior|stack|realloc
 *                             a wrong free (a block twice, a pointer inside
 *                             a block, a stack address, a realloc of a
 *                             stack address; "freeing PTR" on stderr
 *                             first), then "survived"
 * Exit status 0 when every check held. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* mremap's flags */
#endif
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef USE_TALLY_API
#include "preload/libtally.h"
#define M(n) tally_malloc(n)
#define F(p) tally_free(p)
#define C(n, s) tally_calloc(n, s)
#define R(p, n) tally_realloc(p, n)
#define RA(p, n, s) tally_reallocarray(p, n, s)
#define PM(o, a, n) tally_posix_memalign(o, a, n)
#define AA(a, n) tally_aligned_alloc(a, n)
#define MA(a, n) tally_memalign(a, n)
#define VA(n) tally_valloc(n)
#define PVA(n) tally_pvalloc(n)
#define US(p) tally_malloc_usable_size(p)
#else
#include <malloc.h>
#define M(n) malloc(n)
#define F(p) free(p)
#define C(n, s) calloc(n, s)
#define R(p, n) realloc(p, n)
#define RA(p, n, s) reallocarray(p, n, s)
#define PM(o, a, n) posix_memalign(o, a, n)
#define AA(a, n) aligned_alloc(a, n)
#define MA(a, n) memalign(a, n)
#define VA(n) valloc(n)
#define PVA(n) pvalloc(n)
#define US(p) malloc_usable_size(p)
#endif

static int failed;

#define CHECK(cond, ...) do { if (!(cond)) { failed = 1; printf("FAIL: " __VA_ARGS__); printf("\n"); } } while (0)

/* Values the compiler cannot see through: the wrong calls below are on
 * purpose. */
static size_t hide(size_t v)
{
	volatile size_t x = v;

	return x;
}

static void *hidep(void *p)
{
	void *volatile x = p;

	return x;
}

static int aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

/* ---- huge blocks: realloc over 2 MiB -------------------------------------------- */

/* volatile: realloc is declared leaf (glibc's __THROW), so the compiler
 * would take it that realloc cannot reach mremap below */
static volatile int mremap_refuse;     /* set: mremap says ENOMEM */
static volatile unsigned long mremap_calls;

/* The C library's mremap, with a switch to refuse: the library calls
 * reach this definition (the program's own symbols come first). */
void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *addr = NULL;
	va_list ap;

	mremap_calls++;
	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (mremap_refuse) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, addr);
}

static void pattern(unsigned char *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i += 4093)
		p[i] = (unsigned char)(i * 7 + 1);
	if (to)
		p[to - 1] = 0xa5;
}

/* Whether [0, n) holds pattern(0, full)'s bytes (the last one of full
 * only if it is below n). */
static int kept(const unsigned char *p, size_t n, size_t full)
{
	for (size_t i = 0; i < n && i < full; i += 4093)
		if (i != full - 1 && p[i] != (unsigned char)(i * 7 + 1))
			return 0;
	return n < full || p[full - 1] == 0xa5;
}

#define MiB ((size_t)1 << 20)

static void huge(void)
{
	unsigned char *p, *q, *r;
	unsigned long calls;
	size_t n = 3 * MiB;

	p = M(n);
	CHECK(p && US(p) >= n, "malloc(3 MiB)");
	if (!p)
		return;
	pattern(p, 0, n);
	calls = mremap_calls;
	q = R(p, 5 * MiB);   /* grown: mremap, in place or moved */
	CHECK(q && kept(q, n, n) && US(q) >= 5 * MiB && mremap_calls > calls,
	      "realloc to 5 MiB by mremap keeps the contents");
	if (!q)
		return;
	pattern(q, 0, 5 * MiB);
	r = R(q, 2 * MiB + 4096);   /* shrunk in place */
	CHECK(r == q && kept(r, 2 * MiB + 4096, 5 * MiB) && US(r) == 2 * MiB + 4096,
	      "realloc to 2 MiB + 4 KiB shrinks in place: %zu usable", r ? US(r) : 0);
	if (!r)
		return;
	q = R(r, 96 * MiB);   /* most likely moved: the pages go, not copied */
	CHECK(q && kept(q, 2 * MiB + 4096, 5 * MiB) && US(q) >= 96 * MiB,
	      "realloc to 96 MiB keeps the contents");
	if (!q)
		return;
	pattern(q, 0, 96 * MiB);
	mremap_refuse = 1;   /* refused: moved to a fresh block by copying */
	calls = mremap_calls;
	r = R(q, 100 * MiB);
	mremap_refuse = 0;
	CHECK(r && r != q && mremap_calls > calls && kept(r, 96 * MiB, 96 * MiB) &&
	      US(r) >= 100 * MiB, "mremap refused: realloc moves the block, contents kept");
	if (!r)
		return;
	pattern(r, 0, 100 * MiB);
#ifndef USE_TALLY_API   /* AddressSanitizer needs address space of its own */
	{
		struct rlimit old, lim;
		unsigned long vm = 0;
		FILE *f = fopen("/proc/self/statm", "r");

		CHECK(f && fscanf(f, "%lu", &vm) == 1, "/proc/self/statm");
		if (f)
			fclose(f);
		getrlimit(RLIMIT_AS, &old);
		lim = old;
		lim.rlim_cur = vm * (unsigned long)sysconf(_SC_PAGESIZE) + MiB;
		CHECK(setrlimit(RLIMIT_AS, &lim) == 0, "setrlimit");
		errno = 0;
		q = R(hidep(r), 1024 * MiB);   /* no room anywhere: NULL, the block untouched */
		CHECK(!q && errno == ENOMEM && kept(r, 100 * MiB, 100 * MiB) && US(r) >= 100 * MiB,
		      "realloc to 1 GiB with the address space full: NULL, ENOMEM, the block intact");
		mremap_refuse = 1;
		errno = 0;
		q = R(hidep(r), 1024 * MiB);
		mremap_refuse = 0;
		CHECK(!q && errno == ENOMEM && kept(r, 100 * MiB, 100 * MiB),
		      "... and with mremap refused too");
		setrlimit(RLIMIT_AS, &old);
	}
#endif
	q = R(hidep(r), 1000);   /* back under 2 MiB: moved into the arena */
	CHECK(q && q != r && kept(q, 1000, 100 * MiB) && US(q) >= 1000 && US(q) < 8192,
	      "realloc to 1000 bytes moves it into the arena");
	r = R(q, 4 * MiB);   /* and out again */
	CHECK(r && kept(r, 1000, 100 * MiB) && US(r) >= 4 * MiB, "realloc back to 4 MiB");
	F(r);
	printf("huge: %s\n", failed ? "FAIL" : "ok");
}

/* Whether p[0, n) is all zero. */
static int zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void callocs(void)
{
	unsigned char *m = M(300 << 10), *c1, *c2, *c3;

	if (m)
		memset(m, 0xff, 300 << 10);   /* a dirty block, freed */
	F(m);
	c1 = C(1, 300 << 10);
	CHECK(c1 && zero(c1, 300 << 10), "calloc(300 KiB) zeroed");
	if (c1)
		memset(c1, 0xee, 300 << 10);
	F(c1);
	c2 = C(300, 1 << 10);
	CHECK(c2 && zero(c2, 300 << 10), "calloc(300 KiB) again zeroed");
	c3 = C(400, 1 << 10);
	CHECK(c3 && zero(c3, 400 << 10), "calloc(400 KiB) zeroed");
	printf("calloc: %s\n", failed ? "FAIL" : "ok");   /* c2 and c3 kept to the end */
}

static void api(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	void *p, *q;
	char *s;

	for (size_t n = 0; n < 5000; n += 37) {
		p = M(n);
		CHECK(p && aligned(p, 16), "malloc(%zu) = %p: 16-aligned", n, p);
		CHECK(US(p) >= n, "malloc_usable_size %zu < %zu", US(p), n);
		memset(p, 0xab, n);
		F(p);
	}
	p = M(0);
	q = M(0);
	CHECK(p && q && p != q, "malloc(0): unique pointers");
	F(p);
	F(q);
	errno = 0;
	CHECK(C(hide(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM, "calloc overflow: NULL, ENOMEM");
	s = C(1000, 7);
	CHECK(s != NULL, "calloc");
	for (int i = 0; s && i < 7000; i++)
		if (s[i]) {
			CHECK(0, "calloc byte %d not zero", i);
			break;
		}
	F(s);
	p = M(100);
	memset(p, 0x5a, 100);
	F(p);
	s = C(100, 1);   /* may reuse that block: zero all the same */
	CHECK(s && !s[0] && !s[99], "calloc of a reused block zeroed");
	F(s);
	s = R(NULL, 50);
	CHECK(s != NULL, "realloc(NULL, 50) as malloc");
	strcpy(s, "keep me");
	s = R(s, 100000);
	CHECK(s && !strcmp(s, "keep me"), "realloc grows, contents kept");
	s = R(s, 10);
	CHECK(s && !memcmp(s, "keep me", 8), "realloc shrinks, contents kept");
	s = R(s, 10 << 20);
	CHECK(s && !memcmp(s, "keep me", 8), "realloc to 10 MiB (a mapped block), contents kept");
	memset(s + 8, 1, (10 << 20) - 8);
	s = R(s, 64);
	CHECK(s && !memcmp(s, "keep me", 8), "realloc back down, contents kept");
	errno = 0;
	CHECK(R(s, 0) == NULL, "realloc(p, 0): NULL (p freed, as glibc)");
	errno = 0;
	CHECK(RA(NULL, hide(SIZE_MAX / 4), 8) == NULL && errno == ENOMEM, "reallocarray overflow: ENOMEM");
	p = RA(NULL, 10, 10);
	CHECK(p && US(p) >= 100, "reallocarray(NULL, 10, 10)");
	F(p);
	errno = 1234;
	CHECK(PM(&p, 3, 10) == EINVAL && errno == 1234, "posix_memalign align 3: EINVAL, errno unchanged");
	CHECK(PM(&p, 4, 10) == EINVAL, "posix_memalign align 4 (not a multiple of sizeof(void *)): EINVAL");
	for (size_t a = 8; a <= (1u << 20); a <<= 1) {
		q = NULL;
		CHECK(PM(&q, a, 100) == 0 && aligned(q, a), "posix_memalign(%zu)", a);
		F(q);
		q = AA(a, 3 * a);
		CHECK(q && aligned(q, a), "aligned_alloc(%zu)", a);
		F(q);
		q = MA(a, 1);
		CHECK(q && aligned(q, a), "memalign(%zu)", a);
		F(q);
	}
	errno = 0;
	CHECK(AA(24, 10) == NULL && errno == EINVAL, "aligned_alloc(24): EINVAL");
	q = VA(10);
	CHECK(q && aligned(q, pg), "valloc: page aligned");
	F(q);
	q = PVA(pg + 1);
	CHECK(q && aligned(q, pg) && US(q) >= 2 * pg, "pvalloc rounds up to whole pages");
	F(q);
	q = M(100 << 20);   /* mapped on its own */
	CHECK(q != NULL, "malloc(100 MiB)");
	if (q) {
		memset(q, 7, 100 << 20);
		CHECK(((char *)q)[(100 << 20) - 1] == 7, "100 MiB written");
	}
	F(q);
	errno = 0;
	CHECK(M(hide(SIZE_MAX - 4096)) == NULL && errno == ENOMEM, "malloc(SIZE_MAX - 4096): NULL, ENOMEM");
	if (!failed)
		printf("api: ok\n");
}

/* Every function fails with ENOMEM (posix_memalign returns it, errno
 * kept); the null pointer's answers hold. */
static void broken(void)
{
	void *p = hidep(NULL);
	int kept;

	errno = 0;
	CHECK(M(1) == NULL && errno == ENOMEM, "malloc(1): NULL, ENOMEM");
	errno = 0;
	CHECK(M(0) == NULL && errno == ENOMEM, "malloc(0): NULL, ENOMEM");
	errno = 0;
	CHECK(C(4, 4) == NULL && errno == ENOMEM, "calloc: NULL, ENOMEM");
	errno = 0;
	CHECK(R(NULL, 64) == NULL && errno == ENOMEM, "realloc(NULL, 64): NULL, ENOMEM");
	errno = 0;
	CHECK(RA(NULL, 4, 4) == NULL && errno == ENOMEM, "reallocarray: NULL, ENOMEM");
	errno = kept = 4321;
	CHECK(PM(&p, 64, 10) == ENOMEM && errno == kept && p == NULL, "posix_memalign: ENOMEM, errno kept");
	errno = 0;
	CHECK(AA(64, 64) == NULL && errno == ENOMEM, "aligned_alloc: NULL, ENOMEM");
	errno = 0;
	CHECK(MA(64, 10) == NULL && errno == ENOMEM, "memalign: NULL, ENOMEM");
	errno = 0;
	CHECK(VA(10) == NULL && errno == ENOMEM, "valloc: NULL, ENOMEM");
	errno = 0;
	CHECK(PVA(10) == NULL && errno == ENOMEM, "pvalloc: NULL, ENOMEM");
	errno = 0;
	CHECK(M(4 << 20) == NULL && errno == ENOMEM, "malloc(4 MiB): NULL, ENOMEM (no mapping either)");
	F(NULL);
	CHECK(US(NULL) == 0, "malloc_usable_size(NULL): 0");
	if (!failed)
		printf("broken: ok\n");
}

/* VmData of /proc/self/status, in bytes (0 when unreadable). */
static size_t vm_data(void)
{
	char line[128];
	size_t kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmData: %zu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib << 10;
}

#define GROW_BLOCK ((size_t)64 << 10)
#define GROW_MAX 4096   /* 256 MiB of blocks at most */

/* Linux counts writable private memory against RLIMIT_DATA, and
 * mprotect to writable too (mm/mprotect.c): with the limit at what the
 * process has, the arena cannot grow (mm_host_grow.c's grow). */
static int grow(void)
{
	static unsigned char *blk[GROW_MAX];
	struct rlimit old, low;
	size_t n = 0, refused, bad = 0;
	int err;

	F(M(64));   /* set up first, whatever it takes */
	if (getrlimit(RLIMIT_DATA, &old) != 0)
		return 2;
	low = old;
	low.rlim_cur = vm_data();
	if (!low.rlim_cur || setrlimit(RLIMIT_DATA, &low) != 0)
		return 2;
	errno = 0;
	while (n < GROW_MAX && (blk[n] = M(GROW_BLOCK)) != NULL) {
		memset(blk[n], (int)(n & 0xff), GROW_BLOCK);
		n++;
	}
	err = errno;
	refused = n;
	if (setrlimit(RLIMIT_DATA, &old) != 0)
		return 2;
	while (n < GROW_MAX && n < 3 * refused && (blk[n] = M(GROW_BLOCK)) != NULL) {
		memset(blk[n], (int)(n & 0xff), GROW_BLOCK);
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < GROW_BLOCK; j += 512)
			bad += blk[i][j] != (unsigned char)(i & 0xff);
		F(blk[i]);
	}
	CHECK(refused > 0 && refused < GROW_MAX, "the limit refused nothing: %zu blocks", refused);
	CHECK(err == ENOMEM, "malloc's NULL with errno %d, not ENOMEM", err);
	CHECK(n == 3 * refused, "after the limit went back: %zu blocks, not %zu", n - refused, 2 * refused);
	CHECK(bad == 0, "%zu bytes lost their pattern", bad);
	printf("grow: %zu refused, %zu after, patterns %s\n", refused, n - refused, bad ? "bad" : "ok");
	return failed;
}

/* ---- threads --------------------------------------------------------------- */

#define NT 8
#define SLOTS 128
static void *_Atomic box[NT][SLOTS];
static _Atomic int bad;

static void *thread_main(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t x = 0x9e3779b97f4a7c15ull * (id + 1);

	for (int op = 0; op < 60000; op++) {
		unsigned who, slot;
		size_t n;
		unsigned char *p;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		who = (unsigned)(x >> 8) % NT;
		slot = (unsigned)(x >> 16) % SLOTS;
		n = (x >> 24) % 16 == 0 ? 5000 + (x >> 32) % 60000 : 16 + (x >> 32) % 600;   /* the length and the last byte apart */
		p = __atomic_exchange_n(&box[who][slot], NULL, __ATOMIC_ACQ_REL);
		if (p) {
			size_t len = *(size_t *)p;

			if (p[len - 1] != (unsigned char)len)
				bad++;
			F(p);
		}
		p = M(n);
		if (!p) {
			bad++;
			continue;
		}
		*(size_t *)p = n;
		p[n - 1] = (unsigned char)n;
		p = __atomic_exchange_n(&box[id][slot], p, __ATOMIC_ACQ_REL);
		F(p);
	}
	return NULL;
}

static int threads(void)
{
	pthread_t t[NT];

	for (uintptr_t i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, thread_main, (void *)i);
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NT; i++)
		for (int s = 0; s < SLOTS; s++)
			F(box[i][s]);
	printf("threads: %d bad\n", (int)bad);
	return bad != 0;
}

/* ---- fork ------------------------------------------------------------------- */

static _Atomic int stop;

static void *churn(void *arg)
{
	void *slot[16] = { 0 };
	unsigned i = (unsigned)(uintptr_t)arg;

	while (!stop) {
		i = i * 1103515245 + 12345;
		F(slot[i % 16]);
		slot[i % 16] = M(16 + i % 3000);
	}
	for (int s = 0; s < 16; s++)
		F(slot[s]);
	return NULL;
}

static int forks(void)
{
	pthread_t t[4];
	int good = 0;

	for (uintptr_t i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, churn, (void *)i);
	for (int f = 0; f < 10; f++) {
		pid_t pid;
		int st = -1;

		usleep(3000);
		pid = fork();
		if (pid == 0) {
			alarm(20);
			for (int i = 0; i < 20000; i++)
				F(M(16 + i % 4000));
			_exit(0);
		}
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			good++;
	}
	stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("forks: %d of 10 children exited 0\n", good);
	return good != 10;
}

/* What a small program costs resident: 400 blocks of 16 .. 4096 bytes,
 * sizes any allocator has a class for (so no rounding of the library's
 * counts), half freed again, then the process's own peak (VmHWM) and
 * anonymous resident memory from /proc/self/status: under glibc and
 * under the library, the difference is the library's fixed cost. */
static int resident(void)
{
	static const size_t sizes[] = { 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096 };
	static void *blk[400];
	char line[256];
	FILE *f;

	for (int i = 0; i < 400; i++) {
		size_t n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];

		blk[i] = M(n);
		if (blk[i])
			memset(blk[i], i, n);
	}
	for (int i = 0; i < 400; i += 2)
		F(blk[i]);
	f = fopen("/proc/self/status", "r");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6) || !strncmp(line, "RssAnon:", 8))
			fputs(line, stdout);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "api";
	long local;
	char *p;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(what, "api")) {
		api();
		return failed;
	}
	if (!strcmp(what, "threads"))
		return threads();
	if (!strcmp(what, "fork"))
		return forks();
	if (!strcmp(what, "broken")) {
		broken();
		return failed;
	}
	if (!strcmp(what, "grow"))
		return grow();
	if (!strcmp(what, "resident"))
		return resident();
	if (!strcmp(what, "huge")) {
		huge();
		return failed;
	}
	if (!strcmp(what, "calloc")) {
		callocs();
		return failed;
	}
	if (!strcmp(what, "faultinj") && argc > 2) {
		long n = atol(argv[2]), nulls = 0, enomem = 1;

		for (long i = 0; i < n; i++) {
			errno = 0;
			p = M(64);
			if (!p) {
				nulls++;
				enomem &= errno == ENOMEM;
			}
			F(p);
		}
		printf("nulls: %ld\nerrno: %s\n", nulls, nulls && enomem ? "ENOMEM" : "-");
		return 0;
	}
	p = M(100);
	if (!strcmp(what, "double")) {
		void *again = hidep(p);

		F(p);
		fprintf(stderr, "freeing %p\n", again);
		F(again);
	} else if (!strcmp(what, "interior")) {
		fprintf(stderr, "freeing %p\n", (void *)(p + 8));
		F(hidep(p + 8));
	} else if (!strcmp(what, "stack")) {
		fprintf(stderr, "freeing %p\n", (void *)&local);
		F(hidep(&local));
	} else if (!strcmp(what, "realloc")) {
		fprintf(stderr, "freeing %p\n", (void *)&local);
		errno = 0;
		p = R(hidep(&local), 64);
		CHECK(!p && errno == ENOMEM, "realloc of a stack address: %p, errno %d", (void *)p, errno);
	} else {
		fprintf(stderr, "usage: malloc_prog api|threads|fork|resident|huge|calloc|faultinj N|broken|grow|"
			"double|interior|stack|realloc\n");
		return 2;
	}
	printf("survived\n");
	return 0;
}
