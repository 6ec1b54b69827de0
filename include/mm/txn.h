/* txn.h - memory transactions: groups of allocations that succeed together
 * or leave no trace.
 *
 *	struct mm_txn t;
 *	mm_txn_begin(&t);
 *	if (mm_txn_alloc(&t, 64, 0, 0, &a) || mm_txn_alloc_pages(&t, 2, 0, &pg) ||
 *	    mm_txn_vm_map(&t, vs, va, page_to_phys(pg), 4 * PAGE_SIZE, VM_R))
 *		return mm_txn_abort(&t), -ENOMEM;    (a, pg and the mapping: gone)
 *	mm_txn_free(&t, old);                       (happens at commit)
 *	mm_txn_commit(&t);
 *
 * The struct is caller-owned (the stack is fine) and must not be copied or
 * moved while open. Transactions nest as savepoints: a begin while another
 * is open makes a child; aborting the child undoes only its own work,
 * committing it hands its work to the parent (a later parent abort undoes it
 * too; deferred frees run only at the outermost commit). They are strictly
 * LIFO: only the innermost open transaction may be used, committed or
 * aborted. One hart: the innermost transaction is a global (per hart under
 * SMP).
 *
 * Rollback is exact for state: after an abort, free pages per zone and
 * order, bytes in use per kmalloc backend, slab objects and slabs per cache,
 * heap runs and free bytes, page tables: all equal their values at begin,
 * provided nobody else allocated or freed in between (what the transaction
 * did not do, it does not undo). Cumulative event counters (requests,
 * successes, failures, frees, peaks) are history, not state: they are
 * never rolled back.
 *
 * Not a lock and not isolation: other code sees the transaction's blocks
 * as soon as they are allocated. Not for kmem_cache_alloc/heap_alloc
 * blocks: the transaction allocates through kmalloc and alloc_pages. */
#ifndef TALLY_MM_TXN_H
#define TALLY_MM_TXN_H

#include <stddef.h>
#include <stdint.h>
#include "lib/list.h"
#include "mm/gfp.h"
#include "mm/page.h"
#include "mm/vm.h"

#define MM_TXN_INLINE 8             /* log entries inside the outermost struct */
#define MM_TXN_RESERVE_ALIGN 16     /* alignment mm_txn_reserve guarantees */

/* One log record; its fields belong to txn.c. */
struct mm_txn_entry {
	uint32_t op;
	uint32_t order;
	void *ptr;
	uintptr_t va;
	size_t size;
};

/* Fields belong to txn.c. The log (inline entries, then pages) lives in the
 * outermost transaction and is shared by its savepoints. */
struct mm_txn {
	unsigned long magic;         /* open while it holds the open value */
	struct mm_txn *parent;       /* enclosing transaction, NULL: outermost */
	struct mm_txn *root;         /* the outermost: owns the log */
	size_t start;                /* first log entry of this transaction */
	unsigned long reserved;      /* unused reserved blocks in our entries */
	/* root only: */
	size_t len, cap;             /* log entries used / available */
	struct list_head chunks;     /* log pages after the inline entries */
	struct list_head *finger;    /* last log page visited, and its index */
	size_t finger_idx;
	struct mm_txn_entry log[MM_TXN_INLINE];
};

/* Open t; nested in the innermost open transaction if there is one (then t
 * is a savepoint of it). Takes no memory. Returns 0; -EINVAL (reported)
 * when t is NULL or already open. */
int mm_txn_begin(struct mm_txn *t);

/* kmem_try_alloc(size, align, gfp) as part of t: the block is freed
 * again if t (or an enclosing transaction) aborts. Served from t's
 * reservation, without touching any allocator, when a reserved block holds
 * size bytes at align and gfp asks for no zone (GFP_DMA/GFP_DMA32).
 * Returns 0 and *out; otherwise *out = NULL (when out is not NULL) and
 * -EINVAL: t not open (reported), out NULL, or kmem_try_alloc's -EINVAL;
 * -EBUSY: a savepoint inside t is open (reported); -ENOMEM: no memory, or
 * the log could not grow to record the block (nothing was allocated). */
