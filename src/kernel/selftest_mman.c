/* selftest_mman.c - the `mman` KTAP suite: mmap, munmap, mprotect and
 * madvise (kernel/mman.h) driven from U-mode by the scripted programs of
 * src/arch/riscv/selftest_mman_user.S, each run in a process of its own
 * (proc_run). A script exits 0 when every row got what Linux would give,
 * the number of the first row that did not otherwise, or 139 when its
 * last access is one that must fault. After each, every page the process
 * took is back (free pages as before) and the mm's integrity check is
 * clean. */
#include "kernel/ktest.h"
#include "kernel/console.h"
#include "kernel/proc.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/kmalloc.h"
#include "mm/stats.h"
#include "kerrno.h"
#include "arch/riscv.h"
#include "kernel/platform.h"
#include "kernel/memory.h"
#include "mm/vm.h"

#define USER_PROG(n) extern const char user_##n[], user_##n##_end[]
USER_PROG(mman_errors);
USER_PROG(mman_split);
USER_PROG(mman_populate_oom);
USER_PROG(mman_noreserve);
USER_PROG(mman_none);
USER_PROG(mman_none_populated);
USER_PROG(mman_readonly);
USER_PROG(mman_unmapped);
USER_PROG(mman_noexec);
USER_PROG(mman_madvise);
USER_PROG(mman_madvise_rss);
USER_PROG(mman_commit_pieces);

#define RUN(t, n, arg, want) run_script(t, #n, user_##n, user_##n##_end, arg, want)

static void run_script(struct ktest *t, const char *name, const char *start, const char *end,
		       uint64_t arg, int want)
{
	unsigned long before;
	int status = -1, rc;

	kmalloc_shrink();
	before = buddy_free_pages();
	rc = proc_run(name, start, (size_t)(end - start), arg, &status);
	KT_EXPECT(t, rc == 0);
	if (status != want)
		kprintf("    # %s: exit status %d, want %d (a small number is the failing row)\n",
			name, status, want);
	KT_EXPECT(t, status == want);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
	KT_EXPECT(t, mm_check() == 0);
}

static void test_errors(struct ktest *t)
{
	RUN(t, mman_errors, 0, 0);
}

static void test_split(struct ktest *t)
{
	RUN(t, mman_split, 0, 0);
}

/* More bytes than the allocator can hand out (the zones keep their min
 * watermark back), yet no more pages than are free: the strict-commit
 * check lets it through and populating runs out halfway. Memory is held
 * down to about 16 MiB first, so the run takes as long with -m 3G as
 * with 128M. */
static void test_populate_oom(struct ktest *t)
{
	struct list_head held;
	unsigned long pages;
	struct page *pg;

	list_init(&held);
	while (buddy_free_pages() > 4096 + (1ul << MAX_ORDER) &&
	       (pg = alloc_pages(0, MAX_ORDER)) != NULL)
		list_add(&pg->lru, &held);
	kmalloc_shrink();
	pages = buddy_free_pages() - 64;
	kprintf("    # populate_oom: %lu pages free, populating %lu\n", buddy_free_pages(), pages);
	RUN(t, mman_populate_oom, (uint64_t)pages * PAGE_SIZE, 0);
	while (!list_empty(&held)) {
		pg = list_first_entry(&held, struct page, lru);
		list_del(&pg->lru);
		free_pages(pg, MAX_ORDER);
	}
}

/* MAP_NORESERVE: 16 GiB writable refused unless not committed; made
 * writable by mprotect without a commit; read-only 16 GiB made writable
 * refused. Untouched, those areas cost their tables only when they go
 * (vm_next_mapped), not 4 Mi pages looked at one by one. */
static void test_noreserve(struct ktest *t)
{
	RUN(t, mman_noreserve, 0, 0);
}

static void test_faults(struct ktest *t)
{
	RUN(t, mman_none, 0, PROC_EXIT_SIGSEGV);
	RUN(t, mman_none_populated, 0, PROC_EXIT_SIGSEGV);
	RUN(t, mman_readonly, 0, PROC_EXIT_SIGSEGV);
	RUN(t, mman_unmapped, 0, PROC_EXIT_SIGSEGV);
	RUN(t, mman_noexec, 0, PROC_EXIT_SIGSEGV);
}

/* The split script under fault injection (every allocator, 4% of
 * requests, seeds 1..32): a call may fail with -ENOMEM (the script then
 * exits with that row), the process may not even be made (-ENOMEM); a
 * fault that finds no frame only because of injection is retried, so
 * none is killed (137) -- memory never really runs out here; whatever
 * happens, every page is back and the integrity check is clean. */
