#!/usr/bin/env python3
"""The shell as a user meets it: every command's output keys and usage
errors, line editing and history by escape sequences, overlong lines, a
fast paste, and the memory scenarios of the shell issue: squeezing memory
with hog or fault injection while fsstress verifies the disk, switching
modes with allocations live, and bench in every mode."""
import re
import sys

from tally import ROOT, Tally, finish, guarded, ok, parse_kv
import os

IMG = os.path.join(ROOT, "build", "disk.img")
SUMMARY_KEYS = ["mode", "total", "free", "used", "user", "allocs", "frees", "failures",
                "failure_rate", "fragmentation", "health"]
FREE_SLACK_KIB = 512   # cached slabs and heap runs kept for reuse (README)


def kib(value):
    return int(value.split()[0])


def usage_errors(t):
    for cmd in ("memstat bogus", "setmode fast", "memmap Nowhere", "memleak now please",
                "memdebug bogus on", "faultinj probability=200", "faultinj times=x", "hog", "hog leave",
                "hog 99999999999999999999", "mmstress x", "bench nope", "selftest a b",
                "crash", "ls a b c", "hexdump", "sha256sum", "cat", "stat", "cd a b"):
        name = cmd.split()[0]
        out = t.cmd(cmd).strip()
        ok(out.startswith(f"usage: {name}"), f"'{cmd}' prints the usage", out)
    for cmd in ("fsstress 0", "txn 5 9", "memdebug poison maybe", "bench small simple 1048577",
                "bench small simple 2305843009213693953"):   # why, then usage
        name = cmd.split()[0]
        out = t.cmd(cmd).strip().splitlines()
        ok(out[0].startswith(f"{name}: ") and out[1].startswith(f"usage: {name}"),
           f"'{cmd}' says why and prints the usage", out)
    ok(t.cmd("setmode").strip() == "mode: hybrid", "bad arguments changed nothing")
    ok(t.cmd("nosuch").strip() == "unknown command: nosuch (type help)", "'nosuch': unknown command named")
    ok(t.cmd("help nosuch").strip() == "unknown command: nosuch", "'help nosuch': unknown command named")
    ok(t.cmd('echo "abc').strip() == 'error: unbalanced quote (")', "an open quote refused")
    ok(t.cmd("echo" + " x" * 16).strip() == "error: too many arguments (at most 15)",
       "16 arguments refused")
    ok(t.cmd("echo" + " x" * 15).strip() == " ".join("x" * 15), "15 arguments accepted")


def selftest_shell(t):
    suites = t.cmd("selftest list").split()
    ok(len(suites) >= 5 and "kmalloc" in suites, "selftest list names the suites", suites)
    out = t.cmd("selftest kmalloc", timeout=120)
    ok("KTAP version 1" in out and "not ok" not in out and out.rstrip().endswith("selftest: PASS"),
       "selftest kmalloc from the shell: KTAP, PASS", out[-300:])
    ok(t.cmd("selftest nosuch").startswith("selftest: no suite named nosuch\nusage: selftest"),
       "selftest of an unknown suite: named, usage")


def help_lines(t):
    out = t.cmd("help")
    names = re.findall(r"^  (\S+) +\S", out, re.M)
    ok(len(names) >= 25, f"help lists {len(names)} commands", out)
    for n in names:
        h = t.cmd(f"help {n}")
        ok(h.startswith(f"{n} - ") and f"\nusage: {n}" in h, f"help {n}: one line and usage", h)


