/* vma.c - a process's virtual memory areas (include/proc/vma.h).
 *
 * Layout: the areas of a set on one list sorted by vm_start. Invariants
 * (vma_check tests every one): each area is page-aligned, non-empty and
 * inside [USER_VA_BASE, USER_VA_TOP); each ends at or before the next one
 * starts; two adjacent areas are never alike (vma_alike: they would have
 * been merged); count is the list's length and bytes the sum of sizes.
 *
 * All or nothing: every operation first works out how many new structs
 * it needs (a split of one area into two takes one; an insert that
 * merges takes none), takes them all onto a spare list (vma_reserve),
 * and only then changes the set, from which point nothing can fail;
 * what it did not use goes back (vma_release). Structs an operation
 * frees (areas removed or merged away) go back at once.
 *
 * Not here: page tables (the caller's, told through vma_change_fn),
 * locking, anything about frames. */
#include "proc/vma.h"
#include "kerrno.h"
#include "mm/kmalloc.h"

#define VMA_OF(pos) list_entry(pos, struct vma, link)

static struct vma *vma_alloc(const struct vma_set *s)
{
	if (s->alloc)
		return s->alloc->alloc(s->alloc->ctx);
	return kmalloc(sizeof(struct vma), GFP_KERNEL);
}

static void vma_free(const struct vma_set *s, struct vma *v)
{
	if (s->alloc)
		s->alloc->free(s->alloc->ctx, v);
	else
		kfree(v);
}

/* Take n structs onto *spare, or none. -ENOMEM when the set would pass
 * VMA_MAX_COUNT with n more areas or an allocation fails. */
static int vma_reserve(struct vma_set *s, struct list_head *spare, unsigned n)
{
	list_init(spare);
	if (n > VMA_MAX_COUNT - s->count)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct vma *v = vma_alloc(s);

		if (!v) {
			struct list_head *pos, *tmp;

			list_for_each_safe(pos, tmp, spare)
				vma_free(s, VMA_OF(pos));
			list_init(spare);
			return -ENOMEM;
		}
		list_add(&v->link, spare);
	}
	return 0;
}

static struct vma *vma_take(struct list_head *spare)
{
	struct vma *v = VMA_OF(spare->next);

	list_del(&v->link);
	return v;
}

static void vma_release(struct vma_set *s, struct list_head *spare)
{
	while (!list_empty(spare))
		vma_free(s, vma_take(spare));
}

static struct vma *vma_prev_of(const struct vma_set *s, const struct vma *v)
{
	return v->link.prev == &s->list ? NULL : VMA_OF(v->link.prev);
}

struct vma *vma_next(const struct vma_set *s, const struct vma *v)
{
	return v->link.next == &s->list ? NULL : VMA_OF(v->link.next);
}

struct vma *vma_first(const struct vma_set *s)
{
	return list_empty(&s->list) ? NULL : VMA_OF(s->list.next);
}

void vma_set_init(struct vma_set *s, const struct vma_allocator *a)
{
	list_init(&s->list);
	s->count = 0;
	s->bytes = 0;
	s->alloc = a;
}

/* Unlink v and give its struct back (counts updated). */
static void vma_remove(struct vma_set *s, struct vma *v)
{
	list_del(&v->link);
	s->count--;
	s->bytes -= v->vm_end - v->vm_start;
	vma_free(s, v);
}

void vma_set_destroy(struct vma_set *s, vma_change_fn fn, void *ctx)
{
	struct vma *v;

	while ((v = vma_first(s))) {
		if (fn)
			fn(ctx, v, v->vm_prot);
		vma_remove(s, v);
	}
}

struct vma *vma_find_next(const struct vma_set *s, uint64_t addr)
{
	struct list_head *pos;

	list_for_each(pos, &s->list) {
		if (VMA_OF(pos)->vm_end > addr)
			return VMA_OF(pos);
	}
	return NULL;
}

struct vma *vma_find(const struct vma_set *s, uint64_t addr)
{
	struct vma *v = vma_find_next(s, addr);

