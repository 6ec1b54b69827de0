/* slab.c - slab caches (mm/slab.h): fixed-size objects on page runs.
 *
 * Not a general-purpose allocator and not per-CPU: one mm lock guards all
 * caches. Caches themselves live in a static table (SLAB_MAX_CACHES), so
 * creating one never allocates.
 *
 * Slab layout (a slab is one buddy block of 2^order frames):
 *
 *   base                                                  base + 4K<<order
 *   | slot 0 | slot 1 | ... | slot n-1 | waste | alloc map | poison map | foot |
 *   slot = [left red zone][object][right red zone, padding to stride]
 *
 *   - foot (last 8 bytes): magic, layout index, object count n.
 *   - alloc map: bit i set <=> object i is allocated. It is the truth; the
 *     embedded free list is a fast path that can be rebuilt from it.
 *   - poison map: bit i set <=> free object i was poisoned (bytes 8.. of the
 *     object are 0x6b); checked and cleared when object i is handed out.
 *   - free objects hold the next free object's address in their first word;
 *     struct page.freelist is the head, .inuse the allocated count,
 *     .priv the cache, .lru the link on the cache's full/partial/empty list.
 *   - head frame: PG_HEAD, owner PAGE_OWNER_SLAB, compound (tails point to
 *     it), so obj -> virt_to_page -> compound_head -> priv is O(1).
 *
 * Two layouts per cache: plain (no red zones) and red-zone (left zone of
 * max(8, align) bytes when align <= 64, right zone of >= 8 bytes). Which one
 * a slab has is in its foot, so an object's red zones are checked on free
 * exactly when it was allocated from a red-zone slab: MM_DEBUG_REDZONE
 * only chooses which slabs new objects come from, and toggling it with
 * live objects is safe. If the preferred layout cannot get a slab, the
 * other layout's free objects are used rather than failing.
 *
 * Invariants (slab_check verifies them):
 *   - a slab is on full (inuse == n), partial (0 < inuse < n) or empty
 *     (inuse == 0) of its layout, and the list counters match;
 *   - inuse == popcount(alloc map); the free list holds exactly the n -
 *     inuse objects whose alloc bit is clear, each once;
 *   - at most SLAB_RESERVE empty slabs per layout stay after a free
 *     (while a transaction is undone, all stay and txn.c trims them after:
 *     txn_internal.h); kmem_cache_shrink() releases those too. */
#include <string.h>
#include "mm/slab.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/mm_debug.h"
#include "mm/mm_env.h"
#include "kerrno.h"
#include "slab_internal.h"
#include "txn_internal.h"

#define SLAB_MAGIC      0x51ab0b1eu
#define SLAB_MAX_SIZE   (1UL << 20)
#define SLAB_PREF_ORDER 3 /* largest order tried to cut waste below 1/8 */
#define FREEPTR         sizeof(void *)

enum { LAY_PLAIN, LAY_RZ, NR_LAYOUTS };
enum slab_state { SLAB_EMPTY, SLAB_PARTIAL, SLAB_FULL };

struct slab_layout {
	size_t stride;   /* bytes per slot */
	size_t obj_off;  /* object offset in its slot (left red zone) */
	unsigned order;  /* slab = 2^order frames */
	unsigned nobjs;  /* objects per slab */
	size_t map_off;  /* alloc map's offset from the slab base (derived) */
	size_t foot_off; /* foot's offset from the slab base (derived) */
	struct list_head lists[3]; /* by enum slab_state */
	unsigned long count[3];
};

struct kmem_cache {
	char name[SLAB_NAME_MAX];
	size_t size;     /* requested object size */
	size_t objsize;  /* max(size, FREEPTR): bytes the object owns */
	size_t align;
	unsigned flags;
	bool live;
	struct slab_layout lay[NR_LAYOUTS];
	unsigned long active, total_objs, pages;
	unsigned long requests, failures, injected, frees, wrong_frees;
};

struct slab_foot {
	uint32_t magic;
	uint16_t layout;
	uint16_t nobjs;
};

static struct kmem_cache caches[SLAB_MAX_CACHES];

/* ---- tiny accessors --------------------------------------------------- */

