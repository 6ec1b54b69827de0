/* test_vm.c - Sv39 page tables on the host: map/translate/unmap, large
 * leaves, argument errors, and the all-or-nothing rule of vm_map with a
 * page-table allocation failing at every possible step. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "kerrno.h"
#include "mm/buddy.h"
#include "mm/vm.h"

#define ARENA_SIZE (32ul << 20)
#define PHYS_BASE  0x80000000ul
#define GiB        (1ul << 30)
#define MiB        (1ul << 20)

static void *arena;

/* Every case: a fresh page allocator over the arena. */
static void before(void)
{
	struct mm_region ram = { PHYS_BASE, ARENA_SIZE };
	struct mm_layout l = { .ram = &ram, .nram = 1,
			       .virt_offset = (uintptr_t)arena - PHYS_BASE };

	if (page_alloc_init(&l) != 0) {
		tap_ok(0, "page_alloc_init");
		exit(tap_end());
	}
}

static int mapped_as(struct vm_space *vs, uintptr_t va, phys_addr_t want, unsigned perm)
{
	phys_addr_t pa;
	unsigned p;

	return vm_translate(vs, va, &pa, &p) == 0 && pa == want && p == perm;
}

static void test_basic(void)
{
	struct vm_space vs;
	unsigned long base_free;
	struct vm_counts c;

	base_free = buddy_free_pages();
	tap_ok(vm_create(&vs) == 0 && vs.tables == 1, "vm_create makes a root table");
	tap_ok(vm_map(&vs, 0x40000000, 0x80100000, 3 * PAGE_SIZE, VM_R | VM_W) == 0, "map 3 pages");
	tap_ok(mapped_as(&vs, 0x40000000, 0x80100000, VM_R | VM_W) &&
	       mapped_as(&vs, 0x40002123, 0x80102123, VM_R | VM_W), "translate inside the range");
	tap_ok(vm_translate(&vs, 0x40003000, NULL, NULL) == -ENOENT, "page after the range unmapped");
	tap_ok(vm_translate(&vs, 0, NULL, NULL) == -ENOENT, "null page unmapped");
	vm_count(&vs, &c);
	tap_ok(c.leaves[0] == 3 && c.tables == 3 && vs.tables == 3, "3 leaves in 3 tables");
	tap_ok(vm_map(&vs, 0x40001000, 0x90000000, PAGE_SIZE, VM_R) == -EEXIST,
	       "mapping over a mapping is -EEXIST");
	tap_ok(mapped_as(&vs, 0x40001000, 0x80101000, VM_R | VM_W), "and leaves the old entry");
	tap_ok(vm_unmap(&vs, 0x40000000, 3 * PAGE_SIZE) == 0, "unmap the range");
	tap_ok(vs.tables == 1, "emptied tables freed on unmap");
	vm_destroy(&vs);
	tap_ok(buddy_free_pages() == base_free, "vm_destroy gives every table back");
}

/* A process's space shares the kernel's top-level entries: the kernel's
 * mappings show through without a table of its own, its own mappings go
 * elsewhere, and unsharing then destroying frees its tables only. */
static void test_share(void)
{
	struct vm_space k, u;
	unsigned long base_free = buddy_free_pages();

	vm_create(&k);
	vm_create(&u);
	vm_map(&k, 0x80000000, 0x80000000, 4 * PAGE_SIZE, VM_R | VM_W);
	tap_ok(vm_share(&u, &k, 0, 128 * GiB) == 0 && u.tables == 1,
	       "share the kernel's first 128 GiB: no table of its own");
	tap_ok(mapped_as(&u, 0x80001000, 0x80001000, VM_R | VM_W), "the kernel's mapping shows through");
	tap_ok(vm_map(&u, 128 * GiB, 0x80100000, PAGE_SIZE, VM_R | VM_U) == 0 && u.tables == 3 &&
	       vm_translate(&k, 128 * GiB, NULL, NULL) == -ENOENT,
	       "a mapping of its own above them stays its own");
	tap_ok(vm_share(&u, &k, 2 * GiB, GiB) == -EEXIST && vm_share(&u, &k, 4096, GiB) == -EINVAL &&
	       vm_share(&u, &k, 255 * GiB, 2 * GiB) == -EINVAL,
	       "sharing over a shared entry, unaligned or across the halves: refused");
	vm_unshare(&u, 0, 128 * GiB);
	tap_ok(vm_translate(&u, 0x80001000, NULL, NULL) == -ENOENT, "unshared: gone from it");
	vm_destroy(&u);
	tap_ok(mapped_as(&k, 0x80001000, 0x80001000, VM_R | VM_W), "and still the kernel's");
	vm_destroy(&k);
	tap_ok(buddy_free_pages() == base_free, "every table back");
}

