/* libtally.c - Tally's allocators as the C library's malloc:
 * build/host/libtally.so (make host-malloc), for LD_PRELOAD.
 *
 * Every allocation function of C and POSIX, with glibc's semantics
 * (malloc(3), posix_memalign(3), malloc_usable_size(3)), over the mm stack
 * of src/mm compiled for the host: kmalloc's fast paths (kmem_try_alloc for
 * alignments over 16), kfree, krealloc, in the mode TALLY_MODE names, in an arena that grows from the system as it
 * fills (mm_host_init_growing: address space reserved, frames hot-added as
 * needed), on kmalloc's fine size classes (mm/kmalloc.h,
 * KMALLOC_CLASSES_FINE: four a doubling up to 32 KiB, as jemalloc's and
 * mimalloc's, where the kernel's Linux table would grant a 4.4 KiB block
 * 8 KiB and a 260-byte one 512). Blocks over HUGE_MIN (2 MiB) are mapped
 * on their own, as glibc maps blocks over its mmap threshold, and unmapped when freed; a table
 * of them (huge_*) says which pointers they are, so nothing is trusted
 * that was not handed out.
 *
 * Set-up happens at the first call, in whatever thread makes it (the
 * dynamic loader's, usually, before main): the environment is read once,
 * the arena reserved, the fork handlers registered. Calls made while it
 * runs (by the C library, for the very things set-up uses) are served
 * from a small static area (boot_*) whose blocks are never reused, and
 * whose frees are accepted and ignored.
 *
 * Configuration, read once (bad values: one line on stderr, the default
 * kept):
 *   TALLY_MODE=simple|twotier|hybrid   (default hybrid)
 *   TALLY_STATS=1                      a memstat-style summary on stderr at exit
 *   TALLY_FAULTINJ=probability=P,interval=N,times=N,seed=N
 *                                      the kernel's failslab-style knobs
 *                                      (mm/faultinj.h): malloc returns NULL
 *   TALLY_BAD_FREE=abort|report        (default abort) what a wrong free or a
 *                                      corruption the allocator finds does
 *                                      after its report: abort, as glibc
 *                                      does, or count it and go on */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/fork.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "mm/stats.h"
#include "../host/mm_host.h"
#include "preload/libtally.h"

#define ALIGN 16                          /* every block's alignment at least */
#define HUGE_MIN ((size_t)2 << 20)        /* larger: mapped on its own */
#define CALLOC_MAP_MIN ((size_t)128 << 10) /* calloc: from here, mapped (below) */
#define INITIAL ((size_t)4 << 20)         /* the arena's first usable part: one MAX_ORDER block (its 1,024 frames' entries, 48 KiB, are written at set-up) */
#define RESERVE_MIN ((size_t)64 << 20)

/* ---- state ---------------------------------------------------------------- */

enum { TL_UNSET, TL_SETTING_UP, TL_READY, TL_BROKEN };

static int tl_state;                  /* atomic */
static pthread_t tl_setter;           /* the thread setting up (atomic) */
static int tl_mode = MM_MODE_HYBRID;
static uintptr_t arena_lo, arena_hi;  /* the arena's reservation: not a huge block
				       * (set before tl_state is READY, read
				       * relaxed: 0 until then, so in no arena) */
static bool tl_stats, tl_bad_free_report;

/* ---- the boot area: calls made during set-up ------------------------------ */

static _Alignas(ALIGN) unsigned char boot_area[64 << 10];
static size_t boot_used;              /* under tl_state == TL_SETTING_UP only */

static bool is_boot(const void *p)
{
	return (const unsigned char *)p >= boot_area &&
	       (const unsigned char *)p < boot_area + sizeof(boot_area);
}

/* A block of the boot area: its size in the 16 bytes before it. */
static void *boot_alloc(size_t n)
{
	size_t need = ALIGN + ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1));
	unsigned char *p;

	if (n > sizeof(boot_area) || need > sizeof(boot_area) - boot_used) {
		errno = ENOMEM;
		return NULL;
	}
	p = boot_area + boot_used;
	boot_used += need;
	*(size_t *)p = n;
	return p + ALIGN;
}