static size_t round_up(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static size_t map_words(unsigned n)
{
	return (n + 63) / 64;
}

static size_t slab_bytes(const struct page *pg)
{
	return PAGE_SIZE << pg->order;
}

static char *slab_base(const struct page *pg)
{
	return page_address(pg);
}

static struct slab_foot *slab_foot(const struct page *pg)
{
	return (struct slab_foot *)(slab_base(pg) + slab_bytes(pg) - 8);
}

/* alloc map; the poison map follows it */
static uint64_t *slab_map(const struct page *pg, unsigned n)
{
	return (uint64_t *)((char *)slab_foot(pg) - 16 * map_words(n));
}

static bool bit_get(const uint64_t *m, unsigned i)
{
	return (m[i / 64] >> (i % 64)) & 1;
}

static void bit_put(uint64_t *m, unsigned i, bool v)
{
	if (v)
		m[i / 64] |= 1ULL << (i % 64);
	else
		m[i / 64] &= ~(1ULL << (i % 64));
}

static char *slab_obj(const struct page *pg, const struct slab_layout *l,
		      unsigned i)
{
	return slab_base(pg) + i * l->stride + l->obj_off;
}

static void *next_free(const void *obj)
{
	void *n;

	memcpy(&n, obj, sizeof(n));
	return n;
}

static void set_next_free(void *obj, void *next)
{
	memcpy(obj, &next, sizeof(next));
}

static enum slab_state slab_state(const struct page *pg, unsigned n)
{
	return pg->inuse == 0 ? SLAB_EMPTY :
	       pg->inuse == n ? SLAB_FULL : SLAB_PARTIAL;
}

static bool cache_valid(const struct kmem_cache *c)
{
	uintptr_t p = (uintptr_t)c, b = (uintptr_t)caches;

	return p >= b && p < b + sizeof(caches) &&
	       (p - b) % sizeof(caches[0]) == 0 && c->live;
}

/* ---- layout ------------------------------------------------------------ */

/* Objects of stride that fit in bytes together with the maps and foot. */
static unsigned layout_fit(size_t bytes, size_t stride)
{
	size_t n = (bytes - 8) / stride;

	if (n > 0xffff)
		n = 0xffff;
	while (n && n * stride + 8 + 16 * map_words(n) > bytes)
		n--;
	return (unsigned)n;
}

/* Smallest order wasting at most 1/8; failing that, the least wasteful
 * order up to SLAB_PREF_ORDER; objects too big for that get the first
 * order that holds one. */
static void layout_order(struct slab_layout *l)
{
	unsigned o, n, best = MAX_ORDER + 1;
	size_t bytes, waste, best_waste = 0;

	for (o = 0; o <= MAX_ORDER; o++) {
		bytes = PAGE_SIZE << o;
		n = layout_fit(bytes, l->stride);
		if (!n)
			continue;
		waste = bytes - n * l->stride;
		if (waste * 8 <= bytes) {
			best = o;
			break;
		}
		if (best > MAX_ORDER ||
		    waste * (PAGE_SIZE << best) < best_waste * bytes) {
			best = o;
			best_waste = waste;
		}
		if (o >= SLAB_PREF_ORDER)
			break;
	}
	l->order = best;
	l->nobjs = layout_fit(PAGE_SIZE << best, l->stride);
}

static void layout_init(struct kmem_cache *c, int li)
{
	struct slab_layout *l = &c->lay[li];
	size_t right = 0;
	int s;

	l->obj_off = 0;
	if (li == LAY_RZ) {
		l->obj_off = c->align <= 64 ? round_up(8, c->align) : 0;
		right = 8;
	}
	l->stride = round_up(l->obj_off + c->objsize + right, c->align);
	layout_order(l);
	l->foot_off = (PAGE_SIZE << l->order) - 8;
	l->map_off = l->foot_off - 16 * map_words(l->nobjs);
	for (s = 0; s < 3; s++) {
		list_init(&l->lists[s]);
		l->count[s] = 0;
	}
}

/* ---- slab life cycle --------------------------------------------------- */

static void slab_link(struct kmem_cache *c, struct page *pg, int li)
{
	struct slab_layout *l = &c->lay[li];
	enum slab_state s = slab_state(pg, l->nobjs);

	list_add(&pg->lru, &l->lists[s]);
	l->count[s]++;
}

static void slab_unlink(struct kmem_cache *c, struct page *pg, int li)
{
	struct slab_layout *l = &c->lay[li];

	list_del(&pg->lru);
	l->count[slab_state(pg, l->nobjs)]--;
}

/* Change pg->inuse by delta, moving the slab to another list only when
 * its state (empty / partial / full) changes: the common case is none. */
static void slab_count_change(struct kmem_cache *c, struct page *pg, int li, int delta)
{
	struct slab_layout *l = &c->lay[li];
	enum slab_state before = slab_state(pg, l->nobjs);

	pg->inuse = (uint32_t)((int)pg->inuse + delta);
	if (slab_state(pg, l->nobjs) != before) {
		list_del(&pg->lru);
		l->count[before]--;
		slab_link(c, pg, li);
	}
}

/* Thread the free list through every object whose alloc bit is clear. */
static void slab_rebuild_freelist(struct page *pg, const struct slab_layout *l)
{
	uint64_t *map = slab_map(pg, l->nobjs);
	void *head = NULL;
	unsigned i = l->nobjs;

	while (i--) {
		if (bit_get(map, i))
			continue;
		set_next_free(slab_obj(pg, l, i), head);
		head = slab_obj(pg, l, i);
	}
	pg->freelist = head;
}

static struct page *slab_new(struct kmem_cache *c, int li, gfp_t gfp)
{
	struct slab_layout *l = &c->lay[li];
	struct page *pg = alloc_pages(gfp & ~GFP_ZERO, l->order);
	struct slab_foot *f;

	if (!pg)
		return NULL;
	if (l->order)
		page_set_compound(pg, l->order);
	page_set_owner(pg, PAGE_OWNER_SLAB);
	pg->priv = c;
	pg->inuse = 0;
	f = slab_foot(pg);
	f->magic = SLAB_MAGIC;
	f->layout = (uint16_t)li;
	f->nobjs = (uint16_t)l->nobjs;
	memset(slab_map(pg, l->nobjs), 0, 16 * map_words(l->nobjs));
	slab_rebuild_freelist(pg, l);
	slab_link(c, pg, li);
	c->total_objs += l->nobjs;
	c->pages += 1UL << l->order;
	return pg;
}

/* Give an empty slab back to the buddy allocator. */
static void slab_release(struct kmem_cache *c, struct page *pg, int li)
{
	struct slab_layout *l = &c->lay[li];

	slab_unlink(c, pg, li);
	c->total_objs -= l->nobjs;
	c->pages -= 1UL << l->order;
	slab_foot(pg)->magic = 0;
	pg->priv = NULL;
	pg->freelist = NULL;
	if (free_pages_owned(pg, l->order, PAGE_OWNER_SLAB) != 0) {
		mm_debug_count_corruption();
		mm_report("slab: %s: buddy refused slab %p", c->name,
			  (void *)slab_base(pg));
	}
}

static unsigned long layout_shrink(struct kmem_cache *c, int li, unsigned keep)
{
	struct slab_layout *l = &c->lay[li];
	unsigned long freed = 0;

	while (l->count[SLAB_EMPTY] > keep) {
		struct page *pg = list_first_entry(&l->lists[SLAB_EMPTY],
						   struct page, lru);
		slab_release(c, pg, li);
		freed += 1UL << l->order;
	}
	return freed;
}

/* ---- create / destroy -------------------------------------------------- */

void slab_init(void)
{
	memset(caches, 0, sizeof(caches));
}

struct kmem_cache *kmem_cache_create(const char *name, size_t size,
				     size_t align, unsigned flags)
{
	struct kmem_cache *c = NULL;
	unsigned long s;
	int i;

	if (!align)
		align = 8;
	if (!name || !size || size > SLAB_MAX_SIZE || (align & (align - 1)) ||
	    align > SLAB_MAX_ALIGN)
		return NULL;
	s = mm_lock();
	for (i = 0; i < SLAB_MAX_CACHES && !c; i++)
		if (!caches[i].live)
			c = &caches[i];
	if (c) {
		memset(c, 0, sizeof(*c));
		strncpy(c->name, name, SLAB_NAME_MAX - 1);
		c->size = size;
		c->objsize = size < FREEPTR ? FREEPTR : size;
		c->align = align < FREEPTR ? FREEPTR : align;
		c->flags = flags;
		layout_init(c, LAY_PLAIN);
		layout_init(c, LAY_RZ);
		c->live = true;
	}
	mm_unlock(s);
	return c;
}

int kmem_cache_destroy(struct kmem_cache *c)
{
	unsigned long s = mm_lock();
	int ret = 0;

	if (!cache_valid(c)) {
		ret = -EINVAL;
	} else if (c->active) {
		mm_report("slab: %s: destroy with %lu objects in use", c->name,
			  c->active);
		ret = -EBUSY;
	} else {
		layout_shrink(c, LAY_PLAIN, 0);
		layout_shrink(c, LAY_RZ, 0);
		c->live = false;
	}
	mm_unlock(s);
	return ret;
}

unsigned long kmem_cache_shrink(struct kmem_cache *c)
{
	unsigned long s = mm_lock(), freed = 0;
	int i;

	for (i = 0; i < SLAB_MAX_CACHES; i++) {
		struct kmem_cache *k = &caches[i];

		if (!k->live || (c && c != k))
			continue;
		freed += layout_shrink(k, LAY_PLAIN, 0);
		freed += layout_shrink(k, LAY_RZ, 0);
	}
	mm_unlock(s);
	return freed;
}

size_t kmem_cache_size(const struct kmem_cache *c)
{
	return c ? c->size : 0;
}

bool kmem_cache_is_kmalloc(const struct kmem_cache *c)
{
	return (c->flags & SLAB_KMALLOC) != 0;
}

/* ---- alloc --------------------------------------------------------------- */

/* A slab with a free object: preferred layout first (partial, empty, new),
 * then the other layout's partial and empty slabs. */
static struct page *slab_pick(struct kmem_cache *c, int want, gfp_t gfp,
			      int *li)
{
	struct slab_layout *l = &c->lay[want], *o = &c->lay[!want];
	struct page *pg;

	*li = want;
	if (!list_empty(&l->lists[SLAB_PARTIAL]))
		return list_first_entry(&l->lists[SLAB_PARTIAL], struct page, lru);
	if (!list_empty(&l->lists[SLAB_EMPTY]))
		return list_first_entry(&l->lists[SLAB_EMPTY], struct page, lru);
	pg = slab_new(c, want, gfp);
	if (pg)
		return pg;
	*li = !want;
	if (!list_empty(&o->lists[SLAB_PARTIAL]))
		return list_first_entry(&o->lists[SLAB_PARTIAL], struct page, lru);
	if (!list_empty(&o->lists[SLAB_EMPTY]))
		return list_first_entry(&o->lists[SLAB_EMPTY], struct page, lru);
	return NULL;
}

/* Index of obj in the slab, or -1 when it is not at an object boundary. */
static long slab_index(const struct page *pg, const struct slab_layout *l,
		       const void *obj)
{
	uintptr_t off = (uintptr_t)obj - (uintptr_t)slab_base(pg);

	if (off < l->obj_off || (off - l->obj_off) % l->stride)
		return -1;
	off = (off - l->obj_off) / l->stride;
	return off < l->nobjs ? (long)off : -1;
}

/* Is next a legal successor in the free list of pg (after taking one)? */
static bool freelist_next_ok(const struct page *pg, const struct slab_layout *l,
			     const void *obj, const void *next)
{
	long i;

	if (!next)
		return pg->inuse + 1 == l->nobjs;
	i = slab_index(pg, l, next);
	return i >= 0 && next != obj &&
	       !bit_get(slab_map(pg, l->nobjs), (unsigned)i);
}

static void obj_check_poison(struct kmem_cache *c, void *obj, void *caller)
{
	size_t n = c->objsize - FREEPTR;
	size_t bad = mm_debug_find_not((char *)obj + FREEPTR, n, MM_POISON_FREE);

	if (bad == n)
		return;
	mm_debug_count_poison();
	mm_report("slab: %s: poison overwritten at %p+%zu (use after free), "
		  "found at alloc by %p", c->name, obj, FREEPTR + bad, caller);
}

static void obj_set_redzone(const struct slab_layout *l, size_t objsize,
			    char *obj)
{
	memset(obj - l->obj_off, MM_REDZONE_BYTE, l->obj_off);
	memset(obj + objsize, MM_REDZONE_BYTE,
	       l->stride - l->obj_off - objsize);
}

/* Take the first free object of pg, repairing a corrupted free list. */
static void *slab_take(struct kmem_cache *c, struct page *pg, int li,
		       void *caller)
{
	struct slab_layout *l = &c->lay[li];
	uint64_t *map = slab_map(pg, l->nobjs);
	char *obj = pg->freelist;
	long i = obj ? slab_index(pg, l, obj) : -1;

	if (i < 0 || bit_get(map, (unsigned)i) ||
	    !freelist_next_ok(pg, l, obj, next_free(obj))) {
		mm_debug_count_corruption();
		mm_report("slab: %s: free list of slab %p corrupt at %p "
			  "(write after free?); rebuilt", c->name,
			  (void *)slab_base(pg), (void *)obj);
		slab_rebuild_freelist(pg, l);
		obj = pg->freelist;
		i = slab_index(pg, l, obj);
	}
	slab_count_change(c, pg, li, +1);
	pg->freelist = next_free(obj);
	bit_put(map, (unsigned)i, true);
	if (bit_get(map + map_words(l->nobjs), (unsigned)i)) {
		bit_put(map + map_words(l->nobjs), (unsigned)i, false);
		obj_check_poison(c, obj, caller);
	}
	if (li == LAY_RZ)
		obj_set_redzone(l, c->objsize, obj);
	return obj;
}

void *__kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp, void *caller)
{
	int want = (mm_debug_flags & MM_DEBUG_REDZONE) ? LAY_RZ : LAY_PLAIN;
	struct page *pg;
	void *obj;
	int li;

	if (!cache_valid(c))
		return NULL;
	c->requests++;
	if (faultinj_should_fail(FI_SLAB, c->size, gfp)) {
		c->failures++;
		c->injected++;
		return NULL;
	}
	pg = slab_pick(c, want, gfp, &li);
	if (!pg) {
		c->failures++;
		return NULL;
	}
	obj = slab_take(c, pg, li, caller);
	c->active++;
	if (gfp & GFP_ZERO)
		memset(obj, 0, c->objsize);
	return obj;
}

