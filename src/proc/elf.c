/* elf.c - the ELF64 validator and load plan (include/proc/elf.h).
 *
 * Reads the ELF header and the program header table through the file's
 * read callback, one header at a time into small buffers on the stack,
 * and decodes every field with the little-endian readers at its gABI
 * offset (never a struct overlay: the file is untrusted bytes). Every
 * sum of file or address values is checked against wrap before it is
 * formed. Nothing is allocated, nothing outside *plan is written.
 * Not a loader: pages are filled by elf_fill_page when the caller asks
 * (at load or at a fault), mapped by the caller. */
#include "proc/elf.h"
#include "proc/vma.h"
#include "kerrno.h"
#include "lib/le.h"
#include <string.h>

/* ELF64 header offsets (gABI 4, "ELF Header"). */
#define E_TYPE      16
#define E_MACHINE   18
#define E_VERSION   20
#define E_ENTRY     24
#define E_PHOFF     32
#define E_FLAGS     48
#define E_EHSIZE    52
#define E_PHENTSIZE 54
#define E_PHNUM     56

/* ELF64 program header offsets (gABI 5, "Program Header"). */
#define P_TYPE      0
#define P_FLAGS     4
#define P_OFFSET    8
#define P_VADDR     16
#define P_FILESZ    32
#define P_MEMSZ     40
#define P_ALIGN     48

struct elf_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz, align;
};

/* A refusal: -ENOEXEC and its reason. */
#define REFUSE(why_out, text) (*(why_out) = (text), -ENOEXEC)

static int elf_read(const struct elf_file *f, uint64_t off, void *buf, size_t len,
		    const char **why)
{
	int err = f->read(f, off, buf, len);

	if (err) {
		*why = "read error";
		return err < 0 ? err : -EIO;
	}
	return 0;
}

/* e_ident (gABI 4, "ELF Identification"); EI_OSABI and EI_ABIVERSION are
 * not looked at, as Linux does not. */
static const char *elf_check_ident(const uint8_t *h)
{
	if (h[0] != 0x7f || h[1] != 'E' || h[2] != 'L' || h[3] != 'F')
		return "bad magic";
	if (h[EI_CLASS] != ELFCLASS64)
		return "not 64-bit";
	if (h[EI_DATA] != ELFDATA2LSB)
		return "not little-endian";
	if (h[EI_VERSION] != EV_CURRENT || le32(h + E_VERSION) != EV_CURRENT)
		return "bad ELF version";
	return NULL;
}

/* The rest of the ELF header, against a file of `size` bytes. */
static const char *elf_check_header(const uint8_t *h, uint64_t size)
{
	uint32_t flags = le32(h + E_FLAGS);
	uint64_t phoff = le64(h + E_PHOFF);
	uint16_t type = le16(h + E_TYPE), phnum = le16(h + E_PHNUM);

	if (type == ET_DYN)
		return "dynamic executable (static only)";
	if (type != ET_EXEC)
		return "not an executable file";
	if (le16(h + E_MACHINE) != EM_RISCV)
		return "wrong machine";
	if ((flags & EF_RISCV_RVE) ||
	    (flags & EF_RISCV_FLOAT_ABI) == EF_RISCV_FLOAT_ABI_QUAD)
		return "unsupported ABI flags";
	if (le16(h + E_EHSIZE) != ELF64_EHDR_SIZE)
		return "bad header size";
	if (le16(h + E_PHENTSIZE) != ELF64_PHDR_SIZE)
		return "bad program header size";
	if (phnum == 0)
		return "no program headers";
	if (phnum > ELF_MAX_PHNUM)
		return "too many program headers";
	if (phoff > size || size - phoff < (uint64_t)phnum * ELF64_PHDR_SIZE)
		return "program headers outside the file";
	return NULL;
}

static void elf_decode_phdr(const uint8_t *p, struct elf_phdr *ph)
{
	ph->type = le32(p + P_TYPE);
	ph->flags = le32(p + P_FLAGS);
	ph->offset = le64(p + P_OFFSET);
	ph->vaddr = le64(p + P_VADDR);
	ph->filesz = le64(p + P_FILESZ);
	ph->memsz = le64(p + P_MEMSZ);
	ph->align = le64(p + P_ALIGN);
}

/* A PT_LOAD's own fields (gABI 5: "p_vaddr should equal p_offset, modulo
 * p_align"; loadable segments' p_align is a page multiple). */