static size_t boot_size(const void *p)
{
	return *(const size_t *)((const unsigned char *)p - ALIGN);
}

/* ---- huge blocks: mapped one by one, known by a table --------------------- */

struct huge {
	uintptr_t addr;       /* the block handed out; 0 empty, 1 deleted */
	size_t len;           /* usable bytes */
	uintptr_t map;        /* the mapping: [map, map + map_len) */
	size_t map_len;
	bool zeroed;          /* mapped for calloc below HUGE_MIN (calloc_map) */
};

/* calloc of calloc_map bytes up to HUGE_MIN is mapped on its own: fresh
 * pages are zero, so nothing is cleared and a sparse table is not even
 * touched -- glibc's calloc of a block over its mmap threshold, 128 KiB
 * at first. As glibc raises that threshold when a mapped block is freed
 * (malloc.c, M_MMAP_THRESHOLD, "dynamic"), so a program that callocs and
 * frees such blocks over and over gets them from the arena (cleared
 * there) and does not map and unmap each one, the free of such a block
 * raises calloc_map to its size; it never falls. Atomic, relaxed: a stale
 * read only maps one block more or less. */
static size_t calloc_map = CALLOC_MAP_MIN;

static struct huge *huge_tab;         /* open addressing, under huge_lock */
static size_t huge_cap, huge_used, huge_count;
static uint64_t huge_bytes, huge_peak;
static int huge_lock_word;

static void huge_lock(void)
{
	while (__atomic_exchange_n(&huge_lock_word, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void huge_unlock(void)
{
	__atomic_store_n(&huge_lock_word, 0, __ATOMIC_RELEASE);
}

static size_t huge_slot(uintptr_t a, size_t cap)
{
	return (size_t)((a >> 12) * 0x9e3779b97f4a7c15ull) & (cap - 1);
}

/* The entry of a (a live huge block), or NULL. huge_lock held. */
static struct huge *huge_find(uintptr_t a)
{
	if (!huge_cap)
		return NULL;
	for (size_t i = huge_slot(a, huge_cap);; i = (i + 1) & (huge_cap - 1)) {
		if (huge_tab[i].addr == a)
			return &huge_tab[i];
		if (huge_tab[i].addr == 0)
			return NULL;
	}
}

/* Room for one more entry (the table doubled and rehashed when 3/4 used,
 * deleted slots counted). false: the system refused the memory. */
static bool huge_room(void)
{
	struct huge *old = huge_tab, *tab;
	size_t cap = huge_cap ? huge_cap * 2 : 256, oldcap = huge_cap;

	if (huge_cap && (huge_used + 1) * 4 < huge_cap * 3)
		return true;
	if (huge_cap && huge_count * 2 < huge_cap)
		cap = huge_cap;   /* mostly deleted slots: rehash in place of growing */
	tab = mmap(NULL, cap * sizeof(*tab), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tab == MAP_FAILED)
		return false;
	huge_tab = tab;
	huge_cap = cap;
	huge_used = huge_count;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].addr > 1) {
			size_t j = huge_slot(old[i].addr, cap);

			while (tab[j].addr)
				j = (j + 1) & (cap - 1);
			tab[j] = old[i];
		}
	if (old)
		munmap(old, oldcap * sizeof(*old));
	return true;
}

/* Enter e in the table (huge_lock held, huge_room() said yes). */
static void huge_insert(const struct huge *e)
{
	size_t i = huge_slot(e->addr, huge_cap);

	while (huge_tab[i].addr > 1)
		i = (i + 1) & (huge_cap - 1);
	huge_used += huge_tab[i].addr == 0;
	huge_tab[i] = *e;
}

static void *huge_alloc(size_t n, size_t align, bool zeroed)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len, map_len;
	uintptr_t map, addr;
	void *m;

	if (align < pg)
		align = pg;
	len = (n + pg - 1) & ~(pg - 1);
	if (len < n || len + align < len ||
	    faultinj_should_fail(FI_PAGE, n, GFP_KERNEL)) {
		errno = ENOMEM;
		return NULL;
	}
	map_len = len + align - pg;
	m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	map = (uintptr_t)m;
	addr = (map + align - 1) & ~(uintptr_t)(align - 1);
	huge_lock();
	if (!huge_room()) {
		huge_unlock();
		munmap(m, map_len);
		errno = ENOMEM;
		return NULL;
	}
	huge_insert(&(struct huge){ addr, len, map, map_len, zeroed && len <= HUGE_MIN });
	huge_count++;
	huge_bytes += len;
	if (huge_bytes > huge_peak)
		huge_peak = huge_bytes;
	huge_unlock();
	return (void *)addr;
}

