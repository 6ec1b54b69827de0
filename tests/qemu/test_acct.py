#!/usr/bin/env python3
"""Per-process accounting (issue 18): `ps`, `memstat PID`, memstat's user
line and memmap's user letters, with /bin/memhold holding a known amount
of memory in the background on -smp 2 (it runs on either hart while the
shell reads it). Checked:

- `memstat PID` prints the areas in the layout of Linux's /proc/PID/maps
  (fs/proc/task_mmu.c: start-end perms offset 00:00 inode, the name
  padded to column 73, unnamed lines ending in the prefix's space); the
  executable's lines are exactly its PT_LOAD segments, parsed here from
  the ELF file with struct (page-rounded file part with the path, its
  file offset and the file's first cluster as inode -- `stat`'s; bss past
  the file as an unnamed line); [heap] from the segments' end for
  heap_kib; one unnamed rw-p area of mmap_kib and one ---p page; [stack]
  ending at USER_STACK_TOP (include/proc/uspace.h) within USER_STACK_MAX;
- its counters: vsz is the areas' sum, equal to ps's VSZ; rss equals
  ps's RSS and lies between what must be resident (file pages, heap,
  mmap) and that plus bss and stack; rss_peak is rss + peak_kib (the
  area memhold touched and unmapped); rss_heap is heap_kib; minor_faults
  equals ps's FAULTS; page_tables is what Sv39 needs for the resident
  pages (a root, a level-1 table per GiB and a level-0 table per 2 MiB
  touched);
- memstat's user line: the pages mapped are the RSS in ps, the page-table
  pages memstat PID's, the KiB their sum; memmap shows user frames as U
  (at least half the cells the RSS would fill, at most one a page);
- repeated `memstat PID` while it runs on the other hart agrees with
  itself, and lock debugging (on throughout) sees no inversion or bad
  release;
- bad input: no such pid ("memstat: no process 999"), garbage, 0 and a
  number with a tail are refused with the usage line; with every
  allocation failing (faultinj) memstat PID says it had no memory;
- a zombie (memhold's child, never waited for): ps shows VSZ and RSS 0,
  memstat PID no area and state zombie, its peak kept;
- memhold churning (mmap, touch, munmap in a loop) on one hart, read 40
  times from the other: every output self-consistent, changes seen;
- after it is killed: the user line is 0, memcheck (which checks that
  no user frame is held with no process) is ok, no U or t in memmap,
  memstat PID says there is no such process, free memory is back."""
import os
import re
import struct
import sys
import time

from tally import ROOT, Tally, Timeout, finish, guarded, ok, parse_kv

IMG = os.path.join(ROOT, "build", "disk.img")
ELF = os.path.join(ROOT, "build", "user", "bin", "memhold")
PAGE = 4096
HEAP_KIB, MMAP_KIB, PEAK_KIB = 1024, 512, 256
NAME_COL = 73   # Linux: seq_setwidth(25 + 6 * sizeof(void *) - 1), then seq_pad's ' '
MAPS = re.compile(r"^([0-9a-f]{8,})-([0-9a-f]{8,}) ([r-][w-][x-]p) ([0-9a-f]{8}) "
                  r"([0-9a-f]{2}:[0-9a-f]{2}) (\d+) (.*)$")
PS_LINE = re.compile(r"^ +(\d+) +(\d+) (\w+) +(\d+) +(\d+) +(\d+) +(\d+) (.+)$")


def uspace():
    """USER_STACK_TOP and USER_STACK_MAX from the headers (the kernel's
    figures, not memstat's)."""
    text = open(os.path.join(ROOT, "include", "uapi", "tally", "layout.h")).read()
    end = int(re.search(r"#define TALLY_USER_END\s+(0x[0-9a-fA-F]+)", text).group(1), 16)
    text = open(os.path.join(ROOT, "include", "proc", "uspace.h")).read()
    m = re.search(r"#define USER_STACK_MAX\s+\((\d+)ULL << (\d+)\)", text)
    return end, int(m.group(1)) << int(m.group(2))


def up(x):
    return (x + PAGE - 1) // PAGE * PAGE


