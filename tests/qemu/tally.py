"""Drive a Tally kernel in QEMU over its serial console.

Tally(...) boots build/kernel.elf with the given memory size, disks and
boot arguments. Disks are attached read-only (drive_args): the kernel never
writes, and a read-only image can be shared with a `make run` in another
terminal (QEMU takes no write lock on it). Every wait has a time limit: a hung kernel raises Timeout and
fails the test instead of hanging it. Output is read through a pipe; input
is typed one command at a time after the prompt appears.

No QEMU outlives its test, however the test ends: `with Tally(...)` kills
it when the block is left (a return, an exception, Ctrl-C's
KeyboardInterrupt); an atexit hook kills any still running when Python
exits; SIGTERM and SIGHUP (a runner's time limit, a closed terminal) kill
them before Python dies of the signal; and QEMU is started with the
kernel's parent-death signal (prctl PR_SET_PDEATHSIG, SIGKILL), so even a
test killed outright (SIGKILL) takes its QEMU along. (With argv, the
parent-death signal reaches the program started -- make -- not what it
starts; the other paths kill the whole group.)

Tests use TAP helpers from this module: ok(cond, name) prints one TAP line;
finish() prints the plan and returns the exit status.
"""
import atexit
import ctypes
import os
import select
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNEL = os.path.join(ROOT, "build", "kernel.elf")
OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
PROMPT = "tally> "


class Timeout(Exception):
    pass


_live = set()   # the Tally instances whose QEMU may still run
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent):
    """In the child, before exec: SIGKILL when the parent (this test)
    dies; gone already (it died before this ran) -- exit now."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _kill_all():
    for t in list(_live):
        t.kill()


def _on_signal(sig, frame):
    """SIGTERM, SIGHUP: every QEMU killed, then die of the signal as before."""
    _kill_all()
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)


atexit.register(_kill_all)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) == signal.SIG_DFL:
        signal.signal(_sig, _on_signal)


def drive_args(path, index=0, device_opts=""):
    """QEMU options attaching image `path` read-only as virtio-mmio disk
    hd<index>; device_opts is appended to -device (",logical_block_size=4096")."""
    return ["-drive", f"file={path},if=none,format=raw,id=hd{index},readonly=on",
            "-device", f"virtio-blk-device,drive=hd{index}{device_opts}"]


class Tally:
    def __init__(self, mem="128M", drive=None, append=None, smp=1, extra=(),
                 boot_timeout=60, argv=None, env=None):
        """drive: an image path, or a list of them (one disk each, in order).
        argv: run this command instead (`make run`, say), console on its stdio."""
        cmd = ["qemu-system-riscv64", "-machine", "virt", "-nographic",
               "-bios", OPENSBI, "-kernel", KERNEL, "-m", mem, "-smp", str(smp)]
        for i, path in enumerate([drive] if isinstance(drive, str) else drive or []):
            cmd += drive_args(path, i)
        if append:
            cmd += ["-append", append]
        cmd += list(extra)
        self.argv = argv or cmd
        # A group of its own: kill() ends QEMU even when argv started it
        # through another program (make).
        parent = os.getpid()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                     preexec_fn=lambda: _die_with_parent(parent))
        _live.add(self)
        self.buf = b""
        self.log = b""
        self.boot_timeout = boot_timeout

    # -- reading -----------------------------------------------------------
    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.proc.stdout], [], [], left)
        if not r:
            return False
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return None
        self.buf += data
        self.log += data
        return True

    def expect(self, text, timeout=30):
        """Wait for text; return everything before it (consumed)."""
        want = text.encode()
        deadline = time.monotonic() + timeout
        while want not in self.buf:
            got = self._fill(deadline)
            if got is False:
                raise Timeout(f"no {text!r} within {timeout} s; last output:\n"
                              + self.buf[-800:].decode(errors="replace"))
            if got is None:
                raise Timeout(f"QEMU exited before {text!r}; output:\n"
                              + self.buf[-800:].decode(errors="replace"))
        i = self.buf.index(want)
        before = self.buf[:i]
        self.buf = self.buf[i + len(want):]
        text = before.decode(errors="replace").replace("\r\n", "\n")
        return text[:-1] if text.endswith("\r") else text

    def wait_prompt(self, timeout=None):
        return self.expect("\n" + PROMPT, timeout or self.boot_timeout)

    def boot(self):
        """Wait for the first prompt; return the boot log."""
        return self.wait_prompt(self.boot_timeout)

    # -- writing -----------------------------------------------------------
    def send(self, data):
        self.proc.stdin.write(data.encode() if isinstance(data, str) else data)
        self.proc.stdin.flush()

    def cmd(self, line, timeout=30):
        """Type one command and return its output: the lines between the
        echoed command and the next prompt, each ending in a newline."""
        self.send(line + "\n")
        out = self.expect("\n" + PROMPT, timeout)
        first_nl = out.find("\n")   # drop the echoed command line
        return out[first_nl + 1:] + "\n" if first_nl >= 0 else ""

    def wait_exit(self, timeout=30):
        """Wait for QEMU to exit; return (exit status, remaining output)."""
        deadline = time.monotonic() + timeout
        while self._fill(deadline) is True:
            pass
        try:
            code = self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
            raise Timeout(f"QEMU still running after {timeout} s")
        rest = self.buf.decode(errors="replace").replace("\r\n", "\n")
        self.buf = b""
        return code, rest

    def kill(self):
        _live.discard(self)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False


def parse_kv(text):
    """key: value lines -> dict (first occurrence wins)."""
    out = {}
    for line in text.splitlines():
        if ": " in line:
            k, v = line.split(": ", 1)
            out.setdefault(k.strip(), v.strip())
    return out


_count = 0
_failed = 0


def ok(cond, name, detail=""):
    global _count, _failed
    _count += 1
    if not cond:
        _failed += 1
    print(f"{'' if cond else 'not '}ok {_count} - {name}", flush=True)
    if not cond and detail:
        for line in str(detail).splitlines()[-40:]:
            print("# " + line)
    return cond


def diag(msg):
    print("# " + msg, flush=True)


def guarded(fn, name):
    """Run fn(); a Timeout or error becomes one failed check."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - a test harness reports everything
        ok(False, f"{name}: {type(e).__name__}", str(e))


def finish():
    print(f"1..{_count}", flush=True)
    return 1 if _failed else 0
