/* selftest_proc.c - the `proc` KTAP suite: small U-mode programs
 * (src/arch/riscv/selftest_user.S) run in a process of their own (kernel/proc.h), with
 * the exit status each must end with; after each, every page it held is
 * back (free pages as before) and the mm's integrity check is clean. */
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/console.h"
#include "kernel/proc.h"
#include "kernel/kstack.h"
#include "kernel/memory.h"
#include "kernel/trap.h"
#include "kernel/platform.h"
#include "kernel/smp.h"
#include "uapi/tally/types.h"
#include "arch/riscv.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/stats.h"
#include "kerrno.h"

#define USER_PROG(n) extern const char user_##n[], user_##n##_end[]
USER_PROG(hello);
USER_PROG(arg);
USER_PROG(null);
USER_PROG(store_text);
USER_PROG(kernel_load);
USER_PROG(below_stack);
USER_PROG(stack_limit);
USER_PROG(efault);
USER_PROG(enosys);
USER_PROG(illegal);
USER_PROG(getpid_loop);
USER_PROG(spin);
USER_PROG(yield_ppid);
USER_PROG(wait_echild);
USER_PROG(kill_self);

#define IMAGE(n) user_##n, (size_t)(user_##n##_end - user_##n)

/* Run image [start, end) with arg; expect exit status want and every
 * page back (kmalloc_shrink drains every hart's caches). */
static void run_expect(struct ktest *t, const char *name, const char *start,
		       const char *end, uint64_t arg, int want)
{
	unsigned long before;
	int status = -1, rc;

	kmalloc_shrink();   /* caches as empty as they get, before and after */
	before = buddy_free_pages();
	rc = proc_run(name, start, (size_t)(end - start), arg, &status);
	KT_EXPECT(t, rc == 0);
	KT_EXPECT(t, status == want);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
	KT_EXPECT(t, mm_check() == 0);
}

/* A case that runs program NAME (selftest_user.S) with arg and expects
 * status want, every page back. */
