/* test_vma.c - the VMA set (src/proc/vma.c).
 *
 * Deterministic cases for each operation's shapes (splits at both ends,
 * merges on insert and on protect, map_fixed, stack growth and its gap,
 * gaps top-down, access checks, the count limit), then randomized runs
 * against a page-granular model with fixed printed seeds: a window of
 * 256 pages, each page either unmapped or carrying (prot, kind,
 * private). After every operation the set must hold exactly the model's
 * pages, as the fewest areas (the model's maximal runs of alike pages:
 * so every merge happened), and the change callbacks must have named
 * exactly the pages that changed, with their old protection. In a
 * quarter of the operations the allocator is set to fail at its 1st,
 * 2nd or 3rd allocation: an operation that returns -ENOMEM must leave
 * the set exactly as it was, and no struct is ever leaked (live structs
 * == areas after every operation). Last, the default allocator
 * (kmalloc) under fault injection. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "kerrno.h"
#include "lib/xorshift.h"
#include "mm/faultinj.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "proc/vma.h"

#define PG        USER_PAGE_SIZE
#define BASE      (USER_VA_BASE + 0x100000) /* the model's window */
#define NPAGES    256u
#define OPS       3000
#define VA(p)     (BASE + (uint64_t)(p) * PG)

/* ---- a counting allocator that fails on demand -------------------- */

static long live;          /* structs handed out and not freed */
static long fail_in = -1;  /* allocations until one fails; -1 never */

static void *t_alloc(void *ctx)
{
	(void)ctx;
	if (fail_in == 0)
		return NULL;
	if (fail_in > 0)
		fail_in--;
	live++;
	return malloc(sizeof(struct vma));
}

static void t_free(void *ctx, void *p)
{
	(void)ctx;
	live--;
	free(p);
}

static const struct vma_allocator talloc = { t_alloc, t_free, NULL };

static struct vma area(uint64_t start, uint64_t end, unsigned prot, enum vma_kind kind)
{
	return (struct vma){ .vm_start = start, .vm_end = end, .vm_prot = prot, .vm_kind = kind };
}

#define RW  (PROT_READ | PROT_WRITE)
#define RX  (PROT_READ | PROT_EXEC)

static void fresh(struct vma_set *s)
{
	live = 0;
	fail_in = -1;
	vma_set_init(s, &talloc);
}

static int shape(const struct vma_set *s, unsigned n, const uint64_t *bounds)
{
	const struct vma *v = vma_first(s);

	for (unsigned i = 0; i < n; i++, v = vma_next(s, v))
		if (!v || v->vm_start != bounds[2 * i] || v->vm_end != bounds[2 * i + 1])
			return 0;
	return !v && s->count == n && vma_check(s, NULL) == 0 && live == (long)n;
}

/* ---- deterministic cases --------------------------------------------- */

/* What the callbacks said: pieces and their old protections. */
static struct vma told[16];
static unsigned told_old[16], ntold;

static void tell(void *ctx, const struct vma *piece, unsigned old_prot)
{
	(void)ctx;
	if (ntold < 16) {
		told[ntold] = *piece;
		told_old[ntold] = old_prot;
	}
	ntold++;
}

static void test_insert_merge(void)
{
	struct vma_set s;
	struct vma a = area(VA(0), VA(4), RW, VMA_ANON);

	fresh(&s);
	tap_ok(vma_insert(&s, &a) == 0 && shape(&s, 1, (uint64_t[]){ VA(0), VA(4) }), "insert");
	a = area(VA(8), VA(12), RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == 0 && s.count == 2 && s.bytes == 8 * PG, "a second, apart");
	a = area(VA(3), VA(5), RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == -EEXIST && s.count == 2, "overlapping: -EEXIST, unchanged");
	a = area(VA(4), VA(6), RX, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == 0 && s.count == 3, "adjacent but R X: not merged");
	vma_unmap(&s, VA(4), 2 * PG, NULL, NULL);
	fail_in = 0;
	a = area(VA(4), VA(6), RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == 0 && shape(&s, 2, (uint64_t[]){ VA(0), VA(6), VA(8), VA(12) }),
	       "adjacent and alike: merged, with no allocation at all");
	a = area(VA(6), VA(8), RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == 0 && shape(&s, 1, (uint64_t[]){ VA(0), VA(12) }),
	       "filling the hole merges all three into one");
	fail_in = -1;
	a = area(VA(12), VA(13), RW, VMA_HEAP);
	tap_ok(vma_insert(&s, &a) == 0 && s.count == 2, "another kind does not merge");
	a = area(VA(13), VA(14), RW, VMA_HEAP);
	a.vm_private = &s;
	tap_ok(vma_insert(&s, &a) == 0 && s.count == 3, "another vm_private does not merge");
	a = area(VA(14), VA(15), PROT_WRITE, VMA_HEAP);
	a.vm_private = &s;
	tap_ok(vma_insert(&s, &a) == 0 && s.count == 3 && vma_find(&s, VA(14))->vm_prot == RW,
	       "PROT_WRITE is kept as R W (and merges with R W)");
	vma_set_destroy(&s, NULL, NULL);
	tap_ok(live == 0 && s.count == 0 && s.bytes == 0, "destroy frees every struct");
}

