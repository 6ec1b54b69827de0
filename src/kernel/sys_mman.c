/* sys_mman.c - mmap, munmap, mprotect and madvise (kernel/mman.h): the areas
 * change through proc/vma.h, which tells each piece removed or changed
 * once it can no longer fail; the page table follows in those callbacks.
 *
 * madvise drops pages (MADV_DONTNEED) as munmap does, but the areas stay:
 * the next touch faults in a zeroed frame -- anonymous, heap, stack and
 * bss pages; an executable's text and data pages stay (vma_file_backed).
 *
 * Not here: page faults (proc_fault maps a zeroed frame where an area
 * allows the access) and brk (proc.c). Not done: file mappings.
 *
 * MAP_POPULATE is all or nothing through a memory transaction (mm/txn.h):
 * every frame is taken, and every page that had no mapping mapped, inside
 * the transaction before the areas change; an abort gives all of it back.
 * Pages that a MAP_FIXED range had mapped already get their frame for
 * later (a spare list through struct page's lru) and are swapped in place
 * with vm_update after the areas changed, which never needs a table, so
 * nothing can fail once the old mapping is gone.
 *
 * TLB: the process whose table changes is the one running on this hart
 * (a system call of its own), so sfence.vma after each change is enough
 * while a process runs on one hart only. madvise flushes before it frees
 * the frames it dropped.
 *
 * Locks: each change of the areas and the table holds the process's
 * mm_lock (kernel/proc.h), so memstat PID on another hart reads them
 * whole; inside it the page allocator's and the transactions' own locks.
 * Reading its own areas needs no lock: only the process changes them. */
#include <string.h>
#include "kernel/mman.h"
#include "kernel/proc.h"
#include "arch/riscv.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/txn.h"
#include "uapi/tally/mman.h"
#include "kerrno.h"

#define MAP_TYPE_MASK 0x0fu   /* Linux's MAP_TYPE: SHARED 1, PRIVATE 2, SHARED_VALIDATE 3 */
#define PROT_SEM      0x8u    /* accepted and ignored, as Linux's generic arch_validate_prot */
#define LONG_BITS     (8 * sizeof(unsigned long))

static void mman_flush(struct proc *p)
{
	if (p == proc_current())
		sfence_vma();
}

static struct page *frame_at(phys_addr_t pa)
{
	return virt_to_page((void *)(uintptr_t)(pa + mm_virt_offset));
}

/* A file mapping: the fd must be open in p's table (Linux's fget:
 * -EBADF; kernel/fdtable.h), and no open file can be mapped (-ENODEV,
 * Linux's answer for a file whose operations have no mmap, as a
 * terminal's). */
static long file_mapping(struct proc *p, int fd)
{
	return fdtable_get(&p->files, fd) ? -ENODEV : -EBADF;
}

/* Where len bytes (page-rounded, at most the user space) go: 0 and *at,
 * or -errno in Linux's order (get_unmapped_area, then NOREPLACE). */
static long mmap_place(struct proc *p, uint64_t addr, uint64_t len, uint64_t flags, uint64_t *at)
{
	if (flags & (LINUX_MAP_FIXED | LINUX_MAP_FIXED_NOREPLACE)) {
		if (addr > USER_VA_TOP - len)
			return -ENOMEM;
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (addr < USER_VA_BASE)
			return -EPERM;
		if ((flags & LINUX_MAP_FIXED_NOREPLACE) && !vma_range_free(&p->vmas, addr, addr + len))
			return -EEXIST;
		*at = addr;
		return 0;
	}
	if (addr && addr <= USER_MMAP_TOP) {   /* a hint: taken when it fits */
		uint64_t hint = user_page_up(addr);

		if (hint >= USER_VA_BASE && len <= USER_MMAP_TOP - hint &&
		    vma_range_free(&p->vmas, hint, hint + len)) {
			*at = hint;
			return 0;
		}
	}
	return vma_find_gap(&p->vmas, len, USER_VA_BASE, USER_MMAP_TOP, at) ? -ENOMEM : 0;
}

/* Strict commit (kernel/mman.h): can `pages` more be promised to p? They
 * and what p's committed areas -- writable, not VMA_NORESERVE -- span
 * beyond its resident pages, with a level-0 table for every 512 of them
 * (what mapping them takes), must fit in what a process could get now. */
static bool commit_fits(struct proc *p, uint64_t pages)
{
	uint64_t committed = 0, free = buddy_user_free_pages();

	for (struct vma *v = vma_first(&p->vmas); v; v = vma_next(&p->vmas, v))
		if ((v->vm_prot & PROT_WRITE) && !(v->vm_flags & VMA_NORESERVE))
			committed += (v->vm_end - v->vm_start) >> PAGE_SHIFT;
	committed = committed > p->rss ? committed - p->rss : 0;
	if (pages > free || committed > free - pages)
		return false;
	committed += pages;
	return committed + committed / 512 <= free;
}

