/* elf.h - validate a static ELF64 RISC-V executable and plan its loading.
 *
 * elf_validate() reads an executable through a read callback (the FAT32
 * reader in the kernel, a buffer in the tests and the fuzzer), checks
 * every header field a loader relies on, and fills a plan: the loadable
 * segments (where, how large, which file bytes, which protection), the
 * entry point, where the heap starts, what the auxiliary vector needs.
 * It allocates nothing, so a refused file leaves nothing behind by
 * construction; each refusal is -ENOEXEC and a short reason for the
 * shell's `run: /bin/x: not an executable (REASON)`. elf_fill_page()
 * fills one page of a segment from the file (load time or a page fault);
 * elf_plan_vmas() turns a plan into the areas of the address space.
 *
 * Specifications: the System V gABI (chapter 4 "ELF Header", chapter 5
 * "Program Header" and "Program Loading"), the RISC-V psABI
 * (riscv-elf.adoc, "File Header": e_machine, e_flags). Not here: dynamic
 * linking (ET_DYN, PT_INTERP are refused), sections (a loader needs none:
 * e_shoff, e_shnum, e_shstrndx are not read), relocation. */
#ifndef TALLY_PROC_ELF_H
#define TALLY_PROC_ELF_H

#include <stddef.h>
#include <stdint.h>
#include "proc/uspace.h"

/* e_ident and the header fields (gABI 4, "ELF Header"). */
#define EI_NIDENT      16
#define EI_CLASS       4
#define EI_DATA        5
#define EI_VERSION     6
#define ELFCLASS64     2
#define ELFDATA2LSB    1
#define EV_CURRENT     1
#define ET_REL         1
#define ET_EXEC        2
#define ET_DYN         3
#define EM_RISCV       243
#define ELF64_EHDR_SIZE 64u   /* e_ehsize */
#define ELF64_PHDR_SIZE 56u   /* e_phentsize */

/* e_flags (psABI "File Header"). */
#define EF_RISCV_RVC              0x0001u
#define EF_RISCV_FLOAT_ABI        0x0006u
#define EF_RISCV_FLOAT_ABI_QUAD   0x0006u
#define EF_RISCV_RVE              0x0008u

/* p_type and p_flags (gABI 5, "Program Header"). */
#define PT_NULL        0
#define PT_LOAD        1
#define PT_INTERP      3
#define PT_PHDR        6
#define PT_GNU_STACK   0x6474e551u
#define PF_X           0x1u
#define PF_W           0x2u
#define PF_R           0x4u

/* Limits, all refused with -ENOEXEC beyond them. */
#define ELF_MAX_PHNUM     64          /* program headers (a static binary has 3..8) */
#define ELF_MAX_SEGMENTS  16          /* non-empty PT_LOAD segments */
#define ELF_SEGMENT_MAX   (512ULL << 20)  /* p_memsz of one segment */
#define ELF_IMAGE_MAX     (1ULL << 30)    /* all segments, page-rounded */

/* The file. read() copies exactly len bytes at byte offset off into buf
 * and returns 0, or a negative errno (-EIO) -- a short read is an error.
 * elf_validate asks only for ranges inside [0, size). */
struct elf_file {
	int (*read)(const struct elf_file *f, uint64_t off, void *buf, size_t len);
	void *ctx;          /* the reader's own: a buffer, an open file */
	uint64_t size;      /* the file's length in bytes */
};

/* One PT_LOAD segment, checked. Bytes [vaddr, vaddr + filesz) are the
 * file's [offset, offset + filesz); bytes up to vaddr + memsz are zero.
 * In pages: [start, file_end) hold file bytes (file_end == start when
 * filesz is 0), [file_end, end) are zero-filled (bss). */
struct elf_segment {
	uint64_t vaddr;      /* p_vaddr */
	uint64_t memsz;      /* p_memsz, > 0 */
	uint64_t offset;     /* p_offset */
	uint64_t filesz;     /* p_filesz, <= memsz */
	unsigned prot;       /* PROT_*: PF_R -> READ, PF_W -> READ|WRITE, PF_X -> EXEC */
	uint64_t start;      /* vaddr rounded down to a page */
	uint64_t file_end;   /* vaddr + filesz rounded up (start when filesz is 0) */
	uint64_t end;        /* vaddr + memsz rounded up */
};

