/* leak.c - allocation tracking for leak reports (include/mm/leak.h).
 *
 * Records live in a chained hash table keyed by block address (1024
 * buckets). Record memory is whole buddy pages carved into records and kept
 * on a free list; pages are given back only when tracking is switched off.
 * Invariant: a block address is in the table at most once, and `live`
 * counts the records in the table. */
#include <string.h>
#include "mm/leak.h"
#include "mm/buddy.h"
#include "mm/mm_env.h"
#include "mm/slowpath.h"
#include "reset_internal.h"

#define LEAK_BUCKETS 1024

struct leak_rec {
	struct leak_rec *next;
	const void *ptr;
	void *caller;
	uint32_t size, seq;
};

bool leak_tracking_on;
static struct leak_rec *buckets[LEAK_BUCKETS];
static struct leak_rec *spare;
static struct page *pages;        /* record pages, chained through lru.next */
static struct leak_stats st;

static unsigned bucket(const void *p)
{
	uintptr_t x = (uintptr_t)p >> 3;

	return (unsigned)((x ^ (x >> 10) ^ (x >> 20)) % LEAK_BUCKETS);
}

/* One more page of records; false when the buddy allocator has none. */
static bool grow(void)
{
	struct page *pg;
	struct leak_rec *r;

	/* no reclaim: the caller holds the mm lock (leak_note_alloc) */
	if (buddy_try_alloc(GFP_NOINJECT, 0, &pg))
		return false;
	pg->lru.next = (struct list_head *)pages;
	pages = pg;
	st.record_pages++;
	r = page_address(pg);
	for (size_t i = 0; i < PAGE_SIZE / sizeof(*r); i++) {
		r[i].next = spare;
		spare = &r[i];
	}
	return true;
}

void leak_note_alloc(const void *p, size_t size, void *caller)
{
	struct leak_rec *r;
	unsigned b = bucket(p);

	if (!spare && !grow()) {
		st.untracked++;
		return;
	}
	r = spare;
	spare = r->next;
	*r = (struct leak_rec){ buckets[b], p, caller,
				size > UINT32_MAX ? UINT32_MAX : (uint32_t)size, ++st.seq };
	buckets[b] = r;
	st.live++;
}

void leak_note_free(const void *p)
{
	for (struct leak_rec **pp = &buckets[bucket(p)]; *pp; pp = &(*pp)->next) {
		if ((*pp)->ptr == p) {
			struct leak_rec *r = *pp;

			*pp = r->next;
			r->next = spare;
			spare = r;
			st.live--;
			return;
		}
	}
}

void leak_reset(void)
{
	static bool once;

	mm_reset_static(buckets, sizeof(buckets), &once);
	spare = NULL;
	pages = NULL;
	leak_tracking_on = false;
	mm_force_slow_path(MM_SLOW_LEAK, false);
	memset(&st, 0, sizeof(st));
}

void leak_track(bool on)
{
	unsigned long irq = mm_lock();
	struct page *pg = pages;

	if (!on) {
		leak_reset();
		mm_unlock(irq);
		while (pg) {   /* give the record pages back outside the lock */
			struct page *next = (struct page *)pg->lru.next;

			list_init(&pg->lru);
			free_pages(pg, 0);
			pg = next;
		}
		return;
	}
	leak_tracking_on = true;
	mm_force_slow_path(MM_SLOW_LEAK, true);
	mm_unlock(irq);
}

void leak_mark(void)
{
	unsigned long irq = mm_lock();

	st.mark = st.seq;
	mm_unlock(irq);
}

/* Add record r to the site table (linear: reports are rare and short). */
static int add_site(struct leak_site *out, int max, int n, const struct leak_rec *r)
{
	for (int i = 0; i < n && i < max; i++) {
		if (out[i].caller == r->caller) {
			out[i].blocks++;
			out[i].bytes += r->size;
			out[i].first_seq = r->seq < out[i].first_seq ? r->seq : out[i].first_seq;
			out[i].last_seq = r->seq > out[i].last_seq ? r->seq : out[i].last_seq;
			return n;
		}
	}
	if (n < max)
		out[n] = (struct leak_site){ r->caller, 1, r->size, r->seq, r->seq };
	return n + 1;
}

int leak_report(struct leak_site *out, int max, bool since_mark)
{
	unsigned long irq = mm_lock();
	int n = 0;

	for (int b = 0; b < LEAK_BUCKETS; b++)
		for (struct leak_rec *r = buckets[b]; r; r = r->next)
			if (!since_mark || r->seq > st.mark)
				n = add_site(out, max, n, r);
	mm_unlock(irq);
	for (int i = 1; i < n && i < max; i++)   /* most bytes first */
		for (int j = i; j > 0 && out[j].bytes > out[j - 1].bytes; j--) {
			struct leak_site t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

void leak_get_stats(struct leak_stats *out)
{
	unsigned long irq = mm_lock();

	*out = st;
	out->tracking = leak_tracking_on;
	mm_unlock(irq);
}
