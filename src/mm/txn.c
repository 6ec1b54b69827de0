/* txn.c - memory transactions (mm/txn.h): every allocation, page block and
 * mapping a transaction makes is written to a log first; abort replays the
 * log backwards, commit forgets it (and runs the deferred frees).
 *
 * Not a lock, not isolation, not a general undo: only what went through
 * mm_txn_* is undone, and only while nobody else frees in between (see
 * "Exactness" below). A transaction belongs to the CPU that began it:
 * txn_current and txn_keep are per CPU (mm_cpu()); the caches' hold
 * (txn_hold) counts holders, so undos on several CPUs overlap (their
 * exactness then is not promised: another CPU frees and allocates between
 * the undone entries). The mm lock is taken only around the
 * caches' bookkeeping (txn_keep_record, txn_trim), never across an
 * allocation, so kmalloc may still drop it to run shrinkers.
 *
 * Log layout (one log per outermost transaction, shared by its savepoints):
 *
 *   index 0 .. MM_TXN_INLINE-1   root->log[], inside the caller's struct:
 *                                a small transaction takes no memory for it
 *   index MM_TXN_INLINE ..       log pages, one buddy frame each, taken with
 *                                GFP_RESERVE | GFP_NOINJECT, on root->chunks
 *                                | list_head | TXN_PAGE_ENTRIES entries |
 *
 *   A savepoint t owns [t->start, next savepoint's start or root->len).
 *   Committing t only drops the boundary (its entries become its parent's);
 *   aborting it undoes [t->start, len) newest first and truncates.
 *
 * Entries (op: what was done -> what abort does; outermost commit):
 *   OP_ALLOC     ptr = kmalloc block, size = usable  -> kfree
 *   OP_RESERVED  as ALLOC, a reserved block not yet handed out -> kfree;
 *                commit kfrees it too (a savepoint's commit turns it NOP)
 *                ALLOC and RESERVED with order == TXN_FROM_CPU: the block
 *                came from the CPU's magazines (mm_txn_reserve) -> back
 *                into them (kmalloc_put_cached), else kfree
 *   OP_PAGES     ptr = head struct page, order       -> free_pages
 *   OP_VMMAP     ptr = vm_space, va, size            -> vm_unmap
 *   OP_FREE      ptr = block to free                 -> nothing; commit kfrees
 *   OP_NOP       nothing
 *
 * Invariants (between calls):
 *   - len <= cap == MM_TXN_INLINE + pages * TXN_PAGE_ENTRIES, and no log
 *     page is wholly unused (cap - len < TXN_PAGE_ENTRIES when pages exist);
 *   - a log slot is secured before the allocation it records, so every
 *     allocation that succeeded is logged, and an operation that fails
 *     leaves len, cap and the memory as they were;
 *   - t->reserved == the OP_RESERVED entries from t->start on (a savepoint
 *     frees its unused reservation when it commits);
 *   - txn_current is the innermost open transaction; the parent links lead
 *     from it to the root; only txn_current may be operated on.
 *
 * Exactness. Undoing the log frees exactly what the transaction took, and
 * the buddy allocator coalesces eagerly, so free pages per order come back
 * provided the caches also hold on to exactly the slabs and runs they held
 * at begin. They may not on their own: a slab or run that empties keeps the
 * cache's reserve (SLAB_RESERVE, HEAP_SPARE_RUNS), and which one is kept
 * depends on the order things emptied. So the outermost begin records which
 * slabs and runs are empty (txn_keep, at most SLAB_RESERVE per cache layout
 * plus HEAP_SPARE_RUNS), every undo runs with the caches held (txn_hold:
 * the slab and heap knobs keep what empties, kmalloc's caches are
 * bypassed, so nothing is trimmed while it frees) and ends with txn_trim(): every empty slab and
 * free run not in txn_keep goes back to the buddy allocator. txn_keep
 * serves every savepoint too: while a nest is open nothing is freed except
 * by undo, so what is empty at a savepoint's begin is a subset of txn_keep,
 * and a txn_keep member that is not empty at a savepoint's begin holds
 * blocks of an enclosing transaction, which the savepoint's abort leaves,
 * so it is not empty (not trimmed) after that abort either. One exception,
 * by design: a request that runs out of memory inside a transaction
 * reclaims (mm/shrinker.h), which empties the caches' keepers for good, so
 * after that abort free memory is at least what it was at begin. A
 * txn_keep entry released meanwhile is a stale pointer: trim only compares
 * heads with it, so at worst it keeps one empty slab or run that now
 * starts at the same frame. The CPUs' page lists (mm/buddy.h) would hold
 * blocks a page allocation took from a zone in a batch: while a
 * transaction is open its CPU bypasses its lists (buddy_pcp_bypass), so
 * its pages, log pages and page tables come from the zones and go back to
 * them, and the zones' free lists come back exactly. */