int mm_txn_alloc(struct mm_txn *t, size_t size, size_t align, gfp_t gfp,
		 void **out);

/* buddy_alloc(gfp, order) as part of t (undo: free_pages). Returns 0
 * and *out; otherwise *out = NULL (when out is not NULL) and -EINVAL: t
 * not open (reported), out NULL or order > MAX_ORDER; -EBUSY: a savepoint
 * inside t is open (reported); -ENOMEM: no memory or no log room. */
int mm_txn_alloc_pages(struct mm_txn *t, unsigned order, gfp_t gfp,
		       struct page **out);

/* Schedule kfree(p) for the outermost commit; an abort (of t or of an
 * enclosing transaction) drops it and p stays allocated. Returns 0; -EINVAL
 * (nothing scheduled): t not open (reported), p not an allocated kmalloc
 * block, or p already scheduled in this transaction nest; -EBUSY: a
 * savepoint inside t is open (reported); -ENOMEM: no log room. */
int mm_txn_free(struct mm_txn *t, const void *p);

/* vm_map(vs, va, pa, size, perm) as part of t (undo: vm_unmap of the
 * range, which frees the tables the map created). Returns 0; vm_map's
 * errors (-EINVAL, -EEXIST, -ENOMEM; it is all-or-nothing itself); -EINVAL
 * also when t is not open (reported) or vs is NULL; -EBUSY: a savepoint
 * inside t is open (reported); -ENOMEM also when there is no log room. */
int mm_txn_vm_map(struct mm_txn *t, struct vm_space *vs, uintptr_t va,
		  phys_addr_t pa, size_t size, unsigned perm);

/* Take count blocks of at least bytes bytes each, aligned to
 * MM_TXN_RESERVE_ALIGN, in the current mode, with their log entries. Until
 * t ends, each mm_txn_alloc(t, size <= bytes, align <= MM_TXN_RESERVE_ALIGN,
 * no zone flag) takes one of them and cannot fail, fault injection or not.
 * Blocks left unused are freed when t commits or aborts; savepoints of t
 * do not draw on them (they reserve their own). count 0 does nothing. Returns 0; -EINVAL: t not open (reported), bytes 0 or above
 * KMALLOC_MAX_REQUEST; -EBUSY: a savepoint inside t is open (reported);
 * -ENOMEM: not all count blocks (or their log room) could be had, and
 * then nothing is taken. */
int mm_txn_reserve(struct mm_txn *t, size_t bytes, size_t count);

/* Make t's work permanent. A savepoint hands its work to its parent and
 * frees its unused reservation; the outermost runs the deferred frees,
 * frees unused reservations and releases the log. Returns 0; -EINVAL when t
 * is not open; -EBUSY when a savepoint inside t is still open (nothing
 * done). Both are reported. */
int mm_txn_commit(struct mm_txn *t);

/* Undo t's work, newest first: free its blocks and pages, unmap its
 * ranges, drop its deferred frees, give back cache growth it caused; the
 * state figures are then what they were at mm_txn_begin(t). Returns 0;
 * -EINVAL when t is not open; -EBUSY when a savepoint inside t is still
 * open (nothing done). Both are reported. */
int mm_txn_abort(struct mm_txn *t);

/* Run fn(t, arg) in a fresh transaction t (a savepoint when one is open):
 * commit when it returns 0, abort otherwise. Returns 0 after a commit, fn's
 * non-zero return after the abort; -EINVAL when fn is NULL, or (reported)
 * when fn committed or aborted t itself; -EBUSY (reported) when fn left a
 * savepoint of t open: everything, that savepoint included, is aborted. */
int mm_txn_run(int (*fn)(struct mm_txn *t, void *arg), void *arg);

/* The innermost open transaction, or NULL. */
struct mm_txn *mm_txn_current(void);

/* Forget every transaction without touching memory: none is open, none is
 * being undone -- the state of a fresh process. For a fresh arena (the
 * host's mm_host_init) and boot; a transaction open at the time is dead:
 * its log pages and blocks belong to the arena being forgotten. */
void mm_txn_reset(void);

#endif
