/* test_elf.c - the ELF64 validator and load plan (src/proc/elf.c).
 *
 * A minimal good executable is built here byte by byte (two PT_LOADs
 * and a PT_GNU_STACK); each bad field is its own case: one or a few
 * patches to that image and the exact error and reason expected. A real
 * executable linked by the cross toolchain (tests/host/elf_fixture.c,
 * build/host/elf/rv64_static.elf) is validated whole and then cut short
 * at every length, each copy in a buffer of exactly that size so ASan
 * catches any read past it. Also: the plan's fields, the areas it
 * makes, elf_fill_page byte by byte, read errors; and the same
 * executable read from a FAT32 volume through elf_file_init_fat. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "kerrno.h"
#include "lib/le.h"
#include "proc/elf.h"
#include "proc/vma.h"
#include "fs/bcache.h"
#include "fs/fat32.h"
#include "mm/kmalloc.h"
#include "mm/mm_host.h"
#include "blkdev_host.h"

#define FIXTURE "build/host/elf/rv64_static.elf"
#define FAT_IMAGE "build/host/elf/fat.img"     /* FIXTURE as /bin/hello */

/* The minimal image: text RX at USER_VA_BASE (file 0..0x200, the
 * headers inside it), data RW a page above (file 0x1000..0x1010) with
 * 0x2ff0 bytes of bss after it, an RW PT_GNU_STACK. Entry 0x100 into the
 * text. */
#define IMG_SIZE   0x1010u
#define PH(i, off) (ELF64_EHDR_SIZE + (i) * ELF64_PHDR_SIZE + (off))
#define TEXT_VA    USER_VA_BASE
#define DATA_VA    (USER_VA_BASE + 0x1000)
#define ENTRY      (USER_VA_BASE + 0x100)

static uint8_t img[0x2000];
static size_t img_size;
static uint8_t arena[8u << 20] __attribute__((aligned(4096)));   /* for kmalloc */

static void put_phdr(unsigned i, uint32_t type, uint32_t flags, uint64_t off, uint64_t va,
		     uint64_t filesz, uint64_t memsz, uint64_t align)
{
	uint8_t *p = img + PH(i, 0);

	put_le32(p, type);
	put_le32(p + 4, flags);
	put_le64(p + 8, off);
	put_le64(p + 16, va);
	put_le64(p + 24, va);      /* p_paddr: not read */
	put_le64(p + 32, filesz);
	put_le64(p + 40, memsz);
	put_le64(p + 48, align);
}

static void make_image(void)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[EI_CLASS] = ELFCLASS64;
	img[EI_DATA] = ELFDATA2LSB;
	img[EI_VERSION] = EV_CURRENT;
	put_le16(img + 16, ET_EXEC);
	put_le16(img + 18, EM_RISCV);
	put_le32(img + 20, EV_CURRENT);
	put_le64(img + 24, ENTRY);
	put_le64(img + 32, ELF64_EHDR_SIZE);          /* e_phoff */
	put_le32(img + 48, EF_RISCV_RVC | 0x4);       /* RVC, double-float ABI */
	put_le16(img + 52, ELF64_EHDR_SIZE);
	put_le16(img + 54, ELF64_PHDR_SIZE);
	put_le16(img + 56, 3);
	put_phdr(0, PT_LOAD, PF_R | PF_X, 0, TEXT_VA, 0x200, 0x200, 0x1000);
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x1000, DATA_VA, 0x10, 0x3000, 0x1000);
	put_phdr(2, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0x10);
	for (unsigned i = 0x100; i < 0x200; i++)
		img[i] = (uint8_t)(i * 7);            /* "code" */
	for (unsigned i = 0; i < 0x10; i++)
		img[0x1000 + i] = (uint8_t)(0xd0 + i);
	img_size = IMG_SIZE;
}

static int validate(const uint8_t *data, size_t size, struct elf_plan *plan, const char **why)
{
	struct elf_file f;

	elf_file_init_buffer(&f, data, size);
	return elf_validate(&f, plan, why);
}