/* One mmap being made with MAP_POPULATE. */
struct populate {
	struct proc *p;
	struct vma want;
	unsigned long pages;
	unsigned long *old;       /* bit i: page i was mapped before (NULL: none was) */
	struct list_head spare;   /* zeroed frames for those pages */
	unsigned perm;            /* VM_* of the new pages */
};

static bool was_mapped(const struct populate *r, unsigned long i)
{
	return r->old && (r->old[i / LONG_BITS] >> (i % LONG_BITS) & 1);
}

/* Record which pages of the range are mapped now (only a MAP_FIXED range
 * over areas can have any). 0, or -ENOMEM. */
static int populate_mark_old(struct populate *r, struct mm_txn *t)
{
	unsigned long i;
	int rc;

	if (vma_range_free(&r->p->vmas, r->want.vm_start, r->want.vm_end))
		return 0;
	rc = mm_txn_alloc(t, (r->pages + LONG_BITS - 1) / LONG_BITS * sizeof(long), 0, GFP_ZERO,
			  (void **)&r->old);
	for (i = 0; rc == 0 && i < r->pages; i++)
		if (vm_translate(&r->p->vm, r->want.vm_start + i * PAGE_SIZE, NULL, NULL) == 0)
			r->old[i / LONG_BITS] |= 1ul << (i % LONG_BITS);
	return rc;
}

/* Inside t: a zeroed frame for every page, mapped at once where nothing
 * is mapped, kept on the spare list where something is. 0, or -ENOMEM
 * (t then holds everything done, for the caller's abort). */
static int populate_prepare(struct populate *r, struct mm_txn *t)
{
	int rc = populate_mark_old(r, t);

	for (unsigned long i = 0; rc == 0 && i < r->pages; i++) {
		struct page *pg;

		rc = mm_txn_alloc_pages(t, 0, GFP_ZERO | GFP_USER, &pg);
		if (rc == 0 && was_mapped(r, i))
			list_add(&pg->lru, &r->spare);
		else if (rc == 0)
			rc = mm_txn_vm_map(t, &r->p->vm, r->want.vm_start + i * PAGE_SIZE,
					   page_to_phys(pg), PAGE_SIZE, r->perm);
	}
	return rc;
}

/* vma_change_fn of a populating MAP_FIXED: the removed pieces' pages are
 * swapped afterwards (populate_finish), so only the heap's count moves. */
static void populate_removed(void *ctx, const struct vma *piece, unsigned old_prot)
{
	struct populate *r = ctx;

	(void)old_prot;
	if (piece->vm_kind != VMA_HEAP)
		return;
	for (uint64_t va = piece->vm_start; va < piece->vm_end; va += PAGE_SIZE)
		r->p->heap_rss -= was_mapped(r, (va - r->want.vm_start) >> PAGE_SHIFT);
}

/* After the areas changed: each page mapped before gets its spare frame
 * in place of the old one, which goes back. Cannot fail. */
static void populate_finish(struct populate *r)
{
	unsigned long old = 0;

	for (unsigned long i = 0; r->old && i < r->pages; i++) {
		uint64_t va = r->want.vm_start + i * PAGE_SIZE;
		struct page *pg;
		phys_addr_t pa;

		if (!was_mapped(r, i))
			continue;
		pg = list_first_entry(&r->spare, struct page, lru);
		list_del(&pg->lru);
		vm_translate(&r->p->vm, va, &pa, NULL);
		vm_update(&r->p->vm, va, page_to_phys(pg), r->perm);
		user_frame_free(frame_at(pa));
		old++;
	}
	for (unsigned long i = 0; i < r->pages; i++) {   /* every frame now the process's */
		phys_addr_t pa;

		vm_translate(&r->p->vm, r->want.vm_start + i * PAGE_SIZE, &pa, NULL);
		user_frame_claim(frame_at(pa));
	}
	proc_rss_add(r->p, r->pages - old);
}

static long mmap_populate(struct populate *r, bool fixed)
{
	struct mm_txn t;
	int rc;

	list_init(&r->spare);
	r->perm = proc_pte_perm(r->want.vm_prot);
	if (mm_txn_begin(&t) != 0)
		return -ENOMEM;
	rc = populate_prepare(r, &t);
	if (rc == 0)
		rc = fixed ? vma_map_fixed(&r->p->vmas, &r->want, populate_removed, r)
			   : vma_insert(&r->p->vmas, &r->want);
	if (rc) {
		mm_txn_abort(&t);
		return rc == -EINVAL ? -EINVAL : -ENOMEM;
	}
	mm_txn_commit(&t);
	populate_finish(r);
	kfree(r->old);
	mman_flush(r->p);
	return (long)r->want.vm_start;
}