static void test_insert_errors(void)
{
	struct vma_set s;
	struct vma a;

	fresh(&s);
	a = area(VA(0) + 8, VA(2), RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == -EINVAL, "unaligned start: -EINVAL");
	a = area(VA(2), VA(2), RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == -EINVAL, "empty: -EINVAL");
	a = area(USER_VA_BASE - PG, USER_VA_BASE + PG, RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == -EINVAL, "below USER_VA_BASE: -EINVAL");
	a = area(USER_VA_TOP - PG, USER_VA_TOP + PG, RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == -EINVAL, "past USER_VA_TOP: -EINVAL");
	a = area(VA(0), VA(1), 8, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == -EINVAL, "unknown prot bit: -EINVAL");
	a = area(VA(0), VA(1), RW, VMA_KIND_NR);
	tap_ok(vma_insert(&s, &a) == -EINVAL, "unknown kind: -EINVAL");
	a = area(VA(0), VA(1), RW, VMA_ANON);
	a.vm_flags = VMA_FLAGS_MASK + 1;   /* the bit above every known one */
	tap_ok(vma_insert(&s, &a) == -EINVAL, "unknown flag: -EINVAL");
	a = area(USER_VA_TOP - PG, USER_VA_TOP, RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == 0, "the last user page is fine");
	a = area(VA(0), VA(1), RW, VMA_ANON);
	fail_in = 0;
	tap_ok(vma_insert(&s, &a) == -ENOMEM && s.count == 1 && live == 1,
	       "no struct: -ENOMEM, unchanged");
	tap_ok(vma_insert(&s, NULL) == -EINVAL, "NULL: -EINVAL");
	vma_set_destroy(&s, NULL, NULL);
}

static void test_unmap_splits(void)
{
	struct vma_set s;
	struct vma a = area(VA(0), VA(10), RW, VMA_ANON);

	fresh(&s);
	vma_insert(&s, &a);
	ntold = 0;
	fail_in = 0;
	tap_ok(vma_unmap(&s, VA(4), 2 * PG, tell, NULL) == -ENOMEM &&
	       shape(&s, 1, (uint64_t[]){ VA(0), VA(10) }) && ntold == 0,
	       "a hole in the middle needs a struct: -ENOMEM, unchanged, nothing told");
	fail_in = -1;
	tap_ok(vma_unmap(&s, VA(4), 2 * PG, tell, NULL) == 0 &&
	       shape(&s, 2, (uint64_t[]){ VA(0), VA(4), VA(6), VA(10) }) && ntold == 1 &&
	       told[0].vm_start == VA(4) && told[0].vm_end == VA(6) && told_old[0] == RW,
	       "split in two; the removed piece told");
	fail_in = 0;
	ntold = 0;
	tap_ok(vma_unmap(&s, VA(2), 6 * PG, tell, NULL) == 0 &&
	       shape(&s, 2, (uint64_t[]){ VA(0), VA(2), VA(8), VA(10) }) && ntold == 2 &&
	       told[0].vm_start == VA(2) && told[0].vm_end == VA(4) &&
	       told[1].vm_start == VA(6) && told[1].vm_end == VA(8),
	       "cut at both ends across a hole, no struct needed: two pieces told");
	tap_ok(vma_unmap(&s, VA(0), 20 * PG, NULL, NULL) == 0 && s.count == 0 && live == 0 &&
	       s.bytes == 0, "a range over everything removes all");
	tap_ok(vma_unmap(&s, VA(0), PG, NULL, NULL) == 0, "unmapping nothing is fine");
	tap_ok(vma_unmap(&s, VA(0) + 1, PG, NULL, NULL) == -EINVAL &&
	       vma_unmap(&s, VA(0), 0, NULL, NULL) == -EINVAL &&
	       vma_unmap(&s, VA(0), 3, NULL, NULL) == -EINVAL &&
	       vma_unmap(&s, USER_VA_TOP - PG, 2 * PG, NULL, NULL) == -EINVAL &&
	       vma_unmap(&s, VA(0), (uint64_t)-PG, NULL, NULL) == -EINVAL,
	       "unaligned, empty, past the end or wrapping: -EINVAL");
	vma_set_destroy(&s, NULL, NULL);
}