/* A pinned table stays through every unmap, so a space that shared the
 * entry above it before anything was mapped there sees what is mapped
 * later; vm_destroy still frees it. */
static void test_pin(void)
{
	struct vm_space k, u;
	unsigned long base_free = buddy_free_pages();
	unsigned long tables;

	vm_create(&k);
	vm_create(&u);
	tap_ok(vm_pin_table(&k, 127 * GiB) == 0 && k.tables == 2, "pin: the table below the entry made");
	tables = k.tables;
	tap_ok(vm_pin_table(&k, 127 * GiB) == 0 && k.tables == tables, "pinning again: nothing new");
	tap_ok(vm_share(&u, &k, 0, 128 * GiB) == 0, "shared before anything is mapped there");
	tap_ok(vm_map(&k, 127 * GiB + 0x10000, 0x80100000, PAGE_SIZE, VM_R | VM_W) == 0 &&
	       mapped_as(&u, 127 * GiB + 0x10000, 0x80100000, VM_R | VM_W),
	       "a later mapping shows through the shared entry");
	tap_ok(vm_unmap(&k, 127 * GiB + 0x10000, PAGE_SIZE) == 0 && k.tables == tables,
	       "unmapping the last page frees the table below, not the pinned one");
	tap_ok(vm_map(&k, 127 * GiB + 0x20000, 0x80200000, PAGE_SIZE, VM_R) == 0 &&
	       mapped_as(&u, 127 * GiB + 0x20000, 0x80200000, VM_R), "and mappings after that show too");
	vm_unmap(&k, 127 * GiB + 0x20000, PAGE_SIZE);
	tap_ok(vm_pin_table(&k, 127 * GiB + 4096) == -EINVAL, "an unaligned va: -EINVAL");
	vm_map(&k, 2 * GiB, 2 * GiB, GiB, VM_R | VM_LARGE);
	tap_ok(vm_pin_table(&k, 2 * GiB) == -EINVAL, "a 1 GiB leaf there: -EINVAL");
	vm_unshare(&u, 0, 128 * GiB);
	vm_destroy(&u);
	vm_destroy(&k);
	tap_ok(buddy_free_pages() == base_free, "vm_destroy frees the pinned table too");
}

/* A user process's space (vm_create_user): its table pages carry owner
 * USER_PGTABLE and the page allocator counts them, as many as vs.tables
 * (root, one level-1 and one level-0 table for one page), none counted
 * as user frames; the kernel's space is not counted; destroyed: 0. A
 * frame claimed as a user page counts 1 until it goes back. */
static void test_user_tables_counted(void)
{
	struct vm_space k, u;
	struct page *pg;

	tap_ok(vm_create(&k) == 0 && vm_create_user(&u) == 0, "a kernel and a user space");
	tap_ok(page_owner_pages(PAGE_OWNER_USER_PGTABLE) == 1, "only the user root is counted");
	tap_ok(vm_map(&u, 128 * GiB, 0x80100000, PAGE_SIZE, VM_R | VM_U) == 0 &&
	       vm_map(&k, 0x80000000, 0x80000000, PAGE_SIZE, VM_R) == 0, "one page each");
	tap_ok(page_owner_pages(PAGE_OWNER_USER_PGTABLE) == 3 && u.tables == 3,
	       "the user space's three tables counted");
	tap_ok(vm_unmap(&u, 128 * GiB, PAGE_SIZE) == 0 &&
	       page_owner_pages(PAGE_OWNER_USER_PGTABLE) == 1, "emptied tables freed and uncounted");
	vm_destroy(&u);
	vm_destroy(&k);
	tap_ok(page_owner_pages(PAGE_OWNER_USER_PGTABLE) == 0 &&
	       page_owner_pages(PAGE_OWNER_USER) == 0, "destroyed: nothing counted");
	pg = alloc_pages(0, 0);
	page_set_owner(pg, PAGE_OWNER_USER);
	tap_ok(page_owner_pages(PAGE_OWNER_USER) == 1 && page_owner_pages(PAGE_OWNER_PAGES) == 0,
	       "a claimed user frame counts 1 (plain pages are not counted)");
	tap_ok(free_pages(pg, 0) == -EINVAL && page_owner_pages(PAGE_OWNER_USER) == 1,
	       "free_pages refuses a user frame and it stays counted");
	tap_ok(free_pages_owned(pg, 0, PAGE_OWNER_USER) == 0 &&
	       page_owner_pages(PAGE_OWNER_USER) == 0, "freed as a user frame: uncounted");
}

