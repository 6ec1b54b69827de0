/* heap.c - SimpleHeap (mm/heap.h): first fit over address-ordered free
 * lists, boundary tags for O(1) split and coalesce.
 *
 * Not a size-class allocator and not lock-free: one lock, heap_lock,
 * guards every run, chunk and counter of it.
 *
 * Locks, in the order they are taken: mm lock -> heap_lock -> (the page
 * allocator's own). The public entry points (heap.h) hold the mm lock and
 * take heap_lock inside; kmalloc's SimpleHeap path takes heap_lock alone
 * (__heap_alloc_cached, __heap_free_sized). Whoever holds heap_lock calls
 * nothing that takes the mm lock: a new run's frames are got with it
 * dropped (run_frames), fault injection is asked before it is taken, and
 * a run given back goes on heap_released, freed by heap_unlock() once the
 * lock is dropped (as the slab caches do: slab.c).
 *
 * Run layout (a run is one buddy block of 2^order frames, order >=
 * HEAP_MIN_ORDER; head frame owner PAGE_OWNER_HEAP, compound, priv = run):
 *
 *   run                                                         run + 4K<<order
 *   | struct heap_run | sentinel footer | chunk | chunk | ... | end sentinel |
 *   0                 56                64                     -16
 *
 * Chunk layout (every chunk 16-byte aligned, size a multiple of 16, >= 48):
 *
 *   +0   sf     size | flags (USED, RZ, POISON)          \ header, 16 bytes
 *   +8   req    requested bytes (USED)                   |
 *   +12  check  HEAP_MAGIC ^ hash(address, sf, req)      /
 *   +16  payload; a free chunk keeps its list link here (16 bytes)
 *   size-8      footer: a copy of sf (the boundary tag)
 *
 *   - the left neighbour of chunk c is c - size(footer at c - 8); the
 *     sentinel footer (size 0, USED) stops the walk at the run start;
 *   - the right neighbour is c + size; the end sentinel header (size 0,
 *     USED) stops it at the run end;
 *   - usable bytes of a block are size - 24 (req when it has a red zone).
 *
 * Invariants (heap_check.c verifies them):
 *   - chunks tile each run's chunk area exactly; every header's check
 *     matches and its footer equals sf;
 *   - no two free chunks are adjacent (coalescing is eager);
 *   - each run's free list holds exactly its free chunks, in address
 *     order, and run->free_bytes is their total size; runs are kept in
 *     address order, so the lists together are one address-ordered list;
 *   - RZ chunk: bytes [payload + req, footer) are 0xcc;
 *   - POISON free chunk: bytes [c + 32, footer) are 0x6b;
 *   - at most HEAP_SPARE_RUNS runs are entirely free after a free (while
 *     heap_set_keep_free_runs() is on, all stay; whoever set it trims).
 *
 * Debug: a block allocated with MM_DEBUG_REDZONE gets >= 8 bytes of 0xcc
 * after the requested size (the header before it is guarded by its check
 * word); the RZ flag is per block, so toggling is safe. A block freed with
 * MM_DEBUG_POISON is filled with 0x6b and flagged; a merge keeps the flag
 * only if both sides had it, and poisons the tags that became interior. */
#include <string.h>
#include "lib/bitops.h"
#include "mm/heap.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/mm_debug.h"
#include "mm/mm_env.h"
#include "mm/shrinker.h"
#include "kerrno.h"
#include "heap_internal.h"

struct heap_state heap_state;
static struct shrinker heap_keeper;   /* below, beside heap_shrink */
static int keep_free_runs;           /* heap_set_keep_free_runs(): its holders */
static mm_spinlock_t heap_lock_word;   /* heap_lock(): see above */
static struct list_head heap_released;   /* runs off the books, for heap_unlock to free */

/* ---- the lock (heap_internal.h) ------------------------------------------- */

unsigned long heap_lock(void)
{
	return mm_spin_lock(&heap_lock_word);
}