static void test_good_image(void)
{
	struct elf_plan p;
	const char *why = "unset";
	int err;

	make_image();
	err = validate(img, img_size, &p, &why);
	tap_ok(err == 0 && why == NULL, "the minimal executable is accepted (%d, %s)", err,
	       why ? why : "no reason");
	tap_ok(p.entry == ENTRY && p.nseg == 2 && p.phnum == 3 && p.phent == 56,
	       "entry 0x%llx, %u segments, %u program headers of %u bytes",
	       (unsigned long long)p.entry, p.nseg, p.phnum, p.phent);
	tap_ok(p.phdr == TEXT_VA + 64, "AT_PHDR is where the text segment loads e_phoff: 0x%llx",
	       (unsigned long long)p.phdr);
	tap_ok(p.seg[0].vaddr == TEXT_VA && p.seg[0].memsz == 0x200 && p.seg[0].offset == 0 &&
	       p.seg[0].filesz == 0x200 && p.seg[0].prot == (PROT_READ | PROT_EXEC) &&
	       p.seg[0].start == TEXT_VA && p.seg[0].file_end == TEXT_VA + 0x1000 &&
	       p.seg[0].end == TEXT_VA + 0x1000, "text segment: fields, R X, one page");
	tap_ok(p.seg[1].vaddr == DATA_VA && p.seg[1].memsz == 0x3000 && p.seg[1].offset == 0x1000 &&
	       p.seg[1].filesz == 0x10 && p.seg[1].prot == (PROT_READ | PROT_WRITE) &&
	       p.seg[1].start == DATA_VA && p.seg[1].file_end == DATA_VA + 0x1000 &&
	       p.seg[1].end == DATA_VA + 0x3000, "data segment: fields, R W, one file page, two bss");
	tap_ok(p.brk == DATA_VA + 0x3000 && p.image_bytes == 0x4000,
	       "brk after the last segment (0x%llx), image 16 KiB", (unsigned long long)p.brk);
	tap_ok(p.stack_prot == (PROT_READ | PROT_WRITE), "PT_GNU_STACK RW: stack not executable");
}

/* One patch to the image: width 1, 2, 4 or 8 bytes at off. */
struct patch {
	unsigned off, width;
	uint64_t value;
};

struct bad_case {
	const char *name;
	struct patch p[6];
	int err;
	const char *why;
};

#define P(o, w, v) { (o), (w), (v) }
#define END        { 0, 0, 0 }

