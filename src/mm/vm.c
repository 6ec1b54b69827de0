/* vm.c - Sv39 page-table construction: map, unmap, translate.
 *
 * Not an address-space switcher and not a fault handler: it edits tables
 * in memory and leaves satp and TLB flushes to the kernel (kvm_init, src/kernel/memory.c).
 *
 * Invariants:
 *   - every table page is a buddy order-0 block with the space's
 *     table_owner (PGTABLE; USER_PGTABLE for a user process's); its
 *     struct page `inuse` equals the number of valid PTEs in it;
 *   - a non-root table with inuse == 0 does not stay linked: unmap frees it
 *     (except a table vm_pin_table pinned, token TOKEN_PINNED);
 *   - vm_map never overwrites a valid entry (-EEXIST instead);
 *   - a table created by a vm_map call carries that call's token in its
 *     struct page `priv`, so a failed call frees exactly what it created
 *     and leaves tables that existed before (even empty ones) in place. */
#include <string.h>
#include "mm/vm.h"
#include "mm/buddy.h"
#include "kerrno.h"

#define PTE_V        (1ull << 0)
#define PTE_A        (1ull << 6)
#define PTE_D        (1ull << 7)
#define PTE_RWX      (VM_R | VM_W | VM_X)
#define PTE_PERMS    (VM_R | VM_W | VM_X | VM_U | VM_G)
#define PTE_PPN_SHIFT 10
#define LEVELS       3
#define TOKEN_ANY    ((void *)0)
#define TOKEN_PINNED ((void *)~(uintptr_t)0)   /* vm_pin_table's: never pruned */

static uintptr_t next_token = 1;

static inline unsigned vpn(uintptr_t va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * level)) & 511;
}

static inline uint64_t level_size(int level)
{
	return 1ull << (PAGE_SHIFT + 9 * level);
}

static inline int pte_is_leaf(pte_t e)
{
	return (e & PTE_V) && (e & PTE_RWX);
}

static inline phys_addr_t pte_pa(pte_t e)
{
	return (e >> PTE_PPN_SHIFT) << PAGE_SHIFT;
}

static inline pte_t *pte_table(pte_t e)
{
	return (pte_t *)(uintptr_t)(pte_pa(e) + mm_virt_offset);
}

static inline struct page *table_page(const pte_t *slot)
{
	return virt_to_page(slot);
}

static inline int canonical(uintptr_t va)
{
	uint64_t top = (uint64_t)va >> (SV39_VA_BITS - 1);

	return top == 0 || top == (~0ull >> (SV39_VA_BITS - 1));
}

static pte_t *table_alloc(struct vm_space *vs, void *token)
{
	struct page *pg = alloc_pages(GFP_ZERO | vs->gfp, 0);

	if (!pg)
		return NULL;
	page_set_owner(pg, vs->table_owner);
	pg->inuse = 0;
	pg->priv = token;
	vs->tables++;
	return page_address(pg);
}

static void table_free(struct vm_space *vs, pte_t *table)
{
	free_pages_owned(virt_to_page(table), 0, vs->table_owner);
	vs->tables--;
}

static int vm_create_owned(struct vm_space *vs, unsigned owner)
{
	vs->tables = 0;
	vs->gfp = 0;
	vs->table_owner = owner;
	vs->root = table_alloc(vs, TOKEN_ANY);
	return vs->root ? 0 : -ENOMEM;
}

int vm_create(struct vm_space *vs)
{
	return vm_create_owned(vs, PAGE_OWNER_PGTABLE);
}

int vm_create_user(struct vm_space *vs)
{
	return vm_create_owned(vs, PAGE_OWNER_USER_PGTABLE);
}

static void destroy_level(struct vm_space *vs, pte_t *table, int level)
{
	for (int i = 0; level > 0 && i < 512; i++)
		if ((table[i] & PTE_V) && !pte_is_leaf(table[i]))
			destroy_level(vs, pte_table(table[i]), level - 1);
	table_free(vs, table);
}

void vm_destroy(struct vm_space *vs)
{
	if (vs->root)
		destroy_level(vs, vs->root, LEVELS - 1);
	vs->root = NULL;
}

/* mm/vm.h */
int vm_share(struct vm_space *vs, const struct vm_space *from, uintptr_t va, size_t size)
{
	unsigned first, n, i;

	if (!vs->root || !from->root || !size || va % level_size(LEVELS - 1) ||
	    size % level_size(LEVELS - 1) || va + size < va || !canonical(va) ||
	    !canonical(va + size - 1) || (va >> (SV39_VA_BITS - 1)) != ((va + size - 1) >> (SV39_VA_BITS - 1)))
		return -EINVAL;
	first = vpn(va, LEVELS - 1);
	n = (unsigned)(size / level_size(LEVELS - 1));
	for (i = 0; i < n; i++)
		if (vs->root[first + i] & PTE_V)
			return -EEXIST;
	for (i = 0; i < n; i++) {
		vs->root[first + i] = from->root[first + i];
		table_page(vs->root)->inuse += (from->root[first + i] & PTE_V) != 0;
	}
	return 0;
}