static void test_protect_splits_merges(void)
{
	struct vma_set s;
	struct vma a = area(VA(0), VA(10), RW, VMA_DATA);

	fresh(&s);
	vma_insert(&s, &a);
	fail_in = 1;
	tap_ok(vma_protect(&s, VA(4), 2 * PG, PROT_READ, NULL, NULL) == -ENOMEM &&
	       shape(&s, 1, (uint64_t[]){ VA(0), VA(10) }) && vma_find(&s, VA(5))->vm_prot == RW,
	       "the middle of one area takes two structs; only one: -ENOMEM, unchanged");
	fail_in = -1;
	ntold = 0;
	tap_ok(vma_protect(&s, VA(4), 2 * PG, PROT_READ, tell, NULL) == 0 &&
	       shape(&s, 3, (uint64_t[]){ VA(0), VA(4), VA(4), VA(6), VA(6), VA(10) }) &&
	       vma_find(&s, VA(4))->vm_prot == PROT_READ && vma_find(&s, VA(6))->vm_prot == RW &&
	       ntold == 1 && told[0].vm_start == VA(4) && told[0].vm_end == VA(6) &&
	       told[0].vm_prot == PROT_READ && told_old[0] == RW, "three areas, the middle told");
	fail_in = 0;
	ntold = 0;
	tap_ok(vma_protect(&s, VA(2), 6 * PG, RW, tell, NULL) == 0 &&
	       shape(&s, 1, (uint64_t[]){ VA(0), VA(10) }) && ntold == 1,
	       "back to R W over a wider range: no struct, merged into one");
	tap_ok(vma_protect(&s, VA(0), 10 * PG, RW, tell, NULL) == 0 && ntold == 1,
	       "the same protection: nothing to change, nothing told");
	fail_in = -1;
	tap_ok(vma_protect(&s, VA(8), 4 * PG, PROT_READ, NULL, NULL) == -ENOMEM &&
	       shape(&s, 1, (uint64_t[]){ VA(0), VA(10) }), "a range reaching a hole: -ENOMEM");
	tap_ok(vma_protect(&s, VA(0), PG, 9, NULL, NULL) == -EINVAL, "unknown prot: -EINVAL");
	tap_ok(vma_protect(&s, VA(9), PG, PROT_NONE, NULL, NULL) == 0 &&
	       vma_protect(&s, VA(0), PG, PROT_NONE, NULL, NULL) == 0 && s.count == 3 &&
	       vma_protect(&s, VA(0), 10 * PG, PROT_NONE, NULL, NULL) == 0 && s.count == 1,
	       "PROT_NONE at both ends, then everywhere: one area");
	vma_set_destroy(&s, NULL, NULL);
}