	return v && v->vm_start <= addr ? v : NULL;
}

bool vma_range_free(const struct vma_set *s, uint64_t start, uint64_t end)
{
	struct vma *v = vma_find_next(s, start);

	return !v || v->vm_start >= end;
}

int vma_access_ok(const struct vma_set *s, uint64_t addr, uint64_t len, unsigned prot)
{
	uint64_t at = addr, end;
	struct vma *v;

	if (len == 0)
		return 0;
	if (addr < USER_VA_BASE || addr >= USER_VA_TOP || len > USER_VA_TOP - addr)
		return -EFAULT;
	end = addr + len;
	for (v = vma_find_next(s, addr); at < end; v = vma_next(s, v)) {
		if (!v || v->vm_start > at || (v->vm_prot & prot) != prot)
			return -EFAULT;
		at = v->vm_end;
	}
	return 0;
}

/* The page range [start, start + len) is one the set may hold. */
static bool vma_range_ok(uint64_t start, uint64_t len)
{
	return len && !(start % USER_PAGE_SIZE) && !(len % USER_PAGE_SIZE) &&
	       start >= USER_VA_BASE && start < USER_VA_TOP && len <= USER_VA_TOP - start;
}

/* Write implies read: RISC-V has no write-only pages (uspace.h). */
static unsigned vma_norm_prot(unsigned prot)
{
	return (prot & PROT_WRITE) ? prot | PROT_READ : prot;
}

static bool vma_want_ok(const struct vma *w)
{
	return w->vm_end > w->vm_start && vma_range_ok(w->vm_start, w->vm_end - w->vm_start) &&
	       !(w->vm_prot & ~PROT_MASK) && (unsigned)w->vm_kind < VMA_KIND_NR &&
	       !(w->vm_flags & ~VMA_FLAGS_MASK);
}

/* a and b may be one area: same protection, kind, flags and owner. */
static bool vma_alike(const struct vma *a, const struct vma *b)
{
	return a->vm_prot == b->vm_prot && a->vm_kind == b->vm_kind &&
	       a->vm_flags == b->vm_flags && a->vm_private == b->vm_private;
}

/* Merge v with alike neighbours it touches; returns what holds v now. */
static struct vma *vma_merge_around(struct vma_set *s, struct vma *v)
{
	struct vma *prev = vma_prev_of(s, v), *next = vma_next(s, v);

	if (next && next->vm_start == v->vm_end && vma_alike(v, next)) {
		uint64_t end = next->vm_end;

		vma_remove(s, next);
		s->bytes += end - v->vm_end;
		v->vm_end = end;
	}
	if (prev && prev->vm_end == v->vm_start && vma_alike(prev, v)) {
		uint64_t end = v->vm_end;

		vma_remove(s, v);
		s->bytes += end - prev->vm_end;
		prev->vm_end = end;
		v = prev;
	}
	return v;
}

/* The areas around start: *prev the last one starting below it, *next
 * the first starting at or above it (either may be NULL). */
static void vma_neighbours(const struct vma_set *s, uint64_t start, struct vma **prev,
			   struct vma **next)
{
	struct list_head *pos;

	*prev = *next = NULL;
	list_for_each(pos, &s->list) {
		if (VMA_OF(pos)->vm_start >= start) {
			*next = VMA_OF(pos);
			return;
		}
		*prev = VMA_OF(pos);
	}
}

/* The structs inserting w takes: 0 when it extends an alike neighbour,
 * else 1; -EEXIST when it meets an area. */
static int vma_insert_need(const struct vma_set *s, const struct vma *w)
{
	struct vma *prev, *next;

	vma_neighbours(s, w->vm_start, &prev, &next);
	if ((prev && prev->vm_end > w->vm_start) || (next && next->vm_start < w->vm_end))
		return -EEXIST;
	if ((prev && prev->vm_end == w->vm_start && vma_alike(prev, w)) ||
	    (next && next->vm_start == w->vm_end && vma_alike(next, w)))
		return 0;
	return 1;
}

