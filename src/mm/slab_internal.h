/* slab_internal.h - what kmalloc.c needs from slab.c beyond mm/slab.h: the
 * cache structure and the inline fast paths. Layout, invariants and the
 * locks: slab.c.
 *
 * The double-underscore functions do not take the mm lock (the caller
 * holds it; they take the cache's own) and carry the address of the
 * public entry's caller, so a wrong free is reported once, naming the
 * code that made it. */
#ifndef TALLY_SLAB_INTERNAL_H
#define TALLY_SLAB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/bitops.h"
#include "lib/list.h"
#include "mm/page.h"
#include "mm/slab.h"
#include "mm/mm_env.h"

/* A slab's kind (pg->kind): its layout; LAY_TRANSIT while its frames are
 * being made a slab or given back (its cache's lock not held: slab.c),
 * LAY_WITHDRAWN once taken out of service. */
enum { LAY_PLAIN, LAY_RZ, NR_LAYOUTS, LAY_TRANSIT = 0xfe, LAY_WITHDRAWN = 0xff };

/* obj index = offset * recip >> SLAB_RECIP_SHIFT, exact for offsets below
 * 2^22 (a 4 MiB slab) and strides below 2^22: see layout_init(). */
#define SLAB_RECIP_SHIFT 44

struct slab_layout {
	size_t stride;   /* bytes per slot */
	size_t obj0;     /* offset of object 0 from the slab base */
	size_t obj_off;  /* object offset in its slot (left red zone) */
	uint64_t recip;  /* ceil(2^SLAB_RECIP_SHIFT / stride) */
	unsigned long order;  /* slab = 2^order frames */
	unsigned long nobjs;  /* objects per slab */
	unsigned long words;  /* 64-bit words per map */
	unsigned long cmap_off;  /* the cached map's offset from the slab base: 8 + 16 * words */
	struct list_head partial, empty; /* full slabs are on no list */
	unsigned long nr_slabs, nr_empty;
};

/* Magazines (Bonwick & Adams, "Magazines and Vmem", USENIX 2001; Linux 7.0's
 * SLUB "sheaves" have the same shape). A magazine holds up to SLAB_MAG_SIZE
 * objects of one cache that kfree's fast path gave back, for kmalloc's fast
 * path to hand out again (newest last). A cached object keeps its alloc
 * bit and has its bit in the slab's cached map set; entry j is the object
 * obj[j], whose cached bit is bit[j] in the word word[j] (three arrays, so
 * an entry is found with one shift). Each CPU has a loaded and a previous
 * magazine per cache (struct slab_cpu); each cache a depot of full and
 * empty ones. See slab.c, "Magazines". */
#define SLAB_MAG_SIZE    32
/* Caches that can have magazines (SLAB_KMALLOC: kmalloc's classes), as
 * many as the environment's largest kmalloc table (mm_env_lock.h); one
 * made beyond them has none (its fast paths go to the full path). */
#define SLAB_MAG_CACHES  MM_MAG_CACHES
/* A cache's magazines hold cap = SLAB_MAG_BYTES / object size objects,
 * 2 .. SLAB_MAG_SIZE (Bonwick sizes them per cache too): a CPU's two hold
 * at most 8 KiB of any cache but the smallest; a refill from the slabs
 * loads half of cap (SLAB_MAG_REFILL for the small classes). */
#define SLAB_MAG_BYTES   4096
#define SLAB_MAG_REFILL  (SLAB_MAG_SIZE / 2)
#define SLAB_DEPOT_FULL  8   /* full magazines a depot keeps; beyond: back to the slabs */
/* A cache's magazines: two per CPU and the depot's, from a static pool
 * (no allocation on any path, nothing to give back but objects). With
 * SLAB_DEPOT_FULL + 2 spares the depot always has an empty one. */
#define SLAB_MAGS_PER_CACHE (2 * MM_MAX_CPUS + SLAB_DEPOT_FULL + 2)

struct slab_mag {
	unsigned long n;           /* objects loaded */
	unsigned long cap;         /* objects it may hold: its cache's */
	struct slab_mag *next;     /* on a depot list */
	void *obj[SLAB_MAG_SIZE];
	uint64_t *word[SLAB_MAG_SIZE];
	uint64_t bit[SLAB_MAG_SIZE];
};

