#!/usr/bin/env python3
"""fsstress under hog with other harts stressing memory (issue 17, Tests):
`mmstress [ops] [seed] harts=N bg` runs mmstress's stress on harts 1..N
while the shell goes on on hart 0; `mmstress status` says how far it got,
`mmstress wait` prints its summary, `mmstress stop` stops it first.

On -smp 4 with build/disk.img: hog leaves 1 MiB free, a stress of 20,000
ops starts on harts 1-3 and is still running when `fsstress 2` starts;
fsstress passes (its leak check samples while the stress is parked), the
stress passes, nothing is left in use and memcheck is clean (also while it
runs). While it runs: memstat and memcheck work; a second `bg`, a
foreground mmstress, txn, bench, benchfile, selftest refuse in one line
naming the harts and why (and, once it has finished, until wait has
printed its summary); crash on one of its harts says it is busy. With
none running, wait and stop say so. harts=N out of 1..online-1 and `bg`
on -smp 1 are refused in one line, starting nothing. A Ctrl-C during
fsstress stops fsstress only; `mmstress stop` and a Ctrl-C during `mmstress
wait` stop the stress, which frees all it held (summary INTERRUPTED, the
prompt back within half a second)."""
import os
import re
import subprocess
import sys
import time

from tally import PROMPT, ROOT, Tally, finish, guarded, ok

IMG = os.path.join(ROOT, "build", "disk.img")


def volume_files():
    """The files fsstress reads in one pass: those /SHA256SUMS lists (all
    but itself; /bin's count changes as programs are added)."""
    sums = subprocess.run(["mtype", "-i", IMG, "::/SHA256SUMS"], check=True, capture_output=True,
                          env=dict(os.environ, MTOOLS_SKIP_CHECK="1")).stdout
    return len(sums.splitlines())
REFUSED = "refused while the background mmstress runs on harts 1/2/3: "
PROMPT_WITHIN = 0.5   # seconds from Ctrl-C to the prompt (test_interrupt.py)


def in_use(t):
    """KiB in use per object allocator, after the caches were given back."""
    t.cmd("hog leave 0")
    t.cmd("hog release")
    out = t.cmd("memstat counters")
    return dict(re.findall(r"^(slab|large|heap) +\d+ +\d+ +\d+ +(\d+) +\d+$", out, re.M))


def status(t):
    """(state, [ops done per hart]) from `mmstress status`."""
    out = t.cmd("mmstress status").strip()
    m = re.fullmatch(r"mmstress: bg=(\w+)(?: harts=\d+ on=[\d/]+ ops_per_hart=\d+ "
                     r"done_per_hart=([\d/]+))?", out)
    if not m:
        return out, []
    return m.group(1), [int(x) for x in (m.group(2) or "").split("/") if x]


def summary_ok(out, harts, ops, result):
    per = "/".join([str(ops)] * harts) if result == "PASS" else r"[\d/]+"
    return (re.search(rf"^mmstress: harts={harts} ops_per_hart={per} cross_hart_frees=\d+$",
                      out, re.M) is not None and
            re.search(rf"^mmstress: ops=\d+ failures=\d+ corrupt=0 leaked_bytes=0 "
                      rf"result={result}$", out, re.M) is not None)


def refusals_while_running(t):
    out = t.cmd("mmstress 10 bg").strip()
    ok(out == "mmstress: a background mmstress already runs on harts 1/2/3 "
       "(mmstress wait or stop first)", "a second bg: refused in one line", out)
    for cmd in ("mmstress 10", "txn", "bench small", "benchfile /README.txt", "selftest lib"):
        name = cmd.split()[0]
        out = t.cmd(cmd).strip()
        ok(out.startswith(f"{name}: {REFUSED}") and out.endswith("(mmstress wait or stop first)")
           and "\n" not in out, f"{cmd}: refused in one line, saying why", out)
    out = t.cmd("crash panic 2").strip()
    ok(out.startswith("crash: hart 2 is busy"), "crash on a hart of the stress: busy, said", out)
    ok("health:" in t.cmd("memstat"), "memstat works meanwhile")