/* Insert w (checked, its range free), a struct from spare when it
 * merges with no neighbour. */
static void vma_link(struct vma_set *s, const struct vma *w, struct list_head *spare)
{
	struct vma *prev, *next, *v;

	vma_neighbours(s, w->vm_start, &prev, &next);
	if (prev && prev->vm_end == w->vm_start && vma_alike(prev, w)) {
		v = prev;
		v->vm_end = w->vm_end;
	} else if (next && next->vm_start == w->vm_end && vma_alike(next, w)) {
		v = next;
		v->vm_start = w->vm_start;
	} else {
		v = vma_take(spare);
		*v = *w;
		list_insert_between(&v->link, prev ? &prev->link : &s->list,
				    next ? &next->link : &s->list);
		s->count++;
	}
	s->bytes += w->vm_end - w->vm_start;
	vma_merge_around(s, v);
}

/* want, checked, with its protection normalised. */
static int vma_prepare(const struct vma *want, struct vma *w)
{
	if (!want || !vma_want_ok(want))
		return -EINVAL;
	*w = *want;
	w->vm_prot = vma_norm_prot(w->vm_prot);
	return 0;
}

int vma_insert(struct vma_set *s, const struct vma *want)
{
	struct list_head spare;
	struct vma w;
	int need;

	if (vma_prepare(want, &w))
		return -EINVAL;
	need = vma_insert_need(s, &w);
	if (need < 0)
		return need;
	if (vma_reserve(s, &spare, (unsigned)need))
		return -ENOMEM;
	vma_link(s, &w, &spare);
	vma_release(s, &spare);
	return 0;
}

/* want[0..n) checked, disjoint from each other and from the set. */
static int vma_check_all(const struct vma_set *s, const struct vma *want, unsigned n)
{
	struct vma w;

	for (unsigned i = 0; i < n; i++) {
		if (vma_prepare(&want[i], &w))
			return -EINVAL;
		if (!vma_range_free(s, w.vm_start, w.vm_end))
			return -EEXIST;
		for (unsigned j = 0; j < i; j++) {
			if (want[j].vm_start < w.vm_end && w.vm_start < want[j].vm_end)
				return -EEXIST;
		}
	}
	return 0;
}

int vma_insert_all(struct vma_set *s, const struct vma *want, unsigned n)
{
	struct list_head spare;
	struct vma w;
	int err;

	if (!want && n)
		return -EINVAL;
	err = vma_check_all(s, want, n);
	if (err)
		return err;
	if (vma_reserve(s, &spare, n))
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		vma_prepare(&want[i], &w);
		vma_link(s, &w, &spare);
	}
	vma_release(s, &spare);
	return 0;
}

/* Split v at addr (inside it): v keeps [vm_start, addr), a struct from
 * spare takes [addr, vm_end) and follows it. Returns the upper part. */
static struct vma *vma_split(struct vma_set *s, struct vma *v, uint64_t addr,
			     struct list_head *spare)
{
	struct vma *hi = vma_take(spare);

	*hi = *v;
	hi->vm_start = addr;
	v->vm_end = addr;
	list_insert_between(&hi->link, &v->link, v->link.next);
	s->count++;
	return hi;
}

static void vma_tell(vma_change_fn fn, void *ctx, const struct vma *v, uint64_t start,
		     uint64_t end, unsigned old_prot)
{
	struct vma piece = *v;

	if (!fn)
		return;
	piece.vm_start = start;
	piece.vm_end = end;
	fn(ctx, &piece, old_prot);
}

/* 1 when an area holds [start, end) with room on both sides (unmapping
 * it splits that area in two), else 0. */
static unsigned vma_unmap_need(const struct vma_set *s, uint64_t start, uint64_t end)
{
	struct vma *v = vma_find(s, start);

	return v && v->vm_start < start && v->vm_end > end;
}

static void vma_do_unmap(struct vma_set *s, uint64_t start, uint64_t end,
			 struct list_head *spare, vma_change_fn fn, void *ctx)
{
	struct vma *v = vma_find_next(s, start), *next;

