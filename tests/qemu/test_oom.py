#!/usr/bin/env python3
"""Running out of memory from user space (issue 18): /bin/oomhog maps and
touches 1 MiB after another. Alone, it runs until mmap's commit check --
what a process can still get, above the zones' high watermarks -- says
ENOMEM (it stops cleanly, status 0) or, if the kernel took some of that
meanwhile, until a page fault finds no frame after reclaim and the OOM
decision kills it (Linux's oom-kill line naming it and its sizes, 137);
either way with more than 100 MiB of the 128 touched, the kernel goes
on, every frame comes back and the integrity check is clean.
Two at once (one in the background): each ends -- killed, or refused by
mmap's commit check -- one kill line per kill, and again nothing is left
behind.

Under each kmalloc mode (setmode simple, twotier, hybrid) the hog ends the
same way, fsstress passes afterwards and free memory is exactly the boot
figure: both measured after `hog leave 0` made the kernel reclaim every
cache it keeps (the harts' page lists, empty slabs, the block cache) and
`hog release` gave the pages back.

A hog that holds all a process can get (`oomhog hold`: MAP_POPULATE until
ENOMEM, in the background) takes no zone below its high watermark: user
frames are GFP_USER (mm/gfp.h), so each zone's free pages are exactly its
high watermark then, and the kernel's own allocations still succeed below
it (fsstress passes, memcheck is clean). A new process then finds no
frame for its segments: the OOM decision kills the hog, named with its
RSS, and the new one runs; every page comes back. So does a process
spawning 16 children while a holder keeps all but 512 KiB.

The OOM killer picks another process than the faulter, deterministically
(-smp 1 and 2): a holder keeps all but 4 MiB of what processes can get;
a second process touches a 16 MiB MAP_NORESERVE mapping (not committed,
so mmap does not refuse it first); its fault with no frame kills the
holder, named with the RSS ps showed, and it completes.

The `oom` KTAP suite fails each allocation of making a process in turn
(from an image, and spawning /bin/hello from the volume): each is a
clean -ENOMEM with nothing left allocated. Through the shell's faultinj,
processes whose mmap or page faults meet failed allocations leave
nothing behind either; a fault failing only by injection is retried
rather than making an OOM kill."""
import os
import re
import sys
import time

from tally import ROOT, Tally, diag, finish, guarded, ok, parse_kv

IMG = os.path.join(ROOT, "build", "disk.img")
LINE = r"^Out of memory: Killed process (\d+) \((\w+)\) total-vm:(\d+)kB, anon-rss:(\d+)kB, file-rss:0kB$"


def free_kib(t):
    return int(parse_kv(t.cmd("memstat"))["free"].split()[0])


def hogs():
    with Tally(drive=IMG) as t:
        t.boot()
        t.cmd("run /bin/hello")   # the caches as a run leaves them
        before = free_kib(t)
        out = t.cmd("run /bin/oomhog", timeout=240)
        kills = re.findall(LINE, out, re.M)
        refused = re.search(r"^oomhog: mmap: ENOMEM at (\d+) MiB$", out, re.M)
        ok((len(kills) == 1 and kills[0][1] == "oomhog" and int(kills[0][3]) > 100 * 1024 and
            out.rstrip().endswith("run: /bin/oomhog: exit status 137")) or
           (not kills and refused and int(refused.group(1)) > 100 and "run:" not in out),
           f"alone: refused by the commit check past 100 MiB (status 0), or killed with Linux's "
           f"line naming it and its RSS (137): {kills}", out[-600:])
        t.cmd("run /bin/hello")
        ok(abs(free_kib(t) - before) <= 8, f"alone: memory back ({before} KiB before)", free_kib(t))
        out = t.cmd("run /bin/oomhog &")
        pid = re.search(r"^\[(\d+)\]$", out, re.M)
        ok(pid, "a second hog in the background", out)
        out = t.cmd("run /bin/oomhog", timeout=240)
        seen = out
        deadline = time.monotonic() + 60   # the background one ends too
        while pid and f"[{pid.group(1)}] done" not in seen and time.monotonic() < deadline:
            time.sleep(0.2)
            seen += t.cmd("ps", timeout=30)
        ok(pid and f"[{pid.group(1)}] done" in seen, "both hogs end", seen[-800:])
        lines = re.findall(LINE, seen, re.M)
        ok(len(lines) == len({p for p, *_ in lines}), f"one kill line per kill: {lines}", seen[-800:])
        ok("KERNEL FAULT" not in seen and t.cmd("memcheck") == "memcheck: ok\n",
           "the kernel goes on, memcheck clean")
        t.cmd("run /bin/hello")
        ok(abs(free_kib(t) - before) <= 8, f"two: memory back ({before} KiB before)", free_kib(t))


