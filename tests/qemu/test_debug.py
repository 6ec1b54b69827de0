#!/usr/bin/env python3
"""make debug: QEMU starts halted at the reset vector and waits for gdb on
the GDB_PORT it was given; gdb-multiarch connects in batch mode, reads the
program counter (0x1000, QEMU virt's reset vector: nothing has run) and
a breakpoint on kmain is reached, then QEMU is stopped."""
import os
import signal
import socket
import subprocess
import sys
import time

from tally import ROOT, KERNEL, finish, guarded, ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def gdb(port, *cmds, timeout=60):
    argv = ["gdb-multiarch", "-nx", "-batch", "-ex", "set confirm off",
            "-ex", f"target remote 127.0.0.1:{port}"]
    for c in cmds:
        argv += ["-ex", c]
    r = subprocess.run(argv + [KERNEL], capture_output=True, text=True, timeout=timeout)
    return r.stdout + r.stderr


def debug():
    port = free_port()
    proc = subprocess.Popen(["make", "-s", "debug", f"GDB_PORT={port}"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        ok(wait_listening(port, proc), f"make debug: QEMU listens on :{port}")
        out = gdb(port, "p/x $pc", "break kmain", "continue", "p $pc == kmain", "kill")
        ok("= 0x1000" in out, "gdb: halted at the reset vector, nothing ran", out)
        ok("Breakpoint 1, kmain" in out and "= 1" in out.split("Breakpoint 1, kmain")[-1],
           "gdb: continue stops in kmain", out)
        proc.wait(timeout=30)
        ok(proc.poll() is not None, "gdb's kill ends QEMU and make debug")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


guarded(debug, "make debug")
sys.exit(finish())
