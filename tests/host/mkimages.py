#!/usr/bin/env python3
"""Build the FAT32 test images for tests/host/test_fat32.c.

    python3 tests/host/mkimages.py [OUTDIR]     (default build/host/fatimg)

Every image is made the way a user would: a sparse file, mkfs.fat, then
mtools (mmd, mcopy, mdel) from a source tree written here. No root, no loop
mounts. OUTDIR gets, per image NAME:
    NAME.img     the volume
    NAME.list    what `mdir -/ -b` lists, one absolute path a line ("/a/b",
                 directories with a trailing "/"): the oracle for listings
    src/NAME/    the source tree: the oracle for file contents
and manifest.txt, one line per image:
    NAME BYTES_PER_SECTOR SECTORS_PER_CLUSTER FSCK_OK KIND
where KIND is fat32 (must mount), fat12 / fat16 (must be refused), mbr /
gpt (a copy of a fat32 image as the second partition of a partition
table, after a non-FAT one; its .list and src/ are the inner image's),
dirfull (a crafted directory, see make_dirfull) or deep (paths longer than
any fixed buffer, see make_deep).
Re-running is cheap: a stamp holding this script's hash skips the work.

Two things mtools cannot do are patched in afterwards:
  * a name needing a UTF-16 surrogate pair (mtools 4.0 truncates code points
    above U+FFFF): the file is copied as "XXsmile.txt" and the two X units in
    its LFN entry are overwritten with U+1F600 as D83D DE00 (the LFN
    checksum covers only the short name, so it stays valid);
  * a fragmented file: mtools allocates after the last allocated cluster,
    so after deleting every other fill file FSI_Nxt_Free (FSInfo offset 492)
    is set to 2, and the next file is laid into the holes.
Python standard library only; needs mkfs.fat, fsck.fat and mtools.
"""
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys

MiB = 1024 * 1024
EMOJI = "\U0001F600smile.txt"
PLACEHOLDER = "XXsmile.txt"

# name, bytes/sector, sectors/cluster, image MiB, full tree?
IMAGES = [
    ("s512c1", 512, 1, 40, True),
    ("s512c8", 512, 8, 300, False),
    ("s512c64", 512, 64, 2100, False),
    ("s4096c1", 4096, 1, 300, False),
    ("s4096c8", 4096, 8, 2100, True),
    ("s1024c2", 1024, 2, 300, False),
    ("s4096c64", 4096, 64, 16400, False),   # 256 KiB clusters (sparse file)
]

# name, inner image, table, logical block size
PARTITIONED = [
    ("mbr512", "s512c1", "mbr", 512),
    ("gpt512", "s512c1", "gpt", 512),
    ("gpt4096", "s4096c1", "gpt", 4096),
]
GUID_LINUX_FS = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
GUID_MS_BASIC = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"

ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1", LANG="C.UTF-8", LC_ALL="C.UTF-8")


