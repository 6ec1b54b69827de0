/* fuzz_elf.c - libFuzzer harness: the ELF64 validator and what a loader
 * does with its plan.
 *
 * The input is an executable file, byte for byte. Per input:
 * elf_validate over it; when it is accepted, the plan must keep every
 * promise elf.h makes (segments ascending and page-disjoint, inside
 * [USER_VA_BASE, USER_MMAP_TOP), file bytes inside the input, sizes under
 * the limits, the entry in an executable segment's file bytes) or the
 * run aborts; then its areas go into a VMA set (which must take them
 * all and pass vma_check), a few pages of every segment are filled with
 * elf_fill_page, the initial stack is built from the plan, and the set
 * is torn down: kmalloc's bytes in use must be back where they were.
 * Seeds (tests/fuzz/corpus_elf) are a real cross-compiled executable and
 * the minimal one test_elf builds (tests/fuzz/mkcorpus.py). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kerrno.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "proc/elf.h"
#include "proc/ustack.h"
#include "proc/vma.h"

#define ARENA (8u << 20)
#define PAGES_PER_SEGMENT 4      /* filled at each end of a segment */

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_elf: accepted plan breaks a promise: %s\n", what);
	abort();
}

static void check_segment(const struct elf_segment *s, const struct elf_segment *prev,
			  uint64_t size)
{
	if (!s->memsz || s->filesz > s->memsz || s->memsz > ELF_SEGMENT_MAX)
		broken("segment sizes");
	if (s->offset > size || s->filesz > size - s->offset)
		broken("file bytes outside the input");
	if (s->vaddr < USER_VA_BASE || s->end > USER_MMAP_TOP || s->end <= s->start ||
	    s->start > s->vaddr || s->file_end < s->start || s->file_end > s->end)
		broken("segment outside user space or pages out of order");
	if ((s->vaddr - s->offset) % USER_PAGE_SIZE)
		broken("p_vaddr and p_offset not congruent");
	if (prev && s->start < prev->end)
		broken("segments overlap");
}

static void check_plan(const struct elf_plan *p, uint64_t size)
{
	uint64_t total = 0;
	int entry_ok = 0;

	if (!p->nseg || p->nseg > ELF_MAX_SEGMENTS)
		broken("segment count");
	for (unsigned i = 0; i < p->nseg; i++) {
		const struct elf_segment *s = &p->seg[i];

		check_segment(s, i ? &p->seg[i - 1] : NULL, size);
		total += s->end - s->start;
		entry_ok |= (s->prot & PROT_EXEC) && p->entry >= s->vaddr &&
			    p->entry - s->vaddr < s->filesz;
	}
	if (total != p->image_bytes || total > ELF_IMAGE_MAX)
		broken("image size");
	if (!entry_ok || p->entry % 2)
		broken("entry point");
	if (p->brk != p->seg[p->nseg - 1].end)
		broken("brk");
}

static void fill_pages(const struct elf_file *f, const struct elf_segment *s)
{
	static uint8_t page[USER_PAGE_SIZE];
	uint64_t n = (s->end - s->start) / USER_PAGE_SIZE;

	for (uint64_t i = 0; i < n; i++) {
		if (i == PAGES_PER_SEGMENT && n > 2 * PAGES_PER_SEGMENT)
			i = n - PAGES_PER_SEGMENT;
		if (elf_fill_page(f, s, s->start + i * USER_PAGE_SIZE, page))
			broken("elf_fill_page refused a page of its segment");
	}
}

static void load(const struct elf_file *f, const struct elf_plan *p)
{
	static uint8_t stack[USER_PAGE_SIZE];
	static const char *const argv[] = { "/bin/fuzz", "x" };
	struct vma want[2 * ELF_MAX_SEGMENTS];
	struct ustack_args a = { .argv = argv, .argc = 2, .phdr = p->phdr, .phent = p->phent,
				 .phnum = p->phnum, .entry = p->entry };
	struct ustack_layout l;
	struct vma_set set;
	unsigned n = elf_plan_vmas(p, want);

	vma_set_init(&set, NULL);
	if (vma_insert_all(&set, want, n) || vma_check(&set, NULL) || set.bytes != p->image_bytes)
		broken("the plan's areas do not go into a set");
	for (unsigned i = 0; i < p->nseg; i++)
		fill_pages(f, &p->seg[i]);
	if (ustack_build(stack, sizeof(stack), USER_STACK_TOP, &a, &l) || l.sp % 16)
		broken("initial stack");
	vma_set_destroy(&set, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void *arena;
	static uint64_t base;
	struct elf_file f;
	struct elf_plan plan;
	const char *why = NULL;
	int err;

	if (!arena) {
		arena = aligned_alloc(4096, ARENA);
		if (!arena || mm_host_init(arena, ARENA))
			abort();
		base = kmalloc_bytes_in_use();
	}
	elf_file_init_buffer(&f, data, size);
	err = elf_validate(&f, &plan, &why);
	if (err && (err != -ENOEXEC || !why))
		broken("a refusal without -ENOEXEC and a reason");
	if (!err) {
		check_plan(&plan, size);
		load(&f, &plan);
	}
	if (kmalloc_bytes_in_use() != base)
		broken("kmalloc bytes left behind");
	return 0;
}
