#!/usr/bin/env python3
"""libtally.so (issue 19): Tally's allocators as the malloc of ordinary
Linux programs, through LD_PRELOAD.

Checked here, expected values from glibc's documented behaviour (malloc(3),
posix_memalign(3)) or from the same run under glibc:
- `python3 -c 'print(sum(range(10**6)))'` prints 499999500000 in each mode;
- malloc_prog api: the allocation functions' contract, in each mode and in
  the AddressSanitizer build of the library (tally_malloc & co.);
- malloc_prog threads: 8 threads freeing each other's blocks, patterns
  intact, in each mode and under ASan; malloc_prog fork: 10 forks under 4
  busy threads, every child allocates and exits 0;
- malloc_prog huge: realloc of blocks over 2 MiB grows by mremap, shrinks
  in place, moves with the contents kept; mremap refused (the program's
  own mremap, which the library reaches) moves it by copying; with the
  address space full (RLIMIT_AS) realloc returns NULL with ENOMEM and the
  block stays intact -- in each mode and (but RLIMIT_AS) under ASan;
- malloc_prog calloc: calloc of 128 KiB or more is mapped on its own until
  such a block is freed, which raises the threshold to its size, as
  glibc's dynamic mmap threshold does: 300 KiB mapped, freed, 300 KiB
  again from the arena, 400 KiB mapped; the exit summary counts one huge
  block of 400 KiB (peak 400 KiB); every block zeroed;
- a double free, an interior pointer, a stack address and a realloc of
  one: a report naming the pointer and the kind of error, then abort
  (SIGABRT) by default; with TALLY_BAD_FREE=report the program goes on
  and the exit summary counts one bad free;
- the error paths: set-up refused (RLIMIT_AS below the smallest
  reservation): one line on stderr, every allocation function fails
  with ENOMEM, and a free or realloc of a stack address is reported and
  aborts (or goes on) as after set-up; the arena's growth refused
  (RLIMIT_DATA lowered at run time makes grow()'s mprotect fail -- Linux
  counts a private mapping made writable against it, not against
  RLIMIT_AS): malloc returns NULL with ENOMEM, every block kept, and
  allocates again once the limit is back;
- TALLY_STATS=1: the summary's keys, its mode the one asked for;
  TALLY_FAULTINJ: exactly as many NULLs (errno ENOMEM) as the summary
  counts injected failures beyond a run that allocates nothing;
- bad values of every variable: one line on stderr, the default used;
- the library's fixed resident cost: malloc_prog resident (400 blocks of
  sizes every allocator has a class for, half freed) peaks (VmHWM) less
  than 1 MiB above the same run under glibc, with less than 768 KiB more
  anonymous memory, in each mode (medians of three runs; with the
  per-CPU tables written whole at set-up it was 2 MiB and 1.7 MiB more);
- real programs nobody here wrote (tools/bench/realprog.py --size tiny):
  python3, sort (of a generated 50 MB file), gcc, sqlite3 and git give
  glibc's output in each mode.
"""
import os
import re
import resource
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "qemu"))
from tally import ROOT, finish, guarded, ok  # noqa: E402

LIB = os.path.join(ROOT, "build", "host", "libtally.so")
PROG = os.path.join(ROOT, "build", "host", "preload", "malloc_prog")
PROG_ASAN = PROG + "_asan"
MODES = ["simple", "twotier", "hybrid"]
SUMMARY_KEYS = ["mode", "requests", "failures", "arena_bytes", "peak_in_use_bytes", "huge_bytes",
                "fragmentation", "bad_frees", "health"]


def run(argv, timeout=120, as_limit=None, **env):
    """argv under the library, with env; as_limit: RLIMIT_AS in bytes."""
    full = dict(os.environ, LD_PRELOAD=LIB)
    for k in ("TALLY_MODE", "TALLY_STATS", "TALLY_FAULTINJ", "TALLY_BAD_FREE"):
        full.pop(k, None)
    full.update(env)
    if env.get("LD_PRELOAD") == "":
        del full["LD_PRELOAD"]
    limit = (lambda: resource.setrlimit(resource.RLIMIT_AS, (as_limit, as_limit))) if as_limit else None
    return subprocess.run(argv, env=full, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit)


def summary(stderr):
    return dict(re.findall(r"^libtally: (\w+): (.*)$", stderr, re.M))