static const struct bad_case bad_cases[] = {
	{ "bad magic", { P(1, 1, 'e'), END }, -ENOEXEC, "bad magic" },
	{ "ELFCLASS32", { P(EI_CLASS, 1, 1), END }, -ENOEXEC, "not 64-bit" },
	{ "big-endian", { P(EI_DATA, 1, 2), END }, -ENOEXEC, "not little-endian" },
	{ "EI_VERSION 0", { P(EI_VERSION, 1, 0), END }, -ENOEXEC, "bad ELF version" },
	{ "e_version 2", { P(20, 4, 2), END }, -ENOEXEC, "bad ELF version" },
	{ "ET_DYN", { P(16, 2, ET_DYN), END }, -ENOEXEC, "dynamic executable (static only)" },
	{ "ET_REL", { P(16, 2, ET_REL), END }, -ENOEXEC, "not an executable file" },
	{ "ET_CORE", { P(16, 2, 4), END }, -ENOEXEC, "not an executable file" },
	{ "EM_X86_64", { P(18, 2, 62), END }, -ENOEXEC, "wrong machine" },
	{ "RVE", { P(48, 4, EF_RISCV_RVE), END }, -ENOEXEC, "unsupported ABI flags" },
	{ "quad-float ABI", { P(48, 4, EF_RISCV_FLOAT_ABI_QUAD | EF_RISCV_RVC), END }, -ENOEXEC,
	  "unsupported ABI flags" },
	{ "e_ehsize 52", { P(52, 2, 52), END }, -ENOEXEC, "bad header size" },
	{ "e_phentsize 32", { P(54, 2, 32), END }, -ENOEXEC, "bad program header size" },
	{ "e_phnum 0", { P(56, 2, 0), END }, -ENOEXEC, "no program headers" },
	{ "e_phnum 65", { P(56, 2, ELF_MAX_PHNUM + 1), END }, -ENOEXEC, "too many program headers" },
	{ "e_phoff past the end", { P(32, 8, IMG_SIZE - 100), END }, -ENOEXEC,
	  "program headers outside the file" },
	{ "e_phoff wrapping", { P(32, 8, 0xfffffffffffffff0ull), END }, -ENOEXEC,
	  "program headers outside the file" },
	{ "PT_INTERP", { P(PH(2, 0), 4, PT_INTERP), END }, -ENOEXEC,
	  "needs an interpreter (static only)" },
	{ "p_filesz > p_memsz", { P(PH(0, 32), 8, 0x201), END }, -ENOEXEC,
	  "file size above memory size" },
	{ "p_offset + p_filesz past the end", { P(PH(1, 32), 8, 0x11), END }, -ENOEXEC,
	  "segment outside the file" },
	{ "p_offset past the end", { P(PH(1, 8), 8, 0x2000), END }, -ENOEXEC,
	  "segment outside the file" },
	{ "p_offset + p_filesz wrapping", { P(PH(1, 8), 8, 0xfffffffffffff000ull),
	  P(PH(1, 32), 8, 0x2000), END }, -ENOEXEC, "segment outside the file" },
	{ "p_align 0", { P(PH(0, 48), 8, 0), END }, -ENOEXEC, "bad segment alignment" },
	{ "p_align 16", { P(PH(0, 48), 8, 16), END }, -ENOEXEC, "bad segment alignment" },
	{ "p_align 0x1800", { P(PH(0, 48), 8, 0x1800), END }, -ENOEXEC, "bad segment alignment" },
	{ "p_vaddr % p_align != p_offset % p_align", { P(PH(1, 16), 8, DATA_VA + 8), END },
	  -ENOEXEC, "bad segment alignment" },
	{ "p_align 64 KiB, p_vaddr 0x2000 into it, p_offset 0x1000",
	  { P(PH(1, 48), 8, 0x10000), P(PH(1, 16), 8, TEXT_VA + 0x2000), END }, -ENOEXEC,
	  "bad segment alignment" },
	{ "p_vaddr 0", { P(PH(0, 16), 8, 0), END }, -ENOEXEC, "segment outside user space" },
	{ "linked at 0x10000 (ld's default): in the kernel's shared range",
	  { P(PH(0, 16), 8, 0x10000), P(PH(1, 16), 8, 0x11000), P(24, 8, 0x10100), END }, -ENOEXEC,
	  "segment outside user space" },
	{ "the last page below USER_VA_BASE", { P(PH(0, 16), 8, USER_VA_BASE - 0x1000), END },
	  -ENOEXEC,
	  "segment outside user space" },
	{ "p_vaddr + p_memsz wrapping", { P(PH(1, 16), 8, 0xfffffffffffff000ull), END }, -ENOEXEC,
	  "segment outside user space" },
	{ "p_vaddr in the kernel half", { P(PH(1, 16), 8, 0xffffffc080001000ull), END }, -ENOEXEC,
	  "segment outside user space" },
	{ "segment at USER_MMAP_TOP", { P(PH(1, 16), 8, USER_MMAP_TOP), END }, -ENOEXEC,
	  "segment outside user space" },
	{ "segment reaching into the stack gap", { P(PH(1, 16), 8, USER_MMAP_TOP - 0x2000), END },
	  -ENOEXEC, "segment outside user space" },
	{ "huge p_memsz", { P(PH(1, 40), 8, 1ull << 48), END }, -ENOEXEC, "segment too large" },
	{ "p_memsz just over ELF_SEGMENT_MAX", { P(PH(1, 40), 8, ELF_SEGMENT_MAX + 1), END },
	  -ENOEXEC, "segment too large" },
	{ "image over ELF_IMAGE_MAX", { P(PH(1, 40), 8, ELF_SEGMENT_MAX),
	  P(PH(2, 0), 4, PT_LOAD), P(PH(2, 16), 8, TEXT_VA + 0x40000000), P(PH(2, 40), 8, ELF_SEGMENT_MAX),
	  P(PH(2, 48), 8, 0x1000), END }, -ENOEXEC, "image too large" },
	{ "segments out of order", { P(PH(0, 16), 8, TEXT_VA + 0x20000), END }, -ENOEXEC,
	  "segments out of order" },
	{ "segments at one address", { P(PH(1, 16), 8, TEXT_VA), END }, -ENOEXEC,
	  "segments overlap" },
	{ "segments sharing a page", { P(PH(1, 8), 8, 0x400), P(PH(1, 16), 8, TEXT_VA + 0x400),
	  END }, -ENOEXEC, "segments overlap" },
	{ "no PT_LOAD", { P(PH(0, 0), 4, 4), P(PH(1, 0), 4, 4), END }, -ENOEXEC,
	  "no loadable segment" },
	{ "only empty PT_LOADs", { P(PH(0, 32), 8, 0), P(PH(0, 40), 8, 0), P(PH(1, 32), 8, 0),
	  P(PH(1, 40), 8, 0), END }, -ENOEXEC, "no loadable segment" },
	{ "entry in the data segment", { P(24, 8, DATA_VA), END }, -ENOEXEC,
	  "entry point outside the executable segments" },
	{ "entry past the text's file bytes", { P(24, 8, TEXT_VA + 0x200), END }, -ENOEXEC,
	  "entry point outside the executable segments" },
	{ "entry 0", { P(24, 8, 0), END }, -ENOEXEC, "entry point outside the executable segments" },
	{ "entry in a segment without PF_X", { P(PH(0, 4), 4, PF_R), END }, -ENOEXEC,
	  "entry point outside the executable segments" },
	{ "entry odd", { P(24, 8, ENTRY + 1), END }, -ENOEXEC, "misaligned entry point" },
	{ "entry 2 mod 4 without RVC", { P(24, 8, ENTRY + 2), P(48, 4, 0x4), END }, -ENOEXEC,
	  "misaligned entry point" },
};

