#!/usr/bin/env python3
"""VirtIO block in QEMU: the disk is found through the device tree in the
legacy and the modern register layout, the blk KTAP suite passes on both
(boot sector, multi-sector request completed by interrupt, range checks),
and a machine without a disk boots and says so."""
import os
import re
import subprocess
import sys

from tally import ROOT, Tally, finish, guarded, ok

IMG = os.path.join(ROOT, "build", "test", "blank-fat32.img")


def make_image():
    os.makedirs(os.path.dirname(IMG), exist_ok=True)
    with open(IMG, "wb") as f:
        f.truncate(40 << 20)
    subprocess.run(["mkfs.fat", "-F", "32", IMG], check=True, capture_output=True)


def selftest(transport):
    extra = ["-global", "virtio-mmio.force-legacy=false"] if transport == "modern" else []
    with Tally(drive=IMG, append="selftest=blk", extra=extra) as t:
        code, out = t.wait_exit(timeout=60)
        ok(f"disk: virtio-blk ({transport}), 81920 sectors of 512 bytes" in out,
           f"{transport}: disk found with its capacity", out)
        cases = re.findall(r"^    (not )?ok \d+ (\S+)(.*)$", out, re.M)
        for bad, name, rest in cases:
            ok(not bad and "SKIP" not in rest, f"{transport}: blk/{name}", out)
        ok(len(cases) == 3 and code == 0, f"{transport}: selftest=blk exits 0 (got {code})", out)


def no_disk():
    with Tally() as t:
        log = t.boot()
        ok("disk: none" in log, "no disk: boot says so and reaches the prompt", log)


make_image()
guarded(lambda: selftest("legacy"), "legacy")
guarded(lambda: selftest("modern"), "modern")
guarded(no_disk, "no disk")
sys.exit(finish())