void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	unsigned long s = mm_lock();
	void *obj = __kmem_cache_alloc(c, gfp, __builtin_return_address(0));

	mm_unlock(s);
	return obj;
}

/* ---- kmalloc's fast paths ------------------------------------------------ */

/* Whether the object at slot i of a plain slab may be handed out without
 * the full path's checks: its free-list successor is NULL or a free slot
 * of the same slab, and it was not poisoned. */
static bool fast_take_ok(const struct page *pg, const struct slab_layout *l, const char *base,
			 const uint64_t *map, unsigned long i, const char *next)
{
	unsigned long off = (unsigned long)(next - base) - l->obj_off, j;

	if (bit_get(map + map_words(l->nobjs), (unsigned)i))
		return false;
	if (!next)
		return pg->inuse + 1 == l->nobjs;
	j = off / l->stride;
	return off % l->stride == 0 && j < l->nobjs && j != i && !bit_get(map, (unsigned)j);
}

void *slab_alloc_fast(struct kmem_cache *c)
{
	struct slab_layout *l = &c->lay[LAY_PLAIN];
	struct page *pg;
	char *base, *obj, *next;
	uint64_t *map;
	unsigned long i;

	if (mm_debug_flags || faultinj_enabled)
		return NULL;
	if (!list_empty(&l->lists[SLAB_PARTIAL]))
		pg = list_first_entry(&l->lists[SLAB_PARTIAL], struct page, lru);
	else if (!list_empty(&l->lists[SLAB_EMPTY]))
		pg = list_first_entry(&l->lists[SLAB_EMPTY], struct page, lru);
	else
		return NULL;
	obj = pg->freelist;
	if (!obj)
		return NULL;
	base = slab_base(pg);
	map = (uint64_t *)(base + l->map_off);
	i = ((unsigned long)(obj - base) - l->obj_off) / l->stride;
	next = next_free(obj);
	if (!fast_take_ok(pg, l, base, map, i, next))
		return NULL;            /* the full path repairs or checks it */
	pg->freelist = next;
	bit_put(map, (unsigned)i, true);
	slab_count_change(c, pg, LAY_PLAIN, +1);
	c->requests++;
	c->active++;
	return obj;
}

