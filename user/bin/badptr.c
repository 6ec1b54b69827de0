/* badptr - system calls handed pointers the process does not own: the
 * kernel's own addresses (its image at 0x80200000, Sv39's upper half),
 * the null page, and a page just unmapped. Each call must fail with
 * -EFAULT (raw results, Linux's numbering: -14) and the process must
 * live on.
 *
 *   badptr            every case, spawn's included
 *   badptr nospawn    without the spawn cases (a kernel with no spawn)
 *
 * Prints "CALL(WHAT): RESULT" per case, "efault: N of M",
 * "result: PASS|FAIL". */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "tally/syscall.h"
#include "uapi/tally/fcntl.h"

#define LINUX_EFAULT 14

static int cases, efaults;

static void expect_efault(const char *call, const char *what, long r)
{
	cases++;
	efaults += r == -LINUX_EFAULT;
	printf("%s(%s): %ld\n", call, what, r);
	check(r == -LINUX_EFAULT, "%s(%s) returned %ld, not -EFAULT", call, what, r);
}

int main(int argc, char **argv)
{
	int spawn = !(argc > 1 && !strcmp(argv[1], "nospawn"));
	struct { const char *name; uintptr_t addr; } bad[] = {
		{ "kernel", 0x80200000UL },
		{ "upper", 0xffffffc000000000UL },
		{ "null", 0 },
		{ "unmapped", 0 },
	};
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long self = tally_syscall4(__NR_openat, LINUX_AT_FDCWD, argv[0], LINUX_O_RDONLY, 0);
	long root = tally_syscall4(__NR_openat, LINUX_AT_FDCWD, "/",
				   LINUX_O_RDONLY | LINUX_O_DIRECTORY, 0);

	if (!check(page != MAP_FAILED && self >= 0 && root >= 0,
		   "set-up: mmap %p, open %s %ld, open / %ld", (void *)page, argv[0], self, root))
		return finish();
	munmap(page, 4096);
	bad[3].addr = (uintptr_t)page;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long a = (long)bad[i].addr;
		const char *w = bad[i].name;
		char *args[] = { (char *)a, NULL };
		expect_efault("write", w, tally_syscall3(__NR_write, 1, a, 16));
		expect_efault("read", w, tally_syscall3(__NR_read, self, a, 16));
		expect_efault("openat", w, tally_syscall4(__NR_openat, LINUX_AT_FDCWD, a, LINUX_O_RDONLY, 0));
		expect_efault("fstat", w, tally_syscall2(__NR_fstat, self, a));
		expect_efault("getdents64", w, tally_syscall3(__NR_getdents64, root, a, 4096));
		expect_efault("clock_gettime", w, tally_syscall2(__NR_clock_gettime, 0, a));
		if (spawn) {
			expect_efault("spawn path", w, tally_syscall3(__NR_tally_spawn, a, args, 0));
			expect_efault("spawn argv", w, tally_syscall3(__NR_tally_spawn, argv[0], a, 0));
			if (a)   /* a null argv[0] ends argv: an empty one, which Linux's execve takes */
				expect_efault("spawn argv[0]", w,
					      tally_syscall3(__NR_tally_spawn, argv[0], args, 0));
		}
	}
	tally_syscall1(__NR_close, self);
	tally_syscall1(__NR_close, root);
	printf("efault: %d of %d\n", efaults, cases);
	return finish();
}