static void apply(const struct patch *p)
{
	for (; p->width; p++) {
		switch (p->width) {
		case 1: img[p->off] = (uint8_t)p->value; break;
		case 2: put_le16(img + p->off, (uint16_t)p->value); break;
		case 4: put_le32(img + p->off, (uint32_t)p->value); break;
		default: put_le64(img + p->off, p->value); break;
		}
	}
}

static void test_bad_field(intptr_t i)
{
	const struct bad_case *c = &bad_cases[i];
	struct elf_plan p;
	const char *why = NULL;
	int err;

	make_image();
	apply(c->p);
	err = validate(img, img_size, &p, &why);
	tap_ok(err == c->err && why && !strcmp(why, c->why), "%s: %d (%s), expected %d (%s)",
	       c->name, err, why ? why : "no reason", c->err, c->why);
}

static void test_all_bad_fields(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		test_bad_field((intptr_t)i);
}

/* What the image accepts beyond the minimal one. */
static void test_accepted_variants(void)
{
	struct elf_plan p;
	const char *why;

	make_image();
	put_le32(img + PH(2, 4), PF_R | PF_W | PF_X);
	tap_ok(validate(img, img_size, &p, &why) == 0 &&
	       p.stack_prot == (PROT_READ | PROT_WRITE | PROT_EXEC),
	       "PT_GNU_STACK with PF_X: an executable stack");
	make_image();
	put_le32(img + PH(1, 4), PF_R | PF_W | PF_X);
	tap_ok(validate(img, img_size, &p, &why) == 0 &&
	       p.seg[1].prot == (PROT_READ | PROT_WRITE | PROT_EXEC), "a W+X segment is accepted");
	make_image();
	put_le32(img + PH(1, 4), PF_W);
	tap_ok(validate(img, img_size, &p, &why) == 0 &&
	       p.seg[1].prot == (PROT_READ | PROT_WRITE), "PF_W alone maps R W");
	make_image();
	put_phdr(2, PT_LOAD, PF_R, 0, TEXT_VA + 0x20000, 0, 0, 0x1000);
	tap_ok(validate(img, img_size, &p, &why) == 0 && p.nseg == 2,
	       "an empty PT_LOAD is ignored");
	make_image();
	put_le32(img + PH(2, 0), 0x70000003);          /* PT_RISCV_ATTRIBUTES */
	tap_ok(validate(img, img_size, &p, &why) == 0, "unknown program header types ignored");
	make_image();
	put_le64(img + PH(1, 16), DATA_VA + 0x130);
	put_le64(img + PH(1, 8), 0x130);
	put_le64(img + PH(1, 48), 0x1000);
	tap_ok(validate(img, img_size, &p, &why) == 0 && p.seg[1].start == DATA_VA &&
	       p.seg[1].end == DATA_VA + 0x4000, "an unaligned p_vaddr congruent to p_offset");
	make_image();
	put_le64(img + 24, TEXT_VA + 0x1fe);
	tap_ok(validate(img, img_size, &p, &why) == 0, "entry on the text's last halfword");
	make_image();
	put_le64(img + PH(1, 16), USER_MMAP_TOP - 0x3000);
	tap_ok(validate(img, img_size, &p, &why) == 0 && p.brk == USER_MMAP_TOP,
	       "a segment ending at USER_MMAP_TOP");
}

