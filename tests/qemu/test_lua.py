#!/usr/bin/env python3
"""A program nobody here wrote runs on Tally unchanged (issue 18): /bin/lua
is Lua 5.4.4 built with tally-cc from Debian's lua5.4 source (mk/user.mk).

Checked here, each expected value from Python, the Lua 5.4 reference
manual or Linux (not from what Tally printed):
- `lua -v` says the version the source's lua.h defines;
- /lua/check.lua (rootfs/lua): integer and float arithmetic, a coroutine,
  table.sort, string patterns/format/pack, utf8, pcall and error objects,
  load, 50,000 tables made and collected, a file read line by line, the
  read-only volume's refusals as Linux words them (os.remove -> EROFS),
  os.clock advancing (times), os.time;
- /lua/bench.lua (the allocation-heavy program make bench runs under each
  malloc): its checksums, and a bad scale refused;
- an uncaught error: the message and traceback on stderr, status 1;
- the interactive interpreter over the console: an expression typed,
  its value printed, os.exit(3) -> exit status 3;
- a table grown until memory runs out: with the default malloc (Tally's
  hybrid mode in its 64 MiB arena, user/include/tally/malloc.h) malloc
  returns NULL and Lua says "not enough memory", status 1; with
  TALLY_MODE=picolibc (malloc over brk, as far as the machine goes) brk's
  commit check refuses first (the same error, status 1) or, if the
  kernel took memory meanwhile, the OOM killer names lua (status 137);
  either way the kernel goes on, memory comes back and memcheck is clean.
"""
import math
import os
import re
import sys

from tally import ROOT, Tally, finish, guarded, ok, parse_kv

IMG = os.path.join(ROOT, "build", "disk.img")
LUA_H = os.path.join(ROOT, "build", "src", "lua-5.4.4", "src", "lua.h")
README = os.path.join(ROOT, "rootfs", "README.txt")
OOM_LINE = r"^Out of memory: Killed process \d+ \(lua\) total-vm:\d+kB, anon-rss:(\d+)kB, file-rss:0kB$"


def free_kib(t):
    return int(parse_kv(t.cmd("memstat"))["free"].split()[0])


def version_line():
    """LUA_COPYRIGHT as lua.h builds it: "Lua 5.4.4  Copyright (C) ..."."""
    with open(LUA_H) as f:
        h = f.read()
    d = dict(re.findall(r'#define LUA_VERSION_(MAJOR|MINOR|RELEASE)\s+"(\d+)"', h))
    notice = re.search(r'#define LUA_COPYRIGHT\s+LUA_RELEASE\s+"([^"]*)"', h).group(1)
    return f"Lua {d['MAJOR']}.{d['MINOR']}.{d['RELEASE']}{notice}"


def expected():
    fa, fb = 0, 1
    for _ in range(90):
        fa, fb = fb, fa + fb
    x, nums = 42, []
    for _ in range(1000):
        x = (x * 1103515245 + 12345) % 2147483648
        nums.append(x % 100000)
    nums.sort()
    words = "The quick brown fox jumps over the lazy dog".split()
    with open(README) as f:
        text = f.read()
    return {
        "int_ops": f"{7 // 2} {7 % -3} {-7 // 2} {3 | 5} {6 ^ 3} {1 << 62}",
        "maxinteger": str(2**63 - 1),
        "wrap": "true",
        "float_ops": f"{math.sqrt(2):.6f} {math.sin(1):.6f} {math.exp(1):.6f}",
        "inf": "inf -inf",
        "tointeger": f"{2**53} nil",
        "fib90": str(fa),
        "sorted": f"{nums[0]} {nums[499]} {nums[999]} {sum(nums)}",
        "gsub": " ".join(w.upper() if len(w) > 4 else w for w in words),
        "find": f"{'hello world'.find('o w') + 1} {'hello world'.find('o w') + 3}",
        "format": "[%5d|%-5s|%05.1f|%x|" % (42, "ab", 3.14159, 255) + '"tab\\9"]',
        "pack": "-2 16",
        "utf8": "7 H\u00e4\u20ac",
        "pcall_table": "false 7",
        "pcall_index": "false attempt to index a nil value (local 'n')",
        "load": "14",
        "built": "50000 50000",
        "collected": "true",
        "first_line": text.split("\n")[0],
        "lines": str(len(text.splitlines())),
        "remove": "nil | /README.txt: Read-only file system | 30",
        "open_w": "/new.txt: Read-only file system",
        "open_missing": "/no/such/file: No such file or directory",
        "clock": "advanced",
        "time": "integer",
        "getenv": "nil",
    }