#define RUN_CASE(fn, name, prog, arg, want)                                   \
	static void fn(struct ktest *t)                                       \
	{                                                                     \
		run_expect(t, name, user_##prog, user_##prog##_end, arg, want); \
	}

RUN_CASE(test_hello, "hello", hello, 0, 7)
RUN_CASE(test_arg, "arg", arg, 41, 42)
RUN_CASE(test_null, "null", null, 0, PROC_EXIT_SIGSEGV)
RUN_CASE(test_store_text, "store-text", store_text, 0, PROC_EXIT_SIGSEGV)
RUN_CASE(test_kernel_load, "kernel-load", kernel_load, 0, PROC_EXIT_SIGSEGV)
RUN_CASE(test_below_stack, "below-stack", below_stack, 5, 5)
RUN_CASE(test_stack_limit, "stack-limit", stack_limit, 0, PROC_EXIT_SIGSEGV)
RUN_CASE(test_efault, "efault", efault, 0, EFAULT)
RUN_CASE(test_enosys, "enosys", enosys, 0, ENOSYS)
RUN_CASE(test_illegal, "illegal", illegal, 0, PROC_EXIT_SIGILL)

/* Bad images are refused before anything is made. */
static void test_bad_image(struct ktest *t)
{
	static char big[4097];
	unsigned long before;
	int status;

	kmalloc_shrink();
	before = buddy_free_pages();
	KT_EXPECT(t, proc_run("empty", user_hello, 0, 0, &status) == -EINVAL);
	KT_EXPECT(t, proc_run("big", big, sizeof(big), 0, &status) == -EINVAL);
	KT_EXPECT(t, proc_run("null", NULL, 8, 0, &status) == -EINVAL);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
}

/* Instructions retired by this hart outside interrupt handlers. */
static uint64_t instret_now(void)
{
	return rdinstret() - trap_irq_instret;
}

/* The cost of a getpid round trip from U-mode (ecall, trap vector, the
 * dispatch, sret; plus the loop's three instructions): the difference
 * between runs of 2000 and 1000 calls, so making and ending the process
 * cancel out. Exact under -icount shift=0 on one hart (`make bench` reads
 * it); elsewhere rdinstret counts time, and the figure says nothing. */
static void test_getpid_round_trip(struct ktest *t)
{
	uint64_t i0, i1, i2;
	int s1 = -1, s2 = -1;

	i0 = instret_now();
	KT_EXPECT(t, proc_run("getpid", user_getpid_loop, (size_t)(user_getpid_loop_end - user_getpid_loop),
			      1000, &s1) == 0);
	i1 = instret_now();
	KT_EXPECT(t, proc_run("getpid", user_getpid_loop, (size_t)(user_getpid_loop_end - user_getpid_loop),
			      2000, &s2) == 0);
	i2 = instret_now();
	KT_EXPECT(t, s1 == 0 && s2 == 0);
	kprintf("    # getpid_round_trip: instructions=%lu per_call=%lu.%lu\n",
		   (unsigned long)((i2 - i1) - (i1 - i0)),
		   (unsigned long)(((i2 - i1) - (i1 - i0)) / 1000),
		   (unsigned long)(((i2 - i1) - (i1 - i0)) % 1000 / 100));
}

/* Run processes on this hart (the others run them from their idle loops)
 * for ms milliseconds. */
static void run_for(unsigned ms)
{
	uint64_t until = rdtime() + platform.timebase_hz / 1000 * ms;

	while (rdtime() < until)
		if (!sched_run_one()) {
			uint64_t s = irq_save();

			wfi();
			irq_restore(s);
		}
}

static const struct proc_info *find(const struct proc_info *l, unsigned n, int pid)
{
	for (unsigned i = 0; i < n && i < PROC_MAX; i++)
		if (l[i].pid == pid)
			return &l[i];
	return NULL;
}

/* Spinning processes, one per hart (they spread over every hart), each
 * killed where it is -- running on another hart, on the queue -- end
 * with SIGKILL's status and give every page back. */
static void test_kill_spinning(struct ktest *t)
{
	static struct proc_info list[PROC_MAX];
	int pid[HART_MAX], status, n = (int)smp_online(NULL) + 1;
	unsigned long before;
	unsigned got, harts = 0, nharts_used = 0;

	kmalloc_shrink();
	before = buddy_free_pages();
	for (int i = 0; i < n; i++)
		KT_EXPECT(t, (pid[i] = proc_start_image("spin", IMAGE(spin), 0)) > 0);
	run_for(100);
	got = proc_list(list, PROC_MAX);
	for (int i = 0; i < n; i++) {
		const struct proc_info *q = find(list, got, pid[i]);

		KT_EXPECT(t, q && q->ppid == 0 && q->state != PROC_ZOMBIE && q->rss >= 1);
		if (q)
			harts |= 1u << q->hart;
	}
	for (unsigned h = 0; h < HART_MAX; h++)
		nharts_used += (harts >> h) & 1;
	if (n > 2)   /* several harts: not all on one */
		KT_EXPECT(t, nharts_used >= 2);
	for (int i = 0; i < n; i++)
		KT_EXPECT(t, proc_kill(pid[i], PROC_SIGKILL) == 0);
	for (int i = 0; i < n; i++) {
		KT_EXPECT(t, proc_wait_kernel(pid[i], &status, 0) == 0);
		KT_EXPECT(t, status == PROC_EXIT_SIGKILL);
	}
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
	KT_EXPECT(t, mm_check() == 0);
}

/* An exited process stays a zombie -- in the table, its memory but the
 * kernel stack gone -- with its status until it is reaped; a second
 * wait finds no child. */
static void test_zombie_until_reaped(struct ktest *t)
{
	static struct proc_info list[PROC_MAX];
	const struct proc_info *q = NULL;
	unsigned long before;
	int pid, ws = -1;

	kmalloc_shrink();
	before = buddy_free_pages();
	KT_EXPECT(t, (pid = proc_start_image("arg", IMAGE(arg), 41)) > 0);
	for (int i = 0; i < 100 && !(q && q->state == PROC_ZOMBIE); i++) {
		run_for(10);
		q = find(list, proc_list(list, PROC_MAX), pid);
	}
	KT_EXPECT(t, q && q->state == PROC_ZOMBIE && q->rss == 0 && q->vsz == 0);
	KT_EXPECT(t, q && q->tables == 0 && q->hiwater_rss >= 1);   /* the peak outlives the space */
	KT_EXPECT(t, proc_wait(NULL, pid, &ws, LINUX_WNOHANG, NULL) == pid);
	KT_EXPECT(t, ws == 42 << 8);
	KT_EXPECT(t, proc_wait(NULL, pid, &ws, LINUX_WNOHANG, NULL) == -ECHILD);
	KT_EXPECT(t, !find(list, proc_list(list, PROC_MAX), pid));
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
}

/* wait and kill refusals: no such child, nothing to reap yet (WNOHANG),
 * no such process, signals out of range or that would stop it; signal 0
 * and an ignored signal change nothing. */
static void test_wait_kill_errors(struct ktest *t)
{
	int pid, ws = -1, status;

	KT_EXPECT(t, proc_wait(NULL, 99999, &ws, LINUX_WNOHANG, NULL) == -ECHILD);
	KT_EXPECT(t, proc_kill(99999, PROC_SIGTERM) == -ESRCH);
	KT_EXPECT(t, (pid = proc_start_image("spin", IMAGE(spin), 0)) > 0);
	KT_EXPECT(t, proc_wait(NULL, pid, &ws, LINUX_WNOHANG, NULL) == 0);
	KT_EXPECT(t, proc_kill(pid, 65) == -EINVAL);
	KT_EXPECT(t, proc_kill(pid, -1) == -EINVAL);
	KT_EXPECT(t, proc_kill(pid, 19) == -EINVAL);   /* SIGSTOP */
	KT_EXPECT(t, proc_kill(pid, 0) == 0);
	KT_EXPECT(t, proc_kill(pid, 17) == 0);          /* SIGCHLD: ignored */
	run_for(30);
	KT_EXPECT(t, proc_wait(NULL, pid, &ws, LINUX_WNOHANG, NULL) == 0);
	KT_EXPECT(t, proc_kill(pid, PROC_SIGTERM) == 0);
	KT_EXPECT(t, proc_wait_kernel(pid, &status, 0) == 0);
	KT_EXPECT(t, status == PROC_EXIT_SIGTERM);
	KT_EXPECT(t, proc_kill(pid, PROC_SIGTERM) == -ESRCH);
}

/* The calls from U-mode: sched_yield returns 0 and getppid 0 for the
 * kernel's child; wait4 with no child is -ECHILD (and clock_gettime
 * answers); kill of itself does not come back. */
RUN_CASE(test_user_calls, "yield", yield_ppid, 100, 3)
RUN_CASE(test_user_wait_echild, "wait", wait_echild, 0, ECHILD)
RUN_CASE(test_user_kill_self, "kill-self", kill_self, 0, PROC_EXIT_SIGTERM)

/* PROC_MAX processes fill the table: one more is -EAGAIN and leaves
 * nothing allocated; killed, all come back. */
static void test_table_full(struct ktest *t)
{
	static int pid[PROC_MAX];
	unsigned long before, full;
	int n = 0, rc, status;

	kmalloc_shrink();
	before = buddy_free_pages();
	while (n < PROC_MAX && (rc = proc_start_image("spin", IMAGE(spin), 0)) > 0)
		pid[n++] = rc;
	KT_EXPECT(t, proc_count() == PROC_MAX);   /* filled, whatever ran before */
	kmalloc_shrink();
	full = buddy_free_pages();
	KT_EXPECT(t, proc_start_image("spin", IMAGE(spin), 0) == -EAGAIN);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == full);
	for (int i = 0; i < n; i++)
		proc_kill(pid[i], PROC_SIGKILL);
	for (int i = 0; i < n; i++) {
		KT_EXPECT(t, proc_wait_kernel(pid[i], &status, 0) == 0);
		KT_EXPECT(t, status == PROC_EXIT_SIGKILL);
	}
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
}

