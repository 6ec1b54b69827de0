#!/usr/bin/env python3
"""TAP wrapper: `make bench` runs to completion on a tiny size. Timings are
not asserted (docs/BENCHMARKS.md has the numbers); only that every
workload and mode produced its line, the harts=1..4 runs their lines (a
line per hart and a total; a run still going after 3 s is stopped with
Ctrl-C and still prints them), /bin/kbench its lines (getpid, fault,
spawn three times) and the boots were counted."""
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(root, "build", "bench", "kernel-smoke.txt")
print("TAP version 13")
proc = subprocess.run([sys.executable, os.path.join(root, "tools", "bench", "kernel_bench.py"),
                       "--ops", "2000", "--harts-limit", "3", "--out", out], stdout=subprocess.PIPE,
                      stderr=subprocess.STDOUT, text=True, errors="replace")
lines = open(out).read().splitlines() if os.path.exists(out) else []
ok = (proc.returncode == 0 and sum(re.match(r"bench \w+ \w+ ops=", l) is not None for l in lines) == 12
      and sum(re.match(r"bench small twotier harts?=", l) is not None for l in lines) == 2 + 3 + 4 + 5 and
      sum(l.startswith("benchfile ") for l in lines) == 2 and
      [re.fullmatch(r"kbench (getpid|fault|spawn) n=\d+ instructions=\d+ per_op=[\d.]+", l).group(1)
       for l in lines if re.fullmatch(r"kbench (getpid|fault|spawn) n=\d+ instructions=\d+ per_op=[\d.]+", l)]
      == ["getpid", "fault", "spawn", "spawn", "spawn"] and
      sum(re.fullmatch(r"boot \S+ instructions=\d+", l) is not None for l in lines) == 2)
if not ok:
    for line in proc.stdout.splitlines()[-30:]:
        print("# " + line)
print(f"{'' if ok else 'not '}ok 1 - make bench completes on a tiny size ({len(lines)} lines)")
print("1..1")
sys.exit(0 if ok else 1)
