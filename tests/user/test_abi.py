#!/usr/bin/env python3
"""The user-kernel ABI has one definition, and both sides agree with it:
include/uapi/tally/unistd.h's numbers are Linux's generic table (written
out again here from include/uapi/asm-generic/unistd.h, so a typo in
either copy fails); any SYS_NAME the kernel's sources define equals
__NR_NAME; the kernel's USER_VA_BASE/USER_VA_TOP (include/proc/uspace.h)
are TALLY_USER_BASE/TALLY_USER_END; and the structures of
uapi/tally/types.h have Linux's riscv64 sizes and offsets, checked by the
cross compiler itself (_Static_assert), with the flag values of mman.h and
fcntl.h."""
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "qemu"))
from tally import ROOT, finish, ok  # noqa: E402

UAPI = os.path.join(ROOT, "include", "uapi", "tally")
LINUX = {"openat": 56, "close": 57, "getdents64": 61, "lseek": 62, "read": 63, "write": 64,
         "fstat": 80, "exit": 93, "exit_group": 94, "clock_gettime": 113, "sched_yield": 124,
         "kill": 129, "getpid": 172, "getppid": 173, "brk": 214, "munmap": 215, "mmap": 222,
         "mprotect": 226, "wait4": 260, "mkdirat": 34, "unlinkat": 35, "times": 153,
         "renameat2": 276, "getrusage": 165, "madvise": 233}


def defines(path, prefix):
    text = open(path).read()
    return {m.group(1): m.group(2) for m in
            re.finditer(rf"^#define\s+{prefix}(\w+)\s+(\S+(?: \+ \d+\))?)", text, re.M)}


def test_numbers():
    nr = defines(os.path.join(UAPI, "unistd.h"), "__NR_")
    for name, num in LINUX.items():
        ok(nr.get(name) == str(num), f"__NR_{name} is Linux's {num}", nr.get(name))
    ok(set(nr) == set(LINUX) | {"tally_spawn"}, "no other numbers", sorted(set(nr) - set(LINUX)))
    base = defines(os.path.join(UAPI, "unistd.h"), "TALLY_NR_")
    ok(nr.get("tally_spawn") == "(TALLY_NR_PRIVATE_BASE + 0)" and int(base["PRIVATE_BASE"]) >= 1100,
       "spawn sits in the private range, above Linux's table and its 1024..1079",
       (nr.get("tally_spawn"), base))
    for path in glob.glob(os.path.join(ROOT, "src", "kernel", "*.c")):
        for name, num in defines(path, "SYS_").items():
            ok(nr.get(name) == num, f"{os.path.relpath(path, ROOT)}: SYS_{name} {num} is __NR_{name}",
               nr.get(name))


def test_range():
    """The kernel's user range is the uapi one: include/proc/uspace.h
    defines USER_VA_BASE and USER_VA_TOP from TALLY_USER_BASE and
    TALLY_USER_END, and no other kernel header defines them again."""
    uspace = defines(os.path.join(ROOT, "include", "proc", "uspace.h"), "USER_VA_")
    ok(uspace.get("BASE") == "TALLY_USER_BASE", "USER_VA_BASE is TALLY_USER_BASE", uspace.get("BASE"))
    ok(uspace.get("TOP") == "TALLY_USER_END", "USER_VA_TOP is TALLY_USER_END", uspace.get("TOP"))
    again = [os.path.relpath(h, ROOT) for h in glob.glob(os.path.join(ROOT, "include", "*", "*.h"))
             if not h.endswith("uspace.h") and defines(h, "USER_VA_")]
    ok(not again, "no other header defines USER_VA_*", again)


LAYOUT_C = r"""
#include <stddef.h>
#include "uapi/tally/types.h"
#include "uapi/tally/mman.h"
#include "uapi/tally/fcntl.h"
#include "uapi/tally/layout.h"
#include "uapi/tally/unistd.h"
#define AT(t, f, o) _Static_assert(offsetof(struct t, f) == (o), #t "." #f)
_Static_assert(sizeof(struct linux_stat) == 128, "stat size");
AT(linux_stat, st_mode, 16); AT(linux_stat, st_size, 48); AT(linux_stat, st_blksize, 56);
AT(linux_stat, st_blocks, 64); AT(linux_stat, st_atime_sec, 72); AT(linux_stat, st_mtime_sec, 88);
AT(linux_stat, st_ctime_sec, 104);
_Static_assert(sizeof(struct linux_timespec) == 16, "timespec");
AT(linux_dirent64, d_reclen, 16); AT(linux_dirent64, d_type, 18); AT(linux_dirent64, d_name, 19);
_Static_assert(LINUX_MAP_ANONYMOUS == 0x20 && LINUX_MAP_FIXED_NOREPLACE == 0x100000 &&
               LINUX_MAP_POPULATE == 0x8000 && LINUX_PROT_EXEC == 4, "mman");
_Static_assert(LINUX_MADV_NORMAL == 0 && LINUX_MADV_RANDOM == 1 && LINUX_MADV_SEQUENTIAL == 2 &&
               LINUX_MADV_WILLNEED == 3 && LINUX_MADV_DONTNEED == 4 && LINUX_MADV_FREE == 8 &&
               LINUX_MADV_DONTNEED_LOCKED == 24, "madvise");
_Static_assert(LINUX_O_CREAT == 0x40 && LINUX_O_DIRECTORY == 0x10000 && LINUX_O_EXCL == 0x80 &&
               LINUX_AT_FDCWD == -100 && LINUX_AT_REMOVEDIR == 0x200, "fcntl");
_Static_assert(LINUX_RENAME_NOREPLACE == 1 && LINUX_RENAME_EXCHANGE == 2 &&
               LINUX_RENAME_WHITEOUT == 4, "renameat2");
_Static_assert(sizeof(struct linux_tms) == 32 && LINUX_USER_HZ == 100 &&
               LINUX_CLOCK_PROCESS_CPUTIME_ID == 2 && LINUX_CLOCK_THREAD_CPUTIME_ID == 3, "times");
AT(linux_tms, tms_stime, 8); AT(linux_tms, tms_cstime, 24);
_Static_assert(sizeof(struct linux_rusage) == 144 && __NR_getrusage == 165 &&
               LINUX_RUSAGE_CHILDREN == -1 && LINUX_RUSAGE_THREAD == 1, "rusage");
AT(linux_rusage, ru_stime, 16); AT(linux_rusage, ru_maxrss, 32); AT(linux_rusage, ru_minflt, 64);
AT(linux_rusage, ru_majflt, 72); AT(linux_rusage, ru_nivcsw, 136);
_Static_assert(TALLY_USER_BASE % TALLY_PAGE_SIZE == 0 && TALLY_USER_END % TALLY_PAGE_SIZE == 0, "page");
"""


def test_layouts():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "abi.c")
        with open(src, "w") as f:
            f.write(LAYOUT_C)
        proc = subprocess.run(["riscv64-unknown-elf-gcc", "-std=c11", "-Wall", "-Werror",
                               "-march=rv64imac", "-mabi=lp64", "-ffreestanding",
                               "-I" + os.path.join(ROOT, "include"), "-c", src,
                               "-o", os.path.join(tmp, "abi.o")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ok(proc.returncode == 0, "struct layouts and flag values are Linux riscv64's", proc.stdout)


def main():
    print("TAP version 13")
    test_numbers()
    test_range()
    test_layouts()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