static void test_large(void)
{
	struct vm_space vs;
	struct vm_counts c;

	vm_create(&vs);
	tap_ok(vm_map(&vs, 2 * GiB, 2 * GiB, GiB + 4 * MiB + 2 * PAGE_SIZE,
		      VM_R | VM_W | VM_LARGE) == 0, "map 1 GiB + 4 MiB + 8 KiB with large leaves");
	vm_count(&vs, &c);
	tap_ok(c.leaves[2] == 1 && c.leaves[1] == 2 && c.leaves[0] == 2,
	       "one 1 GiB, two 2 MiB and two 4 KiB leaves (%lu/%lu/%lu)",
	       c.leaves[2], c.leaves[1], c.leaves[0]);
	tap_ok(mapped_as(&vs, 2 * GiB + 12345, 2 * GiB + 12345, VM_R | VM_W) &&
	       mapped_as(&vs, 3 * GiB + 3 * MiB + 7, 3 * GiB + 3 * MiB + 7, VM_R | VM_W),
	       "translate through large leaves");
	tap_ok(vm_unmap(&vs, 2 * GiB, PAGE_SIZE) == -EINVAL, "unmap cutting a 1 GiB leaf refused");
	tap_ok(mapped_as(&vs, 2 * GiB, 2 * GiB, VM_R | VM_W), "and changes nothing");
	tap_ok(vm_unmap(&vs, 2 * GiB, GiB + 4 * MiB + 2 * PAGE_SIZE) == 0 && vs.tables == 1,
	       "unmap all of it");
	vm_destroy(&vs);
}

static void test_args(void)
{
	struct vm_space vs;

	vm_create(&vs);
	tap_ok(vm_map(&vs, 0x1001, 0x80000000, PAGE_SIZE, VM_R) == -EINVAL, "unaligned va");
	tap_ok(vm_map(&vs, 0x1000, 0x80000010, PAGE_SIZE, VM_R) == -EINVAL, "unaligned pa");
	tap_ok(vm_map(&vs, 0x1000, 0x80000000, 0, VM_R) == -EINVAL, "size 0");
	tap_ok(vm_map(&vs, 0x1000, 0x80000000, PAGE_SIZE, VM_W) == -EINVAL, "write without read");
	tap_ok(vm_map(&vs, 0x1000, 0x80000000, PAGE_SIZE, 0) == -EINVAL, "no permission");
	tap_ok(vm_map(&vs, 1ul << 38, 0x80000000, PAGE_SIZE, VM_R) == -EINVAL, "non-canonical va");
	tap_ok(vm_map(&vs, (1ul << 38) - PAGE_SIZE, 0x80000000, 2 * PAGE_SIZE, VM_R) == -EINVAL,
	       "range running past the canonical half");
	tap_ok(vm_translate(&vs, 1ul << 40, NULL, NULL) == -EINVAL, "translate non-canonical");
	tap_ok(vm_unmap(&vs, 0x1000, 123) == -EINVAL, "unmap unaligned size");
	tap_ok(vs.tables == 1, "no table created by refused calls");
	vm_destroy(&vs);
}