static const char *elf_check_load(const struct elf_phdr *ph, uint64_t size)
{
	if (ph->filesz > ph->memsz)
		return "file size above memory size";
	if (ph->offset > size || ph->filesz > size - ph->offset)
		return "segment outside the file";
	if (ph->align < USER_PAGE_SIZE || (ph->align & (ph->align - 1)) ||
	    ph->vaddr % ph->align != ph->offset % ph->align)
		return "bad segment alignment";
	if (ph->memsz == 0)
		return NULL;
	if (ph->memsz > ELF_SEGMENT_MAX)
		return "segment too large";
	if (ph->vaddr < USER_VA_BASE || ph->vaddr >= USER_MMAP_TOP ||
	    ph->memsz > USER_MMAP_TOP - ph->vaddr)
		return "segment outside user space";
	return NULL;
}

static unsigned elf_prot(uint32_t flags)
{
	unsigned prot = 0;

	if (flags & PF_R)
		prot |= PROT_READ;
	if (flags & PF_W)
		prot |= PROT_READ | PROT_WRITE;   /* no write-only pages (uspace.h) */
	if (flags & PF_X)
		prot |= PROT_EXEC;
	return prot;
}

/* Append a checked, non-empty PT_LOAD to the plan: after the segment
 * before it, sharing no page with it. */
static const char *elf_add_segment(struct elf_plan *plan, const struct elf_phdr *ph)
{
	struct elf_segment *s;

	if (plan->nseg) {
		const struct elf_segment *prev = &plan->seg[plan->nseg - 1];

		if (ph->vaddr < prev->vaddr)
			return "segments out of order";
		if (user_page_down(ph->vaddr) < prev->end)
			return "segments overlap";
	}
	if (plan->nseg == ELF_MAX_SEGMENTS)
		return "too many segments";
	s = &plan->seg[plan->nseg++];
	s->vaddr = ph->vaddr;
	s->memsz = ph->memsz;
	s->offset = ph->offset;
	s->filesz = ph->filesz;
	s->prot = elf_prot(ph->flags);
	s->start = user_page_down(ph->vaddr);
	s->file_end = ph->filesz ? user_page_up(ph->vaddr + ph->filesz) : s->start;
	s->end = user_page_up(ph->vaddr + ph->memsz);
	plan->image_bytes += s->end - s->start;
	return NULL;
}

/* One program header into the plan. */
static const char *elf_take_phdr(struct elf_plan *plan, const struct elf_phdr *ph,
				 uint64_t size)
{
	const char *bad;

	switch (ph->type) {
	case PT_INTERP:
		return "needs an interpreter (static only)";
	case PT_GNU_STACK:
		if (ph->flags & PF_X)
			plan->stack_prot |= PROT_EXEC;
		return NULL;
	case PT_LOAD:
		bad = elf_check_load(ph, size);
		if (bad || ph->memsz == 0)
			return bad;
		return elf_add_segment(plan, ph);
	default:
		return NULL;
	}
}

/* Where the program headers are in memory (AT_PHDR): inside the file
 * bytes of the segment that loads them, as Linux computes it; 0 when no
 * segment does. */
static uint64_t elf_phdr_vaddr(const struct elf_plan *plan, uint64_t phoff)
{
	uint64_t len = (uint64_t)plan->phnum * plan->phent;

	for (unsigned i = 0; i < plan->nseg; i++) {
		const struct elf_segment *s = &plan->seg[i];

		if (phoff >= s->offset && phoff - s->offset <= s->filesz &&
		    len <= s->filesz - (phoff - s->offset))
			return s->vaddr + (phoff - s->offset);
	}
	return 0;
}

/* The whole image: something to load, not too much, an entry point in
 * the file bytes of an executable segment, aligned for the ISA. */
static const char *elf_check_image(const struct elf_plan *plan, uint32_t flags)
{
	uint64_t align = (flags & EF_RISCV_RVC) ? 2 : 4;

	if (plan->nseg == 0)
		return "no loadable segment";
	if (plan->image_bytes > ELF_IMAGE_MAX)
		return "image too large";
	if (plan->entry % align)
		return "misaligned entry point";
	for (unsigned i = 0; i < plan->nseg; i++) {
		const struct elf_segment *s = &plan->seg[i];

		if ((s->prot & PROT_EXEC) && plan->entry >= s->vaddr &&
		    plan->entry - s->vaddr < s->filesz)
			return NULL;
	}
	return "entry point outside the executable segments";
}

