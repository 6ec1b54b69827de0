#!/usr/bin/env python3
"""TAP wrapper around `make bench-host BENCH_TINY=1` for tests/run.py.

Builds tools/bench/bench_host and runs, on a tiny size, every trace
workload against every allocator (Tally's three modes, glibc, jemalloc,
mimalloc) and every live workload (user64, usermix, user8k; pc and churn
at 1, 2 and 4 threads) against twotier and the three C libraries, into
build/bench/host-tiny.txt (build/bench/host.txt, the real results, is left
alone). Asserts no timing, only that the report is whole and sane: one
machine line per workload, thread count and allocator; every ns_per_op
(and a threaded line's cpu_ns_per_op) above 0; every ratio_best the line's
time over the named fastest C library's time from the same run; the
TwoTier-against-the-best table printed.
"""
import os
import subprocess
import sys

TRACES = ["small", "mixed", "large", "frag"]
ALL = ["twotier", "simple", "hybrid", "glibc", "jemalloc", "mimalloc"]
USER = ["user64", "usermix", "user8k"]
THREADED = ["pc", "churn"]
LIVE = ["twotier", "glibc", "jemalloc", "mimalloc"]
LIBC = ["glibc", "jemalloc", "mimalloc"]
THREADS = [1, 2, 4]

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
checks = []


def check(ok, name):
    checks.append((bool(ok), name))


def parse(lines):
    """{(workload, alloc, threads): {key: value}} of the machine lines."""
    rows = {}
    for line in lines:
        parts = line.split()
        fields = dict(p.partition("=")[::2] for p in parts[3:])
        rows[(parts[1], parts[2], int(fields.get("threads", 1)))] = fields
    return rows


def num(fields, key):
    try:
        return float(fields.get(key, "nan"))
    except ValueError:
        return float("nan")


print("TAP version 13")
proc = subprocess.run(["make", "--no-print-directory", "bench-host", "BENCH_TINY=1"],
                      cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                      text=True, errors="replace")
lines = [l for l in proc.stdout.splitlines() if l.startswith("bench-host ")]
rows = parse(lines)
want = [(w, a, 1) for w in TRACES for a in ALL]
want += [(w, a, 1) for w in USER for a in LIVE]
want += [(w, a, t) for w in THREADED for t in THREADS for a in LIVE]

check(proc.returncode == 0, f"bench-host tiny run exits 0 (got {proc.returncode})")
missing = [k for k in want if k not in rows]
check(not missing and len(lines) == len(want),
      f"one machine line per workload, thread count and allocator "
      f"({len(lines)} of {len(want)}; missing {missing[:4]})")
bad = [k for k in want if k in rows and not num(rows[k], "ns_per_op") > 0]
check(not bad, f"every ns_per_op > 0 (bad: {bad[:4]})")
bad = [k for k in want if k[0] in THREADED and k in rows
       and not num(rows[k], "cpu_ns_per_op") > 0]
check(not bad, f"every threaded line has cpu_ns_per_op > 0 (bad: {bad[:4]})")
for t in THREADS:
    have = all((w, a, t) in rows for w in THREADED for a in LIVE)
    check(have, f"pc and churn at {t} thread(s) for {', '.join(LIVE)}")
bad = []
for k in want:
    f = rows.get(k)
    if f is None:
        continue
    best = f.get("best")
    base = rows.get((k[0], best, k[2]))
    if best not in LIBC or base is None:
        bad.append(k)
        continue
    fastest = min(num(rows[(k[0], l, k[2])], "ns_per_op") for l in LIBC
                  if (k[0], l, k[2]) in rows)
    expect = num(f, "ns_per_op") / num(base, "ns_per_op")
    if num(base, "ns_per_op") != fastest or abs(num(f, "ratio_best") - expect) > 0.01 * expect + 0.002:
        bad.append(k)
check(not bad, f"ratio_best = ns_per_op / the fastest C library's, best names it (bad: {bad[:4]})")
check("twotier against the fastest of glibc, jemalloc and mimalloc" in proc.stdout,
      "the TwoTier-against-the-best table is printed")

failed = [c for c in checks if not c[0]]
if failed:
    for line in proc.stdout.splitlines()[-40:]:
        print("# " + line)
for i, (ok, name) in enumerate(checks, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
print(f"1..{len(checks)}")
sys.exit(1 if failed else 0)
