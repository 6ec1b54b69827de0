/* slab.c - slab caches (mm/slab.h): fixed-size objects on page runs.
 *
 * Not a general-purpose allocator. Caches live in a static table
 * (SLAB_MAX_CACHES), so creating one never allocates.
 *
 * Locks, in the order they are taken:
 *   mm lock -> (every CPU's gate: stoppers only) -> a cache's lock c->lock
 *   -> (the page allocator's own locks)
 * c->lock guards c's slabs (lists, counts, alloc/poison maps, hints), its
 * depot, and -- with each CPU's gate -- the CPUs' magazines and counters
 * of c (slab_internal.h, struct slab_cpu). The full paths (kmalloc's, and
 * kmem_cache_alloc/free) hold the mm lock and take c->lock inside; the
 * magazine slow paths (slab_mag_refill, slab_mag_make_room) take c->lock
 * alone, so CPUs refilling different caches, or one refilling while
 * another takes the full path of another cache, do not wait on each
 * other. Whoever holds c->lock without the mm lock calls nothing that
 * takes the mm lock or enters a gate: it gets a new slab's frames with
 * c->lock dropped (slab_frames), and a slab it releases goes on
 * c->released, which slab_unlock() gives the buddy allocator after
 * dropping c->lock (Linux's SLUB frees a slab after its list_lock too).
 * Stoppers hold the mm lock, so they never wait on one another; a gate's
 * holder (a fast path) takes no lock at all here. Withdrawing a broken
 * slab stops the gates with c->lock held: only on the full path, under
 * the mm lock (the magazine slow paths leave such a slab to it).
 *
 * Slab layout (a slab is one buddy block of 2^order frames):
 *
 *   base                                                         base + 4K<<order
 *   | header | alloc map | poison map | cached map | pad | slot 0 | ... | waste |
 *   slot = [left red zone][object][right red zone, padding to stride]
 *
 *   - header (8 bytes): magic, layout index, object count n.
 *   - alloc map: bit i set <=> object i is allocated; the bits from n to the
 *     end of the last word are set for good. It is the only record of which
 *     objects are free: nothing is ever written into a free object, so a
 *     write after free cannot corrupt the allocator, and the metadata sits
 *     below the objects, out of reach of an overflow running off the end
 *     of one. An allocation takes the lowest free object at or after
 *     pg->hint (the first map word that may have a clear bit).
 *   - poison map: bit i set <=> free object i was poisoned (all its bytes
 *     0x6b); checked and cleared when object i is handed out.
 *   - cached map: bit i set <=> object i is in the cache's magazine (its
 *     alloc bit stays set: see "Magazines").
 *   - struct page of the head frame: PG_HEAD, owner PAGE_OWNER_SLAB, kind
 *     = layout, priv = the cache, mem = base, inuse = allocated count,
 *     hint; lru links it on its layout's partial or empty list. Tails are
 *     compound, so obj -> virt_to_page -> compound_head -> priv is O(1).
 *   - an object's index is (obj - base - obj0) / stride, computed as a
 *     multiply by the layout's reciprocal (exact: see layout_init).
 *
 * Two layouts per cache: plain (no red zones) and red-zone (left zone of
 * max(8, align) bytes when align <= 64, right zone of >= 8 bytes). Which one
 * a slab has is in its header and struct page, so an object's red zones are
 * checked on free exactly when it was allocated from a red-zone slab:
 * MM_DEBUG_REDZONE only chooses which slabs new objects come from, and
 * toggling it with live objects is safe. If the preferred layout cannot get
 * a slab, the other layout's free objects are used rather than failing.
 *
 * Magazines. kfree's fast path puts a freed object of a plain slab in its
 * cache's magazine (up to SLAB_MAG_SIZE, newest last) and kmalloc's fast
 * path hands the newest one out again: two array operations and one bit
 * instead of the slab's map scan and list upkeep. A cached object is still
 * allocated as far as its slab is concerned (alloc bit set, counted in
 * inuse), so the slab code never hands it out or empties its slab; its
 * cached bit is what makes a second free of it a double free, on both
 * paths. Only kmalloc's caches have one (mag_cap), and the full path
 * neither takes from nor adds to it. It goes back to the slabs
 * (mag_drain) on kmem_cache_shrink(), when poisoning is turned on
 * (kmalloc's hook in mm_debug) and when memory runs short (the slab
 * keeper); objects in use (active_objs) do not count it.
 *
 * Invariants (slab_check.c verifies them):
 *   - a slab with free objects is on partial (0 < inuse < n) or empty
 *     (inuse == 0) of its layout; a full one is on no list (it is found
 *     through its frames); nr_slabs and nr_empty match;
 *   - inuse == the number of set alloc-map bits below n;
 *   - cached bits are a subset of alloc bits, only in plain slabs, and
 *     they are exactly the magazine's entries;
 *   - at most SLAB_RESERVE empty slabs per layout stay after a free
 *     (while slab_set_keep_empty() is on, all stay and whoever set it
 *     trims); kmem_cache_shrink() releases those too.
 * A slab whose map is found broken is withdrawn: taken off its list and
 * the cache's counts for good (counted in `withdrawn`), kind LAY_WITHDRAWN,
 * its objects neither handed out nor accepted back (reported once, counted
 * as a corruption); its memory is lost. */
#include <string.h>
#include "mm/slab.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/mm_debug.h"
#include "mm/mm_env.h"
#include "mm/shrinker.h"
#include "mm/slowpath.h"
#include "kerrno.h"
#include "slab_internal.h"

#define SLAB_MAX_SIZE   (1UL << 20)
#define SLAB_PREF_ORDER 3 /* largest order tried to cut waste below 1/8 */
#define SLAB_PREF_OBJS  8 /* ... unless a slab of it has room for fewer strides, */
#define SLAB_BIG_ORDER  6 /* then up to this one (256 KiB: kmalloc-32768's) */

struct kmem_cache slab_caches[SLAB_MAX_CACHES];
static int slab_caches_used;   /* slots made since slab_init: the rest are zero */

static unsigned long mag_drain(struct kmem_cache *c);
static unsigned long caches_drain(struct kmem_cache *c);
static void mag_attach(struct kmem_cache *c);
static void mag_pool_reset(void);
static struct shrinker slab_keeper;
static int keep_empty;   /* slab_set_keep_empty(): its holders */
static unsigned long api_wrong_frees;   /* refused by kmem_cache_free() */
static void mag_forget(struct kmem_cache *c, const struct page *pg);

/* ---- tiny accessors --------------------------------------------------- */

static unsigned map_words(unsigned n)
{
	return (n + 63) / 64;
}

/* Bytes before slot 0: header and the three maps, rounded up to align. */
static size_t meta_bytes(unsigned n, size_t align)
{
	return round_up(SLAB_HDR + 24 * (size_t)map_words(n), align);
}

static void bit_put(uint64_t *m, unsigned i, bool v)
{
	if (v)
		m[i / 64] |= 1ULL << (i % 64);
	else
		m[i / 64] &= ~(1ULL << (i % 64));
}

/* ---- layout ------------------------------------------------------------ */

