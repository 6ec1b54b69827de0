#!/usr/bin/env python3
"""Commands do what they say, or say why not; typing behaves as in a
POSIX shell. Expected values come from the spec or from what bash does:
input typed during boot is kept, `#` starts a comment, `history` numbers
lines from 1, an unknown command points at help, an open quote and too
many words are told apart, a refused number says why, bench says when it
raises a count, hog says what it took against what was asked, memmap and
memstat explain and fit 80 columns, fsstress fails one way for every bad
path, and uptime follows the wall clock (also at -smp 8)."""
import os
import re
import sys
import time

from tally import PROMPT, ROOT, Tally, finish, guarded, ok, parse_kv

IMG = os.path.join(ROOT, "build", "disk.img")


def typed_during_boot():
    with Tally(drive=IMG) as t:
        t.expect("Tally ", 60)          # the kernel runs: the firmware is done
        t.send("version\n")
        t.boot()
        out = t.expect("\n" + PROMPT, 10)
        ok(out.startswith("version\nTally "), "a line typed during boot is read whole", out)


def typing(t):
    ok(t.cmd("foo").strip() == "unknown command: foo (type help)", "unknown command: points at help")
    ok(t.cmd("echo a # b c").strip() == "a", "# starts a comment")
    ok(t.cmd("# nothing at all").strip() == "", "a comment line does nothing")
    ok(t.cmd("echo a#b").strip() == "a#b", "# inside a word is text")
    ok(t.cmd('echo "a # b"').strip() == "a # b", "# inside quotes is text")
    ok(t.cmd('echo "abc').strip() == 'error: unbalanced quote (")', "an open quote is named")
    ok(t.cmd("echo" + " x" * 16).strip() == "error: too many arguments (at most 15)",
       "too many arguments is named")
    t.cmd("echo one")
    t.cmd("echo two")
    h = t.cmd("history").rstrip().splitlines()
    ok(re.match(r"^ +\d+  echo one$", h[-3]) and re.match(r"^ +\d+  echo two$", h[-2]) and
       re.match(r"^ +\d+  history$", h[-1]), "history lists the lines, numbered", h[-3:])
    nums = [int(line.split()[0]) for line in h]
    ok(nums == list(range(nums[0], nums[0] + len(nums))) and nums[0] >= 1,
       "history numbers lines from 1, one apart", nums)


def refused_numbers(t):
    size = int(parse_kv(t.cmd("stat /README.txt"))["size"])
    out = t.cmd(f"hexdump /README.txt {size + 1}").strip()
    ok(out == f"hexdump: /README.txt: offset {size + 1} past end of file ({size} bytes)",
       "hexdump past the end says so", out)
    ok(t.cmd(f"hexdump /README.txt {size}").strip() == "", "hexdump at the end prints nothing")
    for cmd, why in (("bench small simple 1048577", "1048576"), ("fsstress 0", "at least 1 round"),
                     ("mmstress 0", "at least 1 op"), ("txn 5 9", "K is a step")):
        out = t.cmd(cmd)
        name = cmd.split()[0]
        ok(out.startswith(f"{name}: ") and why in out.splitlines()[0] and
           out.splitlines()[1].startswith(f"usage: {name}"), f"'{cmd}': says why, then the usage", out)


def bench_says(t):
    out = t.cmd("bench small simple 10", timeout=120)
    ok(re.search(r"^bench: small runs 20002 ops, not 10: .*10,001", out, re.M) is not None,
       "bench says it raised the count, and why", out)
    head = re.search(r"^work .*$", out, re.M)
    ok(head is not None and head.group(0).split()[-1] == "failures", "the table shows failures", out)
    row = out.rstrip().splitlines()[-1].split()
    ok(row[:2] == ["small", "simple"] and row[-1] == "0", "a row ends with its failures", row)


