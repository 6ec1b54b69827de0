#!/usr/bin/env python3
"""Write the seed corpus of tests/fuzz/fuzz_elf.c into tests/fuzz/corpus_elf/.

    python3 tests/fuzz/mkcorpus_elf.py

Seeds: `rv64_static`, the real static executable the cross compiler makes
from tests/host/elf_fixture.c, `hello`, /bin/hello as tally-cc links it
(user/user.ld: text, read-only data, data and bss, TLS; both built here
through make), and `minimal`,
the smallest executable test_elf.c accepts (text R X at USER_VA_BASE, data
R W with bss a page above, PT_GNU_STACK), written field by field. The seeds
are committed; run this again only to change them.
"""
import os
import shutil
import struct
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus_elf")
FIXTURE = "build/host/elf/rv64_static.elf"
HELLO = "build/user/bin/hello"

PT_LOAD, PT_GNU_STACK = 1, 0x6474E551
USER_VA_BASE = 0x20_0000_0000          # include/proc/uspace.h
PF_X, PF_W, PF_R = 1, 2, 4


def phdr(ptype, flags, off, va, filesz, memsz, align):
    return struct.pack("<IIQQQQQQ", ptype, flags, off, va, va, filesz, memsz, align)


def minimal():
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    # e_type, e_machine, e_version, e_entry, e_phoff, e_shoff, e_flags,
    # e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
    hdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 243, 1, USER_VA_BASE + 0x100, 64, 0, 0x5,
                              64, 56, 3, 0, 0, 0)
    hdr += phdr(PT_LOAD, PF_R | PF_X, 0, USER_VA_BASE, 0x200, 0x200, 0x1000)
    hdr += phdr(PT_LOAD, PF_R | PF_W, 0x1000, USER_VA_BASE + 0x1000, 0x10, 0x3000, 0x1000)
    hdr += phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0x10)
    img = bytearray(0x1010)
    img[:len(hdr)] = hdr
    img[0x100:0x200] = bytes((i * 7) & 0xFF for i in range(0x100, 0x200))
    img[0x1000:0x1010] = bytes(range(0xD0, 0xE0))
    return bytes(img)


def main():
    os.makedirs(OUT, exist_ok=True)
    subprocess.run(["make", "--no-print-directory", FIXTURE, HELLO], cwd=ROOT, check=True)
    shutil.copyfile(os.path.join(ROOT, FIXTURE), os.path.join(OUT, "rv64_static"))
    shutil.copyfile(os.path.join(ROOT, HELLO), os.path.join(OUT, "hello"))
    with open(os.path.join(OUT, "minimal"), "wb") as f:
        f.write(minimal())


if __name__ == "__main__":
    main()