/* Kernel stacks (kernel/kstack.h): mapped page by page above an
 * unmapped guard, seen through a space that shared the kernel's entries
 * before the stack was made, every slot usable and then refused, and
 * every frame and table page back once they are freed. */
static void test_kernel_stacks(struct ktest *t)
{
	static void *all[KSTACK_SLOTS];
	unsigned long before, in_use;
	struct vm_space u;
	unsigned n = 0;
	uint64_t stack;
	char *s;

	kmalloc_shrink();
	before = buddy_free_pages();
	in_use = kstack_in_use();
	KT_EXPECT(t, vm_create(&u) == 0 && vm_share(&u, &kernel_vm, 0, USER_VA_BASE) == 0);
	s = kstack_alloc();
	KT_EXPECT(t, s && kstack_in_use() == in_use + 1);
	if (!s)
		return;
	for (unsigned off = 0; off < KSTACK_SIZE; off += PAGE_SIZE)
		KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)s + off, NULL, NULL) == 0 &&
			     vm_translate(&u, (uintptr_t)s + off, NULL, NULL) == 0);
	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)s - PAGE_SIZE, NULL, NULL) == -ENOENT);
	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)s - KSTACK_GUARD, NULL, NULL) == -ENOENT);
	KT_EXPECT(t, kstack_guard_hit((uintptr_t)s - 8, &stack) && stack == (uintptr_t)s);
	KT_EXPECT(t, !kstack_guard_hit((uintptr_t)s, NULL) &&
		     !kstack_guard_hit((uintptr_t)s + KSTACK_SIZE - 8, NULL));
	memset(s, 0x5a, KSTACK_SIZE);   /* all of it writable */
	KT_EXPECT(t, s[0] == 0x5a && s[KSTACK_SIZE - 1] == 0x5a);
	kstack_free(s);
	KT_EXPECT(t, vm_translate(&kernel_vm, (uintptr_t)s, NULL, NULL) == -ENOENT &&
		     kstack_in_use() == in_use);
	while (n < KSTACK_SLOTS && (all[n] = kstack_alloc()) != NULL)
		n++;
	KT_EXPECT(t, n == KSTACK_SLOTS - in_use && kstack_in_use() == KSTACK_SLOTS);
	KT_EXPECT(t, kstack_alloc() == NULL);   /* every slot taken */
	while (n)
		kstack_free(all[--n]);
	vm_unshare(&u, 0, USER_VA_BASE);
	vm_destroy(&u);
	kmalloc_shrink();
	KT_EXPECT(t, kstack_in_use() == in_use && buddy_free_pages() == before);
}

