/* selftest_oom.c - the `oom` KTAP suite: making a process when memory
 * runs out at each of its allocations in turn. Fault injection fails the
 * nth allocation from the call on (page, slab and heap requests alike;
 * with it on every request takes the slow path, so each one is seen), n
 * = 1, 2, ... until a run meets no injected failure: every allocation
 * making a process does has failed once by then. Each failed run must
 * return -ENOMEM (nothing blamed on the file: no `why`), each run that
 * was made must end as its program does, and after every run free
 * pages and kmalloc's bytes in use are what they were and the mm's
 * integrity check is clean. Under each kmalloc mode. */
#include "kernel/ktest.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "kernel/proc.h"
#include "fs/fat32.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/kmalloc.h"
#include "mm/stats.h"
#include "kerrno.h"

extern const char user_hello[], user_hello_end[];   /* selftest_user.S: exit(7) */

#define NTH_MAX 400   /* far above what making a process takes */

/* The nth allocation from here on fails, once. */
static void fail_nth(unsigned long n)
{
	struct faultinj_config fi = { .probability = 100, .interval = n, .times = 1,
				      .scope = FI_ALL };

	faultinj_set(&fi);
}

static unsigned long injected(void)
{
	struct faultinj_stats st;

	faultinj_get(NULL, &st);
	return st.injected[0] + st.injected[1] + st.injected[2];
}

/* One way of making a process: its pid (> 0) or -errno, *why from the
 * ELF validator. */
typedef int (*make_fn)(const char **why);

static int make_image(const char **why)
{
	*why = NULL;
	return proc_start_image("hello", user_hello, (size_t)(user_hello_end - user_hello), 0);
}

static int make_spawn(const char **why)
{
	static const char *const argv[] = { "/bin/hello", "oom" };

	return proc_spawn(disk_fs(NULL), "/bin/hello", argv, 2, NULL, 0, NULL, false, why);
}

/* The nth-allocation loop for make under the current mode; want: the
 * program's exit status. Returns the allocations counted (the last n). */
static unsigned long each_allocation(struct ktest *t, make_fn make, int want)
{
	unsigned long n, enomem = 0, made = 0;
	bool clean = true, errors_ok = true;
	const char *why;
	int pid = make(&why), status;

	/* once whole first: what the file system keeps for a path it walked
	 * (its walk stacks, held_bytes, and the block cache's blocks: a
	 * shrinker's, which kmalloc_shrink leaves) is there before the loop */
	KT_EXPECT(t, pid > 0 && proc_wait_kernel(pid, &status, 0) == 0 && status == want);
	for (n = 1; n <= NTH_MAX; n++) {
		unsigned long pages, hit;
		uint64_t bytes;

		why = NULL;
		status = -1;

		kmalloc_shrink();
		pages = buddy_free_pages();
		bytes = kmalloc_bytes_in_use();
		fail_nth(n);
		pid = make(&why);
		hit = injected();
		faultinj_off();
		if (pid > 0) {
			made++;
			/* an injected failure its own page faults met kills it */
			if (proc_wait_kernel(pid, &status, 0) != 0 ||
			    (status != want && !(hit && status == PROC_EXIT_SIGKILL)))
				errors_ok = false;
		} else {
			enomem++;
			if (pid != -ENOMEM || why) {
				kprintf("    # allocation %lu: %d (%s)\n", n, pid, why ? why : "-");
				errors_ok = false;
			}
		}
		kmalloc_shrink();
		if (buddy_free_pages() != pages || kmalloc_bytes_in_use() != bytes || mm_check()) {
			kprintf("    # allocation %lu failing: free pages %lu -> %lu, bytes %lu -> %lu\n",
				n, pages, buddy_free_pages(), (unsigned long)bytes,
				(unsigned long)kmalloc_bytes_in_use());
			clean = false;
		}
		if (!hit)
			break;   /* every allocation it makes went through */
	}
	KT_EXPECT(t, n <= NTH_MAX);
	KT_EXPECT(t, errors_ok);
	KT_EXPECT(t, clean);
	KT_EXPECT(t, enomem > 0 && made > 0);
	return n - 1;
}

static void under_each_mode(struct ktest *t, const char *what, make_fn make, int want)
{
	static const enum mm_mode modes[] = { MM_MODE_SIMPLE, MM_MODE_TWOTIER, MM_MODE_HYBRID };
	static const char *const names[] = { "simple", "twotier", "hybrid" };
	enum mm_mode was = mm_get_mode();

	for (unsigned i = 0; i < 3; i++) {
		KT_EXPECT(t, mm_set_mode(modes[i]) == 0);
		kprintf("    # %s, %s: %lu allocations, each failed in turn\n", what, names[i],
			each_allocation(t, make, want));
	}
	mm_set_mode(was);
}

/* proc_start_image: the struct, kernel stack, tables, areas, text page. */
static void test_image(struct ktest *t)
{
	under_each_mode(t, "image", make_image, 7);
}

/* proc_spawn of /bin/hello from the volume: also the file's blocks, the
 * ELF plan, its segments' pages and the initial stack. */
static void test_spawn(struct ktest *t)
{
	struct fat_dirent st;

	if (!disk_fs(NULL) || fat_stat(disk_fs(NULL), "/bin/hello", &st)) {
		KT_SKIP(t, "no /bin/hello on a mounted volume");
		return;
	}
	under_each_mode(t, "spawn", make_spawn, 0);
}

static const struct ktest_case oom_cases[] = {
	{ "image_each_allocation_failing", test_image },
	{ "spawn_each_allocation_failing", test_spawn },
};
KTEST_SUITE(oom_suite, "oom", oom_cases);