void heap_unlock(unsigned long state)
{
	struct list_head rel;

	if (list_empty(&heap_released)) {
		mm_spin_unlock(&heap_lock_word, state);
		return;
	}
	list_init(&rel);
	while (!list_empty(&heap_released))
		list_move(heap_released.next, &rel);
	mm_spin_unlock(&heap_lock_word, state);
	while (!list_empty(&rel)) {   /* the runs' memory is still ours: free it now */
		struct heap_run *r = list_entry(rel.next, struct heap_run, link);
		struct page *pg = virt_to_page(r);

		list_del(&r->link);
		r->magic = 0;
		if (free_pages_owned(pg, r->order, PAGE_OWNER_HEAP) != 0) {
			mm_debug_count_corruption();
			mm_report("heap: buddy refused run %p", (void *)r);
		}
	}
}

/* ---- runs ----------------------------------------------------------------- */

void heap_init(void)
{
	memset(&heap_state, 0, sizeof(heap_state));
	list_init(&heap_state.runs);
	list_init(&heap_released);
	mm_spin_init(&heap_lock_word, "SimpleHeap");
	keep_free_runs = 0;
	shrinker_register(&heap_keeper);
}

static void run_insert(struct heap_run *r)
{
	struct list_head *pos;

	list_for_each(pos, &heap_state.runs)
		if ((uintptr_t)list_entry(pos, struct heap_run, link) > (uintptr_t)r)
			break;
	list_insert_between(&r->link, pos->prev, pos);
}

/* A new run with one free chunk covering its area, on no list and in no
 * count (run_install puts it in service), or NULL. heap_lock not held:
 * the page allocator may take the mm lock. */
static struct heap_run *run_frames(size_t need, size_t align, gfp_t gfp)
{
	size_t bytes = RUN_OVERHEAD + need + (align > 16 ? align + MIN_CHUNK : 0);
	unsigned order = 0, want;
	struct page *pg;
	struct heap_run *r;

	while ((PAGE_SIZE << order) < bytes)
		if (++order > MAX_ORDER)
			return NULL;
	want = order < HEAP_MIN_ORDER ? HEAP_MIN_ORDER : order;
	if (buddy_try_alloc(gfp & ~GFP_ZERO, want, &pg) &&
	    (want == order || buddy_try_alloc(gfp & ~GFP_ZERO, want = order, &pg)))
		return NULL;
	page_set_compound(pg, want);
	page_set_owner(pg, PAGE_OWNER_HEAP);
	r = page_address(pg);
	pg->priv = r;
	r->magic = RUN_MAGIC;
	r->order = want;
	list_init(&r->free);
	((uint64_t *)run_first(r))[-1] = CH_USED; /* sentinel footer */
	ch_set(run_end(r), 0, CH_USED, 0);
	ch_set(run_first(r), run_area(r), 0, 0);
	list_add(ch_node(run_first(r)), &r->free);
	r->free_bytes = run_area(r);
	return r;
}

/* Put run r (from run_frames) in service (heap_lock held). */
static void run_install(struct heap_run *r)
{
	run_insert(r);
	heap_state.nruns++;
	heap_state.free_runs++;
	heap_state.arena_bytes += run_bytes(r);
	heap_state.free_bytes += r->free_bytes;
}

/* Take an entirely free run off the books (heap_lock held): heap_unlock
 * gives its frames back once the lock is dropped. A free into it meanwhile
 * finds no run (priv cleared) and is refused. */
static void run_release(struct heap_run *r)
{
	list_del(&r->link);
	heap_state.nruns--;
	heap_state.free_runs--;
	heap_state.arena_bytes -= run_bytes(r);
	heap_state.free_bytes -= r->free_bytes;
	virt_to_page(r)->priv = NULL;
	list_add(&r->link, &heap_released);
}

/* SimpleHeap's keeper (mm/shrinker.h): every fully free run released.
 * Returns the bytes given back. */
static unsigned long heap_keeper_scan(struct shrinker *sh, unsigned long want)
{
	(void)sh;
	(void)want;
	return heap_shrink() * PAGE_SIZE;
}

static struct shrinker heap_keeper = { .scan = heap_keeper_scan, .keeper = true };

unsigned long heap_shrink(void)
{
	unsigned long s = mm_lock(), hs = heap_lock(), frames = 0;
	struct list_head *pos, *n;

	list_for_each_safe(pos, n, &heap_state.runs) {
		struct heap_run *r = list_entry(pos, struct heap_run, link);

		if (run_is_free(r)) {
			frames += 1UL << r->order;
			run_release(r);
		}
	}
	heap_unlock(hs);
	mm_unlock(s);
	return frames;
}