struct kmem_cache *slab_free_fast(struct page *pg, void *obj)
{
	struct kmem_cache *c = pg->priv;
	struct slab_layout *l;
	const struct slab_foot *f;
	unsigned long off, i;
	uint64_t *map;
	char *base;

	if (mm_debug_flags || !cache_valid(c) || pg->inuse <= 1)
		return NULL;            /* debug checks, or the slab would empty */
	l = &c->lay[LAY_PLAIN];
	base = slab_base(pg);
	f = (const struct slab_foot *)(base + l->foot_off);
	if (pg->order != l->order || f->magic != SLAB_MAGIC || f->layout != LAY_PLAIN)
		return NULL;
	off = (unsigned long)((char *)obj - base) - l->obj_off;
	i = off / l->stride;
	map = (uint64_t *)(base + l->map_off);
	if (off % l->stride || i >= l->nobjs || !bit_get(map, (unsigned)i))
		return NULL;            /* the full path names the mistake */
	set_next_free(obj, pg->freelist);
	pg->freelist = obj;
	bit_put(map, (unsigned)i, false);
	slab_count_change(c, pg, LAY_PLAIN, -1);
	c->active--;
	c->frees++;
	return c;
}

/* ---- free ---------------------------------------------------------------- */

/* The slab head holding obj when obj lies in a live slab, else NULL with
 * *why set. */
