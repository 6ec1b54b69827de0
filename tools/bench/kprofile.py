#!/usr/bin/env python3
"""Where a shell command's instructions go, by kernel function: an exact
instruction profile under QEMU (no sampling, no hardware counters).

    python3 tools/bench/kprofile.py "bench small twotier 20002" [--top N]
        [--keep LOG] [--smp N] [--disk]

Boots build/kernel.elf with -icount shift=0 and -singlestep (one guest
instruction per translation block), waits for the prompt, turns QEMU's
exec log on through its monitor (`log exec,nochain`: one line per block
executed, so one per instruction), types the command, turns the log off
at the next prompt, and counts the logged program counters per function
of `riscv64-unknown-elf-nm -n build/kernel.elf`. What is counted is the
whole command (a bench's untimed set-up and trace generation included:
subtract two runs of different lengths to isolate a phase) plus the few
instructions the monitor's switch lets through at either end.

Prints the total and the functions with the most instructions; --pcs
prints every address of one function with its count (the hot path,
instruction by instruction, next to `objdump -d`). Slow: about a second
per 300,000 instructions; the log takes ~60 bytes per instruction.
"""
import argparse
import bisect
import collections
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))
from tally import Tally  # noqa: E402

KERNEL = os.path.join(ROOT, "build", "kernel.elf")
IMG = os.path.join(ROOT, "build", "disk.img")
TRACE = re.compile(rb"Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")


def monitor(path, line):
    """Send one command to QEMU's monitor socket and wait for its reply."""
    s = socket.socket(socket.AF_UNIX)
    for _ in range(50):
        try:
            s.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    s.settimeout(5)
    s.recv(4096)   # the banner and prompt
    s.sendall((line + "\n").encode())
    time.sleep(0.3)
    try:
        s.recv(4096)
    except socket.timeout:
        pass
    s.close()


def symbols():
    out = subprocess.run(["riscv64-unknown-elf-nm", "-n", KERNEL], capture_output=True,
                         text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTW":
            syms.append((int(f[0], 16), f[2]))
    return syms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--pcs", metavar="FUNCTION", help="per-address counts of one function")
    ap.add_argument("--keep", metavar="LOG", help="keep QEMU's exec log here")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--disk", action="store_true", help="attach build/disk.img")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kprofile.")
    log = args.keep or os.path.join(tmp, "exec.log")
    sock = os.path.join(tmp, "monitor.sock")
    extra = ["-icount", "shift=0", "-singlestep", "-D", log,
             "-monitor", f"unix:{sock},server,nowait"]
    with Tally(mem="128M", smp=args.smp, drive=IMG if args.disk else None, extra=extra,
               boot_timeout=600) as t:
        t.boot()
        monitor(sock, "log exec,nochain")
        out = t.cmd(args.command, timeout=6000)
        monitor(sock, "log none")
    print(out)
    pcs = collections.Counter()
    with open(log, "rb") as f:
        for line in f:
            m = TRACE.search(line)
            if m:
                pcs[int(m.group(1), 16)] += 1
    if not args.keep:
        os.unlink(log)
    syms = symbols()
    addrs = [a for a, _ in syms]
    per_fn = collections.Counter()
    for pc, n in pcs.items():
        i = bisect.bisect_right(addrs, pc) - 1
        per_fn[syms[i][1] if i >= 0 else "?"] += n
    total = sum(per_fn.values())
    print(f"kprofile: {args.command!r}: {total} instructions")
    for name, n in per_fn.most_common(args.top):
        print(f"{n:12d} {100.0 * n / max(total, 1):5.1f}%  {name}")
    if args.pcs:
        print(f"\n{args.pcs}, per address:")
        for pc in sorted(pcs):
            i = bisect.bisect_right(addrs, pc) - 1
            if i >= 0 and syms[i][1] == args.pcs:
                print(f"  {pc:x} {pcs[pc]:10d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
