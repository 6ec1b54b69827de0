#!/usr/bin/env python3
"""make bench: the in-kernel benchmarks under QEMU with -icount shift=0,
where rdinstret counts every guest instruction exactly and repeatably.

    python3 tools/bench/kernel_bench.py [--ops N] [--harts-limit S] [--out FILE]

Boots build/kernel.elf without a disk at -m 128M and -m 3G for the
instructions from reset to the prompt, then with build/disk.img at -m 128M
to run `bench all all OPS` (every workload in every mode, in one boot),
`benchfile` on the 4 MiB file, `selftest proc` (for its getpid round
trip from U-mode) and /bin/kbench (user/bin/kbench.c: a getpid round
trip, an anonymous page fault and spawn + exit + wait of /bin/hello,
counted from U-mode: OPS calls, OPS/25 pages, OPS/2000 spawns three
times, since polled disk waits follow host time), then with -smp 4 to run `bench small twotier
OPS harts=N` for N = 1..4 (in one boot, in that order), each stopped with
Ctrl-C if it has not finished within S seconds (the slow paths' one mm
lock can make harts wait through each other's QEMU turns). Writes every result line, one
`boot MEM instructions=N` line per boot and an `interrupted harts=N
after_s=S` line per stopped run to build/bench/kernel.txt (or FILE); prints
the bench table and the harts' figures against one hart's.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))
from tally import PROMPT, Tally, Timeout  # noqa: E402

IMG = os.path.join(ROOT, "build", "disk.img")
HARTS = 4


def boot_instructions(t):
    out = t.cmd("uptime")
    m = re.search(r"^boot_instructions: (\d+)\b", out, re.M)
    if not m:
        sys.exit(f"kernel_bench: uptime printed no boot_instructions:\n{out}")
    return int(m.group(1))


def run_limited(t, line, limit):
    """Run line; Ctrl-C it after limit seconds. (output, stopped)."""
    t.send(line + "\n")
    try:
        out = t.expect("\n" + PROMPT, limit)
        stopped = False
    except Timeout:
        t.send("\x03")
        out = t.expect("\n" + PROMPT, 120)
        stopped = True
    return out, stopped


def process_costs(t, ops):
    """/bin/kbench's lines, one boot (-smp 1: QEMU's instret is one count
    for the whole machine). spawn three times: a process's kernel part
    reads the disk with interrupts off, so it polls for as long as the
    host takes, and those polls are counted; the lowest of the three is
    the nearest to the cost without waiting."""
    lines = []
    runs = (("getpid", ops), ("fault", max(ops // 25, 100))) + (("spawn", max(ops // 2000, 5)),) * 3
    for what, n in runs:
        out = t.cmd(f"run /bin/kbench {what} {n}", timeout=600)
        got = re.findall(r"^kbench \w+ n=\d+ instructions=\d+ per_op=[\d.]+$", out, re.M)
        if not got:
            print(f"kernel_bench: kbench {what} printed no result:\n{out[-1500:]}")
        lines += got
    return lines


def harts_runs(ops, limit):
    """bench small twotier OPS harts=N on -smp HARTS, N = 1..HARTS: the
    result lines, and a table of the totals against the one-hart figure."""
    lines, rows, one = [], [], None
    with Tally(mem="128M", smp=HARTS, extra=["-icount", "shift=0"], boot_timeout=120) as t:
        t.boot()
        for n in range(1, HARTS + 1):
            out, stopped = run_limited(t, f"bench small twotier {ops} harts={n}", limit)
            got = re.findall(r"^bench small twotier harts?=\d+ .*$", out, re.M)
            lines += got
            if stopped:
                lines.append(f"interrupted harts={n} after_s={limit:g}")
            total = re.search(r" harts=\d+ ops=(\d+) .*instr_per_op=([\d.]+)", out)
            per_hart = re.findall(r" hart=\d+ ops=\d+ .*elapsed_per_op=([\d.]+)", out)
            if not total:
                continue
            per_op = float(total.group(2))
            one = per_op if n == 1 else one
            ratio = f"{per_op / one:.2f}" if one else "-"
            rows.append(f"{n:<6} {int(total.group(1)):>10} {per_op:>12.1f} {ratio:>10}   "
                        + " ".join(per_hart) + ("   (Ctrl-C after %gs)" % limit if stopped else ""))
    table = (f"\nbench small twotier {ops} harts=N, -smp {HARTS} -icount shift=0\n"
             f"{'harts':<6} {'total ops':>10} {'instr/op':>12} {'x 1 hart':>10}   "
             "each hart's elapsed instr/op\n" + "\n".join(rows))
    return lines, table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=100000)
    ap.add_argument("--harts-limit", type=float, default=30,
                    help="seconds a harts=N run may take before Ctrl-C")
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
        pout = t.cmd("selftest proc", timeout=600)   # its getpid round trip, exact here
        lines += [l.strip(" #") for l in re.findall(r"^ *# getpid_round_trip: .*$", pout, re.M)]
        lines += process_costs(t, args.ops)
    hlines, htable = harts_runs(args.ops, args.harts_limit)
    lines += hlines
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(table.rstrip())
    print(htable)
    print("\n".join(l for l in lines if not l.startswith("bench ")))
    print(f"written: {os.path.relpath(args.out, ROOT)}")
    modes = sum(re.match(r"bench \w+ \w+ ops=", l) is not None for l in lines)
    harts = sum(re.match(r"bench small twotier harts?=", l) is not None for l in lines)
    kb = sum(l.startswith("kbench ") for l in lines)
    return 0 if modes == 4 * 3 and harts == sum(n + 1 for n in range(1, HARTS + 1)) and kb == 5 else 1


if __name__ == "__main__":
    sys.exit(main())