static struct page *slab_of(const void *obj, const char **why)
{
	struct page *pg = obj ? virt_to_page(obj) : NULL;

	*why = "not in any page frame";
	if (!pg)
		return NULL;
	pg = compound_head(pg);
	*why = "not in a slab";
	if (!(pg->flags & PG_HEAD) || pg->owner != PAGE_OWNER_SLAB)
		return NULL;
	*why = "slab metadata corrupt";
	if (!cache_valid(pg->priv) || slab_foot(pg)->magic != SLAB_MAGIC ||
	    slab_foot(pg)->layout >= NR_LAYOUTS)
		return NULL;
	return pg;
}

/* Offset (from the slot start) of the first broken red-zone byte of obj,
 * or SIZE_MAX when both zones are intact. */
static size_t redzone_broken(const struct kmem_cache *c,
			     const struct slab_layout *l, const char *obj)
{
	size_t right = l->stride - l->obj_off - c->objsize;
	size_t bad = mm_debug_find_not(obj - l->obj_off, l->obj_off,
				       MM_REDZONE_BYTE);

	if (bad != l->obj_off)
		return bad;
	bad = mm_debug_find_not(obj + c->objsize, right, MM_REDZONE_BYTE);
	return bad != right ? l->obj_off + c->objsize + bad : SIZE_MAX;
}