/* proc_inspect's fn for the accounting case: the areas' count and bytes. */
static void count_areas(const struct proc *p, void *arg)
{
	uint64_t *out = arg;

	out[0] = p->vmas.count;
	out[1] = p->vmas.bytes;
	out[2] = p->rss;
}

/* The page allocator counts user frames and process page tables by
 * owner (page_owner_pages), and that count is the processes' RSS and
 * table pages summed. A spinning image holds its text page only (its
 * stack area is never touched): RSS 1, and Sv39 tables root + one level-1
 * + one level-0 table for that page = 3; its areas are text and stack,
 * a page each. Ended, both counts are back where they were. */
static void test_user_pages_counted(struct ktest *t)
{
	static struct proc_info list[PROC_MAX];
	unsigned long before, u0, t0, rss = 0, tables = 0;
	uint64_t areas[3] = { 0, 0, 0 };
	int pid[2], status;
	unsigned n;

	kmalloc_shrink();
	before = buddy_free_pages();
	u0 = page_owner_pages(PAGE_OWNER_USER);
	t0 = page_owner_pages(PAGE_OWNER_USER_PGTABLE);
	for (int i = 0; i < 2; i++)
		KT_EXPECT(t, (pid[i] = proc_start_image("spin", IMAGE(spin), 0)) > 0);
	run_for(30);
	n = proc_list(list, PROC_MAX);
	for (unsigned i = 0; i < n && i < PROC_MAX; i++) {
		rss += list[i].rss;
		tables += list[i].tables;
	}
	KT_EXPECT(t, page_owner_pages(PAGE_OWNER_USER) == rss);
	KT_EXPECT(t, page_owner_pages(PAGE_OWNER_USER_PGTABLE) == tables);
	for (int i = 0; i < 2; i++) {
		const struct proc_info *q = find(list, n, pid[i]);

		KT_EXPECT(t, q && q->rss == 1 && q->hiwater_rss == 1 && q->tables == 3);
		KT_EXPECT(t, q && q->vsz == 2 * PAGE_SIZE);
	}
	KT_EXPECT(t, proc_inspect(pid[0], count_areas, areas) == 0);
	KT_EXPECT(t, areas[0] == 2 && areas[1] == 2 * PAGE_SIZE && areas[2] == 1);
	KT_EXPECT(t, proc_inspect(999999, count_areas, areas) == -ESRCH);
	for (int i = 0; i < 2; i++) {
		KT_EXPECT(t, proc_kill(pid[i], PROC_SIGKILL) == 0);
		KT_EXPECT(t, proc_wait_kernel(pid[i], &status, 0) == 0);
	}
	KT_EXPECT(t, page_owner_pages(PAGE_OWNER_USER) == u0);
	KT_EXPECT(t, page_owner_pages(PAGE_OWNER_USER_PGTABLE) == t0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
	KT_EXPECT(t, mm_check() == 0);
}

/* memcheck's frame check (proc_check_frames): with no process, a frame
 * still owned as a user page is a violation, reported; given back, none. */
static void test_frames_back_check(struct ktest *t)
{
	unsigned long before;
	struct page *pg;

	kmalloc_shrink();
	before = buddy_free_pages();
	KT_EXPECT(t, proc_count() == 0 && proc_check_frames() == 0);
	pg = alloc_pages(0, 0);
	KT_EXPECT(t, pg != NULL);
	if (!pg)
		return;
	user_frame_claim(pg);   /* as if a process had left it behind */
	KT_EXPECT(t, page_owner_pages(PAGE_OWNER_USER) == 1);
	KT_EXPECT(t, proc_check_frames() == 1);
	user_frame_free(pg);
	KT_EXPECT(t, page_owner_pages(PAGE_OWNER_USER) == 0 && proc_check_frames() == 0);
	kmalloc_shrink();
	KT_EXPECT(t, buddy_free_pages() == before);
}

static const struct ktest_case proc_cases[] = {
	{ "hello_writes_and_exits", test_hello },
	{ "argument_and_stack", test_arg },
	{ "null_load_is_sigsegv", test_null },
	{ "store_to_text_is_sigsegv", test_store_text },
	{ "kernel_memory_is_sigsegv", test_kernel_load },
	{ "stack_grows_down_on_demand", test_below_stack },
	{ "beyond_the_stack_limit_is_sigsegv", test_stack_limit },
	{ "bad_pointers_get_efault", test_efault },
	{ "unknown_syscall_enosys", test_enosys },
	{ "illegal_instruction_is_sigill", test_illegal },
	{ "bad_images_refused", test_bad_image },
	{ "getpid_round_trip", test_getpid_round_trip },
	{ "kill_spinning_on_every_hart", test_kill_spinning },
	{ "zombie_kept_until_reaped", test_zombie_until_reaped },
	{ "wait_and_kill_errors", test_wait_kill_errors },
	{ "yield_and_getppid", test_user_calls },
	{ "wait4_without_children_echild", test_user_wait_echild },
	{ "kill_self_sigterm", test_user_kill_self },
	{ "table_full_eagain", test_table_full },
	{ "kernel_stacks_guarded", test_kernel_stacks },
	{ "user_pages_counted_by_owner", test_user_pages_counted },
	{ "memcheck_finds_user_frames_left", test_frames_back_check },
};
KTEST_SUITE(proc_suite, "proc", proc_cases);