/* ---- allocation ----------------------------------------------------------- */

/* Does free chunk c hold need bytes with the payload aligned? *lead is the
 * free gap left in front (0 or >= MIN_CHUNK). */
static bool ch_fit(const struct hchunk *c, size_t need, size_t align,
		   size_t *lead)
{
	uintptr_t a = (uintptr_t)c;
	uintptr_t p = round_up(a + HDR, align);

	if (p - HDR != a && p - HDR - a < MIN_CHUNK)
		p = round_up(a + HDR + MIN_CHUNK, align);
	*lead = p - HDR - a;
	return *lead + need <= ch_size(c);
}

static struct hchunk *run_find(struct heap_run *r, size_t need, size_t align,
			       size_t *lead)
{
	struct list_head *pos;

	if (r->free_bytes < need)
		return NULL;
	list_for_each(pos, &r->free)
		if (ch_fit(node_ch(pos), need, align, lead))
			return node_ch(pos);
	return NULL;
}

static struct hchunk *heap_find(size_t need, size_t align, size_t *lead,
				struct heap_run **run)
{
	struct list_head *pos;
	struct hchunk *c;

	list_for_each(pos, &heap_state.runs) {
		*run = list_entry(pos, struct heap_run, link);
		c = run_find(*run, need, align, lead);
		if (c)
			return c;
	}
	return NULL;
}

/* Before carving [c, c + size) out of poisoned free chunk f: its interior
 * [f + 32, f_end - 8) must still be 0x6b where the new block's payload is. */
static void poison_verify(const struct hchunk *f, const struct hchunk *c,
			  size_t size, void *caller)
{
	char *lo = (char *)f + HDR + 16, *hi = (char *)c + size - FTR;
	size_t bad;

	if (lo < ch_payload(c))
		lo = ch_payload(c);
	if (hi <= lo)
		return;
	bad = mm_debug_find_not(lo, (size_t)(hi - lo), MM_POISON_FREE);
	if (bad == (size_t)(hi - lo))
		return;
	mm_debug_count_poison();
	mm_report("heap: poison overwritten at %p (use after free), found at "
		  "alloc by %p", (void *)(lo + bad), caller);
}

/* Split free chunk f at lead and after need; return the used chunk. */
static struct hchunk *ch_carve(struct heap_run *r, struct hchunk *f,
			       size_t lead, size_t need, void *caller)
{
	unsigned pf = ch_flags(f) & CH_POISON;
	size_t total = ch_size(f);
	struct hchunk *c = (struct hchunk *)((char *)f + lead);

	if (total - lead - need < MIN_CHUNK)
		need = total - lead;
	if (pf)
		poison_verify(f, c, need, caller);
	if (lead) {
		ch_set(f, lead, pf, 0);
		ch_set(c, total - lead, pf, 0);
		list_add(ch_node(c), ch_node(f));
	}
	if (ch_size(c) > need) {
		struct hchunk *rest = (struct hchunk *)((char *)c + need);

		ch_set(rest, ch_size(c) - need, pf, 0);
		list_add(ch_node(rest), ch_node(c));
	}
	list_del(ch_node(c));
	if (run_is_free(r))
		heap_state.free_runs--;
	r->free_bytes -= need;
	heap_state.free_bytes -= need;
	ch_set(c, need, CH_USED, 0);
	return c; /* the caller sets flags and req */
}

static void heap_count_alloc(size_t size, const struct hchunk *c)
{
	heap_state.used_blocks++;
	heap_state.st.successes++;
	heap_state.st.bytes_requested += size;
	heap_state.st.bytes_granted += ch_usable(c);
	heap_state.st.bytes_in_use += ch_usable(c);
	if (heap_state.st.bytes_in_use > heap_state.st.peak_bytes_in_use)
		heap_state.st.peak_bytes_in_use = heap_state.st.bytes_in_use;
}

static int heap_fail(void **out, int err)
{
	if (out)
		*out = NULL;
	if (err == -EINVAL)
		heap_state.st.fail_inval++;
	else
		heap_state.st.fail_nomem++;
	return err;
}

