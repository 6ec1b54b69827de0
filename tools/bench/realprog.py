#!/usr/bin/env python3
"""Real programs nobody here wrote, under each allocator: their output
compared, their wall time and peak resident set measured.

    python3 tools/bench/realprog.py [--size tiny|full] [--reps N]
        [--workloads a,b] [--allocs a,b] [--out FILE] [--check]

Workloads (Debian's programs; inputs generated here from fixed seeds):
  python   /usr/bin/python3 builds and drops large dicts, lists and
           strings, and prints a digest of what it built (PYTHONMALLOC=malloc:
           every object through malloc, not pymalloc's own arenas);
  sort     coreutils' sort (LC_ALL=C) of a generated file of words and
           numbers (50 MB at both sizes: the size issue 19 names, and a
           few seconds under every allocator);
  gcc      gcc -O2 -c of a generated C file (many functions with loops,
           switches and structs); the object file's sha256;
  sqlite3  sqlite3 builds a table from a recursive CTE, indexes it and
           runs grouping, ordering and string-aggregating queries;
  git      git init, commits of generated files with fixed dates, then
           gc; the last commit's hash and the object count.
Classic allocator benchmarks (tools/bench/classic.c, build/bench/classic:
make bench-real builds it), each a program of its own so it is tried as a
drop-in too: larson1/larson2/larson4 (Larson & Krishnan's server workload:
blocks freed by threads that did not allocate them, at 1, 2 and 4
threads), pc2/pc4 (producer/consumer, 1 and 2 pairs), single (an
allocation-heavy single thread: trees of nodes and strings).
Allocators: glibc (nothing preloaded), jemalloc and mimalloc (Debian's,
LD_PRELOAD), and Tally's modes simple/twotier/hybrid when
build/host/libtally.so exists (LD_PRELOAD with TALLY_MODE).

Each run's output (what a workload prints, and digests of the files it
writes) must equal glibc's: --check exits 1 when one differs. Measured:
wall time (time.monotonic around the whole workload) and peak RSS (the
largest of its commands' peaks as GNU time's %M reports them: the
process or the largest of its waited-for descendants). Repetitions are interleaved
(allocator by allocator within each repetition), medians reported; one
run, so ratios come from the same machine state.
Machine lines on --out: `workload=W alloc=A wall_s=... peak_rss_kib=...
wall_vs_glibc=... rss_vs_glibc=... reps=N same_output=yes|no`.
"""
import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIBDIR = "/usr/lib/x86_64-linux-gnu"
LIBTALLY = os.path.join(ROOT, "build", "host", "libtally.so")
PYTHON = "/usr/bin/python3"
# GNU time (Debian's `time`) runs each command and writes its peak RSS
# (%M, KiB). Measured from Python's own child instead, the figure would
# start at Python's size: Linux carries the old address space's high
# water mark across exec (signal->maxrss), and time is small.
TIME = "/usr/bin/time"
CLASSIC = os.path.join(ROOT, "build", "bench", "classic")


def allocators():
    """name -> environment additions, for what this machine has."""
    out = {"glibc": {}}
    for name, lib in (("jemalloc", "libjemalloc.so.2"), ("mimalloc", "libmimalloc.so.2")):
        path = os.path.join(LIBDIR, lib)
        if os.path.exists(path):
            out[name] = {"LD_PRELOAD": path}
    if os.path.exists(LIBTALLY):
        for mode in ("simple", "twotier", "hybrid"):
            out[mode] = {"LD_PRELOAD": LIBTALLY, "TALLY_MODE": mode}
    return out


# ---- inputs ----------------------------------------------------------------

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima "
         "mike november oscar papa quebec romeo sierra tango uniform victor whiskey "
         "xray yankee zulu").split()


def gen_sort_input(path, size, seed=20261130):
    rng = random.Random(seed)
    with open(path, "w") as f:
        written = 0
        while written < size:
            line = "%s %d %s-%05d\n" % (rng.choice(WORDS), rng.randrange(10**9),
                                         rng.choice(WORDS), rng.randrange(100000))
            f.write(line)
            written += len(line)