static int elf_read_phdrs(const struct elf_file *f, struct elf_plan *plan, uint64_t phoff,
			  const char **why)
{
	uint8_t raw[ELF64_PHDR_SIZE];
	struct elf_phdr ph;
	int err;

	for (unsigned i = 0; i < plan->phnum; i++) {
		err = elf_read(f, phoff + (uint64_t)i * ELF64_PHDR_SIZE, raw, sizeof(raw), why);
		if (err)
			return err;
		elf_decode_phdr(raw, &ph);
		*why = elf_take_phdr(plan, &ph, f->size);
		if (*why)
			return -ENOEXEC;
	}
	return 0;
}

int elf_validate(const struct elf_file *f, struct elf_plan *plan, const char **why)
{
	uint8_t h[ELF64_EHDR_SIZE];
	const char *dummy;
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!f || !f->read || !plan)
		return (*why = "bad arguments"), -EINVAL;
	if (f->size < ELF64_EHDR_SIZE)
		return REFUSE(why, "file too short");
	err = elf_read(f, 0, h, sizeof(h), why);
	if (err)
		return err;
	*why = elf_check_ident(h);
	if (!*why)
		*why = elf_check_header(h, f->size);
	if (*why)
		return -ENOEXEC;
	memset(plan, 0, sizeof(*plan));
	plan->entry = le64(h + E_ENTRY);
	plan->phent = ELF64_PHDR_SIZE;
	plan->phnum = le16(h + E_PHNUM);
	plan->stack_prot = PROT_READ | PROT_WRITE;
	err = elf_read_phdrs(f, plan, le64(h + E_PHOFF), why);
	if (err)
		return err;
	*why = elf_check_image(plan, le32(h + E_FLAGS));
	if (*why)
		return -ENOEXEC;
	plan->brk = plan->seg[plan->nseg - 1].end;
	plan->phdr = elf_phdr_vaddr(plan, le64(h + E_PHOFF));
	return 0;
}

int elf_fill_page(const struct elf_file *f, const struct elf_segment *seg,
		  uint64_t page_va, void *page)
{
	uint64_t lo, hi;
	int err;

	if (page_va % USER_PAGE_SIZE || page_va < seg->start || page_va >= seg->end)
		return -EINVAL;
	memset(page, 0, USER_PAGE_SIZE);
	lo = page_va > seg->vaddr ? page_va : seg->vaddr;
	hi = page_va + USER_PAGE_SIZE;
	if (hi > seg->vaddr + seg->filesz)
		hi = seg->vaddr + seg->filesz;
	if (lo >= hi)
		return 0;
	err = f->read(f, seg->offset + (lo - seg->vaddr), (uint8_t *)page + (lo - page_va),
		      hi - lo);
	if (err) {
		memset(page, 0, USER_PAGE_SIZE);
		return err < 0 ? err : -EIO;
	}
	return 0;
}

static int elf_buffer_read(const struct elf_file *f, uint64_t off, void *buf, size_t len)
{
	if (off > f->size || len > f->size - off)
		return -EIO;
	memcpy(buf, (const uint8_t *)f->ctx + off, len);
	return 0;
}

void elf_file_init_buffer(struct elf_file *f, const void *data, size_t size)
{
	f->read = elf_buffer_read;
	f->ctx = (void *)(uintptr_t)data;
	f->size = size;
}

unsigned elf_plan_vmas(const struct elf_plan *plan, struct vma *want)
{
	unsigned n = 0;

	for (unsigned i = 0; i < plan->nseg; i++) {
		const struct elf_segment *s = &plan->seg[i];
		struct vma a = { .vm_prot = s->prot, .vm_private = s };

		if (s->file_end > s->start) {
			a.vm_start = s->start;
			a.vm_end = s->file_end;
			a.vm_kind = (s->prot & PROT_EXEC) ? VMA_TEXT : VMA_DATA;
			want[n++] = a;
		}
		if (s->end > s->file_end) {
			a.vm_start = s->file_end;
			a.vm_end = s->end;
			a.vm_kind = VMA_BSS;
			want[n++] = a;
		}
	}
	return n;
}