/* PT_LOADs enough to pass ELF_MAX_SEGMENTS. */
static void test_too_many_segments(void)
{
	struct elf_plan p;
	const char *why = NULL;
	unsigned n = ELF_MAX_SEGMENTS + 1;

	make_image();
	put_le16(img + 56, (uint16_t)n);
	put_le64(img + 32, 0x200);          /* the table after the "code" */
	for (unsigned i = 0; i < n; i++) {
		uint8_t *ph = img + 0x200 + i * ELF64_PHDR_SIZE;

		put_le32(ph, PT_LOAD);
		put_le32(ph + 4, PF_R | PF_X);
		put_le64(ph + 8, 0);
		put_le64(ph + 16, TEXT_VA + i * 0x1000);
		put_le64(ph + 32, 0x200);
		put_le64(ph + 40, 0x200);
		put_le64(ph + 48, 0x1000);
	}
	tap_ok(validate(img, img_size, &p, &why) == -ENOEXEC && why &&
	       !strcmp(why, "too many segments"), "%u PT_LOADs: too many segments", n);
	put_le16(img + 56, (uint16_t)(n - 1));
	tap_ok(validate(img, img_size, &p, &why) == 0 && p.nseg == ELF_MAX_SEGMENTS,
	       "%u PT_LOADs are taken", n - 1);
}

static void test_arguments(void)
{
	struct elf_file f = { 0 };
	struct elf_plan p;
	const char *why = NULL;

	make_image();
	tap_ok(elf_validate(NULL, &p, &why) == -EINVAL && why, "NULL file: -EINVAL");
	tap_ok(elf_validate(&f, &p, &why) == -EINVAL, "no read callback: -EINVAL");
	elf_file_init_buffer(&f, img, img_size);
	tap_ok(elf_validate(&f, NULL, &why) == -EINVAL, "NULL plan: -EINVAL");
	tap_ok(elf_validate(&f, &p, NULL) == 0, "why may be NULL");
	tap_ok(validate(img, 63, &p, &why) == -ENOEXEC && !strcmp(why, "file too short"),
	       "63 bytes: file too short");
	tap_ok(validate(img, 0, &p, &why) == -ENOEXEC && !strcmp(why, "file too short"),
	       "empty file: file too short");
}

/* A reader of img failing every read that reaches fail_from, with
 * fail_err. */
static uint64_t fail_from;
static int fail_err;

static int failing_read(const struct elf_file *f, uint64_t off, void *buf, size_t len)
{
	(void)f;
	if (off + len > fail_from)
		return fail_err;
	memcpy(buf, img + off, len);
	return 0;
}

