#!/usr/bin/env python3
"""Physical memory in QEMU: one boot line per zone (three with -m 3G), the
mm KTAP suite at every memory size, and page faults from the kernel page
table: write to kernel text, stack overflow into the guard page."""
import re
import subprocess
import sys

from tally import KERNEL, Tally, finish, guarded, ok

EXIT_FATAL_TRAP = 3


def symbol(name):
    out = subprocess.run(["riscv64-unknown-elf-nm", KERNEL], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise KeyError(name)


def zones():
    for mem, names in (("64M", ["DMA", "Normal"]), ("3G", ["DMA", "Normal", "High"])):
        with Tally(mem=mem) as t:
            log = t.boot()
            found = re.findall(r"^zone (\w+) +([0-9a-f]+)-([0-9a-f]+) +(\d+) MiB", log, re.M)
            ok([z[0] for z in found] == names, f"-m {mem}: boot prints zones {names}", log)
            if mem == "3G":
                high = [z for z in found if z[0] == "High"]
                ok(high and high[0][1] == "100000000" and high[0][2] == "140000000",
                   "-m 3G: High zone spans 4 GiB..5 GiB", log)
            ok("paging: Sv39" in log, f"-m {mem}: paging on", log)


def selftest_all():
    for mem in ("64M", "128M", "1G", "3G"):
        with Tally(mem=mem, append="selftest=all") as t:
            code, out = t.wait_exit(timeout=120)
            cases = re.findall(r"^    (not )?ok \d+ (\S+)", out, re.M)
            for bad, name in cases:
                ok(not bad, f"-m {mem}: {name}", out)
            ok(len(cases) >= 15 and code == 0, f"-m {mem}: selftest=all exits 0 (got {code})", out)


def fault(kind, addr, note):
    with Tally() as t:
        t.boot()
        t.send(f"crash {kind}\n")
        code, out = t.wait_exit()
        ok("KERNEL FAULT: store page fault" in out, f"crash {kind}: store page fault", out)
        m = re.search(r"faulting address: ([0-9a-f]{16})(.*)", out)
        ok(m is not None and addr(int(m.group(1), 16)) and note in m.group(2),
           f"crash {kind}: faulting address named{' with ' + note if note else ''}", out)
        ok(code == EXIT_FATAL_TRAP, f"crash {kind}: exit status {EXIT_FATAL_TRAP} (got {code})")


guarded(zones, "zones")
guarded(selftest_all, "selftest all")
text = symbol("_text_start")
guard = symbol("_boot_stack_guard")
guarded(lambda: fault("text", lambda a: a == text, ""), "crash text")
guarded(lambda: fault("stack", lambda a: guard <= a < guard + 4096, "stack overflow"), "crash stack")
sys.exit(finish())