#include <string.h>
#include "mm/txn.h"
#include "mm/buddy.h"
#include "mm/heap.h"
#include "mm/kmalloc.h"
#include "mm/slab.h"
#include "mm/slowpath.h"
#include "mm/mm_env.h"
#include "kerrno.h"
#include "slab_internal.h"
#include "heap_internal.h"
#include "reset_internal.h"

#define TXN_OPEN 0x74786e6f70656eUL /* "txnopen" */
#define TXN_PAGE_ENTRIES \
	((PAGE_SIZE - sizeof(struct list_head)) / sizeof(struct mm_txn_entry))
/* Empty slabs (two layouts per cache, slab.c) and free runs kept at most. */
#define TXN_KEEP_MAX (2 * SLAB_MAX_CACHES * SLAB_RESERVE + HEAP_SPARE_RUNS)

enum { OP_NOP, OP_ALLOC, OP_RESERVED, OP_PAGES, OP_VMMAP, OP_FREE };
#define TXN_FROM_CPU 1u   /* entry order of a block from the CPU's magazines */

struct txn_page {
	struct list_head link; /* first: the page's address is the link's */
	struct mm_txn_entry e[TXN_PAGE_ENTRIES];
};
_Static_assert(sizeof(struct txn_page) <= PAGE_SIZE, "log page overflows");

/* Per CPU (mm_cpu()): a transaction belongs to the hart or host thread
 * that began it. */
static struct txn_cpu {
	struct mm_txn *current;
	struct page *keep[TXN_KEEP_MAX];
	unsigned nkeep;
} txn_cpus[MM_MAX_CPUS];

#define txn_current (txn_cpus[mm_cpu()].current)
#define txn_keep (txn_cpus[mm_cpu()].keep)
#define txn_nkeep (txn_cpus[mm_cpu()].nkeep)

/* ---- the log --------------------------------------------------------------- */

/* Entry i of root r's log (i < r->cap). Walks from the last page visited,
 * so going through the log in either direction is O(1) a step. */
static struct mm_txn_entry *log_at(struct mm_txn *r, size_t i)
{
	size_t k;

	if (i < MM_TXN_INLINE)
		return &r->log[i];
	i -= MM_TXN_INLINE;
	k = i / TXN_PAGE_ENTRIES;
	for (; r->finger_idx < k; r->finger_idx++)
		r->finger = r->finger->next;
	for (; r->finger_idx > k; r->finger_idx--)
		r->finger = r->finger->prev;
	return &list_entry(r->finger, struct txn_page, link)
		->e[i % TXN_PAGE_ENTRIES];
}

/* Give back the log pages that hold no entry. */
static void log_fit(struct mm_txn *r)
{
	while (r->cap > MM_TXN_INLINE && r->cap - TXN_PAGE_ENTRIES >= r->len) {
		struct list_head *last = r->chunks.prev;

		list_del(last);
		r->cap -= TXN_PAGE_ENTRIES;
		if (free_pages(virt_to_page(last), 0) != 0)
			mm_report("mm_txn: log page %p refused by the buddy "
				  "allocator", (void *)last);
	}
	r->finger = list_empty(&r->chunks) ? NULL : r->chunks.next;
	r->finger_idx = 0;
}

/* Secure n more entries. Returns 0; -ENOMEM (log as it was) when a log
 * page cannot be had even from the zones' reserves. */