def wait_done(t, pid, status, out="", secs=60):
    """Output until `[pid] done: exit status <status>` shows (a background
    process's end is said before a later prompt), asking ps every 0.2 s
    for at most secs seconds: a process of 120 MiB gives its pages back
    one by one, which takes a while under TCG on a busy host."""
    done = f"[{pid}] done: exit status {status}"
    deadline = time.monotonic() + secs
    while done not in out and time.monotonic() < deadline:
        time.sleep(0.2)
        out += t.cmd("ps")
    return out


def reclaimed_free(t):
    """Free KiB once the kernel gave back every cache it keeps: `hog leave
    0` takes every page (reclaiming until nothing more comes back), then
    `hog release` returns them."""
    t.cmd("hog leave 0", timeout=60)
    m = re.search(r"^hog: holding 0 KiB, free (\d+) KiB$", t.cmd("hog release"), re.M)
    return int(m.group(1)) if m else -1


def zones(t):
    """memstat zones -> {zone: (free, pcp, min, low, high)}"""
    rows = {}
    for line in t.cmd("memstat zones").splitlines():
        f = line.split()
        if len(f) == 9 and f[0] in ("DMA", "Normal", "High"):
            rows[f[0]] = tuple(int(x) for x in f[4:9])
    return rows


def modes():
    with Tally(drive=IMG) as t:
        t.boot()
        boot = reclaimed_free(t)
        for mode in ("simple", "twotier", "hybrid"):
            t.cmd(f"setmode {mode}")
            out = t.cmd("run /bin/oomhog", timeout=120)
            kills = re.findall(LINE, out, re.M)
            killed = (len(kills) == 1 and kills[0][1] == "oomhog" and
                      out.rstrip().endswith("run: /bin/oomhog: exit status 137"))
            stopped = not kills and re.search(r"^oomhog: mmap: ENOMEM at \d+ MiB$", out, re.M) \
                and "run:" not in out
            ok(killed or stopped, f"{mode}: the hog is killed with the oom-kill line, or stops "
               f"at ENOMEM", out[-400:])
            out = t.cmd("fsstress 1", timeout=120)
            ok("result=PASS" in out, f"{mode}: fsstress passes afterwards", out)
            free = reclaimed_free(t)
            ok(free == boot, f"{mode}: free memory back to the boot figure ({free} KiB, "
               f"{boot} KiB at boot)")
        ok(t.cmd("memcheck") == "memcheck: ok\n", "memcheck clean after every mode")


def held():
    with Tally(drive=IMG) as t:
        t.boot()
        boot = reclaimed_free(t)
        out = t.cmd("run /bin/oomhog hold &")
        pid = re.search(r"^\[(\d+)\]$", out, re.M)
        ok(pid, "oomhog hold in the background", out)
        t.expect("oomhog: holding ", timeout=60)
        kib = int(t.expect(" KiB", timeout=10))
        ok(kib > 100 * 1024, f"it holds all a process can get: {kib} KiB")
        z = zones(t)
        ok(z and all(free == high for free, _, _, _, high in z.values()),
           "no zone below its high watermark for user frames, every one down to it", z)
        out = t.cmd("fsstress 1", timeout=120)
        ok("result=PASS" in out, "the kernel's allocations still succeed: fsstress passes", out)
        ok(t.cmd("memcheck") == "memcheck: ok\n", "memcheck clean")
        z = zones(t)
        ok(z and all(free >= mn for free, _, mn, _, _ in z.values()),
           "the kernel took from [min, high) only", z)
        ps = t.cmd("ps")
        row = re.search(rf"^ +{pid.group(1) if pid else 0} +0 +\w+ +\d+ +\d+ +(\d+) .*oomhog hold", ps, re.M)
        out = t.cmd("run /bin/hello", timeout=60)
        kills = re.findall(LINE, out, re.M)
        ok(pid and row and kills == [(pid.group(1), "oomhog", kills[0][2], row.group(1))] and
           "hello: world\n" in out and "run:" not in out,
           "a new process finds no frame: the hog is killed (named, with its RSS), then it runs", out)
        out = wait_done(t, pid.group(1), 137, out) if pid else ""
        ok(pid and f"[{pid.group(1)}] done: exit status 137" in out, "the hog ended with 137", out)
        free = reclaimed_free(t)
        ok(free == boot, f"every page back: {free} KiB, {boot} KiB at boot")


