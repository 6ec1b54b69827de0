#!/usr/bin/env python3
"""A crafted FAT32 disk through the shell (issue 14): the volume sits in
partition 2 of an MBR disk; its names hold every control character (a long
name with U+0001..U+001F and U+007F, an 8.3 name with ESC and BEL), a
255-unit long name (765 bytes of UTF-8), a directory without '.' and '..',
300 files listed in a /SHA256SUMS of over 16 KiB, and labels that disagree
(boot sector "BOOTLBL", root directory "RT<ESC>LBL"), and paths longer than
any fixed buffer: /wide, six nested directories of 202-character names
(1,223 bytes), and /dd, 70 nested directories (deeper than 64 levels).

Expected values: the filter's rule (a byte that is a C0 control or DEL is
shown as \\xHH), what Linux and Windows do for '.' and '..' (the path
walked), what blkid and Windows call the label (the root directory's), and
the files' own SHA-256 digests."""
import hashlib
import os
import re
import struct
import subprocess
import sys

from fatcraft import find, geometry, mtools, patch_lfn, put
from tally import ROOT, Tally, finish, guarded, ok, parse_kv

WORK = os.path.join(ROOT, "build", "test", "names")
IMG = os.path.join(WORK, "disk.img")
CTL = "A" + "".join(chr(c) for c in range(1, 32)) + "\x7fZ"
CTL_SHOWN = "A" + "".join(f"\\x{c:02x}" for c in range(1, 32)) + "\\x7fZ"
PLACEHOLDER = "A" + "b" * 32 + "Z"            # as many UTF-16 units as CTL
ESC83 = b"E\x1bS\x07BEL TXT"
ESC83_SHOWN = "E\\x1bS\\x07BEL.TXT"
LONG = "\u3042" * 255                          # 765 bytes of UTF-8
LONG_PLACEHOLDER = "X" * 255                   # mtools cuts names at 255 bytes
START = 2048                                   # partition 2's first sector
WIDE = [f"{i}" + "w" * 201 for i in range(1, 7)]   # 6 x 202 characters
WIDE_PATH = "/wide/" + "/".join(WIDE)
DD_PATH = "/dd" + "/d" * 70


def patch_volume(vol):
    """Control characters into two names, '.' and '..' out of /odd/nodots,
    the two labels apart."""
    with open(vol, "r+b") as f:
        at, root, cb = geometry(f)
        f.seek(at(root))
        blob = f.read(cb)
        lab = next(o for o in range(0, cb, 32) if blob[o + 11] == 0x08)
        f.seek(at(root) + lab)
        f.write(b"RT\x1bLBL     ")
        f.seek(71)
        f.write(b"BOOTLBL    ")
        odd = struct.unpack_from("<H", blob, find(blob, b"ODD        ") + 26)[0]
        f.seek(at(odd))
        blob = bytearray(f.read(cb))
        patch_lfn(blob, find(blob, b"ABBBBB~1   "), CTL)
        patch_lfn(blob, find(blob, b"XXXXXX~1   "), LONG)
        at83 = find(blob, b"ESCBEL  TXT")
        blob[at83:at83 + 11] = ESC83
        nodots = struct.unpack_from("<H", blob, find(blob, b"NODOTS     ") + 26)[0]
        f.seek(at(odd))
        f.write(blob)
        f.seek(at(nodots))
        f.write(b"\xe5")
        f.seek(at(nodots) + 32)
        f.write(b"\xe5")