/* Objects of stride (aligned to align) that fit in bytes with the
 * metadata. */
static unsigned layout_fit(size_t bytes, size_t stride, size_t align)
{
	size_t n = bytes / stride;

	if (n > 0xffff)
		n = 0xffff;
	while (n && meta_bytes((unsigned)n, align) + n * stride > bytes)
		n--;
	return (unsigned)n;
}

/* Smallest order wasting at most 1/8; failing that, the least wasteful
 * order up to SLAB_PREF_ORDER, or up to the first order with room for
 * SLAB_PREF_OBJS strides when that is larger (at most SLAB_BIG_ORDER);
 * objects too big for any get the first order that holds one. The second
 * bound is for objects of a page or more (kmalloc's fine classes, up to
 * 32 KiB): the header and maps before slot 0 cost a power of two's slab
 * one object, which in a slab of 8 strides is at most 1/8 (kmalloc-8192
 * on order 4, 7 objects; kmalloc-32768 on order 6) where order 3 would
 * waste up to a half -- SLUB, its metadata in struct slab, fits 4 of
 * kmalloc-8k on order 3. In a process (libtally) a slab's untouched tail
 * is never resident. */
static void layout_order(struct slab_layout *l, size_t align)
{
	unsigned o, n, best = MAX_ORDER + 1;
	size_t bytes, waste, best_waste = 0;

	for (o = 0; o <= MAX_ORDER; o++) {
		bytes = PAGE_SIZE << o;
		n = layout_fit(bytes, l->stride, align);
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
		if (o >= SLAB_PREF_ORDER &&
		    (bytes >= SLAB_PREF_OBJS * l->stride || o >= SLAB_BIG_ORDER))
			break;
	}
	l->order = best;
	l->nobjs = layout_fit(PAGE_SIZE << best, l->stride, align);
}

/* The reciprocal m = ceil(2^S / d) = (2^S + e) / d with 0 <= e < d gives
 * off * m / 2^S = off / d + off * e / (d * 2^S), which exceeds off / d by
 * less than off / 2^S < 2^-22 for off < 2^22. The fractional part of
 * off / d is at most 1 - 1/d, so for d < 2^22 the floor is exact. Slabs are
 * at most 4 MiB (2^22), objects at most 1 MiB, and off * m < 2^64. */
static void layout_init(struct kmem_cache *c, int li)
{
	struct slab_layout *l = &c->lay[li];
	size_t right = 0;

	l->obj_off = 0;
	if (li == LAY_RZ) {
		l->obj_off = c->align <= 64 ? round_up(8, c->align) : 0;
		right = 8;
	}
	l->stride = round_up(l->obj_off + c->objsize + right, c->align);
	layout_order(l, c->align);
	l->words = map_words(l->nobjs);
	l->cmap_off = SLAB_HDR + 2 * l->words * sizeof(uint64_t);
	l->obj0 = meta_bytes(l->nobjs, c->align) + l->obj_off;
	l->recip = ((1ull << SLAB_RECIP_SHIFT) + l->stride - 1) / l->stride;
	list_init(&l->partial);
	list_init(&l->empty);
	l->nr_slabs = l->nr_empty = 0;
}

/* ---- slab life cycle --------------------------------------------------- */

/* The list a slab with inuse objects belongs on; NULL when full. */
static struct list_head *slab_list(struct slab_layout *l, unsigned inuse)
{
	return inuse == 0 ? &l->empty : inuse < l->nobjs ? &l->partial : NULL;
}

/* Change pg->inuse by delta (+1 or -1), moving the slab between lists
 * only when its state (empty / partial / full) changes. */
static void slab_count_change(struct slab_layout *l, struct page *pg, int delta)
{
	struct list_head *from = slab_list(l, pg->inuse), *to;

	pg->inuse = (uint32_t)((int)pg->inuse + delta);
	to = slab_list(l, pg->inuse);
	if (from == to)
		return;
	if (from)
		list_del(&pg->lru);
	if (to)
		list_add(&pg->lru, to);
	l->nr_empty += (to == &l->empty) - (from == &l->empty);
}

/* A slab's frames for layout li of c, made up (header, maps, page fields)
 * but on no list and in no count: slab_install() puts it in service. Takes
 * no lock of the slab layer; the page allocator takes its own. NULL when
 * the buddy allocator has no block (never reclaiming: kmalloc reclaims
 * and retries, km_route_reclaim). */
static struct page *slab_frames(struct kmem_cache *c, int li, gfp_t gfp)
{
	struct slab_layout *l = &c->lay[li];
	struct page *pg;
	struct slab_hdr *h;
	uint64_t *map;

	/* compound from the start (GFP_COMP): no mm lock is held here to keep
	 * buddy_check from seeing half-marked tails */
	if (buddy_try_alloc((gfp & ~GFP_ZERO) | GFP_COMP, l->order, &pg))
		return NULL;
	/* in transit until slab_install: no free takes an object of it, and
	 * slab_check (which reads other caches' frames) skips it */
	__atomic_store_n(&pg->kind, (uint8_t)LAY_TRANSIT, __ATOMIC_RELAXED);
	__atomic_store_n(&pg->priv, (void *)c, __ATOMIC_RELEASE);
	pg->mem = page_address(pg);
	pg->inuse = 0;
	pg->hint = 0;
	h = slab_hdr(pg);
	h->magic = SLAB_MAGIC;
	h->layout = (uint16_t)li;
	h->nobjs = (uint16_t)l->nobjs;
	map = slab_alloc_map(pg);
	memset(map, 0, 24 * (size_t)l->words);
	if (l->nobjs % 64)
		map[l->words - 1] = ~0ull << (l->nobjs % 64);
	__atomic_store_n(&pg->owner, (uint8_t)PAGE_OWNER_SLAB, __ATOMIC_RELEASE);   /* the rest first */
	return pg;
}

/* Put slab pg (from slab_frames) on c's empty list (c->lock held). Its
 * layout is stored last: a stray free on another CPU takes it for a slab
 * of c only once the rest is in place (slab_of, slab_free_fast). */
static void slab_install(struct kmem_cache *c, struct page *pg, int li)
{
	struct slab_layout *l = &c->lay[li];

	list_add(&pg->lru, &l->empty);
	l->nr_empty++;
	l->nr_slabs++;
	__atomic_store_n(&pg->kind, (uint8_t)li, __ATOMIC_RELEASE);
}

static struct page *slab_new(struct kmem_cache *c, int li, gfp_t gfp)
{
	struct page *pg = slab_frames(c, li, gfp);

	if (pg)
		slab_install(c, pg, li);
	return pg;
}

/* Take an empty slab off the books (c->lock held): slab_unlock() gives
 * its frames back once the lock is dropped; till then it is in transit
 * (pg->priv still names c, for slab_check). */
static void slab_release(struct kmem_cache *c, struct page *pg, int li)
{
	struct slab_layout *l = &c->lay[li];

	list_del(&pg->lru);
	l->nr_empty--;
	l->nr_slabs--;
	slab_hdr(pg)->magic = 0;
	__atomic_store_n(&pg->kind, (uint8_t)LAY_TRANSIT, __ATOMIC_RELAXED);
	list_add(&pg->lru, &c->released);
}

