/* vm.h - Sv39 page tables (RISC-V privileged spec v1.12, section 4.4).
 *
 * Builds and edits page tables in memory; it does not switch address
 * spaces (the kernel writes satp, see kvm_init in src/kernel/memory.c), so it runs on the
 * host too. Table pages come from the buddy allocator (owner PGTABLE) and
 * are reached through page_address(). Each table page's struct page counts
 * its valid entries in `inuse`, so a table that empties is freed at once.
 *
 * Layout: three levels of 512 eight-byte PTEs; VA bits 38..30, 29..21 and
 * 20..12 index levels 2, 1 and 0. A leaf at level 2 maps 1 GiB, at level 1
 * 2 MiB, at level 0 4 KiB. VAs must be canonical (bits 63..39 copy bit 38). */
#ifndef TALLY_MM_VM_H
#define TALLY_MM_VM_H

#include <stddef.h>
#include <stdint.h>
#include "mm/gfp.h"
#include "mm/page.h"

typedef uint64_t pte_t;

/* Permission bits, as in the PTE. */
#define VM_R     (1u << 1)
#define VM_W     (1u << 2)
#define VM_X     (1u << 3)
#define VM_U     (1u << 4)
#define VM_G     (1u << 5)
/* Allow 2 MiB / 1 GiB leaves where va, pa and the remaining size line up. */
#define VM_LARGE (1u << 16)

#define SV39_VA_BITS 39

struct vm_space {
	pte_t *root;            /* level-2 table */
	unsigned long tables;   /* table pages in use, root included */
	gfp_t gfp;              /* extra flags for the tables made after the
				 * root (GFP_USER for a process's space) */
	unsigned table_owner;   /* the owner its table pages get (mm/page.h) */
};

/* A fresh, empty address space, its root allocated as the kernel's
 * (GFP_KERNEL) and vs->gfp 0: a caller that wants its other tables
 * allocated otherwise sets vs->gfp afterwards. Returns 0, or -ENOMEM. */
int vm_create(struct vm_space *vs);

/* vm_create whose table pages (root and every later one) get owner
 * PAGE_OWNER_USER_PGTABLE instead of PAGE_OWNER_PGTABLE: a user process's
 * space, its tables counted in page_owner_pages(). Returns 0, -ENOMEM. */
int vm_create_user(struct vm_space *vs);

/* Free every table page of vs (not the memory it maps). */
void vm_destroy(struct vm_space *vs);

/* Map [va, va+size) to [pa, pa+size) with perm (VM_R/W/X/U/G, at least one
 * of R or X; W needs R). All or nothing: on any error every entry this call
 * made is removed and every table it created is freed before it returns.
 * Returns 0; -EINVAL for unaligned va/pa/size, size 0, a non-canonical or
 * wrapping range, or bad perm; -EEXIST when part of the range is already
 * mapped; -ENOMEM when a table page cannot be allocated. */
int vm_map(struct vm_space *vs, uintptr_t va, phys_addr_t pa, size_t size, unsigned perm);

/* Remove the mappings in [va, va+size); holes are skipped. Tables that
 * become empty are freed. Returns 0; -EINVAL for an unaligned or
 * non-canonical range, or when the range cuts a large leaf in two (nothing
 * is changed then). */
int vm_unmap(struct vm_space *vs, uintptr_t va, size_t size);

/* Rewrite the 4 KiB leaf already at va: it maps pa with perm from now on
 * (a frame swapped in place, or only the permissions changed when pa is
 * the frame it had). Never allocates and never frees a table, so it cannot
 * run out of memory; the caller flushes the TLB. Returns 0; -EINVAL for an
 * unaligned or non-canonical va, unaligned pa, bad perm (as vm_map's,
 * VM_LARGE not allowed), or a 2 MiB / 1 GiB leaf at va; -ENOENT when va is
 * not mapped. */
int vm_update(struct vm_space *vs, uintptr_t va, phys_addr_t pa, unsigned perm);

/* Look va up. Returns 0 with *pa (the byte's physical address) and *perm
 * (VM_* bits) filled, or -ENOENT when va is not mapped, -EINVAL when it is
 * not canonical. pa or perm may be NULL. */
int vm_translate(const struct vm_space *vs, uintptr_t va, phys_addr_t *pa, unsigned *perm);

/* The first mapped page at or above va and below end: 0, *out (a
 * 4 KiB-aligned address inside a leaf of any size) and *pa (its frame's
 * physical address; pa may be NULL), without visiting a
 * page of an unmapped stretch one by one -- a missing table skips all it
 * would map, so a walk over a sparse range costs the tables present, not
 * the range's pages. Returns -ENOENT when nothing in [va, end) is mapped;
 * -EINVAL for a space without a root, an unaligned va, an empty range,
 * or one not canonical or not in one half. vs may change between calls
 * (callers unmap each page found, then ask again from the next). */
int vm_next_mapped(const struct vm_space *vs, uintptr_t va, uintptr_t end, uintptr_t *out,
		   phys_addr_t *pa);

/* Make vs's top-level entries for [va, va+size) those of from: vs then
 * maps that range through from's tables, which stay from's (how every
 * process shares the kernel's mappings). va and size must be multiples
 * of 1 GiB (a top-level entry) and the range canonical, in one half.
 * Returns 0; -EINVAL for a bad range or a space without a root; -EEXIST
 * when vs maps anything there already (nothing is changed then).
 * vm_unshare(vs, va, size) drops those entries again: vs's tables below
 * them were never vs's, so call it before vm_destroy(vs). */
int vm_share(struct vm_space *vs, const struct vm_space *from, uintptr_t va, size_t size);
void vm_unshare(struct vm_space *vs, uintptr_t va, size_t size);

/* Make the table that vs's top-level entry for va points to (mapping
 * [va, va + 1 GiB)) exist, and stay: vm_unmap never frees it, even
 * empty (vm_destroy does). Spaces that share that entry (vm_share) then
 * see every mapping made in the range later, through it -- how the
 * kernel stacks' region reaches every process (kernel/kstack.h).
 * va must be a multiple of 1 GiB. Returns 0 (also when the table existed:
 * it is pinned from now on); -EINVAL for a bad va, a space without a
 * root or a 1 GiB leaf at va; -ENOMEM when the table cannot be had. */
int vm_pin_table(struct vm_space *vs, uintptr_t va);

/* Number of leaf entries in vs and, per level, how many (for reports). */
struct vm_counts {
	unsigned long leaves[3];  /* [0] 4 KiB, [1] 2 MiB, [2] 1 GiB */
	unsigned long tables;
};
void vm_count(const struct vm_space *vs, struct vm_counts *out);

#endif
