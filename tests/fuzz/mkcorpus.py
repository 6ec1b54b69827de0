#!/usr/bin/env python3
"""Write the seed corpus of tests/fuzz/fuzz_fat32.c into tests/fuzz/corpus/.

    python3 tests/fuzz/mkcorpus.py

Each seed is a small FAT32 volume made with mkfs.fat and mtools, stored in
the harness's sparse format: for every 512-byte sector that is not all
zeros, a 4-byte little-endian sector number and the sector. A 40 MiB
volume with a few files becomes a few KiB. The seeds are committed; run
this again only to change them. Needs mkfs.fat and mtools.
"""
import os
import struct
import subprocess
import tempfile

ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1", LANG="C.UTF-8", LC_ALL="C.UTF-8")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def run(*args):
    subprocess.run(args, env=ENV, check=True, stdout=subprocess.DEVNULL)


def sparse(img):
    out = bytearray()
    with open(img, "rb") as f:
        n = 0
        while True:
            s = f.read(512)
            if not s:
                break
            if any(s):
                out += struct.pack("<I", n) + s
            n += 1
    return bytes(out)


def seed(name, mib, bps, spc, tree):
    with tempfile.TemporaryDirectory() as tmp:
        img = f"{tmp}/v.img"
        with open(img, "wb") as f:
            f.truncate(mib << 20)
        run("mkfs.fat", "-F", "32", "-S", str(bps), "-s", str(spc),
            "-i", "7A11E006", "-n", "SEED", img)
        for path, data in tree:
            host = f"{tmp}/src/{os.path.basename(path)}"
            os.makedirs(os.path.dirname(host), exist_ok=True)
            if data is None:
                run("mmd", "-i", img, "::" + path)
                continue
            with open(host, "wb") as f:
                f.write(data)
            run("mcopy", "-i", img, host, "::" + path)
        with open(f"{OUT}/{name}", "wb") as f:
            f.write(sparse(img))


def main():
    os.makedirs(OUT, exist_ok=True)
    tree = [
        ("/README.TXT", b"seed\n"),
        ("/notes.txt", b"lower case 8.3\n"),
        ("/A long file name.txt", b"x" * 1500),
        ("/Gr\u00fc\u00dfe.txt", "Grüße\n".encode()),
        ("/sub", None),
        ("/sub/deeper", None),
        ("/sub/deeper/file.bin", bytes(range(256)) * 9),
        ("/sub/empty", b""),
    ]
    seed("s512c1", 40, 512, 1, tree)
    seed("s4096c1", 300, 4096, 1, tree)
    seed("s512c8", 300, 512, 8, tree[:4])
    # the boot sector alone: mount succeeds, every directory is empty
    with open(f"{OUT}/s512c1", "rb") as f:
        data = f.read()
    with open(f"{OUT}/bootonly", "wb") as f:
        f.write(data[:516])


if __name__ == "__main__":
    main()
