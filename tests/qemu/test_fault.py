#!/usr/bin/env python3
"""Fault tests: a deliberate kernel fault prints the trap report (cause,
sepc, stval, registers, backtrace) and QEMU exits non-zero, a panic exits 4; the boot-time
self-tests print KTAP and set the exit status."""
import re
import sys

from tally import Tally, finish, guarded, ok

EXIT_FATAL_TRAP = 3
EXIT_PANIC = 4


def crash(kind, cause, addr=None, via_bootarg=False):
    def run():
        with Tally(append=f"crash={kind}" if via_bootarg else None) as t:
            if not via_bootarg:
                t.boot()
                t.send(f"crash {kind}\n")
            code, out = t.wait_exit()
            how = "boot argument" if via_bootarg else "shell"
            ok(f"KERNEL FAULT: {cause}" in out, f"crash {kind} ({how}): cause named", out)
            ok(re.search(r"sepc=[0-9a-f]{16} stval=[0-9a-f]{16}", out) is not None,
               f"crash {kind} ({how}): sepc and stval shown", out)
            ok(" ra=" in out and " sp=" in out and "t6=" in out,
               f"crash {kind} ({how}): registers dumped", out)
            callers = (r"  #1 +[0-9a-f]{16} kmain\+0x[0-9a-f]+\n" if via_bootarg else
                       r"  #1 +[0-9a-f]{16} cmd_crash\+0x[0-9a-f]+\n"
                       r"  #2 +[0-9a-f]{16} sh_exec\+0x[0-9a-f]+\n")
            ok(re.search(r"backtrace:\n  #0 +[0-9a-f]{16} crash\+0x[0-9a-f]+\n" + callers, out)
               is not None, f"crash {kind} ({how}): backtrace names the functions", out)
            if addr is not None:
                ok(f"faulting address: {addr:016x}" in out,
                   f"crash {kind} ({how}): faulting address named", out)
            ok(code == EXIT_FATAL_TRAP, f"crash {kind} ({how}): exit status {EXIT_FATAL_TRAP} (got {code})")
    guarded(run, f"crash {kind}")


def panic():
    with Tally() as t:
        t.boot()
        t.send("crash panic\n")
        code, out = t.wait_exit()
        ok("PANIC: crash panic: on purpose" in out, "crash panic: the message", out)
        ok(re.search(r"backtrace:\n  #0 +[0-9a-f]{16} panic\+0x[0-9a-f]+\n"
                     r"  #1 +[0-9a-f]{16} crash\+0x[0-9a-f]+\n"
                     r"  #2 +[0-9a-f]{16} cmd_crash\+0x[0-9a-f]+\n"
                     r"  #3 +[0-9a-f]{16} sh_exec\+0x[0-9a-f]+\n", out) is not None,
           "crash panic: backtrace from panic() through its caller", out)
        ok(code == EXIT_PANIC, f"crash panic: exit status {EXIT_PANIC} (got {code})")


def crash_unknown_bootarg():
    with Tally(append="crash=bogus") as t:
        log = t.boot()
        ok("crash: no kind bogus (null|text|illegal|stack|kstack|panic|lock)" in log,
           "crash=bogus: the boot says there is no such kind, and goes on", log[-300:])


def selftest_boot():
    with Tally(append="selftest=all") as t:
        code, out = t.wait_exit(timeout=120)
        ok(out.count("KTAP version 1") >= 2, "selftest=all prints KTAP", out)
        ok(re.search(r"^1\.\.\d+$", out, re.M) is not None, "KTAP plan line present", out)
        ok("not ok" not in out, "every in-kernel test passes", out)
        ok(code == 0, f"selftest pass: exit status 0 (got {code})")


def selftest_unknown():
    with Tally(append="selftest=nosuchsuite") as t:
        code, out = t.wait_exit()
        ok("no suite named nosuchsuite" in out, "unknown suite is named", out)
        ok(code == 1, f"unknown suite: exit status 1 (got {code})")


crash("null", "load page fault", addr=0)
crash("illegal", "illegal instruction")
crash("null", "load page fault", addr=0, via_bootarg=True)
guarded(panic, "panic")
guarded(crash_unknown_bootarg, "crash=bogus")
guarded(selftest_boot, "selftest boot")
guarded(selftest_unknown, "selftest unknown")
sys.exit(finish())