/* Whether p lies in the arena's reservation (no huge block does). */
static inline bool in_arena(const void *p)
{
	uintptr_t lo = __atomic_load_n(&arena_lo, __ATOMIC_RELAXED);

	return (uintptr_t)p - lo < __atomic_load_n(&arena_hi, __ATOMIC_RELAXED) - lo;
}

/* Free p if it is a huge block: true; false when it is not one. */
static bool huge_free(const void *p)
{
	struct huge *h, e;

	if (in_arena(p))
		return false;
	huge_lock();
	h = huge_find((uintptr_t)p);
	if (!h) {
		huge_unlock();
		return false;
	}
	e = *h;
	h->addr = 1;   /* deleted */
	huge_count--;
	huge_bytes -= e.len;
	if (e.zeroed && e.len >= __atomic_load_n(&calloc_map, __ATOMIC_RELAXED))
		__atomic_store_n(&calloc_map, e.len + 1, __ATOMIC_RELAXED);
	huge_unlock();
	munmap((void *)e.map, e.map_len);
	return true;
}

/* Usable bytes of huge block p, 0 when p is not one. */
static size_t huge_size(const void *p)
{
	struct huge *h;
	size_t n;

	if (in_arena(p))
		return 0;
	huge_lock();
	h = huge_find((uintptr_t)p);
	n = h ? h->len : 0;
	huge_unlock();
	return n;
}

/* Resize huge block p (already known to be one: *h its entry, huge_lock
 * held, which this releases) to n > HUGE_MIN bytes as glibc resizes a
 * mapped chunk (malloc.c, mremap_chunk): the mapping shrinks in place
 * (its tail unmapped) or grows with mremap(MREMAP_MAYMOVE), so the pages
 * move and are never copied. NULL, with p's block and entry untouched,
 * when the table has no room for a moved entry, when fault injection
 * refuses (FI_PAGE, as huge_alloc asks it) or when mremap does: the
 * caller then tries a fresh block. */
static void *huge_remap(struct huge *h, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = (n + pg - 1) & ~(pg - 1);
	size_t off = h->addr - h->map, map_len = off + len;
	struct huge e = *h;
	void *m;

	if (map_len > e.map_len &&
	    (!huge_room() || faultinj_should_fail(FI_PAGE, n, GFP_KERNEL))) {
		huge_unlock();
		return NULL;
	}
	h = huge_find(e.addr);   /* huge_room may have rehashed the table */
	m = map_len == e.map_len ? (void *)e.map :
	    mremap((void *)e.map, e.map_len, map_len, map_len > e.map_len ? MREMAP_MAYMOVE : 0);
	if (m == MAP_FAILED) {
		huge_unlock();
		return NULL;
	}
	huge_bytes = huge_bytes - e.len + len;
	if (huge_bytes > huge_peak)
		huge_peak = huge_bytes;
	if ((uintptr_t)m == e.map) {   /* in place (a shrink always is) */
		*h = (struct huge){ e.addr, len, e.map, map_len, false };
	} else {   /* moved: grown, huge_room made room for its new entry */
		h->addr = 1;   /* deleted */
		e = (struct huge){ (uintptr_t)m + off, len, (uintptr_t)m, map_len, false };
		huge_insert(&e);
	}
	huge_unlock();
	return (void *)((uintptr_t)m + off);
}

