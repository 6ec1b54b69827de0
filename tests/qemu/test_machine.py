#!/usr/bin/env python3
"""Machines Tally cannot run on are refused at boot, quickly, with the
reason and exit status 2 (EXIT_BOOT_FAILED): a CPU without an MMU
(-cpu rv64,mmu=off: satp does not take Sv39), RAM beyond what the Sv39
identity map reaches (its last byte must lie below 128 GiB, where user
space begins: the lower half of Sv39 ends at 2^38 = 256 GiB and processes
take its upper 128 GiB; with RAM at 2 GiB -m 126G, which ends exactly at
128 GiB, is the most; -m 127G is refused), and a device tree that is damaged (the
structure block's FDT_END token overwritten, which QEMU and OpenSBI pass
on) or has no RAM (device_type "memory" misspelt)."""
import os
import struct
import subprocess
import sys
import time

from tally import ROOT, Tally, finish, guarded, ok

TEST_DIR = os.path.join(ROOT, "build", "test")


def refused(label, want, timeout=20, **kw):
    start = time.monotonic()
    with Tally(**kw) as t:
        code, out = t.wait_exit(timeout=timeout)
    took = time.monotonic() - start
    ok(code == 2, f"{label}: exit status 2 (got {code})", out)
    ok(want in out, f"{label}: says why ({want!r})", out)
    ok("tally> " not in out, f"{label}: no shell", out)
    return took


def no_mmu():
    refused("-cpu rv64,mmu=off", "paging: satp reads 0 after writing Sv39: this CPU has no "
            "Sv39 MMU, which Tally needs", extra=["-cpu", "rv64,mmu=off"])


def huge_ram(size):
    # reserve=off: QEMU maps the RAM without reserving it, so the host's
    # overcommit check lets 255G and more through on a small machine
    extra = ["-machine", "memory-backend=ram0", "-object",
             f"memory-backend-ram,id=ram0,size={size},reserve=off"]
    took = refused(f"-m {size}", "beyond what the Sv39 identity map reaches (2000000000, "
                   "128 GiB): give QEMU at most -m 126G", mem=size, extra=extra)
    ok(took < 10, f"-m {size}: refused before any frame set-up ({took:.1f} s)")


def dump_dtb():
    os.makedirs(TEST_DIR, exist_ok=True)
    path = os.path.join(TEST_DIR, "virt.dtb")
    subprocess.run(["qemu-system-riscv64", "-machine", f"virt,dumpdtb={path}", "-m", "128M",
                    "-nographic"], check=True, capture_output=True, timeout=30)
    return bytearray(open(path, "rb").read())


def bad_dtb(name, blob):
    path = os.path.join(TEST_DIR, name)
    with open(path, "wb") as f:
        f.write(blob)
    refused(f"-dtb {name}", "tally: no usable device tree", extra=["-dtb", path])


def damaged_dtb():
    blob = dump_dtb()
    off_struct, size_struct = struct.unpack(">I", blob[8:12])[0], struct.unpack(">I", blob[36:40])[0]
    end = off_struct + size_struct - 4
    ok(blob[end:end + 4] == b"\0\0\0\x09", "the dumped blob's structure block ends in FDT_END")
    broken = bytearray(blob)
    broken[end:end + 4] = b"\0\0\0\x0f"          # no such token
    bad_dtb("bad-end.dtb", broken)
    i = blob.find(b"memory\0", off_struct, off_struct + size_struct)    # device_type's value
    ok(i > 0, "the dumped blob has a memory node")
    noram = bytearray(blob)
    noram[i:i + 6] = b"memorx"
    bad_dtb("no-ram.dtb", noram)


guarded(no_mmu, "no MMU")
for size in ("127G", "255G", "1T"):
    guarded(lambda size=size: huge_ram(size), f"-m {size}")
guarded(damaged_dtb, "damaged device tree")
sys.exit(finish())
