#!/usr/bin/env python3
"""User processes, first step (kernel/proc.h): the `proc` KTAP suite runs
small U-mode programs (src/arch/riscv/selftest_user.S) in address spaces
of their own and checks each exit status and that every page comes back.
Here: the suite passes on one hart and on four (processes run on every
hart, moving between them; each trap finds its hart's tp from the kernel
stack's top word, which the scheduler sets; its cases kill spinning
processes on every hart, keep a zombie until reaped, fill the process
table), the
program's own output reaches the console, and each fault is reported in
the form the issue gives, Linux's shape: `pid N (name): segmentation
fault at ADDR (load|store|exec), pc PC`."""
import re
import sys

from tally import Tally, finish, guarded, ok

CASES = 22


def suite(smp):
    with Tally(append="selftest=proc", smp=smp) as t:
        code, out = t.wait_exit(timeout=60)
    cases = re.findall(r"^    (not )?ok \d+ (\S+)", out, re.M)
    ok(len(cases) == CASES and not any(bad for bad, _ in cases) and code == 0,
       f"-smp {smp}: proc suite passes ({len(cases)} cases, exit {code})", out[-1500:])
    ok("proc: hello from user space\n" in out, f"-smp {smp}: the program's write reaches the console", out)
    want = [
        r"pid \d+ \(null\): segmentation fault at 0x0 \(load\), pc 0x2000000000\n",
        r"pid \d+ \(store-text\): segmentation fault at 0x2000000000 \(store\), pc 0x2000000008\n",
        r"pid \d+ \(kernel-load\): segmentation fault at 0x80200000 \(load\), pc 0x2000000006\n",
        r"pid \d+ \(stack-limit\): segmentation fault at 0x3fff7fd000 \(store\), pc 0x200000000a\n",
        r"pid \d+ \(illegal\): illegal instruction at pc 0x2000000000\n",
    ]
    for w in want:
        ok(re.search(w, out), f"-smp {smp}: reported as {w[:-2]!r}", out)
    ok("KERNEL FAULT" not in out, f"-smp {smp}: no kernel fault", out)


for n in (1, 4):
    guarded(lambda n=n: suite(n), f"-smp {n}")
sys.exit(finish())