static void test_map_fixed(void)
{
	struct vma_set s;
	struct vma a = area(VA(0), VA(10), RW, VMA_ANON);

	fresh(&s);
	vma_insert(&s, &a);
	a = area(VA(4), VA(6), RX, VMA_ANON);
	fail_in = 1;
	tap_ok(vma_map_fixed(&s, &a, NULL, NULL) == -ENOMEM &&
	       shape(&s, 1, (uint64_t[]){ VA(0), VA(10) }),
	       "replace the middle: two structs; only one: -ENOMEM, unchanged");
	fail_in = -1;
	ntold = 0;
	tap_ok(vma_map_fixed(&s, &a, tell, NULL) == 0 &&
	       shape(&s, 3, (uint64_t[]){ VA(0), VA(4), VA(4), VA(6), VA(6), VA(10) }) &&
	       vma_find(&s, VA(5))->vm_prot == RX && ntold == 1 && told_old[0] == RW,
	       "the middle replaced, the old piece told");
	a = area(VA(2), VA(12), RW, VMA_ANON);
	tap_ok(vma_map_fixed(&s, &a, NULL, NULL) == 0 && shape(&s, 1, (uint64_t[]){ VA(0), VA(12) }),
	       "replacing across areas and past the end merges with what is left");
	vma_set_destroy(&s, NULL, NULL);
}

static void test_insert_all(void)
{
	struct vma_set s;
	struct vma w[3] = { area(VA(0), VA(2), RX, VMA_TEXT), area(VA(2), VA(3), RW, VMA_DATA),
			    area(VA(3), VA(6), RW, VMA_BSS) };

	fresh(&s);
	fail_in = 2;
	tap_ok(vma_insert_all(&s, w, 3) == -ENOMEM && s.count == 0 && live == 0,
	       "third struct fails: -ENOMEM, nothing inserted, nothing leaked");
	fail_in = -1;
	w[2].vm_start = VA(1);
	tap_ok(vma_insert_all(&s, w, 3) == -EEXIST && s.count == 0, "two of them meet: -EEXIST");
	w[2].vm_start = VA(3);
	tap_ok(vma_insert_all(&s, w, 3) == 0 && s.count == 3 && s.bytes == 6 * PG,
	       "all three inserted");
	tap_ok(vma_insert_all(&s, w, 1) == -EEXIST && s.count == 3, "again: -EEXIST");
	tap_ok(vma_insert_all(&s, NULL, 0) == 0, "none: 0");
	vma_set_destroy(&s, NULL, NULL);
}

static void test_grow_down(void)
{
	struct vma_set s;
	struct vma a = area(USER_STACK_TOP - 4 * PG, USER_STACK_TOP, RW, VMA_STACK), *v = NULL;
	uint64_t low = USER_STACK_TOP - USER_STACK_MAX;

	fresh(&s);
	a.vm_flags = VMA_GROWSDOWN;
	vma_insert(&s, &a);
	tap_ok(vma_grow_down(&s, USER_STACK_TOP - 6 * PG + 8, &v) == 0 && v &&
	       v->vm_start == USER_STACK_TOP - 6 * PG && s.bytes == 6 * PG,
	       "a fault two pages below the stack grows it to that page");
	tap_ok(vma_grow_down(&s, USER_STACK_TOP - PG, NULL) == -EFAULT,
	       "a fault inside the stack is no growth: -EFAULT");
	tap_ok(vma_grow_down(&s, low, NULL) == 0 && vma_find(&s, low) &&
	       vma_grow_down(&s, low - 1, NULL) == -ENOMEM,
	       "it grows to USER_STACK_MAX and not a byte more (-ENOMEM)");
	vma_unmap(&s, low, USER_STACK_MAX - 4 * PG, NULL, NULL);
	a = area(USER_STACK_TOP - 6 * PG - USER_STACK_GAP - PG, USER_STACK_TOP - 6 * PG - USER_STACK_GAP,
		 RW, VMA_ANON);
	vma_insert(&s, &a);
	tap_ok(vma_grow_down(&s, USER_STACK_TOP - 6 * PG, NULL) == 0,
	       "growing to exactly USER_STACK_GAP above a mapping is fine");
	tap_ok(vma_grow_down(&s, USER_STACK_TOP - 7 * PG, NULL) == -ENOMEM &&
	       vma_find(&s, USER_STACK_TOP - 6 * PG)->vm_start == USER_STACK_TOP - 6 * PG,
	       "a page more would leave less than the gap: -ENOMEM, stack unchanged");
	tap_ok(vma_grow_down(&s, a.vm_start - PG, NULL) == -EFAULT,
	       "below an area that does not grow down: -EFAULT");
	tap_ok(vma_grow_down(&s, USER_STACK_TOP + 5, NULL) == -EFAULT, "above everything: -EFAULT");
	vma_set_destroy(&s, NULL, NULL);
}