long sys_mmap(struct proc *p, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags,
	      int fd, uint64_t off)
{
	struct populate r = { .p = p };
	bool populate = flags & LINUX_MAP_POPULATE;
	bool fixed = flags & (LINUX_MAP_FIXED | LINUX_MAP_FIXED_NOREPLACE);
	bool noreserve = flags & LINUX_MAP_NORESERVE;
	uint64_t at, type = flags & MAP_TYPE_MASK;
	unsigned long irq;
	long rc;

	if (off & (PAGE_SIZE - 1))   /* arch/riscv's sys_mmap checks it first */
		return -EINVAL;
	if (!(flags & LINUX_MAP_ANONYMOUS))
		return file_mapping(p, fd);
	if (!len)
		return -EINVAL;
	if (len > USER_VA_TOP - USER_VA_BASE)
		return -ENOMEM;
	len = user_page_up(len);
	rc = mmap_place(p, addr, len, flags, &at);
	if (rc)
		return rc;
	if (type != LINUX_MAP_PRIVATE && type != LINUX_MAP_SHARED)
		return -EINVAL;
	prot &= PROT_MASK;
	r.pages = len >> PAGE_SHIFT;
	r.want = (struct vma){ .vm_start = at, .vm_end = at + len, .vm_prot = (unsigned)prot,
			       .vm_kind = VMA_ANON,
			       .vm_flags = noreserve ? VMA_NORESERVE : 0 };
	populate = populate && prot != PROT_NONE;
	if (((prot & PROT_WRITE) || populate) && !noreserve && !commit_fits(p, r.pages))
		return -ENOMEM;   /* strict commit (kernel/mman.h) */
	irq = spin_lock_irqsave(&p->mm_lock);
	if (populate) {
		rc = mmap_populate(&r, fixed);
		spin_unlock_irqrestore(&p->mm_lock, irq);
		return rc;
	}
	rc = fixed ? vma_map_fixed(&p->vmas, &r.want, proc_unmap_piece, p)
		   : vma_insert(&p->vmas, &r.want);
	spin_unlock_irqrestore(&p->mm_lock, irq);
	if (rc)
		return rc == -EINVAL ? -EINVAL : -ENOMEM;
	mman_flush(p);
	return (long)at;
}

long sys_munmap(struct proc *p, uint64_t addr, uint64_t len)
{
	uint64_t start = addr, end;
	unsigned long flags;
	int rc;

	if ((addr & (PAGE_SIZE - 1)) || !len || len > USER_VA_TOP)
		return -EINVAL;
	len = user_page_up(len);
	if (addr > USER_VA_TOP - len)
		return -EINVAL;
	end = addr + len;
	if (start < USER_VA_BASE)
		start = USER_VA_BASE;   /* below it nothing is the process's */
	if (end <= start)
		return 0;
	flags = spin_lock_irqsave(&p->mm_lock);
	rc = vma_unmap(&p->vmas, start, end - start, proc_unmap_piece, p);
	spin_unlock_irqrestore(&p->mm_lock, flags);
	mman_flush(p);
	return rc;
}

/* The pages of [start, end) in areas that are not writable now and not
 * VMA_NORESERVE: what making the range writable commits. */
static uint64_t pages_gaining_write(struct proc *p, uint64_t start, uint64_t end)
{
	uint64_t pages = 0;

	for (struct vma *v = vma_find_next(&p->vmas, start); v && v->vm_start < end;
	     v = vma_next(&p->vmas, v))
		if (!(v->vm_prot & PROT_WRITE) && !(v->vm_flags & VMA_NORESERVE))
			pages += ((v->vm_end < end ? v->vm_end : end) -
				  (v->vm_start > start ? v->vm_start : start)) >> PAGE_SHIFT;
	return pages;
}

/* vma_change_fn of mprotect: the mapped pages of piece take its new
 * protection (only they are visited: vm_next_mapped). */
static void reprotect_piece(void *ctx, const struct vma *piece, unsigned old_prot)
{
	struct proc *p = ctx;
	unsigned perm = proc_pte_perm(piece->vm_prot);
	uintptr_t va = piece->vm_start;
	phys_addr_t pa;

	(void)old_prot;
	for (; vm_next_mapped(&p->vm, va, piece->vm_end, &va, &pa) == 0; va += PAGE_SIZE)
		vm_update(&p->vm, va, pa, perm);
}