static int log_room(struct mm_txn *r, size_t n)
{
	struct txn_page *tp;
	struct page *pg;

	if (n > r->cap - r->len &&
	    (n - (r->cap - r->len)) / TXN_PAGE_ENTRIES >= buddy_free_pages())
		return -ENOMEM; /* more pages than exist: do not drain them */
	while (r->cap - r->len < n) {
		pg = alloc_pages(GFP_RESERVE | GFP_NOINJECT, 0);
		if (!pg) {
			log_fit(r);
			return -ENOMEM;
		}
		tp = page_address(pg);
		list_add_tail(&tp->link, &r->chunks);
		r->cap += TXN_PAGE_ENTRIES;
		if (!r->finger) {
			r->finger = &tp->link;
			r->finger_idx = 0;
		}
	}
	return 0;
}

/* Append an entry in a slot log_room() secured. */
static struct mm_txn_entry *log_push(struct mm_txn *r, unsigned op, void *ptr)
{
	struct mm_txn_entry *e = log_at(r, r->len++);

	memset(e, 0, sizeof(*e));
	e->op = op;
	e->ptr = ptr;
	return e;
}

/* ---- cache growth (see "Exactness") ------------------------------------------ */

static void txn_keep_record(void *caller)
{
	unsigned long s = mm_lock();
	unsigned ns = slab_list_empty(txn_keep, TXN_KEEP_MAX);
	unsigned room = ns < TXN_KEEP_MAX ? TXN_KEEP_MAX - ns : 0;
	unsigned nh = heap_list_free_runs(txn_keep + TXN_KEEP_MAX - room, room);

	mm_unlock(s);
	txn_nkeep = ns + nh;
	if (txn_nkeep > TXN_KEEP_MAX) {
		mm_report("mm_txn: begin by %p: %u empty slabs and free runs, "
			  "more than the %u the caches keep; an abort may "
			  "release some", caller, txn_nkeep,
			  (unsigned)TXN_KEEP_MAX);
		txn_nkeep = TXN_KEEP_MAX;
	}
}

static void txn_trim(void)
{
	unsigned long s = mm_lock();

	slab_release_empty_except(txn_keep, txn_nkeep);
	heap_release_free_except(txn_keep, txn_nkeep);
	mm_unlock(s);
}

/* ---- undo ------------------------------------------------------------------------ */

/* A block the transaction took back where it came from: into the CPU's
 * magazines when it came from them, so the slabs are as they were. */
static void txn_kfree(const struct mm_txn_entry *e)
{
	if (e->order != TXN_FROM_CPU || !kmalloc_put_cached(e->ptr))
		kfree(e->ptr);
}

static void undo_entry(const struct mm_txn_entry *e)
{
	switch (e->op) {
	case OP_ALLOC:
	case OP_RESERVED:
		txn_kfree(e);
		break;
	case OP_PAGES:
		if (free_pages(e->ptr, e->order) != 0)
			mm_report("mm_txn: abort: pages %p (order %u) were "
				  "freed behind the transaction's back",
				  e->ptr, (unsigned)e->order);
		break;
	case OP_VMMAP:
		if (vm_unmap(e->ptr, e->va, e->size) != 0)
			mm_report("mm_txn: abort: cannot unmap %lx+%zu: changed "
				  "behind the transaction's back",
				  (unsigned long)e->va, e->size);
		break;
	default: /* OP_FREE: dropped; OP_NOP */
		break;
	}
}

/* Hold (or stop holding) what empties while the log is undone: the caches
 * keep emptied slabs and runs, and kfree takes its full path, so a block
 * goes back where it came from rather than into kmalloc's caches of freed
 * objects and blocks. */
static void txn_hold(bool on)
{
	unsigned long s = mm_lock();

	slab_set_keep_empty(on);
	heap_set_keep_free_runs(on);
	kmalloc_bypass_caches(on);
	mm_unlock(s);
}

/* Undo root r's entries [mark, len), newest first, and trim the caches back
 * to what the outermost begin found. */
