#!/usr/bin/env python3
"""Tally's user programs are what the kernel's loader is promised
(include/uapi/tally/layout.h): each build/user/bin/* is a static ELF64
little-endian RISC-V ET_EXEC, soft-float (RVC allowed), with no
PT_INTERP or PT_DYNAMIC; its PT_LOADs are page aligned (p_align 4096,
p_vaddr = p_offset mod 4096), never writable and executable at once,
inside [TALLY_USER_BASE, TALLY_USER_END), in address order without
overlap, file bytes within the file, the first at TALLY_USER_BASE; the
entry point lies in an executable PT_LOAD. Also: user/user.ld links at
TALLY_USER_BASE. Read with struct from the ELF-64 spec's field offsets, not
with binutils, so the check does not trust the tools that made the files."""
import os
import re
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "qemu"))
from tally import ROOT, finish, ok  # noqa: E402

BIN = os.path.join(ROOT, "build", "user", "bin")
PROGRAMS = ("hello", "mstress", "demandpage", "brkgrow", "mmaptest", "badptr", "segv",
            "oomhog", "spawner", "cat", "ls", "filetest", "ubench", "malloctest", "icount")
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
PF_X, PF_W, PF_R = 1, 2, 4
EF_RISCV_RVC, EF_RISCV_FLOAT_ABI = 0x1, 0x6


def layout():
    text = open(os.path.join(ROOT, "include", "uapi", "tally", "layout.h")).read()
    val = lambda name: int(re.search(rf"#define {name}\s+(0x[0-9a-fA-F]+)UL", text).group(1), 16)
    return val("TALLY_USER_BASE"), val("TALLY_USER_END")


def read_elf(path):
    """(header dict, [program headers]) or raises ValueError."""
    data = open(path, "rb").read()
    if len(data) < 64 or data[:4] != b"\x7fELF":
        raise ValueError("no ELF magic")
    ei_class, ei_data = data[4], data[5]
    (e_type, e_machine, e_version, e_entry, e_phoff, _shoff, e_flags, e_ehsize,
     e_phentsize, e_phnum) = struct.unpack_from("<HHIQQQIHHH", data, 16)
    hdr = dict(cls=ei_class, data=ei_data, type=e_type, machine=e_machine, entry=e_entry,
               flags=e_flags, phentsize=e_phentsize, size=len(data))
    if e_phentsize != 56 or e_phoff + e_phnum * 56 > len(data):
        raise ValueError(f"program headers out of the file ({e_phoff}+{e_phnum}x{e_phentsize})")
    phdrs = []
    for i in range(e_phnum):
        p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_align = \
            struct.unpack_from("<IIQQQQQQ", data, e_phoff + i * 56)
        phdrs.append(dict(type=p_type, flags=p_flags, offset=p_offset, vaddr=p_vaddr,
                          filesz=p_filesz, memsz=p_memsz, align=p_align))
    return hdr, phdrs


def check_loads(name, hdr, loads, base, end):
    ok(loads and loads[0]["vaddr"] == base, f"{name}: first PT_LOAD at {base:#x}",
       [hex(p["vaddr"]) for p in loads])
    prev_end = 0
    for p in loads:
        where = f"{name}: PT_LOAD {p['vaddr']:#x}+{p['memsz']:#x}"
        ok(p["align"] == 4096 and p["vaddr"] % 4096 == p["offset"] % 4096 == 0,
           f"{where} page aligned", p)
        ok(base <= p["vaddr"] and p["vaddr"] + p["memsz"] <= end and p["filesz"] <= p["memsz"],
           f"{where} inside [{base:#x}, {end:#x})", p)
        ok(p["offset"] + p["filesz"] <= hdr["size"], f"{where}: file bytes within the file", p)
        ok(p["vaddr"] >= prev_end, f"{where}: after the previous one, no overlap", p)
        ok(not (p["flags"] & PF_W and p["flags"] & PF_X), f"{where}: not writable and executable",
           p["flags"])
        prev_end = p["vaddr"] + p["memsz"]


def check_program(name, base, end):
    path = os.path.join(BIN, name)
    if not ok(os.path.isfile(path), f"{name}: built as {path}"):
        return
    try:
        hdr, phdrs = read_elf(path)
    except ValueError as e:
        ok(False, f"{name}: readable ELF", str(e))
        return
    ok(hdr["cls"] == 2 and hdr["data"] == 1, f"{name}: ELFCLASS64, little-endian", hdr)
    ok(hdr["type"] == 2 and hdr["machine"] == 243, f"{name}: ET_EXEC for EM_RISCV", hdr)
    ok(hdr["flags"] & ~EF_RISCV_RVC == 0 and hdr["flags"] & EF_RISCV_FLOAT_ABI == 0,
       f"{name}: soft-float ABI (e_flags {hdr['flags']:#x})")
    ok(not any(p["type"] in (PT_INTERP, PT_DYNAMIC) for p in phdrs),
       f"{name}: static (no PT_INTERP, no PT_DYNAMIC)")
    loads = [p for p in phdrs if p["type"] == PT_LOAD]
    check_loads(name, hdr, loads, base, end)
    ok(any(p["flags"] & PF_X and p["vaddr"] <= hdr["entry"] < p["vaddr"] + p["memsz"] for p in loads),
       f"{name}: entry {hdr['entry']:#x} inside an executable PT_LOAD")


def main():
    print("TAP version 13")
    base, end = layout()
    ld = open(os.path.join(ROOT, "user", "user.ld")).read()
    m = re.search(r"^\s*\. = (0x[0-9a-fA-F]+);", ld, re.M)
    ok(m and int(m.group(1), 16) == base, f"user.ld links at TALLY_USER_BASE {base:#x}",
       m.group(1) if m else "no '. = ADDR;' in user.ld")
    for name in PROGRAMS:
        check_program(name, base, end)
    # The reader must refuse what is not an ELF executable.
    try:
        read_elf(os.path.join(ROOT, "user", "user.ld"))
        ok(False, "a text file is refused by the reader")
    except ValueError:
        ok(True, "a text file is refused by the reader")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