/* A CPU's share of a cache: touched by that CPU inside its gate (the fast
 * paths) or holding the cache's lock (the slow paths, interrupts off), by
 * others only with every gate stopped (mm lock, mm/mm_env.h) and the
 * cache's lock held. The counters are the fast paths' own: a reader adds
 * every CPU's to the cache's. */
struct slab_cpu {
	struct slab_mag *loaded, *prev;   /* NULL: none (not a kmalloc cache, or
					   * this CPU has not needed them yet) */
	unsigned long allocs, frees;      /* fast path */
	unsigned long bytes;              /* kmalloc's fast path: bytes asked for */
} __attribute__((aligned(64)));

struct kmem_cache {
	char name[SLAB_NAME_MAX];
	size_t size;     /* requested object size */
	size_t objsize;  /* max(size, 8): bytes the object owns */
	size_t align;
	unsigned flags;
	bool live;
	bool mags;       /* has magazines (kmalloc's caches) */
	mm_spinlock_t lock;   /* the slabs, their maps, the depot: see slab.c */
	struct list_head released;   /* slabs off the books, for slab_unlock to free */
	struct slab_layout lay[NR_LAYOUTS];
	unsigned long withdrawn;   /* slabs taken out of service */
	/* full path */
	unsigned long requests, failures, injected, frees, wrong_frees;
	/* the depot (the cache's lock) */
	struct slab_mag *depot_full, *depot_empty;
	unsigned long nr_full;
	/* its magazine set (slab.c, "The pool"): the next of the depot's not
	 * handed out yet, and every magazine's capacity; the CPUs given their
	 * two (the only entries of cpu[] ever written: cache_clear) */
	struct slab_mag *mag_set;
	unsigned long mag_fresh, mag_cap;
	uint64_t mag_cpus[(MM_MAX_CPUS + 63) / 64];
	struct slab_cpu cpu[MM_MAX_CPUS];   /* last: cache_clear */
};

/* Take / give the cache's lock (interrupts off while held). slab_unlock
 * also gives the buddy allocator the slabs released while it was held
 * (c->released): never while holding a cache's lock, since the page
 * allocator takes the mm lock and the mm lock comes first (slab.c). */
unsigned long slab_lock(struct kmem_cache *c);
void slab_unlock(struct kmem_cache *c, unsigned long state);

/* Every live cache's lock, by index, and back in reverse (mm/fork.h: the
 * mm lock held and the gates stopped, so no one else holds two). */
void slab_lock_all(void);
void slab_unlock_all(void);

void *__kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp, void *caller);

/* c NULL: free to whichever cache owns obj (kfree). Same errors as
 * kmem_cache_free(); the refusal is reported and counted here. On success
 * *from (when from is not NULL) is the cache the object went back to. */
int __kmem_cache_free(struct kmem_cache *c, void *obj, void *caller,
		      struct kmem_cache **from);

/* ---- for slab_check.c ------------------------------------------------------
 * The cache table, the slab header and the accessors the integrity check
 * shares with slab.c. */
extern struct kmem_cache slab_caches[SLAB_MAX_CACHES];

#define SLAB_MAGIC      0x51ab0b1eu
#define SLAB_HDR        8 /* header bytes before the maps */

struct slab_hdr {
	uint32_t magic;
	uint16_t layout;
	uint16_t nobjs;
};

static inline struct slab_hdr *slab_hdr(const struct page *pg)
{
	return (struct slab_hdr *)pg->mem;
}

static inline bool slab_cache_valid(const struct kmem_cache *c)
{
	uintptr_t p = (uintptr_t)c, b = (uintptr_t)slab_caches;

	return p >= b && p < b + sizeof(slab_caches) &&
	       (p - b) % sizeof(slab_caches[0]) == 0 && c->live;
}

static inline char *slab_obj(const struct page *pg, const struct slab_layout *l,
			     unsigned i)
{
	return (char *)pg->mem + l->obj0 + i * l->stride;
}