long sys_mprotect(struct proc *p, uint64_t addr, uint64_t len, uint64_t prot)
{
	uint64_t end;
	unsigned long flags;
	int rc;

	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!len)
		return 0;
	if (len > USER_VA_TOP)
		return -ENOMEM;
	len = user_page_up(len);
	end = addr + len;
	if (end <= addr)
		return -ENOMEM;
	if (prot & ~(uint64_t)(PROT_MASK | PROT_SEM))
		return -EINVAL;
	prot &= PROT_MASK;
	if (addr < USER_VA_BASE || end > USER_VA_TOP)
		return -ENOMEM;   /* no area of the process there */
	if ((prot & PROT_WRITE) && !commit_fits(p, pages_gaining_write(p, addr, end)))
		return -ENOMEM;   /* strict commit */
	flags = spin_lock_irqsave(&p->mm_lock);
	rc = vma_protect(&p->vmas, addr, len, (unsigned)prot, reprotect_piece, p);
	spin_unlock_irqrestore(&p->mm_lock, flags);
	mman_flush(p);
	return rc;
}

/* The advice madvise takes (kernel/mman.h); the rest is -EINVAL. */
static bool advice_known(uint64_t advice)
{
	switch (advice) {
	case LINUX_MADV_NORMAL: case LINUX_MADV_RANDOM: case LINUX_MADV_SEQUENTIAL:
	case LINUX_MADV_WILLNEED: case LINUX_MADV_DONTNEED: case LINUX_MADV_FREE:
	case LINUX_MADV_DONTNEED_LOCKED:
		return true;
	default:
		return false;
	}
}

/* An executable's file areas (text, data): Linux reads a dropped page of
 * a private file mapping from the file again at the next touch; Tally
 * reads them once, at load, and its fault path maps zeroed frames only,
 * so their pages stay where they are (their contents are what the file
 * held, or what the process wrote there since -- which Linux would
 * have thrown away). */
static bool vma_file_backed(const struct vma *v)
{
	return v->vm_kind == VMA_TEXT || v->vm_kind == VMA_DATA;
}

static bool advice_drops(uint64_t advice)
{
	return advice == LINUX_MADV_DONTNEED || advice == LINUX_MADV_FREE ||
	       advice == LINUX_MADV_DONTNEED_LOCKED;
}

/* Unmap the mapped pages of v inside [start, end) (p's mm_lock held):
 * their frames go on *dropped for the caller to free once the TLB has
 * forgotten them; rss and heap_rss fall with each. */
static void drop_pages(struct proc *p, const struct vma *v, uint64_t start, uint64_t end,
		       struct list_head *dropped)
{
	uintptr_t va = v->vm_start > start ? v->vm_start : start;
	uintptr_t stop = v->vm_end < end ? v->vm_end : end;
	phys_addr_t pa;

	for (; vm_next_mapped(&p->vm, va, stop, &va, &pa) == 0; va += PAGE_SIZE) {
		struct page *pg = frame_at(pa);

		vm_unmap(&p->vm, va, PAGE_SIZE);
		list_add(&pg->lru, dropped);
		p->rss--;
		p->heap_rss -= v->vm_kind == VMA_HEAP;
	}
}

long sys_madvise(struct proc *p, uint64_t addr, uint64_t len, uint64_t advice)
{
	uint64_t end, at;
	struct list_head dropped;
	unsigned long flags;
	long rc = 0;

	if (!advice_known(advice) || (addr & (PAGE_SIZE - 1)))
		return -EINVAL;
	end = addr + user_page_up(len);   /* Linux: PAGE_ALIGN, then the overflow */
	if ((len && !user_page_up(len)) || end < addr)
		return -EINVAL;
	if (end == addr)
		return 0;
	list_init(&dropped);
	flags = spin_lock_irqsave(&p->mm_lock);
	at = addr;
	for (struct vma *v = vma_find_next(&p->vmas, addr); v && v->vm_start < end;
	     v = vma_next(&p->vmas, v)) {
		if (v->vm_start > at)
			rc = -ENOMEM;   /* a hole: the rest is still done, as Linux */
		if (advice_drops(advice) && !vma_file_backed(v))
			drop_pages(p, v, addr, end, &dropped);
		at = v->vm_end;
	}
	if (at < end)
		rc = -ENOMEM;
	if (!list_empty(&dropped))
		mman_flush(p);   /* the TLB forgets them before the frames go */
	while (!list_empty(&dropped)) {
		struct page *pg = list_first_entry(&dropped, struct page, lru);

		list_del(&pg->lru);
		user_frame_free(pg);
	}
	spin_unlock_irqrestore(&p->mm_lock, flags);
	return rc;
}