static void test_read_errors(void)
{
	struct elf_file f = { .read = failing_read, .size = IMG_SIZE };
	struct elf_plan p;
	const char *why;
	uint8_t page[USER_PAGE_SIZE];

	make_image();
	fail_from = 0;
	fail_err = -EIO;
	tap_ok(elf_validate(&f, &p, &why) == -EIO && !strcmp(why, "read error"),
	       "header read fails: -EIO, read error");
	fail_from = PH(1, 0);
	tap_ok(elf_validate(&f, &p, &why) == -EIO && !strcmp(why, "read error"),
	       "second program header's read fails: -EIO");
	fail_from = PH(2, 0) + ELF64_PHDR_SIZE;
	fail_err = 1;
	tap_ok(elf_validate(&f, &p, &why) == 0, "reads of the headers only: validated");
	fail_from = 0x1000;
	tap_ok(elf_fill_page(&f, &p.seg[1], DATA_VA, page) == -EIO,
	       "a positive reader error becomes -EIO");
	fail_err = -ENOMEM;
	memset(page, 0xaa, sizeof(page));
	tap_ok(elf_fill_page(&f, &p.seg[1], DATA_VA, page) == -ENOMEM && page[0] == 0 &&
	       page[USER_PAGE_SIZE - 1] == 0, "fill_page passes the reader's error, page zeroed");
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_fill_page(void)
{
	struct elf_file f;
	struct elf_plan p;
	uint8_t page[USER_PAGE_SIZE];

	make_image();
	put_le64(img + PH(1, 8), 0xf30);
	put_le64(img + PH(1, 16), DATA_VA + 0xf30);
	put_le64(img + PH(1, 32), 0x100);
	img_size = 0x1100;
	for (unsigned i = 0; i < 0x100; i++)
		img[0xf30 + i] = (uint8_t)(0x40 + i);
	elf_file_init_buffer(&f, img, img_size);
	if (!tap_ok(elf_validate(&f, &p, NULL) == 0, "data at p_vaddr 0x11f30, 0x100 file bytes "
		    "across a page boundary"))
		return;
	memset(page, 0xaa, sizeof(page));
	tap_ok(elf_fill_page(&f, &p.seg[0], TEXT_VA, page) == 0 && !memcmp(page, img, 0x200) &&
	       all_zero(page + 0x200, USER_PAGE_SIZE - 0x200), "text page: file bytes, then zeros");
	memset(page, 0xaa, sizeof(page));
	tap_ok(elf_fill_page(&f, &p.seg[1], DATA_VA, page) == 0 && all_zero(page, 0xf30) &&
	       !memcmp(page + 0xf30, img + 0xf30, 0xd0), "first data page: zeros below p_vaddr, "
	       "then the file's first 0xd0 bytes");
	memset(page, 0xaa, sizeof(page));
	tap_ok(elf_fill_page(&f, &p.seg[1], DATA_VA + 0x1000, page) == 0 &&
	       !memcmp(page, img + 0x1000, 0x30) && all_zero(page + 0x30, USER_PAGE_SIZE - 0x30),
	       "second data page: the last 0x30 file bytes, then bss zeros");
	memset(page, 0xaa, sizeof(page));
	tap_ok(elf_fill_page(&f, &p.seg[1], p.seg[1].end - USER_PAGE_SIZE, page) == 0 &&
	       all_zero(page, USER_PAGE_SIZE), "last bss page: zeros");
	tap_ok(elf_fill_page(&f, &p.seg[1], p.seg[1].end, page) == -EINVAL &&
	       elf_fill_page(&f, &p.seg[1], DATA_VA - USER_PAGE_SIZE, page) == -EINVAL &&
	       elf_fill_page(&f, &p.seg[1], DATA_VA + 8, page) == -EINVAL,
	       "pages outside the segment, or unaligned: -EINVAL");
}

static void test_plan_vmas(void)
{
	struct elf_plan p;
	struct vma want[2 * ELF_MAX_SEGMENTS];
	struct vma_set s;
	unsigned n;

	make_image();
	if (!tap_ok(validate(img, img_size, &p, NULL) == 0, "minimal image") ||
	    !tap_ok(mm_host_init(arena, sizeof(arena)) == 0, "mm_host_init: the areas from kmalloc"))
		return;
	n = elf_plan_vmas(&p, want);
	tap_ok(n == 3, "three areas: text, data, bss (%u)", n);
	tap_ok(want[0].vm_start == TEXT_VA && want[0].vm_end == TEXT_VA + 0x1000 &&
	       want[0].vm_kind == VMA_TEXT && want[0].vm_prot == (PROT_READ | PROT_EXEC) &&
	       want[0].vm_private == &p.seg[0], "text area");
	tap_ok(want[1].vm_start == DATA_VA && want[1].vm_end == DATA_VA + 0x1000 &&
	       want[1].vm_kind == VMA_DATA && want[1].vm_private == &p.seg[1], "data area");
	tap_ok(want[2].vm_start == DATA_VA + 0x1000 && want[2].vm_end == DATA_VA + 0x3000 &&
	       want[2].vm_kind == VMA_BSS && want[2].vm_prot == (PROT_READ | PROT_WRITE),
	       "bss area");
	vma_set_init(&s, NULL);
	tap_ok(vma_insert_all(&s, want, n) == 0 && s.count == 3 && s.bytes == 0x4000 &&
	       vma_check(&s, NULL) == 0, "they go into a set as three areas, unmerged");
	vma_set_destroy(&s, NULL, NULL);
	tap_ok(kmalloc_bytes_in_use() == 0, "vma_set_destroy frees them all");
}

/* The reason a file cut to len bytes must get, from the real file's own
 * headers read here independently: the header, then the program header
 * table, then the PT_LOADs' file bytes. NULL: accepted. */
static const char *expected_cut(const uint8_t *elf, size_t len)
{
	uint64_t phoff = le64(elf + 32), need = 0;
	unsigned phnum = le16(elf + 56);

	if (len < 64)
		return "file too short";
	if (len < phoff + phnum * 56ull)
		return "program headers outside the file";
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = elf + phoff + i * 56;

		if (le32(ph) == PT_LOAD && le64(ph + 8) + le64(ph + 32) > need)
			need = le64(ph + 8) + le64(ph + 32);
	}
	return len < need ? "segment outside the file" : NULL;
}

