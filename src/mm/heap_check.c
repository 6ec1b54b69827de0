/* heap_check.c - SimpleHeap's statistics and integrity check,
 * heap_get_stats() and heap_check() (mm/heap.h): they walk every run and
 * chunk of the layout described in heap.c against its invariants
 * (Zephyr keeps the same seam as heap_validate.c). Read-only: a violation
 * is reported and counted, never repaired. The mm lock and heap_lock held
 * while they walk. */
#include "mm/heap.h"
#include "mm/mm_debug.h"
#include "mm/mm_env.h"
#include "heap_internal.h"

/* heap_internal.h */
void heap_get_stats_locked(struct heap_stats *out)
{
	struct list_head *rp, *fp;

	*out = heap_state.st;
	out->arena_bytes = heap_state.arena_bytes;
	out->free_bytes = heap_state.free_bytes;
	out->runs = heap_state.nruns;
	out->free_runs = heap_state.free_runs;
	out->used_blocks = heap_state.used_blocks;
	list_for_each(rp, &heap_state.runs) {
		struct heap_run *r = list_entry(rp, struct heap_run, link);

		list_for_each(fp, &r->free) {
			size_t sz = ch_size(node_ch(fp));

			out->free_blocks++;
			if (sz > out->largest_free_chunk) {
				out->largest_free_chunk = sz;
				out->largest_free = sz - HDR - FTR;
			}
		}
	}
}

void heap_get_stats(struct heap_stats *out)
{
	unsigned long s = mm_lock(), hs = heap_lock();

	heap_get_stats_locked(out);
	heap_unlock(hs);
	mm_unlock(s);
}

static int hcheck_fail(const void *where, const char *what)
{
	mm_report("heap_check: %p: %s", where, what);
	return 1;
}

/* Debug bytes of one chunk (red zone of a used one, poison of a free one). */
static int check_debug_bytes(const struct hchunk *c)
{
	size_t n;

	if (ch_used(c) && (ch_flags(c) & CH_RZ)) {
		n = ch_size(c) - HDR - FTR;
		if (c->req > n || mm_debug_find_not(ch_payload(c) + c->req,
				n - c->req, MM_REDZONE_BYTE) != n - c->req)
			return hcheck_fail(c, "red zone broken");
	} else if (!ch_used(c) && (ch_flags(c) & CH_POISON)) {
		n = ch_size(c) - HDR - 16 - FTR;
		if (mm_debug_find_not(ch_payload(c) + 16, n, MM_POISON_FREE) != n)
			return hcheck_fail(c, "poison broken");
	}
	return 0;
}

/* Walk the chunks of r; count free chunks and bytes. */
static int check_chunks(const struct heap_run *r, unsigned long *nfree,
			size_t *free_bytes)
{
	const struct hchunk *c = run_first(r);
	bool prev_free = false;
	int bad = 0;

	*nfree = 0;
	*free_bytes = 0;
	while (c != run_end(r)) {
		size_t size = ch_size(c);

		if (!ch_sane(c) || size < MIN_CHUNK || size % 16 ||
		    size > (size_t)((char *)run_end(r) - (char *)c) ||
		    *ch_footer(c) != c->sf)
			return bad + hcheck_fail(c, "chunk header/footer broken");
		if (!ch_used(c)) {
			if (prev_free)
				bad += hcheck_fail(c, "two adjacent free chunks");
			(*nfree)++;
			*free_bytes += size;
		}
		prev_free = !ch_used(c);
		bad += check_debug_bytes(c);
		c = ch_next(c);
	}
	if (!ch_sane(c) || !ch_used(c) || ch_size(c))
		bad += hcheck_fail(c, "end sentinel broken");
	return bad;
}

static int check_free_list(struct heap_run *r, unsigned long nfree)
{
	struct list_head *pos;
	uintptr_t last = 0;
	unsigned long n = 0;

	list_for_each(pos, &r->free) {
		struct hchunk *c = node_ch(pos);

		if ((uintptr_t)c <= last || (uintptr_t)c < (uintptr_t)run_first(r) ||
		    (uintptr_t)c >= (uintptr_t)run_end(r) || ch_used(c) ||
		    ++n > nfree)
			return hcheck_fail(c, "free list out of order or foreign");
		last = (uintptr_t)c;
	}
	return n == nfree ? 0 : hcheck_fail(r, "free list misses chunks");
}

static int check_run(struct heap_run *r)
{
	struct page *pg = virt_to_page(r);
	unsigned long nfree;
	size_t fb;
	int bad;

	if (!pg || !(pg->flags & PG_HEAD) || pg->owner != PAGE_OWNER_HEAP ||
	    pg->priv != r || r->magic != RUN_MAGIC || pg->order != r->order)
		return hcheck_fail(r, "run metadata broken");
	if (((uint64_t *)run_first(r))[-1] != CH_USED)
		return hcheck_fail(r, "start sentinel broken");
	bad = check_chunks(r, &nfree, &fb);
	if (bad)
		return bad;
	if (fb != r->free_bytes)
		bad += hcheck_fail(r, "free byte count wrong");
	return bad + check_free_list(r, nfree);
}

int heap_check(void)
{
	unsigned long s = mm_lock(), hs = heap_lock(), runs = 0, free_runs = 0;
	struct list_head *pos;
	uintptr_t last = 0;
	size_t arena = 0;
	int bad = 0;

	list_for_each(pos, &heap_state.runs) {
		struct heap_run *r = list_entry(pos, struct heap_run, link);

		if ((uintptr_t)r <= last || runs > heap_state.nruns) {  /* a broken list may cycle */
			bad += hcheck_fail(r, "run list out of order or too long");
			break;
		}
		last = (uintptr_t)r;
		bad += check_run(r);
		runs++;
		free_runs += run_is_free(r);
		arena += run_bytes(r);
	}
	if (runs != heap_state.nruns || free_runs != heap_state.free_runs ||
	    arena != heap_state.arena_bytes)
		bad += hcheck_fail(&heap_state, "run counters wrong");
	heap_unlock(hs);
	mm_unlock(s);
	return bad;
}
