#!/usr/bin/env python3
"""A process's kernel stack lies above an unmapped guard (kernel/kstack.h):
`crash kstack` starts a process whose kernel part recurses until it runs
into the guard. The trap cannot push its frame on that stack; it is taken
on the hart's overflow stack and reported: "kernel stack overflow" naming
the process (pid, name) and the faulting address, which must lie in the
guard just below the stack the line names, then the usual fault report
with a backtrace through the recursion, and the machine stops with exit
status 3 (EXIT_FATAL_TRAP), as Linux panics. On one hart and on two (the
process may run on either).
Every frame and table page of a process's kernel stack coming back is
`selftest proc`'s to check (test_proc.py: each process's pages with every
cache drained, and its kernel_stacks_guarded case for the region).
"""
import re
import sys

from tally import Tally, finish, guarded, ok

EXIT_FATAL_TRAP = 3
GUARD = 32 * 1024
SIZE = 32 * 1024


def overflow(smp):
    with Tally(smp=smp) as t:
        t.boot()
        t.send("crash kstack\n")
        code, out = t.wait_exit(timeout=60)
    r = re.search(r"\*\*\* kernel stack overflow: pid (\d+) \(kstack\) at 0x([0-9a-f]+), "
                  r"below its stack \[0x([0-9a-f]+), 0x([0-9a-f]+)\), sp 0x[0-9a-f]+\n", out)
    ok(r is not None and int(r.group(1)) > 0,
       f"-smp {smp}: 'kernel stack overflow' names the process (pid, kstack)", out[-3000:])
    if r:
        addr, lo, hi = (int(r.group(i), 16) for i in (2, 3, 4))
        ok(hi - lo == SIZE and lo - GUARD <= addr < lo,
           f"-smp {smp}: the address 0x{addr:x} lies in the guard below [0x{lo:x}, 0x{hi:x})")
    ok(re.search(r"faulting address: [0-9a-f]{16} \(kernel stack guard: stack overflow\)", out)
       is not None, f"-smp {smp}: the fault report names the guard", out[-3000:])
    ok(re.search(r"backtrace:\n  #0 +[0-9a-f]{16} recurse_deep\+0x[0-9a-f]+\n"
                 r"  #1 +[0-9a-f]{16} recurse_deep\+", out) is not None,
       f"-smp {smp}: the backtrace walks the process's kernel stack", out[-2500:])
    ok(code == EXIT_FATAL_TRAP, f"-smp {smp}: exit status {EXIT_FATAL_TRAP} (got {code})")


guarded(lambda: overflow(1), "crash kstack -smp 1")
guarded(lambda: overflow(2), "crash kstack -smp 2")
sys.exit(finish())