def under_hog():
    with Tally(smp=4, drive=IMG) as t:
        t.boot()
        t.cmd("setmode twotier")
        before = in_use(t)
        out = t.cmd("hog leave 1M")
        ok(out.startswith("hog: holding"), "hog leave 1M", out)
        out = t.cmd("mmstress 20000 7 harts=3 bg").strip()
        ok(re.fullmatch(r"mmstress: bg=started harts=3 on=1/2/3 ops_per_hart=20000 seed=7 "
                        r"mode=twotier", out), "bg: one line, at once", out)
        state, done = status(t)
        ok(state == "running" and len(done) == 3 and all(d < 20000 for d in done),
           "status: running on three harts", (state, done))
        out = t.cmd("fsstress 2", timeout=120)
        ok(re.search(rf"^fsstress: files={2 * volume_files()} bytes=\d+ enomem=\d+ fallbacks=\d+ "
                     r"mismatches=0 "
                     r"leaked_bytes=0 result=PASS$", out, re.M),
           "fsstress 2 under hog with harts 1-3 stressing memory: PASS", out)
        ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck meanwhile: ok")
        out = t.cmd("mmstress wait", timeout=120)
        ok(summary_ok(out, 3, 20000, "PASS"), "mmstress wait: every hart ran its ops, PASS", out)
        ok(status(t)[0] == "none", "status after wait: none")
        for what in ("wait", "stop"):
            out = t.cmd(f"mmstress {what}").strip()
            ok(out == f"mmstress: {what}: no background mmstress runs (mmstress [ops] [seed] "
               "[harts=N] bg starts one)", f"{what} with none running: said in one line", out)
        ok(t.cmd("hog release").startswith("hog: holding 0 KiB"), "hog release")
        ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck after it all: ok")
        ok(in_use(t) == before, "nothing left in use", (before, in_use(t)))
        for arg in ("harts=4", "harts=0", "harts=9"):
            out = t.cmd(f"mmstress 10 1 {arg} bg").strip()
            ok(out == f"mmstress: {arg}: bg runs on harts 1..N, hart 0 stays the shell's: "
               "N is 1 to 3", f"{arg} bg on 4 harts: refused in one line", out)
        ok(status(t)[0] == "none", "the refusals started nothing")


def stopping():
    with Tally(smp=4, drive=IMG) as t:
        log = t.boot()
        ok("harts: 4 online" in log, "-smp 4: four harts online (else the boot says which is left out)",
           "\n".join(l for l in log.splitlines() if l.startswith("harts:")))
        before = in_use(t)
        out = t.cmd("mmstress 4000000000 3 harts=3 bg")
        ok("bg=started" in out, "a long stress started", out)
        t.send("fsstress 4294967295\n")
        t.expect("fsstress 4294967295", 10)
        time.sleep(0.3)
        t.send("\x03")
        out = t.expect("\n" + PROMPT, 10)
        ok(re.search(r"^fsstress: .* result=INTERRUPTED\nfsstress: interrupted$", out, re.M),
           "Ctrl-C during fsstress: fsstress stops", out[-300:])
        refusals_while_running(t)
        ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck while the stress runs: ok")
        _, first = status(t)
        time.sleep(0.3)
        state, later = status(t)
        ok(state == "running" and len(later) == 3 and
           all(a < b for a, b in zip(first, later)), "... the stress goes on", (first, later))
        out = t.cmd("mmstress stop", timeout=30)
        ok(summary_ok(out, 3, 4000000000, "INTERRUPTED") and "mmstress: interrupted" not in out,
           "mmstress stop: the summary, INTERRUPTED, nothing leaked", out)
        out = t.cmd("mmstress 4000000000 5 harts=2 bg")
        ok("bg=started harts=2 on=1/2" in out, "another, on two harts", out)
        t.send("mmstress wait\n")
        t.expect("mmstress wait", 10)
        time.sleep(0.3)
        t0 = time.monotonic()
        t.send("\x03")
        out = t.expect("\n" + PROMPT, 10)
        took = time.monotonic() - t0
        ok(summary_ok(out, 2, 4000000000, "INTERRUPTED") and
           out.rstrip().endswith("mmstress: interrupted"),
           "Ctrl-C during mmstress wait: the stress stops, its summary, interrupted", out)
        ok(took < PROMPT_WITHIN, f"prompt {took:.3f} s after Ctrl-C")
        ok(status(t)[0] == "none", "none running after it")
        finished_unread(t)
        ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck ok")
        ok(in_use(t) == before, "nothing left in use", (before, in_use(t)))


def finished_unread(t):
    """A finished stress keeps its summary, and refusals, until wait."""
    ok("bg=started harts=1 on=1 " in t.cmd("mmstress 100 4 harts=1 bg"), "a short one on hart 1")
    deadline = time.monotonic() + 20
    while status(t)[0] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    state, done = status(t)
    ok(state == "finished" and done == [100], "status: finished, every op done", (state, done))
    unread = "the background mmstress on harts 1 has finished, its summary unread " \
             "(mmstress wait first)"
    out = t.cmd("txn").strip()
    ok(out == "txn: refused while " + unread, "txn until it is collected: refused, said", out)
    out = t.cmd("mmstress 10 bg").strip()
    ok(out == "mmstress: " + unread, "another bg until it is collected: refused, said", out)
    out = t.cmd("mmstress wait")
    ok(summary_ok(out, 1, 100, "PASS"), "wait: its summary, PASS", out)


def one_hart():
    with Tally(smp=1) as t:
        t.boot()
        for cmd in ("mmstress 10 bg", "mmstress 10 1 harts=1 bg"):
            out = t.cmd(cmd).strip()
            ok(out == "mmstress: bg: no hart but the shell's is online (-smp 1): nothing to "
               "run it on", f"-smp 1: '{cmd}' refused in one line", out)
        ok(status(t)[0] == "none", "-smp 1: nothing started")
        ok("result=PASS" in t.cmd("mmstress 100"), "-smp 1: mmstress in the foreground still runs")


guarded(under_hog, "fsstress under hog with a background stress")
guarded(stopping, "stopping a background stress")
guarded(one_hart, "-smp 1")
sys.exit(finish())