static void test_real_executable(void)
{
	size_t size = 0, bad = 0, accepted = 0;
	uint8_t *elf = (uint8_t *)tap_read_file(FIXTURE, &size);
	struct elf_plan p;
	const char *why;
	int err;

	if (!tap_ok(elf != NULL, "read %s (made by make from tests/host/elf_fixture.c)", FIXTURE))
		return;
	err = validate(elf, size, &p, &why);
	tap_ok(err == 0, "the cross-compiled executable is accepted (%d, %s)", err,
	       why ? why : "no reason");
	tap_ok(p.entry == le64(elf + 24) && p.nseg == 2 && (p.seg[0].prot & PROT_EXEC) &&
	       (p.seg[1].prot & PROT_WRITE) && p.seg[1].memsz > p.seg[1].filesz &&
	       p.phdr == USER_VA_BASE + 0x40,
	       "its plan: entry from e_entry, text and data+bss, AT_PHDR 0x%llx",
	       (unsigned long long)p.phdr);
	for (size_t len = 0; len < size; len++) {
		uint8_t *cut = malloc(len ? len : 1);
		const char *want = expected_cut(elf, len);

		memcpy(cut, elf, len);
		why = NULL;
		err = validate(cut, len, &p, &why);
		if (want ? err != -ENOEXEC || !why || strcmp(why, want) : err != 0) {
			if (bad++ < 5)
				tap_diag("cut at %zu: %d (%s), expected %s", len, err,
					 why ? why : "no reason", want ? want : "accepted");
		}
		accepted += err == 0;
		free(cut);
	}
	tap_ok(bad == 0, "cut at every length 0..%zu: the expected refusal, or accepted once the "
	       "segments' bytes are all there (%zu accepted, %zu wrong)", size - 1, accepted, bad);
	free(elf);
}

/* Every page of every segment through f and through g: the same bytes. */
static int same_pages(const struct elf_file *f, const struct elf_file *g,
		      const struct elf_plan *p)
{
	static uint8_t a[USER_PAGE_SIZE], b[USER_PAGE_SIZE];

	for (unsigned i = 0; i < p->nseg; i++) {
		for (uint64_t va = p->seg[i].start; va < p->seg[i].end; va += USER_PAGE_SIZE) {
			if (elf_fill_page(f, &p->seg[i], va, a) || elf_fill_page(g, &p->seg[i], va, b) ||
			    memcmp(a, b, sizeof(a)))
				return 0;
		}
	}
	return 1;
}

