#!/usr/bin/env python3
"""Bad executables refused cleanly through the shell (issue 18): copies of
/bin/hello broken one way each -- truncated (inside a segment's file
bytes, and inside the ELF header), made for another machine (e_machine
62, x86-64), with a segment moved onto the page of the one before it,
with a huge p_memsz (2^40, and one that wraps the address space) -- are
put on a volume of their own (mkfs.fat and mtools). `run` refuses each
with `run: PATH: not an executable (REASON)` and nothing allocated: free
memory after a full reclaim is exactly what it was, and memcheck is
clean. The untouched copy runs, so the volume and the path are right.
Field offsets from the ELF-64 Object File Format (e_machine at 18,
e_phoff 32, e_phentsize 54, e_phnum 56; p_vaddr at 16, p_memsz 40)."""
import os
import re
import struct
import subprocess
import sys

from fatcraft import mtools, put
from tally import ROOT, Tally, finish, guarded, ok

HELLO = os.path.join(ROOT, "build", "user", "bin", "hello")
WORK = os.path.join(ROOT, "build", "test-badelf")
VOL = os.path.join(WORK, "vol.img")
PT_LOAD = 1


def loads(data):
    """Offsets of the PT_LOAD program headers, in file order."""
    phoff, = struct.unpack_from("<Q", data, 32)
    phent, phnum = struct.unpack_from("<HH", data, 54)
    return [phoff + i * phent for i in range(phnum)
            if struct.unpack_from("<I", data, phoff + i * phent)[0] == PT_LOAD]


def variants(good):
    """{name: (bytes, the reason the loader must give)}"""
    out = {}
    ph = loads(good)
    second_off, = struct.unpack_from("<Q", good, ph[1] + 8)      # p_offset
    out["trunc_seg"] = (good[:second_off - 100], "segment outside the file")
    out["trunc_head"] = (good[:40], "file too short")
    b = bytearray(good)
    struct.pack_into("<H", b, 18, 62)                             # EM_X86_64
    out["x86"] = (bytes(b), "wrong machine")
    b = bytearray(good)
    first_vaddr, = struct.unpack_from("<Q", good, ph[0] + 16)
    # the second segment on the first one's page, its p_offset congruence kept
    struct.pack_into("<Q", b, ph[1] + 16, first_vaddr + second_off % 4096)
    out["overlap"] = (bytes(b), "segments overlap")
    b = bytearray(good)
    struct.pack_into("<Q", b, ph[-1] + 40, 1 << 40)
    out["huge"] = (bytes(b), "segment too large")
    b = bytearray(good)
    struct.pack_into("<Q", b, ph[-1] + 40, (1 << 64) - 4096)
    out["wrap"] = (bytes(b), "segment too large")
    return out


def build():
    good = open(HELLO, "rb").read()
    bad = variants(good)
    os.makedirs(WORK, exist_ok=True)
    with open(VOL, "wb") as f:
        f.truncate(48 << 20)
    subprocess.run(["mkfs.fat", "-F", "32", "-s", "1", "-n", "BADELF", VOL],
                   check=True, capture_output=True)
    mtools("mmd", "-i", VOL, "::/x")
    for name, data in list(bad.items()) + [("good", (good, None))]:
        src = os.path.join(WORK, name)
        put(src, data[0])
        mtools("mcopy", "-i", VOL, src, "::/x/" + name)
    return bad


def reclaimed_free(t):
    t.cmd("hog leave 0", timeout=60)
    m = re.search(r"^hog: holding 0 KiB, free (\d+) KiB$", t.cmd("hog release"), re.M)
    return int(m.group(1)) if m else -1


def refused():
    bad = build()
    with Tally(drive=VOL) as t:
        t.boot()
        out = t.cmd("run /x/good one")
        ok("hello: one\n" in out and "run:" not in out, "the untouched copy runs", out)
        before = reclaimed_free(t)
        for name, (_, why) in bad.items():
            out = t.cmd(f"run /x/{name}")
            ok(out == f"run: /x/{name}: not an executable ({why})\n",
               f"{name}: not an executable ({why})", out)
        ok(t.cmd("ps").startswith("  PID") and "/x/" not in t.cmd("ps"), "no process left", t.cmd("ps"))
        after = reclaimed_free(t)
        ok(after == before, f"nothing allocated: {after} KiB free, {before} KiB before")
        ok(t.cmd("memcheck") == "memcheck: ok\n", "memcheck clean")


guarded(refused, "refused")
sys.exit(finish())