static void test_find_gap(void)
{
	struct vma_set s;
	struct vma a = area(USER_STACK_TOP - 4 * PG, USER_STACK_TOP, RW, VMA_STACK);
	uint64_t at = 0;

	fresh(&s);
	tap_ok(vma_find_gap(&s, PG, VA(0), VA(16), &at) == 0 && at == VA(15),
	       "an empty set: the top page of the range");
	a.vm_flags = VMA_GROWSDOWN;
	vma_insert(&s, &a);
	tap_ok(vma_find_gap(&s, 3 * PG, USER_VA_BASE, USER_VA_TOP, &at) == 0 &&
	       at == a.vm_start - USER_STACK_GAP - 3 * PG,
	       "below the stack: USER_STACK_GAP kept free above the gap");
	a = area(VA(4), VA(8), RW, VMA_ANON);
	vma_insert(&s, &a);
	tap_ok(vma_find_gap(&s, 2 * PG, VA(0), VA(10), &at) == 0 && at == VA(8),
	       "the highest fit: above the area");
	tap_ok(vma_find_gap(&s, 3 * PG, VA(0), VA(10), &at) == 0 && at == VA(1),
	       "too large for the top: the gap below");
	tap_ok(vma_find_gap(&s, 5 * PG, VA(0), VA(10), &at) == -ENOMEM, "no gap fits: -ENOMEM");
	tap_ok(vma_find_gap(&s, 4 * PG, VA(4), VA(11), &at) == -ENOMEM &&
	       vma_find_gap(&s, 4 * PG, VA(4), VA(12), &at) == 0 && at == VA(8) &&
	       vma_find_gap(&s, 2 * PG, VA(5), VA(10), &at) == 0 && at == VA(8),
	       "the range bounds the gap on both sides");
	tap_ok(vma_find_gap(&s, 1, VA(0), VA(4), &at) == 0 && at == VA(3), "a byte takes a page");
	tap_ok(vma_find_gap(&s, 0, VA(0), VA(4), &at) == -EINVAL &&
	       vma_find_gap(&s, PG, VA(4), VA(4), &at) == -EINVAL &&
	       vma_find_gap(&s, PG, 0, VA(4), &at) == -EINVAL &&
	       vma_find_gap(&s, PG, VA(0) + 1, VA(4), &at) == -EINVAL &&
	       vma_find_gap(&s, UINT64_MAX, VA(0), VA(4), &at) == -EINVAL,
	       "len 0, empty range, below USER_VA_BASE, unaligned, huge len: -EINVAL");
	vma_set_destroy(&s, NULL, NULL);
}

static void test_access_ok(void)
{
	struct vma_set s;
	struct vma a = area(VA(0), VA(2), RW, VMA_DATA), b = area(VA(2), VA(3), PROT_READ, VMA_ANON);

	fresh(&s);
	vma_insert(&s, &a);
	vma_insert(&s, &b);
	tap_ok(vma_access_ok(&s, VA(0) + 5, PG, PROT_WRITE) == 0, "write inside an R W area");
	tap_ok(vma_access_ok(&s, VA(1), 2 * PG, PROT_READ) == 0, "read across two areas");
	tap_ok(vma_access_ok(&s, VA(1), 2 * PG, PROT_WRITE) == -EFAULT,
	       "write reaching the read-only area: -EFAULT");
	tap_ok(vma_access_ok(&s, VA(2), PG + 1, PROT_READ) == -EFAULT, "one byte past: -EFAULT");
	tap_ok(vma_access_ok(&s, VA(0) - 1, 2, PROT_READ) == -EFAULT, "one byte before: -EFAULT");
	tap_ok(vma_access_ok(&s, VA(0), PG, PROT_EXEC) == -EFAULT, "exec without X: -EFAULT");
	tap_ok(vma_access_ok(&s, 0xffffffc080000000ull, 8, PROT_READ) == -EFAULT &&
	       vma_access_ok(&s, 0x80200000, 8, PROT_READ) == -EFAULT &&
	       vma_access_ok(&s, 0, 8, PROT_READ) == -EFAULT &&
	       vma_access_ok(&s, VA(0), UINT64_MAX, PROT_READ) == -EFAULT,
	       "kernel half, the kernel image below USER_VA_BASE, null, wrapping length: -EFAULT");
	tap_ok(vma_access_ok(&s, 0, 0, PROT_READ) == 0, "length 0: 0");
	vma_set_destroy(&s, NULL, NULL);
}