/* slab_internal.h */
unsigned long slab_lock(struct kmem_cache *c)
{
	return mm_spin_lock(&c->lock);
}

/* The released slabs' frames go back here, with c->lock dropped (their
 * page fields name no cache any more: a stray free of one is refused). */
static void slab_free_released(struct kmem_cache *c, struct list_head *rel)
{
	while (!list_empty(rel)) {
		struct page *pg = list_first_entry(rel, struct page, lru);

		list_del(&pg->lru);
		if (free_pages_owned(pg, pg->order, PAGE_OWNER_SLAB) != 0) {
			mm_debug_count_corruption();
			mm_report("slab: %s: buddy refused slab %p", c->name,
				  page_address(pg));
		}
	}
}

void slab_unlock(struct kmem_cache *c, unsigned long state)
{
	struct list_head rel;

	if (list_empty(&c->released)) {
		mm_spin_unlock(&c->lock, state);
		return;
	}
	list_init(&rel);
	while (!list_empty(&c->released))
		list_move(c->released.next, &rel);
	mm_spin_unlock(&c->lock, state);
	slab_free_released(c, &rel);
}

static unsigned long layout_shrink(struct kmem_cache *c, int li, unsigned keep)
{
	struct slab_layout *l = &c->lay[li];
	unsigned long freed = 0;

	while (l->nr_empty > keep) {
		slab_release(c, list_first_entry(&l->empty, struct page, lru), li);
		freed += 1UL << l->order;
	}
	return freed;
}

/* Take a slab whose map is broken out of service for good. */
static void slab_withdraw(struct kmem_cache *c, struct page *pg, int li,
			  const char *what)
{
	struct slab_layout *l = &c->lay[li];

	mm_debug_count_corruption();
	mm_report("slab: %s: %s in slab %p; slab withdrawn", c->name, what, pg->mem);
	if (slab_list(l, pg->inuse))
		list_del(&pg->lru);
	l->nr_empty -= pg->inuse == 0;
	l->nr_slabs--;   /* off the books: its memory is lost */
	c->withdrawn++;
	if (li == LAY_PLAIN)
		mag_forget(c, pg);   /* its cached objects are lost with it */
	pg->kind = LAY_WITHDRAWN;
	slab_hdr(pg)->layout = LAY_WITHDRAWN;
}

/* Objects in the cache's slabs (withdrawn ones are off the books). */
static unsigned long cache_total_objs(const struct kmem_cache *c)
{
	return c->lay[LAY_PLAIN].nr_slabs * c->lay[LAY_PLAIN].nobjs +
	       c->lay[LAY_RZ].nr_slabs * c->lay[LAY_RZ].nobjs;
}

static void mag_count(struct kmem_cache *c, struct slab_mag *m, void *arg)
{
	(void)c;
	*(unsigned long *)arg += m->n;
}

/* Objects waiting in c's magazines (the gates stopped). */
static unsigned long cache_cached(const struct kmem_cache *c)
{
	unsigned long n = 0;

	slab_for_each_mag((struct kmem_cache *)c, mag_count, &n);
	return n;
}

/* Objects in use: everything but the free objects of listed slabs and the
 * magazines' (the gates stopped). */
static unsigned long cache_active(const struct kmem_cache *c, unsigned long *partial,
				  unsigned long *partial_free)
{
	unsigned long free = 0, np = 0, pf = 0;
	const struct list_head *pos;

	for (int li = 0; li < NR_LAYOUTS; li++) {
		const struct slab_layout *l = &c->lay[li];
		unsigned long n = 0;

		list_for_each(pos, &l->partial) {
			const struct page *pg = list_entry(pos, struct page, lru);

			if (++n > l->nr_slabs)   /* a broken list may cycle */
				break;
			pf += l->nobjs - pg->inuse;
		}
		np += n;
		free += l->nr_empty * l->nobjs;
	}
	if (partial)
		*partial = np;
	if (partial_free)
		*partial_free = pf;
	free += pf + cache_cached(c);
	return cache_total_objs(c) > free ? cache_total_objs(c) - free : 0;
}

/* A magazine entry whose slab has every allocated object in magazines,
 * counted once per slab: at the entry of its lowest cached object. */
static void mag_count_idle(struct kmem_cache *c, struct slab_mag *m, void *arg)
{
	const struct slab_layout *l = &c->lay[LAY_PLAIN];

	for (unsigned long j = 0; j < m->n; j++) {
		struct page *pg;
		unsigned long cached = 0, first = ~0ul;
		long i;

		if (!slab_mag_entry_sound(c, m, j, &pg, &i))
			continue;
		for (unsigned long w = 0; w < l->words; w++) {
			uint64_t b = __atomic_load_n(&slab_cached_map(pg, l)[w], __ATOMIC_RELAXED);

			if (b && first == ~0ul)
				first = w * 64 + ctz64(b);
			cached += popcount64(b);
		}
		*(unsigned long *)arg += first == (unsigned long)i && cached == pg->inuse;
	}
}

/* Slabs with an object in use (Linux's active_slabs): the full and partial
 * ones, less those whose every allocated object waits in a magazine (the
 * gates stopped). */
static unsigned long cache_active_slabs(const struct kmem_cache *c, unsigned long listed)
{
	unsigned long idle = 0;

	slab_for_each_mag((struct kmem_cache *)c, mag_count_idle, &idle);
	return listed > idle ? listed - idle : 0;
}

/* ---- create / destroy -------------------------------------------------- */

/* Slot c back to zero, writing only what was written: the fields before
 * the CPUs' entries, and the entries of the CPUs that had magazines
 * (mag_cpus: nothing else writes them). A slot made for the first time is
 * zero already, and making it writes its first page only, not its 64 CPU
 * entries (4 KiB on the host; 41 caches: 164 KiB a process would have
 * resident). */
static void cache_clear(struct kmem_cache *c)
{
	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++)
		if ((c->mag_cpus[cpu / 64] >> (cpu % 64)) & 1)
			memset(&c->cpu[cpu], 0, sizeof(c->cpu[cpu]));
	memset(c, 0, offsetof(struct kmem_cache, cpu));
}

void slab_init(void)
{
	/* the slots never made are zero still: left untouched (pages a
	 * process never writes it never has resident) */
	for (int i = 0; i < slab_caches_used; i++)
		cache_clear(&slab_caches[i]);
	slab_caches_used = 0;
	mag_pool_reset();
	keep_empty = 0;
	api_wrong_frees = 0;
	shrinker_register(&slab_keeper);
}

/* A cache in the first free slot of the table (mm lock held); NULL when
 * the table is full. */
