#!/usr/bin/env python3
"""make bench: the in-kernel benchmarks under QEMU with -icount shift=0,
where rdinstret counts every guest instruction exactly and repeatably.

    python3 tools/bench/kernel_bench.py [--ops N] [--out FILE]

Boots build/kernel.elf without a disk at -m 128M and -m 3G for the
instructions from reset to the prompt, then with build/disk.img at -m 128M
to run `bench all all OPS` (every workload in every mode, in one boot) and
`benchfile` on the 4 MiB file. Writes every result line, and one `boot MEM instructions=N` line
per boot, to build/bench/kernel.txt (or FILE); prints the bench table.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))
from tally import Tally  # noqa: E402

IMG = os.path.join(ROOT, "build", "disk.img")


def boot_instructions(t):
    out = t.cmd("uptime")
    m = re.search(r"^boot_instructions: (\d+)\b", out, re.M)
    if not m:
        sys.exit(f"kernel_bench: uptime printed no boot_instructions:\n{out}")
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=100000)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "kernel.txt"))
    args = ap.parse_args()
    lines = []
    for mem in ("128M", "3G"):   # no disk: waiting for a device is not boot work
        with Tally(mem=mem, extra=["-icount", "shift=0"], boot_timeout=300) as t:
            t.boot()
            lines.append(f"boot {mem} instructions={boot_instructions(t)}")
    with Tally(mem="128M", drive=IMG, extra=["-icount", "shift=0"], boot_timeout=120) as t:
        t.boot()
        out = t.cmd(f"bench all all {args.ops}", timeout=3000)
        lines += re.findall(r"^bench \w+ \w+ .*$", out, re.M)
        table = out[out.find("work   mode"):]
        fout = t.cmd("benchfile /big/random-4M.bin", timeout=600)
        lines += re.findall(r"^benchfile .*$", fout, re.M)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(table.rstrip())
    print("\n".join(l for l in lines if not l.startswith("bench ")))
    print(f"written: {os.path.relpath(args.out, ROOT)}")
    expected = 4 * 3
    return 0 if sum(l.startswith("bench ") for l in lines) == expected else 1


if __name__ == "__main__":
    sys.exit(main())
