/* selftest_elf.c - the `elf` KTAP suite: the portable process pieces of
 * src/proc on the target, where the host tests cannot reach. Every
 * program of /bin is read from the mounted FAT32 volume through the
 * virtio disk (elf_file_init_fat), validated and every page of it filled;
 * a text file is refused; a VMA set on the kernel's kmalloc splits,
 * merges and, under fault injection, refuses with nothing changed and
 * nothing leaked; an initial stack is built and read back. */
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/disk.h"
#include "lib/le.h"
#include "mm/faultinj.h"
#include "mm/kmalloc.h"
#include "proc/elf.h"
#include "proc/ustack.h"
#include "proc/vma.h"
#include "kerrno.h"

static const char *const bin_programs[] = { "hello", "mstress", "demandpage", "brkgrow",
					    "mmaptest", "badptr", "segv", "oomhog", "spawner" };

/* Validate the file at path and fill every page of it into page.
 * Returns elf_validate's or elf_fill_page's error; *plan, *why as theirs. */
static int load_file(struct fat_fs *fs, const char *path, struct elf_plan *plan,
		     const char **why, void *page)
{
	struct fat_file f;
	struct elf_file ef;
	int err = fat_open(fs, path, &f);

	if (err)
		return err;
	elf_file_init_fat(&ef, &f);
	err = elf_validate(&ef, plan, why);
	for (unsigned i = 0; !err && i < plan->nseg; i++) {
		const struct elf_segment *s = &plan->seg[i];

		for (uint64_t va = s->start; !err && va < s->end; va += USER_PAGE_SIZE)
			err = elf_fill_page(&ef, s, va, page);
	}
	fat_close(&f);
	return err;
}

static void test_bin_programs(struct ktest *t)
{
	struct fat_fs *fs = disk_fs(NULL);
	struct fat_dirent st;
	struct elf_plan plan;
	const char *why;
	char path[32];
	void *page;

	if (!fs || fat_stat(fs, "/bin/hello", &st)) {
		KT_SKIP(t, "no /bin/hello on a mounted volume");
		return;
	}
	page = kmalloc(USER_PAGE_SIZE, GFP_KERNEL);
	KT_EXPECT(t, page != NULL);
	for (unsigned i = 0; page && i < sizeof(bin_programs) / sizeof(bin_programs[0]); i++) {
		memcpy(path, "/bin/", 5);
		memcpy(path + 5, bin_programs[i], strlen(bin_programs[i]) + 1);
		why = NULL;
		KT_EXPECT(t, load_file(fs, path, &plan, &why, page) == 0);
		KT_EXPECT(t, plan.nseg == 3 && plan.seg[0].vaddr == USER_VA_BASE &&
			  (plan.seg[0].prot & PROT_EXEC) && plan.brk > plan.seg[2].vaddr);
	}
	kfree(page);
}

static void test_text_refused(struct ktest *t)
{
	struct fat_fs *fs = disk_fs(NULL);
	struct fat_dirent st;
	struct elf_plan plan;
	const char *why = NULL;
	void *page;

	if (!fs || fat_stat(fs, "/README.txt", &st) || st.size < ELF64_EHDR_SIZE) {
		KT_SKIP(t, "no /README.txt of 64 bytes or more on a mounted volume");
		return;
	}
	page = kmalloc(USER_PAGE_SIZE, GFP_KERNEL);
	KT_EXPECT(t, page && load_file(fs, "/README.txt", &plan, &why, page) == -ENOEXEC);
	KT_EXPECT(t, why && strcmp(why, "bad magic") == 0);
	kfree(page);
}

static struct vma anon(uint64_t start, uint64_t pages, unsigned prot)
{
	return (struct vma){ .vm_start = start, .vm_end = start + pages * USER_PAGE_SIZE,
			     .vm_prot = prot, .vm_kind = VMA_ANON };
}

static void test_vma_kmalloc(struct ktest *t)
{
	struct faultinj_config fi = { .probability = 100, .times = -1, .scope = FI_ALL };
	uint64_t before = kmalloc_bytes_in_use(), base = USER_VA_BASE + (1ull << 20);
	struct vma a = anon(base, 8, PROT_READ | PROT_WRITE);
	struct vma_set s;

	vma_set_init(&s, NULL);
	KT_EXPECT(t, vma_insert(&s, &a) == 0 && s.count == 1);
	KT_EXPECT(t, vma_protect(&s, base + USER_PAGE_SIZE, 2 * USER_PAGE_SIZE, PROT_READ,
				 NULL, NULL) == 0 && s.count == 3);
	faultinj_set(&fi);
	KT_EXPECT(t, vma_unmap(&s, base + 6 * USER_PAGE_SIZE, USER_PAGE_SIZE, NULL, NULL) ==
		  -ENOMEM && s.count == 3 && vma_check(&s, NULL) == 0);
	KT_EXPECT(t, vma_protect(&s, base, 8 * USER_PAGE_SIZE, PROT_READ | PROT_WRITE, NULL,
				 NULL) == 0 && s.count == 1);
	faultinj_off();
	KT_EXPECT(t, vma_find(&s, base + 7 * USER_PAGE_SIZE) && vma_check(&s, NULL) == 0);
	vma_set_destroy(&s, NULL, NULL);
	KT_EXPECT(t, kmalloc_bytes_in_use() == before);
}

static void test_ustack(struct ktest *t)
{
	static const char *const argv[] = { "/bin/hello", "a b" };
	struct ustack_args a = { .argv = argv, .argc = 2, .phnum = 3, .phent = 56,
				 .entry = USER_VA_BASE };
	struct ustack_layout l;
	uint8_t *page = kmalloc(USER_PAGE_SIZE, GFP_KERNEL);
	uint64_t base = USER_STACK_TOP - USER_PAGE_SIZE;

	KT_EXPECT(t, page && ustack_build(page, USER_PAGE_SIZE, USER_STACK_TOP, &a, &l) == 0);
	if (page) {
		KT_EXPECT(t, l.sp % 16 == 0 && le64(page + (l.sp - base)) == 2);
		KT_EXPECT(t, strcmp((char *)page + (le64(page + (l.argv + 8 - base)) - base),
				    "a b") == 0);
	}
	kfree(page);
}

static const struct ktest_case elf_cases[] = {
	{ "bin_programs_validate_and_fill", test_bin_programs },
	{ "text_file_refused", test_text_refused },
	{ "vma_set_on_kmalloc", test_vma_kmalloc },
	{ "initial_stack", test_ustack },
};
KTEST_SUITE(elf_suite, "elf", elf_cases);