static struct kmem_cache *cache_make(const char *name, size_t size, size_t align,
				     unsigned flags)
{
	struct kmem_cache *c = NULL;

	for (int i = 0; i < SLAB_MAX_CACHES && !c; i++)
		if (!slab_caches[i].live) {
			c = &slab_caches[i];
			if (i >= slab_caches_used)
				slab_caches_used = i + 1;
		}
	if (!c)
		return NULL;
	cache_clear(c);
	strncpy(c->name, name, SLAB_NAME_MAX - 1);
	c->size = size;
	c->objsize = size < 8 ? 8 : size;
	c->align = align < 8 ? 8 : align;
	c->flags = flags;
	layout_init(c, LAY_PLAIN);
	layout_init(c, LAY_RZ);
	mm_spin_init(&c->lock, c->name);
	list_init(&c->released);
	c->live = true;
	return c;
}

struct kmem_cache *kmem_cache_create(const char *name, size_t size,
				     size_t align, unsigned flags)
{
	struct kmem_cache *c;
	unsigned long s;

	if (!align)
		align = 8;
	if (!name || !size || size > SLAB_MAX_SIZE || (align & (align - 1)) ||
	    align > SLAB_MAX_ALIGN)
		return NULL;
	s = mm_lock();
	c = cache_make(name, size, align, flags);
	if (c && kmem_cache_is_kmalloc(c))
		mag_attach(c);
	mm_unlock(s);
	return c;
}

int kmem_cache_destroy(struct kmem_cache *c)
{
	unsigned long s = mm_lock(), cs, active;
	int ret = 0;

	if (!slab_cache_valid(c) || kmem_cache_is_kmalloc(c)) {
		mm_unlock(s);
		return -EINVAL;   /* kmalloc's size classes live as long as kmalloc */
	}
	cs = slab_lock(c);
	if ((active = cache_active(c, NULL, NULL)) != 0) {   /* no magazine */
		mm_report("slab: %s: destroy with %lu objects in use", c->name, active);
		ret = -EBUSY;
	} else {
		layout_shrink(c, LAY_PLAIN, 0);
		layout_shrink(c, LAY_RZ, 0);
		c->live = false;
	}
	slab_unlock(c, cs);
	mm_unlock(s);
	return ret;
}

/* fn(k) for each live cache k (c only, when not NULL), k's lock held;
 * returns the sum of what fn returned. */
static unsigned long caches_each(struct kmem_cache *c, unsigned long (*fn)(struct kmem_cache *k))
{
	unsigned long n = 0;

	for (int i = 0; i < SLAB_MAX_CACHES; i++) {
		struct kmem_cache *k = &slab_caches[i];
		unsigned long cs;

		if (!k->live || (c && c != k))
			continue;
		cs = slab_lock(k);
		n += fn(k);
		slab_unlock(k, cs);
	}
	return n;
}

static unsigned long fork_states[SLAB_MAX_CACHES];   /* slab_lock_all's */

void slab_lock_all(void)
{
	for (int i = 0; i < SLAB_MAX_CACHES; i++)
		if (slab_caches[i].live)
			fork_states[i] = slab_lock(&slab_caches[i]);
}

void slab_unlock_all(void)
{
	for (int i = SLAB_MAX_CACHES - 1; i >= 0; i--)
		if (slab_caches[i].live)
			slab_unlock(&slab_caches[i], fork_states[i]);
}

/* Put every magazine of each live cache (c only, when not NULL) back on
 * its slabs, the gates stopped (mm lock held); returns the objects. */
static unsigned long caches_drain(struct kmem_cache *c)
{
	unsigned long n;

	mm_gates_stop();
	n = caches_each(c, mag_drain);
	mm_gates_start();
	return n;
}

/* Every empty slab of k back to the buddy allocator (k's lock held). */
static unsigned long cache_release_empty(struct kmem_cache *k)
{
	return layout_shrink(k, LAY_PLAIN, 0) + layout_shrink(k, LAY_RZ, 0);
}

/* Release the empty slabs of c (NULL = all caches), after putting their
 * magazines back when drain (mm lock held); returns the frames given
 * back. */
static unsigned long caches_shrink(struct kmem_cache *c, bool drain)
{
	if (drain)
		caches_drain(c);
	return caches_each(c, cache_release_empty);
}

unsigned long kmem_cache_shrink(struct kmem_cache *c)
{
	unsigned long s = mm_lock(), freed = caches_shrink(c, true);

	mm_unlock(s);
	return freed;
}

/* The slab layer's keeper (mm/shrinker.h): every magazine put back, every
 * empty slab released. Returns the bytes of the released slabs' frames
 * only: objects put back on their slabs serve their own cache's request,
 * which tries again after any round (kmalloc, kmem_cache_alloc), and no
 * one else's -- counted, they would keep every other CPU's reclaim going
 * round while the magazines fill and drain. */
static unsigned long slab_keeper_scan(struct shrinker *sh, unsigned long want)
{
	unsigned long s = mm_lock(), frames;

	(void)sh;
	(void)want;
	frames = caches_shrink(NULL, true);
	mm_unlock(s);
	return frames * PAGE_SIZE;
}

static struct shrinker slab_keeper = { .scan = slab_keeper_scan, .keeper = true };

size_t kmem_cache_size(const struct kmem_cache *c)
{
	return c ? c->size : 0;
}

/* ---- alloc --------------------------------------------------------------- */

/* A slab of layout li with a free object: partial, else empty. */
static struct page *slab_ready(struct kmem_cache *c, int li)
{
	struct slab_layout *l = &c->lay[li];

	if (!list_empty(&l->partial))
		return list_first_entry(&l->partial, struct page, lru);
	if (!list_empty(&l->empty))
		return list_first_entry(&l->empty, struct page, lru);
	return NULL;
}

/* A slab with a free object: the preferred layout's (listed, else new),
 * then the other layout's listed ones. */
static struct page *slab_pick(struct kmem_cache *c, int want, gfp_t gfp, int *li)
{
	struct page *pg = slab_ready(c, want);

	*li = want;
	if (!pg)
		pg = slab_new(c, want, gfp);
	if (!pg) {
		*li = !want;
		pg = slab_ready(c, !want);
	}
	return pg;
}

static void obj_check_poison(struct kmem_cache *c, void *obj, void *caller)
{
	size_t bad = mm_debug_find_not(obj, c->objsize, MM_POISON_FREE);

	if (bad == c->objsize)
		return;
	mm_debug_count_poison();
	mm_report("slab: %s: poison overwritten at %p+%zu (use after free), "
		  "found at alloc by %p", c->name, obj, bad, caller);
}

static void obj_set_redzone(const struct slab_layout *l, size_t objsize,
			    char *obj)
{
	memset(obj - l->obj_off, MM_REDZONE_BYTE, l->obj_off);
	memset(obj + objsize, MM_REDZONE_BYTE,
	       l->stride - l->obj_off - objsize);
}

/* Take the lowest free object of pg; NULL when its map is broken (the
 * slab is withdrawn). */
