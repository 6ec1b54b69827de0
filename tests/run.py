#!/usr/bin/env python3
"""Run Tally's test programs and count their TAP results.

Each argument is a test program: a host test binary or a tests/qemu/*.py
script. Every program prints TAP ("ok N - name" / "not ok N - name" at the
start of a line). A program that exits non-zero without a failing line,
or that runs past its time limit, counts as one more failure. The last line
printed is the summary "N passed, N failed"; the exit status is 1 when
anything failed. A program past its time limit gets SIGTERM (a QEMU test
kills its QEMU then: tests/qemu/tally.py), SIGKILL 10 s later.
"""
import os
import re
import subprocess
import sys
import time

TIME_LIMIT = int(os.environ.get("TALLY_TEST_TIMEOUT", "600"))
RESULT = re.compile(r"^(not )?ok \d+")


def run_one(path):
    cmd = [sys.executable, path] if path.endswith(".py") else [path]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace")
    try:
        out, _ = proc.communicate(timeout=TIME_LIMIT)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        proc.terminate()   # its own clean-up runs (a QEMU test kills its QEMU)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        out = (out or "") + f"\n# timed out after {TIME_LIMIT} s\n"
        code = -1
    passed = failed = 0
    for line in out.splitlines():
        m = RESULT.match(line)
        if m:
            if m.group(1):
                failed += 1
            else:
                passed += 1
    if code != 0 and failed == 0:
        failed += 1
    secs = time.monotonic() - start
    status = "ok" if failed == 0 else "FAIL"
    print(f"{status:4}  {os.path.basename(path):28} {passed:5} passed {failed:3} failed  {secs:6.1f} s",
          flush=True)
    if failed or os.environ.get("VERBOSE"):
        for line in out.splitlines():
            if failed and not (line.startswith("ok ") or line.startswith("TAP")):
                print("      " + line)
            elif os.environ.get("VERBOSE"):
                print("      " + line)
    return passed, failed


def main(paths):
    total_pass = total_fail = 0
    for path in paths:
        p, f = run_one(path)
        total_pass += p
        total_fail += f
    print(f"{total_pass} passed, {total_fail} failed")
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