static void txn_undo(struct mm_txn *r, size_t mark)
{
	txn_hold(true);
	while (r->len > mark)
		undo_entry(log_at(r, --r->len));
	txn_hold(false);
	txn_trim();
	log_fit(r);
}

/* ---- checks ------------------------------------------------------------------------ */

static bool txn_is_open(const struct mm_txn *t)
{
	const struct mm_txn *c;

	for (c = txn_current; c; c = c->parent)
		if (c == t)
			return true;
	return false;
}

/* 0 when t is the innermost open transaction; else reported, and -EBUSY
 * (a savepoint inside t is open) or -EINVAL (t is not open). */
static int txn_usable(const struct mm_txn *t, const char *what, void *caller)
{
	if (t && t == txn_current)
		return 0;
	if (t && txn_is_open(t)) {
		mm_report("mm_txn: %s of %p by %p: savepoint %p inside it is "
			  "still open", what, (const void *)t, caller,
			  (void *)txn_current);
		return -EBUSY;
	}
	mm_report("mm_txn: %s of %p by %p: not an open transaction", what,
		  (const void *)t, caller);
	return -EINVAL;
}

/* The same validity rules as kmem_try_alloc(), checked before the log
 * grows so that a bad request is -EINVAL, never -ENOMEM. */
static bool bad_request(size_t size, size_t align)
{
	return !size || size > KMALLOC_MAX_REQUEST || (align & (align - 1)) ||
	       align > KMALLOC_MAX_ALIGN;
}

/* ---- begin ---------------------------------------------------------------------- */

int mm_txn_begin(struct mm_txn *t)
{
	void *caller = __builtin_return_address(0);
	int ret = 0;

	if (!t || txn_is_open(t)) {
		mm_report("mm_txn: begin of %p by %p: %s", (void *)t, caller,
			  t ? "already open" : "NULL transaction");
		ret = -EINVAL;
	} else {
		memset(t, 0, sizeof(*t));
		t->magic = TXN_OPEN;
		t->parent = txn_current;
		t->root = t->parent ? t->parent->root : t;
		if (!t->parent) {
			list_init(&t->chunks);
			t->cap = MM_TXN_INLINE;
			txn_keep_record(caller);
			buddy_pcp_bypass(true);   /* see "Exactness" */
		}
		t->start = t->root->len;
		txn_current = t;
	}
	return ret;
}

struct mm_txn *mm_txn_current(void)
{
	return txn_current;
}

void mm_txn_reset(void)
{
	static bool once;
	unsigned long s = mm_lock();

	mm_reset_static(txn_cpus, sizeof(txn_cpus), &once);
	mm_unlock(s);   /* the caches' holds were reset by their own inits */
}

/* ---- allocation ---------------------------------------------------------------- */

/* t's unused reserved block that fits best, or NULL. */
static struct mm_txn_entry *resv_find(struct mm_txn *t, size_t size,
				      size_t align, gfp_t gfp)
{
	struct mm_txn_entry *e, *best = NULL;
	size_t i;

	if (!t->reserved || (gfp & (GFP_DMA | GFP_DMA32)))
		return NULL;
	for (i = t->start; i < t->root->len; i++) {
		e = log_at(t->root, i);
		if (e->op != OP_RESERVED || e->size < size ||
		    ((uintptr_t)e->ptr & ((align ? align : 1) - 1)))
			continue;
		if (!best || e->size < best->size)
			best = e;
	}
	return best;
}

static int txn_alloc(struct mm_txn *t, size_t size, size_t align, gfp_t gfp,
		     void **out)
{
	struct mm_txn *r = t->root;
	struct mm_txn_entry *e;
	int ret;

	if (bad_request(size, align))
		return -EINVAL;
	e = resv_find(t, size, align, gfp);
	if (e) {
		e->op = OP_ALLOC; /* it stays where it was taken: undo order holds */
		t->reserved--;
		if (gfp & GFP_ZERO)
			memset(e->ptr, 0, e->size);
		*out = e->ptr;
		return 0;
	}
	ret = log_room(r, 1);
	if (ret)
		return ret;
	ret = kmem_try_alloc(size, align, gfp, out);
	if (ret) {
		log_fit(r);
		return ret;
	}
	log_push(r, OP_ALLOC, *out)->size = ksize(*out);
	return 0;
}