def memstat_views(t):
    s = parse_kv(t.cmd("memstat"))
    ok(list(s)[:len(SUMMARY_KEYS)] == SUMMARY_KEYS, "memstat summary has exactly the keys", s)
    zones = [l.split() for l in t.cmd("memstat zones").splitlines()[1:]]
    pages = sum(int(z[3]) for z in zones)
    free = sum(int(z[4]) + int(z[5]) for z in zones)   # free lists + page lists
    ok(kib(s["total"]) == pages * 4 and kib(s["free"]) == free * 4 and
       kib(s["used"]) == (pages - free) * 4, "total, free and used agree with the zones' pages", zones)
    ok(re.fullmatch(r"\d+\.\d% of (slab objects are free in partial slabs \(\d+ [KM]iB held\)"
                    r"|free heap bytes are outside its largest block)", s["fragmentation"])
       is not None,
       "fragmentation says which measure and what of", s["fragmentation"])
    ok(t.cmd("memstat zones").startswith("zone    start"), "memstat zones table")
    ok(re.search(r"^DMA( +\d+){11}\n", t.cmd("memstat buddy"), re.M) is not None,
       "memstat buddy: free blocks per order, /proc/buddyinfo's numbers")
    slab = t.cmd("memstat slab")
    ok(slab.startswith("# name") and "kmalloc-64" in slab and ": slabdata" in slab,
       "memstat slab in /proc/slabinfo columns", slab)
    ok("heap_arena:" in t.cmd("memstat heap"), "memstat heap")
    c = t.cmd("memstat counters")
    ok(all(w in c for w in ("simple", "twotier", "hybrid", "slab", "large", "heap", "buddy",
                            "hybrid_fallbacks:")),
       "memstat counters per mode and allocator", c)
    ok(len(t.cmd("memstat all").splitlines()) > 40, "memstat all shows everything")


def debug_tools(t):
    ok(parse_kv(t.cmd("memdebug poison on")).get("poison") == "on", "memdebug poison on")
    ok(parse_kv(t.cmd("memdebug redzone on")).get("redzone") == "on", "memdebug redzone on")
    t.cmd("memdebug poison off")
    t.cmd("memdebug redzone off")
    ok("tracking is off" in t.cmd("memleak"), "memleak says when tracking is off")
    t.cmd("memdebug track on")
    ok(t.cmd("memleak mark").startswith("memleak: mark at"), "memleak mark")
    t.cmd("mmstress 500 3")
    out = t.cmd("memleak new")
    ok("memleak: sites=0 live=0" in out, "no leaks after mmstress", out)
    t.cmd("memdebug track off")
    t.cmd("faultinj probability=50")
    ok(t.cmd("txn 4 2").strip() == "txn: fault injection is on; `faultinj off` first",
       "txn refuses to run over the user's fault injection")
    fi = parse_kv(t.cmd("faultinj probability=50 interval=2 times=7 space=1K scope=slab seed=9"))
    ok(fi.get("faultinj") == "on" and fi.get("times") == "7" and fi.get("scope") == "slab" and
       fi.get("space") == "1024" and fi.get("reserve") == "off", "faultinj shows its knobs", fi)
    fi = parse_kv(t.cmd("faultinj probability=1 reserve=on"))
    ok(fi.get("reserve") == "on" and fi.get("probability") == "1", "faultinj reserve=on", fi)
    ok(parse_kv(t.cmd("faultinj off")).get("faultinj") == "off", "faultinj off")
    txn = t.cmd("txn 10 4")
    before = re.search(r"before: free=(\d+) KiB in_use=(\d+)", txn)
    after = re.search(r"after: free=(\d+) KiB in_use=(\d+)", txn)
    ok("allocation 4 of 10 failed" in txn and before and after and
       before.groups() == after.groups(), "txn: rolled back, free and in-use unchanged", txn)
    ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck: ok")
    mm = t.cmd("memmap")
    ok(mm.startswith("memmap: 080000000-") and "legend:" in mm and
       all(len(l) == 10 + 64 for l in mm.splitlines()[1:] if l[:1] not in ("l", " ")),
       "memmap: 64 columns and a legend", mm)


