#!/usr/bin/env python3
"""The user programs and their C runtime, run before Tally can run them:
under qemu-riscv64 (QEMU's Linux user mode), which serves the very ABI
Tally promises (Linux's riscv64 system call numbers and conventions), so
crt0, the system call stubs, the errno and flag translations and picolibc's
stdio over them are checked on the host. What needs Tally's kernel (spawn,
exit statuses of spawned children, the kernel's own limits) is left to the
QEMU tests; spawn's absence here is itself checked (ENOSYS, translated).

Also builds two programs from this directory with the documented one-line
command, build/user/tally-cc prog.c -o prog: an ordinary ISO C program and
a check of the runtime's translations.

Under QEMU 7.2's user mode MAP_FIXED_NOREPLACE is only a hint (as on Linux
before 4.17), so mmaptest's one check of it is expected to fail here and
only here."""
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "qemu"))
from tally import ROOT, finish, ok  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(ROOT, "build", "user", "bin")
TALLY_CC = os.path.join(ROOT, "build", "user", "tally-cc")
QEMU = "qemu-riscv64"
NOREPLACE_FAIL = "FAIL: MAP_FIXED_NOREPLACE over a mapping"


def run(args, env=None, timeout=120, cwd=None):
    """(exit status as a shell shows it, stdout+stderr)."""
    proc = subprocess.run([QEMU] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True, errors="replace",
                          timeout=timeout, env=env if env is not None else {}, cwd=cwd)
    code = proc.returncode
    return (128 - code if code < 0 else code), proc.stdout


def prog(name):
    return os.path.join(BIN, name)


def lines(out):
    return out.splitlines()


def test_hello():
    code, out = run([prog("hello")])
    ok(code == 0 and lines(out)[:2] == ["hello: world", "argc: 1"], "hello: exits 0, greets", out)
    code, out = run([prog("hello"), "two words", "x"])
    ok(code == 0 and lines(out)[:2] == ["hello: two words x", "argc: 3"],
       "hello: argv from the initial stack", out)
    ok(any(l.startswith("pid: ") and int(l[5:]) > 0 for l in lines(out)), "hello: getpid", out)


def test_passes(name, args, want):
    code, out = run([prog(name)] + args)
    ok(code == 0 and "result: PASS" in lines(out) and all(w in lines(out) for w in want),
       f"{name} {' '.join(args)}: PASS, {want}", out)


def test_mmaptest():
    code, out = run([prog("mmaptest"), "nofault"])
    fails = [l for l in lines(out) if l.startswith("FAIL")]
    ok(all(l.startswith(NOREPLACE_FAIL) for l in fails) and
       "mmaptest: arguments checked" in lines(out),
       "mmaptest nofault: split, protect, arguments (all but QEMU user mode's NOREPLACE)", out)
    for case in ("unmapped", "readonly", "none", "exec"):
        code, out = run([prog("mmaptest"), "fault", case])
        ok(code == 128 + signal.SIGSEGV and "survived" not in out,
           f"mmaptest fault {case}: killed by SIGSEGV (139)", (code, out))
    code, out = run([prog("mmaptest")])
    ok(code == 1 and f"FAIL: spawn {prog('mmaptest')} fault unmapped: errno 88" in lines(out),
       "mmaptest: without a spawn call the fault cases fail (ENOSYS 38 -> picolibc's 88)", out)


def test_segv():
    for kind in ("null", "read", "kernel", "exec", "stack"):
        code, out = run([prog("segv"), kind])
        ok(code == 139 and lines(out)[0] == f"segv: {kind}" and "survived" not in out,
           f"segv {kind}: killed by SIGSEGV, status 139", (code, out))
    code, out = run([prog("segv"), "nonsense"])
    ok(code == 2, "segv: an unknown kind exits 2", out)


def test_badptr():
    code, out = run([prog("badptr"), "nospawn"])
    ok(code == 0 and "efault: 24 of 24" in lines(out) and "result: PASS" in lines(out),
       "badptr nospawn: 24 calls with kernel, upper-half, null and unmapped pointers: -EFAULT",
       out)