def basics():
    for mode in MODES:
        r = run(["python3", "-c", "print(sum(range(10**6)))"], TALLY_MODE=mode)
        ok(r.returncode == 0 and r.stdout == "499999500000\n",
           f"{mode}: python3 -c 'print(sum(range(10**6)))'", r.stderr[-300:])
        r = run([PROG, "api"], TALLY_MODE=mode)
        ok(r.returncode == 0 and r.stdout == "api: ok\n", f"{mode}: the allocation functions' contract",
           r.stdout[-600:])
        r = run([PROG, "threads"], TALLY_MODE=mode)
        ok(r.returncode == 0 and r.stdout == "threads: 0 bad\n", f"{mode}: 8 threads, cross-thread frees",
           r.stdout + r.stderr[-300:])
        r = run([PROG, "fork"], TALLY_MODE=mode)
        ok(r.returncode == 0 and "10 of 10" in r.stdout, f"{mode}: fork under busy threads", r.stdout)
        r = run([PROG, "huge"], TALLY_MODE=mode)
        ok(r.returncode == 0 and r.stdout == "huge: ok\n",
           f"{mode}: realloc over 2 MiB: mremap in place or moved, refused, out of address space",
           r.stdout[-600:] + r.stderr[-300:])
        r = run([PROG, "calloc"], TALLY_MODE=mode, TALLY_STATS="1")
        ok(r.returncode == 0 and r.stdout == "calloc: ok\n" and
           summary(r.stderr).get("huge_bytes") == "409600 (peak 409600, 1 blocks now)",
           f"{mode}: calloc of 300 KiB mapped, then from the arena once one was freed; 400 KiB mapped",
           r.stdout[-300:] + str(summary(r.stderr)))
    for what in ("api", "threads", "huge"):
        r = run([PROG_ASAN, what], LD_PRELOAD="")
        ok(r.returncode == 0 and "ERROR: AddressSanitizer" not in r.stderr and
           ("api: ok" in r.stdout or "threads: 0 bad" in r.stdout or "huge: ok" in r.stdout),
           f"AddressSanitizer build of the library: {what}", (r.stdout + r.stderr)[-800:])


KINDS = {"double": "object is free|double free|already free|not an allocated block",
         "interior": "not at an object start|not the start of a block|inside",
         "stack": "not a kmalloc block|not an allocated block|no block",
         "realloc": "krealloc of a pointer that is not a block"}


def bad_frees():
    for mode in MODES:
        for what, kind in KINDS.items():
            r = run([PROG, what], TALLY_MODE=mode)
            ptr = re.search(r"^freeing (0x[0-9a-f]+)$", r.stderr, re.M)
            named = ptr and re.search(rf"wrong free of {ptr.group(1)} by 0x[0-9a-f]+: ", r.stderr)
            ok(r.returncode == -signal.SIGABRT and named and re.search(kind, r.stderr) and
               "survived" not in r.stdout and "libtally: aborting" in r.stderr,
               f"{mode}: {what} free: reported with the pointer and its kind, then abort", r.stderr[-400:])
            r = run([PROG, what], TALLY_MODE=mode, TALLY_BAD_FREE="report", TALLY_STATS="1")
            ok(r.returncode == 0 and r.stdout == "survived\n" and summary(r.stderr).get("bad_frees") == "1",
               f"{mode}: {what} free with TALLY_BAD_FREE=report: goes on, counted", r.stderr[-400:])


# Set-up reserves address space from all of RAM down, halving, to no less
# than 64 MiB (libtally.c's RESERVE_MIN): under 32 MiB of address space
# every reservation is refused, whatever the machine.
NO_ROOM = 32 << 20
SETUP_LINE = "libtally: cannot set the allocator up (-12): every allocation fails\n"
INITIAL_ARENA = 4 << 20   # libtally.c's INITIAL: the arena grew past it


def error_paths():
    r = run([PROG, "broken"], as_limit=NO_ROOM, TALLY_STATS="1", TALLY_MODE="twotier")
    ok(r.returncode == 0 and r.stdout == "broken: ok\n" and r.stderr == SETUP_LINE,
       "set-up refused (RLIMIT_AS 32 MiB): one line, every allocation function fails with "
       "ENOMEM, no summary", r.stdout + r.stderr)
    for what in ("stack", "realloc"):
        fn = "free" if what == "stack" else "realloc"
        r = run([PROG, what], as_limit=NO_ROOM)
        ptr = re.search(r"^freeing (0x[0-9a-f]+)$", r.stderr, re.M)
        ok(r.returncode == -signal.SIGABRT and ptr and
           f"libtally: wrong free of {ptr.group(1)}: {fn} before set-up, when no block exists\n"
           in r.stderr and "libtally: aborting" in r.stderr and "survived" not in r.stdout,
           f"{fn} of a stack address, set-up refused: reported with the pointer, then abort",
           r.stdout + r.stderr)
        r = run([PROG, what], as_limit=NO_ROOM, TALLY_BAD_FREE="report")
        ok(r.returncode == 0 and r.stdout == "survived\n" and
           f"{fn} before set-up" in r.stderr and "aborting" not in r.stderr,
           f"{fn} of a stack address, set-up refused, TALLY_BAD_FREE=report: reported, "
           "goes on (realloc: NULL, ENOMEM)", r.stdout + r.stderr)
    for mode in MODES:
        r = run([PROG, "grow"], TALLY_MODE=mode, TALLY_STATS="1")
        m = re.search(r"^grow: (\d+) refused, (\d+) after, patterns ok$", r.stdout, re.M)
        s = summary(r.stderr)
        ok(r.returncode == 0 and m and int(m.group(2)) == 2 * int(m.group(1)) > 0 and
           s.get("failures") == "1 (injected 0)" and int(s.get("arena_bytes", 0)) > INITIAL_ARENA,
           f"{mode}: the arena's growth refused (mprotect under RLIMIT_DATA): one NULL with "
           "ENOMEM, nothing lost, growing again once the limit is back", r.stdout + r.stderr)