void vm_unshare(struct vm_space *vs, uintptr_t va, size_t size)
{
	unsigned first = vpn(va, LEVELS - 1), n = (unsigned)(size / level_size(LEVELS - 1));

	for (unsigned i = 0; vs->root && i < n && first + i < 512; i++) {
		table_page(vs->root)->inuse -= (vs->root[first + i] & PTE_V) != 0;
		vs->root[first + i] = 0;
	}
}

/* The slot for va at `level`, creating missing tables above it with
 * `token`. NULL with *err = -ENOMEM, or -EEXIST when a leaf is in the way.
 * Inlined into vm_map, its hot caller (a page fault's), even though
 * vm_pin_table calls it too. */
static inline __attribute__((always_inline)) pte_t *
walk_create(struct vm_space *vs, uintptr_t va, int level, void *token, int *err)
{
	pte_t *table = vs->root;

	for (int l = LEVELS - 1; l > level; l--) {
		pte_t *slot = &table[vpn(va, l)];

		if (pte_is_leaf(*slot)) {
			*err = -EEXIST;
			return NULL;
		}
		if (!(*slot & PTE_V)) {
			pte_t *next = table_alloc(vs, token);

			if (!next) {
				*err = -ENOMEM;
				return NULL;
			}
			*slot = (virt_to_phys(next) >> PAGE_SHIFT << PTE_PPN_SHIFT) | PTE_V;
			table_page(table)->inuse++;
		}
		table = pte_table(*slot);
	}
	return &table[vpn(va, level)];
}

/* mm/vm.h */
int vm_pin_table(struct vm_space *vs, uintptr_t va)
{
	int err = 0;
	pte_t *slot;

	if (!vs->root || va % level_size(LEVELS - 1) || !canonical(va))
		return -EINVAL;
	slot = walk_create(vs, va, LEVELS - 2, TOKEN_PINNED, &err);
	if (!slot)
		return err == -EEXIST ? -EINVAL : err;
	table_page(slot)->priv = TOKEN_PINNED;   /* made now or before: it stays */
	return 0;
}

/* The deepest slot on va's path (a leaf, or the invalid entry where the
 * walk stops); *level receives its level. */
static pte_t *walk_find(const struct vm_space *vs, uintptr_t va, int *level)
{
	pte_t *table = vs->root;
	int l = LEVELS - 1;

	for (;; l--) {
		pte_t *slot = &table[vpn(va, l)];

		if (l == 0 || !(*slot & PTE_V) || pte_is_leaf(*slot)) {
			*level = l;
			return slot;
		}
		table = pte_table(*slot);
	}
}

/* Free the empty tables on va's path, bottom up (never the root). Only
 * tables carrying `token` are freed, unless token is TOKEN_ANY. */
static void prune_path(struct vm_space *vs, uintptr_t va, void *token)
{
	pte_t *path[LEVELS];
	pte_t *table = vs->root;
	int l;

	for (l = LEVELS - 1;; l--) {
		pte_t e;

		path[l] = table;
		if (l == 0)
			break;
		e = table[vpn(va, l)];
		if (!(e & PTE_V) || pte_is_leaf(e))
			break;
		table = pte_table(e);
	}
	for (int k = l; k < LEVELS - 1; k++) {
		struct page *pg = table_page(path[k]);

		if (pg->inuse || pg->priv == TOKEN_PINNED ||
		    (token != TOKEN_ANY && pg->priv != token))
			return;
		table_free(vs, path[k]);
		path[k + 1][vpn(va, k + 1)] = 0;
		table_page(path[k + 1])->inuse--;
	}
}

static int choose_level(uintptr_t va, phys_addr_t pa, uint64_t left, unsigned perm)
{
	for (int l = (perm & VM_LARGE) ? LEVELS - 1 : 0; l > 0; l--) {
		uint64_t sz = level_size(l);

		if (!(va & (sz - 1)) && !(pa & (sz - 1)) && left >= sz)
			return l;
	}
	return 0;
}

/* Remove leaves in [va, va+size) that are known to be whole; prune with
 * token. Used by vm_unmap and to roll back a failed vm_map. */
static void clear_range(struct vm_space *vs, uintptr_t va, uint64_t size, void *token)
{
	uint64_t off = 0;

	while (off < size) {
		int level;
		pte_t *slot = walk_find(vs, va + off, &level);
		uint64_t sz = level_size(level);

		if (pte_is_leaf(*slot)) {
			*slot = 0;
			table_page(slot)->inuse--;
			prune_path(vs, va + off, token);
		}
		off = ((va + off) & ~(sz - 1)) + sz - va;
	}
}

static int check_args(uintptr_t va, uint64_t pa, uint64_t size)
{
	if ((va | pa | size) & (PAGE_SIZE - 1) || size == 0)
		return -EINVAL;
	if (va + size < va || !canonical(va) || !canonical(va + size - 1))
		return -EINVAL;
	return 0;
}

