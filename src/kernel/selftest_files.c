/* selftest_files.c - the `files` KTAP suite: the fd table (kernel/fdtable.h)
 * on its own, and a U-mode program (selftest_user_files.S) that opens,
 * reads and fstats a file on the volume, with every kmalloc and page
 * allocation failing in turn: each run ends with 0 or -ENOMEM's 12 from
 * openat (or is not started, or is killed out of memory), and whatever
 * happened, every page and kmalloc byte comes back. Needs the disk. */
#include "kernel/ktest.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "kernel/fdtable.h"
#include "kernel/proc.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/kmalloc.h"
#include "mm/stats.h"
#include "kerrno.h"

extern const char user_open_read[], user_open_read_end[];

static void test_table(struct ktest *t)
{
	uint64_t before = kmalloc_bytes_in_use();
	struct fdtable ft;
	struct file *f[FD_MAX];
	int n = 0, fd;

	fdtable_init(&ft, false);
	KT_EXPECT(t, fdtable_get(&ft, 0) && fdtable_get(&ft, 1) && fdtable_get(&ft, 2));
	KT_EXPECT(t, !fdtable_get(&ft, 3) && !fdtable_get(&ft, -1) && !fdtable_get(&ft, FD_MAX));
	KT_EXPECT(t, fdtable_set_root(&ft, NULL, "/docs") == 0);
	while ((fd = fdtable_free_slot(&ft)) >= 0) {
		f[n] = kzalloc(sizeof(struct file), GFP_KERNEL);
		if (!f[n])
			break;
		f[n]->kind = FILE_REG;
		fdtable_install(&ft, fd, f[n++]);
	}
	KT_EXPECT(t, fd == -EMFILE && n == FD_MAX - 3);
	KT_EXPECT(t, fdtable_close(&ft, 1) == 0 && fdtable_close(&ft, 1) == -EBADF);
	KT_EXPECT(t, fdtable_free_slot(&ft) == 1);
	KT_EXPECT(t, fdtable_close(&ft, 7) == 0 && fdtable_free_slot(&ft) == 1);
	fdtable_destroy(&ft);   /* the 28 files still open and the cwd */
	KT_EXPECT(t, kmalloc_bytes_in_use() == before);
	fdtable_destroy(&ft);   /* twice is harmless */
	KT_EXPECT(t, kmalloc_bytes_in_use() == before);
}

static void run_once(uint64_t arg, int *rc, int *status)
{
	*status = -1;
	*rc = proc_run("open-read", user_open_read,
		       (size_t)(user_open_read_end - user_open_read), arg, status);
}

static void test_open_read(struct ktest *t)
{
	int rc, status;

	if (!disk_fs(NULL)) {
		KT_SKIP(t, "no volume");
		return;
	}
	for (uint64_t leave_open = 0; leave_open < 2; leave_open++) {
		uint64_t bytes;
		unsigned long pages;

		run_once(leave_open, &rc, &status);   /* the caches warm */
		kmalloc_shrink();
		pages = buddy_free_pages();
		bytes = kmalloc_bytes_in_use();
		run_once(leave_open, &rc, &status);
		KT_EXPECT(t, rc == 0 && status == 0);
		kmalloc_shrink();
		KT_EXPECT(t, buddy_free_pages() == pages && kmalloc_bytes_in_use() == bytes);
	}
}

/* The nth allocation from here on fails, once. */
static void fail_nth(unsigned long n)
{
	struct faultinj_config fi = { .probability = 100, .interval = n, .times = 1,
				      .scope = FI_ALL };

	faultinj_set(&fi);
}

static void test_open_read_oom(struct ktest *t)
{
	int rc, status, enomem = 0, efault = 0, ok = 0, mode;
	unsigned long n;

	if (!disk_fs(NULL)) {
		KT_SKIP(t, "no volume");
		return;
	}
	/* SimpleHeap: every kmalloc is a heap allocation that fault
	 * injection sees (no magazine in front) */
	mode = mm_get_mode();
	mm_set_mode(MM_MODE_SIMPLE);
	run_once(1, &rc, &status);
	for (n = 1; n <= 80; n++) {
		unsigned long pages;
		uint64_t bytes;

		kmalloc_shrink();
		pages = buddy_free_pages();
		bytes = kmalloc_bytes_in_use();
		fail_nth(n);
		run_once(n & 1, &rc, &status);
		faultinj_off();
		/* a user page the kernel cannot fault in is -EFAULT, as Linux's
		 * fixup makes it (copy_to_user) */
		KT_EXPECT(t, (rc == 0 && (status == 0 || status == ENOMEM || status == EFAULT ||
					  status == PROC_EXIT_SIGKILL)) || rc == -ENOMEM);
		enomem += rc == 0 && status == ENOMEM;
		efault += rc == 0 && status == EFAULT;
		ok += rc == 0 && status == 0;
		kmalloc_shrink();
		KT_EXPECT(t, buddy_free_pages() == pages && kmalloc_bytes_in_use() == bytes);
		KT_EXPECT(t, mm_check() == 0);
	}
	mm_set_mode(mode);
	kprintf("    # open_read_oom: %lu runs: %d whole, %d -ENOMEM, %d -EFAULT\n", n - 1, ok,
		enomem, efault);
	KT_EXPECT(t, enomem > 0 && ok > 0 && status == 0);
}

static const struct ktest_case files_cases[] = {
	{ "fd_table_slots_and_close", test_table },
	{ "open_read_fstat_gives_everything_back", test_open_read },
	{ "each_allocation_failing_leaves_nothing", test_open_read_oom },
};
KTEST_SUITE(files_suite, "files", files_cases);
