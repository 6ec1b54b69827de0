#!/usr/bin/env python3
"""Ctrl-C as a shell user expects it: typed at the prompt it drops the line
and gives a fresh prompt; typed while a long command runs it stops the
command at a safe point, which prints what it did so far and
`NAME: interrupted`, gives back what it took (the allocators' bytes in use
and memcheck as before) and returns the prompt within a fraction of a
second. One case per long command: fsstress, mmstress, bench, hog (at
-m 16G), benchfile (on a volume with a 512 MiB file), cat and selftest."""
import os
import re
import subprocess
import sys
import tempfile
import time

from tally import PROMPT, ROOT, Tally, finish, guarded, ok

IMG = os.path.join(ROOT, "build", "disk.img")
PROMPT_WITHIN = 0.5   # seconds from Ctrl-C to the prompt
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def in_use(t, drain=True):
    """KiB in use per allocator (slab, large, heap, buddy) from memstat
    counters; with drain, after `hog leave 0` made the kernel drop what it
    caches (the block cache is not a leak)."""
    if drain:
        t.cmd("hog leave 0")
        t.cmd("hog release")
    out = t.cmd("memstat counters")
    rows = dict(re.findall(r"^(slab|large|heap|buddy) +\d+ +\d+ +\d+ +(\d+) +\d+$", out, re.M))
    return {k: int(v) for k, v in rows.items()}


def interrupt(t, line, started=None, delay=0.3, pages=False):
    """Run line, Ctrl-C it `delay` s after `started` (or its echo) appeared;
    return its output. Checks the message, the time and the leak (pages:
    the buddy allocator's pages too, measured without draining the caches
    first, as that would make hog's taking fast)."""
    name = line.split()[0]
    before = in_use(t, not pages)
    t.send(line + "\n")
    t.expect(started or line, 60)
    time.sleep(delay)
    t0 = time.monotonic()
    t.send("\x03")
    out = t.expect("\n" + PROMPT, 10)
    took = time.monotonic() - t0
    ok(re.search(rf"^{name}: interrupted$", out, re.M) is not None, f"{line}: interrupted", out[-600:])
    ok(took < PROMPT_WITHIN, f"{line}: prompt {took:.3f} s after Ctrl-C")
    after = in_use(t, not pages)
    if not pages:
        before.pop("buddy", None), after.pop("buddy", None)
    ok(after == before, f"{line}: nothing leaked ({after} KiB in use, was {before})")
    ok(t.cmd("memcheck").strip() == "memcheck: ok", f"{line}: memcheck ok after it")
    return out


def at_prompt(t):
    t.send("echo not this\x03")
    out = t.expect("\n" + PROMPT, 5)
    ok(out.endswith("^C"), "Ctrl-C at the prompt: ^C, a fresh prompt", out)
    ok(t.cmd("echo next").strip() == "echo next"[5:], "the next line is read whole")
    ok(t.cmd("history").rstrip().splitlines()[-2].endswith("echo next"),
       "the dropped line is not in the history")


def stress_commands(t):
    out = interrupt(t, "fsstress 4294967295", delay=0.5)
    ok(re.search(r"^fsstress: files=[1-9]\d* .* result=INTERRUPTED$", out, re.M) is not None,
       "fsstress prints the files it read", out[-300:])
    out = interrupt(t, "mmstress 4000000000", started="seed 1")
    m = re.search(r"^mmstress: ops=(\d+) .*leaked_bytes=0 result=INTERRUPTED$", out, re.M)
    ok(m is not None and 0 < int(m.group(1)) < 4000000000, "mmstress prints the ops it ran", out)
    out = interrupt(t, "bench small all 1048576", delay=0.5)
    ok("bench: interrupted" in out, "bench stops", out)
    ok(t.cmd("setmode").strip() == "mode: hybrid", "bench interrupted restores the mode")


def file_commands(t):
    out = interrupt(t, "cat /big/random-4M.bin", delay=0.3)
    ok(len(out) > 1000 and len(out) < 3 * 4 * 2**20, f"cat printed part of the file ({len(out)} bytes)")
    out = interrupt(t, "selftest all", started="# Subtest:", delay=0.05)
    ok(re.search(r"# interrupted before case \d+", out) is not None, "selftest says where it stopped",
       out[-300:])


def big_volume(path):
    """A FAT32 volume holding one 512 MiB file of zeros (sparse on the host)."""
    subprocess.run(["mkfs.fat", "-F", "32", "-C", path, str(640 * 1024)], check=True,
                   stdout=subprocess.DEVNULL)
    src = path + ".src"
    with open(src, "wb") as f:
        f.truncate(512 << 20)
    subprocess.run(["mcopy", "-i", path, src, "::/huge.bin"], check=True, env=MTOOLS_ENV)
    os.unlink(src)


def benchfile():
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "huge.img")
        big_volume(img)
        with Tally(drive=img) as t:
            t.boot()
            out = interrupt(t, "benchfile /huge.bin", delay=0.1)
            ok("benchfile: interrupted" in out, "benchfile stops", out)


def hog_16g():
    with Tally(mem="16G") as t:
        t.boot()
        out = interrupt(t, "hog 16G", delay=0.2, pages=True)
        ok(re.search(r"^hog: holding 0 KiB, free \d+ KiB$", out, re.M) is not None,
           "hog gives back what it took before the Ctrl-C", out)


with Tally(drive=IMG) as shell:
    shell.boot()
    for fn in (at_prompt, stress_commands, file_commands):
        guarded(lambda: fn(shell), fn.__name__)
guarded(benchfile, "benchfile")
guarded(hog_16g, "hog_16g")
sys.exit(finish())