/* ---- configuration -------------------------------------------------------- */

static void say(const char *what, const char *value, const char *why)
{
	fprintf(stderr, "libtally: %s=%s: %s\n", what, value, why);
}

/* "key=value,..." into the fault injection knobs; 0, or -1 when malformed. */
static int parse_faultinj(const char *s, struct faultinj_config *c)
{
	char key[16];

	*c = (struct faultinj_config){ .probability = 100, .times = -1, .scope = FI_ALL, .seed = 1 };
	while (*s) {
		size_t k = 0;
		unsigned long long v;
		char *end;

		while (*s && *s != '=' && k < sizeof(key) - 1)
			key[k++] = *s++;
		key[k] = '\0';
		if (*s++ != '=' || *s < '0' || *s > '9')
			return -1;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || (*end && *end != ','))
			return -1;
		s = *end ? end + 1 : end;
		if (!strcmp(key, "probability") && v <= 100)
			c->probability = (unsigned)v;
		else if (!strcmp(key, "interval"))
			c->interval = (unsigned long)v;
		else if (!strcmp(key, "times") && v <= (unsigned long long)LONG_MAX)
			c->times = (long)v;
		else if (!strcmp(key, "seed"))
			c->seed = v;
		else
			return -1;
	}
	return 0;
}

static struct faultinj_config tl_faultinj;
static bool tl_faultinj_on;

/* Read the variables (before the allocator is set up: fault injection is
 * turned on after, since kmalloc_init resets it). */
static void configure(void)
{
	const char *mode = getenv("TALLY_MODE"), *stats = getenv("TALLY_STATS");
	const char *fi = getenv("TALLY_FAULTINJ"), *bad = getenv("TALLY_BAD_FREE");
	struct faultinj_config probe;

	if (mode && mm_mode_parse(mode) >= 0)
		tl_mode = mm_mode_parse(mode);
	else if (mode)
		say("TALLY_MODE", mode, "not simple, twotier or hybrid; hybrid it is");
	if (stats && !strcmp(stats, "1"))
		tl_stats = true;
	else if (stats && strcmp(stats, "0"))
		say("TALLY_STATS", stats, "not 0 or 1; no summary");
	if (bad && !strcmp(bad, "report"))
		tl_bad_free_report = true;
	else if (bad && strcmp(bad, "abort"))
		say("TALLY_BAD_FREE", bad, "not abort or report; abort it is");
	if (fi && !parse_faultinj(fi, &tl_faultinj)) {
		probe = tl_faultinj;   /* faultinj_set's own checks, then off again */
		tl_faultinj_on = faultinj_set(&probe) == 0;
		faultinj_off();
	}
	if (fi && !tl_faultinj_on)
		say("TALLY_FAULTINJ", fi, "not probability=P,interval=N,times=N,seed=N; no injection");
}

/* ---- reports, the exit summary -------------------------------------------- */

static void on_report(const char *text)
{
	(void)text;
	if (tl_bad_free_report)
		return;
	fprintf(stderr, "libtally: aborting (TALLY_BAD_FREE=report would count it and go on)\n");
	abort();
}

/* The summary TALLY_STATS=1 asks for, memstat's figures: arena_bytes is
 * what the arena holds from the system (it grows, so this is also its
 * high-water mark); huge blocks apart, now and at their peak (exact: they
 * are counted under their lock); peak_in_use_bytes is the page
 * allocator's highest figure at a fold (mm/buddy.c: a peak between two
 * folds is missed), so a lower bound. */