def build():
    """The volume (mkfs.fat, mtools, then patched), wrapped in an MBR."""
    os.makedirs(WORK, exist_ok=True)
    vol, src = os.path.join(WORK, "vol.img"), os.path.join(WORK, "src")
    sums, files = [], {}
    for i in range(300):
        files[f"/many/file number {i:03d}.txt"] = f"file {i}\n".encode() * (i % 5 + 1)
    files["/odd/" + PLACEHOLDER] = b"control characters\n"
    files["/odd/ESCBEL.TXT"] = b"escape and bell\n"
    files["/odd/" + LONG_PLACEHOLDER] = b"255 units, 765 bytes\n"
    files["/odd/nodots/inner.txt"] = b"inside a directory without dots\n"
    files[WIDE_PATH + "/leaf.txt"] = b"1,223 bytes of directory above me\n"
    files[DD_PATH + "/leaf.txt"] = b"70 levels down\n"
    with open(vol, "wb") as f:
        f.truncate(300 << 20)
    subprocess.run(["mkfs.fat", "-F", "32", "-s", "8", "-n", "ROOTLBL", vol],
                   check=True, capture_output=True)
    mtools("mmd", "-i", vol, "::/many", "::/odd", "::/odd/nodots")
    for deep in (WIDE_PATH, DD_PATH):            # one level at a time
        parts = deep.split("/")[1:]
        mtools("mmd", "-i", vol, *["::/" + "/".join(parts[:k]) for k in range(1, len(parts) + 1)])
    for i, (path, data) in enumerate(files.items()):
        put(os.path.join(src, str(i)), data)
        mtools("mcopy", "-i", vol, os.path.join(src, str(i)), "::" + path)
        real = path.replace(PLACEHOLDER, CTL).replace("ESCBEL.TXT", "E\x1bS\x07BEL.TXT") \
            .replace(LONG_PLACEHOLDER, LONG)
        if CTL not in real:                      # left out: fsstress must name it
            sums.append(f"{hashlib.sha256(data).hexdigest()}  {real}\n")
    put(os.path.join(src, "sums"), "".join(sums).encode())
    mtools("mcopy", "-i", vol, os.path.join(src, "sums"), "::/SHA256SUMS")
    patch_volume(vol)
    size = os.path.getsize(vol)
    with open(IMG, "wb") as f:
        f.truncate(START * 512 + size)
        f.seek(446)
        f.write(bytes(16) + struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x0C, b"\0\0\0", START, size // 512)
                + bytes(32) + b"\x55\xaa")
        with open(vol, "rb") as v:
            f.seek(START * 512)
            while chunk := v.read(1 << 20):
                f.write(chunk)
    return len("".join(sums).encode())


def raw_controls(text):
    return re.search(r"[\x00-\x09\x0b-\x1f\x7f]", text)


def check(sums_bytes):
    with Tally(drive=IMG) as t:
        log = t.boot()
        ok('fat32: mounted "RT\\x1bLBL"' in log and not raw_controls(log.replace("\r", "")),
           "boot line: the root directory's label, filtered", log[-400:])
        ok(re.search(r"^fat32: mounted .* from virtio-mmio@\w+ MBR partition 2 \(sector %d\), "
                     r"\d+ clusters" % START, log, re.M),
           "boot line: the partition the volume was found in", log[-400:])
        out = t.cmd("ls /odd")
        ok(out.split("\n")[:-1] == ["nodots/", CTL_SHOWN, ESC83_SHOWN, LONG] and not raw_controls(out),
           "ls: every control character shown as \\xHH", repr(out))
        out = t.cmd("ls -l /odd")
        ok(out.split("\n")[2].endswith("  " + ESC83_SHOWN) and not raw_controls(out),
           "ls -l: filtered too", repr(out))
        out = t.cmd("stat /odd/ABBBBB~1")   # by its short name: the long one cannot be typed
        st = parse_kv(out)
        ok(st.get("name") == CTL_SHOWN and st.get("short_name") == "ABBBBB~1" and
           st.get("size") == "19" and not raw_controls(out), "stat: the name filtered", st)
        ok(t.cmd(f'cat "/odd/{LONG}"') == "255 units, 765 bytes\n", "cat /odd/<765-byte name>")
        t.cmd("cd /odd")
        ok(parse_kv(t.cmd(f'stat "{LONG}"')).get("name") == LONG and
           t.cmd(f"cat {LONG}") == "255 units, 765 bytes\n", "the name ls shows opens it")
        t.cmd("cd nodots")
        ok(t.cmd("ls") == "inner.txt\n" and parse_kv(t.cmd("stat .")).get("name") == "nodots",
           "no '.' or '..' on disk: ls and stat . work after cd")
        t.cmd("cd ..")
        ok(t.cmd("pwd") == "/odd\n" and t.cmd("cd /odd/nodots/..") == "" and t.cmd("pwd") == "/odd\n",
           "cd .. goes back up the path walked")
        t.send("ls /odd/\t\t")
        listed = t.expect("tally> ls /odd/", 10)
        t.send("\x15\n")
        t.wait_prompt(10)
        ok(CTL_SHOWN in listed and ESC83_SHOWN in listed and not raw_controls(listed.split("\n", 1)[-1]),
           "Tab's list of candidates filtered", repr(listed))
        out = t.cmd("fsstress 1 /many", timeout=120).strip()
        ok("files=300 " in out and out.endswith("result=PASS"),
           f"fsstress with a {sums_bytes}-byte /SHA256SUMS: 300 files found", out[-300:])
        out = t.cmd("fsstress 1 /odd", timeout=60).strip().split("\n")
        ok(out[0] == f"fsstress: /odd/{CTL_SHOWN}: not in /SHA256SUMS" and
           "files=3 " in out[-1] and out[-1].endswith("result=FAIL"),
           "fsstress names a file missing from the sums, filtered", out)
        t.cmd("setmode twotier")
        t.cmd("faultinj scope=page")
        out = t.cmd("fsstress 1 /many", timeout=60).strip()
        t.cmd("faultinj off")
        ok(out == f"fsstress: /SHA256SUMS: no memory for its {sums_bytes} bytes",
           "no memory for /SHA256SUMS: said, nothing cut", out)
        check_deep(t)
        ok(t.cmd("echo alive").strip() == "alive", "kernel still up")


