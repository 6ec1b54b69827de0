/* vma.h - a process's virtual memory areas (Linux's VMAs).
 *
 * A set of disjoint, page-aligned areas [vm_start, vm_end) of one user
 * address space, each with a protection, a kind and flags: what the
 * process may touch, and what a page fault there should get. Kept as a
 * list sorted by address (a process has a few dozen areas; every
 * operation is one walk, O(areas)); at most VMA_MAX_COUNT.
 *
 * Changing the set never half-happens: an operation that needs new area
 * structs takes all of them before it changes anything, so -ENOMEM
 * leaves the set exactly as it was. Adjacent areas that are alike (same
 * protection, kind, flags and vm_private) are merged after every insert
 * and protection change, as Linux's vma_merge.
 *
 * Not here: page tables. The caller maps and unmaps through mm/vm.h and
 * learns what to change from the callbacks below (the pieces removed or
 * whose protection changed). Not locked: the caller holds the process's
 * lock. */
#ifndef TALLY_PROC_VMA_H
#define TALLY_PROC_VMA_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/list.h"
#include "proc/uspace.h"

enum vma_kind {
	VMA_TEXT,     /* file bytes of an executable ELF segment */
	VMA_DATA,     /* file bytes of a non-executable ELF segment */
	VMA_BSS,      /* the zero-filled tail of an ELF segment */
	VMA_HEAP,     /* brk */
	VMA_STACK,    /* the main stack */
	VMA_ANON,     /* anonymous mmap */
	VMA_KIND_NR
};

#define VMA_GROWSDOWN  (1u << 0)   /* the stack: vma_grow_down extends it */
#define VMA_NORESERVE  (1u << 1)   /* not committed (mmap's MAP_NORESERVE;
				    * Linux's VM_NORESERVE) */
#define VMA_FLAGS_MASK (VMA_GROWSDOWN | VMA_NORESERVE)

#define VMA_MAX_COUNT  1024        /* areas per set (Linux: max_map_count) */

struct vma {
	struct list_head link;     /* in the set, ascending vm_start */
	uint64_t vm_start;         /* page-aligned, >= USER_VA_BASE */
	uint64_t vm_end;           /* page-aligned, > vm_start, <= USER_VA_TOP */
	unsigned vm_prot;          /* PROT_* */
	unsigned vm_flags;         /* VMA_* */
	enum vma_kind vm_kind;
	const void *vm_private;    /* the caller's (for ELF areas: their struct
				    * elf_segment); copied on a split, and
				    * areas merge only when it is equal */
};

/* Where area structs come from. alloc returns one zeroed or not
 * sizeof(struct vma) block, or NULL; free takes one back. */
struct vma_allocator {
	void *(*alloc)(void *ctx);
	void (*free)(void *ctx, void *p);
	void *ctx;
};

struct vma_set {
	struct list_head list;
	unsigned count;                  /* areas */
	uint64_t bytes;                  /* bytes they cover (VSZ) */
	const struct vma_allocator *alloc; /* NULL: kmalloc/kfree */
};

/* Told about each piece an operation removed (old_prot its protection)
 * or whose protection it changed (piece as it is now). Called after the
 * operation can no longer fail and before it returns; it must not touch
 * the set. */
typedef void (*vma_change_fn)(void *ctx, const struct vma *piece, unsigned old_prot);

/* An empty set whose structs come from a (NULL: kmalloc). */
void vma_set_init(struct vma_set *s, const struct vma_allocator *a);

/* Remove every area, telling fn (may be NULL) about each, and free it. */
void vma_set_destroy(struct vma_set *s, vma_change_fn fn, void *ctx);

/* The area holding addr, or NULL. */
struct vma *vma_find(const struct vma_set *s, uint64_t addr);

/* The lowest area ending above addr (Linux's find_vma), or NULL. */
struct vma *vma_find_next(const struct vma_set *s, uint64_t addr);

/* The area after v in address order, or NULL; vma_first: the lowest. */
struct vma *vma_first(const struct vma_set *s);
struct vma *vma_next(const struct vma_set *s, const struct vma *v);

/* Whether no area meets [start, end). */
bool vma_range_free(const struct vma_set *s, uint64_t start, uint64_t end);