static void summary(void)
{
	struct mm_stats s;

	if (!tl_stats || __atomic_load_n(&tl_state, __ATOMIC_ACQUIRE) != TL_READY)
		return;
	fflush(stdout);   /* the program's output first (exit would flush it after us) */
	mm_stats_get(&s);
	fprintf(stderr,
		"libtally: mode: %s\n"
		"libtally: requests: %lu\n"
		"libtally: failures: %lu (injected %lu)\n"
		"libtally: arena_bytes: %zu\n"
		"libtally: peak_in_use_bytes: %llu (at least)\n"
		"libtally: huge_bytes: %llu (peak %llu, %zu blocks now)\n"
		"libtally: fragmentation: %u.%u%% (%s)\n"
		"libtally: bad_frees: %lu\n"
		"libtally: health: %s%s%s%s\n",
		mm_mode_str(s.mode), s.requests, s.failures, s.fail_injected,
		mm_host_arena_bytes(),
		(unsigned long long)s.buddy.peak_pages_in_use * PAGE_SIZE,
		(unsigned long long)huge_bytes, (unsigned long long)huge_peak, huge_count,
		s.frag_pm / 10, s.frag_pm % 10, s.frag_measure, s.wrong_frees,
		mm_health_name(s.health), s.health == MM_HEALTHY ? "" : " (",
		s.health == MM_HEALTHY ? "" : s.reason, s.health == MM_HEALTHY ? "" : ")");
}

/* ---- set-up ---------------------------------------------------------------- */

static size_t reserve_size(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	uint64_t ram = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : (uint64_t)1 << 32;
	uint64_t cap = (uint64_t)UINT32_MAX * 4096;

	return (size_t)(ram > cap ? cap : ram);
}

static void set_up(void)
{
	size_t reserve = reserve_size();
	int rc;

	__atomic_store_n(&tl_setter, pthread_self(), __ATOMIC_RELAXED);
	configure();
	kmalloc_use_classes(KMALLOC_CLASSES_FINE);   /* a malloc's classes (a known table: 0) */
	do {   /* an address-space limit (ulimit -v) may refuse all of RAM */
		rc = mm_host_init_growing(INITIAL, reserve, 0);
		reserve /= 2;
	} while (rc == -ENOMEM && reserve >= RESERVE_MIN);
	if (rc || mm_set_mode(tl_mode)) {
		fprintf(stderr, "libtally: cannot set the allocator up (%d): every allocation fails\n", rc);
		__atomic_store_n(&tl_state, TL_BROKEN, __ATOMIC_RELEASE);
		return;
	}
	if (tl_faultinj_on)
		faultinj_set(&tl_faultinj);
	{
		uintptr_t lo, hi;

		mm_host_arena_span(&lo, &hi);
		__atomic_store_n(&arena_lo, lo, __ATOMIC_RELAXED);
		__atomic_store_n(&arena_hi, hi, __ATOMIC_RELAXED);
	}
	mm_host_report_hook = on_report;
	pthread_atfork(mm_atfork_prepare, mm_atfork_parent, mm_host_atfork_child);
	atexit(summary);
	__atomic_store_n(&tl_state, TL_READY, __ATOMIC_RELEASE);
}

/* Ready: true. Being set up by this thread: false (serve from the boot
 * area). Others wait for the setter. */