static inline bool slab_bit(const uint64_t *m, unsigned i)
{
	return (m[i / 64] >> (i % 64)) & 1;
}

/* Offset (from the slot start) of the first broken red-zone byte of obj,
 * or SIZE_MAX when both zones are intact. */
size_t slab_redzone_broken(const struct kmem_cache *c, const struct slab_layout *l,
			   const char *obj);

/* Whether entry j of magazine m is what an entry of c must be: the start
 * of an object in a plain slab of c whose alloc and cached bits are set,
 * its word and bit naming that cached bit. On success *pgp and *ip locate
 * the object. */
bool slab_mag_entry_sound(const struct kmem_cache *c, const struct slab_mag *m,
			  unsigned long j, struct page **pgp, long *ip);

/* Every magazine of c (each CPU's loaded and previous, the depot's full
 * ones) through fn, the gates stopped and c's lock held (slab_check.c). */
void slab_for_each_mag(struct kmem_cache *c,
		       void (*fn)(struct kmem_cache *c, struct slab_mag *m, void *arg),
		       void *arg);

/* Put every magazine's objects back on their slabs (mm lock held; stops
 * the gates, takes each cache's lock); returns the objects put back. */
unsigned long slab_mag_drain_all(void);

/* kmalloc's slow halves for a fast path that missed: the cache's lock
 * held (*state from slab_lock), the mm lock NOT held, the calling CPU's
 * gate not entered. Give the calling CPU an object to take (a full
 * magazine from the depot, or its loaded one filled from the slabs: up to
 * half its capacity when plenty, else one object), or room to free one
 * (an empty magazine from the depot, the full ones to it). Return false
 * when nothing could be done (c has no magazines, no memory for a slab,
 * a slab whose free objects need checking, or mm_slow_paths set): the full
 * path then serves. slab_mag_refill may drop and take the lock again
 * (*state updated) to get a slab's frames. */
bool slab_mag_refill(struct kmem_cache *c, unsigned cpu, bool plenty, gfp_t gfp,
		     unsigned long *state);
bool slab_mag_make_room(struct kmem_cache *c, unsigned cpu);

/* Which empty slabs stay (mm lock held) -- for a caller that must leave
 * the caches holding exactly the slabs they held before (txn.c's exact
 * undo), as Linux's min_partial sets how many a cache keeps:
 *   slab_set_keep_empty(on): while on (each on matched by an off: several
 *     CPUs may hold it), a slab that empties stays, instead of going back
 *     beyond SLAB_RESERVE;
 *   slab_list_empty(): store the heads of up to max empty slabs (all
 *     caches, both layouts) in out; return how many there are;
 *   slab_release_empty_except(): release every empty slab whose head is
 *     not in keep[0..n); return the frames given back. */
void slab_set_keep_empty(bool on);
unsigned slab_list_empty(struct page **out, unsigned max);
unsigned long slab_release_empty_except(struct page *const *keep, unsigned n);

/* The cache of an allocated object at an object boundary, else NULL.
 * Quiet: reports nothing. */
struct kmem_cache *slab_obj_cache(const void *obj);

static inline bool kmem_cache_is_kmalloc(const struct kmem_cache *c)
{
	return (c->flags & SLAB_KMALLOC) != 0;
}

/* ---- the maps ------------------------------------------------------------
 * Each slab starts with its header and three bitmaps of l->words words: the
 * alloc map (bit set: object allocated or cached; the bits past the last
 * object are set for good, so a scan always stops inside the map while the
 * slab has a free object), the poison map and the cached map (bit set:
 * object in the cache's magazine). pg->hint is the first word that may
 * have a clear alloc bit. */

static inline uint64_t *slab_alloc_map(const struct page *pg)
{
	return (uint64_t *)((char *)pg->mem + 8);
}

static inline uint64_t *slab_poison_map(const struct page *pg, const struct slab_layout *l)
{
	return slab_alloc_map(pg) + l->words;
}

static inline uint64_t *slab_cached_map(const struct page *pg, const struct slab_layout *l)
{
	return (uint64_t *)((char *)pg->mem + l->cmap_off);
}

