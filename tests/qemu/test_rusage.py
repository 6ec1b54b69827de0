#!/usr/bin/env python3
"""getrusage(2) and wait4's rusage (Linux's kernel/sys.c and kernel/exit.c
semantics): /bin/rusagetest checks, from inside, a child's minor faults
and high-water mark against the N pages it touched (exactly, by the
child's own getrusage; against a `touch 0` child's within one page of
initial stack, by the parent's wait4), RUSAGE_CHILDREN growing by what
wait4 reported, a grandchild's usage coming with its parent's, CPU time
after burning (at least what was burned, no more than the wall time,
agreeing with times(2); with N harts a process moved at each slice can
be charged a tick by each in one tick's time, so the bound is N times
(the wall time plus a tick)), RUSAGE_THREAD as RUSAGE_SELF, and the refusals
(-EINVAL for a bad who, -EFAULT with nothing written for a NULL, kernel,
read-only or half-mapped buffer, wait4 leaving the child unreaped). Run
on one hart and on two (children then run and are charged ticks on the
other hart). The figures it prints are checked here once more: the
touching child's peak is at least N pages above nothing."""
import os
import re
import sys

from tally import ROOT, Tally, finish, guarded, ok

IMG = os.path.join(ROOT, "build", "disk.img")
PAGES = 1024


def rusage(smp):
    with Tally(drive=IMG, smp=smp) as t:
        t.boot()
        out = t.cmd(f"run /bin/rusagetest {smp}", timeout=120)
        ok(out.rstrip().endswith("result: PASS") and "FAIL" not in out,
           f"-smp {smp}: rusagetest passes", out)
        m = re.search(rf"^rusagetest: touch 0: minflt=(\d+) maxrss=(\d+); touch {PAGES}: "
                      r"minflt=(\d+) maxrss=(\d+) KiB$", out, re.M)
        ok(m and int(m.group(3)) >= PAGES and int(m.group(4)) >= PAGES * 4 and
           int(m.group(4)) % 4 == 0, f"-smp {smp}: the toucher's figures: {m and m.groups()}", out)
        ok(t.cmd("memcheck") == "memcheck: ok\n", f"-smp {smp}: memcheck clean afterwards")


guarded(lambda: rusage(1), "rusage -smp 1")
guarded(lambda: rusage(2), "rusage -smp 2")
sys.exit(finish())