def start_holder(t, leave_kib):
    """Boot, take the reclaimed free figure, start `oomhog hold LEAVE_KIB`
    in the background and wait until it holds: (boot figure, its [PID]
    match or None)."""
    t.boot()
    boot = reclaimed_free(t)
    out = t.cmd(f"run /bin/oomhog hold {leave_kib} &")
    a = re.search(r"^\[(\d+)\]$", out, re.M)
    t.expect("oomhog: holding ", timeout=60)
    return boot, a


def another(smp):
    """The OOM killer picks the largest process, not the faulter: A holds
    all but 4 MiB of what processes can get; B maps 16 MiB with
    MAP_NORESERVE (not committed, so mmap lets it through) and touches it
    all. Its fault with no frame left kills A -- the oom-kill line names A
    with the RSS ps showed for it -- and B faults again and completes."""
    with Tally(drive=IMG, smp=smp) as t:
        boot, a = start_holder(t, 4096)
        ps = t.cmd("ps")
        row = re.search(rf"^ +{a.group(1) if a else 0} +0 +\w+ +\d+ +\d+ +(\d+) .*oomhog hold", ps, re.M)
        ok(a and row, f"-smp {smp}: A holds its memory", ps)
        out = t.cmd("run /bin/oomhog noreserve 16", timeout=120)
        kills = re.findall(LINE, out, re.M)
        ok(a and row and kills == [(a.group(1), "oomhog", kills[0][2], row.group(1))],
           f"-smp {smp}: one oom-kill line, naming A (pid {a and a.group(1)}) and its RSS "
           f"({row and row.group(1)} kB)", out)
        ok("oomhog: limit 16 MiB" in out and "run: /bin/oomhog" not in out,
           f"-smp {smp}: B faulted again and completed (exit 0)", out)
        out = wait_done(t, a.group(1), 137, out) if a else out
        ok(a and f"[{a.group(1)}] done: exit status 137" in out, f"-smp {smp}: A ended with 137", out)
        ok(t.cmd("memcheck") == "memcheck: ok\n", f"-smp {smp}: memcheck clean")
        free = reclaimed_free(t)
        ok(free == boot, f"-smp {smp}: every page back: {free} KiB, {boot} KiB at boot")


def suite():
    """The `oom` KTAP suite (src/kernel/selftest_oom.c): making a process
    with each of its allocations failing in turn, under each mode."""
    with Tally(drive=IMG, append="selftest=oom") as t:
        code, out = t.wait_exit(timeout=120)
    cases = re.findall(r"^    (not )?ok \d+ (\S+)", out, re.M)
    ok(len(cases) == 2 and not any(bad for bad, _ in cases) and code == 0,
       f"oom suite passes ({len(cases)} cases, exit {code})", out[-2000:])
    ok(len(re.findall(r"^    # spawn, \w+: \d+ allocations, each failed in turn$", out, re.M)) == 3,
       "spawn from the volume: each allocation failed in turn under every mode", out[-2000:])


def injected(t):
    m = re.search(r"^injected: page (\d+), slab (\d+), heap (\d+)$", t.cmd("faultinj"), re.M)
    return sum(int(x) for x in m.groups()) if m else -1


