#!/usr/bin/env python3
"""No QEMU outlives the test that started it (tally.py), however the
test ends: a `with` block left by an exception, Python exiting with
QEMU still running outside any `with` (atexit), SIGTERM and SIGHUP (the
handler kills QEMU, then Python dies of the signal), Ctrl-C's SIGINT
(KeyboardInterrupt), and SIGKILL, which no Python code sees (QEMU has
the parent-death signal). And tests/run.py's time limit: a test that
runs past it is stopped with SIGTERM (SIGKILL 10 s later), counted as a
failure, and its QEMU goes too. Each case runs a small driver in a
Python process of its own, reads the pid of the QEMU it booted, ends the
driver that way and waits (10 s at most) until that QEMU is gone."""
import os
import signal
import subprocess
import sys
import tempfile
import time

from tally import ROOT, finish, guarded, ok

HERE = os.path.dirname(os.path.abspath(__file__))
# The driver says its QEMU's pid once booted; "raise" and "exit" then wait
# for a line on stdin (so the QEMU can be seen running first), "sleep"
# (the default) sleeps until a signal ends it.
DRIVER = r"""
import sys, time
sys.path.insert(0, %r)
from tally import Tally
how = sys.argv[1] if len(sys.argv) > 1 else "sleep"
if how == "raise":
    with Tally() as t:
        t.boot()
        print("qemu", t.proc.pid, flush=True)
        sys.stdin.readline()
        raise RuntimeError("a test that fails")
t = Tally()
t.boot()
print("qemu", t.proc.pid, flush=True)
if how == "exit":
    sys.stdin.readline()
else:
    time.sleep(120)
""" % HERE


def qemu_alive(pid):
    """pid is a running QEMU (not gone, not a zombie left unreaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return False
    return state not in ("Z", "X") and b"qemu-system" in cmd


def gone_within(pid, secs=10):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if not qemu_alive(pid):
            return True
        time.sleep(0.1)
    return False


def started(how):
    """The driver, and the pid of its QEMU once booted (None: it never said)."""
    p = subprocess.Popen([sys.executable, "-c", DRIVER, how], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()   # the driver's boot has its own time limit (60 s)
    pid = int(line.split()[1]) if line.startswith("qemu ") else None
    return p, pid


def ends(how, sig=None):
    p, pid = started(how)
    alive = pid is not None and qemu_alive(pid)
    if sig is not None and alive:
        p.send_signal(sig)
    elif sig is None:
        p.stdin.write("go\n")
        p.stdin.flush()
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    what = f"signal {signal.Signals(sig).name}" if sig is not None else how
    ok(alive and gone_within(pid), f"{what}: the driver's QEMU ({pid}) is gone "
       f"(driver status {p.returncode})", p.stderr.read()[-400:])
    if pid and qemu_alive(pid):
        os.kill(pid, signal.SIGKILL)   # not left for the next test


def runner_time_limit():
    with tempfile.TemporaryDirectory() as tmp:
        test = os.path.join(tmp, "test_sleeps.py")
        pidfile = os.path.join(tmp, "pid")
        with open(test, "w") as f:
            f.write(DRIVER.replace('print("qemu", t.proc.pid, flush=True)',
                                   f'open({pidfile!r}, "w").write(str(t.proc.pid))'))
        env = dict(os.environ, TALLY_TEST_TIMEOUT="5")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "run.py"), test],
                           env=env, capture_output=True, text=True, timeout=60)
        pid = int(open(pidfile).read()) if os.path.exists(pidfile) else None
        ok(r.returncode == 1 and "timed out after 5 s" in r.stdout and "0 passed, 1 failed" in r.stdout,
           "tests/run.py: a test past its time limit is stopped and counted as failed", r.stdout)
        ok(pid is not None and gone_within(pid), f"and its QEMU ({pid}) is gone", r.stdout)
        if pid and qemu_alive(pid):
            os.kill(pid, signal.SIGKILL)


def main():
    print("TAP version 13")
    guarded(lambda: ends("raise"), "raise")
    guarded(lambda: ends("exit"), "exit")
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL):
        guarded(lambda: ends("sleep", sig), signal.Signals(sig).name)
    guarded(runner_time_limit, "run.py's time limit")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
