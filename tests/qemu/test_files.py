#!/usr/bin/env python3
"""The file system calls (src/kernel/sys_file.c, fdtable.c, ttyline.c)
through programs run with `run`, against what is on the disk image:

- /bin/filetest: every call and its errors as Linux returns them on a
  read-only mount (its own checks, "result: PASS"), and what it read
  compared here with the volume: README.txt's size, bytes (CRC-32),
  modification and access times (decoded from its directory entry in
  build/disk.img, FAT spec DIR_WrtDate/DIR_WrtTime and DIR_LstAccDate,
  taken as UTC), the 4 MiB file's bytes
  read in odd-sized pieces, the root's names in getdents64;
- relative paths start at the shell's cwd (`cd /docs` first);
- a process killed with files open, and every other run, leaves free
  memory where it was and no kmalloc block behind (memleak): all fds
  closed however it ended;
- /bin/cat and /bin/ls: a file's bytes, a directory's names, a missing
  path named with exit status 1;
- standard input is the console a line at a time: echo, Backspace,
  Ctrl-U, Ctrl-D (mid-line: the line without a newline; on an empty
  line: end of file), and Ctrl-C kills the reading process (130);
- the `files` KTAP suite (src/kernel/selftest_files.c): the fd table's
  slots, and a program that opens, reads and fstats a file with every
  allocation failing in turn (SimpleHeap mode, so fault injection sees
  each kmalloc): 0, -ENOMEM from openat, -EFAULT where a user page could
  not be faulted in (as Linux's fixup gives), or not started; every page
  and kmalloc byte back after each."""
import calendar
import os
import re
import struct
import subprocess
import sys
import zlib

from tally import ROOT, Tally, finish, guarded, ok, parse_kv
from fatcraft import ENV, find, geometry

IMG = os.path.join(ROOT, "build", "disk.img")
ROOTFS = os.path.join(ROOT, "rootfs")


def free_kib(t):
    return int(parse_kv(t.cmd("memstat"))["free"].split()[0])


def image_file(path):
    return subprocess.run(["mcopy", "-n", "-i", IMG, "::" + path, "-"], env=ENV,
                          check=True, capture_output=True).stdout


def readme_times():
    """README.TXT's DIR_WrtDate/DIR_WrtTime (offsets 22, 24) and
    DIR_LstAccDate (18) as seconds since the epoch."""
    with open(IMG, "rb") as f:
        clus, root, size = geometry(f)
        f.seek(clus(root))
        blob = f.read(size)
    e = find(blob, b"README  TXT")
    wtime, wdate = struct.unpack_from("<HH", blob, e + 22)
    adate = struct.unpack_from("<H", blob, e + 18)[0]
    day = lambda d: (1980 + (d >> 9), (d >> 5) & 15, d & 31)
    return (calendar.timegm(day(wdate) + (wtime >> 11, (wtime >> 5) & 63, (wtime & 31) * 2)),
            calendar.timegm(day(adate) + (0, 0, 0)))


def filetest():
    with open(os.path.join(ROOTFS, "README.txt"), "rb") as f:
        readme = f.read()
    want_root = {"./", "../", "bin/", "big/", "frag/", "SHA256SUMS"} | {
        n + ("/" if os.path.isdir(os.path.join(ROOTFS, n)) else "") for n in os.listdir(ROOTFS)}
    with Tally(drive=IMG) as t:
        t.boot()
        out = t.cmd("run /bin/filetest", timeout=180)
        kv = parse_kv(out)
        ok(kv.get("result") == "PASS" and "FAIL" not in out,
           "filetest: every call and error as Linux's", out)
        ok(kv.get("readme_size") == str(len(readme)) and
           kv.get("readme_crc32") == f"{zlib.crc32(readme):08x}",
           "README.txt read whole: its size and bytes", out)
        mtime, atime = readme_times()
        ok(kv.get("readme_mtime") == str(mtime) and kv.get("readme_atime") == str(atime),
           f"fstat's st_mtime, st_atime: the entry's DIR_WrtDate/Time ({mtime}), "
           f"DIR_LstAccDate ({atime})", out)
        big = image_file("/big/random-4M.bin")
        ok(kv.get("big_crc32") == f"{zlib.crc32(big):08x}",
           "4 MiB read in pieces of 1, 4095, 4097, 65536, 513, 200000 bytes: its bytes", out)
        names = kv.get("root_names", "").split()
        ok(names[:2] == ["./", "../"] and sorted(names) == sorted(want_root),
           "getdents64 of /: . and .., then every name with its type", names)

        t.cmd("cd /docs")
        out = t.cmd("run /bin/filetest cwd")
        ok(out.strip() == "result: PASS", "relative paths start at the shell's cwd", out)
        t.cmd("cd /")

        out = t.cmd("run /bin/filetest crash")
        ok("crash: files open" in out and out.rstrip().endswith("exit status 139"),
           "a process killed with 11 files open", out)
        # the block cache, the path walk's buffers and the slab caches grow
        # to what these runs use: from then on every run gives back all
        # it took
        for _ in range(2):
            t.cmd("run /bin/filetest crash")
            t.cmd("run /bin/filetest", timeout=180)
        base = free_kib(t)
        frees = []
        for _ in range(4):
            t.cmd("run /bin/filetest crash")
            t.cmd("run /bin/filetest", timeout=180)
            frees.append(free_kib(t))
        # the slab and page caches keep a page or two more or less from one
        # run to the next; a leak would go down run after run
        ok(all(abs(f - base) <= 8 for f in frees),
           f"free memory as before the runs: {base} KiB, then {frees}", frees)
        t.cmd("memdebug track on")
        t.cmd("memleak mark")
        t.cmd("run /bin/filetest crash")
        t.cmd("run /bin/filetest", timeout=180)
        out = t.cmd("memleak new")
        ok("memleak: sites=0 live=0" in out, "no kmalloc block left by the runs (memleak)", out)
        t.cmd("memdebug track off")


