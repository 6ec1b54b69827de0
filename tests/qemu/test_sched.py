#!/usr/bin/env python3
"""The scheduler (kernel/sched.c): several processes at once on every
hart, preempted at the tick, spawn/wait4/kill/getppid from user space,
`run ... &`, `ps`, `kill`, Ctrl-C of the foreground process. Checked:

- /bin/spawner's children run, see their parent with getppid, and are
  reaped each once with its own status, then wait4 says ECHILD;
  /bin/mmaptest's faulting children (spawned) each end with 139;
  /bin/badptr's bad pointers to every call, spawn's included, -EFAULT;
  /bin/proctest's answers are Linux's (spawn's, wait4's, kill's and
  clock_gettime's errors; a SIGTERM'd child's wait status is 15);
- three CPU-bound /bin/spin in the background (they make no system call
  in their loop, so only the tick takes the hart away) all get time, on
  one hart: the shell still answers, `ps` lists them (pid, ppid 0,
  state, VSZ, RSS, faults, command, aligned), `kill` ends one with
  status 143 (SIGTERM), `kill PID 9` one with 137, a third stays;
- a foreground process is killed by Ctrl-C (status 130, "interrupted")
  while a background one goes on;
- a parent asleep in wait4 is killed (143) and its running child becomes
  an orphan (ppid 0), killed in turn and freed with nobody reaping it;
- on -smp 4, four spinning processes are spread over the harts (ps's HART
  column, and the slices each hart ran), and one running on another hart
  is killed there; background processes started and killed at random
  (fixed seed) leave nothing behind; lock debugging, on throughout, finds
  no order inversion and no bad release;
- after every process is gone, free memory plus what the slab caches
  hold, and kmalloc's blocks in use, are what they were before they
  started (every frame, table, kernel stack and struct back; memory()
  says why the sum: the proc suite counts free pages exactly after
  draining every hart's caches)."""
import os
import random
import re
import sys
import time

from tally import ROOT, Tally, finish, guarded, ok, parse_kv

IMG = os.path.join(ROOT, "build", "disk.img")
PS_LINE = re.compile(r"^ +(\d+) +(\d+) (\w+) +(\d+) +(\d+) +(\d+) +(\d+) (.+)$")


def memory(t):
    """(free KiB + the KiB slab caches hold, kmalloc's blocks in use).
    Free counts the zones' lists and every hart's page lists; the slabs'
    pages hold objects in use and the free ones the caches and each hart's
    magazines keep, which come and go with the order of frees: the sum
    does not. A frame, table or kernel stack a process kept is in neither
    figure; a struct it kept is in the second (allocs - frees)."""
    kv = parse_kv(t.cmd("memstat"))
    held = int(re.search(r"\((\d+) KiB held\)", kv["fragmentation"]).group(1))
    return int(kv["free"].split()[0]) + held, int(kv["allocs"]) - int(kv["frees"])


def ps(t):
    """ps's processes as {pid: (ppid, state, hart, vsz, rss, faults, cmd)}
    and its slices per hart."""
    out = t.cmd("ps")
    procs = {}
    for line in out.splitlines()[1:]:
        m = PS_LINE.match(line)
        if m:
            g = m.groups()
            procs[int(g[0])] = (int(g[1]), g[2], int(g[3]), int(g[4]), int(g[5]), int(g[6]), g[7])
    slices = {int(h): int(n) for h, n in re.findall(r"hart(\d+)=(\d+)", out)}
    return procs, slices, out


def start_bg(t, line):
    """The pid `run ... &` prints (other background processes' lines may
    come before or after it)."""
    out = t.cmd(line)
    m = re.search(r"^\[(\d+)\]$", out, re.M)
    ok(m is not None, f"'{line}' prints [pid]", out)
    return int(m.group(1)) if m else -1


