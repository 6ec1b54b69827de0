/* malloc.c - the C library's allocation functions in a Tally process:
 * Tally's allocator stack (src/mm compiled for user space, with the
 * environment of include/env/user and mm_env_user.c) over an arena that
 * grows and shrinks with use (common/mm_grow.h over Tally's mmap,
 * mprotect and madvise: mm_user_grow_ops), in the mode TALLY_MODE names,
 * on kmalloc's fine size classes (mm/kmalloc.h, KMALLOC_CLASSES_FINE: four
 * a doubling up to 32 KiB, every block aligned to 16); or picolibc's own
 * malloc, linked in beside it under the names __picolibc_* (mk/user.mk
 * renames its objects), when TALLY_MODE=picolibc. tally/malloc.h states
 * the choices, the defaults and what a bad value does.
 *
 * The mode is read once, by a constructor that runs before main (and
 * before any other constructor: priority 101), so a bad value stops the
 * program before it does anything; a call that comes even earlier reads
 * it then. The arena is reserved at the first allocation, so a program
 * that links malloc and never calls it maps nothing. The allocator of a
 * block is the one the process started with: the choice never changes
 * while blocks are live.
 *
 * Errors, as ISO C and POSIX have them: NULL (posix_memalign: the error
 * number) with errno ENOMEM when memory runs out or the size cannot be
 * represented; EINVAL for an alignment that is not a power of two
 * (posix_memalign: not a multiple of sizeof(void *) either). Tally's
 * allocator aligns to at most KMALLOC_MAX_ALIGN (4096) bytes; a larger
 * alignment is ENOMEM ("no memory with the requested alignment").
 * In Tally's modes, free and realloc of a pointer that is no block are
 * refused and reported on stderr by the mm code ("mm: ..."), never
 * followed (picolibc's malloc trusts the pointer). A zero size asks
 * for one byte (a unique pointer, as glibc and picolibc give), except
 * realloc(p, 0), which frees p and returns NULL (glibc's choice). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm/kmalloc.h"
#include "mm/mm_env.h"
#include "mm_user_grow.h"
#include "tally/malloc.h"

/* Picolibc's malloc (nano-malloc), renamed at build time (mk/user.mk). */
void *__picolibc_malloc(size_t size);
void __picolibc_free(void *p);
void *__picolibc_calloc(size_t n, size_t size);
void *__picolibc_realloc(void *p, size_t size);
void *__picolibc_memalign(size_t align, size_t size);
void *__picolibc_aligned_alloc(size_t align, size_t size);
int __picolibc_posix_memalign(void **out, size_t align, size_t size);
size_t __picolibc_malloc_usable_size(void *p);

#define UM_MODE_PICOLIBC MM_MODE_NR        /* the fourth choice */
#define UM_DEFAULT_MODE  MM_MODE_HYBRID    /* kmalloc_init's, the kernel's */
#define UM_HEAP_DEFAULT  (16ul << 30)      /* the reservation: address space */
#define UM_HEAP_DEFAULT_STR "16g"
#define UM_ARENA_FIRST   (4ul << 20)       /* committed at the first allocation */
#define UM_HEAP_MIN      (64ul << 10)

/* Where the process stands. READY is the fast paths' one test. */
enum um_state {
	UM_UNSET,       /* the environment not read yet */
	UM_ARENA_DUE,   /* a Tally mode, arena not reserved yet */
	UM_READY,       /* a Tally mode over its arena */
	UM_PICOLIBC,    /* picolibc's malloc */
	UM_NO_ARENA,    /* a Tally mode whose arena was refused: ENOMEM */
};

static enum um_state um_state;
static int um_mode;
static size_t um_heap_asked;   /* TALLY_HEAP, 0: the default */

static void say(const char *a, const char *b, const char *c)
{
	write(2, a, strlen(a));
	write(2, b, strlen(b));
	write(2, c, strlen(c));
}

/* "BYTES[k|m|g]" -> bytes; 0 when malformed, overflowing or below
 * UM_HEAP_MIN. */
static size_t parse_heap(const char *s)
{
	size_t v = 0, mul = 1;

	if (*s < '0' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (SIZE_MAX - 9) / 10)
			return 0;
		v = v * 10 + (size_t)(*s - '0');
	}
	if (*s == 'k' || *s == 'K')
		mul = 1ul << 10;
	else if (*s == 'm' || *s == 'M')
		mul = 1ul << 20;
	else if (*s == 'g' || *s == 'G')
		mul = 1ul << 30;
	if (mul > 1)
		s++;
	if (*s || v > SIZE_MAX / mul || v * mul < UM_HEAP_MIN)
		return 0;
	return v * mul;
}

/* Read TALLY_MODE and TALLY_HEAP; a bad value ends the process (exit
 * status 2) with a line saying what is accepted. */
static void um_configure(void)
{
	const char *mode = getenv("TALLY_MODE"), *heap = getenv("TALLY_HEAP");

	um_mode = UM_DEFAULT_MODE;
	if (mode && !strcmp(mode, "picolibc"))
		um_mode = UM_MODE_PICOLIBC;
	else if (mode && (um_mode = mm_mode_parse(mode)) < 0) {
		say("malloc: TALLY_MODE=", mode,
		    ": unknown mode (simple, twotier, hybrid or picolibc)\n");
		_exit(2);
	}
	if (heap && !(um_heap_asked = parse_heap(heap))) {
		say("malloc: TALLY_HEAP=", heap,
		    ": not a size (BYTES with an optional k, m or g; at least 64k)\n");
		_exit(2);
	}
	um_state = um_mode == UM_MODE_PICOLIBC ? UM_PICOLIBC : UM_ARENA_DUE;
}

