#!/usr/bin/env python3
"""Machines Tally cannot run on are refused at boot, quickly, with the
reason and exit status 2 (EXIT_BOOT_FAILED): a CPU without an MMU
(-cpu rv64,mmu=off: satp does not take Sv39), RAM beyond what the Sv39
identity map reaches (its last byte must lie below 127 GiB: the lower
half of Sv39 ends at 2^38 = 256 GiB, processes take its upper 128 GiB
and the processes' kernel stacks the 1 GiB below them; with RAM at 2 GiB
-m 125G, which ends exactly at 127 GiB, is the most; -m 126G is
refused), and a device tree that is damaged (the
structure block's FDT_END token overwritten, which QEMU and OpenSBI pass
on) or has no RAM (device_type "memory" misspelt). A cpu node without a
readable "reg" (its hart id) is not a hart: left out with a boot-log line
saying why, and boot goes on."""
import os
import re
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
    took = refused(f"-m {size}", "beyond what the Sv39 identity map reaches (1fc0000000, "
                   "127 GiB): give QEMU at most -m 125G", mem=size, extra=extra)
    ok(took < 10, f"-m {size}: refused before any frame set-up ({took:.1f} s)")


def dump_dtb(smp=1):
    os.makedirs(TEST_DIR, exist_ok=True)
    path = os.path.join(TEST_DIR, "virt.dtb")
    subprocess.run(["qemu-system-riscv64", "-machine", f"virt,dumpdtb={path}", "-m", "128M",
                    "-smp", str(smp), "-nographic"], check=True, capture_output=True, timeout=30)
    return bytearray(open(path, "rb").read())


def nop_property(blob, node, prop):
    """The blob with property prop of node (its unit name) turned into
    FDT_NOP tokens (devicetree spec 5.4.1), as if it had never been there;
    None when there is no such property."""
    off_struct, off_str = struct.unpack(">II", blob[8:16])
    end = off_struct + struct.unpack(">I", blob[36:40])[0]
    out, p, path = bytearray(blob), off_struct, []
    while p < end:
        tok = struct.unpack(">I", blob[p:p + 4])[0]
        if tok == 1:                                  # FDT_BEGIN_NODE, name, padding
            e = blob.index(b"\0", p + 4)
            path.append(bytes(blob[p + 4:e]))
            p = (e + 4) & ~3
        elif tok == 2:                                # FDT_END_NODE
            path.pop()
            p += 4
        elif tok == 3:                                # FDT_PROP len nameoff value
            ln, name_off = struct.unpack(">II", blob[p + 4:p + 12])
            name = bytes(blob[off_str + name_off:blob.index(b"\0", off_str + name_off)])
            size = 12 + ((ln + 3) & ~3)
            if path and path[-1] == node and name == prop:
                out[p:p + size] = struct.pack(">I", 4) * (size // 4)
                return out
            p += size
        elif tok == 4:                                # FDT_NOP
            p += 4
        else:
            break
    return None


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


def cpu_without_reg():
    """-smp 2 with cpu@1's reg gone: one hart, the node named as left out."""
    blob = nop_property(dump_dtb(smp=2), b"cpu@1", b"reg")
    ok(blob is not None, "the dumped -smp 2 blob has cpu@1 with a reg")
    if blob is None:
        return
    path = os.path.join(TEST_DIR, "cpu-no-reg.dtb")
    with open(path, "wb") as f:
        f.write(blob)
    with Tally(smp=2, extra=["-dtb", path]) as t:
        log = t.boot()
        ok(re.search(r"^harts: cpu node cpu@1 left out: no readable reg \(its hart id\)$", log,
                     re.M) is not None, "cpu@1 without reg: the boot log says it is left out", log[-600:])
        m = re.search(r"^harts: (\d+) online \(ids ([\d ]+)\), booted on (\d)$", log, re.M)
        ok(m is not None and m.group(2).split() == sorted({"0", m.group(3)}) and
           int(m.group(1)) == len(m.group(2).split()),
           "only the harts with an id are counted and started", log[-600:])
        rows = [l.split() for l in t.cmd("harts").splitlines()[1:]]
        ok(m is not None and len(rows) == int(m.group(1)) and all(r[2] == "online" for r in rows),
           "and the shell runs with them", rows)


guarded(no_mmu, "no MMU")
for size in ("126G", "255G", "1T"):
    guarded(lambda size=size: huge_ram(size), f"-m {size}")
guarded(damaged_dtb, "damaged device tree")
guarded(cpu_without_reg, "a cpu node without reg")
sys.exit(finish())