static void test_count_limit(void)
{
	struct vma_set s;
	struct vma a;
	int err = 0;

	fresh(&s);
	for (unsigned i = 0; i < VMA_MAX_COUNT && !err; i++) {
		a = area(VA(2 * i), VA(2 * i + 1), RW, VMA_ANON);
		err = vma_insert(&s, &a);
	}
	tap_ok(!err && s.count == VMA_MAX_COUNT, "%u areas", VMA_MAX_COUNT);
	a = area(VA(2 * VMA_MAX_COUNT), VA(2 * VMA_MAX_COUNT + 1), RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == -ENOMEM, "one more: -ENOMEM");
	tap_ok(vma_unmap(&s, VA(0), PG, NULL, NULL) == 0 && vma_insert(&s, &a) == 0,
	       "after one goes, one more fits");
	a = area(VA(1), VA(2), RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == 0 && s.count == VMA_MAX_COUNT,
	       "a full set still takes an insert that merges");
	tap_ok(vma_protect(&s, VA(4), PG, PROT_READ, NULL, NULL) == 0 &&
	       vma_protect(&s, VA(1), PG, PROT_READ, NULL, NULL) == -ENOMEM,
	       "a protect needing a split of a full set: -ENOMEM");
	vma_set_destroy(&s, NULL, NULL);
	tap_ok(live == 0, "all freed");
}

/* ---- the randomized model --------------------------------------------- */

struct page_model {
	int mapped;
	unsigned prot;
	enum vma_kind kind;
	const void *priv;
};

static struct page_model model[NPAGES];
static const char tokens[2];
static const enum vma_kind kinds[] = { VMA_DATA, VMA_HEAP, VMA_ANON };

static int pages_alike(const struct page_model *a, const struct page_model *b)
{
	return a->mapped && b->mapped && a->prot == b->prot && a->kind == b->kind &&
	       a->priv == b->priv;
}

/* The set against the model: the same pages and the fewest areas. */
static int matches_model(const struct vma_set *s, const char **why)
{
	unsigned runs = 0, p = 0;
	const struct vma *v;

	for (unsigned i = 0; i < NPAGES; i++)
		runs += model[i].mapped && (i == 0 || !pages_alike(&model[i - 1], &model[i]));
	for (v = vma_first(s); v; v = vma_next(s, v)) {
		for (uint64_t va = v->vm_start; va < v->vm_end; va += PG) {
			p = (unsigned)((va - BASE) / PG);
			if (va < BASE || p >= NPAGES || !model[p].mapped ||
			    model[p].prot != v->vm_prot || model[p].kind != v->vm_kind ||
			    model[p].priv != v->vm_private)
				return (*why = "an area's page differs from the model"), 0;
		}
	}
	if (s->count != runs)
		return (*why = "not the model's number of runs (a merge missing or extra)"), 0;
	for (p = 0; p < NPAGES; p++)
		if (model[p].mapped != (vma_find(s, VA(p)) != NULL))
			return (*why = "vma_find disagrees with the model"), 0;
	if (vma_check(s, why))
		return 0;
	if (live != (long)s->count)
		return (*why = "structs leaked or freed twice"), 0;
	return 1;
}

/* Pages the callbacks told about: old protection, or -1 if untold. */
static int told_page[NPAGES];

static void tell_pages(void *ctx, const struct vma *piece, unsigned old_prot)
{
	int *bad = ctx;

	for (uint64_t va = piece->vm_start; va < piece->vm_end; va += PG) {
		unsigned p = (unsigned)((va - BASE) / PG);

		if (va < BASE || p >= NPAGES || told_page[p] != -1)
			*bad = 1;
		else
			told_page[p] = (int)old_prot;
	}
}

struct op {
	int kind;                 /* 0 insert, 1 unmap, 2 protect, 3 map_fixed, 4 find_gap */
	unsigned lo, n;           /* pages */
	struct vma want;
};

static struct op random_op(uint64_t *rng)
{
	struct op o;

