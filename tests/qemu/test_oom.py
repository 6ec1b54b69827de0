#!/usr/bin/env python3
"""Running out of memory from user space (issue 18): /bin/oomhog maps and
touches 1 MiB after another. Alone, it is what holds the most memory when
a page fault finds no frame after reclaim, so the OOM decision kills it:
Linux's oom-kill line names it and its sizes, it ends with 137, the
kernel goes on, every frame comes back and the integrity check is clean.
Two at once (one in the background): each ends -- killed, or refused by
mmap's commit check -- one kill line per kill, and again nothing is left
behind."""
import os
import re
import sys

from tally import ROOT, Tally, finish, guarded, ok, parse_kv

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
        ok(len(kills) == 1 and kills[0][1] == "oomhog" and int(kills[0][3]) > 100 * 1024,
           f"alone: killed with Linux's line naming it and its RSS: {kills}", out[-600:])
        ok(out.rstrip().endswith("run: /bin/oomhog: exit status 137"), "alone: exit status 137", out[-300:])
        t.cmd("run /bin/hello")
        ok(abs(free_kib(t) - before) <= 8, f"alone: memory back ({before} KiB before)", free_kib(t))
        out = t.cmd("run /bin/oomhog &")
        pid = re.search(r"^\[(\d+)\]$", out, re.M)
        ok(pid, "a second hog in the background", out)
        out = t.cmd("run /bin/oomhog", timeout=240)
        seen = out
        for _ in range(60):   # the background one ends too
            if pid and f"[{pid.group(1)}] done" in seen:
                break
            seen += t.cmd("ps", timeout=30)
        ok(pid and f"[{pid.group(1)}] done" in seen, "both hogs end", seen[-800:])
        lines = re.findall(LINE, seen, re.M)
        ok(len(lines) == len({p for p, *_ in lines}), f"one kill line per kill: {lines}", seen[-800:])
        ok("KERNEL FAULT" not in seen and t.cmd("memcheck") == "memcheck: ok\n",
           "the kernel goes on, memcheck clean")
        t.cmd("run /bin/hello")
        ok(abs(free_kib(t) - before) <= 8, f"two: memory back ({before} KiB before)", free_kib(t))


guarded(hogs, "oom")
sys.exit(finish())