/* Set the lowest clear bit of the alloc map at or after the hint and
 * return its index; -1, changing nothing, when that is no object (the map
 * is corrupt: the caller knows the slab is not full), or when skip_poisoned
 * and a free object of that map word was poisoned (it must be checked). */
static inline long slab_map_take(struct page *pg, const struct slab_layout *l,
				 bool skip_poisoned)
{
	uint64_t *map = slab_alloc_map(pg), word;
	unsigned long w = pg->hint, i;

	while ((word = map[w]) == ~0ull)
		if (++w >= l->words)
			return -1;
	i = w * 64 + ctz64(~word);
	if (i >= l->nobjs || (skip_poisoned && map[l->words + w]))
		return -1;
	pg->hint = (uint32_t)w;
	__atomic_store_n(&map[w], word | (word + 1), __ATOMIC_RELAXED);   /* kfree reads it unlocked */
	return (long)i;
}

/* Clear bit i of the alloc map. */
static inline void slab_map_put(struct page *pg, unsigned long i)
{
	uint64_t *map = slab_alloc_map(pg);

	__atomic_store_n(&map[i / 64], map[i / 64] & ~(1ull << (i % 64)), __ATOMIC_RELAXED);
	if (i / 64 < pg->hint)
		pg->hint = (uint32_t)(i / 64);
}

/* Index of the object at obj, or -1 when obj is not an object start. */
static inline long slab_index(const struct page *pg, const struct slab_layout *l,
			      const void *obj)
{
	unsigned long off = (unsigned long)((const char *)obj - (const char *)pg->mem) - l->obj0;
	unsigned long i = off * l->recip >> SLAB_RECIP_SHIFT;

	return i * l->stride == off && i < l->nobjs ? (long)i : -1;
}

static inline bool slab_allocated(const struct page *pg, unsigned long i)
{
	return (__atomic_load_n(&slab_alloc_map(pg)[i / 64], __ATOMIC_RELAXED) >> (i % 64)) & 1;
}

/* Whether object i waits in a magazine (its cached bit: other CPUs' fast
 * paths change the word's other bits without the mm lock). */
static inline bool slab_cached(const struct page *pg, const struct slab_layout *l,
			       unsigned long i)
{
	return (__atomic_load_n(&slab_cached_map(pg, l)[i / 64], __ATOMIC_RELAXED) >> (i % 64)) & 1;
}

/* ---- kmalloc's fast paths (inside the calling CPU's gate) ------------------
 * They take from and give to the CPU's magazines only, and return NULL for
 * anything else (both magazines empty, or full, or none yet; a pointer or
 * map that does not pass); the caller then takes the slow path, which
 * refills or makes room under the mm lock, or the full path, which does
 * the same work with every check, report and repair. The caller has
 * checked mm_slow_paths (no debug checks, fault injection, tracking or
 * undo). Counters are stored with mm_cpu_count: a reader with the gates
 * stopped sums them. */

static inline void slab_cpu_count(unsigned long *n)
{
	mm_cpu_count(n, *n + 1);
}

/* The loaded magazine of pc can give no object (or take none, when
 * for_free): swap in the previous one if it can (Bonwick) and return it;
 * NULL when it cannot either (or the cache has no magazines). Inline: a
 * call would make the fast paths save registers around it. */
static inline __attribute__((always_inline)) struct slab_mag *
slab_mag_swap(struct slab_cpu *pc, bool for_free)
{
	struct slab_mag *m = pc->loaded, *p = pc->prev;

	if (!p || (for_free ? p->n != 0 : p->n == 0))
		return NULL;
	pc->prev = m;
	pc->loaded = p;
	return p;
}

/* The CPU's magazine an allocation takes from: the loaded one, else a
 * loaded previous one swapped in; NULL when both are empty. */
static inline __attribute__((always_inline)) struct slab_mag *slab_mag_to_take(struct slab_cpu *pc)
{
	struct slab_mag *m = pc->loaded;

	if (__builtin_expect(!m || !m->n, 0))
		m = slab_mag_swap(pc, false);
	return m;
}

/* Take the newest object of m, which holds n (> 0: slab_mag_to_take),
 * counted on pc. */