def cat_ls():
    with open(os.path.join(ROOTFS, "README.txt"), "rb") as f:
        readme = f.read().decode()
    docs = sorted(n + ("/" if os.path.isdir(os.path.join(ROOTFS, "docs", n)) else "")
                  for n in os.listdir(os.path.join(ROOTFS, "docs")))
    with Tally(drive=IMG) as t:
        t.boot()
        out = t.cmd("run /bin/cat /README.txt")
        ok(out == readme, "cat /README.txt: its bytes", out)
        out = t.cmd("run /bin/cat /empty.txt /nothere /README.txt")
        ok(out == "cat: /nothere: No such file or directory\n" + readme +
           "run: /bin/cat: exit status 1\n", "cat: a missing file named, the rest copied, status 1", out)
        out = t.cmd("run /bin/cat /docs")
        ok(out == "cat: /docs: Is a directory\nrun: /bin/cat: exit status 1\n",
           "cat of a directory: EISDIR", out)
        out = t.cmd("run /bin/ls /docs")
        ok(sorted(out.splitlines()) == docs, "ls /docs: the names, directories with '/'", out)
        t.cmd("cd /src/mm")
        out = t.cmd("run /bin/ls -a")
        ok(out == "./\n../\ndeeper/\n", "ls in the cwd (/src/mm)", out)


def stdin():
    with Tally(drive=IMG) as t:
        t.boot()
        t.send("run /bin/cat\n")
        t.expect("run /bin/cat\r\n", 10)
        # typed ahead: each line is echoed when cat reads it, after its
        # output of the line before
        t.send("hello\rabx\x7fc\njunk\x15ok\npart\x04\n\x04")
        out = t.wait_prompt(30)
        want = ("hello\nhello\n" "abx\b \bc\nabc\n" "junk" + "\b \b" * 4 + "ok\nok\n" "partpart\n")   # + "\n" before the prompt
        ok(out == want, "cat from the console: echo, CR as newline, Backspace, Ctrl-U, "
           "Ctrl-D mid-line and at the start (end of file, status 0)", repr(out))
        t.send("run /bin/cat\n")
        t.expect("run /bin/cat\r\n", 10)
        t.send("x\n")   # cat is reading once it has copied a line (the shell
        t.expect("x\r\nx\r\n", 10)   # clears Ctrl-C before a command starts)
        t.send("\x03")
        out = t.wait_prompt(30)
        ok(re.search(r"^pid \d+ \(cat\): interrupted$", out, re.M) is not None and
           out.rstrip().endswith("run: /bin/cat: exit status 130"),
           "Ctrl-C kills the process reading the console: 130", out)
        out = t.cmd("run /bin/hello")
        ok(out.startswith("hello: world\n"), "the shell and the next program run on", out)


def ktap():
    with Tally(drive=IMG, append="selftest=files") as t:
        code, out = t.wait_exit(timeout=180)
    cases = re.findall(r"^    (not )?ok \d+ (\S+)", out, re.M)
    ok(len(cases) == 3 and not any(bad for bad, _ in cases) and code == 0,
       f"files KTAP suite: the fd table; open, read, fstat giving everything back, with each "
       f"allocation failing in turn ({len(cases)} cases, exit {code})", out[-1500:])
    m = re.search(r"open_read_oom: \d+ runs: \d+ whole, (\d+) -ENOMEM", out)
    ok(m and int(m.group(1)) > 0, "openat's own allocations failing: -ENOMEM reaches the program",
       out[-1500:])


guarded(ktap, "ktap")
guarded(filetest, "filetest")
guarded(cat_ls, "cat and ls")
guarded(stdin, "stdin")
sys.exit(finish())