/* Serve a checked request (heap_lock held, *state its state): first fit,
 * else -- when grow -- a new run, got with the lock dropped. -EAGAIN,
 * counting nothing, when no chunk fits and not grow. */
static int heap_alloc_locked(size_t size, size_t align, gfp_t gfp, void **out,
			     void *caller, bool grow, unsigned long *state)
{
	bool rz = __atomic_load_n(&mm_debug_flags, __ATOMIC_RELAXED) & MM_DEBUG_REDZONE;
	struct heap_run *r = NULL;
	struct hchunk *c;
	size_t need, lead;

	align = align < 16 ? 16 : align;
	need = chunk_need(size, rz);
	c = heap_find(need, align, &lead, &r);
	if (!c && !grow)
		return -EAGAIN;
	heap_state.st.requests++;
	if (!c) {
		heap_unlock(*state);
		r = run_frames(need, align, gfp);
		*state = heap_lock();
		if (r) {
			run_install(r);
			c = run_find(r, need, align, &lead);
		}
		if (!c)
			return heap_fail(out, -ENOMEM);
	}
	c = ch_carve(r, c, lead, need, caller);
	ch_set(c, ch_size(c), CH_USED | (rz ? CH_RZ : 0), (uint32_t)size);
	if (rz) {
		memset(ch_payload(c) + size, MM_REDZONE_BYTE,
		       ch_size(c) - HDR - FTR - size);
	}
	if (gfp & GFP_ZERO)
		memset(ch_payload(c), 0, ch_usable(c));
	heap_count_alloc(size, c);
	*out = ch_payload(c);
	return 0;
}

int __heap_alloc(size_t size, size_t align, gfp_t gfp, void **out,
		 void *caller)
{
	bool injected = false;
	unsigned long s;
	int ret = 0;

	if (!out || !size || (align & (align - 1)) || align > HEAP_MAX_ALIGN)
		ret = -EINVAL;
	else if (size > HEAP_MAX_ALLOC)
		ret = -ENOMEM;
	else if ((injected = faultinj_should_fail(FI_HEAP, size, gfp)))
		ret = -ENOMEM;   /* asked before the lock: it may take the mm lock */
	s = heap_lock();
	if (ret) {
		heap_state.st.requests++;
		heap_state.st.fail_injected += injected;
		heap_fail(out, ret);
	} else {
		ret = heap_alloc_locked(size, align, gfp, out, caller, true, &s);
	}
	heap_unlock(s);
	return ret;
}

int __heap_alloc_cached(size_t size, gfp_t gfp, void **out, void *caller,
			size_t *granted)
{
	int ret;

	if (!size || size > HEAP_MAX_ALLOC)
		return -EAGAIN;
	ret = heap_alloc_locked(size, 16, gfp, out, caller, false, NULL);   /* never drops it */
	if (ret == 0)
		*granted = ch_usable((struct hchunk *)*out - 1);
	return ret;
}

/* Out of memory (not by injection, and not a size no run can hold):
 * reclaim (mm/shrinker.h) and try again while anything comes back. The
 * heap counts one request, and a failure only when the last try failed. */
int heap_alloc(size_t size, size_t align, gfp_t gfp, void **out)
{
	void *caller = __builtin_return_address(0);
	unsigned long s = mm_lock(), hs, injected = faultinj_injected();
	int ret = __heap_alloc(size, align, gfp, out, caller);
	unsigned round = 0;

	while (ret == -ENOMEM && size <= HEAP_MAX_ALLOC &&
	       faultinj_injected() == injected) {
		mm_unlock(s);
		if (!mm_reclaim(size, gfp, &round)) {
			s = mm_lock();
			break;
		}
		s = mm_lock();
		hs = heap_lock();
		heap_state.st.requests--;   /* the same request, tried again */
		heap_state.st.fail_nomem--;
		heap_unlock(hs);
		ret = __heap_alloc(size, align, gfp, out, caller);
	}
	mm_unlock(s);
	return ret;
}

/* ---- free ------------------------------------------------------------------ */

/* The run holding p, or NULL with *why set. */
static struct heap_run *heap_run_of(const void *p, const char **why)
{
	struct page *pg = p ? virt_to_page(p) : NULL;
	struct heap_run *r;