static void obj_check_redzone(struct kmem_cache *c, const struct slab_layout *l,
			      char *obj, void *caller)
{
	size_t bad = redzone_broken(c, l, obj);

	if (bad == SIZE_MAX)
		return;
	mm_debug_count_redzone();
	if (bad >= l->obj_off)
		mm_report("slab: %s: red zone overwritten at %p+%zu (past "
			  "the %zu-byte object), found at free by %p", c->name,
			  (void *)obj, bad - l->obj_off, c->objsize, caller);
	else
		mm_report("slab: %s: red zone overwritten at %p-%zu (before "
			  "the object), found at free by %p", c->name,
			  (void *)obj, l->obj_off - bad, caller);
}

static int wrong_free(struct kmem_cache *c, const void *obj, void *caller,
		      const char *why)
{
	if (c)
		c->wrong_frees++;
	mm_report("slab: %s: wrong free of %p by %p: %s",
		  c ? c->name : "?", obj, caller, why);
	return -EINVAL;
}

/* Put a checked, allocated object back on its slab. */
static void slab_put(struct kmem_cache *c, struct page *pg, int li, char *obj,
		     unsigned i, void *caller)
{
	struct slab_layout *l = &c->lay[li];
	uint64_t *map = slab_map(pg, l->nobjs);

	if (li == LAY_RZ)
		obj_check_redzone(c, l, obj, caller);
	if (mm_debug_flags & MM_DEBUG_POISON) {
		memset(obj + FREEPTR, MM_POISON_FREE, c->objsize - FREEPTR);
		bit_put(map + map_words(l->nobjs), i, true);
	}
	slab_count_change(c, pg, li, -1);
	set_next_free(obj, pg->freelist);
	pg->freelist = obj;
	bit_put(map, i, false);
	c->active--;
	c->frees++;
	if (pg->inuse == 0 && !mm_txn_holding) /* txn.c trims after undo */
		layout_shrink(c, li, SLAB_RESERVE);
}

/* Find the live object obj: its slab head (*pgp, NULL when obj is in no
 * slab), layout and index. Returns NULL, or why obj is not a live object. */
static const char *slab_locate(const void *obj, struct page **pgp, int *li, long *i)
{
	const char *why;
	struct page *pg = slab_of(obj, &why);
	struct kmem_cache *c;

	*pgp = pg;
	if (!pg)
		return why;
	c = pg->priv;
	*li = slab_foot(pg)->layout;
	*i = slab_index(pg, &c->lay[*li], obj);
	if (*i < 0)
		return "not at an object start";
	if (!bit_get(slab_map(pg, c->lay[*li].nobjs), (unsigned)*i))
		return "object is free (double free?)";
	return NULL;
}

int __kmem_cache_free(struct kmem_cache *want, void *obj, void *caller,
		      struct kmem_cache **from)
{
	struct page *pg;
	int li = 0;
	long i = 0;
	const char *why = slab_locate(obj, &pg, &li, &i);
	struct kmem_cache *c = pg ? pg->priv : NULL;