def wait_done(t, pid, seen, timeout=20):
    """Type `ps` until pid is gone; return the `[pid] done` line's status
    (None if it ended with no such line) -- the shell reaps before a
    prompt. seen collects every output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs, _, out = ps(t)
        seen.append(out)
        if pid not in procs:
            break
        time.sleep(0.2)
    m = re.search(rf"^\[{pid}\] done: exit status (\d+)$", "".join(seen), re.M)
    return int(m.group(1)) if m else None


def user_calls(t):
    out = t.cmd("run /bin/spawner 8", timeout=120)
    kv = parse_kv(out)
    ok(kv.get("reaped") == "8" and kv.get("statuses") == "ok" and kv.get("echild") == "ok" and
       kv.get("result") == "PASS", "spawner: 8 children, each reaped once with its status, then ECHILD", out)
    ok(len(re.findall(r"^child \d: pid \d+ sum \d+$", out, re.M)) == 8, "spawner: every child ran", out)
    out = t.cmd("run /bin/proctest", timeout=120)
    ok(out.strip() == "result: PASS", "proctest: spawn, wait4, kill, clock_gettime answer as Linux", out)
    out = t.cmd("run /bin/badptr", timeout=120)
    ok("efault: 35 of 35" in out and out.rstrip().endswith("result: PASS"),
       "badptr: every call's bad pointers -EFAULT, spawn's path, argv and strings too", out)
    out = t.cmd("run /bin/mmaptest", timeout=120)
    ok(out.rstrip().endswith("result: PASS") and
       all(f"fault {c}: status 139" in out for c in ("unmapped", "readonly", "none", "exec")),
       "mmaptest: each faulting access in a spawned child, reaped with status 139", out)


def background_one_hart(t):
    before = memory(t)
    pids = [start_bg(t, "run /bin/spin &") for _ in range(3)]
    time.sleep(1.0)
    procs, slices, out = ps(t)
    ok(all(p in procs for p in pids), "ps lists the three background processes", out)
    ok(all(procs[p][0] == 0 and procs[p][1] in ("runnable", "running") and
           procs[p][6] == "/bin/spin" and procs[p][3] > 0 and procs[p][4] > 0 and procs[p][5] >= 1
           for p in pids if p in procs), "ps: ppid 0, runnable, VSZ, RSS, faults, command", out)
    head = out.splitlines()[0]
    ok(head.split() == ["PID", "PPID", "STATE", "HART", "VSZ", "RSS", "FAULTS", "COMMAND"],
       "ps's header", out)
    widths = {len(line) - len(line.split()[-1]) for line in out.splitlines()[1:4]}
    ok(len(widths) == 1, "ps's lines are aligned", out)
    time.sleep(1.0)
    procs2, slices2, out2 = ps(t)
    ok(slices2.get(0, 0) - slices.get(0, 0) >= 20,
       "the shell's hart runs them between commands (slices of one tick)", out + out2)
    seen = []
    ok(t.cmd(f"kill {pids[0]}") == "", "kill PID: nothing said")
    ok(wait_done(t, pids[0], seen) == 143, "kill PID ends it with status 143 (SIGTERM)", seen)
    ok(t.cmd(f"kill {pids[1]} 9") == "", "kill PID 9: nothing said")
    ok(wait_done(t, pids[1], seen) == 137, "kill PID 9 ends it with status 137 (SIGKILL)", seen)
    procs, _, out = ps(t)
    ok(pids[2] in procs and pids[0] not in procs and pids[1] not in procs, "the third one still runs", out)
    out = t.cmd("kill 9999")
    ok(out == "kill: 9999: no such process\n", "kill of no process: said so", out)
    out = t.cmd("kill x")
    ok(out.startswith("usage: kill"), "kill with no number: usage", out)
    # Ctrl-C: the foreground process only
    t.send("run /bin/spin\n")
    t.expect("run /bin/spin", timeout=10)
    time.sleep(0.5)
    t.send("\x03")
    out = t.wait_prompt(20)
    ok(re.search(r"^pid \d+ \(spin\): interrupted$", out, re.M) is not None and
       out.rstrip().endswith("run: /bin/spin: exit status 130"), "Ctrl-C kills the foreground process: 130", out)
    procs, _, out = ps(t)
    ok(pids[2] in procs, "the background one is untouched by Ctrl-C", out)
    seen.append(t.cmd(f"kill {pids[2]}"))   # it may be reaped before this very prompt
    ok(wait_done(t, pids[2], seen) == 143, "the last one killed", seen)
    after = memory(t)
    ok(after == before, f"memory back after the background processes: {before}, {after}", after)


def sleeping_parent(t):
    before = memory(t)
    parent = start_bg(t, "run /bin/proctest waitspin &")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        procs, _, out = ps(t)
        kids = [p for p, v in procs.items() if v[0] == parent]
        if parent in procs and procs[parent][1] == "sleeping" and kids:
            break
        time.sleep(0.2)
    ok(parent in procs and procs[parent][1] == "sleeping", "a parent in wait4 is sleeping", out)
    ok(len(kids) == 1 and procs[kids[0]][6] == "/bin/spin", "its child's ppid is the parent's pid", out)
    seen = [t.cmd(f"kill {parent}")]
    ok(wait_done(t, parent, seen) == 143, "a parent killed while asleep in wait4: 143", seen)
    procs, _, out = ps(t)
    child = kids[0] if kids else -1
    ok(child in procs and procs[child][0] == 0, "its child lives on, an orphan (ppid 0)", out)
    t.cmd(f"kill {child} 9")
    wait_done(t, child, seen)
    ok(not re.search(rf"^\[{child}\] done", "".join(seen), re.M), "an orphan is freed with nobody reaping it", seen)
    after = memory(t)
    ok(after == before, f"memory back after parent and orphan: {before}, {after}", after)


def churn(t, rounds=3, seed=1):
    """Background spawners, waiters, spinners and mmaptests started five at
    a time, then signals 9, 15 or 2 sent at random (seed printed) to what
    runs -- parents asleep, children running on other harts, processes
    still loading -- and the rest killed: each round ends with no process
    and the memory figures where they were after the first round (its
    files are then in the block cache); memcheck clean."""
    rng = random.Random(seed)
    progs = ["/bin/spawner 16", "/bin/proctest", "/bin/spin", "/bin/proctest waitspin", "/bin/mmaptest"]
    figures = []
    for r in range(rounds):
        for _ in range(5):
            t.cmd(f"run {rng.choice(progs)} &")
        time.sleep(rng.random())
        procs, _, _ = ps(t)
        for p in procs:
            if rng.random() < 0.6:
                t.cmd(f"kill {p} {rng.choice([9, 15, 2])}")
        deadline = time.monotonic() + 30
        while procs and time.monotonic() < deadline:
            for p in procs:
                t.cmd(f"kill {p} 9")
            time.sleep(0.2)
            procs, _, _ = ps(t)
        t.cmd("ps")   # the last zombies reaped before its prompt
        figures.append(memory(t))
    ok(not procs and len(set(figures)) == 1, f"churn (seed {seed}): every round ends empty, "
       f"memory {figures}", figures)
    out = t.cmd("memcheck")
    ok(out == "memcheck: ok\n", "churn: memcheck clean", out)


def volume_shared(t):
    """Background spawners load their children from the volume on other
    harts while the shell's fsstress reads every file on it: the shell's
    command goes first (processes wanting the volume give their hart up
    meanwhile), every file matches its SHA256SUMS line, and the spawners
    all pass afterwards. Memory is compared with what it was after a first
    fsstress alone and a spawner in the foreground (fsstress shrinks the
    caches and keeps buffers for its walk; the block cache then holds
    /bin/spawner's blocks again, as after the background ones)."""
    for _ in range(2):   # the first round of the two settles 32 KiB of fsstress's own
        t.cmd("fsstress 1", timeout=180)
        t.cmd("run /bin/spawner 16", timeout=120)
    before = memory(t)
    pids = [start_bg(t, "run /bin/spawner 16 &") for _ in range(3)]
    out = t.cmd("fsstress 1", timeout=180)
    ok(re.search(r"^fsstress: files=\d+ .*mismatches=0 .*result=PASS$", out, re.M),
       "fsstress passes while background spawners load from the volume", out)
    seen = [out]
    statuses = [wait_done(t, p, seen, timeout=120) for p in pids]
    ok(statuses == [0, 0, 0] and not re.search(r"^FAIL", "".join(seen), re.M) and
       "".join(seen).count("result: PASS") == 3,
       f"the three spawners pass (exit status 0): {statuses}", "".join(seen)[-3000:])
    after = memory(t)
    ok(after == before, f"memory back after them: {before}, {after}", after)


def one_hart():
    with Tally(drive=IMG) as t:
        t.boot()
        t.cmd("run /bin/hello")   # the caches as a run leaves them
        user_calls(t)
        background_one_hart(t)
        sleeping_parent(t)


def four_harts():
    with Tally(drive=IMG, smp=4) as t:
        t.boot()
        t.cmd("memdebug locks on")
        t.cmd("run /bin/hello")
        user_calls(t)
        before = memory(t)
        pids = [start_bg(t, "run /bin/spin &") for _ in range(4)]
        time.sleep(1.5)
        procs, s0, out0 = ps(t)
        time.sleep(1.5)
        procs, s1, out = ps(t)
        busy = [h for h in s1 if s1[h] - s0.get(h, 0) >= 10]
        ok(len(busy) >= 3, f"-smp 4: four spinners run on {len(busy)} harts (slices each)", out0 + out)
        harts = {procs[p][2] for p in pids if p in procs}
        ok(len(harts) >= 2, f"-smp 4: ps shows them on harts {sorted(harts)}", out)
        running = [p for p in pids if p in procs and procs[p][1] == "running" and procs[p][2] != 0]
        victim = running[0] if running else pids[0]
        seen = [t.cmd(f"kill {victim}")]   # the shell may reap it before this very prompt
        ok(wait_done(t, victim, seen) == 143, "-smp 4: one running on another hart killed there: 143", seen)
        for p in pids:
            if p != victim:
                seen.append(t.cmd(f"kill {p} 9"))
        for p in pids:
            if p != victim:
                wait_done(t, p, seen)
        procs, _, out = ps(t)
        ok(not procs, "-smp 4: all gone", out)
        after = memory(t)
        ok(after == before, f"-smp 4: memory back: {before}, {after}", t.cmd("memstat"))
        out = t.cmd("run /bin/spawner 16", timeout=120)
        ok(parse_kv(out).get("result") == "PASS", "-smp 4: spawner with 16 children", out)
        churn(t)
        volume_shared(t)
        locks = parse_kv(t.cmd("memdebug locks"))
        ok(locks.get("lock_inversions") == "0" and locks.get("lock_unheld_releases") == "0" and
           locks.get("lock_out_of_order_releases") == "0",
           "-smp 4: lock debugging on throughout: no inversion, no bad release", locks)


if __name__ == "__main__":
    guarded(one_hart, "one hart")
    guarded(four_harts, "four harts")
    sys.exit(finish())