def run(*args, check=True):
    return subprocess.run(args, env=ENV, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def common_tree(src, cb, rnd):
    """Files every image gets; cb = cluster bytes."""
    write(f"{src}/README.TXT", b"Tally FAT32 test image\n")
    write(f"{src}/notes.txt", b"lower-case 8.3 name: NT case flags, no LFN\n")
    write(f"{src}/MixedCase.Txt", b"mixed case needs a long name\n")
    write(f"{src}/Gr\u00fc\u00dfe.txt", "Grüße aus Tally\n".encode())
    write(f"{src}/\u65e5\u672c\u8a9e.txt", "日本語のファイル\n".encode())
    write(f"{src}/{EMOJI}", "a name with a surrogate pair\n".encode())
    write(f"{src}/\u00dcn\u00efc\u00f6d\u00e9 dir/inner file.txt", b"inside\n")
    write(f"{src}/a/b/c/file.txt", b"three levels\n")
    for name, size in [("empty.bin", 0), ("one.bin", 1), ("cm1.bin", cb - 1),
                       ("c.bin", cb), ("cp1.bin", cb + 1),
                       ("big.bin", 3 * MiB + 12345)]:
        write(f"{src}/sizes/{name}", rnd.randbytes(size))


def full_tree(src, rnd):
    """The big directory, the deep path and the long names."""
    for i in range(1100):
        name = f"F{i:05d}.TXT" if i % 2 else f"long file name number {i:04d}.txt"
        write(f"{src}/many/{name}", f"entry {i}\n".encode() * (i % 7))
    deep = "/".join(f"level{i:02d}" for i in range(1, 21))
    write(f"{src}/deep/{deep}/leaf.txt", b"twenty levels down\n")
    for n in (255, 254):
        write(f"{src}/lfn/{'L' * (n - 4)}.txt", f"name of {n} units\n".encode())


def fill_fragmented(img, src, cb, rnd):
    """frag/: 24 fill files of 2 clusters, every other one deleted, then
    frag/scattered.bin (40 clusters) written into the holes."""
    tmp = f"{src}.frag"
    os.makedirs(tmp, exist_ok=True)
    run("mmd", "-i", img, "::/frag")
    names = []
    for i in range(24):
        p = f"{tmp}/fill{i:02d}.bin"
        write(p, rnd.randbytes(2 * cb))
        names.append(p)
    run("mcopy", "-i", img, *names, "::/frag/")
    for i in range(1, 24, 2):
        run("mdel", "-i", img, f"::/frag/fill{i:02d}.bin")
    for i in range(0, 24, 2):
        write(f"{src}/frag/fill{i:02d}.bin", open(names[i], "rb").read())
    set_next_free(img, 2)
    write(f"{src}/frag/scattered.bin", rnd.randbytes(40 * cb - 100))
    run("mcopy", "-i", img, f"{src}/frag/scattered.bin", "::/frag/")
    shutil.rmtree(tmp)


def bpb(img):
    with open(img, "rb") as f:
        b = f.read(512)
    bps, spc, rsvd, nfats = struct.unpack_from("<HBHB", b, 11)
    fatsz, root, fsinfo = struct.unpack_from("<I", b, 36)[0], \
        struct.unpack_from("<I", b, 44)[0], struct.unpack_from("<H", b, 48)[0]
    return bps, spc, rsvd, nfats, fatsz, root, fsinfo


def set_next_free(img, cluster):
    bps, _, _, _, _, _, fsinfo = bpb(img)
    with open(img, "r+b") as f:
        f.seek(fsinfo * bps + 492)      # FSI_Nxt_Free
        f.write(struct.pack("<I", cluster))


def patch_emoji(img):
    """Turn the LFN of ::/XXsmile.txt into U+1F600 'smile.txt'."""
    bps, spc, rsvd, nfats, fatsz, root, _ = bpb(img)
    off = (rsvd + nfats * fatsz + (root - 2) * spc) * bps
    with open(img, "r+b") as f:
        f.seek(off)
        clus = f.read(bps * spc)
        at = clus.find("XXsmi".encode("utf-16-le"))
        if at < 0 or at % 32 != 1:
            sys.exit(f"{img}: placeholder LFN not in the root's first cluster")
        f.seek(off + at)
        f.write(struct.pack("<HH", 0xD83D, 0xDE00))


def listing(img):
    """mdir's recursive listing, the placeholder shown as its real name."""
    out = run("mdir", "-/", "-b", "-i", img, "::/").stdout
    paths = []
    for line in out.splitlines():
        if not line.startswith("::/"):
            continue
        p = line[2:]
        paths.append("/" + EMOJI if p == "/" + PLACEHOLDER else p)
    return sorted(paths)


def make_fat32(out, name, bps, spc, mib, full):
    img, src = f"{out}/{name}.img", f"{out}/src/{name}"
    cb = bps * spc
    rnd = random.Random(f"tally-{name}")
    shutil.rmtree(src, ignore_errors=True)
    common_tree(src, cb, rnd)
    if full:
        full_tree(src, rnd)
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(mib * MiB)
    run("mkfs.fat", "-F", "32", "-S", str(bps), "-s", str(spc),
        "-i", "7A11E006", "-n", "TALLY", img)
    fill_fragmented(img, src, cb, rnd)
    run("mcopy", "-i", img, f"{src}/{EMOJI}", f"::/{PLACEHOLDER}")
    top = sorted(e for e in os.listdir(src) if e not in ("frag", EMOJI))
    run("mcopy", "-s", "-i", img, *[f"{src}/{e}" for e in top], "::/")
    with open(f"{out}/{name}.list", "w", encoding="utf-8") as f:
        f.write("\n".join(listing(img)) + "\n")   # before the patch
    patch_emoji(img)
    fsck = run("fsck.fat", "-n", img, check=False)
    return f"{name} {bps} {spc} {int(fsck.returncode == 0)} fat32"


def make_small(out, name, fat, mib):
    img = f"{out}/{name}.img"
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(mib * MiB)
    run("mkfs.fat", "-F", str(fat), "-i", "7A11E006", img)
    return f"{name} 512 0 1 fat{fat}"


def copy_sparse(src, dst, at):
    """Copy file src into dst at byte offset at, skipping zero chunks."""
    with open(src, "rb") as f, open(dst, "r+b") as g:
        while True:
            pos = f.tell()
            chunk = f.read(MiB)
            if not chunk:
                break
            if chunk.count(0) != len(chunk):
                g.seek(at + pos)
                g.write(chunk)


def mbr_entry(boot, ptype, start, count):
    return struct.pack("<B3sB3sII", boot, b"\0\0\0", ptype, b"\0\0\0", start, count)


def gpt_tables(total, lbs, parts):
    """Primary GPT (header at LBA 1, 128 entries from LBA 2) for parts,
    a list of (type GUID, first LBA, last LBA); UEFI 2.x section 5.3."""
    import uuid
    import zlib
    entries = b""
    for i, (guid, first, last) in enumerate(parts):
        entries += uuid.UUID(guid).bytes_le + uuid.UUID(int=i + 1).bytes_le + \
            struct.pack("<QQQ", first, last, 0) + f"part{i + 1}".encode("utf-16-le").ljust(72, b"\0")
    entries = entries.ljust(128 * 128, b"\0")
    first_usable = 2 + len(entries) // lbs
    hdr = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, 1, total - 1,
                      first_usable, total - 1 - first_usable, uuid.UUID(int=7).bytes_le, 2,
                      128, 128, zlib.crc32(entries))
    hdr = hdr[:16] + struct.pack("<I", zlib.crc32(hdr)) + hdr[20:]
    return hdr, entries


