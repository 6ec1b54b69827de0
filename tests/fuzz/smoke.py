#!/usr/bin/env python3
"""TAP wrapper around `make fuzz-smoke` and `make fuzz-elf-smoke` for
tests/run.py.

Builds each libFuzzer harness (mk/fuzz.mk) and runs it over its seed
corpus: the FAT32 reader for FUZZ_SMOKE_TIME seconds (default 10), the
ELF validator for FUZZ_ELF_SMOKE_TIME (default 5). Prints "ok N" for a
harness whose seeds replay and whose run ends without a crash, a leak or
a timeout; otherwise "not ok N" and the tail of the fuzzer's output.
"""
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
print("TAP version 13")
failed = 0
for n, (target, name) in enumerate((("fuzz-smoke", "fuzz_fat32"),
                                    ("fuzz-elf-smoke", "fuzz_elf")), 1):
    proc = subprocess.run(["make", "--no-print-directory", target], cwd=root,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace")
    runs = [l for l in proc.stdout.splitlines() if l.startswith("Done ")]
    if proc.returncode == 0:
        print(f"ok {n} - {name} smoke run: {runs[-1] if runs else 'done'}")
    else:
        for line in proc.stdout.splitlines()[-40:]:
            print("# " + line)
        print(f"not ok {n} - {name} smoke run crashed or failed to build")
        failed += 1
print("1..2")
sys.exit(1 if failed else 0)