/* What loading the file takes. */
struct elf_plan {
	uint64_t entry;      /* e_entry: inside an executable segment's file bytes */
	uint64_t phdr;       /* user VA of the program headers (AT_PHDR), 0 when no segment loads them */
	uint16_t phent;      /* e_phentsize (AT_PHENT) */
	uint16_t phnum;      /* e_phnum (AT_PHNUM) */
	unsigned nseg;       /* 1..ELF_MAX_SEGMENTS */
	struct elf_segment seg[ELF_MAX_SEGMENTS];  /* ascending, page-disjoint */
	uint64_t brk;        /* the last segment's end: where the heap starts */
	uint64_t image_bytes; /* sum of end - start over the segments */
	unsigned stack_prot; /* READ|WRITE, with EXEC when PT_GNU_STACK has PF_X */
};

/* Check the executable f and fill *plan. Checks, in this order, each
 * with its reason: the file holds a header ("file too short"); e_ident:
 * magic ("bad magic"), ELFCLASS64 ("not 64-bit"), ELFDATA2LSB ("not
 * little-endian"), EV_CURRENT there and in e_version ("bad ELF
 * version"); e_type: ET_DYN is "dynamic executable (static only)", any
 * other but ET_EXEC "not an executable file"; e_machine EM_RISCV ("wrong
 * machine"); e_flags: no RVE, no quad-float ABI ("unsupported ABI
 * flags"); e_ehsize ("bad header size"); e_phentsize ("bad program header
 * size"); e_phnum 1..ELF_MAX_PHNUM ("no program headers", "too many
 * program headers"); the table inside the file ("program headers outside
 * the file"). Per program header: PT_INTERP ("needs an interpreter (static
 * only)"); PT_GNU_STACK's PF_X sets stack_prot; PT_PHDR, PT_DYNAMIC,
 * PT_TLS, PT_NOTE and every other type are ignored, as Linux does.
 * Per PT_LOAD: p_filesz <= p_memsz ("file size above memory size");
 * p_offset + p_filesz inside the file, no wrap ("segment outside the
 * file"); p_align a power of two >= 4096 with p_vaddr % p_align ==
 * p_offset % p_align ("bad segment alignment"); an empty one (p_memsz 0)
 * is then ignored; p_memsz <= ELF_SEGMENT_MAX ("segment too large");
 * [p_vaddr, p_vaddr + p_memsz) without wrap inside [USER_VA_BASE,
 * USER_MMAP_TOP) ("segment outside user space"); ascending p_vaddr, as
 * the gABI requires ("segments out of order"); no page shared with the
 * segment before ("segments overlap"); at most ELF_MAX_SEGMENTS ("too
 * many segments"). Then: at least one ("no loadable segment"), the total
 * under ELF_IMAGE_MAX ("image too large"), e_entry aligned for an
 * instruction, 2 bytes with EF_RISCV_RVC, else 4 ("misaligned entry
 * point"), and inside the file bytes of a segment with PF_X ("entry point
 * outside the executable segments"). W+X segments are accepted, as Linux
 * does.
 * Returns 0 (*why = NULL); -ENOEXEC with *why set as above; the reader's
 * error (-EIO) with *why = "read error"; -EINVAL when an argument is NULL
 * or f->read is (*why = "bad arguments" when why is not NULL). On error
 * *plan is unspecified. */
int elf_validate(const struct elf_file *f, struct elf_plan *plan, const char **why);

/* Fill the page at user VA page_va (page-aligned, in [seg->start,
 * seg->end)) of segment seg of a plan elf_validate made from f: bytes in
 * [vaddr, vaddr + filesz) from the file, every other byte zero. page
 * holds USER_PAGE_SIZE bytes. Returns 0; -EINVAL when page_va is not a
 * page of seg; the reader's error (the page is then zeroed). */
int elf_fill_page(const struct elf_file *f, const struct elf_segment *seg,
		  uint64_t page_va, void *page);

/* An elf_file over bytes in memory: data[0..size). */
void elf_file_init_buffer(struct elf_file *f, const void *data, size_t size);

/* An elf_file over a file open on the FAT32 volume (src/proc/elf_fat.c):
 * reads go through fat_pread, its errors (-EIO, -ELOOP) passed on, a
 * file ending early -EIO; size is the file's. f must stay open while ef
 * is used (for text and data pages faulted in later too). */
struct fat_file;
void elf_file_init_fat(struct elf_file *ef, struct fat_file *f);

/* The areas of a plan's image, for vma_insert_all (proc/vma.h): per
 * segment, its file pages [start, file_end) as VMA_TEXT (when it has
 * PROT_EXEC) or VMA_DATA, then its zero-filled pages [file_end, end) as
 * VMA_BSS; each with the segment's prot and vm_private = the segment (so
 * the plan must outlive the areas). want has room for 2 * plan->nseg.
 * Returns the number filled. */
struct vma;
unsigned elf_plan_vmas(const struct elf_plan *plan, struct vma *want);

#endif