def knobs():
    r = run(["true"], TALLY_STATS="1", TALLY_MODE="twotier")
    s = summary(r.stderr)
    ok(all(k in s for k in SUMMARY_KEYS) and s.get("mode") == "twotier" and
       s.get("health", "").startswith("healthy"), "TALLY_STATS=1: the summary, mode twotier", r.stderr)
    for var, val, default_check in (("TALLY_MODE", "fast", lambda s: s.get("mode") == "hybrid"),
                                    ("TALLY_BAD_FREE", "maybe", lambda s: True),
                                    ("TALLY_FAULTINJ", "probability=200", lambda s: s.get("failures", "").startswith("0 ")),
                                    ("TALLY_FAULTINJ", "often", lambda s: s.get("failures", "").startswith("0 "))):
        r = run([PROG, "faultinj", "100"], **{var: val, "TALLY_STATS": "1"})
        said = [l for l in r.stderr.splitlines() if l.startswith(f"libtally: {var}={val}: ")]
        ok(r.returncode == 0 and len(said) == 1 and "nulls: 0" in r.stdout and default_check(summary(r.stderr)),
           f"{var}={val}: one line on stderr, the default kept", r.stderr[-400:])
    r = run(["true"], TALLY_STATS="2")
    ok(r.stderr.count("libtally: TALLY_STATS=2: ") == 1 and "libtally: mode" not in r.stderr,
       "TALLY_STATS=2: one line, no summary", r.stderr)
    fi = "probability=30,seed=7"
    base = summary(run([PROG, "faultinj", "0"], TALLY_FAULTINJ=fi, TALLY_STATS="1").stderr)
    r = run([PROG, "faultinj", "2000"], TALLY_FAULTINJ=fi, TALLY_STATS="1")
    got = summary(r.stderr)
    nulls = re.search(r"nulls: (\d+)", r.stdout)
    b = re.search(r"injected (\d+)", base.get("failures", ""))
    g = re.search(r"injected (\d+)", got.get("failures", ""))
    ok(nulls and b and g and int(nulls.group(1)) > 100 and "errno: ENOMEM" in r.stdout and
       int(g.group(1)) - int(b.group(1)) == int(nulls.group(1)),
       f"TALLY_FAULTINJ={fi}: malloc returns NULL with ENOMEM, one per injected failure",
       r.stdout + str(base) + str(got))


def resident_kib(**env):
    """Medians of three runs of malloc_prog resident: (VmHWM, RssAnon) KiB."""
    hwm, anon = [], []
    for _ in range(3):
        r = run([PROG, "resident"], **env)
        got = dict(re.findall(r"^(\w+):\s+(\d+) kB$", r.stdout, re.M))
        if r.returncode != 0 or "VmHWM" not in got or "RssAnon" not in got:
            return None
        hwm.append(int(got["VmHWM"]))
        anon.append(int(got["RssAnon"]))
    return sorted(hwm)[1], sorted(anon)[1]


def fixed_cost():
    # The bound: what the library needs resident whatever the program does
    # is its code and read-only data (~150 KiB, shared page cache), its
    # static data written at set-up and first use (~300 KiB: a page for
    # each of the fine table's 41 caches' headers, whose 64 CPU entries
    # share it; one CPU's magazines per class in use), the frame entries
    # of the arena's first 4 MiB (48 KiB) and a slab per size class in use
    # -- about 750 KiB of peak, 450 KiB of it anonymous. 1 MiB and 768 KiB
    # leave room for the page cache's noise and a few more classes; the
    # 64-CPU tables written whole at set-up (1.3 MiB of magazines alone)
    # would not fit.
    base = resident_kib(LD_PRELOAD="")
    ok(base is not None, "malloc_prog resident under glibc", str(base))
    if base is None:
        return
    for mode in MODES:
        got = resident_kib(TALLY_MODE=mode)
        ok(got is not None and got[0] - base[0] < 1024 and got[1] - base[1] < 768,
           f"{mode}: fixed resident cost: peak +{got[0] - base[0] if got else '?'} KiB, "
           f"anonymous +{got[1] - base[1] if got else '?'} KiB over glibc's "
           f"({base[0]} and {base[1]} KiB)", str(got))


def real_programs():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench", "realprog.py"),
                        "--size", "tiny", "--check", "--allocs", ",".join(MODES),
                        "--workloads", "python,sort,gcc,sqlite3,git"],
                       capture_output=True, text=True, timeout=600)
    ok(r.returncode == 0 and "DIFFERS" not in r.stdout and r.stdout.count(" same") == 5 * 4,
       "python3, sort, gcc, sqlite3, git: glibc's output in each mode", r.stdout + r.stderr[-400:])


guarded(basics, "basics")
guarded(bad_frees, "bad frees")
guarded(knobs, "knobs")
guarded(error_paths, "error paths")
guarded(fixed_cost, "fixed resident cost")
guarded(real_programs, "real programs")
sys.exit(finish())