def segments(path):
    """The PT_LOAD segments of an ELF64 little-endian file: a list of
    (start, file_end, end, perms, file offset of start), page-rounded as
    the loader maps them."""
    data = open(path, "rb").read()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    out = []
    for i in range(phnum):
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = \
            struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type != 1 or p_memsz == 0:   # PT_LOAD
            continue
        start = p_vaddr & ~(PAGE - 1)
        file_end = up(p_vaddr + p_filesz) if p_filesz else start
        perms = ("r" if p_flags & 4 or p_flags & 2 else "-") + ("w" if p_flags & 2 else "-") + \
                ("x" if p_flags & 1 else "-") + "p"
        out.append((start, file_end, up(p_vaddr + p_memsz), perms, p_offset - (p_vaddr - start)))
    return out


def maps_and_counters(text):
    """memstat PID's output: its maps lines (start, end, perms, offset,
    dev, inode, name or None, the line) and its key: value counters."""
    areas, rest = [], []
    for line in text.splitlines():
        m = MAPS.match(line)
        if m:
            tail = m.group(7)
            areas.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3), int(m.group(4), 16),
                          m.group(5), int(m.group(6)), tail.strip() or None, line))
        else:
            rest.append(line)
    return areas, parse_kv("\n".join(rest))


def kib(v):
    return int(v.split()[0])


def ps(t):
    procs = {}
    out = t.cmd("ps")
    for line in out.splitlines()[1:]:
        m = PS_LINE.match(line)
        if m:
            procs[int(m.group(1))] = (m.group(3), int(m.group(5)), int(m.group(6)), int(m.group(7)),
                                      m.group(8))
    return procs, out


def memory(t):
    """(free KiB + what the slab caches hold, kmalloc's blocks in use), as
    test_sched.py compares them."""
    kv = parse_kv(t.cmd("memstat"))
    held = int(re.search(r"\((\d+) KiB held\)", kv["fragmentation"]).group(1))
    return int(kv["free"].split()[0]) + held, int(kv["allocs"]) - int(kv["frees"])


def user_line(t):
    m = re.match(r"(\d+) KiB \((\d+) pages mapped, (\d+) page-table pages\)",
                 parse_kv(t.cmd("memstat"))["user"])
    return tuple(int(x) for x in m.groups())


def memmap_letters(t):
    out = t.cmd("memmap")
    per = int(re.search(r", (\d+) KiB per character", out).group(1))
    cells = "".join(l.split()[1] for l in out.splitlines()[1:] if re.match(r"^[0-9a-f]{9} ", l))
    return cells.count("U"), cells.count("t"), per, out