static void test_fault_injection(struct ktest *t)
{
	struct faultinj_config fi = { .probability = 4, .times = -1, .scope = FI_ALL };
	unsigned outcomes[4] = { 0 };   /* not made, exit 0, a row refused, killed */
	bool clean = true;

	for (uint64_t seed = 1; seed <= 32; seed++) {
		unsigned long before;
		int status = -1, rc;

		kmalloc_shrink();
		before = buddy_free_pages();
		fi.seed = seed;
		faultinj_set(&fi);
		rc = proc_run("mman_split", user_mman_split,
			      (size_t)(user_mman_split_end - user_mman_split), 0, &status);
		faultinj_off();
		kmalloc_shrink();
		if (buddy_free_pages() != before || mm_check() != 0 || (rc != 0 && rc != -ENOMEM)) {
			kprintf("    # seed %lu: rc %d status %d, free pages %lu -> %lu\n",
				(unsigned long)seed, rc, status, before, buddy_free_pages());
			clean = false;
		}
		outcomes[rc ? 0 : status == 0 ? 1 : status < 100 ? 2 : 3]++;
	}
	kprintf("    # fault_injection: not made %u, passed %u, refused a row %u, killed %u\n",
		outcomes[0], outcomes[1], outcomes[2], outcomes[3]);
	KT_EXPECT(t, clean);
	KT_EXPECT(t, outcomes[2] > 0);   /* some call did meet an injected failure */
	KT_EXPECT(t, outcomes[3] == 0);  /* and no fault made an OOM kill of it */
}

static void test_madvise(struct ktest *t)
{
	RUN(t, mman_madvise, 0, 0);
}

/* proc_inspect's: the process's rss and hiwater_rss. */
static void read_rss(const struct proc *p, void *arg)
{
	unsigned long *out = arg;

	out[0] = p->rss;
	out[1] = p->hiwater_rss;
}

/* MADV_DONTNEED's counts: the process touched 8 pages and dropped 4, so
 * it holds its text page and 4 (rss 5, high-water mark 9), and the page
 * allocator's count of user frames is 4 fewer than at the peak; the
 * kernel's shared identity map still translates (madvise below
 * USER_VA_BASE touched nothing). Killed, every page is back. */
static void test_madvise_counts(struct ktest *t)
{
	uint64_t until = rdtime() + platform.timebase_hz * 5;
	unsigned long before, u0, rss[2] = { 0, 0 };
	int pid, status;

	kmalloc_shrink();
	before = buddy_free_pages();
	u0 = page_owner_pages(PAGE_OWNER_USER);
	pid = proc_start_image("mman_madvise_rss", user_mman_madvise_rss,
			       (size_t)(user_mman_madvise_rss_end - user_mman_madvise_rss), 0);
	KT_EXPECT(t, pid > 0);
	while (pid > 0 && (rss[1] < 9 || rss[0] != 5) && rdtime() < until) {
		sched_run_one();   /* lend this hart too: it may be the only one */
		proc_inspect(pid, read_rss, rss);
	}
	kprintf("    # madvise_counts: rss %lu, hiwater %lu pages\n", rss[0], rss[1]);
	KT_EXPECT(t, rss[0] == 5 && rss[1] == 9);
	KT_EXPECT(t, page_owner_pages(PAGE_OWNER_USER) == u0 + 5);
	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)&before, NULL, NULL) == 0);
	if (pid > 0) {
		KT_EXPECT(t, proc_kill(pid, PROC_SIGKILL) == 0);
		KT_EXPECT(t, proc_wait_kernel(pid, &status, 0) == 0);
	}
	KT_EXPECT(t, page_owner_pages(PAGE_OWNER_USER) == u0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
	KT_EXPECT(t, mm_check() == 0);
}

/* Commit piece by piece (kernel/mman.h): two reservations of two thirds
 * of what a process could get can be made writable one at a time only.
 * The script puts them 1 GiB and 64 GiB above the text, so each may be
 * up to 63 GiB: a machine with more than about 90 GiB free is skipped. */
static void test_commit_pieces(struct ktest *t)
{
	uint64_t bytes = buddy_user_free_pages() * 2 / 3 * PAGE_SIZE;

	if (bytes > (63ull << 30)) {
		KT_SKIP(t, "more memory than two reservations fit between the scripts' addresses");
		return;
	}

	kprintf("    # commit_pieces: two reservations of %lu KiB\n", (unsigned long)(bytes >> 10));
	RUN(t, mman_commit_pieces, bytes, 0);
}

static const struct ktest_case mman_cases[] = {
	{ "refusals_and_placement", test_errors },
	{ "split_replace_protect_populate", test_split },
	{ "populate_out_of_memory_changes_nothing", test_populate_oom },
	{ "noreserve_is_not_committed", test_noreserve },
	{ "protection_faults_are_sigsegv", test_faults },
	{ "fault_injection_leaves_nothing", test_fault_injection },
	{ "madvise_dontneed_hints_errors", test_madvise },
	{ "madvise_rss_and_owner_counts_exact", test_madvise_counts },
	{ "commit_counts_earlier_promises", test_commit_pieces },
};
KTEST_SUITE(mman_suite, "mman", mman_cases);