/* Hold every allocatable page but `leave`; returns the held pages. */
static struct page **squeeze(unsigned long leave, unsigned long *n)
{
	unsigned long cap = buddy_free_pages() + 1, cnt = 0;
	struct page **held = calloc(cap, sizeof(*held));
	struct page *pg;

	while (cnt < cap && (pg = alloc_pages(0, 0)))
		held[cnt++] = pg;
	for (; leave && cnt; leave--)
		free_pages(held[--cnt], 0);
	*n = cnt;
	return held;
}

static void release(struct page **held, unsigned long n)
{
	while (n)
		free_pages(held[--n], 0);
	free(held);
}

/* A range crossing a 1 GiB boundary needs 2 level-1 and 2 level-0 tables;
 * with a pre-existing mapping in the space, some tables already exist. */
/* vm_update rewrites an existing 4 KiB leaf in place: a new frame, new
 * permissions, no table taken or freed; holes, large leaves and bad
 * permissions are refused with the entry unchanged. */
static void test_update(void)
{
	struct vm_space vs;
	unsigned long free0;

	tap_ok(vm_create(&vs) == 0 && vm_map(&vs, 0x40000000, 0x80100000, PAGE_SIZE, VM_R | VM_U) == 0,
	       "one page mapped R U");
	free0 = buddy_free_pages();
	tap_ok(vm_update(&vs, 0x40000000, 0x80200000, VM_R | VM_W | VM_U) == 0 &&
	       mapped_as(&vs, 0x40000000, 0x80200000, VM_R | VM_W | VM_U), "frame and permissions replaced");
	tap_ok(vm_update(&vs, 0x40000000, 0x80200000, VM_R) == 0 &&
	       mapped_as(&vs, 0x40000000, 0x80200000, VM_R), "permissions only (U dropped)");
	tap_ok(buddy_free_pages() == free0 && vs.tables == 3, "no table taken or freed");
	tap_ok(vm_update(&vs, 0x40001000, 0x80200000, VM_R) == -ENOENT, "a hole is -ENOENT");
	tap_ok(vm_translate(&vs, 0x40001000, NULL, NULL) == -ENOENT, "and stays a hole");
	tap_ok(vm_update(&vs, 0x40000000, 0x80200000, VM_W) == -EINVAL &&
	       vm_update(&vs, 0x40000000, 0x80200000, VM_U) == -EINVAL &&
	       vm_update(&vs, 0x40000000, 0x80200000, VM_R | VM_LARGE) == -EINVAL &&
	       vm_update(&vs, 0x40000100, 0x80200000, VM_R) == -EINVAL &&
	       vm_update(&vs, 0x40000000, 0x80200100, VM_R) == -EINVAL,
	       "W without R, no R/X, VM_LARGE, unaligned va or pa: -EINVAL");
	tap_ok(mapped_as(&vs, 0x40000000, 0x80200000, VM_R), "the entry unchanged by refusals");
	tap_ok(vm_map(&vs, 0x80000000, 0x80400000, 2 * MiB, VM_R | VM_LARGE) == 0 &&
	       vm_update(&vs, 0x80001000, 0x80200000, VM_R) == -EINVAL, "inside a 2 MiB leaf: -EINVAL");
	vm_unmap(&vs, 0x80000000, 2 * MiB);
	vm_unmap(&vs, 0x40000000, PAGE_SIZE);
	vm_destroy(&vs);
}

/* vm_next_mapped: on sparse 4 KiB pages in three 1 GiB regions, a 2 MiB
 * leaf, and the last page of the lower half, every mapped page is found
 * once, in order, with the frame vm_translate gives; nothing past the last;
 * a walk over 127 GiB with nothing mapped is -ENOENT; bad arguments
 * -EINVAL. */
