#!/usr/bin/env python3
"""mmap, munmap, mprotect and madvise (kernel/mman.h) from real programs of /bin
run by the shell's `run`, and the `mman` KTAP suite (scripted U-mode
programs checking each call's refusals, splits and faults) at -smp 1 and
-smp 2.

demandpage maps 64 MiB and touches one page in sixteen: pages read zero
before their first write and keep their patterns. mmaptest's checks
(partial munmap, MAP_FIXED_NOREPLACE into a hole and refused over a
mapping, MAP_FIXED replacing a page, mprotect and back, bad arguments,
a hint, MAP_POPULATE) pass in its own process; each of its fault cases
(an unmapped page, a store to a read-only page, a load from PROT_NONE,
a jump into a non-executable mapping) ends with Linux's segmentation
fault report and exit status 139. Free memory after a round of all of
them equals what was in use after the round before (the slab caches'
empty slabs aside), and memcheck is clean."""
import os
import re
import sys

from tally import ROOT, Tally, finish, guarded, ok, parse_kv

IMG = os.path.join(ROOT, "build", "disk.img")
FAULTS = {   # case: (access kind reported, the address is the mapping's)
    "unmapped": "load",
    "readonly": "store",
    "none": "load",
    "exec": "exec",
}


def held_kib(t):
    """Memory in use less what the slab caches hold (empty slabs kept
    for reuse grow with the size classes a program's run happened to
    need): what a leaked frame or table of a process would raise."""
    kv = parse_kv(t.cmd("memstat"))
    slabs = re.search(r"\((\d+) KiB held\)", kv["fragmentation"])
    return int(kv["used"].split()[0]) - int(slabs.group(1))


def one_round(t):
    out = t.cmd("run /bin/demandpage", timeout=120)
    kv = parse_kv(out)
    ok(kv.get("demandpage") == "mapped_kib=65536 stride=16" and kv.get("touched") == "1024" and
       kv.get("zero_before_write") == "ok" and kv.get("patterns") == "ok" and
       kv.get("result") == "PASS" and "run:" not in out,
       "demandpage: 64 MiB mapped, 1024 sparse pages zero then patterned, exit 0", out)
    out = t.cmd("run /bin/mmaptest nofault", timeout=120)
    ok(out == "mmaptest: split checked\nmmaptest: protect checked\n"
              "mmaptest: arguments checked\nmmaptest: file pages checked\nresult: PASS\n",
       "mmaptest nofault: every check passes, exit 0", out)
    for case, kind in FAULTS.items():
        out = t.cmd(f"run /bin/mmaptest fault {case}", timeout=60)
        m = re.search(r"^pid \d+ \(mmaptest\): segmentation fault at 0x([0-9a-f]+) "
                      rf"\({kind}\), pc 0x([0-9a-f]+)$", out, re.M)
        # the mapping lies top-down below USER_MMAP_TOP (0x3fff6ff000)
        ok(m and 0x2000000000 <= int(m.group(1), 16) < 0x3fff6ff000 and "survived" not in out,
           f"mmaptest fault {case}: a segmentation fault ({kind}) in the mapping", out)
        if case == "exec" and m:
            ok(m.group(1) == m.group(2), "fault exec: the pc is the faulting address", out)
        ok(out.rstrip().endswith("run: /bin/mmaptest: exit status 139"),
           f"mmaptest fault {case}: exit status 139", out)


def programs():
    with Tally(drive=IMG) as t:
        t.boot()
        used = []
        for _ in range(3):
            one_round(t)
            used.append(held_kib(t))
        ok(used[0] == used[1] == used[2],
           f"each round leaves memory in use (beside slab caches) as it was: {used} KiB", used)
        out = t.cmd("memcheck")
        ok(out == "memcheck: ok\n", "memcheck clean afterwards", out)


def suite(smp):
    with Tally(append="selftest=mman", smp=smp) as t:
        code, out = t.wait_exit(timeout=120)
    cases = re.findall(r"^    (not )?ok \d+ (\S+)", out, re.M)
    ok(len(cases) == 9 and not any(bad for bad, _ in cases) and code == 0,
       f"-smp {smp}: mman suite passes ({len(cases)} cases, exit {code})", out[-2000:])
    for name, kind in (("mman_none", "load"), ("mman_readonly", "store"),
                       ("mman_unmapped", "load"), ("mman_noexec", "exec")):
        ok(re.search(rf"pid \d+ \({name}\): segmentation fault at 0x204000[01]000 \({kind}\)", out),
           f"-smp {smp}: {name} reported as a {kind} fault in the mapping", out)
    ok("KERNEL FAULT" not in out, f"-smp {smp}: no kernel fault", out)


guarded(programs, "programs")
for n in (1, 2):
    guarded(lambda n=n: suite(n), f"-smp {n}")
sys.exit(finish())
