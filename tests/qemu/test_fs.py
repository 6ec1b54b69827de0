#!/usr/bin/env python3
"""The FAT32 volume through the shell: build/disk.img as a legacy and as a
modern virtio device; ls, cat, stat, hexdump, cd/pwd; sha256sum of every
file equals the host's SHA256SUMS; no disk and a non-FAT disk are named;
fsstress walks hostile trees and a path past its 4 KiB buffer, and says
when it has no memory for the path."""
import os
import random
import re
import sys

from tally import ROOT, Tally, finish, guarded, ok, parse_kv

IMG = os.path.join(ROOT, "build", "disk.img")
SUMS = IMG + ".sha256sums"
ROOTFS = os.path.join(ROOT, "rootfs")


def host_sums():
    sums = {}
    with open(SUMS) as f:
        for line in f:
            digest, path = line.rstrip("\n").split("  ", 1)
            sums[path] = digest
    return sums


def volume(transport):
    extra = ["-global", "virtio-mmio.force-legacy=false"] if transport == "modern" else []
    with Tally(drive=IMG, extra=extra) as t:
        log = t.boot()
        ok('fat32: mounted "TALLY"' in log, f"{transport}: volume mounted at boot", log)
        top = t.cmd("ls /").split()
        ok(all(n in top for n in ("README.txt", "docs/", "big/", "frag/", "SHA256SUMS", "empty.txt")),
           f"{transport}: ls / lists the root", top)
        with open(os.path.join(ROOTFS, "README.txt")) as f:
            ok(t.cmd("cat /README.txt") == f.read(), f"{transport}: cat equals the source file")
        for path, digest in host_sums().items():
            out = t.cmd(f'sha256sum "{path}"', timeout=60).strip()
            ok(out == f"{digest}  {path}", f"{transport}: sha256sum {path}", out)
        if transport == "modern":
            return
        docs = t.cmd("ls docs").split("\n")
        ok("Grüße.txt" in docs and "日本語のファイル.txt" in docs and
           "A file with a rather long name for FAT.txt" in docs, "long and non-ASCII names", docs)
        st = parse_kv(t.cmd("stat /docs/Grüße.txt"))
        ok(st.get("size") == str(len("Grüße aus dem Kernel.\n".encode())) and
           st.get("type") == "file" and "first_cluster" in st and "modified" in st,
           "stat prints size, type, cluster and times", st)
        hd = t.cmd("hexdump /README.txt 0 16").strip()
        ok(hd.startswith("00000000  54 61 6c 6c 79 27 73 20") and hd.endswith("|Tally's disk.===|"),
           "hexdump shows offset, bytes and text", hd)
        t.cmd('cd "/src/mm/deeper/still deeper"')
        ok(t.cmd("pwd").strip() == "/src/mm/deeper/still deeper", "cd into a nested path with spaces")
        ok(t.cmd("ls").strip() == "deep file.txt", "relative ls after cd")
        t.cmd("cd ../..")
        ok(t.cmd("pwd").strip() == "/src/mm", "cd .. twice")
        for arg, files in (("deeper", 1), ("../../docs", 4), ("/docs/", 4), ("/DOCS//guides", 1)):
            out = t.cmd(f"fsstress 1 {arg}", timeout=60).strip()
            ok(f"files={files} " in out and out.endswith("result=PASS"),
               f"fsstress 1 {arg} (cwd /src/mm): {files} files checked", out)
        ok(t.cmd("fsstress 1 nowhere").strip() == "fsstress: nowhere: no such file or directory",
           "fsstress of a missing path refused")
        long_l = t.cmd("ls -l /docs").split("\n")
        ok(any(re.fullmatch(r"-[r-][h-][s-][a-] +24  \d{4}-\d\d-\d\d \d\d:\d\d  Grüße\.txt", l)
               for l in long_l) and
           any(re.fullmatch(r"d[r-][h-][s-][a-] +0  \d{4}-\d\d-\d\d \d\d:\d\d  guides/", l)
               for l in long_l), "ls -l: attributes, size, time, name", long_l)
        ok(t.cmd("cat nope.txt").strip() == "cat: nope.txt: no such file or directory",
           "missing file named")
        ok(t.cmd("cat /docs").strip() == "cat: /docs: is a directory", "cat of a directory refused")
        ok(t.cmd("ls /README.txt/x").strip().endswith("not a directory"), "path through a file refused")
        for cmd in ("hexdump", "stat", "cd", "benchfile"):
            out = t.cmd(f"{cmd} /nope").strip()
            ok(out == f"{cmd}: /nope: no such file or directory", f"{cmd} of a missing path named", out)
        out = t.cmd("sha256sum /nope /README.txt").split("\n")
        ok(out[0] == "sha256sum: /nope: no such file or directory" and
           out[1] == f"{host_sums()['/README.txt']}  /README.txt",
           "sha256sum: a missing file named, the next one still hashed", out)
        out = t.cmd("fsstress 1 /README.txt").strip()
        ok(out == "fsstress: /README.txt: not a directory", "fsstress of a file: refused, as a missing path is", out)