static bool ready_slow(void)
{
	int st = TL_UNSET;

	if (__atomic_compare_exchange_n(&tl_state, &st, TL_SETTING_UP, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		set_up();
		return __atomic_load_n(&tl_state, __ATOMIC_ACQUIRE) == TL_READY;
	}
	if (st == TL_SETTING_UP &&
	    pthread_equal(__atomic_load_n(&tl_setter, __ATOMIC_RELAXED), pthread_self()))
		return false;   /* set-up's own calls: the boot area (another thread
				 * may read the setter unset: it waits, as it should) */
	while ((st = __atomic_load_n(&tl_state, __ATOMIC_ACQUIRE)) == TL_SETTING_UP)
		sched_yield();
	return st == TL_READY;
}

static inline bool ready(void)
{
	return __builtin_expect(__atomic_load_n(&tl_state, __ATOMIC_ACQUIRE) == TL_READY, 1) ||
	       ready_slow();
}

/* Set up when the library is loaded, if no call came first: so a program
 * that never allocates still reads its variables and has its summary. */
__attribute__((constructor)) static void load(void)
{
	ready();
}

/* ---- the allocation functions ---------------------------------------------- */

/* n bytes at align (a power of two), errno ENOMEM on failure. */
static void *tl_alloc(size_t n, size_t align, gfp_t gfp)
{
	void *p;

	if (!ready()) {
		if (__atomic_load_n(&tl_state, __ATOMIC_ACQUIRE) == TL_BROKEN) {
			errno = ENOMEM;
			return NULL;
		}
		return align <= ALIGN ? boot_alloc(n ? n : 1) : NULL;
	}
	if (n > HUGE_MIN || align > KMALLOC_MAX_ALIGN)
		return huge_alloc(n, align, false);   /* fresh mappings are zero: calloc's too */
	if ((gfp & GFP_ZERO) && n >= __atomic_load_n(&calloc_map, __ATOMIC_RELAXED))
		return huge_alloc(n, ALIGN, true);
	if (align <= ALIGN) {
		/* kmalloc's own fast path (the CPU's magazines, no lock): every
		 * fine class is a multiple of 16 and aligned to it, as are
		 * SimpleHeap's blocks and whole pages */
		p = kmalloc(n < ALIGN ? ALIGN : n, GFP_KERNEL);
		if (p && (gfp & GFP_ZERO))
			memset(p, 0, n);
	} else if (kmem_try_alloc(n, align, gfp, &p) != 0) {
		p = NULL;
	}
	if (!p)
		errno = ENOMEM;
	return p;
}

/* p, handed to free or realloc (fn), cannot be a block: set-up has not
 * finished or has failed, and p is not the boot area's. Said with the
 * pointer, then abort or go on as TALLY_BAD_FREE says (glibc's
 * "free(): invalid pointer" and "realloc(): invalid pointer" abort). */
static void wrong_before_set_up(const char *fn, const void *p)
{
	fprintf(stderr, "libtally: wrong free of %p: %s before set-up, when no block exists\n", p, fn);
	on_report(fn);
}

static void tl_free(void *p)
{
	if (!p || is_boot(p))
		return;
	if (__atomic_load_n(&tl_state, __ATOMIC_ACQUIRE) != TL_READY) {
		wrong_before_set_up("free", p);
		return;
	}
	if (huge_free(p))
		return;
	kfree(p);   /* a pointer that is no block is refused and reported */
}

static size_t tl_usable(const void *p)
{
	size_t n;

	if (!p)
		return 0;
	if (is_boot(p))
		return boot_size(p);
	if ((n = huge_size(p)) != 0)
		return n;
	return ksize(p);
}

/* The common case inline, so the call to kmalloc needs no frame to keep
 * anything across: the library ready, an arena size. */
void *tally_malloc(size_t n)
{
	void *p;

	if (__builtin_expect(__atomic_load_n(&tl_state, __ATOMIC_ACQUIRE) == TL_READY &&
			     n <= HUGE_MIN, 1)) {
		p = kmalloc(n < ALIGN ? ALIGN : n, GFP_KERNEL);
		if (__builtin_expect(p == NULL, 0))
			errno = ENOMEM;
		return p;
	}
	return tl_alloc(n, ALIGN, GFP_KERNEL);
}

/* An arena pointer (neither a boot nor a huge block lies there) straight
 * to kfree, which checks it; anything else through tl_free. */
void tally_free(void *p)
{
	if (__builtin_expect(in_arena(p), 1))
		kfree(p);
	else
		tl_free(p);
}

void *tally_calloc(size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return tl_alloc(total, ALIGN, GFP_KERNEL | GFP_ZERO);
}

/* Move block p (old usable bytes) to a fresh block of n bytes; NULL with
 * errno ENOMEM, p untouched, when there is none. */
static void *tl_move(void *p, size_t old, size_t n)
{
	void *q = tally_malloc(n);

	if (q) {
		memcpy(q, p, old < n ? old : n);
		tally_free(p);
	}
	return q;
}

/* realloc(3) as glibc's (malloc.c, __libc_realloc): NULL allocates,
 * n == 0 frees and returns NULL, a failure returns NULL with errno
 * ENOMEM and leaves p's block as it was. Arena blocks go to krealloc,
 * whose common path takes no lock (mm/kmalloc.h); a huge block is
 * resized by mremap (huge_remap) and, should that be refused, moved to a
 * fresh block; a block crossing HUGE_MIN either way is moved. */
void *tally_realloc(void *p, size_t n)
{
	size_t old;
	struct huge *h;
	void *q;

	if (!p)
		return tally_malloc(n);
	if (!is_boot(p) && !ready()) {
		wrong_before_set_up("realloc", p);
		errno = ENOMEM;   /* as after set-up (krealloc's refusal) */
		return NULL;
	}
	if (n == 0) {   /* glibc: frees p, returns NULL */
		tally_free(p);
		return NULL;
	}
	if (is_boot(p)) {
		old = boot_size(p);
		if (n <= old)
			return p;
		return tl_move(p, old, n);
	}
	if (!in_arena(p)) {
		huge_lock();
		h = huge_find((uintptr_t)p);
		old = h ? h->len : 0;
		if (!h || n <= HUGE_MIN)
			huge_unlock();
		else if ((q = huge_remap(h, n)) != NULL)   /* it unlocks */
			return q;
		if (old)
			return tl_move(p, old, n);
		/* not a huge block: kfree's and krealloc's checks report it */
	}
	if (n > HUGE_MIN) {
		old = ksize(p);
		if (!old) {
			kfree(p);   /* no block: reported, refused */
			errno = EINVAL;
			return NULL;
		}
		return tl_move(p, old, n);
	}
	q = krealloc(p, n, GFP_KERNEL);
	if (!q)
		errno = ENOMEM;
	return q;
}

void *tally_reallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return tally_realloc(p, total);
}