def bench_expected(scale):
    """bench.lua's checksums, computed here the way its comments define them."""
    max_depth = scale + 6
    trees = sum((1 << (max_depth - d + 4)) * ((1 << (d + 1)) - 1) for d in range(4, max_depth + 1, 2))
    s = "".join("%d:%x;" % (i, i * 2654435761 % 4294967296) for i in range(1, 2000 * scale + 1))
    buf = sum(len(str(i)) for i in range(1, 200 * scale + 1))
    live, x = set(), 12345
    for _ in range(4000 * scale):
        x = (x * 1103515245 + 12345) % 2147483648
        live ^= {"k%d" % (x % (1000 * scale))}
    return {"trees": f"{trees} {(1 << (max_depth + 1)) - 1}",
            "strings": f"{len(s)} {2000 * scale} {len(s)} {buf}",
            "churn": f"{len(live)} {len(live)}"}


def lua():
    with Tally(drive=IMG) as t:
        t.boot()
        out = t.cmd("run /bin/lua -v")
        ok(out.strip() == version_line(), "lua -v: the source's version line", out)

        out = t.cmd("run /bin/lua /lua/check.lua", timeout=120)
        got = parse_kv(out)
        for key, want in expected().items():
            ok(got.get(key) == want, f"check.lua {key}: {want!r}", got.get(key))
        ok("run:" not in out, "check.lua exits 0", out[-300:])

        out = t.cmd("run /bin/lua /lua/bench.lua 2", timeout=120)
        ok(parse_kv(out) == bench_expected(2), "bench.lua 2: trees, strings and churn checksums", out)
        out = t.cmd("run /bin/lua /lua/bench.lua 13")
        ok(out.startswith("bench.lua: SCALE must be 1..12\n") and out.rstrip().endswith("exit status 2"),
           "bench.lua 13: refused, status 2", out)

        out = t.cmd("run /bin/lua -e \"error('boom')\"")
        ok(out.startswith("/bin/lua: (command line):1: boom\nstack traceback:\n"),
           "an uncaught error: message and traceback (lua.c's l_message)", out)
        ok(out.rstrip().endswith("run: /bin/lua: exit status 1"), "an uncaught error: status 1", out)

        t.send("run /bin/lua\n")
        t.expect("> ", timeout=30)
        t.send("print(6 * 7, ('x'):rep(3))\n")
        ok("42\txxx" in t.expect("> ", timeout=30), "the interpreter reads the console: 42\\txxx")
        out = t.cmd("os.exit(3)")
        ok(out.rstrip().endswith("run: /bin/lua: exit status 3"), "os.exit(3): exit status 3", out)

        grow = "/bin/lua -e \"local t = {} while true do t[#t + 1] = ('x'):rep(4000) .. #t end\""
        t.cmd("run /bin/hello")   # the caches as a run leaves them
        before = free_kib(t)
        out = t.cmd("run " + grow, timeout=240)
        ok(out == "/bin/lua: not enough memory\nrun: /bin/lua: exit status 1\n",
           "a table grown without end in the 64 MiB arena: malloc NULL, lua's error, status 1", out[-600:])
        t.cmd("run /bin/hello")
        ok(free_kib(t) >= before - 8, f"memory back ({before} KiB free before)", free_kib(t))
        out = t.cmd("run TALLY_MODE=picolibc " + grow, timeout=240)
        kills = re.findall(OOM_LINE, out, re.M)
        ok((len(kills) == 1 and int(kills[0]) > 64 * 1024 and
            out.rstrip().endswith("run: /bin/lua: exit status 137")) or
           (not kills and "not enough memory" in out and out.rstrip().endswith("run: /bin/lua: exit status 1")),
           f"the same over brk (TALLY_MODE=picolibc): brk refused (lua's error, 1) or the OOM killer (137) {kills}",
           out[-600:])
        ok("KERNEL FAULT" not in out and t.cmd("memcheck") == "memcheck: ok\n", "the kernel goes on, memcheck clean")
        t.cmd("run /bin/hello")
        # Reclaim before the kill emptied caches (the block cache's) that
        # were full before: more may be free now, never less.
        ok(free_kib(t) >= before - 8, f"memory back ({before} KiB free before)", free_kib(t))


guarded(lua, "lua")
sys.exit(finish())