def no_disk():
    with Tally() as t:
        t.boot()
        for cmd in ("ls", "benchfile /x", "fsstress"):
            out = t.cmd(cmd).strip()
            ok(out == "error: no filesystem: no disk", f"no disk: {cmd} says so", out)


def not_fat():
    junk = os.path.join(ROOT, "build", "test", "junk.img")
    os.makedirs(os.path.dirname(junk), exist_ok=True)
    with open(junk, "wb") as f:
        f.write(random.Random(7).randbytes(8 << 20))
    with Tally(drive=junk) as t:
        log = t.boot()
        m = re.search(r"^fat32: not mounted: (.+)$", log, re.M)
        ok(m is not None, "non-FAT disk: refused at boot with a reason", log)
        out = t.cmd("ls").strip()
        ok(m is not None and out == f"error: no filesystem: {m.group(1)}", "and ls repeats the reason", out)


def build_deep(path, levels, loop):
    """A FAT32 volume with /d/d/... `levels` deep, one file at /d/d/f.txt
    listed in /SHA256SUMS; with loop, /d/d's entry is patched to point back
    at /d's own cluster (a directory cycle)."""
    import hashlib
    import struct
    import subprocess
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    with open(path, "wb") as f:
        f.truncate(40 << 20)
    subprocess.run(["mkfs.fat", "-F", "32", path], check=True, capture_output=True)
    p = ""
    for _ in range(levels):
        p += "/d"
        subprocess.run(["mmd", "-i", path, "::" + p], check=True, env=env)
    src = path + ".f.txt"
    with open(src, "w") as f:
        f.write("x\n")
    subprocess.run(["mcopy", "-i", path, src, "::/d/d/f.txt"], check=True, env=env)
    sums = path + ".sums"
    with open(sums, "w") as f:
        f.write(hashlib.sha256(b"x\n").hexdigest() + "  /d/d/f.txt\n")
    subprocess.run(["mcopy", "-i", path, sums, "::/SHA256SUMS"], check=True, env=env)
    if loop:
        with open(path, "r+b") as f:
            boot = f.read(512)
            bps, spc, res, nfats = struct.unpack_from("<HBHB", boot, 11)
            fatsz, root = struct.unpack_from("<I", boot, 36)[0], struct.unpack_from("<I", boot, 44)[0]
            data = (res + nfats * fatsz) * bps
            def entry_of(cluster, name):
                f.seek(data + (cluster - 2) * spc * bps)
                blob = f.read(spc * bps)
                for off in range(0, len(blob), 32):
                    if blob[off:off + 11] == name:
                        hi, lo = struct.unpack_from("<H", blob, off + 20)[0], struct.unpack_from("<H", blob, off + 26)[0]
                        return data + (cluster - 2) * spc * bps + off, hi << 16 | lo
                raise KeyError(name)
            _, d1 = entry_of(root, b"D          ")
            off, _ = entry_of(d1, b"D          ")
            f.seek(off + 20)
            f.write(struct.pack("<H", d1 >> 16))
            f.seek(off + 26)
            f.write(struct.pack("<H", d1 & 0xFFFF))


LONG_NAMES = [f"L{i:02d}" + "l" * 198 for i in range(1, 22)]   # 21 x 201 characters
LONG_FILE = "/long/" + "/".join(LONG_NAMES) + "/f.txt"           # 4,238 bytes


def build_long(path):
    """A FAT32 volume with one file whose path is longer than fsstress's
    4 KiB path buffer, listed in /SHA256SUMS."""
    import hashlib
    import subprocess
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    with open(path, "wb") as f:
        f.truncate(40 << 20)
    subprocess.run(["mkfs.fat", "-F", "32", path], check=True, capture_output=True)
    p = "/long"
    subprocess.run(["mmd", "-i", path, "::" + p], check=True, env=env)
    for name in LONG_NAMES:
        p += "/" + name
        subprocess.run(["mmd", "-i", path, "::" + p], check=True, env=env)
    src = path + ".txt"
    with open(src, "w") as f:
        f.write("far down\n")
    subprocess.run(["mcopy", "-i", path, src, "::" + LONG_FILE], check=True, env=env)
    sums = path + ".sums"
    with open(sums, "w") as f:
        f.write(hashlib.sha256(b"far down\n").hexdigest() + "  " + LONG_FILE + "\n")
    subprocess.run(["mcopy", "-i", path, sums, "::/SHA256SUMS"], check=True, env=env)