	for (; v && v->vm_start < end; v = next) {
		uint64_t lo = v->vm_start > start ? v->vm_start : start;
		uint64_t hi = v->vm_end < end ? v->vm_end : end;

		next = vma_next(s, v);
		if (v->vm_start < start && v->vm_end > end)
			next = vma_split(s, v, end, spare);
		vma_tell(fn, ctx, v, lo, hi, v->vm_prot);
		if (v->vm_start >= start && v->vm_end <= end) {
			vma_remove(s, v);
			continue;
		}
		s->bytes -= hi - lo;
		if (v->vm_start < start)
			v->vm_end = start;
		else
			v->vm_start = end;
	}
}

int vma_unmap(struct vma_set *s, uint64_t start, uint64_t len, vma_change_fn fn, void *ctx)
{
	struct list_head spare;

	if (!vma_range_ok(start, len))
		return -EINVAL;
	if (vma_reserve(s, &spare, vma_unmap_need(s, start, start + len)))
		return -ENOMEM;
	vma_do_unmap(s, start, start + len, &spare, fn, ctx);
	vma_release(s, &spare);
	return 0;
}

int vma_map_fixed(struct vma_set *s, const struct vma *want, vma_change_fn fn, void *ctx)
{
	struct list_head spare;
	struct vma w;
	int err = vma_prepare(want, &w);

	if (err)
		return err;
	if (vma_reserve(s, &spare, vma_unmap_need(s, w.vm_start, w.vm_end) + 1))
		return -ENOMEM;
	vma_do_unmap(s, w.vm_start, w.vm_end, &spare, fn, ctx);
	vma_link(s, &w, &spare);
	vma_release(s, &spare);
	return 0;
}

/* Whether areas cover [start, end) without a hole. */
static bool vma_covered(const struct vma_set *s, uint64_t start, uint64_t end)
{
	uint64_t at = start;

	for (struct vma *v = vma_find_next(s, start); at < end; v = vma_next(s, v)) {
		if (!v || v->vm_start > at)
			return false;
		at = v->vm_end;
	}
	return true;
}

/* Structs a protection change of [start, end) (covered) takes: one per
 * edge that cuts an area whose protection changes. */
static unsigned vma_protect_need(const struct vma_set *s, uint64_t start, uint64_t end,
				 unsigned prot)
{
	struct vma *first = vma_find(s, start), *last = vma_find(s, end - 1);

	return (first->vm_start < start && first->vm_prot != prot) +
	       (last->vm_end > end && last->vm_prot != prot);
}

static void vma_do_protect(struct vma_set *s, uint64_t start, uint64_t end, unsigned prot,
			   struct list_head *spare, vma_change_fn fn, void *ctx)
{
	struct vma *v = vma_find(s, start), *next;
	unsigned old;

	for (; v && v->vm_start < end; v = next) {
		next = vma_next(s, v);
		if (v->vm_prot == prot)
			continue;
		if (v->vm_start < start)
			v = vma_split(s, v, start, spare);
		if (v->vm_end > end)
			vma_split(s, v, end, spare);
		old = v->vm_prot;
		v->vm_prot = prot;
		vma_tell(fn, ctx, v, v->vm_start, v->vm_end, old);
	}
	/* Merge from the area before the range to the one after it. */
	v = vma_find_next(s, start ? start - 1 : 0);
	while (v && v->vm_start <= end) {
		v = vma_merge_around(s, v);
		v = vma_next(s, v);
	}
}

int vma_protect(struct vma_set *s, uint64_t start, uint64_t len, unsigned prot,
		vma_change_fn fn, void *ctx)
{
	struct list_head spare;

	if (!vma_range_ok(start, len) || (prot & ~PROT_MASK))
		return -EINVAL;
	prot = vma_norm_prot(prot);
	if (!vma_covered(s, start, start + len))
		return -ENOMEM;
	if (vma_reserve(s, &spare, vma_protect_need(s, start, start + len, prot)))
		return -ENOMEM;
	vma_do_protect(s, start, start + len, prot, &spare, fn, ctx);
	vma_release(s, &spare);
	return 0;
}