static void *slab_take(struct kmem_cache *c, struct page *pg, int li,
		       void *caller)
{
	struct slab_layout *l = &c->lay[li];
	uint64_t *pmap = slab_poison_map(pg, l);
	long i = slab_map_take(pg, l, false);
	char *obj;

	if (i < 0) {
		slab_withdraw(c, pg, li, "alloc map has no free object below the count");
		return NULL;
	}
	slab_count_change(l, pg, +1);
	obj = slab_obj(pg, l, (unsigned)i);
	if (slab_bit(pmap, (unsigned)i)) {
		bit_put(pmap, (unsigned)i, false);
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
	void *obj = NULL;
	unsigned long cs;
	int li;

	if (!slab_cache_valid(c))
		return NULL;
	if (faultinj_should_fail(FI_SLAB, c->size, gfp)) {
		cs = slab_lock(c);
		c->requests++;
		c->failures++;
		c->injected++;
		slab_unlock(c, cs);
		return NULL;
	}
	cs = slab_lock(c);
	c->requests++;
	while (!obj && (pg = slab_pick(c, want, gfp, &li)) != NULL)
		obj = slab_take(c, pg, li, caller);   /* NULL: withdrawn, next */
	if (!obj)
		c->failures++;
	slab_unlock(c, cs);
	if (!obj)
		return NULL;
	if (gfp & GFP_ZERO)
		memset(obj, 0, c->objsize);
	return obj;
}

/* Out of memory (not by injection): reclaim (mm/shrinker.h) and try again
 * while mm_reclaim says to (after round 0 always: the cache's own objects
 * put back from magazines serve it, frames or not). The cache counts one
 * request, and a failure only when the last try failed. */
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	void *caller = __builtin_return_address(0);
	unsigned long s = mm_lock(), injected = faultinj_injected();
	void *obj = __kmem_cache_alloc(c, gfp, caller);
	unsigned round = 0;
	bool more = true;

	while (!obj && more && slab_cache_valid(c) && faultinj_injected() == injected) {
		mm_unlock(s);
		more = mm_reclaim(c->size, gfp, &round);
		s = mm_lock();
		if (more && slab_cache_valid(c)) {
			unsigned long cs = slab_lock(c);

			c->requests--;   /* the same request, tried again */
			c->failures--;
			slab_unlock(c, cs);
			obj = __kmem_cache_alloc(c, gfp, caller);
		}
	}
	mm_unlock(s);
	return obj;
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
	if (!slab_cache_valid(pg->priv) || pg->mem != page_address(pg) ||
	    slab_hdr(pg)->magic != SLAB_MAGIC || pg->kind >= NR_LAYOUTS ||
	    slab_hdr(pg)->layout != pg->kind)
		return NULL;
	return pg;
}

/* slab_internal.h */
size_t slab_redzone_broken(const struct kmem_cache *c, const struct slab_layout *l,
			   const char *obj)
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
	size_t bad = slab_redzone_broken(c, l, obj);

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

/* Report a refused free (the cache's count is the caller's to keep). */
static int wrong_free(const struct kmem_cache *c, const void *obj, void *caller,
		      const char *why)
{
	mm_report("slab: %s: wrong free of %p by %p: %s",
		  c ? c->name : "?", obj, caller, why);
	return -EINVAL;
}


/* Put a checked, allocated object back on its slab. claimed: its cached
 * bit, set by the caller to claim the object against a free racing on
 * another CPU (or set because it waited in a magazine), cleared once the
 * alloc bit is: a racing free never sees it free and unclaimed while it
 * is still allocated. */
static void slab_put(struct kmem_cache *c, struct page *pg, int li, char *obj,
		     unsigned i, bool claimed, void *caller)
{
	struct slab_layout *l = &c->lay[li];

	if (li == LAY_RZ)
		obj_check_redzone(c, l, obj, caller);
	if (__atomic_load_n(&mm_debug_flags, __ATOMIC_RELAXED) & MM_DEBUG_POISON) {
		memset(obj, MM_POISON_FREE, c->objsize);
		bit_put(slab_poison_map(pg, l), i, true);
	}
	slab_map_put(pg, i);
	if (claimed)
		mm_bits_clear(slab_cached_map(pg, l) + i / 64, 1ull << (i % 64));
	slab_count_change(l, pg, -1);
	if (pg->inuse == 0 && !__atomic_load_n(&keep_empty, __ATOMIC_RELAXED))   /* kept: whoever set the knob trims */
		layout_shrink(c, li, SLAB_RESERVE);
}

/* Find the live object obj: its slab head (*pgp, NULL when obj is in no
 * slab) and index. Returns NULL, or why obj is not a live object. */
static const char *slab_locate(const void *obj, struct page **pgp, long *i)
{
	const char *why;
	struct page *pg = slab_of(obj, &why);
	struct kmem_cache *c;

	*pgp = pg;
	if (!pg)
		return why;
	c = pg->priv;
	*i = slab_index(pg, &c->lay[pg->kind], obj);
	if (*i < 0)
		return "not at an object start";
	if (!slab_allocated(pg, (unsigned long)*i) ||
	    slab_cached(pg, &c->lay[pg->kind], (unsigned long)*i))
		return "object is free (double free?)";
	return NULL;
}

/* Locate obj as slab_locate() does, with the lock of the cache it is in
 * held when it is in one (*csp: the lock's state; *cp: the cache, NULL
 * when obj is in no live slab). A slab's cache is read once without the
 * lock and checked again with it: the magazine slow paths release slabs
 * holding that lock alone. */
static const char *slab_locate_locked(const void *obj, struct page **pgp, long *i,
				      struct kmem_cache **cp, unsigned long *csp)
{
	const char *why = slab_locate(obj, pgp, i);
	struct kmem_cache *c = *pgp ? (*pgp)->priv : NULL;

	*cp = NULL;
	if (!c)
		return why;
	*csp = slab_lock(c);
	why = slab_locate(obj, pgp, i);
	if (*pgp && (*pgp)->priv == c) {
		*cp = c;
		return why;
	}
	slab_unlock(c, *csp);   /* released meanwhile: obj is in no live slab */
	*pgp = NULL;
	return why ? why : "not in a slab";
}

int __kmem_cache_free(struct kmem_cache *want, void *obj, void *caller,
		      struct kmem_cache **from)
{
	struct page *pg;
	struct kmem_cache *c;
	unsigned long cs = 0;
	long i = 0;
	const char *why = slab_locate_locked(obj, &pg, &i, &c, &cs);
	bool claimed = false;

	if (c && want && want != c)
		why = "object of another cache";
	if (!why && c->mags && pg->kind == LAY_PLAIN) {   /* kfree's fast path may race: claim it */
		claimed = !(mm_bits_set(slab_cached_map(pg, &c->lay[LAY_PLAIN]) + i / 64,
					1ull << (i % 64)) & (1ull << (i % 64)));
		if (!claimed)
			why = "object is free (double free?)";
	}
	if (!why) {
		slab_put(c, pg, pg->kind, obj, (unsigned)i, claimed, caller);
		c->frees++;
		if (from)
			*from = c;
	} else if (c && (!want || want == c)) {
		c->wrong_frees++;
	}
	if (c)
		slab_unlock(c, cs);
	if (why) {   /* name the cache the caller meant, else the one obj is in */
		struct kmem_cache *named = want ? (slab_cache_valid(want) ? want : NULL) : c;

		if (named && named != c) {
			unsigned long ws = slab_lock(named);

			named->wrong_frees++;
			slab_unlock(named, ws);
		}
		return wrong_free(named, obj, caller, why);
	}
	return 0;
}

