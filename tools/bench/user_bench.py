#!/usr/bin/env python3
"""make bench, user space: the kernel bench's workloads replayed by
/bin/ubench against a process's malloc in each of its four modes
(TALLY_MODE=simple, twotier, hybrid, picolibc), under QEMU -smp 1
-icount shift=0 (rdinstret exact; one counter for the machine, so one
hart).

    python3 tools/bench/user_bench.py [--ops N] [--heap SIZE] [--out FILE] [--kernel FILE]

One boot with build/disk.img at -m 128M; `run TALLY_MODE=MODE
TALLY_HEAP=SIZE /bin/ubench WORKLOAD OPS` for every workload and mode,
each in a fresh process. SIZE (default 96m) is the arena of Tally's
modes: frag at 100,000 ops holds 65 MiB at its peak in TwoTier (the
kernel's `bench` says peak_kib=66144), more than the default 64 MiB
arena.
Then a program shaped like real use: `run TALLY_MODE=MODE /bin/icount
/bin/lua /lua/bench.lua SCALE` (Lua 5.4's tables, strings and closures
all through malloc; icount counts the machine's instructions from spawn
to reap, kernel work for the process included), after one run that
brings lua's blocks into the block cache; its checksums must be the same
in every mode. Writes the ubench and `luabench MODE scale=N
instructions=N` lines to build/bench/user.txt (or FILE) and prints a
table: instructions per operation (first replay, page faults included;
warm: the second replay), the ratio to picolibc's malloc on the same
workload, and the in-kernel figure of the same mode from
build/bench/kernel.txt (FILE given by --kernel) when that file has it;
then each mode's cost of setting itself up (the first malloc), then
bench.lua's instructions per mode against picolibc's.
Exit status 1 when a run printed no line, had failures, or bench.lua's
output differed between modes.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))
from tally import Tally  # noqa: E402

IMG = os.path.join(ROOT, "build", "disk.img")
WORKLOADS = ("small", "mixed", "large", "frag")
MODES = ("simple", "twotier", "hybrid", "picolibc")
LINE = re.compile(r"^ubench (\w+) (\w+) ops=(\d+) instr_per_op=([\d.]+) "
                  r"warm_instr_per_op=([\d.]+) ticks_per_op=[\d.]+ failures=(\d+) "
                  r"setup_instr=(\d+) arena_kib=(\d+)$", re.M)


def kernel_figures(path):
    """{(workload, mode): instr/op} from make bench's kernel.txt, if any."""
    if not os.path.exists(path):
        return {}
    text = open(path).read()
    return {(w, m): float(v) for w, m, v in
            re.findall(r"^bench (\w+) (\w+) ops=\d+ instr_per_op=([\d.]+) ", text, re.M)}


def lua_runs(t, scale, lines, bad):
    """bench.lua under icount in each mode: {mode: instructions}."""
    t.cmd("run /bin/lua -v", timeout=120)   # lua's blocks into the block cache
    got, outputs = {}, {}
    for m in MODES:
        out = t.cmd(f"run TALLY_MODE={m} /bin/icount /bin/lua /lua/bench.lua {scale}", timeout=1200)
        found = re.search(r"^icount: /bin/lua instructions=(\d+) status=(\d+)$", out, re.M)
        if not found or found.group(2) != "0":
            bad.append(f"bench.lua {m}: {out.strip()[-300:]}")
            continue
        got[m] = int(found.group(1))
        outputs[m] = out[:found.start()]
        lines.append(f"luabench {m} scale={scale} instructions={got[m]}")
    if len(set(outputs.values())) > 1:
        bad.append("bench.lua printed different checksums in different modes: "
                   + "; ".join(f"{m}: {o.strip()}" for m, o in outputs.items()))
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=100000)
    ap.add_argument("--heap", default="96m", help="TALLY_HEAP for Tally's modes")
    ap.add_argument("--lua-scale", type=int, default=4, help="bench.lua's SCALE (1..12)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "user.txt"))
    ap.add_argument("--kernel", default=os.path.join(ROOT, "build", "bench", "kernel.txt"))
    args = ap.parse_args()
    lines, got, bad, setup = [], {}, [], {}
    with Tally(mem="128M", drive=IMG, smp=1, extra=["-icount", "shift=0"], boot_timeout=120) as t:
        t.boot()
        for w in WORKLOADS:
            for m in MODES:
                out = t.cmd(f"run TALLY_MODE={m} TALLY_HEAP={args.heap} /bin/ubench {w} {args.ops}",
                            timeout=1200)
                found = LINE.search(out)
                if not found or found.group(1) != w or found.group(2) != m or found.group(6) != "0":
                    bad.append(f"{w} {m}: {out.strip()}")
                    continue
                lines.append(found.group(0))
                got[(w, m)] = (float(found.group(4)), float(found.group(5)))
                setup[m] = (int(found.group(7)), int(found.group(8)))
        lua = lua_runs(t, args.lua_scale, lines, bad)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    kern = kernel_figures(args.kernel)
    print(f"\nubench WORKLOAD {args.ops}, TALLY_HEAP={args.heap}, -smp 1 -icount shift=0: "
          "instructions per operation")
    print(f"{'work':<6} {'mode':<9} {'instr/op':>9} {'x pico':>7} {'warm':>9} {'x pico':>7} {'kernel':>8}")
    for w in WORKLOADS:
        pico = got.get((w, "picolibc"))
        for m in MODES:
            if (w, m) not in got:
                continue
            first, warm = got[(w, m)]
            ratio = f"{first / pico[0]:.2f}" if pico and pico[0] else "-"
            wratio = f"{warm / pico[1]:.2f}" if pico and pico[1] else "-"
            k = kern.get((w, m))
            print(f"{w:<6} {m:<9} {first:>9.1f} {ratio:>7} {warm:>9.1f} {wratio:>7} "
                  f"{k if k is not None else '-':>8}")
    print("\nfirst malloc (sets the allocator up), instructions:")
    for m, (instr, arena) in setup.items():
        print(f"{m:<9} {instr:>9}" + (f"   ({arena} KiB arena)" if arena else ""))
    pico = lua.get("picolibc")
    print(f"\nlua /lua/bench.lua {args.lua_scale} under icount, instructions (spawn to reap):")
    for m, n in lua.items():
        print(f"{m:<9} {n:>12}" + (f"   x picolibc {n / pico:.2f}" if pico else ""))
    for b in bad:
        print(f"no figure: {b}")
    print(f"written: {os.path.relpath(args.out, ROOT)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