static inline __attribute__((always_inline)) void *slab_mag_pop(struct slab_cpu *pc,
								struct slab_mag *m,
								unsigned long n)
{
	m->n = --n;
	mm_bits_clear(m->word[n], m->bit[n]);   /* cached -> allocated */
	slab_cpu_count(&pc->allocs);
	return m->obj[n];
}

static inline __attribute__((always_inline)) void *slab_alloc_fast(struct slab_cpu *pc)
{
	struct slab_mag *m = slab_mag_to_take(pc);

	return m ? slab_mag_pop(pc, m, m->n) : NULL;
}

/* A frame's owner and kind in one load (owner in the low byte): kfree
 * tests a plain slab's head with one compare, SLAB_HEAD_PLAIN. */
_Static_assert(offsetof(struct page, kind) == offsetof(struct page, owner) + 1 &&
	       offsetof(struct page, owner) % 2 == 0 &&
	       __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "owner and kind: one 16-bit load");
#define SLAB_HEAD_PLAIN (PAGE_OWNER_SLAB | LAY_PLAIN << 8)

typedef uint16_t __attribute__((may_alias)) slab_u16_alias;

static inline unsigned slab_owner_kind(const struct page *pg)
{
	return *(const slab_u16_alias *)(const void *)&pg->owner;
}

/* pg: the compound head of obj's frame, owned by a slab of the plain
 * layout (slab_owner_kind(pg) == SLAB_HEAD_PLAIN: not red zones to check,
 * withdrawn or in transit); cpu: the calling CPU (inside its gate, indexed
 * with what mm_gate_try returned, or under the mm lock). An object of one of kmalloc's caches goes into the CPU's
 * magazine. Returns the cache it went to. The object is claimed by setting
 * its cached bit first (an atomic OR that returns the old word, an acquire
 * so the load of the alloc bit comes after it), then its alloc bit is
 * checked: of two frees of one object racing on two CPUs, by this path or
 * the full one (which claims the same bit), one wins and the other is
 * refused. */
static inline __attribute__((always_inline)) struct kmem_cache *
slab_free_fast(struct page *pg, const void *obj, unsigned long cpu)
{
	struct kmem_cache *c = pg->priv;
	struct slab_layout *l;
	struct slab_cpu *pc;
	struct slab_mag *m;
	unsigned long n;
	uint64_t *aword, *cword, bit;
	char *base;
	long i;

	if (!c)
		return NULL;   /* a slab being made or released */
	l = &c->lay[LAY_PLAIN];
	i = slab_index(pg, l, obj);
	if (i < 0)
		return NULL;   /* the full path names the mistake */
	pc = &c->cpu[cpu];
	m = pc->loaded;
	if (__builtin_expect(!m || (n = m->n) == m->cap, 0)) {
		m = slab_mag_swap(pc, true);   /* an empty previous one */
		if (!m)
			return NULL;   /* the slow path makes room (or a non-kmalloc cache) */
		n = 0;
	}
	base = (char *)pg->mem + (unsigned long)i / 64 * sizeof(uint64_t);   /* the word's offset */
	aword = (uint64_t *)(base + SLAB_HDR);          /* in the alloc map (slab_alloc_map) */
	cword = (uint64_t *)(base + l->cmap_off);       /* in the cached map (slab_cached_map) */
	bit = 1ull << (i % 64);
	if (mm_bit_claim(cword, (unsigned)i % 64))
		return NULL;   /* cached or being freed: the full path reports it */
	if (!(__atomic_load_n(aword, __ATOMIC_RELAXED) & bit)) {
		mm_bits_clear(cword, bit);   /* free: a double free the full path reports */
		return NULL;
	}
	m->obj[n] = (void *)obj;   /* n: read before the claim, ours alone */
	m->word[n] = cword;
	m->bit[n] = bit;
	m->n = n + 1;
	slab_cpu_count(&pc->frees);
	return c;
}

/* kmem_cache_info() with the mm lock held and every CPU's gate stopped
 * by the caller (mm_stats_get's one snapshot); takes the cache's lock. */
int kmem_cache_info_locked(unsigned idx, struct kmem_cache_stats *out);

#endif