int kmem_cache_free(struct kmem_cache *c, void *obj)
{
	void *caller = __builtin_return_address(0);
	unsigned long s = mm_lock();
	int ret;

	if (slab_cache_valid(c)) {
		ret = __kmem_cache_free(c, obj, caller, NULL);
	} else {
		mm_report("slab: wrong free of %p by %p: no such cache %p",
			  obj, caller, (void *)c);
		ret = -EINVAL;
	}
	if (ret)
		api_wrong_frees++;
	mm_unlock(s);
	return ret;
}

unsigned long kmem_cache_refused_frees(void)
{
	return api_wrong_frees;
}

struct kmem_cache *slab_obj_cache(const void *obj)
{
	struct page *pg;
	long i;

	return slab_locate(obj, &pg, &i) ? NULL : pg->priv;
}

/* ---- magazines ---------------------------------------------------------------- */

/* The pool: SLAB_MAGS_PER_CACHE magazines for each of up to SLAB_MAG_CACHES
 * caches; mag_pool_owner[k] is the cache set k belongs to. Every magazine
 * of a set is in exactly one place: a CPU's loaded or previous slot, the
 * depot's full or empty list, or not handed out yet. In a process
 * (MM_MAG_LAZY, mm_env_lock.h) a set is handed out as it is needed: CPU
 * cpu's two (entries 2 cpu and 2 cpu + 1) on its first refill or free
 * that needs them, the depot's (from entry c->mag_fresh on) when its
 * empty list is empty -- so a cache no CPU uses, and the magazines of
 * CPUs that never use one, stay untouched (memory never written: pages
 * the process never has resident, libtally's fixed cost; the host has 64
 * CPU slots a set). The kernel hands the whole set out when the cache is
 * made. */
static struct slab_mag mag_pool[SLAB_MAG_CACHES][SLAB_MAGS_PER_CACHE];
static struct kmem_cache *mag_pool_owner[SLAB_MAG_CACHES];

static void mag_pool_reset(void)
{
	memset(mag_pool_owner, 0, sizeof(mag_pool_owner));
}

/* Entry j of c's set, empty, handed out now (c->lock held). */
static struct slab_mag *mag_fresh(struct kmem_cache *c, unsigned long j)
{
	struct slab_mag *m = &c->mag_set[j];

	m->n = 0;
	m->cap = c->mag_cap;
	m->next = NULL;
	return m;
}

static void depot_put_empty(struct kmem_cache *c, struct slab_mag *m);

/* Give c a set of magazines, if one is left; with MM_MAG_LAZY (a
 * process) none handed out yet (see above): c's CPUs' slots stay NULL
 * until each needs its own. Without it (the kernel), every CPU its two and
 * the rest to the depot now. */
static void mag_attach(struct kmem_cache *c)
{
	struct slab_mag *set = NULL;
	unsigned k;

	for (k = 0; k < SLAB_MAG_CACHES && !set; k++)
		if (!mag_pool_owner[k] || !mag_pool_owner[k]->live)
			set = mag_pool[k];
	if (!set)
		return;
	mag_pool_owner[k - 1] = c;
	c->mag_set = set;
	c->mag_fresh = 2 * MM_MAX_CPUS;
	c->mag_cap = SLAB_MAG_BYTES / c->objsize;
	if (c->mag_cap > SLAB_MAG_SIZE)
		c->mag_cap = SLAB_MAG_SIZE;
	if (c->mag_cap < 2)
		c->mag_cap = 2;
	c->mags = true;
	if (MM_MAG_LAZY)
		return;
	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++) {
		c->cpu[cpu].loaded = mag_fresh(c, 2ul * cpu);
		c->cpu[cpu].prev = mag_fresh(c, 2ul * cpu + 1);
		c->mag_cpus[cpu / 64] |= 1ull << (cpu % 64);
	}
	while (c->mag_fresh < SLAB_MAGS_PER_CACHE)
		depot_put_empty(c, mag_fresh(c, c->mag_fresh++));
}

/* The calling CPU's two magazines of c, handed out on its first need of
 * them (c->lock held, outside its gate: its fast paths are not running
 * and others touch its slots only holding c->lock). false: c has none. */
static inline bool mag_cpu_ready(struct kmem_cache *c, unsigned cpu)
{
	struct slab_cpu *pc = &c->cpu[cpu];

	if (!c->mags)
		return false;
	if (MM_MAG_LAZY && !pc->loaded) {
		pc->loaded = mag_fresh(c, 2ul * cpu);
		pc->prev = mag_fresh(c, 2ul * cpu + 1);
		c->mag_cpus[cpu / 64] |= 1ull << (cpu % 64);
	}
	return true;
}

/* slab_internal.h. Lighter than slab_of(): c is known live, so the
 * object's head frame need only name it (and its memory, plain layout). */
bool slab_mag_entry_sound(const struct kmem_cache *c, const struct slab_mag *m,
			  unsigned long j, struct page **pgp, long *ip)
{
	const struct slab_layout *l = &c->lay[LAY_PLAIN];
	struct page *pg = virt_to_page(m->obj[j]);
	long i;

	if (!pg)
		return false;
	pg = compound_head(pg);
	if (!(pg->flags & PG_HEAD) || pg->owner != PAGE_OWNER_SLAB || pg->priv != c ||
	    pg->kind != LAY_PLAIN || pg->mem != page_address(pg))
		return false;
	i = slab_index(pg, l, m->obj[j]);
	if (i < 0 || m->word[j] != slab_cached_map(pg, l) + i / 64 ||
	    m->bit[j] != 1ull << (i % 64) || !slab_cached(pg, l, (unsigned long)i) ||
	    !slab_allocated(pg, (unsigned long)i))
		return false;
	*pgp = pg;
	*ip = i;
	return true;
}

/* Put m's newest object back on its slab; an entry that is not sound is
 * reported, counted as a corruption and dropped. Returns 1 when an object
 * went back. */
static unsigned long mag_put_back_one(struct kmem_cache *c, struct slab_mag *m)
{
	unsigned long j = --m->n;
	struct page *pg;
	long i;

	if (!slab_mag_entry_sound(c, m, j, &pg, &i)) {
		mm_debug_count_corruption();
		mm_report("slab: %s: magazine entry %p is not a cached object; dropped",
			  c->name, m->obj[j]);
		return 0;
	}
	slab_put(c, pg, LAY_PLAIN, m->obj[j], (unsigned)i, true, NULL);   /* alloc bit, then cached */
	return 1;
}

/* Every object of m back on its slab, newest first; returns how many. */
static unsigned long mag_put_back(struct kmem_cache *c, struct slab_mag *m)
{
	unsigned long n = 0;

	while (m->n)
		n += mag_put_back_one(c, m);
	return n;
}

/* Take the free objects of the first map word of plain slab pg that has
 * any, up to *j - lo of them, into m's entries *j - 1 downward (lowest
 * address newest): their alloc and cached bits set with one store each,
 * the count and lists changed once. Returns how many; 0 when that word
 * holds a poisoned object (slab_take checks it) or the map is broken
 * (slab_take withdraws the slab). */
