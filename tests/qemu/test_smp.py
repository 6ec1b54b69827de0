#!/usr/bin/env python3
"""Harts (issue 17, first steps): every hart of -smp 1..8 comes online with
its own stacks and tick, listed at boot and by `harts`; the smp KTAP suite
(cross-hart calls, the ticket lock under contention, the mm stack on every
hart at once) passes; mmstress runs on several harts handing blocks to each
other; a fault or a panic on a secondary hart stops every hart, names that
hart and exits with the documented status. The suite's mm cases run up to
-smp 4: with more harts than this machine has cores (QEMU's harts are host
threads) the slow paths' one mm lock makes them crawl, which says nothing
about Tally."""
import os
import re
import sys
import time

from tally import Tally, finish, guarded, ok

EXIT_FATAL_TRAP = 3
IMG = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                   "build", "disk.img")
EXIT_PANIC = 4


def online(n):
    with Tally(smp=n) as t:
        log = t.boot()
        ids = " ".join(str(i) for i in range(n))
        ok(re.search(r"^harts: %d online \(ids %s\), booted on \d$" % (n, ids), log, re.M),
           f"-smp {n}: boot line names every hart", log[-600:])
        rows = [l.split() for l in t.cmd("harts").splitlines()[1:]]
        ok(len(rows) == n and all(r[2] == "online" for r in rows) and
           sorted(int(r[1]) for r in rows) == list(range(n)),
           f"-smp {n}: harts lists {n} online", rows)
        time.sleep(0.5)   # every hart takes a few 10 ms ticks
        rows = [l.split() for l in t.cmd("harts").splitlines()[1:]]
        ok(all(int(r[3]) > 0 for r in rows), f"-smp {n}: every hart takes its tick", rows)


def suite():
    for n in (1, 2, 4):
        with Tally(smp=n, append="selftest=smp", drive=IMG) as t:   # the bcache case reads it
            code, out = t.wait_exit(timeout=120)
            cases = re.findall(r"^    (not )?ok \d+ (\S+)", out, re.M)
            ok(len(cases) == 16 and not any(bad for bad, _ in cases) and code == 0,
               f"-smp {n}: smp suite passes", out[-1500:])


def secondary(kind, hart, cause, code_want):
    with Tally(smp=4) as t:
        t.boot()
        t.send(f"crash {kind} {hart}\n")
        code, out = t.wait_exit(timeout=30)
        ok(re.search(cause, out) is not None, f"crash {kind} on hart {hart}: report names it",
           out[-1500:])
        ok(code == code_want, f"crash {kind} on hart {hart}: exit status {code_want} (got {code})")


def mmstress():
    with Tally(smp=4) as t:
        t.boot()
        # few ops: the slow paths share one mm lock, and this machine has 2 cores
        for mode, ops in (("hybrid", 1000), ("simple", 300)):
            t.cmd(f"setmode {mode}")
            out = t.cmd(f"mmstress {ops} 11 harts=4", timeout=300)
            m = re.search(r"^mmstress: harts=4 ops_per_hart=(\d+)/(\d+)/(\d+)/(\d+) "
                          r"cross_hart_frees=(\d+)$", out, re.M)
            ok(m and all(int(x) == ops for x in m.groups()[:4]) and int(m.group(5)) > 0,
               f"mmstress harts=4 ({mode}): every hart ran its ops, blocks freed across harts",
               out)
            ok(re.search(r"^mmstress: ops=%d failures=0 corrupt=0 leaked_bytes=0 "
                         r"result=PASS$" % (4 * ops), out, re.M),
               f"mmstress harts=4 ({mode}): PASS", out)
        ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck clean after them")
        out = t.cmd("mmstress 10 1 harts=5")
        ok("not a count of online harts" in out, "harts=5 on 4 harts: refused, said why", out)


def refusals():
    with Tally(smp=2) as t:
        t.boot()
        out = t.cmd("crash panic 7")
        ok("crash: no hart 7 online" in out, "crash on a hart that is not online: said", out)
        out = t.cmd("crash bogus 1")
        ok(out.startswith("usage: crash"), "crash with an unknown kind on a hart: usage", out)
        ok("online" in t.cmd("harts"), "the machine goes on")


guarded(lambda: online(1), "online 1")
guarded(lambda: online(4), "online 4")
guarded(lambda: online(8), "online 8")
guarded(suite, "smp suite")
guarded(mmstress, "mmstress harts=4")
guarded(lambda: secondary("panic", 2, r"PANIC: crash panic: on purpose\non hart 2 \(id \d\)",
                          EXIT_PANIC), "panic on hart 2")
guarded(lambda: secondary("null", 1, r"KERNEL FAULT: load page fault \(scause 13\) on hart 1",
                          EXIT_FATAL_TRAP), "fault on hart 1")
guarded(refusals, "refusals")
sys.exit(finish())