def faultinj():
    """Processes meeting failed allocations (the shell's faultinj) leave
    nothing behind: a MAP_POPULATE that fails 4 MiB in changes nothing
    (ENOMEM); a page fault that fails only by injection (4 MiB into a
    mapping once; 2 MiB in, every third request, 8 times) is not out of
    memory: it is retried, as Linux's pagefault_out_of_memory retries,
    nobody is killed and the process touches all it meant to; mmaptest
    under 3% of all requests failing, seeds 1..8, ends in one of the ways
    a failure may end it, never an OOM kill. After each: memcheck clean,
    free memory exactly the boot figure."""
    with Tally(drive=IMG) as t:
        t.boot()
        boot = reclaimed_free(t)
        t.cmd("faultinj scope=page space=4M times=1")
        out = t.cmd("run /bin/oomhog populate 8")
        ok(out == "oomhog: populate: ENOMEM\n" and injected(t) == 1,
           "MAP_POPULATE failing 4 MiB in: ENOMEM", out)
        t.cmd("faultinj off")
        ok(t.cmd("memcheck") == "memcheck: ok\n" and reclaimed_free(t) == boot,
           "nothing of it left: memcheck clean, free memory the boot figure")
        for knobs, n in (("space=4M times=1", 1), ("space=2M interval=3 times=8", 8)):
            t.cmd(f"faultinj scope=page {knobs}")
            out = t.cmd("run /bin/oomhog 8")
            ok(out == "oomhog: touched_mib=8\noomhog: limit 8 MiB\n" and injected(t) == n,
               f"faults failing by injection ({knobs}): retried, nobody killed, "
               f"all 8 MiB touched", out)
            t.cmd("faultinj off")
            ok(t.cmd("memcheck") == "memcheck: ok\n" and reclaimed_free(t) == boot,
               "nothing of it left: memcheck clean, free memory the boot figure")
        ends, clean = [], True
        for seed in range(1, 9):
            t.cmd(f"faultinj probability=3 seed={seed}")
            out = t.cmd("run /bin/mmaptest nofault", timeout=60)
            t.cmd("faultinj off")
            end = ("passed" if out.rstrip().endswith("result: PASS") else
                   "refused" if out == "run: /bin/mmaptest: out of memory\n" else
                   "killed" if re.search(LINE, out, re.M) and out.rstrip().endswith("exit status 137")
                   else "failed a call" if out.rstrip().endswith("exit status 1") else out)
            ends.append(end)
            free = reclaimed_free(t)
            if t.cmd("memcheck") != "memcheck: ok\n" or free != boot:
                clean = False
                diag(f"seed {seed}: {end}, free {free} KiB, {boot} KiB at boot")
        ok(all(e in ("passed", "refused", "failed a call") for e in ends),
           f"mmaptest under fault injection, seeds 1..8, never killed: {ends}", ends)
        ok(clean, "after every seed: memcheck clean, free memory the boot figure")


def spawning(smp):
    """A process spawning children (the spawn system call) while a holder
    keeps all but 512 KiB of what processes can get: loading a child
    finds no frame, the OOM decision kills the holder (not the spawner,
    which holds less), the loads go on and every child runs."""
    with Tally(drive=IMG, smp=smp) as t:
        boot, a = start_holder(t, 512)
        out = t.cmd("run /bin/spawner 16", timeout=120)
        kills = re.findall(LINE, out, re.M)
        ok(a and len(kills) == 1 and kills[0][0] == a.group(1) and "reaped: 16" in out and
           "result: PASS" in out, f"-smp {smp}: the holder killed, 16 children spawned and reaped", out)
        out = wait_done(t, a.group(1), 137, out) if a else out
        ok(a and f"[{a.group(1)}] done: exit status 137" in out, f"-smp {smp}: the holder ended with 137", out)
        ok(t.cmd("memcheck") == "memcheck: ok\n" and reclaimed_free(t) == boot,
           f"-smp {smp}: memcheck clean, free memory the boot figure")


guarded(hogs, "oom")
guarded(faultinj, "faultinj")
guarded(suite, "suite")
guarded(lambda: another(1), "another -smp 1")
guarded(lambda: another(2), "another -smp 2")
guarded(lambda: spawning(1), "spawning -smp 1")
guarded(lambda: spawning(2), "spawning -smp 2")
guarded(modes, "modes")
guarded(held, "held")
sys.exit(finish())
