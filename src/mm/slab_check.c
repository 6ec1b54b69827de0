/* slab_check.c - the slab layer's integrity check, slab_check()
 * (mm/slab.h): every cache's lists, counts, slab headers, maps, red zones,
 * poison and magazine against the invariants listed in slab.c (the
 * magazines' entries are the cached bits: the same set). Read-only:
 * it reports each violation and counts it; repair is not its business.
 * The mm lock held while it walks, every CPU gate stopped, and each
 * cache's lock while it looks at that cache. */
#include "mm/slab.h"
#include "mm/mm_debug.h"
#include "mm/mm_env.h"
#include "slab_internal.h"
#include "lib/bitops.h"

static int check_fail(const struct kmem_cache *c, const struct page *pg,
		      const char *what)
{
	mm_report("slab_check: %s: slab %p: %s", c->name,
		  pg ? pg->mem : NULL, what);
	return 1;
}

/* The cached map: only allocated objects of a plain slab, nothing past the
 * last object; adds its bits to *cached. */
static int check_cached(struct kmem_cache *c, const struct page *pg, int li,
			unsigned long *cached)
{
	const struct slab_layout *l = &c->lay[li];
	const uint64_t *map = slab_alloc_map(pg), *cmap = slab_cached_map(pg, l);
	unsigned long n = 0;
	int bad = 0;

	for (unsigned long w = 0; w < l->words; w++) {
		uint64_t pad = w == l->words - 1 && l->nobjs % 64 ? ~0ull << (l->nobjs % 64) : 0;

		if (cmap[w] & (~map[w] | pad))
			bad += check_fail(c, pg, "cached bit of a free object or past the last");
		n += popcount64(cmap[w] & ~pad);
	}
	if (n && li != LAY_PLAIN)
		bad += check_fail(c, pg, "cached objects in a red-zone slab");
	*cached += n;
	return bad;
}

/* The alloc map against inuse (and its padding bits), red zones of live
 * objects, poison of poisoned free ones, the cached map. */
static int check_objects(struct kmem_cache *c, const struct page *pg, int li,
			 unsigned long *cached)
{
	const struct slab_layout *l = &c->lay[li];
	const uint64_t *map = slab_alloc_map(pg), *pmap = slab_poison_map(pg, l);
	unsigned i, used = 0;
	int bad = 0;

	if (l->nobjs % 64 && (map[l->words - 1] | (~0ull >> (64 - l->nobjs % 64))) != ~0ull)
		bad += check_fail(c, pg, "alloc map padding cleared");
	if (pg->hint >= l->words)
		bad += check_fail(c, pg, "map hint out of range");
	for (i = 0; i < l->nobjs; i++) {
		char *obj = slab_obj(pg, l, i);

		if (slab_bit(map, i)) {
			used++;
			if (li == LAY_RZ && slab_redzone_broken(c, l, obj) != SIZE_MAX)
				bad += check_fail(c, pg, "red zone broken");
		} else if (i / 64 < pg->hint) {
			bad += check_fail(c, pg, "free object below the map hint");
		} else if (slab_bit(pmap, i) &&
			   mm_debug_find_not(obj, c->objsize, MM_POISON_FREE) != c->objsize) {
			bad += check_fail(c, pg, "poison broken");
		}
	}
	if (used != pg->inuse)
		bad += check_fail(c, pg, "alloc map disagrees with inuse");
	return bad + check_cached(c, pg, li, cached);
}

/* One slab of layout li: struct page, header, list placement (listed:
 * found on a list; else found full through the frame array), objects. */
static int check_slab(struct kmem_cache *c, const struct page *pg, int li, bool listed,
		      unsigned long *cached)
{
	const struct slab_layout *l = &c->lay[li];
	const struct slab_hdr *h = slab_hdr(pg);

	if (!(pg->flags & PG_HEAD) || pg->owner != PAGE_OWNER_SLAB || pg->priv != c ||
	    pg->order != l->order || pg->kind != li || pg->mem != page_address(pg))
		return check_fail(c, pg, "struct page not a slab of this cache");
	if (h->magic != SLAB_MAGIC || h->layout != li || h->nobjs != l->nobjs)
		return check_fail(c, pg, "slab header corrupt");
	if (pg->inuse > l->nobjs || listed != (pg->inuse < l->nobjs))
		return check_fail(c, pg, "full slab on a list");
	return check_objects(c, pg, li, cached);
}

/* Walk one list of layout li: members must be in state want (inuse == 0
 * for the empty list, else partial); returns their number. */
static unsigned long check_list(struct kmem_cache *c, int li, const struct list_head *head,
				bool empty, int *bad, unsigned long *cached)
{
	const struct slab_layout *l = &c->lay[li];
	const struct list_head *pos;
	unsigned long n = 0;

	list_for_each(pos, head) {
		const struct page *pg = list_entry(pos, struct page, lru);

		if (++n > l->nr_slabs) {   /* a broken list may cycle */
			*bad += check_fail(c, NULL, "list longer than the slab count");
			break;
		}
		if ((pg->inuse == 0) != empty)
			*bad += check_fail(c, pg, "on the wrong list");
		*bad += check_slab(c, pg, li, true, cached);
	}
	return n;
}

struct mag_tally {
	unsigned long distinct;   /* sound entries, each object counted once */
	int bad;
};

/* Looking for an entry naming word/bit before entry j of magazine m, in
 * slab_for_each_mag's order. */
struct mag_seek {
	const struct slab_mag *m;
	unsigned long j;
	const uint64_t *word;
	uint64_t bit;
	bool reached, found;
};

