#!/usr/bin/env python3
"""Disks in QEMU. The virtio-mmio disk is found through the device tree in
the legacy and the modern register layout and the blk KTAP suite passes on
both (boot sector, multi-block request completed by interrupt, range
checks, a request that times out followed by the device's reset, a
reset that fails and disables the disk, reported once, completions
noticed without waiting for a timer tick, a disk interrupt masked at the
controller noticed and the disk polled). Disks
are attached read-only, so two QEMUs (one of them `make run`) share an
image. 4096- and 1024-byte logical blocks are read and mounted. Several
disks are all listed and the first FAT32 volume is mounted; a virtio disk
on PCI is named as unsupported with the option to use; an empty disk is
called empty; the blk suite skips, with a reason, what a disk lacks.

Expected sizes come from the images: virtio-blk capacity counts 512-byte
sectors (VirtIO 1.1 5.2.4), a blkdev counts logical blocks of blk_size."""
import os
import random
import re
import subprocess
import sys

from tally import ROOT, Tally, drive_args, finish, guarded, ok

TEST = os.path.join(ROOT, "build", "test")
IMG = os.path.join(TEST, "blank-fat32.img")
MMIO_HINT = ("disk: none on virtio-mmio (attach one with -drive file=IMG,if=none,"
             "format=raw,id=hd0,readonly=on -device virtio-blk-device,drive=hd0)")