static unsigned long slab_take_word(struct kmem_cache *c, struct page *pg,
				   struct slab_mag *m, unsigned long *j, unsigned long lo)
{
	struct slab_layout *l = &c->lay[LAY_PLAIN];
	uint64_t *map = slab_alloc_map(pg), *cword, free, taken = 0;
	unsigned long w = pg->hint;

	while (map[w] == ~0ull)
		if (++w >= l->words)
			return 0;
	free = ~map[w];
	if (w == l->words - 1 && l->nobjs % 64 && (free >> (l->nobjs % 64)))
		return 0;   /* a clear bit past the last object: slab_take withdraws the slab */
	if (slab_poison_map(pg, l)[w] & free)
		return 0;
	cword = slab_cached_map(pg, l) + w;
	for (unsigned long k = *j - lo; k && free; k--, free &= free - 1)
		taken |= free & -free;   /* the lowest free objects */
	/* claimed first, as a free claims: a bit a stray free of a free
	 * object claimed meanwhile stays out (that free finds the object
	 * free, undoes its claim and is refused) */
	taken &= ~mm_bits_set(cword, taken);
	for (uint64_t t = taken; t; t &= t - 1) {
		uint64_t b = t & -t;

		--*j;
		m->obj[*j] = slab_obj(pg, l, (unsigned)(w * 64 + ctz64(b)));
		m->word[*j] = cword;
		m->bit[*j] = b;
	}
	pg->hint = (uint32_t)w;
	__atomic_store_n(&map[w], map[w] | taken, __ATOMIC_RELEASE);   /* kfree reads it unlocked */
	slab_count_change(l, pg, (int)popcount64(taken));
	return popcount64(taken);
}

/* Top magazine m up to want objects from c's listed plain slabs (c->lock
 * held), a map word at a time, the lowest address newest (handed out
 * first, as the slabs would): entries filled from want - 1 down, then
 * moved down onto the m->n it held. It stops at a word whose free objects
 * need the full path (a poisoned one to check, a broken map to withdraw:
 * slab_take does both, under the mm lock). Returns how many it holds. */
static unsigned long mag_fill(struct kmem_cache *c, struct slab_mag *m,
			      unsigned long want)
{
	unsigned long lo = m->n, j = want, got;
	struct page *pg;

	while (j > lo && (pg = slab_ready(c, LAY_PLAIN)) != NULL)
		if (!slab_take_word(c, pg, m, &j, lo))
			break;
	got = want - j;
	if (j > lo && got) {
		memmove(m->obj + lo, m->obj + j, got * sizeof(m->obj[0]));
		memmove(m->word + lo, m->word + j, got * sizeof(m->word[0]));
		memmove(m->bit + lo, m->bit + j, got * sizeof(m->bit[0]));
	}
	m->n = lo + got;
	return m->n;
}

/* An empty magazine goes to c's depot; a full one too, and the depot puts
 * its oldest back on the slabs when it holds more than SLAB_DEPOT_FULL. */
static void depot_put_empty(struct kmem_cache *c, struct slab_mag *m)
{
	m->next = c->depot_empty;
	c->depot_empty = m;
}

static void depot_put_full(struct kmem_cache *c, struct slab_mag *m)
{
	struct slab_mag **pp;

	m->next = c->depot_full;
	c->depot_full = m;
	if (++c->nr_full <= SLAB_DEPOT_FULL)
		return;
	for (pp = &c->depot_full; (*pp)->next; pp = &(*pp)->next)
		;
	m = *pp;   /* the oldest */
	*pp = NULL;
	c->nr_full--;
	mag_put_back(c, m);
	depot_put_empty(c, m);
}

static struct slab_mag *depot_take_full(struct kmem_cache *c)
{
	struct slab_mag *m = c->depot_full;

	if (m) {
		c->depot_full = m->next;
		c->nr_full--;
	}
	return m;
}

/* slab_internal.h. The calling CPU's own magazines, touched holding
 * c->lock with interrupts off: its fast paths are not running, and any
 * other CPU that touches them holds c->lock too. When the listed slabs
 * run out, what was loaded so far stays loaded (counted in the magazine,
 * so a drain sees it) while a new slab's frames are got with the lock
 * dropped; meanwhile an interrupt's kfree may have changed the magazines,
 * or a stopper mm_slow_paths, so both are looked at again after. */
bool slab_mag_refill(struct kmem_cache *c, unsigned cpu, bool plenty, gfp_t gfp,
		     unsigned long *state)
{
	struct slab_cpu *pc = &c->cpu[cpu];
	struct slab_mag *m;
	struct page *pg;
	unsigned long want;

	if (__atomic_load_n(&mm_slow_paths, __ATOMIC_RELAXED) || !mag_cpu_ready(c, cpu))
		return false;
	if (pc->loaded->n || pc->prev->n)
		return true;
	if ((m = depot_take_full(c)) != NULL) {
		depot_put_empty(c, pc->loaded);   /* Bonwick: an empty one for a full one */
		pc->loaded = m;
		return true;
	}
	/* short of memory, one object: a batch would sit in this CPU's
	 * magazine while other CPUs reclaim and retry for it */
	want = plenty ? pc->loaded->cap / 2 : 1;
	if (mag_fill(c, pc->loaded, want) >= want || slab_ready(c, LAY_PLAIN))
		return pc->loaded->n != 0;   /* full, or objects the full path must check */
	slab_unlock(c, *state);
	pg = slab_frames(c, LAY_PLAIN, gfp);
	*state = slab_lock(c);
	if (pg)
		slab_install(c, pg, LAY_PLAIN);
	if (__atomic_load_n(&mm_slow_paths, __ATOMIC_RELAXED))
		return false;
	if (pg && pc->loaded->n < want)
		mag_fill(c, pc->loaded, want);
	return pc->loaded->n || pc->prev->n;
}

bool slab_mag_make_room(struct kmem_cache *c, unsigned cpu)
{
	struct slab_cpu *pc;
	struct slab_mag *m;

	if (__atomic_load_n(&mm_slow_paths, __ATOMIC_RELAXED) || !mag_cpu_ready(c, cpu))
		return false;
	pc = &c->cpu[cpu];
	if (pc->loaded->n < pc->loaded->cap || !pc->prev->n)
		return true;
	/* never none, counting those not handed out: see SLAB_MAGS_PER_CACHE */
	if ((m = c->depot_empty) != NULL)
		c->depot_empty = m->next;
	else
		m = mag_fresh(c, c->mag_fresh++);
	depot_put_full(c, pc->prev);   /* Bonwick: a full one for an empty one */
	pc->prev = pc->loaded;
	pc->loaded = m;
	return true;
}

