#!/usr/bin/env python3
"""TAP wrapper around `make bench-host BENCH_TINY=1` for tests/run.py.

Builds tools/bench/bench_host and runs every workload against every
allocator (Tally's three modes, glibc, jemalloc, mimalloc) on a tiny size,
into build/bench/host-tiny.txt (build/bench/host.txt, the real results, is
left alone). Asserts no timing: "ok 1" when the run completes and prints
one machine line per workload and allocator; otherwise "not ok 1" and the
tail of the output.
"""
import os
import subprocess
import sys

WORKLOADS = 4
ALLOCATORS = 6

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
print("TAP version 13")
proc = subprocess.run(["make", "--no-print-directory", "bench-host", "BENCH_TINY=1"],
                      cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                      text=True, errors="replace")
lines = [l for l in proc.stdout.splitlines() if l.startswith("bench-host ")]
want = WORKLOADS * ALLOCATORS
if proc.returncode == 0 and len(lines) == want:
    print(f"ok 1 - bench-host tiny run: {len(lines)} workload x allocator results")
else:
    for line in proc.stdout.splitlines()[-40:]:
        print("# " + line)
    print(f"not ok 1 - bench-host tiny run (exit {proc.returncode}, "
          f"{len(lines)} of {want} result lines)")
print("1..1")
sys.exit(0 if proc.returncode == 0 and len(lines) == want else 1)