/* Whether user memory [addr, addr + len) may be accessed with prot
 * (PROT_* bits all required): every byte in an area allowing it. This is
 * the check before the kernel touches a user pointer. Returns 0; -EFAULT
 * when a byte is in no area, in one without prot, outside user space, or
 * addr + len wraps. len 0 is 0. */
int vma_access_ok(const struct vma_set *s, uint64_t addr, uint64_t len, unsigned prot);

/* A free range of len bytes (rounded up to pages) inside [lo, hi): the
 * highest one (top-down, as Linux's default mmap layout on 64-bit, so
 * mmap areas grow down toward the heap). A gap just below a VMA_GROWSDOWN
 * area keeps USER_STACK_GAP free above it, so the stack can still grow.
 * Returns 0 and *out; -ENOMEM when no gap fits; -EINVAL for len 0, lo or
 * hi unaligned, lo >= hi, or a range outside [USER_VA_BASE, USER_VA_TOP). */
int vma_find_gap(const struct vma_set *s, uint64_t len, uint64_t lo, uint64_t hi,
		 uint64_t *out);

/* Add the area want describes (its vm_ fields; link is ignored), merging
 * it with alike neighbours. Returns 0; -EINVAL when the range is empty,
 * unaligned or outside [USER_VA_BASE, USER_VA_TOP), or prot, kind or
 * flags are unknown; -EEXIST when it meets an area; -ENOMEM when no
 * struct can be had or the set is full. On error the set is unchanged. */
int vma_insert(struct vma_set *s, const struct vma *want);

/* Add n areas (ranges disjoint from each other and from the set), all or
 * none: errors as vma_insert's, -EEXIST also when two of them meet. */
int vma_insert_all(struct vma_set *s, const struct vma *want, unsigned n);

/* Remove [start, start + len) (munmap): areas inside it go, areas across
 * an edge are cut there, an area around it is split in two; holes are
 * fine. fn (may be NULL) hears of each piece removed. Returns 0; -EINVAL
 * when start or len is unaligned, len is 0, or the range wraps or leaves
 * user space; -ENOMEM when the split's struct cannot be had or the set
 * is full (the set unchanged). */
int vma_unmap(struct vma_set *s, uint64_t start, uint64_t len, vma_change_fn fn, void *ctx);

/* Put want in place of whatever [want->vm_start, want->vm_end) holds
 * (mmap's MAP_FIXED): vma_unmap then vma_insert, all or nothing. fn hears
 * of the pieces removed. Errors as theirs (never -EEXIST). */
int vma_map_fixed(struct vma_set *s, const struct vma *want, vma_change_fn fn, void *ctx);

/* Set the protection of [start, start + len) to prot (mprotect), cutting
 * areas at both edges and merging alike neighbours afterwards. fn hears
 * of each piece whose protection changed (with its old one). Returns 0;
 * -EINVAL as vma_unmap's, or prot unknown; -ENOMEM when part of the range
 * is in no area (as Linux's mprotect), when the split structs cannot be
 * had, or the set is full. On error the set is unchanged. */
int vma_protect(struct vma_set *s, uint64_t start, uint64_t len, unsigned prot,
		vma_change_fn fn, void *ctx);

/* Stack growth on a fault at addr: when addr is below a VMA_GROWSDOWN
 * area (the lowest area above addr) and the area would stay within
 * USER_STACK_MAX bytes and USER_STACK_GAP above the area below it, its
 * vm_start moves down to addr's page. Returns 0 and *out (may be NULL)
 * the area; -EFAULT when addr is inside an area or the area above is not
 * growsdown (a plain bad access); -ENOMEM when growing would break the
 * limit or the gap. */
int vma_grow_down(struct vma_set *s, uint64_t addr, struct vma **out);

/* Check the set's invariants: sorted, disjoint, aligned, in user space,
 * known prot/kind/flags, no alike neighbours left unmerged, count and
 * bytes matching. Returns the number of violations, *first (may be NULL)
 * naming the first one. */
int vma_check(const struct vma_set *s, const char **first);

/* "text", "data", "bss", "heap", "stack", "anon" ("?" for others). */
const char *vma_kind_name(enum vma_kind k);

#endif