def check_deep(t):
    """Paths past 1,024 bytes and 64 levels: cd a level at a time, pwd, ls,
    stat, cat by relative name, fsstress; cd without memory said."""
    t.cmd("cd /")
    t.cmd("faultinj scope=all")
    out = t.cmd(f"cd /wide/{WIDE[0]}/{WIDE[1]}")
    t.cmd("faultinj off")
    ok(out == f"cd: /wide/{WIDE[0]}/{WIDE[1]}: out of memory\n" and t.cmd("pwd") == "/\n",
       "cd without memory for the path: said, cwd unchanged", out)
    t.cmd("cd /wide")
    outs = [t.cmd(f"cd {name}") for name in WIDE]
    ok(outs == [""] * 6 and t.cmd("pwd") == WIDE_PATH + "\n",
       "cd six times into 202-character names: pwd shows all 1,223 bytes", outs)
    st = parse_kv(t.cmd("stat leaf.txt"))
    ok(t.cmd("ls") == "leaf.txt\n" and st.get("size") == "34" and
       t.cmd("cat leaf.txt") == "1,223 bytes of directory above me\n",
       "ls, stat and cat by relative name there", st)
    for where in (".", WIDE_PATH):
        out = t.cmd(f"fsstress 1 {where}", timeout=60).strip()
        ok(out.startswith("fsstress: files=1 ") and out.endswith("result=PASS"),
           f"fsstress 1 {where if where == '.' else '<1,223-byte path>'}", out[-300:])
    t.cmd("cd ..")
    ok(t.cmd("pwd") == "/wide/" + "/".join(WIDE[:5]) + "\n", "cd .. from there")
    t.cmd("cd /")
    out = t.cmd("fsstress 1 /dd", timeout=60).strip()
    ok(out.startswith("fsstress: files=1 ") and out.endswith("result=PASS"),
       "fsstress 70 levels deep (past the old 64)", out[-300:])
    t.cmd("hog leave 600K")      # above the watermarks: /SHA256SUMS fits, 128 levels (80 KiB) do not
    out = t.cmd("fsstress 1 /dd", timeout=60).strip().split("\n")
    t.cmd("hog release")
    ok(out[0].startswith("fsstress: /dd/d/") and out[0].endswith(": no memory to enter (out of memory)")
       and out[-1].endswith("result=FAIL") and "leaked_bytes=0 " in out[-1],
       "fsstress without memory for a deeper walk: said, nothing leaked", out)
    ok(t.cmd(f"cd {DD_PATH[1:]}") == "" and t.cmd("pwd") == DD_PATH + "\n" and
       t.cmd("cat leaf.txt") == "70 levels down\n", "cd 70 levels down, pwd, cat")


def main():
    sums_bytes = build()
    ok(sums_bytes > 16384, f"/SHA256SUMS is {sums_bytes} bytes (over the old 16 KiB buffer)")
    check(sums_bytes)


guarded(main, "crafted names disk")
sys.exit(finish())