def editing(t):
    ok(t.cmd("echo abc\x1b[D\x1b[DX").strip() == "aXbc", "left arrow then insert")
    ok(t.cmd("echo abc\x1b[D\x1b[D\x1b[CY").strip() == "abYc", "right arrow")
    ok(t.cmd("echo 1234\x7f\x7f9").strip() == "129", "backspace (DEL)")
    ok(t.cmd("echo 1234\x08\x089").strip() == "129", "backspace (^H)")
    ok(t.cmd("echo zz\x15echo yy").strip() == "yy", "Ctrl-U erases the line")
    t.send("echo dropped\x03")
    t.wait_prompt(10)
    ok(t.cmd("echo after").strip() == "after", "Ctrl-C drops the line")
    t.cmd("echo first")
    t.cmd("echo second")
    ok(t.cmd("\x1b[A\x1b[A").strip() == "first", "up twice recalls the older command")
    for h in ("h1", "h2", "h3"):
        t.cmd(f"echo {h}")
    ok(t.cmd("\x1b[A\x1b[A\x1b[A\x1b[B").strip() == "h2", "down walks forward")
    ok(t.cmd("ech\t hi").strip() == "hi", "Tab completes a command name")
    out = t.cmd("cat /REA\t")
    ok(out.startswith("Tally's disk"), "Tab completes a path on the volume", out[:200])
    out = t.cmd("ls /docs/gu\t")
    ok(out.strip() == "memory.txt", "Tab completes a directory with its slash", out)
    # Home/End keys (Ctrl-A is QEMU's own escape key on -nographic stdio)
    ok(t.cmd("cho x\x1b[He\x1b[Fy").strip() == "xy", "Home and End keys")
    ok(t.cmd("cho x\x1b[1~e\x1b[4~y").strip() == "xy", "Home and End keys, VT220 codes")
    ok(t.cmd("cho x\x1bOHe\x1bOFy").strip() == "xy", "Home and End keys, ESC O codes")
    ok(t.cmd("echo abc\x1b[D\x1b[D\x1b[3~").strip() == "ac", "Delete removes the character under the cursor")
    ok(t.cmd("echo üa\x1b[D\x1b[DX").strip() == "Xüa", "left steps over a whole UTF-8 character")
    ok(t.cmd("echo ü\x1b[D\x1b[CY").strip() == "üY", "right steps over a whole UTF-8 character")
    ok(t.cmd("echo aüb\x1b[D\x1b[D\x1b[3~").strip() == "ab", "Delete removes a whole UTF-8 character")
    ok(t.cmd("echo aü\x7f").strip() == "a", "backspace removes a whole UTF-8 character")
    t.send("cho üü\x1b[He\n")
    raw = t.wait_prompt(10)
    back = re.match(r"\x08*", raw[raw.index("cho üü") + len("cho üü"):]).group(0)
    ok(len(back) == 6 and raw.endswith("\nüü"), "Home moves back one column per character", repr(raw))
    full = "echo " + "x" * (2047 - 5)
    out = t.cmd(full, timeout=60)
    ok(out.strip() == "x" * 2042, "a line of 2,047 bytes (a command and any path ls lists) runs",
       out[-200:])
    long = "echo " + "x" * 4096
    out = t.cmd(long, timeout=60)
    ok("error: line longer than 2047 bytes refused" in out, "a 4 KiB line is refused", out[-200:])
    ok(t.cmd("echo still fine").strip() == "still fine", "and the shell goes on")
    t.send("".join(f"echo paste{i}\n" for i in range(200)))
    got = []
    for i in range(200):
        t.expect(f"echo paste{i}", 30)
        got.append(t.wait_prompt(30).strip().splitlines()[-1])
    ok(got == [f"paste{i}" for i in range(200)], "200 pasted commands all run, in order")


