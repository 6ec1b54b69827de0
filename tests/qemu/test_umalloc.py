#!/usr/bin/env python3
"""User-space malloc in Tally's processes (user/lib/malloc.c): the
environment given on `run`'s command line reaches the program
(NAME=VALUE words before the path, in order); /bin/mstress passes its
pattern checks under each TALLY_MODE -- simple, twotier, hybrid over
Tally's allocator in a growing arena (4 MiB at first, grown in 4 MiB
blocks), picolibc's malloc over brk -- and says which one served it; no
TALLY_MODE is hybrid; TALLY_MODE=bogus stops the program before main
with a line on stderr and exit status 2; an arena bound past the user
address space (TALLY_HEAP=200g) is refused and every allocation fails
cleanly, a 2g bound on 128M is only address space and works, and a 1m
arena runs out as NULL returns, never a crash; /bin/malloctest holds
each mode to the allocation functions' contract (and, in Tally's modes,
fills the arena to ENOMEM -- growth refused by strict commit -- and has
a bad free refused and reported); /bin/icount runs a program with
its environment and reports its instruction count and status;
/bin/ubench replays a kernel bench workload in each mode;
and after all of it free memory is what it was, give or take the
kernel's own caches (every process's frames came back)."""
import os
import re
import sys

from tally import ROOT, Tally, finish, guarded, ok, parse_kv

IMG = os.path.join(ROOT, "build", "disk.img")
MODES = ("simple", "twotier", "hybrid", "picolibc")


def free_kib(t):
    return int(parse_kv(t.cmd("memstat"))["free"].split()[0])


def mstress_ok(out, mode, ops):
    kv = parse_kv(out)
    return (f"mstress: mode={mode} ops={ops} seed=1\n" in out and kv.get("mismatches") == "0"
            and kv.get("result") == "PASS" and "run:" not in out)


def umalloc():
    with Tally(drive=IMG) as t:
        t.boot()
        # each program once first: the block cache keeps their blocks
        for warm in ("hello", "mstress 100", "ubench mixed 3000"):
            t.cmd("run /bin/" + warm, timeout=120)
        before = free_kib(t)
        out = t.cmd("run A=1 B_2=x=y EMPTY= /bin/hello hi")
        ok(out.startswith("hello: hi\nargc: 2\n") and
           out.endswith("env: A=1\nenv: B_2=x=y\nenv: EMPTY=\n"),
           "run NAME=VALUE... PATH: the assignments are the environment, in order", out)
        out = t.cmd("run /bin/hello 1=x")
        ok("hello: 1=x\n" in out and "env:" not in out,
           "a word after the path is an argument, whatever its shape", out)
        for mode in MODES:
            out = t.cmd(f"run TALLY_MODE={mode} /bin/mstress 8000", timeout=120)
            ok(mstress_ok(out, mode, 8000), f"mstress under TALLY_MODE={mode}: PASS, names its mode",
               out)
            arena = int(parse_kv(out).get("arena_kib", "-1"))
            ok(arena == 0 if mode == "picolibc" else (arena >= 4096 and arena % 4096 == 0),
               f"{mode}: arena {'none (sbrk)' if mode == 'picolibc' else 'grown in 4 MiB blocks'}",
               out)
        out = t.cmd("run /bin/mstress 2000", timeout=120)
        ok(mstress_ok(out, "hybrid", 2000), "no TALLY_MODE: hybrid", out)
        out = t.cmd("run TALLY_MODE=bogus /bin/mstress")
        ok(out == "malloc: TALLY_MODE=bogus: unknown mode (simple, twotier, hybrid or picolibc)\n"
           "run: /bin/mstress: exit status 2\n", "TALLY_MODE=bogus: said on stderr, exit status 2", out)
        out = t.cmd("run TALLY_MODE=twotier TALLY_HEAP=200g /bin/mstress 500", timeout=120)
        kv = parse_kv(out)
        ok("malloc: mmap refused the arena (200g): every allocation fails (ENOMEM)\n" in out and
           kv.get("failures") == "500" and kv.get("result") == "PASS" and "run:" not in out,
           "an arena bound past the user space: said once, every malloc NULL, exit 0", out)
        out = t.cmd("run TALLY_MODE=twotier TALLY_HEAP=2g /bin/mstress 500", timeout=120)
        kv = parse_kv(out)
        ok(kv.get("failures") == "0" and kv.get("result") == "PASS" and "malloc:" not in out,
           "TALLY_HEAP=2g on 128M: a bound, not a commitment -- it works", out)
        out = t.cmd("run TALLY_MODE=hybrid TALLY_HEAP=1m /bin/mstress 3000", timeout=120)
        kv = parse_kv(out)
        ok(kv.get("arena_kib") == "1024" and int(kv.get("failures", "0")) > 0 and
           kv.get("result") == "PASS" and "run:" not in out,
           "a 1 MiB arena runs out: NULL returns counted, patterns intact, exit 0", out)
        for mode in MODES:
            out = t.cmd(f"run TALLY_MODE={mode} /bin/malloctest", timeout=120)
            kv = parse_kv(out)
            tally = mode != "picolibc"
            ok(out.startswith(f"malloctest: mode={mode}\n") and kv.get("result") == "PASS" and
               "FAIL" not in out and "run:" not in out,
               f"malloctest under {mode}: the allocation functions' contract", out)
            if tally:
                ok(0 < int(kv.get("filled_kib", "0")) <= 128 * 1024 and
                   re.search(r"^mm: (slab: kmalloc-64|heap): wrong free of 0x[0-9a-f]+ by 0x[0-9a-f]+: ", out, re.M),
                   f"{mode}: the arena fills to ENOMEM and empties; a bad free reported and refused", out)
        for mode in MODES:
            out = t.cmd(f"run TALLY_MODE={mode} /bin/ubench mixed 3000", timeout=120)
            ok(re.fullmatch(rf"ubench mixed {mode} ops=3000 instr_per_op=[\d.]+ "
                            r"warm_instr_per_op=[\d.]+ ticks_per_op=[\d.]+ failures=0 setup_instr=\d+ "
                            rf"arena_kib={0 if mode == 'picolibc' else '[1-9][0-9]*'}\n", out),
               f"ubench mixed under {mode}: one result line", out)
        out = t.cmd("run GREETING=hi /bin/icount /bin/hello x")
        ok(re.fullmatch(r"hello: x\nargc: 2\npid: \d+\nenv: GREETING=hi\n"
                        r"icount: /bin/hello instructions=\d+ status=0\n", out),
           "icount: the program runs with icount's environment, then its count and status", out)
        out = t.cmd("run /bin/icount /bin/nothere")
        ok(out == "icount: /bin/nothere: No such file or directory\nrun: /bin/icount: exit status 127\n",
           "icount: a program that cannot be spawned: 127", out)
        out = t.cmd("run /bin/ubench nosuch")
        ok(out == "usage: ubench small|mixed|large|frag [ops]\nrun: /bin/ubench: exit status 2\n",
           "ubench: an unknown workload is a usage error", out)
        after = free_kib(t)
        # The processes touched tens of MiB; the kernel's own slabs and
        # page lists move by a few KiB from run to run (test_oom: 8).
        ok(abs(after - before) <= 64, f"free memory back after every run: {before} -> {after} KiB")


guarded(umalloc, "umalloc")
sys.exit(finish())