	*why = "not in any page frame";
	if (!pg)
		return NULL;
	pg = compound_head(pg);
	*why = "not in the heap";
	if (!(pg->flags & PG_HEAD) || pg->owner != PAGE_OWNER_HEAP)
		return NULL;
	r = pg->priv;
	*why = "heap run metadata corrupt";
	if (r != page_address(pg) || r->magic != RUN_MAGIC)
		return NULL;
	return r;
}

/* Are c's tags consistent with each other and with both neighbours? */
static bool ch_linked(const struct heap_run *r, const struct hchunk *c)
{
	size_t size = ch_size(c), ps;
	const struct hchunk *n, *p;

	if (size < MIN_CHUNK || size > (size_t)((char *)run_end(r) - (char *)c) ||
	    *ch_footer(c) != c->sf)
		return false;
	n = ch_next(c);
	if (!ch_sane(n) || (n != run_end(r) &&
	    (ch_size(n) > (size_t)((char *)run_end(r) - (char *)n) ||
	     *ch_footer(n) != n->sf)))
		return false;
	ps = (size_t)(((const uint64_t *)c)[-1] & ~(uint64_t)CH_FLAGS);
	if (!ps)
		return c == run_first(r);
	p = (const struct hchunk *)((const char *)c - ps);
	return ps <= (size_t)((char *)c - (char *)run_first(r)) && ch_sane(p) &&
	       ch_size(p) == ps;
}

/* The allocated chunk whose payload is p, or NULL with *why set. */
static struct hchunk *heap_block_of(const void *p, struct heap_run **rp,
				    const char **why)
{
	struct heap_run *r = heap_run_of(p, why);
	struct hchunk *c;

	if (!r)
		return NULL;
	c = (struct hchunk *)p - 1;
	*why = "not the start of a block (interior pointer or never allocated)";
	if ((uintptr_t)p % 16 || (uintptr_t)c < (uintptr_t)run_first(r) ||
	    (uintptr_t)c >= (uintptr_t)run_end(r) || !ch_sane(c))
		return NULL;
	*why = "block is free (double free or pointer into free space)";
	if (!ch_used(c))
		return NULL;
	*why = "block tags or a neighbour's overwritten";
	if (!ch_linked(r, c))
		return NULL;
	*rp = r;
	return c;
}

static void rz_verify(const struct hchunk *c, void *caller)
{
	char *z = ch_payload(c) + c->req;
	size_t n = ch_size(c) - HDR - FTR - c->req;
	size_t bad = mm_debug_find_not(z, n, MM_REDZONE_BYTE);

	if (bad == n)
		return;
	mm_debug_count_redzone();
	mm_report("heap: red zone overwritten at %p+%zu (past the %u-byte "
		  "block), found at free by %p", (void *)ch_payload(c),
		  (size_t)c->req + bad, (unsigned)c->req, caller);
}

/* Put free chunk c on r's free list in address order; next_free, when
 * non-NULL, is c's free right neighbour (c goes just before it). */
static void run_link_free(struct heap_run *r, struct hchunk *c,
			  struct hchunk *next_free)
{
	struct list_head *pos;

	if (next_free) {
		pos = ch_node(next_free);
	} else {
		list_for_each(pos, &r->free)
			if ((uintptr_t)node_ch(pos) > (uintptr_t)c)
				break;
	}
	list_insert_between(ch_node(c), pos->prev, pos);
}

/* Merge free chunk b into its free left neighbour a. */
static void ch_merge(struct hchunk *a, struct hchunk *b)
{
	unsigned pf = ch_flags(a) & ch_flags(b) & CH_POISON;
	size_t size = ch_size(a) + ch_size(b);

	if (pf)
		memset((char *)b - FTR, MM_POISON_FREE, FTR + HDR + 16);
	ch_set(a, size, pf, 0);
}