	o.kind = (int)(xorshift64(rng) % 5);
	o.lo = (unsigned)(xorshift64(rng) % NPAGES);
	o.n = 1 + (unsigned)(xorshift64(rng) % (xorshift64(rng) % 4 ? 8 : 48));
	if (o.lo + o.n > NPAGES)
		o.n = NPAGES - o.lo;
	o.want = area(VA(o.lo), VA(o.lo + o.n), (unsigned)(xorshift64(rng) % 8),
		      kinds[xorshift64(rng) % 3]);
	if (o.want.vm_prot & PROT_WRITE)
		o.want.vm_prot |= PROT_READ;
	o.want.vm_private = xorshift64(rng) % 4 ? NULL : &tokens[xorshift64(rng) % 2];
	return o;
}

static int model_any(unsigned lo, unsigned n, int mapped)
{
	for (unsigned p = lo; p < lo + n; p++)
		if (model[p].mapped == mapped)
			return 1;
	return 0;
}

/* The model's top-down gap of n pages. */
static int model_gap(unsigned n, unsigned *at)
{
	for (int p = (int)(NPAGES - n); p >= 0; p--)
		if (!model_any((unsigned)p, n, 1))
			return *at = (unsigned)p, 1;
	return 0;
}

/* Apply o to the model: what a successful operation does; the pages
 * whose told protection the set must report (-1: none). */
static void model_apply(const struct op *o, int *expect)
{
	for (unsigned p = 0; p < NPAGES; p++)
		expect[p] = -1;
	for (unsigned p = o->lo; p < o->lo + o->n; p++) {
		struct page_model *m = &model[p];

		if (o->kind != 0 && m->mapped && (o->kind != 2 || m->prot != o->want.vm_prot))
			expect[p] = (int)m->prot;
		if (o->kind == 2)
			m->prot = o->want.vm_prot;
		else if (o->kind == 1)
			m->mapped = 0;
		else
			*m = (struct page_model){ 1, o->want.vm_prot, o->want.vm_kind,
						   o->want.vm_private };
	}
}

/* The set's areas, to see an -ENOMEM change nothing. */
static unsigned snapshot(const struct vma_set *s, struct vma *out)
{
	unsigned n = 0;

	for (const struct vma *v = vma_first(s); v && n < NPAGES; v = vma_next(s, v))
		out[n++] = *v;
	return n;
}

static int same_as(const struct vma_set *s, const struct vma *snap, unsigned n)
{
	const struct vma *v = vma_first(s);

	for (unsigned i = 0; i < n; i++, v = vma_next(s, v))
		if (!v || v->vm_start != snap[i].vm_start || v->vm_end != snap[i].vm_end ||
		    v->vm_prot != snap[i].vm_prot || v->vm_kind != snap[i].vm_kind ||
		    v->vm_private != snap[i].vm_private)
			return 0;
	return !v;
}

static int run_op(struct vma_set *s, const struct op *o, int *bad)
{
	uint64_t at;

	switch (o->kind) {
	case 0: return vma_insert(s, &o->want);
	case 1: return vma_unmap(s, VA(o->lo), o->n * PG, tell_pages, bad);
	case 2: return vma_protect(s, VA(o->lo), o->n * PG, o->want.vm_prot, tell_pages, bad);
	case 3: return vma_map_fixed(s, &o->want, tell_pages, bad);
	default: {
		unsigned want_at;
		int err = vma_find_gap(s, o->n * PG, BASE, VA(NPAGES), &at);
		int fits = model_gap(o->n, &want_at);

		if (fits ? err || at != VA(want_at) : err != -ENOMEM)
			*bad = 1;
		return 0;
	}
	}
}

/* The error the model says o gets with memory enough. */
static int model_error(const struct op *o)
{
	if (o->kind == 0 && model_any(o->lo, o->n, 1))
		return -EEXIST;
	if (o->kind == 2 && model_any(o->lo, o->n, 0))
		return -ENOMEM;
	return 0;
}

static long enomem_seen;   /* operations the failing allocator made -ENOMEM */