def hog_says(t):
    free = int(parse_kv(t.cmd("memstat"))["free"].split()[0])
    out = t.cmd("hog 1G")
    m = re.search(r"^hog: took (\d+) KiB of the 1048576 KiB asked: memory ran out "
                  r"\((\d+) KiB free, (\d+) KiB of it the zones' reserve\)$", out, re.M)
    ok(m is not None and 0 < int(m.group(1)) < 1048576, "hog 1G on 128 MiB: took less, says why", out)
    t.cmd("hog release")
    out = t.cmd("hog leave 0")
    m = re.search(r"^hog: left (\d+) KiB free, not 0 KiB: (\d+) KiB is the zones' reserve", out, re.M)
    ok(m is not None and m.group(1) == m.group(2), "hog leave 0: what is left is the reserve", out)
    t.cmd("hog release")
    out = t.cmd("hog leave 200M")
    ok(re.search(r"^hog: free \d+ KiB is not above the 204800 KiB asked: nothing taken$", out, re.M)
       and "holding 0 KiB" in out, "hog leave 200M on 128 MiB: nothing taken, said", out)
    ok(abs(int(parse_kv(t.cmd("memstat"))["free"].split()[0]) - free) < 1024, "hog released all")


def memory_views(t):
    out = t.cmd("memmap High").strip()
    ok(out.startswith("memmap: no High zone: High is the RAM from 4 GiB up"),
       "memmap High without one says why", out)
    ok(t.cmd("memmap Nowhere").startswith("usage: memmap"), "an unknown zone: usage")
    out = t.cmd("memstat all")
    wide = [line for line in out.splitlines() if len(line) > 80]
    ok(not wide, "memstat all fits 80 columns, summary and tables", wide)
    ok(re.findall(r"^\[(\w+)\]$", out, re.M) == ["zones", "buddy", "pcp", "slab", "heap",
                                                  "counters"],
       "memstat all: a header per section", out)
    head = re.search(r"^order +(.*)$", t.cmd("memstat buddy"), re.M)
    ok(head is not None and head.group(1).split() == [str(o) for o in range(11)],
       "the buddy rows have a header naming the orders", head and head.group(0))
    ok(max(len(line) for line in t.cmd("memmap").splitlines()) <= 80, "memmap fits 80 columns")
    ok("exact under -icount; host clock otherwise" in
       parse_kv(t.cmd("uptime"))["boot_instructions"], "boot_instructions labelled")


def fsstress_paths(t):
    for path, why in (("/README.txt", "not a directory"), ("/nonexist", "no such file or directory")):
        out = t.cmd(f"fsstress 1 {path}").strip()
        ok(out == f"fsstress: {path}: {why}", f"fsstress 1 {path}: one line, path and reason", out)


def uptime_s(t):
    return float(re.search(r"^uptime: ([\d.]+) s$", t.cmd("uptime"), re.M).group(1))


def big_machine():
    with Tally(mem="16G", smp=8) as t:
        t.boot()
        mm = t.cmd("memmap").splitlines()
        ok(mm[1].split()[1][0] == "K", "at 16 GiB the first memmap cell still shows the kernel", mm[1])
        rows = [line for line in t.cmd("memstat zones").splitlines()]
        ok(len({len(r) for r in rows}) == 1 and len(rows) == 4, "zone columns aligned at 16 GiB", rows)
        rows = t.cmd("memstat pcp").splitlines()
        ok(max(len(r) for r in rows) <= 80 and rows[1].split()[1:4] == ["DMA", "Normal", "High"] and
           [r.split()[0] for r in rows[2:10]] == [str(h) for h in range(8)],
           "memstat pcp at 16 GiB on 8 harts: three zones, a row per hart, 80 columns", rows)
        u0, w0 = uptime_s(t), time.monotonic()
        time.sleep(4)
        u1, w1 = uptime_s(t), time.monotonic()
        ok(abs((u1 - u0) - (w1 - w0)) < 0.04 * (w1 - w0),
           f"uptime follows the wall clock at -smp 8: {u1 - u0:.3f} s in {w1 - w0:.3f} s")


guarded(typed_during_boot, "typed_during_boot")
with Tally(drive=IMG) as shell:
    shell.boot()
    for fn in (typing, refused_numbers, bench_says, hog_says, memory_views, fsstress_paths):
        guarded(lambda: fn(shell), fn.__name__)
guarded(big_machine, "big_machine")
sys.exit(finish())
