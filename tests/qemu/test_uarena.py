#!/usr/bin/env python3
"""A Tally process's malloc arena grows and shrinks with use
(user/lib/malloc.c over common/mm_grow.h, madvise in kernel/mman.h):

- /bin/uarena allocates and writes 200 MiB in 1 MiB blocks under -m 512M,
  well past the old fixed 64 MiB arena: the arena grew to hold it and
  `memstat PID` shows the RSS; it frees all but 8 MiB and the RSS falls by
  at least 150 MiB (whole free 4 MiB blocks went back with
  MADV_DONTNEED; the buddy allocator keeps a few backed); then it
  allocates again, its patterns intact, and exits 0; free memory is back
  and memcheck is clean;
- under -m 128M, `uarena fill` allocates until growth is refused (strict
  commit: the arena's next part cannot be backed) and gets NULL with
  errno ENOMEM, then frees and allocates again and exits 0 -- nobody is
  killed; with TALLY_HEAP=32m the bound stops it first; a TALLY_HEAP
  beyond the user address space is refused with the arena line and every
  malloc fails."""
import os
import re
import sys
import time

from tally import ROOT, Tally, finish, guarded, ok, parse_kv

IMG = os.path.join(ROOT, "build", "disk.img")


def kib(v):
    return int(v.split()[0])


def free_kib(t):
    return kib(parse_kv(t.cmd("memstat"))["free"])


def grow_and_shrink():
    with Tally(mem="512M", drive=IMG) as t:
        t.boot()
        t.cmd("run /bin/hello", timeout=60)   # its blocks cached: free memory comparable
        before = free_kib(t)
        out = t.cmd("run /bin/uarena grow 200 8 10 &")
        m = re.search(r"^\[(\d+)\]$", out, re.M)
        pid = int(m.group(1)) if m else -1
        ok(pid > 0, "uarena started in the background", out)
        t.expect(f"uarena: peak pid {pid} ", timeout=180)
        line = t.expect("\n", timeout=10)
        arena = int(re.search(r"arena_kib=(\d+)", line).group(1))
        ok("allocated_kib=204800" in line and arena >= 204800,
           f"200 MiB allocated, the arena grew past 64 MiB to {arena} KiB", line)
        peak = parse_kv(t.cmd(f"memstat {pid}"))
        rss_peak = kib(peak.get("rss", "0"))
        ok(rss_peak >= 204800, f"memstat PID at the peak: rss {rss_peak} KiB >= 200 MiB", peak)
        t.expect(f"uarena: freed pid {pid} ", timeout=60)
        line = t.expect("\n", timeout=10)
        after = parse_kv(t.cmd(f"memstat {pid}"))
        rss_after = kib(after.get("rss", "0"))
        ok(rss_after <= rss_peak - 150 * 1024,
           f"192 MiB freed: rss {rss_peak} -> {rss_after} KiB (fell by >= 150 MiB)", after)
        ok(kib(after.get("rss_peak", "0")) >= rss_peak, "rss_peak keeps the high-water mark", after)
        done = t.expect("result: ", timeout=120) + t.expect("\n", timeout=10)
        for _ in range(50):   # the shell reaps it before a prompt
            done += t.cmd("ps")
            if f"[{pid}] done: " in done:
                break
            time.sleep(0.2)
        ok("mismatches: 0\n" in done and "PASS" in done and f"[{pid}] done: exit status 0" in done,
           "allocated again after the release: patterns intact, PASS, exit 0", done)
        ok(abs(free_kib(t) - before) <= 64, "free memory back after it exits")
        ok(t.cmd("memcheck") == "memcheck: ok\n", "memcheck clean")


def refused():
    with Tally(drive=IMG) as t:
        t.boot()
        out = t.cmd("run /bin/uarena fill", timeout=180)
        kv = parse_kv(out)
        ok(kv.get("errno_enomem") == "1" and kv.get("result") == "PASS" and "run:" not in out and
           "Out of memory" not in out and int(kv.get("allocated_kib", "0")) >= 32768,
           "-m 128M: malloc NULL with ENOMEM once growth cannot be committed; no kill, exit 0", out)
        out = t.cmd("run TALLY_HEAP=32m /bin/uarena fill", timeout=120)
        kv = parse_kv(out)
        ok(kv.get("errno_enomem") == "1" and kv.get("result") == "PASS" and "run:" not in out and
           0 < int(kv.get("allocated_kib", "0")) < 32768 and kv.get("arena_kib") == "32768",
           "TALLY_HEAP=32m: the arena stops at its bound, NULL with ENOMEM, exit 0", out)
        out = t.cmd("run TALLY_HEAP=200g /bin/uarena fill", timeout=60)
        ok(out.startswith("malloc: mmap refused the arena (200g): every allocation fails (ENOMEM)\n")
           and "allocated_kib: 0\n" in out and "errno_enomem: 1\n" in out and "result: PASS" in out,
           "a reservation beyond the user space: said once, every malloc NULL", out)
        ok(t.cmd("memcheck") == "memcheck: ok\n", "memcheck clean")


guarded(grow_and_shrink, "grow and shrink")
guarded(refused, "growth refused")
sys.exit(finish())