/* A leaf's permissions: R or X, W only with R, nothing unknown. */
static int perm_ok(unsigned perm, unsigned allowed)
{
	unsigned prot = perm & PTE_PERMS;

	return (prot & (VM_R | VM_X)) && (!(prot & VM_W) || (prot & VM_R)) && !(perm & ~allowed);
}

int vm_map(struct vm_space *vs, uintptr_t va, phys_addr_t pa, size_t size, unsigned perm)
{
	void *token = (void *)next_token++;
	unsigned prot = perm & PTE_PERMS;
	uint64_t off;
	int err = 0;

	if (check_args(va, pa, size) || pa + size < pa || !perm_ok(perm, PTE_PERMS | VM_LARGE))
		return -EINVAL;
	for (off = 0; off < size;) {
		int level = choose_level(va + off, pa + off, size - off, perm);
		pte_t *slot = walk_create(vs, va + off, level, token, &err);

		if (slot && (*slot & PTE_V))
			err = -EEXIST;
		if (err) {
			/* tables the walk just created are empty: free them */
			prune_path(vs, va + off, token);
			clear_range(vs, va, off, token);
			return err;
		}
		*slot = ((pa + off) >> PAGE_SHIFT << PTE_PPN_SHIFT) | prot | PTE_A | PTE_D | PTE_V;
		table_page(slot)->inuse++;
		off += level_size(level);
	}
	return 0;
}

int vm_unmap(struct vm_space *vs, uintptr_t va, size_t size)
{
	uint64_t off = 0;

	if (check_args(va, 0, size))
		return -EINVAL;
	while (off < size) {   /* refuse to cut a large leaf, before any change */
		int level;
		pte_t *slot = walk_find(vs, va + off, &level);
		uint64_t sz = level_size(level), start = (va + off) & ~(sz - 1);

		if (pte_is_leaf(*slot) && (start < va || start + sz > va + size))
			return -EINVAL;
		off = start + sz - va;
	}
	clear_range(vs, va, size, TOKEN_ANY);
	return 0;
}

int vm_update(struct vm_space *vs, uintptr_t va, phys_addr_t pa, unsigned perm)
{
	int level;
	pte_t *slot;

	if (check_args(va, pa, PAGE_SIZE) || !perm_ok(perm, PTE_PERMS))
		return -EINVAL;
	slot = walk_find(vs, va, &level);
	if (!pte_is_leaf(*slot))
		return -ENOENT;
	if (level != 0)
		return -EINVAL;
	*slot = (pa >> PAGE_SHIFT << PTE_PPN_SHIFT) | perm | PTE_A | PTE_D | PTE_V;
	return 0;
}

int vm_translate(const struct vm_space *vs, uintptr_t va, phys_addr_t *pa, unsigned *perm)
{
	int level;
	pte_t *slot;

	if (!canonical(va))
		return -EINVAL;
	slot = walk_find(vs, va, &level);
	if (!pte_is_leaf(*slot))
		return -ENOENT;
	if (pa)
		*pa = pte_pa(*slot) + (va & (level_size(level) - 1));
	if (perm)
		*perm = (unsigned)(*slot & PTE_PERMS);
	return 0;
}

/* mm/vm.h: one walk from the root per call; an invalid entry skips its
 * whole span (512 GiB / 1 GiB / 2 MiB / 4 KiB by level). */
int vm_next_mapped(const struct vm_space *vs, uintptr_t va, uintptr_t end, uintptr_t *out,
		   phys_addr_t *pa)
{
	if (!vs->root || (va & (PAGE_SIZE - 1)) || end <= va || !canonical(va) ||
	    !canonical(end - 1) || (va >> (SV39_VA_BITS - 1)) != ((end - 1) >> (SV39_VA_BITS - 1)))
		return -EINVAL;
	while (va < end) {
		const pte_t *table = vs->root;

		for (int level = LEVELS - 1; level >= 0; level--) {
			pte_t e = table[vpn(va, level)];
			uintptr_t next;

			if (pte_is_leaf(e)) {
				*out = va;
				if (pa)
					*pa = pte_pa(e) + (va & (level_size(level) - 1));
				return 0;
			}
			if ((e & PTE_V) && level > 0) {
				table = pte_table(e);
				continue;
			}
			next = (va & ~(uintptr_t)(level_size(level) - 1)) + level_size(level);
			if (next <= va)
				return -ENOENT;   /* the top of the address space */
			va = next;
			break;
		}
	}
	return -ENOENT;
}

static void count_level(const pte_t *table, int level, struct vm_counts *out)
{
	out->tables++;
	for (int i = 0; i < 512; i++) {
		if (!(table[i] & PTE_V))
			continue;
		if (pte_is_leaf(table[i]))
			out->leaves[level]++;
		else if (level > 0)
			count_level(pte_table(table[i]), level - 1, out);
	}
}

void vm_count(const struct vm_space *vs, struct vm_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (vs->root)
		count_level(vs->root, LEVELS - 1, out);
}