int mm_txn_alloc(struct mm_txn *t, size_t size, size_t align, gfp_t gfp,
		 void **out)
{
	int ret = txn_usable(t, "alloc", __builtin_return_address(0));

	if (out)
		*out = NULL;
	if (!ret)
		ret = out ? txn_alloc(t, size, align, gfp, out) : -EINVAL;
	return ret;
}

static int txn_alloc_pages(struct mm_txn *r, unsigned order, gfp_t gfp,
			   struct page **out)
{
	int ret;

	if (order > MAX_ORDER)
		return -EINVAL;
	ret = log_room(r, 1);
	if (ret)
		return ret;
	ret = buddy_alloc(gfp, order, out);
	if (ret) {
		log_fit(r);
		return ret;
	}
	log_push(r, OP_PAGES, *out)->order = order;
	return 0;
}

int mm_txn_alloc_pages(struct mm_txn *t, unsigned order, gfp_t gfp,
		       struct page **out)
{
	int ret = txn_usable(t, "alloc_pages", __builtin_return_address(0));

	if (out)
		*out = NULL;
	if (!ret)
		ret = out ? txn_alloc_pages(t->root, order, gfp, out) : -EINVAL;
	return ret;
}

static int txn_vm_map(struct mm_txn *r, struct vm_space *vs, uintptr_t va,
		      phys_addr_t pa, size_t size, unsigned perm)
{
	struct mm_txn_entry *e;
	int ret;

	if (!vs)
		return -EINVAL;
	ret = log_room(r, 1);
	if (ret)
		return ret;
	ret = vm_map(vs, va, pa, size, perm);
	if (ret) {
		log_fit(r);
		return ret;
	}
	e = log_push(r, OP_VMMAP, vs);
	e->va = va;
	e->size = size;
	return 0;
}

int mm_txn_vm_map(struct mm_txn *t, struct vm_space *vs, uintptr_t va,
		  phys_addr_t pa, size_t size, unsigned perm)
{
	int ret = txn_usable(t, "vm_map", __builtin_return_address(0));

	if (!ret)
		ret = txn_vm_map(t->root, vs, va, pa, size, perm);
	return ret;
}

/* ---- deferred free ----------------------------------------------------------- */

static int txn_free(struct mm_txn *r, const void *p, void *caller)
{
	size_t i;
	int ret;

	if (!p || !ksize(p)) {
		mm_report("mm_txn: free of %p by %p: not an allocated block",
			  p, caller);
		return -EINVAL;
	}
	for (i = 0; i < r->len; i++) {
		if (log_at(r, i)->op == OP_FREE && log_at(r, i)->ptr == p) {
			mm_report("mm_txn: free of %p by %p: already scheduled",
				  p, caller);
			return -EINVAL;
		}
	}
	ret = log_room(r, 1);
	if (!ret)
		log_push(r, OP_FREE, (void *)p);
	return ret;
}

int mm_txn_free(struct mm_txn *t, const void *p)
{
	void *caller = __builtin_return_address(0);
	int ret = txn_usable(t, "free", caller);

	if (!ret)
		ret = txn_free(t->root, p, caller);
	return ret;
}

/* ---- reservation -------------------------------------------------------------- */

/* The reservation draws first on what the calling CPU's magazines hold
 * (kmalloc_take_cached: Linux's kmem_cache_prefill_sheaf takes its sheaf
 * from the CPU's caches the same way), then on the allocators. */