int tally_posix_memalign(void **out, size_t align, size_t n)
{
	int saved = errno;
	void *p;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	p = tl_alloc(n, align, GFP_KERNEL);
	errno = saved;   /* posix_memalign does not set errno */
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *tally_aligned_alloc(size_t align, size_t n)
{
	if (!align || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return tl_alloc(n, align, GFP_KERNEL);
}

void *tally_memalign(size_t align, size_t n)
{
	if (!align || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return tl_alloc(n, align, GFP_KERNEL);
}

void *tally_valloc(size_t n)
{
	return tl_alloc(n, (size_t)sysconf(_SC_PAGESIZE), GFP_KERNEL);
}

void *tally_pvalloc(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (n + pg < n) {
		errno = ENOMEM;
		return NULL;
	}
	return tl_alloc(((n ? n : 1) + pg - 1) & ~(pg - 1), pg, GFP_KERNEL);
}

size_t tally_malloc_usable_size(void *p)
{
	return tl_usable(p);
}

void tally_free_sized(void *p, size_t n)
{
	(void)n;
	tl_free(p);
}

void tally_free_aligned_sized(void *p, size_t align, size_t n)
{
	(void)align;
	(void)n;
	tl_free(p);
}

void tally_cfree(void *p)
{
	tl_free(p);
}

/* The C library's names (unless built into a test that keeps the system's:
 * LIBTALLY_NO_OVERRIDE, the AddressSanitizer build of tests/preload). */
#ifndef LIBTALLY_NO_OVERRIDE
#define ALIAS(name, impl) extern __typeof__(impl) name __attribute__((alias(#impl), visibility("default")))
ALIAS(malloc, tally_malloc);
ALIAS(free, tally_free);
ALIAS(calloc, tally_calloc);
ALIAS(realloc, tally_realloc);
ALIAS(reallocarray, tally_reallocarray);
ALIAS(posix_memalign, tally_posix_memalign);
ALIAS(aligned_alloc, tally_aligned_alloc);
ALIAS(memalign, tally_memalign);
ALIAS(valloc, tally_valloc);
ALIAS(pvalloc, tally_pvalloc);
ALIAS(malloc_usable_size, tally_malloc_usable_size);
ALIAS(free_sized, tally_free_sized);
ALIAS(free_aligned_sized, tally_free_aligned_sized);
ALIAS(cfree, tally_cfree);
#endif
