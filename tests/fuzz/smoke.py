#!/usr/bin/env python3
"""TAP wrapper around `make fuzz-smoke` for tests/run.py.

Builds the libFuzzer harness (mk/fuzz.mk) and runs it for FUZZ_SMOKE_TIME
seconds (default 10) over the seed corpus. Prints "ok 1" when the seeds
replay and the run ends without a crash, a leak or a timeout; otherwise
"not ok 1" and the tail of the fuzzer's output.
"""
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
print("TAP version 13")
proc = subprocess.run(["make", "--no-print-directory", "fuzz-smoke"], cwd=root,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                      errors="replace")
runs = [l for l in proc.stdout.splitlines() if l.startswith("Done ")]
if proc.returncode == 0:
    print(f"ok 1 - fuzz_fat32 smoke run: {runs[-1] if runs else 'done'}")
else:
    for line in proc.stdout.splitlines()[-40:]:
        print("# " + line)
    print("not ok 1 - fuzz_fat32 smoke run crashed or failed to build")
print("1..1")
sys.exit(0 if proc.returncode == 0 else 1)