def check_maps(t, pid, areas, kv, ino):
    stack_top, stack_max = uspace()
    segs = segments(ELF)
    lines = "\n".join(a[7] for a in areas)
    for a in areas:
        named = a[6] is not None
        col = a[7].index(a[6]) if named else None
        if named and col != NAME_COL:
            ok(False, f"name at column {NAME_COL}", a[7])
            return
        if not named and not a[7].endswith(" 0 "):
            ok(False, "an unnamed line ends with the prefix's space", repr(a[7]))
            return
    ok(all(a[4] == "00:00" for a in areas), "maps: dev 00:00 (no device numbers)", lines)
    want, i = [], 0
    for start, file_end, end, perms, off in segs:
        if file_end > start:
            want.append((start, file_end, perms, off, ino, "/bin/memhold"))
        if end > file_end:
            want.append((file_end, end, perms, 0, 0, None))
    got = [a[:4] + (a[5], a[6]) for a in areas[:len(want)]]
    ok(got == want, "maps: the executable's lines are its PT_LOAD segments (file part, bss)",
       f"want {want}\n{lines}")
    brk = segs[-1][2]
    rest = areas[len(want):]
    heap = [a for a in rest if a[6] == "[heap]"]
    ok(len(heap) == 1 and heap[0][:4] == (brk, brk + HEAP_KIB * 1024, "rw-p", 0),
       f"maps: [heap] from {brk:x} for {HEAP_KIB} KiB", lines)
    anon = [a[:3] for a in rest if a[6] is None]
    ok(sorted(e - s for s, e, _ in anon) == [PAGE, MMAP_KIB * 1024] and
       {p for *_, p in anon} == {"---p", "rw-p"} and
       [p for s, e, p in anon if e - s == PAGE] == ["---p"],
       f"maps: one unnamed rw-p area of {MMAP_KIB} KiB and one ---p page", lines)
    stack = [a for a in rest if a[6] == "[stack]"]
    ok(len(stack) == 1 and stack[0][1] == stack_top and stack[0][2] == "rw-p" and
       0 < stack[0][1] - stack[0][0] <= stack_max and areas[-1] == stack[0],
       f"maps: [stack] last, ending at USER_STACK_TOP {stack_top:x}", lines)
    ok(len(rest) == 4 and int(kv.get("areas", -1)) == len(areas),
       "maps: nothing else (the unmapped peak area is gone); areas counts the lines", lines)
    vsz = sum(a[1] - a[0] for a in areas)
    ok(kib(kv["vsz"]) * 1024 == vsz, f"vsz is the areas' sum ({vsz >> 10} KiB)", kv)
    file_pages = sum((f - s) // PAGE for s, f, *_ in segs)
    bss_pages = sum((e - f) // PAGE for s, f, e, *_ in segs)
    must = file_pages + (HEAP_KIB + MMAP_KIB) // 4
    rss = kib(kv["rss"]) // 4
    stack_pages = (stack[0][1] - stack[0][0]) // PAGE if stack else 0
    ok(must <= rss <= must + bss_pages + stack_pages,
       f"rss {rss} pages: at least file + heap + mmap ({must}), at most that + bss + stack", kv)
    ok(kib(kv["rss_peak"]) == kib(kv["rss"]) + PEAK_KIB,
       f"rss_peak = rss + the {PEAK_KIB} KiB touched and unmapped", kv)
    ok(kib(kv["rss_heap"]) == HEAP_KIB, "rss_heap is the heap touched", kv)
    return must, stack, segs


def tables_needed(areas, stack, segs):
    """Sv39 tables for the pages certainly resident (file pages, heap,
    the rw mmap area, the stack's top page), with and without the bss
    and the whole stack: (low, high)."""
    def count(pages):
        return 1 + len({p >> 30 for p in pages}) + len({p >> 21 for p in pages})
    sure = set()
    for s, f, *_ in segs:
        sure.update(range(s, f, PAGE))
    for a in areas:
        if a[6] == "[heap]" or (a[6] is None and a[2] == "rw-p" and a[1] - a[0] == MMAP_KIB * 1024):
            sure.update(range(a[0], a[1], PAGE))
    sure.add(stack[0][1] - PAGE)
    maybe = set(sure)
    for s, f, e, *_ in segs:
        maybe.update(range(f, e, PAGE))
    maybe.update(range(stack[0][0], stack[0][1], PAGE))
    return count(sure), count(maybe)


def start_memhold(t, args=f"{HEAP_KIB} {MMAP_KIB} {PEAK_KIB}"):
    """Start memhold in the background; return its pid (and its child's,
    0 for none) once it has said it is ready. Nothing is typed until its
    whole line has come: the shell echoes typed characters outside the
    console lock, so they could land inside it. Then one ps, so no later
    output holds any of it."""
    out = t.cmd(f"run /bin/memhold {args} &")
    m = re.search(r"^\[(\d+)\]$", out, re.M)
    pid = int(m.group(1)) if m else -1
    ready = re.compile(rb"memhold: ready pid %d( child (\d+))?\r?\n" % pid)
    if not ready.search(t.log):   # not before the prompt: wait for all of it, typing nothing
        try:
            t.expect(f"memhold: ready pid {pid}", timeout=30)
            t.expect("\n", timeout=10)
        except Timeout:
            pass
    m = ready.search(t.log)
    t.cmd("ps")
    ok(m is not None, f"memhold started as pid {pid}, ready", out)
    return pid, int(m.group(2)) if m and m.group(2) else 0


def accounting():
    with Tally(drive=IMG, smp=2) as t:
        t.boot()
        t.cmd("memdebug locks on")
        st = parse_kv(t.cmd("stat /bin/memhold"))
        ino = int(st.get("first_cluster", -1))
        user0 = user_line(t)
        ok(user0 == (0, 0, 0), "before any process: user 0 KiB", user0)
        out = t.cmd("run /bin/memhold 4 4 4 1")   # one second; the file's blocks cached after
        ok(re.search(r"^memhold: ready pid \d+$", out, re.M) and "exit status" not in out,
           "memhold in the foreground: ready, then exit 0 after a second", out)
        before = memory(t)
        pid, _ = start_memhold(t)
        procs, ps_out = ps(t)
        ok(pid in procs and procs[pid][4] == f"/bin/memhold {HEAP_KIB} {MMAP_KIB} {PEAK_KIB}",
           "ps lists it with its command", ps_out)
        head = ps_out.splitlines()[0]
        row = next((l for l in ps_out.splitlines() if PS_LINE.match(l) and int(l.split()[0]) == pid), "")
        hend = [m.end() for m in re.finditer(r"\S+", head)]
        rend = [m.end() for m in re.finditer(r"\S+", row)]
        ok(len(rend) >= 8 and [rend[i] for i in (0, 1, 3, 4, 5, 6)] == [hend[i] for i in (0, 1, 3, 4, 5, 6)]
           and head.index("STATE") == row.index(row.split()[2]) and
           head.index("COMMAND") == row.index("/bin/memhold"),
           "ps: numbers right-aligned under their headers, state and command under theirs", ps_out)
        out = t.cmd(f"memstat {pid}")
        areas, kv = maps_and_counters(out)
        ok(kv.get("pid") == str(pid) and kv.get("state") in ("running", "runnable") and
           int(kv.get("syscalls", 0)) > 0, "memstat PID: pid, state, system calls", out)
        must, stack, segs = check_maps(t, pid, areas, kv, ino)
        p = procs.get(pid, (None, -1, -1, -1, ""))
        ok(p[1] == kib(kv["vsz"]) and p[2] == kib(kv["rss"]) and p[3] == int(kv["minor_faults"]),
           "ps's VSZ, RSS and FAULTS are memstat PID's", ps_out + out)
        lo, hi = tables_needed(areas, stack, segs)
        pt = kib(kv["page_tables"]) // 4
        ok(lo <= pt <= hi, f"page_tables {pt}: what Sv39 needs for its pages ({lo}..{hi})", out)
        total, mapped, tables = user_line(t)
        ok(mapped * 4 == sum(v[2] for v in procs.values()) and tables == pt and
           total == (mapped + tables) * 4,
           "memstat user line: ps's RSS summed + its page tables", (total, mapped, tables))
        u, _, per, mm = memmap_letters(t)
        rss_kib = kib(kv["rss"])
        ok(rss_kib // per // 2 <= u <= rss_kib // 4 and u > 0,
           f"memmap: {u} U cells of {per} KiB for {rss_kib} KiB resident", mm)
        same = True
        for _ in range(15):   # it runs on either hart meanwhile
            again, kv2 = maps_and_counters(t.cmd(f"memstat {pid}"))
            same = same and [a[7] for a in again] == [a[7] for a in areas] and \
                kv2["rss"] == kv["rss"] and kib(kv2["vsz"]) * 1024 == sum(a[1] - a[0] for a in again)
        ok(same, "memstat PID read 15 times while it runs: the same areas and counters")
        for bad in ("999", "4000000000"):
            out = t.cmd(f"memstat {bad}")
            ok(out.strip() == f"memstat: no process {bad}" if bad == "999" else
               out.startswith("usage: memstat"), f"memstat {bad}: refused", out)
        for bad in ("0", "12abc", "bogus", "-3"):
            out = t.cmd(f"memstat {bad}")
            ok(out.startswith("usage: memstat"), f"memstat {bad}: usage", out)
        t.cmd("faultinj interval=1 times=8")   # every allocation fails for a while
        out = t.cmd(f"memstat {pid}")
        t.cmd("faultinj off")
        ok(out.strip() == f"memstat: process {pid}: out of memory for its areas",
           "memstat PID with no memory for its copy says so", out)
        ok(maps_and_counters(t.cmd(f"memstat {pid}"))[0] == areas, "and works again after")
        t.cmd(f"kill {pid} 9")
        deadline = time.monotonic() + 20
        while pid in ps(t)[0] and time.monotonic() < deadline:
            time.sleep(0.2)
        ok(pid not in ps(t)[0], "killed and reaped")
        ok(user_line(t) == (0, 0, 0), "after it: user 0 KiB, no page tables", t.cmd("memstat"))
        out = t.cmd("memcheck")
        ok(out.strip() == "memcheck: ok", "after it: memcheck ok (no user frame left)", out)
        u, tt, _, mm = memmap_letters(t)
        ok(u == 0 and tt == 0, "after it: no U or t in memmap", mm)
        out = t.cmd(f"memstat {pid}")
        ok(out.strip() == f"memstat: no process {pid}", "after it: memstat PID says no process", out)
        after = memory(t)
        ok(after == before, f"after it: memory back: {before}, {after}", t.cmd("memstat"))
        locks = parse_kv(t.cmd("memdebug locks"))
        ok(locks.get("lock_inversions") == "0" and locks.get("lock_unheld_releases") == "0" and
           locks.get("lock_out_of_order_releases") == "0",
           "lock debugging on throughout: no inversion, no bad release", locks)


def zombie():
    """A child memhold never waits for stays a zombie: ps shows it with
    VSZ and RSS 0; memstat PID prints no area, state zombie, vsz, rss and
    page tables 0, its peak RSS kept (it ran: at least its text page).
    Its parent killed, both go and every user frame is back."""
    with Tally(drive=IMG, smp=2) as t:
        t.boot()
        pid, child = start_memhold(t, "64 64 0 0 zombie")
        deadline = time.monotonic() + 20
        procs = {}
        while time.monotonic() < deadline:
            procs, out = ps(t)
            if procs.get(child, ("",))[0] == "zombie":
                break
            time.sleep(0.2)
        c = procs.get(child, ("?", -1, -1, -1, ""))
        ok(c[0] == "zombie" and c[1] == 0 and c[2] == 0, f"ps: child {child} a zombie, VSZ and RSS 0",
           out)
        out = t.cmd(f"memstat {child}")
        areas, kv = maps_and_counters(out)
        ok(not areas and kv.get("state") == "zombie" and kv.get("areas") == "0" and
           kib(kv.get("vsz", "-1")) == 0 and kib(kv.get("rss", "-1")) == 0 and
           kib(kv.get("page_tables", "-1")) == 0 and kib(kv.get("rss_peak", "0")) >= 4,
           "memstat of a zombie: no areas, nothing resident, its peak kept", out)
        _, mapped, tables = user_line(t)
        parent = maps_and_counters(t.cmd(f"memstat {pid}"))[1]
        ok(mapped * 4 == kib(parent["rss"]) and tables * 4 == kib(parent["page_tables"]),
           "user line: the parent's alone (the zombie holds nothing)", (mapped, tables, parent))
        t.cmd(f"kill {pid} 9")
        deadline = time.monotonic() + 20
        while (pid in ps(t)[0] or child in ps(t)[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        procs, out = ps(t)
        ok(not procs and user_line(t) == (0, 0, 0), "parent killed: both gone, user 0 KiB", out)


def churning():
    """memhold maps, touches and unmaps 64 KiB over and over on one hart
    while the shell reads it from the other: each memstat PID is one
    moment's (taken under its mm_lock), so its vsz is its lines' sum and
    its rss fits in its areas every time, whichever moment it caught;
    and both moments (with the area and without) are seen."""
    with Tally(drive=IMG, smp=2) as t:
        t.boot()
        t.cmd("memdebug locks on")
        pid, _ = start_memhold(t, "64 64 64 0 churn")
        consistent, counts = True, set()
        for _ in range(40):
            out = t.cmd(f"memstat {pid}")
            areas, kv = maps_and_counters(out)
            if "vsz" not in kv:
                consistent = False
                break
            vsz = sum(a[1] - a[0] for a in areas)
            consistent = consistent and kib(kv["vsz"]) * 1024 == vsz and \
                int(kv["areas"]) == len(areas) and kib(kv["rss"]) * 1024 <= vsz
            counts.add(len(areas))
        ok(consistent, "churning: every memstat PID self-consistent (vsz, areas, rss)", out)
        ok(len(counts) >= 2, f"churning: its areas seen changing ({sorted(counts)} areas)", counts)
        t.cmd(f"kill {pid} 9")
        deadline = time.monotonic() + 20
        while pid in ps(t)[0] and time.monotonic() < deadline:
            time.sleep(0.2)
        ok(user_line(t) == (0, 0, 0) and t.cmd("memcheck").strip() == "memcheck: ok",
           "churning: killed mid-churn, every frame back")
        locks = parse_kv(t.cmd("memdebug locks"))
        ok(locks.get("lock_inversions") == "0" and locks.get("lock_out_of_order_releases") == "0",
           "churning: lock debugging sees no inversion", locks)


if __name__ == "__main__":
    guarded(accounting, "accounting")
    guarded(zombie, "zombie")
    guarded(churning, "churning")
    sys.exit(finish())
