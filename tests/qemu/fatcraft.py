"""Crafting FAT32 images for the QEMU tests: mkfs.fat and mtools make the
volume, then long names are rewritten in place, unit for unit, to hold
what mtools refuses (control characters, '"', '\\'). Field offsets from
the Microsoft FAT specification (BPB_BytsPerSec at 11, BPB_SecPerClus 13,
BPB_RsvdSecCnt 14, BPB_NumFATs 16, BPB_FATSz32 36, BPB_RootClus 44;
LDIR_Name1/2/3 at 1, 14, 28; LDIR_Attr 0x0F at 11)."""
import os
import struct
import subprocess

ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1", LANG="C.UTF-8", LC_ALL="C.UTF-8")
LFN_POS = (1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30)


def mtools(*args):
    subprocess.run(args, env=ENV, check=True, capture_output=True)


def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def geometry(f):
    """(cluster -> byte offset, root cluster, bytes per cluster)."""
    f.seek(0)
    b = f.read(512)
    bps, spc, rsvd, nfats = struct.unpack_from("<HBHB", b, 11)
    fatsz, root = struct.unpack_from("<II", b, 36)[0], struct.unpack_from("<I", b, 44)[0]
    data = (rsvd + nfats * fatsz) * bps
    return lambda c: data + (c - 2) * spc * bps, root, spc * bps


def find(blob, name11):
    """Offset of the short entry named name11 (11 bytes, as on disk)."""
    for off in range(0, len(blob), 32):
        if blob[off:off + 11] == name11:
            return off
    raise KeyError(name11)


def find_long(blob, text):
    """Offset of the short entry whose long name is text."""
    units = []
    for off in range(0, len(blob), 32):
        if blob[off + 11] == 0x0F and blob[off] != 0xE5:
            units = [struct.unpack_from("<H", blob, off + p)[0] for p in LFN_POS] + \
                (units if not blob[off] & 0x40 else [])
            continue
        name = "".join(chr(u) for u in units).split("\0")[0]
        if units and name == text:
            return off
        units = []
    raise KeyError(text)


def patch_lfn(blob, short, text):
    """Rewrite the long name before the short entry at offset short with
    text, unit for unit (the LFN checksum covers only the short name)."""
    for i, ch in enumerate(text):
        struct.pack_into("<H", blob, short - 32 * (i // 13 + 1) + LFN_POS[i % 13], ord(ch))