def test_spawner():
    code, out = run([prog("spawner"), "2"])
    ok(code == 1 and "FAIL: spawn child 0: errno 88" in lines(out) and "echild: ok" in lines(out),
       "spawner: spawn is Tally's (ENOSYS under Linux), wait4 with no child: ECHILD", out)
    code, out = run([prog("spawner"), "17"])
    ok(code == 1 and "FAIL: children: 1..16" in lines(out), "spawner: 17 children refused", out)


def test_malloc_modes():
    """malloc's allocator by TALLY_MODE (user/include/tally/malloc.h), here
    under Linux's system calls: each mode passes mstress and says which it
    is; no TALLY_MODE is hybrid; a bad mode or TALLY_HEAP stops the program
    with a line on stderr and status 2; a small arena runs out as NULL
    returns, not a crash."""
    for mode in ("simple", "twotier", "hybrid", "picolibc"):
        code, out = run([prog("mstress"), "3000", "5"], env={"TALLY_MODE": mode})
        ok(code == 0 and f"mstress: mode={mode} ops=3000 seed=5" in lines(out) and
           "mismatches: 0" in lines(out) and
           (("arena_kib: 0" in lines(out)) == (mode == "picolibc")),
           f"mstress under TALLY_MODE={mode}: PASS, says its mode, arena only in Tally's modes",
           out)
    code, out = run([prog("mstress"), "1000"])
    arena = [l for l in lines(out) if l.startswith("arena_kib: ")]
    ok(code == 0 and "mstress: mode=hybrid ops=1000 seed=1" in lines(out) and len(arena) == 1 and
       int(arena[0].split()[1]) >= 4096 and int(arena[0].split()[1]) % 4096 == 0,
       "no TALLY_MODE: hybrid over a growing arena (4 MiB first, grown in 4 MiB blocks)", out)
    for env, why in (({"TALLY_MODE": "bogus"},
                      "malloc: TALLY_MODE=bogus: unknown mode (simple, twotier, hybrid or picolibc)"),
                     ({"TALLY_MODE": ""},
                      "malloc: TALLY_MODE=: unknown mode (simple, twotier, hybrid or picolibc)"),
                     ({"TALLY_HEAP": "12q"}, "malloc: TALLY_HEAP=12q: not a size (BYTES with an "
                      "optional k, m or g; at least 64k)")):
        code, out = run([prog("mstress"), "100"], env=env)
        ok(code == 2 and lines(out) == [why], f"{env}: refused before main, status 2", out)
    for mode in ("simple", "twotier", "hybrid", "picolibc"):
        code, out = run([prog("malloctest")], env={"TALLY_MODE": mode, "TALLY_HEAP": "4m"})
        ok(code == 0 and lines(out)[0] == f"malloctest: mode={mode}" and
           lines(out)[-1] == "result: PASS" and not any(l.startswith("FAIL") for l in lines(out)),
           f"malloctest under TALLY_MODE={mode}: the allocation functions' contract", out)
    code, out = run([prog("mstress"), "3000"], env={"TALLY_MODE": "twotier", "TALLY_HEAP": "256k"})
    kv = dict(l.split(": ", 1) for l in lines(out) if ": " in l)
    ok(code == 0 and kv.get("arena_kib") == "256" and int(kv.get("failures", "0")) > 0 and
       kv.get("mismatches") == "0", "TALLY_HEAP=256k: malloc returns NULL when full, no crash", out)


def test_spin():
    code, out = run([prog("spin"), "1"], timeout=30)
    ok(code == 0 and len(lines(out)) == 1 and lines(out)[0].startswith("spin: pid ") and
       lines(out)[0].endswith(" done"), "spin 1: loops for a second by CLOCK_MONOTONIC, then exits 0", out)


def test_kbench():
    # qemu-user counts host time for rdinstret: only the lines' form here
    for what, n in (("getpid", 100), ("fault", 10)):
        code, out = run([prog("kbench"), what, str(n)])
        ok(code == 0 and re.fullmatch(rf"kbench {what} n={n} instructions=\d+ per_op=\d+\.\d\n", out),
           f"kbench {what} {n}: one result line, exit 0", out)
    code, out = run([prog("kbench"), "getpid"])
    ok(code == 1 and out.startswith("kbench: usage:"), "kbench without N: usage, exit 1", out)