int vma_grow_down(struct vma_set *s, uint64_t addr, struct vma **out)
{
	struct vma *v = vma_find_next(s, addr), *prev;
	uint64_t start = user_page_down(addr);

	if (!v || v->vm_start <= addr || !(v->vm_flags & VMA_GROWSDOWN) || addr < USER_VA_BASE)
		return -EFAULT;
	if (v->vm_end - start > USER_STACK_MAX)
		return -ENOMEM;
	prev = vma_prev_of(s, v);
	if (prev && (start < prev->vm_end || start - prev->vm_end < USER_STACK_GAP))
		return -ENOMEM;
	s->bytes += v->vm_start - start;
	v->vm_start = start;
	if (out)
		*out = v;
	return 0;
}

/* The top of the gap below `above` (NULL: the end of user space), less
 * the guard gap a growsdown area keeps below it. */
static uint64_t vma_gap_top(const struct vma *above)
{
	if (!above)
		return USER_VA_TOP;
	if (!(above->vm_flags & VMA_GROWSDOWN))
		return above->vm_start;
	return above->vm_start > USER_STACK_GAP ? above->vm_start - USER_STACK_GAP : 0;
}

int vma_find_gap(const struct vma_set *s, uint64_t len, uint64_t lo, uint64_t hi,
		 uint64_t *out)
{
	const struct vma *above = NULL;
	struct list_head *pos = s->list.prev;

	if (!out || !len || len > USER_VA_TOP || lo % USER_PAGE_SIZE || hi % USER_PAGE_SIZE ||
	    lo >= hi || lo < USER_VA_BASE || hi > USER_VA_TOP)
		return -EINVAL;
	len = user_page_up(len);
	for (;;) {
		const struct vma *below = pos == &s->list ? NULL : VMA_OF(pos);
		uint64_t top = vma_gap_top(above), bottom = below ? below->vm_end : 0;

		if (top > hi)
			top = hi;
		if (bottom < lo)
			bottom = lo;
		if (top > bottom && top - bottom >= len) {
			*out = top - len;
			return 0;
		}
		if (!below || below->vm_end <= lo)
			return -ENOMEM;
		above = below;
		pos = pos->prev;
	}
}

/* One area's own invariants; NULL when it keeps them. */
static const char *vma_check_one(const struct vma *v, const struct vma *prev)
{
	if (!vma_want_ok(v))
		return "area unaligned, empty, outside user space or with unknown bits";
	if (v->vm_prot != vma_norm_prot(v->vm_prot))
		return "area writable but not readable";
	if (prev && prev->vm_end > v->vm_start)
		return "areas out of order or overlapping";
	if (prev && prev->vm_end == v->vm_start && vma_alike(prev, v))
		return "alike neighbours not merged";
	return NULL;
}

int vma_check(const struct vma_set *s, const char **first)
{
	const struct vma *prev = NULL;
	struct list_head *pos;
	unsigned count = 0;
	uint64_t bytes = 0;
	int bad = 0;
	const char *why, *dummy;

	if (!first)
		first = &dummy;
	*first = NULL;
	list_for_each(pos, &s->list) {
		const struct vma *v = VMA_OF(pos);

		why = vma_check_one(v, prev);
		if (why && !bad++)
			*first = why;
		count++;
		bytes += v->vm_end - v->vm_start;
		prev = v;
	}
	if ((count != s->count || bytes != s->bytes) && !bad++)
		*first = "count or bytes do not match the areas";
	return bad;
}

const char *vma_kind_name(enum vma_kind k)
{
	static const char *const names[VMA_KIND_NR] = {
		[VMA_TEXT] = "text", [VMA_DATA] = "data", [VMA_BSS] = "bss",
		[VMA_HEAP] = "heap", [VMA_STACK] = "stack", [VMA_ANON] = "anon",
	};

	return (unsigned)k < VMA_KIND_NR ? names[k] : "?";
}