def pressure(t):
    boot_free = kib(parse_kv(t.cmd("memstat"))["free"])
    h = t.cmd("hog leave 1M")
    ok(re.search(r"hog: holding \d+ KiB, free 1024 KiB", h) is not None, "hog leave 1M", h)
    health = parse_kv(t.cmd("memstat"))["health"]
    ok(re.match(r"(degraded|critical) \((zone \w+ below its (low|min) watermark|only \d+ KiB of \d+ KiB free)\)", health),
       "squeezed memory shows in health, with the reason", health)
    t.cmd("cat /frag/fragmented.bin")            # fill the block cache first
    out = t.cmd("mmstress 3000 7", timeout=120)
    ok("leaked_bytes=0 result=PASS" in out, "mmstress under pressure: the shrinker is no leak", out)
    out = t.cmd("fsstress 3", timeout=300)
    m = re.search(r"fsstress: files=(\d+) bytes=(\d+) enomem=(\d+) fallbacks=(\d+) "
                  r"mismatches=0 leaked_bytes=0 result=PASS", out)
    ok(m and int(m.group(4)) > 0, "fsstress under hog: PASS with fallbacks", out)
    t.cmd("hog release")
    free = kib(parse_kv(t.cmd("memstat"))["free"])
    ok(boot_free - free <= FREE_SLACK_KIB, f"free back to boot value ({boot_free} -> {free} KiB)")
    t.cmd("setmode twotier")
    t.cmd("faultinj probability=30")
    out = t.cmd("fsstress 3", timeout=300)
    t.cmd("faultinj off")
    m = re.search(r"fallbacks=(\d+) mismatches=0 leaked_bytes=0 result=PASS", out)
    ok(m and int(m.group(1)) > 0, "fsstress under faultinj probability=30: PASS with fallbacks", out)
    t.cmd("setmode hybrid")
    ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck after the squeeze")


def modes_live(t):
    t.cmd("hog 8M")
    t.cmd("setmode simple")
    t.cmd("memdebug track on")
    for mode in ("simple", "twotier", "hybrid", "simple", "hybrid"):
        ok(t.cmd(f"setmode {mode}").strip() == f"mode: {mode}", f"setmode {mode} with a hog held")
        out = t.cmd("mmstress 3000 5", timeout=120)
        ok(re.search(r"mmstress: ops=3000 failures=\d+ corrupt=0 leaked_bytes=0 result=PASS", out)
           is not None, f"mmstress passes in {mode}", out)
    t.cmd("memdebug track off")
    t.cmd("hog release")
    ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck: ok after the mode changes")


def bench(t):
    out = t.cmd("bench all all 3000", timeout=300)
    lines = re.findall(r"^bench (\w+) (\w+) ops=\d+ instr_per_op=[\d.]+ ticks_per_op=[\d.]+ "
                       r"peak_kib=\d+ frag_pct=[\d.]+ failures=0 overhead_per_obj=[\d.]+$", out, re.M)
    ok(len(lines) == 12 and {m for _, m in lines} == {"simple", "twotier", "hybrid"},
       "bench prints a line per workload and mode", out)
    ok("work   mode" in out, "and a table", out)
    ok(t.cmd("setmode").strip() == "mode: hybrid", "bench restores the mode")
    free0 = kib(parse_kv(t.cmd("memstat"))["free"])
    t.cmd("bench small twotier 262144", timeout=300)   # a 1 MiB trace
    free1 = kib(parse_kv(t.cmd("memstat"))["free"])
    ok(free1 >= free0 - FREE_SLACK_KIB, f"bench gives its trace back: free {free0} -> {free1} KiB")
    t.cmd("hog leave 1M")
    out = t.cmd("bench small twotier 1048576", timeout=60).strip()
    ok(out == "bench: no memory for the small trace", "bench without memory for its trace: said, no table", out)
    t.cmd("hog release")
    t.cmd("mmstress 3000 5")
    c = t.cmd("memstat counters")
    kept = re.search(r"^kept_blocks: (\d+) \((\d+) KiB\)$", c, re.M)
    ok(kept and int(kept.group(1)) > 0 and int(kept.group(2)) >= 8 * int(kept.group(1)),
       "memstat counters: large blocks freed by mmstress kept for reuse", kept and kept.group(0))
    cached = re.search(r"^slab_cached: (\d+) objects$", c, re.M)
    ok(cached and int(cached.group(1)) > 0, "memstat counters: freed objects in magazines", c)
    ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck: ok with blocks kept")


with Tally(drive=IMG) as shell:
    shell.boot()
    for fn in (usage_errors, help_lines, selftest_shell, memstat_views, debug_tools, editing, pressure,
               modes_live, bench):
        guarded(lambda: fn(shell), fn.__name__)
sys.exit(finish())