def long_path():
    """A path past fsstress's 4 KiB buffer: walked; and when the buffer
    cannot grow (fault injection fails that one request, found counting
    back from the run's last eligible request; each run tried on the way
    fails another, which must leave nothing behind): said, nothing
    leaked."""
    img = os.path.join(ROOT, "build", "test", "long.img")
    os.makedirs(os.path.dirname(img), exist_ok=True)
    build_long(img)
    with Tally(drive=img) as t:
        t.boot()
        t.cmd("setmode twotier")      # no SimpleHeap fallback to absorb the failure
        out = t.cmd("fsstress 1", timeout=60).strip()
        ok(out.startswith("fsstress: files=1 ") and out.endswith("result=PASS"),
           f"fsstress through a {len(LONG_FILE)}-byte path", out[-300:])
        t.cmd("faultinj probability=0")
        t.cmd("fsstress 1", timeout=60)
        calls = int(re.search(r"^calls: (\d+)$", t.cmd("faultinj"), re.M).group(1))
        t.cmd("faultinj off")
        found, leaks = None, []
        for k in range(calls, 0, -1):
            t.cmd(f"faultinj interval={k} times=1")
            out = t.cmd("fsstress 1", timeout=60).strip()
            t.cmd("faultinj off")
            if "leaked_bytes=" in out and "leaked_bytes=0 " not in out:
                leaks.append((k, out[-200:]))
            if "no memory for its path (out of memory)" in out:
                found = out
                break
        lines = (found or "").split("\n")
        ok(found is not None and lines[0].startswith("fsstress: /long/L01") and
           lines[0].endswith(f"/{LONG_NAMES[-1]}: no memory for its path (out of memory)") and
           re.search(r"files=0 .*leaked_bytes=0 result=FAIL$", lines[-1]) is not None,
           f"no memory for the path (request {k} of {calls} failed): said, nothing leaked",
           (found or "not found")[-300:])
        ok(not leaks, "every failure tried on the way left nothing behind", leaks)
        out = t.cmd("fsstress 1", timeout=60).strip()
        ok(out.endswith("result=PASS"), "and with memory again it passes", out[-200:])


def hostile_trees():
    # 70 levels: walked (no depth limit but memory); a loop: refused
    for name, levels, loop, want, result in (("deep", 70, False, "files=1 ", "PASS"),
                                             ("loop", 3, True, "directory loop", "FAIL")):
        img = os.path.join(ROOT, "build", "test", f"{name}.img")
        os.makedirs(os.path.dirname(img), exist_ok=True)
        build_deep(img, levels, loop)
        with Tally(drive=img) as t:
            t.boot()
            out = t.cmd("fsstress 1", timeout=120)
            ok(want in out and f"result={result}" in out,
               f"fsstress on a {name} tree: {'refused, reported' if loop else 'walked to the bottom'}", out)
            ok(t.cmd("echo alive").strip() == "alive", f"fsstress on a {name} tree: kernel still up")


def many_entries():
    """Tab completion in a directory of 40 entries finds one listed last."""
    import subprocess
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    img = os.path.join(ROOT, "build", "test", "many.img")
    os.makedirs(os.path.dirname(img), exist_ok=True)
    with open(img, "wb") as f:
        f.truncate(40 << 20)
    subprocess.run(["mkfs.fat", "-F", "32", img], check=True, capture_output=True)
    subprocess.run(["mmd", "-i", img, "::/many"], check=True, env=env)
    src = img + ".txt"
    with open(src, "w") as f:
        f.write("found me\n")
    for i in range(39):
        subprocess.run(["mcopy", "-i", img, src, f"::/many/f{i:02}.txt"], check=True, env=env)
    subprocess.run(["mcopy", "-i", img, src, "::/many/zebra.txt"], check=True, env=env)
    with Tally(drive=img) as t:
        t.boot()
        ok(len(t.cmd("ls /many").split()) == 40, "40 entries listed")
        out = t.cmd("cat /many/zeb\t", timeout=30)
        ok(out == "found me\n", "Tab completes the 40th entry of a directory", out)


guarded(lambda: volume("legacy"), "legacy volume")
guarded(lambda: volume("modern"), "modern volume")
guarded(no_disk, "no disk")
guarded(not_fat, "not FAT")
guarded(hostile_trees, "hostile trees")
guarded(long_path, "a path past 4 KiB")
guarded(many_entries, "many entries")
sys.exit(finish())
