#!/usr/bin/env python3
"""Boot tests: every memory size reaches the prompt, the basic commands
work, unknown commands are refused, poweroff exits 0, extra harts park."""
import re
import sys

from tally import Tally, diag, finish, guarded, ok


def boot_sizes():
    for mem, mib in (("64M", 64), ("128M", 128), ("1G", 1024), ("3G", 3072)):
        def one(mem=mem, mib=mib):
            with Tally(mem=mem) as t:
                log = t.boot()
                ok(f"memory: {mib} MiB RAM" in log, f"-m {mem}: boot log reports {mib} MiB", log)
                ok(t.cmd("echo alive").strip() == "alive", f"-m {mem}: shell answers")
                t.send("poweroff\n")
                code, _ = t.wait_exit()
                ok(code == 0, f"-m {mem}: poweroff exits 0 (got {code})")
        guarded(one, f"boot -m {mem}")


def commands():
    with Tally() as t:
        log = t.boot()
        ok("devices: uart@10000000" in log, "boot log names the UART found in the device tree", log)
        ok(t.cmd("echo hello").strip() == "hello", "echo hello prints hello")
        ok(t.cmd('echo "a  b" c').strip() == "a  b c", "quoted argument keeps its spaces")
        ok(t.cmd("frobnicate now").strip() == "unknown command: frobnicate (type help)",
           "unknown command is named")
        ok(re.search(r"^Tally \d+\.\d+\.\d+ riscv64", t.cmd("version"), re.M) is not None,
           "version prints the version")
        up = t.cmd("uptime")
        ok(re.search(r"^uptime: \d+\.\d{3} s$", up, re.M) is not None, "uptime prints seconds", up)
        helptext = t.cmd("help")
        ok(all(c in helptext for c in ("echo", "uptime", "version", "poweroff", "help")),
           "help lists the basic commands", helptext)
        ok(t.cmd("version extra").strip() == "usage: version", "wrong arguments print the usage")
        t.send("poweroff\n")
        code, _ = t.wait_exit()
        ok(code == 0, f"poweroff: QEMU exit status 0 (got {code})")


def smp():
    with Tally(smp=4) as t:
        log = t.boot()
        # OpenSBI's boot-hart lottery may pick any hart
        ok(re.search(r"^harts: 4 online \(ids 0 1 2 3\), booted on [0-3]$", log, re.M)
           is not None, "-smp 4: every hart online", log)
        ok(t.cmd("echo smp").strip() == "smp", "-smp 4: shell answers")


guarded(boot_sizes, "boot sizes")
guarded(commands, "commands")
guarded(smp, "smp")
sys.exit(finish())