	if (pg && want && want != c)
		why = "object of another cache";
	if (why)   /* name the cache the caller meant, else the one obj is in */
		return wrong_free(want ? (cache_valid(want) ? want : NULL) : c, obj, caller, why);
	slab_put(c, pg, li, obj, (unsigned)i, caller);
	if (from)
		*from = c;
	return 0;
}

int kmem_cache_free(struct kmem_cache *c, void *obj)
{
	void *caller = __builtin_return_address(0);
	unsigned long s = mm_lock();
	int ret;

	if (cache_valid(c)) {
		ret = __kmem_cache_free(c, obj, caller, NULL);
	} else {
		mm_report("slab: wrong free of %p by %p: no such cache %p",
			  obj, caller, (void *)c);
		ret = -EINVAL;
	}
	mm_unlock(s);
	return ret;
}

struct kmem_cache *slab_obj_cache(const void *obj)
{
	struct page *pg;
	int li;
	long i;

	return slab_locate(obj, &pg, &li, &i) ? NULL : pg->priv;
}

/* ---- transactions (mm/txn.c, txn_internal.h) ----------------------------- */

unsigned slab_txn_retained(struct page **out, unsigned max)
{
	struct list_head *pos;
	unsigned n = 0;
	int i, li;

	for (i = 0; i < SLAB_MAX_CACHES; i++) {
		if (!caches[i].live)
			continue;
		for (li = 0; li < NR_LAYOUTS; li++) {
			list_for_each(pos, &caches[i].lay[li].lists[SLAB_EMPTY]) {
				if (n < max)
					out[n] = list_entry(pos, struct page, lru);
				n++;
			}
		}
	}
	return n;
}

static bool page_listed(const struct page *pg, struct page *const *v,
			unsigned n)
{
	while (n--)
		if (v[n] == pg)
			return true;
	return false;
}

unsigned long slab_txn_trim(struct page *const *keep, unsigned n)
{
	struct list_head *pos, *nx;
	unsigned long freed = 0;
	int i, li;

	for (i = 0; i < SLAB_MAX_CACHES; i++) {
		struct kmem_cache *c = &caches[i];

		for (li = 0; c->live && li < NR_LAYOUTS; li++) {
			list_for_each_safe(pos, nx, &c->lay[li].lists[SLAB_EMPTY]) {
				struct page *pg = list_entry(pos, struct page, lru);

				if (page_listed(pg, keep, n))
					continue;
				slab_release(c, pg, li);
				freed += 1UL << c->lay[li].order;
			}
		}
	}
	return freed;
}

/* ---- statistics ---------------------------------------------------------- */

static void cache_stats(const struct kmem_cache *c, struct kmem_cache_stats *o)
{
	const struct slab_layout *p = &c->lay[LAY_PLAIN], *r = &c->lay[LAY_RZ];

	memset(o, 0, sizeof(*o));
	memcpy(o->name, c->name, SLAB_NAME_MAX);
	o->object_size = c->size;
	o->align = c->align;
	o->stride = p->stride;
	o->order = p->order;
	o->objs_per_slab = p->nobjs;
	o->active_objs = c->active;
	o->total_objs = c->total_objs;
	o->full = p->count[SLAB_FULL] + r->count[SLAB_FULL];
	o->partial = p->count[SLAB_PARTIAL] + r->count[SLAB_PARTIAL];
	o->empty = p->count[SLAB_EMPTY] + r->count[SLAB_EMPTY];
	o->slabs = o->full + o->partial + o->empty;
	o->debug_slabs = r->count[0] + r->count[1] + r->count[2];
	o->partial_free = c->total_objs - c->active -
			  p->count[SLAB_EMPTY] * p->nobjs - r->count[SLAB_EMPTY] * r->nobjs;
	o->pages = c->pages;
	o->requests = c->requests;
	o->failures = c->failures;
	o->injected = c->injected;
	o->frees = c->frees;
	o->wrong_frees = c->wrong_frees;
}

int kmem_cache_get_stats(const struct kmem_cache *c,
			 struct kmem_cache_stats *out)
{
	unsigned long s = mm_lock();
	int ret = -EINVAL;

	if (out && cache_valid(c)) {
		cache_stats(c, out);
		ret = 0;
	}
	mm_unlock(s);
	return ret;
}