static void seek_earlier(struct kmem_cache *c, struct slab_mag *m, void *arg)
{
	struct mag_seek *k = arg;

	(void)c;
	for (unsigned long e = 0; !k->reached && !k->found && e < m->n && e < SLAB_MAG_SIZE; e++) {
		if (m == k->m && e == k->j)
			k->reached = true;
		else if (m->word[e] == k->word && m->bit[e] == k->bit)
			k->found = true;
	}
}

/* Every entry a cached object of c (its cached bit set), none twice. */
static void check_one_mag(struct kmem_cache *c, struct slab_mag *m, void *arg)
{
	struct mag_tally *t = arg;

	if (m->n > m->cap || m->cap > SLAB_MAG_SIZE) {
		t->bad += check_fail(c, NULL, "magazine holds more than it can");
		return;
	}
	for (unsigned long j = 0; j < m->n; j++) {
		struct mag_seek k = { m, j, m->word[j], m->bit[j], false, false };
		struct page *pg;
		long i;

		if (!slab_mag_entry_sound(c, m, j, &pg, &i)) {
			t->bad += check_fail(c, NULL, "magazine entry not a cached object");
			continue;
		}
		slab_for_each_mag(c, seek_earlier, &k);
		if (k.found)
			t->bad += check_fail(c, pg, "object in two magazine entries");
		else
			t->distinct++;
	}
}

/* The depot's empty magazines hold nothing (a walk bounded by the pool,
 * since a broken list may cycle). */
static int check_depot_empty(struct kmem_cache *c)
{
	unsigned long n = 0;
	int bad = 0;

	for (const struct slab_mag *m = c->depot_empty; m; m = m->next) {
		if (++n > SLAB_MAGS_PER_CACHE)
			return bad + check_fail(c, NULL, "depot's empty list longer than the pool");
		if (m->n)
			bad += check_fail(c, NULL, "empty magazine in the depot holds entries");
	}
	return bad;
}

/* The magazines of c (every CPU's loaded and previous, the depot's full
 * and empty): every entry of a loaded, previous or full one is a cached
 * object, no object is in two entries, and the cached bits the slabs
 * hold (`cached`: their number) are exactly those entries' -- distinct
 * entries whose bits are set, as many as the bits, are the same set.
 * Empty ones hold no entries. */
static int check_magazines(struct kmem_cache *c, unsigned long cached)
{
	struct mag_tally t = { 0, 0 };

	slab_for_each_mag(c, check_one_mag, &t);
	if (cached != t.distinct)
		t.bad += check_fail(c, NULL, cached > t.distinct ?
				    "cached bits with no magazine entry" :
				    "magazines disagree with the cached maps");
	return t.bad + check_depot_empty(c);
}

/* Cache c (its lock held): its full slabs, found through the frame array
 * (they are on no list), its lists and counts, its magazines. */
static int check_cache(struct kmem_cache *c)
{
	unsigned long full[NR_LAYOUTS] = { 0 }, cached = 0;
	int li, bad = 0;

	for (uint64_t f = 0; f < page_nr_frames; f++) {
		const struct page *pg = &page_map[f];

		/* other caches' frames change meanwhile: priv first, as a
		 * slab's maker stores it (slab.c, slab_frames) */
		if (__atomic_load_n(&pg->priv, __ATOMIC_ACQUIRE) != c ||
		    !(pg->flags & PG_HEAD) || pg->owner != PAGE_OWNER_SLAB ||
		    __atomic_load_n(&pg->kind, __ATOMIC_RELAXED) >= NR_LAYOUTS)
			continue;   /* not c's, or out of service, or in transit */
		if (pg->inuse == c->lay[pg->kind].nobjs) {
			full[pg->kind]++;
			bad += check_slab(c, pg, pg->kind, false, &cached);
		}
	}
	for (li = 0; li < NR_LAYOUTS; li++) {
		struct slab_layout *l = &c->lay[li];
		unsigned long np = check_list(c, li, &l->partial, false, &bad, &cached);
		unsigned long ne = check_list(c, li, &l->empty, true, &bad, &cached);

		if (ne != l->nr_empty || np + ne + full[li] != l->nr_slabs)
			bad += check_fail(c, NULL, "slab counts wrong");
	}
	return bad + check_magazines(c, cached);
}

/* The mm lock held and every gate stopped (every CPU's magazines hold
 * still); each cache checked with its own lock held, one at a time. A
 * slab in transit (LAY_TRANSIT: being made, or given back, by a CPU that
 * holds its cache's lock only) is skipped: it names its cache and sits on
 * no list and in no count. */
int slab_check(void)
{
	unsigned long s = mm_lock(), cs;
	int i, bad = 0;

	mm_gates_stop();
	for (i = 0; i < SLAB_MAX_CACHES; i++) {
		struct kmem_cache *c = &slab_caches[i];

		if (!c->live)
			continue;
		cs = slab_lock(c);
		bad += check_cache(c);
		slab_unlock(c, cs);
	}
	/* slab frames no live cache owns */
	for (uint64_t f = 0; f < page_nr_frames; f++) {
		const struct page *pg = &page_map[f];

		if (!(pg->flags & PG_HEAD) ||
		    __atomic_load_n(&pg->owner, __ATOMIC_ACQUIRE) != PAGE_OWNER_SLAB ||
		    pg->kind == LAY_WITHDRAWN)
			continue;
		if (!slab_cache_valid(pg->priv) ||
		    (pg->kind >= NR_LAYOUTS && pg->kind != LAY_TRANSIT)) {
			mm_report("slab_check: slab frame %lu: no live cache or layout",
				  (unsigned long)f);
			bad++;
		}
	}
	mm_gates_start();
	mm_unlock(s);
	return bad;
}