static int txn_reserve(struct mm_txn *t, size_t bytes, size_t count)
{
	struct mm_txn *r = t->root;
	size_t mark = r->len, i = 0;
	void *p, *batch[16];
	unsigned got;

	if (!bytes || bytes > KMALLOC_MAX_REQUEST)
		return -EINVAL;
	if (log_room(r, count) != 0)
		return -ENOMEM;
	while (i < count && (got = kmalloc_take_cached(bytes, batch, count - i < 16 ?
							   (unsigned)(count - i) : 16)) != 0) {
		for (unsigned k = 0; k < got; k++, i++) {
			struct mm_txn_entry *e = log_push(r, OP_RESERVED, batch[k]);

			e->size = ksize(batch[k]);
			e->order = TXN_FROM_CPU;
		}
	}
	for (; i < count; i++) {
		if (kmem_try_alloc(bytes, MM_TXN_RESERVE_ALIGN, 0, &p) != 0) {
			txn_undo(r, mark); /* takes back blocks and log pages */
			return -ENOMEM;
		}
		log_push(r, OP_RESERVED, p)->size = ksize(p);
	}
	t->reserved += count;
	return 0;
}

int mm_txn_reserve(struct mm_txn *t, size_t bytes, size_t count)
{
	int ret = txn_usable(t, "reserve", __builtin_return_address(0));

	if (!ret)
		ret = txn_reserve(t, bytes, count);
	return ret;
}

/* ---- commit / abort ---------------------------------------------------------- */

/* Close t: its parent becomes the innermost. */
static void txn_close(struct mm_txn *t)
{
	txn_current = t->parent;
	t->magic = 0;
	t->reserved = 0;
	if (!t->parent) {
		txn_nkeep = 0;
		buddy_pcp_bypass(false);
	}
}

/* A savepoint's unused reservation goes back now; the rest is the
 * parent's. Freed with the caches held for the same reason as an undo. */
static void commit_savepoint(struct mm_txn *t)
{
	struct mm_txn_entry *e;
	size_t i;

	if (!t->reserved)
		return;
	txn_hold(true);
	for (i = t->start; i < t->root->len; i++) {
		e = log_at(t->root, i);
		if (e->op == OP_RESERVED) {
			txn_kfree(e);
			e->op = OP_NOP;
		}
	}
	txn_hold(false);
	txn_trim();
}

/* Outermost: deferred frees and unused reservations, oldest first; then
 * the log is released. */
static void commit_outermost(struct mm_txn *r)
{
	struct mm_txn_entry *e;
	size_t i;

	for (i = 0; i < r->len; i++) {
		e = log_at(r, i);
		if (e->op == OP_FREE || e->op == OP_RESERVED)
			kfree(e->ptr);
	}
	r->len = 0;
	log_fit(r);
}

int mm_txn_commit(struct mm_txn *t)
{
	int ret = txn_usable(t, "commit", __builtin_return_address(0));

	if (!ret) {
		if (t->parent)
			commit_savepoint(t);
		else
			commit_outermost(t);
		txn_close(t);
	}
	return ret;
}

int mm_txn_abort(struct mm_txn *t)
{
	int ret = txn_usable(t, "abort", __builtin_return_address(0));

	if (!ret) {
		txn_undo(t->root, t->start);
		txn_close(t);
	}
	return ret;
}

/* ---- runner -------------------------------------------------------------------- */

/* fn returned with t not the innermost. Savepoints it left open are dropped
 * unread (their structs were in fn's frame, which is gone; their work is in
 * t's log) and undone with t. */
static int run_unwind(struct mm_txn *t, void *caller)
{
	if (t->magic != TXN_OPEN) {
		mm_report("mm_txn: run by %p: the function ended its own "
			  "transaction %p", caller, (void *)t);
		return -EINVAL;
	}
	mm_report("mm_txn: run by %p: the function left savepoint %p open; "
		  "all of it rolled back", caller, (void *)txn_current);
	txn_current = t;
	mm_txn_abort(t);
	return -EBUSY;
}

int mm_txn_run(int (*fn)(struct mm_txn *t, void *arg), void *arg)
{
	struct mm_txn t;
	int ret;

	if (!fn)
		return -EINVAL;
	ret = mm_txn_begin(&t);
	if (ret)
		return ret;
	ret = fn(&t, arg);
	if (txn_current != &t)
		return run_unwind(&t, __builtin_return_address(0));
	if (ret == 0)
		return mm_txn_commit(&t);
	mm_txn_abort(&t);
	return ret;
}