__attribute__((constructor(101))) static void um_start(void)
{
	if (um_state == UM_UNSET)
		um_configure();
}

/* Reserve the arena (TALLY_HEAP, or UM_HEAP_DEFAULT, of address space),
 * commit its first UM_ARENA_FIRST bytes and build the allocator stack in
 * it, in um_mode; the arena then grows as the mm asks and gives free
 * blocks of 2 MiB and more back (common/mm_grow.h). A refusal is said once on
 * stderr; from then on every allocation fails. */
static void um_arena(void)
{
	size_t max = um_heap_asked ? um_heap_asked : UM_HEAP_DEFAULT;
	uintptr_t lo, hi;
	int rc;

	kmalloc_use_classes(KMALLOC_CLASSES_FINE);   /* a known table: 0 */
	rc = mm_grow_init(&mm_user_grow_ops, max < UM_ARENA_FIRST ? max : UM_ARENA_FIRST, max, 0);
	if (rc == 0 && mm_set_mode(um_mode) == 0) {
		um_state = UM_READY;
		return;
	}
	um_state = UM_NO_ARENA;
	mm_grow_span(&lo, &hi);   /* reserved: the mm could not be set up in it */
	mm_grow_forget();
	if (!lo)
		say("malloc: mmap refused the arena (", um_heap_asked ? getenv("TALLY_HEAP") :
		    UM_HEAP_DEFAULT_STR, ")");
	else
		say("malloc: the arena is too small for Tally's allocator", "", "");
	say(": every allocation fails (ENOMEM)\n", "", "");
}

/* Not READY: read the environment or map the arena if that is due.
 * Returns the state to serve the call in. */
static enum um_state um_slow(void)
{
	if (um_state == UM_UNSET)
		um_configure();
	if (um_state == UM_ARENA_DUE)
		um_arena();
	return um_state;
}

static void *nomem(void)
{
	errno = ENOMEM;
	return NULL;
}

static bool pow2(size_t a)
{
	return a && !(a & (a - 1));
}

void *malloc(size_t size)
{
	void *p;

	if (__builtin_expect(um_state != UM_READY, 0)) {
		enum um_state s = um_slow();

		if (s == UM_PICOLIBC)
			return __picolibc_malloc(size);
		if (s != UM_READY)
			return nomem();
	}
	p = kmalloc(size ? size : 1, 0);
	return p ? p : nomem();
}

void free(void *p)
{
	if (__builtin_expect(um_state == UM_READY, 1))
		kfree(p);
	else if (um_state == UM_PICOLIBC)
		__picolibc_free(p);
	else if (p)
		mm_report("free(%p): no block was ever allocated", p);
}

void *calloc(size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (um_state != UM_READY && um_slow() == UM_PICOLIBC)
		return __picolibc_calloc(n, size);
	if (um_state != UM_READY || __builtin_mul_overflow(n, size, &bytes))
		return nomem();
	p = kzalloc(bytes ? bytes : 1, 0);
	return p ? p : nomem();
}

void *realloc(void *p, size_t size)
{
	void *q;

	if (um_state != UM_READY && um_slow() == UM_PICOLIBC)
		return __picolibc_realloc(p, size);
	if (!p)
		return malloc(size);
	if (um_state != UM_READY) {
		free(p);   /* reports it: nothing was allocated */
		return nomem();
	}
	if (!size) {
		kfree(p);
		return NULL;
	}
	q = krealloc(p, size, 0);
	return q ? q : nomem();
}

/* The aligned allocations' common core: 0 and *out, or an errno. */
static int aligned(void **out, size_t align, size_t size)
{
	*out = NULL;
	if (!pow2(align))
		return EINVAL;
	if (align > KMALLOC_MAX_ALIGN || um_state != UM_READY)
		return ENOMEM;
	return kmem_try_alloc(size ? size : 1, align < KMALLOC_MIN_ALIGN ? 0 : align, 0, out)
	       ? ENOMEM : 0;
}

int posix_memalign(void **out, size_t align, size_t size)
{
	if (um_state != UM_READY && um_slow() == UM_PICOLIBC)
		return __picolibc_posix_memalign(out, align, size);
	if (align % sizeof(void *))
		return EINVAL;
	return aligned(out, align, size);
}

void *memalign(size_t align, size_t size)
{
	void *p;
	int e;

	if (um_state != UM_READY && um_slow() == UM_PICOLIBC)
		return __picolibc_memalign(align, size);
	e = aligned(&p, align, size);
	if (e)
		errno = e;
	return p;
}

void *aligned_alloc(size_t align, size_t size)
{
	if (um_state != UM_READY && um_slow() == UM_PICOLIBC)
		return __picolibc_aligned_alloc(align, size);
	return memalign(align, size);
}

size_t malloc_usable_size(void *p)
{
	if (um_state == UM_PICOLIBC)
		return __picolibc_malloc_usable_size(p);
	return um_state == UM_READY ? ksize(p) : 0;
}

const char *tally_malloc_mode(void)
{
	if (um_state == UM_UNSET)
		um_configure();
	return um_mode == UM_MODE_PICOLIBC ? "picolibc" : mm_mode_str(um_mode);
}

size_t tally_malloc_arena(void)
{
	return um_state == UM_READY ? mm_grow_bytes() : 0;
}

size_t tally_malloc_arena_max(void)
{
	uintptr_t lo, hi;

	if (um_state != UM_READY)
		return 0;
	mm_grow_span(&lo, &hi);
	return hi - lo;
}