static void ch_release(struct heap_run *r, struct hchunk *c)
{
	struct hchunk *prev = ch_prev(c), *next = ch_next(c);
	size_t size = ch_size(c);
	unsigned pf = 0;

	if (__atomic_load_n(&mm_debug_flags, __ATOMIC_RELAXED) & MM_DEBUG_POISON) {
		memset(ch_payload(c) + 16, MM_POISON_FREE, size - HDR - 16 - FTR);
		pf = CH_POISON;
	}
	ch_set(c, size, pf, 0); /* a stale header left by a merge reads "free" */
	if (next == run_end(r) || ch_used(next))
		next = NULL;
	if (prev && !ch_used(prev)) {
		ch_merge(prev, c);
		c = prev;
	} else {
		run_link_free(r, c, next);
	}
	if (next) {
		list_del(ch_node(next));
		ch_merge(c, next);
	}
	r->free_bytes += size;
	heap_state.free_bytes += size;
}

static int heap_wrong_free(const void *p, void *caller, const char *why)
{
	heap_state.st.wrong_frees++;
	mm_report("heap: wrong free of %p by %p: %s", p, caller, why);
	return -EINVAL;
}

/* Free p (heap_lock held); *usable its usable bytes on success. */
static int heap_free_locked(void *p, void *caller, size_t *usable)
{
	struct heap_run *r;
	const char *why;
	struct hchunk *c = heap_block_of(p, &r, &why);

	if (!c)
		return heap_wrong_free(p, caller, why);
	if (ch_flags(c) & CH_RZ)
		rz_verify(c, caller);
	*usable = ch_usable(c);
	heap_state.st.frees++;
	heap_state.st.bytes_in_use -= ch_usable(c);
	heap_state.used_blocks--;
	ch_release(r, c);
	if (run_is_free(r)) {
		heap_state.free_runs++;
		if (heap_state.free_runs > HEAP_SPARE_RUNS &&
		    !__atomic_load_n(&keep_free_runs, __ATOMIC_RELAXED))
			run_release(r);
	}
	return 0;
}

int __heap_free_locked(void *p, void *caller, size_t *usable)
{
	return heap_free_locked(p, caller, usable);
}

int __heap_free(void *p, void *caller)
{
	unsigned long s = heap_lock();
	size_t usable;
	int ret = heap_free_locked(p, caller, &usable);

	heap_unlock(s);
	return ret;
}

int heap_free(void *p)
{
	unsigned long s = mm_lock(), hs;
	int ret = __heap_free(p, __builtin_return_address(0));

	if (ret) {
		hs = heap_lock();
		heap_state.st.api_wrong_frees++;
		heap_unlock(hs);
	}
	mm_unlock(s);
	return ret;
}

size_t __heap_usable_size(const void *p)
{
	unsigned long s = heap_lock();
	struct heap_run *r;
	const char *why;
	struct hchunk *c = heap_block_of(p, &r, &why);
	size_t n = c ? ch_usable(c) : 0;

	heap_unlock(s);
	return n;
}

size_t heap_usable_size(const void *p)
{
	unsigned long s = mm_lock();
	size_t n = __heap_usable_size(p);

	mm_unlock(s);
	return n;
}

/* ---- choosing which free runs stay (heap_internal.h) ----------------------- */

void heap_set_keep_free_runs(bool on)
{
	__atomic_fetch_add(&keep_free_runs, on ? 1 : -1, __ATOMIC_RELAXED);   /* read under heap_lock only */
}

unsigned heap_list_free_runs(struct page **out, unsigned max)
{
	unsigned long s = heap_lock();
	struct list_head *pos;
	unsigned n = 0;

	list_for_each(pos, &heap_state.runs) {
		struct heap_run *r = list_entry(pos, struct heap_run, link);

		if (!run_is_free(r))
			continue;
		if (n < max)
			out[n] = virt_to_page(r);
		n++;
	}
	heap_unlock(s);
	return n;
}

unsigned long heap_release_free_except(struct page *const *keep, unsigned n)
{
	unsigned long s = heap_lock(), frames = 0;
	struct list_head *pos, *nx;
	unsigned i;

	list_for_each_safe(pos, nx, &heap_state.runs) {
		struct heap_run *r = list_entry(pos, struct heap_run, link);

		for (i = 0; i < n && keep[i] != virt_to_page(r); i++)
			;
		if (!run_is_free(r) || i < n)
			continue;
		frames += 1UL << r->order;
		run_release(r);
	}
	heap_unlock(s);
	return frames;
}