def gen_c_source(path, funcs, seed=20261130):
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("struct pt { long x, y; int tag; };\n")
        for i in range(funcs):
            k = rng.randrange(3, 9)
            f.write(f"long f{i}(struct pt *p, int n) {{\n  long acc = {rng.randrange(1000)};\n")
            f.write("  for (int i = 0; i < n; i++) {\n    switch ((p[i].tag + i) %% %d) {\n" % k)
            for c in range(k):
                f.write(f"    case {c}: acc += p[i].x * {rng.randrange(1, 97)} - p[i].y; break;\n")
            f.write("    default: acc ^= p[i].y;\n    }\n")
            f.write(f"    if (acc > {rng.randrange(10**6)}) acc /= {rng.randrange(2, 9)};\n  }}\n")
            if i:
                f.write(f"  return acc + f{rng.randrange(i)}(p + 1, n - 1);\n}}\n")
            else:
                f.write("  return acc;\n}\n")


SQL = """
CREATE TABLE t(id INTEGER PRIMARY KEY, word TEXT, n INTEGER, pad TEXT);
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {rows})
INSERT INTO t SELECT i, printf('w%d', (i * 7919) % 1000), (i * 104729) % 100003,
                     substr(hex(randomblob(0)) || printf('%.*c', i % 200, 'x'), 1, 200)
  FROM c;
COMMIT;
CREATE INDEX t_word ON t(word);
CREATE INDEX t_n ON t(n);
SELECT count(*), sum(n), max(length(pad)) FROM t;
SELECT word, count(*), sum(n) FROM t GROUP BY word ORDER BY sum(n) DESC LIMIT 5;
SELECT id, n FROM t WHERE word = 'w42' ORDER BY n LIMIT 5;
SELECT length(group_concat(word, ',')) FROM (SELECT word FROM t ORDER BY n LIMIT 20000);
DELETE FROM t WHERE n % 3 = 0;
SELECT count(*) FROM t;
VACUUM;
SELECT count(*), sum(id) FROM t WHERE n BETWEEN 1000 AND 50000;
"""

PY = r"""
import hashlib
h = hashlib.sha256()
for rnd in range({rounds}):
    d = {{("k%d-%d" % (rnd, i)): [i, str(i) * (i % 7), (i, rnd)] for i in range({n})}}
    l = sorted(d, key=lambda k: (len(d[k][1]), k))[: {n} // 10]
    s = "|".join(l)
    h.update(s.encode())
    del d, l, s
    parts = []
    for i in range({n} // 4):
        parts.append(("%x" % (i * 2654435761 % 2**32)) * (1 + i % 5))
    h.update("".join(parts).encode())
    del parts
print(h.hexdigest())
"""


# ---- workloads -------------------------------------------------------------
# Each: (setup(dir, size) -> None, steps(dir, size) -> [(argv, stdin path or
# None, stdout path or None)], outputs(dir) -> [paths whose digests count]).

def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


SIZES = {  # tiny: make test (seconds under every allocator); full: make bench-real
    "python": {"tiny": (1, 20000), "full": (4, 400000)},
    "sort": {"tiny": 50 << 20, "full": 50 << 20},
    "gcc": {"tiny": 60, "full": 2500},
    "sqlite3": {"tiny": 20000, "full": 400000},
    "git": {"tiny": 4, "full": 40},
    "larson": {"tiny": 2, "full": 60},
    "pc": {"tiny": 20000, "full": 2000000},
    "single": {"tiny": 1, "full": 40},
}


def w_python(d, size):
    rounds, n = SIZES["python"][size]
    return [([PYTHON, "-I", "-S", "-c", PY.format(rounds=rounds, n=n)], None, "out.txt")], ["out.txt"]


def w_sort(d, size):
    if not os.path.exists(os.path.join(d, "in.txt")):
        gen_sort_input(os.path.join(d, "in.txt"), SIZES["sort"][size])
    return [(["sort", "in.txt"], None, "out.txt")], ["out.txt"]


