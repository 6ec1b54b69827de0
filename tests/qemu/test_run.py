#!/usr/bin/env python3
"""`run PATH [ARGS...]` runs the programs on the disk (user/bin, built by
the Makefile into /bin) in processes of their own: static ELF executables
loaded from the FAT32 volume, their stack, bss and heap paged in on
demand, brk committed no further than memory could back. Checked here:
hello's arguments reach it; a malloc stress passes its pattern
checks; a brk grower is refused cleanly (-ENOMEM, the break unchanged)
and can grow again; a segmentation fault is reported in Linux's shape
and ends with status 139; a file that is not an executable and a path
that does not exist are refused in one line; and running the same
program again and again leaves free memory where it was (every frame
and table a process held comes back)."""
import re
import sys

from tally import ROOT, Tally, finish, guarded, ok, parse_kv
import os

IMG = os.path.join(ROOT, "build", "disk.img")


def free_kib(t):
    return int(parse_kv(t.cmd("memstat"))["free"].split()[0])


def programs():
    with Tally(drive=IMG) as t:
        t.boot()
        out = t.cmd("run /bin/hello one two")
        ok("hello: one two\nargc: 3\n" in out, "hello gets its arguments (argv[0] the path)", out)
        ok("run:" not in out, "hello exits 0: nothing said", out)
        out = t.cmd("run /bin/mstress", timeout=120)
        ok("result: PASS" in out and "mismatches: 0" in out, "mstress: malloc (hybrid, the default), patterns intact", out)
        out = t.cmd("run /bin/brkgrow", timeout=120)
        kv = parse_kv(out)
        ok(kv.get("stopped") == "enomem" and kv.get("break_unchanged") == "yes" and
           kv.get("regrow") == "ok" and kv.get("result") == "PASS",
           "brkgrow: refused with ENOMEM, the break unchanged, grows again", out)
        out = t.cmd("run /bin/segv")
        ok(re.search(r"^pid \d+ \(segv\): segmentation fault at 0x0 \(store\), pc 0x2[0-9a-f]{9}$",
                     out, re.M), "segv: reported as a segmentation fault at 0x0", out)
        ok(out.rstrip().endswith("run: /bin/segv: exit status 139"), "segv: exit status 139", out)
        out = t.cmd("run /README.txt")
        ok(out == "run: /README.txt: not an executable (bad magic)\n", "a text file: not an executable", out)
        out = t.cmd("run /bin/nothere")
        ok(out == "run: /bin/nothere: no such file or directory\n", "a missing path: said so", out)
        out = t.cmd("run")
        ok(out == "usage: run [NAME=VALUE...] PATH [ARGS...] [&]\n", "no path: usage", out)
        frees = []
        for _ in range(4):
            t.cmd("run /bin/hello")
            t.cmd("run /bin/segv")
            frees.append(free_kib(t))
        ok(frees[1] == frees[2] == frees[3], f"runs leave free memory as it was: {frees} KiB", frees)


guarded(programs, "run")
sys.exit(finish())