static int check_op(struct vma_set *s, const struct op *o, int injected, const char **why)
{
	static struct vma snap[NPAGES];
	int expect[NPAGES], bad = 0, err, want = model_error(o);
	unsigned n = snapshot(s, snap);

	for (unsigned p = 0; p < NPAGES; p++)
		told_page[p] = -1;
	err = run_op(s, o, &bad);
	fail_in = -1;
	if (bad)
		return (*why = "a piece told twice or outside, or find_gap differs"), 0;
	enomem_seen += err == -ENOMEM && injected && want == 0;
	if (err == -ENOMEM && injected && want == 0)
		return same_as(s, snap, n) && live == (long)n ? 1 :
		       ((*why = "-ENOMEM changed the set"), 0);
	if (err != want)
		return (*why = "not the model's result"), 0;
	if (err)
		return same_as(s, snap, n) ? 1 : ((*why = "a failed operation changed the set"), 0);
	if (o->kind == 4)
		return matches_model(s, why);
	model_apply(o, expect);
	if (memcmp(expect, told_page, sizeof(expect)))
		return (*why = "the callbacks told other pages than changed"), 0;
	return matches_model(s, why);
}

static void test_random_model(intptr_t seed)
{
	uint64_t rng = (uint64_t)seed;
	struct vma_set s;
	const char *why = NULL;
	long op, injected = 0;

	tap_seed("vma model", (unsigned long long)seed);
	fresh(&s);
	memset(model, 0, sizeof(model));
	enomem_seen = 0;
	for (op = 0; op < OPS; op++) {
		struct op o = random_op(&rng);
		int inject = xorshift64(&rng) % 4 == 0;

		fail_in = inject ? (long)(xorshift64(&rng) % 3) : -1;
		if (!check_op(&s, &o, inject, &why))
			break;
		injected += inject;
	}
	tap_ok(op == OPS, "seed %llu: %ld of %d operations match the model (%ld with a failing "
	       "allocator, %ld of them -ENOMEM and unchanged)%s%s", (unsigned long long)seed, op,
	       OPS, injected, enomem_seen, why ? ": " : "", why ? why : "");
	vma_set_destroy(&s, NULL, NULL);
	tap_ok(live == 0, "seed %llu: destroy frees every struct", (unsigned long long)seed);
}

/* ---- the default allocator: kmalloc, under fault injection ---------- */

static void test_kmalloc_backed(void)
{
	static uint8_t arena[4u << 20] __attribute__((aligned(4096)));
	struct faultinj_config fi = { .probability = 100, .times = -1, .scope = FI_ALL };
	struct vma_set s;
	struct vma a = area(VA(0), VA(8), RW, VMA_ANON);
	uint64_t before;

	if (!tap_ok(mm_host_init(arena, sizeof(arena)) == 0, "mm_host_init"))
		return;
	before = kmalloc_bytes_in_use();
	vma_set_init(&s, NULL);
	tap_ok(vma_insert(&s, &a) == 0 && kmalloc_bytes_in_use() > before, "an area from kmalloc");
	faultinj_set(&fi);
	tap_ok(vma_unmap(&s, VA(2), PG, NULL, NULL) == -ENOMEM && s.count == 1 &&
	       vma_check(&s, NULL) == 0, "every allocation failing: a split is -ENOMEM, unchanged");
	a = area(VA(8), VA(9), RW, VMA_ANON);
	tap_ok(vma_insert(&s, &a) == 0 && s.count == 1, "an insert that merges needs nothing");
	faultinj_off();
	tap_ok(vma_unmap(&s, VA(2), PG, NULL, NULL) == 0 && s.count == 2, "injection off: split");
	vma_set_destroy(&s, NULL, NULL);
	tap_ok(kmalloc_bytes_in_use() == before, "destroy gives kmalloc back every byte");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_insert_merge),
	TAP_CASE(test_insert_errors),
	TAP_CASE(test_unmap_splits),
	TAP_CASE(test_protect_splits_merges),
	TAP_CASE(test_map_fixed),
	TAP_CASE(test_insert_all),
	TAP_CASE(test_grow_down),
	TAP_CASE(test_find_gap),
	TAP_CASE(test_access_ok),
	TAP_CASE(test_count_limit),
	TAP_CASE_ARG(test_random_model, 1),
	TAP_CASE_ARG(test_random_model, 0x5eed5eedull),
	TAP_CASE_ARG(test_random_model, 20261130),
	TAP_CASE_ARG(test_random_model, 0x9e3779b97f4a7c15ull),
	TAP_CASE(test_kmalloc_backed),
};

int main(void)
{
	return tap_main(TAP_CASES(cases), NULL, NULL);
}