def w_gcc(d, size):
    if not os.path.exists(os.path.join(d, "big.c")):
        gen_c_source(os.path.join(d, "big.c"), SIZES["gcc"][size])
    return [(["gcc", "-O2", "-c", "big.c", "-o", "big.o"], None, None)], ["big.o"]


def w_sqlite3(d, size):
    with open(os.path.join(d, "script.sql"), "w") as f:
        f.write(SQL.format(rows=SIZES["sqlite3"][size]))
    if os.path.exists(os.path.join(d, "db.sqlite")):
        os.unlink(os.path.join(d, "db.sqlite"))
    return [(["sqlite3", "db.sqlite"], "script.sql", "out.txt")], ["out.txt"]


def w_git(d, size):
    repo = os.path.join(d, "repo")
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(repo)
    steps = [(["git", "-C", "repo", "init", "-q", "-b", "main"], None, None)]
    for c in range(SIZES["git"][size]):
        steps.append((["python-write", str(c)], None, None))   # git_write: the commit's files
        steps.append((["git", "-C", "repo", "add", "-A"], None, None))
        steps.append((["git", "-C", "repo", "commit", "-q", "-m", f"commit {c}"], None, None))
    steps.append((["git", "-C", "repo", "gc", "-q", "--aggressive"], None, None))
    steps.append((["git", "-C", "repo", "rev-parse", "HEAD"], None, "out.txt"))
    steps.append((["git", "-C", "repo", "count-objects", "-v"], None, "objects.txt"))
    return steps, ["out.txt", "objects.txt"]


def git_write(d, c):
    """The files of commit c (deterministic): each commit changes some lines."""
    rng = random.Random(1000 + c)
    for fnum in range(25):
        name = os.path.join(d, "repo", f"dir{fnum % 5}", f"file{fnum}.txt")
        os.makedirs(os.path.dirname(name), exist_ok=True)
        lines = [f"{WORDS[(fnum + i) % len(WORDS)]} {i} {rng.randrange(1000) if i % 9 == c % 9 else i * 3}"
                 for i in range(400)]
        with open(name, "w") as f:
            f.write("\n".join(lines) + "\n")


def w_classic(kind, threads):
    def steps(d, size):
        argv = [CLASSIC, kind] + ([str(threads)] if threads else []) + [str(SIZES[kind][size])]
        return [(argv, None, "out.txt")], ["out.txt"]
    return steps


WORKLOADS = {"python": w_python, "sort": w_sort, "gcc": w_gcc, "sqlite3": w_sqlite3, "git": w_git,
             "larson1": w_classic("larson", 1), "larson2": w_classic("larson", 2),
             "larson4": w_classic("larson", 4), "pc2": w_classic("pc", 2), "pc4": w_classic("pc", 4),
             "single": w_classic("single", 0)}
REAL = ["python", "sort", "gcc", "sqlite3", "git"]