def tally_cc(src, out, *extra):
    proc = subprocess.run([TALLY_CC, src, "-o", out] + list(extra), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout


def test_tally_cc():
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "iso_c")
        code, out = tally_cc(os.path.join(HERE, "iso_c.c"), exe, "-O2", "-lm")
        if not ok(code == 0 and os.path.isfile(exe), "tally-cc iso_c.c -o iso_c -lm", out):
            return
        readme = os.path.join(ROOT, "rootfs", "README.txt")
        with open(readme) as f:
            first = f.readline()
        code, out = run([exe, readme], cwd=tmp)
        want = ["iso_c: sorted 1 3 7 19 42 88", "iso_c: strtol -127", "iso_c: sqrt2 1.414214",
                "iso_c: first line " + first.rstrip("\n"), f"iso_c: size {os.path.getsize(readme)}",
                "iso_c: fopen missing NULL errno ENOENT", "iso_c: to stderr"]
        ok(code == 0 and all(w in lines(out) for w in want),
           "an ISO C program built with tally-cc: stdio, qsort, strtol, math, realloc, errno",
           out)
        glue = os.path.join(tmp, "posix_glue")
        code, out = tally_cc(os.path.join(HERE, "posix_glue.c"), glue)
        if not ok(code == 0, "tally-cc posix_glue.c", out):
            return
        code, out = run([glue, readme, str(os.path.getsize(readme))])
        for name in ("enametoolong", "enotdir", "eexist", "fstat", "lseek", "close", "stat_dir",
                     "clock_realtime", "time", "sbrk", "getppid"):
            ok(f"{name}: ok" in lines(out), f"runtime translation: {name}", out)
        obj = os.path.join(tmp, "part.o")
        proc = subprocess.run([TALLY_CC, "-c", os.path.join(HERE, "iso_c.c"), "-o", obj],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ok(proc.returncode == 0 and os.path.isfile(obj) and not proc.stdout,
           "tally-cc -c compiles only, quietly", proc.stdout)


def test_cat_ls():
    """cat and ls against a directory of the host (Linux's own file calls)."""
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "sub"))
        with open(os.path.join(d, "a.txt"), "w") as f:
            f.write("first\n")
        with open(os.path.join(d, "b.txt"), "w") as f:
            f.write("second, no newline")
        code, out = run([prog("cat"), "a.txt", "b.txt"], cwd=d)
        ok(code == 0 and out == "first\nsecond, no newline", "cat: files in order, relative paths", out)
        code, out = run([prog("cat"), "a.txt", "nothere", "sub"], cwd=d)
        ok(code == 1 and out == "first\ncat: nothere: No such file or directory\n"
           "cat: sub: Is a directory\n", "cat: errors named, status 1", out)
        code, out = run([prog("ls"), "-a"], cwd=d)
        ok(code == 0 and sorted(lines(out)) == sorted(["./", "../", "a.txt", "b.txt", "sub/"]),
           "ls -a: every name, directories with '/'", out)
        code, out = run([prog("ls"), "a.txt", "nothere"], cwd=d)
        ok(code == 1 and "a.txt:\na.txt\n" in out and "ls: nothere: No such file or directory" in out,
           "ls: a file as given, a missing path named", out)


def main():
    print("TAP version 13")
    test_hello()
    test_passes("mstress", ["5000", "7"], ["mismatches: 0"])
    test_malloc_modes()
    test_passes("demandpage", [], ["touched: 1024", "zero_before_write: ok", "patterns: ok"])
    test_passes("brkgrow", ["1024", "32"], ["grown_kib: 32768", "stopped: limit", "regrow: ok"])
    code, out = run([prog("oomhog"), "16"])
    ok(code == 0 and lines(out)[-1] == "oomhog: limit 16 MiB" and "oomhog: touched_mib=16" in out,
       "oomhog 16: touches 16 MiB and stops at its limit", out)
    code, out = run([prog("oomhog"), "noreserve", "16"])
    ok(code == 0 and lines(out)[-1] == "oomhog: limit 16 MiB" and "oomhog: touched_mib=16" in out,
       "oomhog noreserve 16: one MAP_NORESERVE mapping of 16 MiB, every page touched", out)
    test_mmaptest()
    test_segv()
    test_badptr()
    test_spawner()
    test_cat_ls()
    test_spin()
    test_kbench()
    test_tally_cc()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
