#!/usr/bin/env python3
"""`bench WORKLOAD MODE [ops] harts=N` (issue 17): one trace run on N harts at
once. Boots -smp 4 -icount shift=0 (exact counts; the harts take turns on
one host thread). A run prints a line per hart and a total whose ops are the
sum of the harts', with instructions per op and a concurrency of at most N;
on 1 hart the hart's span is the total. A run on 3 harts runs to the end
or, when the slow paths' one mm lock makes harts wait through each other's turns
(QEMU's, which last up to millions of instructions), is stopped after 20 s.
A long run on 4 harts is stopped with Ctrl-C at once: it prints what was
done and frees every block. Refusals (harts=0, more harts than are online,
not a number, all workloads or modes, a list) print one line and take
nothing; so does a run whose second hart's slot array cannot be had
(fault injection), the first hart's given back. The mode and the integrity check are as they were at the end."""
import re
import sys
import time

from tally import PROMPT, Tally, Timeout, diag, finish, guarded, ok

HART = re.compile(r"^bench small twotier hart=(\d+) ops=(\d+) elapsed_instr=(\d+) "
                  r"elapsed_per_op=(\d+\.\d) failures=(\d+)$", re.M)
TOTAL = re.compile(r"^bench small twotier harts=(\d+) ops=(\d+) instructions=(\d+) "
                   r"instr_per_op=(\d+\.\d) ticks_per_op=(\d+\.\d) concurrency=(\d+\.\d) failures=(\d+)$", re.M)
SMALL_OPS = 20002   # the least `small` runs: fill 10,001 objects, free them


def in_use(t):
    """KiB in use per object allocator, after the caches were given back."""
    t.cmd("hog leave 0")
    t.cmd("hog release")
    out = t.cmd("memstat counters")
    return dict(re.findall(r"^(slab|large|heap) +\d+ +\d+ +\d+ +(\d+) +\d+$", out, re.M))


def run(t, line, limit):
    """Type line; Ctrl-C it if no prompt came within limit seconds.
    (output, stopped)."""
    t.send(line + "\n")
    t.expect(line, 10)
    try:
        return t.expect("\n" + PROMPT, limit), False
    except Timeout:
        t.send("\x03")
        t0 = time.monotonic()
        out = t.expect("\n" + PROMPT, 10)
        ok(time.monotonic() - t0 < 2, f"{line}: the prompt within 2 s of Ctrl-C")
        ok(re.search(r"^bench: interrupted$", out, re.M) is not None,
           f"{line}: bench: interrupted", out)
        return out, True


def check_lines(out, n, name, want_ops):
    """A line per hart (indexes 0..n-1) and a total that adds them up;
    want_ops: every hart's ops when it ran the whole trace, else None."""
    harts = HART.findall(out)
    total = TOTAL.findall(out)
    ok(sorted(int(h[0]) for h in harts) == list(range(n)) and len(total) == 1,
       f"{name}: a line per hart and a total", out)
    if len(total) != 1 or not harts:
        return
    ops = [int(h[1]) for h in harts]
    t_harts, t_ops, t_instr, t_per_op = int(total[0][0]), int(total[0][1]), int(total[0][2]), \
        float(total[0][3])
    ok(t_harts == n and t_ops == sum(ops), f"{name}: total ops {t_ops} = the harts' {ops}", out)
    ok(t_instr > 0 and t_per_op > 0 and all(float(h[3]) > 0 for h in harts),
       f"{name}: instructions per op > 0 (total {t_per_op})", out)
    ok(all(h[4] == "0" for h in harts) and total[0][6] == "0", f"{name}: no failures", out)
    ok(0 < float(total[0][5]) <= n, f"{name}: concurrency {total[0][5]} of at most {n}", out)
    if want_ops:
        ok(ops == [want_ops] * n, f"{name}: every hart ran the whole trace", out)
    else:
        ok(0 < t_ops, f"{name}: stopped part way, after {t_ops} ops", out)


def complete_runs(t):
    out = t.cmd("bench small twotier 1 harts=1", timeout=60)
    check_lines(out, 1, "harts=1", SMALL_OPS)
    h, tot = HART.search(out), TOTAL.search(out)
    ok(h and tot and h.group(3) == tot.group(3),
       "harts=1: the hart's span is the total", out)
    # a few million instructions each: they may fit in QEMU's turns and
    # finish at once, or queue on the mm lock a turn per op (then stopped)
    out, stopped = run(t, "bench small twotier 1 harts=3", 20)
    diag("harts=3: " + ("stopped after 20 s" if stopped else "ran to the end"))
    check_lines(out, 3, "harts=3", None if stopped else SMALL_OPS)


LIST = "bench: harts=2 runs one workload in one mode, not all or a list"
REFUSALS = [("small twotier harts=0", "bench: harts=0: at least 1 hart (4 online)"),
            ("small twotier harts=5", "bench: harts=5: more harts than are online (4 online)"),
            ("small twotier harts=four", "bench: harts=four: not a number"),
            ("all twotier harts=2", LIST),
            ("small all harts=2", LIST),
            ("small simple,twotier harts=2", LIST)]


def refusals(t):
    before = in_use(t)
    for args, want in REFUSALS:
        out = t.cmd(f"bench {args}").rstrip("\n")
        ok(out == want, f"bench {args}: one line saying why", out)
    after = in_use(t)
    ok(after == before, "refusals: nothing taken", f"{after} vs {before}")


def free_kib(t):
    """Free KiB after every cache was given back (hog's reclaim)."""
    t.cmd("hog leave 0")
    t.cmd("hog release")
    return int(re.search(r"^free: (\d+) KiB$", t.cmd("memstat"), re.M).group(1))


def no_memory_for_slots(t):
    """The second of two slot arrays fails (faultinj: the second page
    request): one line, ENOMEM, the first given back."""
    # the trace the failing run makes again (one hart: no turns to wait through)
    t.cmd("bench small twotier 1 harts=1", timeout=60)
    before = free_kib(t)
    t.cmd("faultinj scope=page interval=2 times=1")
    out = t.cmd("bench small twotier 1 harts=2", timeout=60)
    inj = t.cmd("faultinj")
    t.cmd("faultinj off")
    ok(out.rstrip("\n").endswith("bench: no memory for 2 harts' slot arrays") and
       HART.search(out) is None and TOTAL.search(out) is None,
       "harts=2 without memory for the second slot array: said, nothing run", out)
    ok(re.search(r"^injected: page 1,", inj, re.M) is not None,
       "the failure was fault injection's, on the second page request", inj)
    after = free_kib(t)
    ok(after == before, f"nothing kept: {after} KiB free, as before", f"{after} vs {before}")


def interrupted_run(t):
    """Four harts, 1,048,576 ops each: too long to finish in 0.5 s."""
    before = in_use(t)
    out, stopped = run(t, "bench small twotier 1048576 harts=4", 0.5)
    ok(stopped, "harts=4: still running after 0.5 s, stopped with Ctrl-C", out)
    check_lines(out, 4, "harts=4 (Ctrl-C)", None if stopped else 1048576)
    after = in_use(t)
    ok(after == before and after, "harts=4: every block freed", f"{after} vs {before}")


def session():
    with Tally(smp=4, extra=["-icount", "shift=0"]) as t:
        t.boot()
        t.cmd("setmode simple")
        for fn in (complete_runs, refusals, no_memory_for_slots, interrupted_run):
            guarded(lambda: fn(t), fn.__name__)
        ok(t.cmd("setmode").strip() == "mode: simple", "the mode is as it was")
        ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck ok after it all")


guarded(session, "session")
sys.exit(finish())