static void test_fat_reader(void)
{
	size_t size = 0;
	uint8_t *elf = (uint8_t *)tap_read_file(FIXTURE, &size);
	struct elf_file ef, eb;
	struct elf_plan p, pb;
	struct fat_file file;
	struct fat_fs *fs = NULL;
	struct hdev h;
	const char *why = NULL;
	uint64_t base;

	if (!tap_ok(elf && mm_host_init(arena, sizeof(arena)) == 0 &&
		    hdev_open(&h, FAT_IMAGE, 512) == 0, "%s and %s (made by make)", FIXTURE, FAT_IMAGE))
		return;
	base = kmalloc_bytes_in_use();
	tap_ok(fat_mount(&h.dev, &fs, NULL, 0) == 0 && fat_open(fs, "/bin/hello", &file) == 0,
	       "mount, open /bin/hello");
	elf_file_init_fat(&ef, &file);
	elf_file_init_buffer(&eb, elf, size);
	tap_ok(ef.size == size && elf_validate(&ef, &p, &why) == 0 &&
	       elf_validate(&eb, &pb, NULL) == 0 && !memcmp(&p, &pb, sizeof(p)),
	       "validated through the FAT32 reader: the same plan as from memory");
	tap_ok(same_pages(&ef, &eb, &p), "every page of every segment: the same bytes");
	bcache_invalidate(fat_bcache(fs));   /* nothing cached: reads reach the disk */
	h.fail_at = h.requests + 1;
	h.fail_every = 1;
	tap_ok(elf_validate(&ef, &p, &why) == -EIO && !strcmp(why, "read error"),
	       "the disk failing (block cache invalidated): -EIO, read error");
	fat_close(&file);
	fat_unmount(fs);
	hdev_close(&h);
	tap_ok(kmalloc_bytes_in_use() == base, "unmounted: kmalloc's bytes back where they were");
	free(elf);
}

/* Every program of /bin, as tally-cc links them (user/user.ld): accepted,
 * text R X at USER_VA_BASE, read-only data R, data R W with its bss, the
 * entry in the text. user.ld loads no program headers (the text starts at
 * file offset 4096), so AT_PHDR is 0 for them. */
static void test_user_programs(void)
{
	static const char *const progs[] = { "hello", "mstress", "demandpage", "brkgrow",
					     "mmaptest", "badptr", "segv", "oomhog", "spawner" };
	char path[64];
	unsigned good = 0;

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		size_t size = 0;
		uint8_t *elf;
		struct elf_plan p;
		const char *why = NULL;
		int err;

		snprintf(path, sizeof(path), "build/user/bin/%s", progs[i]);
		elf = (uint8_t *)tap_read_file(path, &size);
		err = elf ? validate(elf, size, &p, &why) : -ENOENT;
		if (!err && p.nseg == 3 && p.seg[0].vaddr == USER_VA_BASE &&
		    p.seg[0].prot == (PROT_READ | PROT_EXEC) && p.seg[1].prot == PROT_READ &&
		    p.seg[2].prot == (PROT_READ | PROT_WRITE) && p.entry < p.seg[0].vaddr +
		    p.seg[0].filesz && p.phdr == 0)
			good++;
		else
			tap_diag("%s: %d (%s), %u segments", path, err, why ? why : "no reason",
				 err ? 0 : p.nseg);
		free(elf);
	}
	tap_ok(good == sizeof(progs) / sizeof(progs[0]), "%u of %zu programs of build/user/bin "
	       "accepted, laid out as user.ld says", good, sizeof(progs) / sizeof(progs[0]));
}

static const struct tap_case cases[] = {
	TAP_CASE(test_good_image),
	TAP_CASE(test_all_bad_fields),
	TAP_CASE(test_accepted_variants),
	TAP_CASE(test_too_many_segments),
	TAP_CASE(test_arguments),
	TAP_CASE(test_read_errors),
	TAP_CASE(test_fill_page),
	TAP_CASE(test_plan_vmas),
	TAP_CASE(test_real_executable),
	TAP_CASE(test_fat_reader),
	TAP_CASE(test_user_programs),
};

int main(void)
{
	return tap_main(TAP_CASES(cases), NULL, NULL);
}