static void test_next_mapped(void)
{
	static const uintptr_t small[] = { 0x2000000000ul, 0x2000001000ul, 0x2000200000ul,
					   0x2040000000ul, 0x3ffffff000ul };
	const uintptr_t large = 0x2080000000ul, top = 0x4000000000ul;
	uintptr_t va = 0x1000, want[5 + 512], got;
	phys_addr_t pa, tpa;
	unsigned n = 0, i;
	struct vm_space vs;
	bool same = true;

	vm_create(&vs);
	for (i = 0; i < 5; i++)
		vm_map(&vs, small[i], 0x80100000ul + i * PAGE_SIZE, PAGE_SIZE, VM_R | VM_U);
	vm_map(&vs, large, 0x80200000ul, 2 * MiB, VM_R | VM_LARGE);
	for (i = 0; i < 4; i++)
		want[i] = small[i];
	for (i = 0; i < 512; i++)
		want[4 + i] = large + i * PAGE_SIZE;
	want[516] = small[4];
	while (vm_next_mapped(&vs, va, top, &got, &pa) == 0) {
		same &= n < 517 && got == want[n] && vm_translate(&vs, got, &tpa, NULL) == 0 &&
			tpa == pa;
		n++;
		va = got + PAGE_SIZE;
		if (va >= top)
			break;
	}
	tap_ok(same && n == 517, "every mapped page once, in order (%u of 517)", n);
	tap_ok(vm_next_mapped(&vs, small[3] + PAGE_SIZE, large, &got, NULL) == -ENOENT,
	       "nothing mapped in between: -ENOENT");
	tap_ok(vm_next_mapped(&vs, 0x0000001000ul, 0x2000000000ul, &got, NULL) == -ENOENT &&
	       vm_next_mapped(&vs, 0x2080200000ul, 0x3ffffff000ul, &got, NULL) == -ENOENT,
	       "127 GiB unmapped: -ENOENT");
	tap_ok(vm_next_mapped(&vs, 0x123, top, &got, NULL) == -EINVAL &&
	       vm_next_mapped(&vs, 0x2000, 0x2000, &got, NULL) == -EINVAL &&
	       vm_next_mapped(&vs, 0x1000, top + 0x1000, &got, NULL) == -EINVAL,
	       "unaligned, empty or non-canonical ranges: -EINVAL");
	vm_unmap(&vs, large, 2 * MiB);
	for (i = 0; i < 5; i++)
		vm_unmap(&vs, small[i], PAGE_SIZE);
	vm_destroy(&vs);
}

static void test_all_or_nothing(void)
{
	uintptr_t va = GiB - 2 * MiB;
	size_t size = 4 * MiB;
	unsigned long step, n;
	int fails = 0, unchanged = 1;

	for (step = 0;; step++) {
		struct vm_space vs;
		struct vm_counts before, after;
		unsigned long free_before;
		struct page **held;
		int rc;

		vm_create(&vs);
		vm_map(&vs, va - 3 * PAGE_SIZE, 0x80000000, PAGE_SIZE, VM_R); /* existing */
		vm_count(&vs, &before);
		held = squeeze(step, &n);
		free_before = buddy_free_pages();
		rc = vm_map(&vs, va, 0x90000000, size, VM_R | VM_W);
		vm_count(&vs, &after);
		if (rc == 0) {
			release(held, n);
			vm_destroy(&vs);
			break;
		}
		fails++;
		unchanged &= rc == -ENOMEM && buddy_free_pages() == free_before &&
			     memcmp(&before, &after, sizeof(before)) == 0 &&
			     vm_translate(&vs, va, NULL, NULL) == -ENOENT &&
			     vm_translate(&vs, va + size - PAGE_SIZE, NULL, NULL) == -ENOENT &&
			     vm_translate(&vs, va - 3 * PAGE_SIZE, NULL, NULL) == 0;
		release(held, n);
		vm_destroy(&vs);
	}
	tap_ok(fails == 3, "vm_map failed at each of its %d table allocations", fails);
	tap_ok(unchanged, "every failure: -ENOMEM, no page leaked, table unchanged");
	tap_ok(buddy_check() == 0, "buddy allocator consistent afterwards");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_basic),
	TAP_CASE(test_share),
	TAP_CASE(test_pin),
	TAP_CASE(test_user_tables_counted),
	TAP_CASE(test_large),
	TAP_CASE(test_args),
	TAP_CASE(test_all_or_nothing),
	TAP_CASE(test_update),
	TAP_CASE(test_next_mapped),
};

int main(void)
{
	int rc;

	arena = aligned_alloc(1 << 21, ARENA_SIZE);
	rc = tap_main(TAP_CASES(cases), before, NULL);
	free(arena);
	return rc;
}
