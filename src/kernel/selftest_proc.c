/* selftest_proc.c - the `proc` KTAP suite: small U-mode programs
 * (src/arch/riscv/selftest_user.S) run in a process of their own (kernel/proc.h), with
 * the exit status each must end with; after each, every page it held is
 * back (free pages as before) and the mm's integrity check is clean. */
#include "kernel/ktest.h"
#include "kernel/console.h"
#include "kernel/proc.h"
#include "kernel/trap.h"
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

/* Run image [start, end) with arg; expect exit status want and every
 * page back. */
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

static void test_hello(struct ktest *t)
{
	run_expect(t, "hello", user_hello, user_hello_end, 0, 7);
}

static void test_arg(struct ktest *t)
{
	run_expect(t, "arg", user_arg, user_arg_end, 41, 42);
}

static void test_null(struct ktest *t)
{
	run_expect(t, "null", user_null, user_null_end, 0, PROC_EXIT_SIGSEGV);
}

static void test_store_text(struct ktest *t)
{
	run_expect(t, "store-text", user_store_text, user_store_text_end, 0, PROC_EXIT_SIGSEGV);
}

static void test_kernel_load(struct ktest *t)
{
	run_expect(t, "kernel-load", user_kernel_load, user_kernel_load_end, 0, PROC_EXIT_SIGSEGV);
}

static void test_below_stack(struct ktest *t)
{
	run_expect(t, "below-stack", user_below_stack, user_below_stack_end, 5, 5);
}

static void test_stack_limit(struct ktest *t)
{
	run_expect(t, "stack-limit", user_stack_limit, user_stack_limit_end, 0, PROC_EXIT_SIGSEGV);
}

static void test_efault(struct ktest *t)
{
	run_expect(t, "efault", user_efault, user_efault_end, 0, EFAULT);
}

static void test_enosys(struct ktest *t)
{
	run_expect(t, "enosys", user_enosys, user_enosys_end, 0, ENOSYS);
}

static void test_illegal(struct ktest *t)
{
	run_expect(t, "illegal", user_illegal, user_illegal_end, 0, PROC_EXIT_SIGILL);
}

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
};
KTEST_SUITE(proc_suite, "proc", proc_cases);