BLK_CASES = 7                      # the blk KTAP suite's cases
DISABLED = "request timed out; device reset, did not come back: disk disabled (reads fail with -EIO)"
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def make_fat(path, mib, sector=512, label=None):
    """A FAT32 volume of `mib` MiB with `sector`-byte sectors holding /h.txt.
    One sector per cluster for the large sectors keeps it FAT32 by count."""
    with open(path, "wb") as f:
        f.truncate(mib << 20)
    cmd = ["mkfs.fat", "-F", "32", "-S", str(sector)]
    if sector > 512:
        cmd += ["-s", str(4096 // sector)]
    if label:
        cmd += ["-n", label]
    subprocess.run(cmd + [path], check=True, capture_output=True)
    src = path + ".h.txt"
    with open(src, "w") as f:
        f.write(f"sector {sector}\n")
    subprocess.run(["mcopy", "-i", path, src, "::/h.txt"], check=True, env=MTOOLS_ENV)


def make_junk(path, size):
    with open(path, "wb") as f:
        f.write(random.Random(14).randbytes(size))


def ktap_cases(out):
    return re.findall(r"^    (not )?ok \d+ (\S+)(.*)$", out, re.M)


def selftest(transport):
    extra = ["-global", "virtio-mmio.force-legacy=false"] if transport == "modern" else []
    with Tally(drive=IMG, append="selftest=blk", extra=extra) as t:
        code, out = t.wait_exit(timeout=60)
        ok(f"disk: virtio-blk ({transport}), 81920 sectors of 512 bytes (40 MiB) "
           "at virtio-mmio@10008000" in out, f"{transport}: disk found with its capacity", out)
        cases = ktap_cases(out)
        for bad, name, rest in cases:
            ok(not bad and "SKIP" not in rest, f"{transport}: blk/{name}", out)
        ok(len(cases) == BLK_CASES and code == 0, f"{transport}: selftest=blk exits 0 (got {code})", out)
        ok("request timed out; device reset, set up again" in out,
           f"{transport}: the timed-out request is reported with the reset", out)
        lost = [l for l in out.splitlines() if "completions polled:" in l]
        ok(lost == ["virtio-blk virtio-mmio@10008000: completions polled: the interrupt from "
                    "plic@c000000 context 1, hart 0 did not arrive for 3 completions in a row"],
           f"{transport}: a masked interrupt is noticed and said once, naming controller and hart",
           out)
        ok(out.count(DISABLED) == 1,
           f"{transport}: a reset that fails is reported once, not on every later read", out)
        ok("disabled disk reset again: did not come back, stays disabled" in out and
           "disabled disk reset again: set up again" in out,
           f"{transport}: vblk_retry's outcomes are logged", out)


def no_disk():
    """The option the boot log gives is one a user can paste beside a
    running `make run` (which holds build/disk.img read-only): without
    readonly=on QEMU would refuse it with its write-lock error."""
    with Tally() as t:
        log = t.boot()
        ok(MMIO_HINT in log, "no disk: boot says so, with the option to use", log)
    hint = re.search(r"^disk: none on virtio-mmio \(attach one with (.*)\)$", log, re.M)
    if not hint:
        return
    image = os.path.join(ROOT, "build", "disk.img")
    with Tally(drive=image) as first:
        first.boot()
        with Tally(extra=hint.group(1).replace("IMG", image).split()) as second:
            log2 = second.boot()
            ok('fat32: mounted "TALLY"' in log2,
               "the option given, pasted beside a QEMU holding the image, boots and mounts", log2)


def shared_image():
    """`make run` and a second QEMU on build/disk.img at once: neither may
    take QEMU's write lock (Failed to get "write" lock)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    with Tally(argv=["make", "-s", "-C", ROOT, "run"], env=env) as first:
        log1 = first.boot()
        with Tally(drive=os.path.join(ROOT, "build", "disk.img")) as second:
            log2 = second.boot()
            ok('fat32: mounted "TALLY"' in log1, "make run boots and mounts build/disk.img", log1)
            ok('fat32: mounted "TALLY"' in log2,
               "a second QEMU on the same image at once boots and mounts it", log2)
            ok(second.cmd("cat /README.txt") == first.cmd("cat /README.txt") != "",
               "both read the same file")


def big_blocks(size):
    img = os.path.join(TEST, f"blocks{size}.img")
    make_fat(img, 300, sector=size)
    opts = f",logical_block_size={size},physical_block_size={size}"
    with Tally(extra=drive_args(img, 0, opts)) as t:
        log = t.boot()
        n = (300 << 20) // size
        ok(f"disk: virtio-blk (legacy), {n} sectors of {size} bytes (300 MiB)" in log,
           f"{size}-byte blocks: size and block size reported", log)
        ok(re.search(r'^fat32: mounted ".*" from virtio-mmio@10008000', log, re.M) is not None,
           f"{size}-byte blocks: FAT32 volume with {size}-byte sectors mounted", log)
        ok(t.cmd("cat /h.txt") == f"sector {size}\n", f"{size}-byte blocks: file read")
        out = t.cmd("selftest blk", timeout=60)
        cases = ktap_cases(out)
        ok(len(cases) == BLK_CASES and all(not b and "SKIP" not in r for b, _, r in cases),
           f"{size}-byte blocks: blk suite passes, nothing skipped", out)
        ok(t.cmd("cat /h.txt") == f"sector {size}\n", f"{size}-byte blocks: file read after the reset")


def too_big_blocks():
    """8192-byte logical blocks: refused at set-up, as Linux refuses a
    block size above its page size, and said so."""
    opts = ",logical_block_size=8192,physical_block_size=8192"
    with Tally(extra=drive_args(IMG, 0, opts)) as t:
        log = t.boot()
        why = "set-up failed: block size 8192 not supported (512..4096, a power of two)"
        ok(f"disk: virtio-blk (legacy) at virtio-mmio@10008000: {why}" in log,
           "8192-byte blocks: the disk is listed as refused, with the reason", log)
        ok(t.cmd("ls").strip() == f"error: no filesystem: virtio-mmio@10008000: {why}",
           "8192-byte blocks: ls repeats the reason")


def several_disks():
    """junk, FAT32 "SECOND", FAT32 "THIRD": all listed; the first FAT32
    volume is mounted, the junk one refused with its reason, the third not
    tried."""
    junk, second, third = (os.path.join(TEST, f"multi{i}.img") for i in range(3))
    make_junk(junk, 8 << 20)
    make_fat(second, 40, label="SECOND")
    make_fat(third, 33, label="THIRD")
    with Tally(drive=[junk, second, third]) as t:
        log = t.boot()
        disks = re.findall(r"^disk: virtio-blk \(legacy\), (\d+) sectors of 512 bytes "
                           r"\(\d+ MiB\) at (virtio-mmio@[0-9a-f]+)$", log, re.M)
        at = {int(n): where for n, where in disks}
        ok(sorted(at) == [16384, 67584, 81920] and len(set(at.values())) == 3,
           "three disks: each listed once with its size and address", log)
        if len(at) != 3 or 16384 not in at or 81920 not in at or 67584 not in at:
            return
        ok(re.search(rf"^fat32: not mounted: {at[16384]}: .+$", log, re.M) is not None,
           "the junk disk: not mounted, with the reason", log)
        ok(f'fat32: mounted "SECOND" from {at[81920]},' in log,
           "the first FAT32 volume is mounted, and where from", log)
        ok(f"fat32: not tried: {at[67584]} (the root is mounted already)" in log,
           "the other FAT32 disk: not tried, and why", log)
        ok(t.cmd("cat /h.txt") == "sector 512\n", "the mounted volume reads")


def pci_disk():
    with Tally(extra=["-drive", f"file={IMG},if=virtio,format=raw,readonly=on"]) as t:
        log = t.boot()
        ok(re.search(r"^disk: virtio-blk on PCI 00:[0-9a-f]{2}\.0 \(1af4:10(01|42)\) not used: "
                     r"only virtio-mmio block devices are supported$", log, re.M) is not None,
           "-drive if=virtio: the PCI disk is named as unsupported", log)
        ok(MMIO_HINT in log, "-drive if=virtio: and the option to use is given", log)
    with Tally(drive=IMG, extra=["-device", "virtio-scsi-pci"]) as t:
        log = t.boot()
        ok(re.search(r"^disk: virtio-scsi on PCI 00:[0-9a-f]{2}\.0 \(1af4:10(04|48)\) not used",
                     log, re.M) is not None, "virtio-scsi-pci beside an mmio disk: named", log)
        ok("disk: none" not in log and 'fat32: mounted "' in log,
           "virtio-scsi-pci beside an mmio disk: the mmio disk is still mounted", log)


def empty_disk():
    img = os.path.join(TEST, "empty.img")
    open(img, "wb").close()
    with Tally(drive=img) as t:
        log = t.boot()
        ok("disk: virtio-blk (legacy), empty disk (0 sectors) at virtio-mmio@10008000" in log,
           "0-byte image: called an empty disk, 0 sectors", log)
        ok("fat32: not mounted: virtio-mmio@10008000: empty disk (0 sectors)" in log,
           "0-byte image: not mounted, and why", log)
        ok(t.cmd("ls").strip() == "error: no filesystem: virtio-mmio@10008000: empty disk (0 sectors)",
           "0-byte image: ls repeats the reason")
        out = t.cmd("selftest blk", timeout=60)
        cases = ktap_cases(out)
        ok(len(cases) == BLK_CASES and "selftest: PASS" in out
           and all(not b and "# SKIP empty disk (0 sectors)" in r for b, _, r in cases), "0-byte image: every blk case skipped, with the reason", out)


def foreign_disk():
    """A disk that is not a FAT image: the suite skips the boot-sector case
    with its reason and runs the rest."""
    junk = os.path.join(TEST, "foreign.img")
    with open(junk, "wb") as f:
        f.truncate(1 << 20)
    with Tally(drive=junk, append="selftest=blk") as t:
        code, out = t.wait_exit(timeout=60)
        cases = {name: (bad, rest) for bad, name, rest in ktap_cases(out)}
        ok(cases.get("boot_sector_signature", (1, ""))[1] ==
           " # SKIP block 0 has no 0x55AA signature: not a FAT or MBR disk",
           "zeroed disk: boot-sector case skipped with the reason", out)
        ok(len(cases) == BLK_CASES and all(not b for b, _ in cases.values()) and code == 0,
           f"zeroed disk: selftest=blk exits 0 (got {code})", out)
        ok(all("SKIP" not in cases[n][1] for n in ("multi_sector_request", "range_checked",
                                                   "timeout_then_reset", "reset_fails_disabled")
                   if n in cases),
           "zeroed disk: the other cases run", out)


os.makedirs(TEST, exist_ok=True)
make_fat(IMG, 40)
guarded(lambda: selftest("legacy"), "legacy")
guarded(lambda: selftest("modern"), "modern")
guarded(no_disk, "no disk")
guarded(shared_image, "shared image")
guarded(lambda: big_blocks(4096), "4096-byte blocks")
guarded(lambda: big_blocks(1024), "1024-byte blocks")
guarded(too_big_blocks, "8192-byte blocks")
guarded(several_disks, "several disks")
guarded(pci_disk, "PCI disk")
guarded(empty_disk, "empty disk")
guarded(foreign_disk, "foreign disk")
sys.exit(finish())
