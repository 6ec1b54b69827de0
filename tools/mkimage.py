#!/usr/bin/env python3
"""Build build/disk.img: a FAT32 volume holding rootfs/ plus generated files.

    python3 tools/mkimage.py [IMAGE] [--bin FILE...] [--extra DIR]

--bin puts each FILE (the user programs, build/user/bin/*) into /bin;
--extra merges DIR's tree into the volume's root as rootfs/ is (DIR/x ->
/x, DIR/bin/y -> /bin/y; `make image EXTRA=dir/`). A path that is already
on the volume is refused: nothing is replaced silently.

Made the way a user would, with no root and no loop mount: a sparse file,
mkfs.fat, then mtools (mmd, mcopy, mdel). Besides the files of rootfs/ it
adds, generated from a fixed seed so every build is identical:
    /big/random-4M.bin      4 MiB (over 1 MiB; the file read benchmark)
    /frag/fragmented.bin    96 KiB laid into holes left by deleted files, so
                            its cluster chain jumps around the volume
    /SHA256SUMS             every other file, as coreutils' sha256sum prints
mtools always allocates after the last cluster it used; to fill holes the
FSInfo "next free" hint (FSI_Nxt_Free, byte 492 of the FSInfo sector) is
reset to 2 before the fragmented file is copied.
"""
import argparse
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE_MIB = 260          # FAT32 with 4 KiB clusters needs >= 65525 clusters
SECTORS_PER_CLUSTER = 8
SEED = 20261122


def run(*args):
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)


def add_file(src, dest):
    if os.path.lexists(dest):
        sys.exit(f"mkimage: {src}: {dest} is already on the volume")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copy(src, dest)


def add_extra(staging, extra):
    if not os.path.isdir(extra):
        sys.exit(f"mkimage: EXTRA {extra}: not a directory")
    for dirpath, _, filenames in os.walk(extra):
        rel = os.path.relpath(dirpath, extra)
        for name in filenames:
            add_file(os.path.join(dirpath, name), os.path.normpath(os.path.join(staging, rel, name)))


def stage(staging, bins, extra):
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "rootfs"), staging)
    for path in bins:
        add_file(path, os.path.join(staging, "bin", os.path.basename(path)))
    if extra:
        add_extra(staging, extra)
    rnd = random.Random(SEED)
    os.makedirs(os.path.join(staging, "big"))
    with open(os.path.join(staging, "big", "random-4M.bin"), "wb") as f:
        f.write(rnd.randbytes(4 << 20))
    return rnd.randbytes(96 << 10)


def copy_tree(img, staging):
    for dirpath, dirnames, filenames in os.walk(staging):
        rel = os.path.relpath(dirpath, staging)
        dest = "::/" if rel == "." else "::/" + rel.replace(os.sep, "/")
        for d in sorted(dirnames):
            run("mmd", "-i", img, f"{dest.rstrip('/')}/{d}")
        for name in sorted(filenames):
            run("mcopy", "-i", img, os.path.join(dirpath, name), f"{dest.rstrip('/')}/{name}")


def fsinfo_next_free(img, cluster):
    with open(img, "r+b") as f:
        boot = f.read(512)
        bps = struct.unpack_from("<H", boot, 11)[0]
        fsinfo = struct.unpack_from("<H", boot, 48)[0]
        f.seek(fsinfo * bps + 492)
        f.write(struct.pack("<I", cluster))


def add_fragmented(img, staging, data, tmp):
    run("mmd", "-i", img, "::/frag")
    fill = os.path.join(tmp, "fill.bin")
    with open(fill, "wb") as f:
        f.write(b"\xaa" * (16 << 10))
    for i in range(12):
        run("mcopy", "-i", img, fill, f"::/frag/fill{i:02d}.bin")
    for i in range(0, 12, 2):
        run("mdel", "-i", img, f"::/frag/fill{i:02d}.bin")
    fsinfo_next_free(img, 2)
    os.makedirs(os.path.join(staging, "frag"), exist_ok=True)
    for i in range(1, 12, 2):
        shutil.copy(fill, os.path.join(staging, "frag", f"fill{i:02d}.bin"))
    path = os.path.join(staging, "frag", "fragmented.bin")
    with open(path, "wb") as f:
        f.write(data)
    run("mcopy", "-i", img, path, "::/frag/fragmented.bin")


def sha256sums(staging):
    lines = []
    for dirpath, _, filenames in os.walk(staging):
        for name in filenames:
            full = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(full, staging).replace(os.sep, "/")
            with open(full, "rb") as f:
                lines.append(f"{hashlib.sha256(f.read()).hexdigest()}  {rel}\n")
    return "".join(sorted(lines, key=lambda l: l[66:]))


def main(img, bins, extra):
    tmp = img + ".d"
    staging = os.path.join(tmp, "rootfs")
    os.makedirs(tmp, exist_ok=True)
    frag = stage(staging, bins, extra)
    if os.path.exists(img):
        os.remove(img)
    with open(img, "wb") as f:
        f.truncate(IMAGE_MIB << 20)
    run("mkfs.fat", "-F", "32", "-s", str(SECTORS_PER_CLUSTER), "-n", "TALLY", img)
    copy_tree(img, staging)
    add_fragmented(img, staging, frag, tmp)
    sums = os.path.join(tmp, "SHA256SUMS")
    with open(sums, "w") as f:
        f.write(sha256sums(staging))
    run("mcopy", "-i", img, sums, "::/SHA256SUMS")
    shutil.copy(sums, img + ".sha256sums")
    print(f"image: {img} ({IMAGE_MIB} MiB FAT32, {SECTORS_PER_CLUSTER * 512} B clusters)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Build Tally's FAT32 disk image.")
    ap.add_argument("image", nargs="?", default=os.path.join(ROOT, "build", "disk.img"))
    ap.add_argument("--bin", nargs="*", default=[], help="files for /bin")
    ap.add_argument("--extra", help="a directory merged into the root")
    args = ap.parse_args()
    main(args.image, args.bin, args.extra)