int kmem_cache_info(unsigned idx, struct kmem_cache_stats *out)
{
	unsigned long s;
	int i, ret = -ENOENT;

	if (!out)
		return -EINVAL;
	s = mm_lock();
	for (i = 0; i < SLAB_MAX_CACHES; i++) {
		if (!caches[i].live || idx-- != 0)
			continue;
		cache_stats(&caches[i], out);
		ret = 0;
		break;
	}
	mm_unlock(s);
	return ret;
}

/* ---- integrity check ------------------------------------------------------ */

static int check_fail(const struct kmem_cache *c, const struct page *pg,
		      const char *what)
{
	mm_report("slab_check: %s: slab %p: %s", c->name,
		  pg ? (void *)slab_base(pg) : NULL, what);
	return 1;
}

/* Free list of pg: members free, each once, length n - inuse. */
static int check_freelist(const struct kmem_cache *c, const struct page *pg,
			  const struct slab_layout *l)
{
	const uint64_t *map = slab_map(pg, l->nobjs);
	unsigned steps = 0, want = l->nobjs - pg->inuse;
	const void *o;

	for (o = pg->freelist; o && steps <= want; o = next_free(o), steps++) {
		long i = slab_index(pg, l, o);

		if (i < 0 || bit_get(map, (unsigned)i))
			return check_fail(c, pg, "free list member invalid");
	}
	return steps == want ? 0 : check_fail(c, pg, "free list length wrong");
}

/* Red zones of live objects and poison of poisoned free ones. */
static int check_objects(struct kmem_cache *c, const struct page *pg, int li)
{
	const struct slab_layout *l = &c->lay[li];
	const uint64_t *map = slab_map(pg, l->nobjs);
	unsigned i, used = 0;
	int bad = 0;

	for (i = 0; i < l->nobjs; i++) {
		char *obj = slab_obj(pg, l, i);

		if (bit_get(map, i)) {
			used++;
			if (li == LAY_RZ && redzone_broken(c, l, obj) != SIZE_MAX)
				bad += check_fail(c, pg, "red zone broken");
		} else if (bit_get(map + map_words(l->nobjs), i) &&
			   mm_debug_find_not(obj + FREEPTR, c->objsize - FREEPTR,
					     MM_POISON_FREE) != c->objsize - FREEPTR) {
			bad += check_fail(c, pg, "poison broken");
		}
	}
	if (used != pg->inuse)
		bad += check_fail(c, pg, "alloc map disagrees with inuse");
	return bad;
}

static int check_slab(struct kmem_cache *c, const struct page *pg, int li,
		      enum slab_state s)
{
	const struct slab_layout *l = &c->lay[li];
	const struct slab_foot *f = slab_foot(pg);

	if (!(pg->flags & PG_HEAD) || pg->owner != PAGE_OWNER_SLAB ||
	    pg->priv != c || pg->order != l->order)
		return check_fail(c, pg, "struct page not a slab of this cache");
	if (f->magic != SLAB_MAGIC || f->layout != li || f->nobjs != l->nobjs)
		return check_fail(c, pg, "slab foot corrupt");
	if (pg->inuse > l->nobjs || slab_state(pg, l->nobjs) != s)
		return check_fail(c, pg, "on the wrong list");
	return check_freelist(c, pg, l) + check_objects(c, pg, li);
}

static int check_cache(struct kmem_cache *c)
{
	unsigned long active = 0, total = 0, n;
	struct list_head *pos;
	int li, s, bad = 0;

	for (li = 0; li < NR_LAYOUTS; li++) {
		for (s = 0; s < 3; s++) {
			n = 0;
			list_for_each(pos, &c->lay[li].lists[s]) {
				struct page *pg = list_entry(pos, struct page, lru);

				if (n > c->lay[li].count[s]) {   /* a broken list may cycle */
					bad += check_fail(c, NULL, "list longer than its count");
					break;
				}
				bad += check_slab(c, pg, li, s);
				active += pg->inuse;
				total += c->lay[li].nobjs;
				n++;
			}
			if (n != c->lay[li].count[s])
				bad += check_fail(c, NULL, "list count wrong");
		}
	}
	if (active != c->active || total != c->total_objs)
		bad += check_fail(c, NULL, "object counters wrong");
	return bad;
}

int slab_check(void)
{
	unsigned long s = mm_lock();
	int i, bad = 0;

	for (i = 0; i < SLAB_MAX_CACHES; i++)
		if (caches[i].live)
			bad += check_cache(&caches[i]);
	mm_unlock(s);
	return bad;
}
