#!/usr/bin/env python3
"""TAP wrapper: make bench's user-space part (tools/bench/user_bench.py)
runs to completion on a tiny size: a ubench line for every workload in
every malloc mode (TALLY_MODE simple, twotier, hybrid, picolibc), no
failures, and /lua/bench.lua at scale 1 counted by /bin/icount in each
mode with the same checksums. Timings are not asserted (docs/BENCHMARKS.md has the numbers)."""
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(root, "build", "bench", "user-smoke.txt")
print("TAP version 13")
if os.path.exists(out):
    os.remove(out)
proc = subprocess.run([sys.executable, os.path.join(root, "tools", "bench", "user_bench.py"),
                       "--ops", "2000", "--lua-scale", "1", "--out", out], stdout=subprocess.PIPE,
                      stderr=subprocess.STDOUT, text=True, errors="replace", timeout=600)
lines = open(out).read().splitlines() if os.path.exists(out) else []
pairs = {tuple(l.split()[1:3]) for l in lines
         if re.fullmatch(r"ubench \w+ \w+ ops=\d+ instr_per_op=[\d.]+ warm_instr_per_op=[\d.]+ "
                         r"ticks_per_op=[\d.]+ failures=0 setup_instr=\d+ arena_kib=\d+", l)}
want = {(w, m) for w in ("small", "mixed", "large", "frag")
        for m in ("simple", "twotier", "hybrid", "picolibc")}
lua = {l.split()[1] for l in lines if re.fullmatch(r"luabench \w+ scale=1 instructions=\d+", l)}
ok = proc.returncode == 0 and pairs == want and lua == {m for _, m in want}
if not ok:
    for line in proc.stdout.splitlines()[-30:]:
        print("# " + line)
print(f"{'' if ok else 'not '}ok 1 - user_bench completes on a tiny size: "
      f"{len(pairs)} of 16 workload/mode lines, bench.lua in {len(lua)} of 4 modes")
print("1..1")
sys.exit(0 if ok else 1)