GIT_ENV = {"GIT_AUTHOR_NAME": "Tally", "GIT_AUTHOR_EMAIL": "tally@example.org",
           "GIT_COMMITTER_NAME": "Tally", "GIT_COMMITTER_EMAIL": "tally@example.org",
           "GIT_AUTHOR_DATE": "2026-11-30T12:00:00Z", "GIT_COMMITTER_DATE": "2026-11-30T12:00:00Z",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent", "GIT_CONFIG_GLOBAL": "/dev/null"}


def run_workload(name, d, size, extra_env):
    """Run workload name in directory d under extra_env: (wall seconds,
    peak RSS KiB, output digest, first failure or None)."""
    steps, outputs = WORKLOADS[name](d, size)
    # PYTHONMALLOC=malloc: Python's small objects through malloc too (its
    # own pymalloc would serve them from arenas it maps itself).
    env = dict(os.environ, LC_ALL="C", PYTHONMALLOC="malloc", **GIT_ENV)
    env.pop("LD_PRELOAD", None)
    env.pop("TALLY_MODE", None)
    peak, fail = 0, None
    rss_file = os.path.join(d, ".maxrss")
    start = time.monotonic()
    for argv, stdin, stdout in steps:
        if argv[0] == "python-write":   # the harness's own file writing, not measured apart
            git_write(d, int(argv[1]))
            continue
        fin = open(os.path.join(d, stdin), "rb") if stdin else subprocess.DEVNULL
        fout = open(os.path.join(d, stdout), "wb") if stdout else subprocess.DEVNULL
        try:
            proc = subprocess.run([TIME, "-f", "%M", "-o", rss_file] + argv, cwd=d,
                                  env=dict(env, **extra_env), stdin=fin, stdout=fout,
                                  stderr=subprocess.PIPE)
            err = proc.stderr
        finally:
            if stdin:
                fin.close()
            if stdout:
                fout.close()
        with open(rss_file) as f:
            peak = max(peak, int(f.read().split()[-1]))
        if proc.returncode != 0 and fail is None:
            fail = f"{' '.join(argv[:3])}: exit {proc.returncode}: {err.decode(errors='replace')[-400:]}"
    wall = time.monotonic() - start
    h = hashlib.sha256()
    for path in outputs:
        full = os.path.join(d, path)
        h.update((sha(full) if os.path.exists(full) else "missing").encode())
    return wall, peak, h.hexdigest(), fail


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=("tiny", "full"), default="full")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--allocs", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--check", action="store_true", help="exit 1 when an output differs from glibc's")
    args = ap.parse_args()
    have = allocators()
    allocs = args.allocs.split(",") if args.allocs else list(have)
    for a in allocs:
        if a not in have:
            sys.exit(f"realprog: no allocator {a!r} here (have: {', '.join(have)})")
    if "glibc" not in allocs:
        allocs.insert(0, "glibc")
    workloads = args.workloads.split(",")
    for w in workloads:
        if w not in WORKLOADS:
            sys.exit(f"realprog: no workload {w!r} (have: {', '.join(WORKLOADS)})")
    reps = args.reps or (1 if args.size == "tiny" else 5)
    lines, bad = [], 0
    print(f"{'workload':<9} {'alloc':<9} {'wall s':>8} {'x glibc':>8} {'peak RSS':>10} {'x glibc':>8}  output")
    for w in workloads:
        with tempfile.TemporaryDirectory(prefix=f"realprog-{w}-") as d:
            walls = {a: [] for a in allocs}
            rss = {a: [] for a in allocs}
            digest, fails = {}, {}
            for _ in range(reps):
                for a in allocs:
                    wall, peak, dig, fail = run_workload(w, d, args.size, have[a])
                    walls[a].append(wall)
                    rss[a].append(peak)
                    digest.setdefault(a, dig)
                    if dig != digest[a]:
                        digest[a] = "varies"
                    if fail:
                        fails.setdefault(a, fail)
            g_wall, g_rss = statistics.median(walls["glibc"]), statistics.median(rss["glibc"])
            for a in allocs:
                mw, mr = statistics.median(walls[a]), statistics.median(rss[a])
                same = a not in fails and digest[a] == digest["glibc"] and "glibc" not in fails
                bad += not same
                print(f"{w:<9} {a:<9} {mw:8.3f} {mw / g_wall:8.2f} {mr:7d} KiB {mr / max(g_rss, 1):8.2f}  "
                      f"{'same' if same else 'DIFFERS'}")
                if a in fails:
                    print(f"  {a}: {fails[a]}")
                lines.append(f"workload={w} alloc={a} wall_s={mw:.4f} peak_rss_kib={mr} "
                             f"wall_vs_glibc={mw / g_wall:.3f} rss_vs_glibc={mr / max(g_rss, 1):.3f} "
                             f"reps={reps} same_output={'yes' if same else 'no'}")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 1 if args.check and bad else 0


if __name__ == "__main__":
    sys.exit(main())