/* slab_internal.h */
void slab_for_each_mag(struct kmem_cache *c,
		       void (*fn)(struct kmem_cache *c, struct slab_mag *m, void *arg),
		       void *arg)
{
	if (!c->mags)
		return;
	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++) {
		if (!c->cpu[cpu].loaded)
			continue;   /* none handed out to it yet */
		fn(c, c->cpu[cpu].loaded, arg);
		fn(c, c->cpu[cpu].prev, arg);
	}
	for (struct slab_mag *m = c->depot_full; m; m = m->next)
		fn(c, m, arg);
}

/* Every object of c's magazines back on its slab, the depot's full ones
 * to its empty list (the gates stopped). Returns the objects put back. */
static unsigned long mag_drain(struct kmem_cache *c)
{
	unsigned long n = 0;
	struct slab_mag *m;

	if (!c->mags)
		return 0;
	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++) {
		if (!c->cpu[cpu].loaded)
			continue;
		n += mag_put_back(c, c->cpu[cpu].loaded);
		n += mag_put_back(c, c->cpu[cpu].prev);
	}
	while ((m = depot_take_full(c)) != NULL) {
		n += mag_put_back(c, m);
		depot_put_empty(c, m);
	}
	return n;
}

/* Drop entries for objects of plain slab pg (being withdrawn). */
static void mag_forget_one(struct kmem_cache *c, struct slab_mag *m, void *arg)
{
	const struct page *pg = arg;
	const char *lo = pg->mem, *hi = lo + (PAGE_SIZE << c->lay[LAY_PLAIN].order);
	unsigned long k = 0;

	for (unsigned long j = 0; j < m->n; j++)
		if ((const char *)m->obj[j] < lo || (const char *)m->obj[j] >= hi) {
			m->obj[k] = m->obj[j];
			m->word[k] = m->word[j];
			m->bit[k++] = m->bit[j];
		}
	m->n = k;
}

static void mag_forget(struct kmem_cache *c, const struct page *pg)
{
	mm_gates_stop();
	slab_for_each_mag(c, mag_forget_one, (void *)pg);
	mm_gates_start();
}

unsigned long slab_mag_drain_all(void)
{
	return caches_drain(NULL);
}

/* ---- choosing which empty slabs stay (slab_internal.h) -------------------- */

void slab_set_keep_empty(bool on)
{
	__atomic_fetch_add(&keep_empty, on ? 1 : -1, __ATOMIC_RELAXED);   /* read under a cache's lock only */
}

unsigned slab_list_empty(struct page **out, unsigned max)
{
	struct list_head *pos;
	unsigned n = 0;
	int i, li;

	for (i = 0; i < SLAB_MAX_CACHES; i++) {
		struct kmem_cache *c = &slab_caches[i];
		unsigned long cs;

		if (!c->live)
			continue;
		cs = slab_lock(c);
		for (li = 0; li < NR_LAYOUTS; li++) {
			list_for_each(pos, &c->lay[li].empty) {
				if (n < max)
					out[n] = list_entry(pos, struct page, lru);
				n++;
			}
		}
		slab_unlock(c, cs);
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

unsigned long slab_release_empty_except(struct page *const *keep, unsigned n)
{
	struct list_head *pos, *nx;
	unsigned long freed = 0;
	int i, li;

	for (i = 0; i < SLAB_MAX_CACHES; i++) {
		struct kmem_cache *c = &slab_caches[i];
		unsigned long cs;

		if (!c->live)
			continue;
		cs = slab_lock(c);
		for (li = 0; li < NR_LAYOUTS; li++) {
			list_for_each_safe(pos, nx, &c->lay[li].empty) {
				struct page *pg = list_entry(pos, struct page, lru);

				if (page_listed(pg, keep, n))
					continue;
				slab_release(c, pg, li);
				freed += 1UL << c->lay[li].order;
			}
		}
		slab_unlock(c, cs);
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
	o->active_objs = cache_active(c, &o->partial, &o->partial_free);
	o->total_objs = cache_total_objs(c);
	o->slabs = p->nr_slabs + r->nr_slabs;
	o->empty = p->nr_empty + r->nr_empty;
	o->full = o->slabs - o->partial - o->empty;
	o->active_slabs = cache_active_slabs(c, o->full + o->partial);
	o->debug_slabs = r->nr_slabs;
	o->withdrawn = c->withdrawn;
	o->cached = cache_cached(c);
	o->pages = (p->nr_slabs << p->order) + (r->nr_slabs << r->order);
	o->requests = c->requests;
	o->frees = c->frees;
	for (unsigned cpu = 0; cpu < MM_MAX_CPUS; cpu++) {
		o->requests += c->cpu[cpu].allocs;
		o->frees += c->cpu[cpu].frees;
	}
	o->failures = c->failures;
	o->injected = c->injected;
	o->wrong_frees = c->wrong_frees;
}

int kmem_cache_get_stats(const struct kmem_cache *c,
			 struct kmem_cache_stats *out)
{
	unsigned long s = mm_lock();
	int ret = -EINVAL;

	if (out && slab_cache_valid(c)) {
		struct kmem_cache *k = (struct kmem_cache *)c;   /* its lock changes */
		unsigned long cs;

		mm_gates_stop();   /* the magazines and counters of every CPU hold still */
		cs = slab_lock(k);
		cache_stats(c, out);
		slab_unlock(k, cs);
		mm_gates_start();
		ret = 0;
	}
	mm_unlock(s);
	return ret;
}

int kmem_cache_cpu_stats(unsigned cpu, struct kmem_cpu_stats *out)
{
	unsigned long s;

	if (!out || cpu >= MM_MAX_CPUS)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	s = mm_lock();
	mm_gates_stop();   /* the CPU's magazines and counters hold still */
	for (int i = 0; i < SLAB_MAX_CACHES; i++) {
		struct kmem_cache *c = &slab_caches[i];
		const struct slab_cpu *pc = &c->cpu[cpu];
		unsigned long n, cs;

		if (!c->live || !c->mags)
			continue;
		cs = slab_lock(c);
		n = pc->loaded ? pc->loaded->n + pc->prev->n : 0;
		out->objects += n;
		out->bytes += (uint64_t)n * c->size;
		out->allocs += pc->allocs;
		out->frees += pc->frees;
		slab_unlock(c, cs);
	}
	mm_gates_start();
	mm_unlock(s);
	return 0;
}

/* slab_internal.h: the mm lock held, the gates stopped; c->lock taken
 * here (its place in the order). */
int kmem_cache_info_locked(unsigned idx, struct kmem_cache_stats *out)
{
	for (int i = 0; i < SLAB_MAX_CACHES; i++) {
		unsigned long cs;

		if (!slab_caches[i].live || idx-- != 0)
			continue;
		cs = slab_lock(&slab_caches[i]);
		cache_stats(&slab_caches[i], out);
		slab_unlock(&slab_caches[i], cs);
		return 0;
	}
	return -ENOENT;
}

int kmem_cache_info(unsigned idx, struct kmem_cache_stats *out)
{
	unsigned long s;
	int ret;

	if (!out)
		return -EINVAL;
	s = mm_lock();
	mm_gates_stop();   /* the magazines and counters of every CPU hold still */
	ret = kmem_cache_info_locked(idx, out);
	mm_gates_start();
	mm_unlock(s);
	return ret;
}