def make_partitioned(out, name, inner, table, lbs):
    """inner's image as partition 2 of an MBR or GPT disk of lbs-byte
    blocks; partition 1 (4 MiB from 1 MiB) holds random bytes, not FAT;
    MBR entry 3 is an extended partition (never searched)."""
    img, src = f"{out}/{name}.img", f"{out}/{inner}.img"
    size = os.path.getsize(src)
    p1, n1 = MiB // lbs, 4 * MiB // lbs
    p2, n2 = p1 + n1, size // lbs
    total = p2 + n2 + MiB // lbs
    with open(img, "wb") as f:
        f.truncate(total * lbs)
        f.seek(p1 * lbs)
        f.write(random.Random(name).randbytes(64 * 1024))
    copy_sparse(src, img, p2 * lbs)
    if table == "mbr":
        ents = mbr_entry(0, 0x83, p1, n1) + mbr_entry(0x80, 0x0C, p2, n2) + \
            mbr_entry(0, 0x05, p2 + n2, MiB // lbs) + bytes(16)
    else:
        ents = mbr_entry(0, 0xEE, 1, min(total - 1, 0xFFFFFFFF)) + bytes(48)
        hdr, entries = gpt_tables(total, lbs, [(GUID_LINUX_FS, p1, p1 + n1 - 1),
                                               (GUID_MS_BASIC, p2, p2 + n2 - 1)])
    with open(img, "r+b") as f:
        f.seek(446)
        f.write(ents + b"\x55\xAA")
        if table == "gpt":
            f.seek(lbs)
            f.write(hdr)
            f.seek(2 * lbs)
            f.write(entries)
    shutil.copy(f"{out}/{inner}.list", f"{out}/{name}.list")
    if os.path.lexists(f"{out}/src/{name}"):
        os.unlink(f"{out}/src/{name}")
    os.symlink(inner, f"{out}/src/{name}")
    bps, spc = bpb(src)[:2]
    return f"{name} {bps} {spc} 1 {table}"


def make_dirfull(out):
    """dirfull: /full is a directory of exactly 65,536 entries ('.', '..'
    and 65,534 empty files 00000002.TXT .. 0000FFFF.TXT) in 4,096 clusters
    of 512 bytes, with no end marker: its cluster chain ends it."""
    img = f"{out}/dirfull.img"
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(40 * MiB)
    run("mkfs.fat", "-F", "32", "-S", "512", "-s", "1", "-i", "7A11E006", "-n", "TALLY", img)
    run("mmd", "-i", img, "::/full")
    bps, spc, rsvd, nfats, fatsz, root, _ = bpb(img)
    data = (rsvd + nfats * fatsz) * bps
    with open(img, "r+b") as f:
        f.seek(data + (root - 2) * bps)
        blob = f.read(bps)
        at = next(o for o in range(0, bps, 32) if blob[o:o + 11] == b"FULL       ")
        first = struct.unpack_from("<H", blob, at + 26)[0] | struct.unpack_from("<H", blob, at + 20)[0] << 16
        chain = [first] + list(range(first + 1, first + 4096))   # free after mkfs + mmd
        for c in chain[1:]:
            f.seek(rsvd * bps + c * 4)
            assert f.read(4) == bytes(4), f"cluster {c} is not free"
        for k in range(nfats):
            for i, c in enumerate(chain):
                f.seek((rsvd + k * fatsz) * bps + c * 4)
                f.write(struct.pack("<I", chain[i + 1] if i + 1 < len(chain) else 0x0FFFFFFF))
        f.seek(data + (first - 2) * bps)
        ents = bytearray(f.read(64))                 # '.' and '..' as mmd wrote them
        for i in range(2, 65536):
            ents += f"{i:08X}TXT".encode() + bytes([0x20]) + bytes(20)
        for i, c in enumerate(chain):
            f.seek(data + (c - 2) * bps)
            f.write(ents[i * bps:(i + 1) * bps])
    return "dirfull 512 1 0 dirfull"


DEEP = {   # directory: (names of its nested levels), each with leaf.txt at the bottom
    "wide": [f"{i}" + "w" * 201 for i in range(1, 7)],          # 6 x 202: 1,218 bytes
    "long": [f"{i:02d}" + "n" * 253 for i in range(1, 25)],      # 24 x 255: 6,149 bytes
    "d": ["d"] * 70,                                              # deeper than 64 levels
}


def deep_path(top):
    return "/" + "/".join([top] + DEEP[top])


def make_deep(out):
    """deep: nested directories whose paths outgrow any fixed buffer (see
    DEEP), made one level at a time with mmd; every leaf.txt holds
    "leaf of /TOP\n". .list is mdir's listing."""
    img, tmp = f"{out}/deep.img", f"{out}/deep.leaf"
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(40 * MiB)
    run("mkfs.fat", "-F", "32", "-S", "512", "-s", "1", "-i", "7A11E006", "-n", "TALLY", img)
    for top, names in DEEP.items():
        path = "::/" + top
        run("mmd", "-i", img, path)
        for n in names:
            path += "/" + n
            run("mmd", "-i", img, path)
        write(tmp, f"leaf of /{top}\n".encode())
        run("mcopy", "-i", img, tmp, path + "/leaf.txt")
    os.unlink(tmp)
    with open(f"{out}/deep.list", "w", encoding="utf-8") as f:
        f.write("\n".join(listing(img)) + "\n")
    return "deep 512 1 1 deep"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/host/fatimg"
    me = hashlib.sha256(open(__file__, "rb").read()).hexdigest()
    stamp = f"{out}/stamp"
    if os.path.exists(stamp) and open(stamp).read() == me and \
       os.path.exists(f"{out}/manifest.txt"):
        return
    os.makedirs(f"{out}/src", exist_ok=True)
    lines = [make_fat32(out, *spec) for spec in IMAGES]
    lines += [make_partitioned(out, *spec) for spec in PARTITIONED]
    lines.append(make_dirfull(out))
    lines.append(make_deep(out))
    lines.append(make_small(out, "fat16", 16, 16))
    lines.append(make_small(out, "fat12", 12, 2))
    with open(f"{out}/manifest.txt", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(stamp, "w") as f:
        f.write(me)


if __name__ == "__main__":
    main()
