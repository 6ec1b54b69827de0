#!/usr/bin/env python3
"""Lock debugging (issue 17, Locks): the lockdep KTAP suite passes with one
and two harts, and its provoked reports name the call sites of both the
recorded order and the take against it (the helpers' names); the shell's
`memdebug locks on|off` switches it, `memdebug locks` prints its figures
as key: value lines, a bad argument says why; a selftest leaves the
user's figures as they were; taking a spinlock twice stays a panic that
names both call sites, debugging on or off."""
import re
import sys

from tally import Tally, finish, guarded, ok, parse_kv

EXIT_PANIC = 4
CASES = 9
LOCK_KEYS = ["locks_tracked", "lock_classes", "lock_edges", "lock_inversions",
             "lock_edges_dropped", "lock_unheld_releases", "lock_out_of_order_releases",
             "lock_classes_dropped", "lock_too_deep"]
SITE = r"%s\+0x[0-9a-f]+"


def inversion(out, hart, taken, held, site_now, seen_on, site_then):
    """The two lines of an inversion report, marked expected."""
    return re.search(
        r'^    # expected: lockdep: order inversion on hart %d: "%s" taken at %s while '
        r'holding "%s" \(taken at %s\)\n'
        r'    # expected: lockdep:   against "%s" -> "%s" seen on hart %d: "%s" taken at %s, '
        r'then "%s" at %s$'
        % (hart, taken, SITE % site_now, held, SITE % site_now, taken, held, seen_on, taken,
           SITE % site_then, held, SITE % site_then), out, re.M)


def suite(smp):
    with Tally(smp=smp, append="selftest=lockdep") as t:
        code, out = t.wait_exit(timeout=120)
    cases = re.findall(r"^    (not )?ok \d+ (\S+)(.*)$", out, re.M)
    ok(len(cases) == CASES and not any(bad for bad, _, _ in cases) and code == 0,
       f"-smp {smp}: lockdep suite passes (exit {code})", out[-2500:])
    A, B, C = "lockdep test A", "lockdep test B", "lockdep test C"
    ok(inversion(out, 0, A, B, "ld_b_then_a", 0, "ld_a_then_b"),
       f"-smp {smp}: A -> B then B -> A: reported with both takes' sites and both recorded ones",
       out)
    ok(re.search(r'^    # expected: lockdep:   and "%s" -> "%s" seen on hart 0: .* at %s$'
                 % (B, C, SITE % "ld_b_then_c"), out, re.M),
       f"-smp {smp}: an inversion through a chain names every recorded order", out)
    ok(re.search(r'^    # expected: lockdep: hart 0 releases "lockdep test D" at %s, which is '
                 r'not held: left as it is$' % (SITE % "test_bad_releases"), out, re.M),
       f"-smp {smp}: release of a lock not held: reported", out)
    ok(re.search(r'^    # expected: lockdep: hart 0 releases "%s" at .* out of order: "%s"'
                 % (A, B), out, re.M),
       f"-smp {smp}: release out of order: reported", out)
    full = re.findall(r"^    # expected: lockdep: order table full \(64 edges\)", out, re.M)
    ok(len(full) == 1, f"-smp {smp}: the full order table is said once", out)
    ok(len(re.findall(r"^    # expected: lockdep: hart 0 holds 8 locks: .* not tracked", out, re.M))
       == 1, f"-smp {smp}: a ninth lock held is said once", out)
    ok(len(re.findall(r"^    # expected: lockdep: class table full \(32 classes\)", out, re.M))
       == 1, f"-smp {smp}: the full class table is said once", out)
    ok(not re.search(r"^lockdep:", out, re.M), f"-smp {smp}: no report unmarked", out)
    two = [c for c in cases if c[1] == "inversion_across_two_harts"]
    if smp == 1:
        ok(two and "# SKIP one hart" in two[0][2], "-smp 1: the two-hart case is skipped", two)
    else:
        ok(inversion(out, 0, A, B, "ld_b_then_a", 1, "ld_a_then_b") and
           inversion(out, 1, C, A, "ld_a_then_c", 0, "ld_c_then_a"),
           f"-smp {smp}: orders taken on two harts at different times meet: "
           "each inversion names the other hart's sites", out)


def locks(t):
    return parse_kv(t.cmd("memdebug locks"))


def shell():
    with Tally(smp=2) as t:
        t.boot()
        ok(parse_kv(t.cmd("memdebug")).get("locks") == "off", "memdebug: locks off at boot")
        s = locks(t)
        ok(list(s) == LOCK_KEYS and s["locks_tracked"] == "off" and
           all(s[k] == "0" for k in LOCK_KEYS[1:]),
           "memdebug locks: the figures as key: value lines, all 0 at boot", s)
        s = parse_kv(t.cmd("memdebug locks on"))
        ok(s.get("locks_tracked") == "on", "memdebug locks on: tracked", s)
        ok(parse_kv(t.cmd("memdebug")).get("locks") == "on", "memdebug shows locks: on")
        out = t.cmd("mmstress 300 5 harts=2", timeout=120)
        ok("result=PASS" in out and "lockdep" not in out,
           "mmstress on two harts with lock debugging on: PASS, no report", out)
        s = locks(t)
        # the console's lock and mmstress's hand-off lock; nothing nests them
        ok(int(s["lock_classes"]) >= 2 and s["lock_inversions"] == "0" and
           s["lock_unheld_releases"] == "0" and s["lock_out_of_order_releases"] == "0",
           "the kernel's own locks: classes met, no inversion, no bad release", s)
        out = t.cmd("selftest lockdep", timeout=120)
        ok(out.rstrip().endswith("selftest: PASS"), "selftest lockdep from the shell: PASS",
           out[-800:])
        ok(locks(t) == s, "a selftest leaves the user's figures as they were", (s, locks(t)))
        out = t.cmd("memdebug locks maybe").strip().splitlines()
        ok(len(out) == 2 and out[0] == "memdebug: locks: 'maybe' is neither on nor off" and
           out[1].startswith("usage: memdebug"), "memdebug locks maybe: says why, usage", out)
        ok(locks(t)["locks_tracked"] == "on", "a bad argument changed nothing")
        out = t.cmd("memdebug locks on now").strip()
        ok(out.startswith("usage: memdebug"), "memdebug locks on now: usage", out)
        s = parse_kv(t.cmd("memdebug locks off"))
        ok(s.get("locks_tracked") == "off" and s.get("lock_classes") != "0",
           "memdebug locks off: off, what it recorded kept", s)
        ok(parse_kv(t.cmd("memdebug")).get("locks") == "off", "memdebug shows locks: off")


def recursion(debug):
    with Tally(smp=2) as t:
        t.boot()
        if debug:
            t.cmd("memdebug locks on")
        t.send("crash lock\n")
        code, out = t.wait_exit(timeout=30)
    ok(re.search(r'^PANIC: spinlock "crash": taken again by hart 0 at %s, held since %s$'
                 % (SITE % "take_twice", SITE % "take_twice"), out, re.M),
       f"lock taken twice (debugging {'on' if debug else 'off'}): panic names both sites",
       out[-1200:])
    ok(code == EXIT_PANIC, f"lock taken twice: exit status {EXIT_PANIC} (got {code})")


guarded(lambda: suite(1), "suite -smp 1")
guarded(lambda: suite(2), "suite -smp 2")
guarded(shell, "shell")
guarded(lambda: recursion(False), "recursion, debugging off")
guarded(lambda: recursion(True), "recursion, debugging on")
sys.exit(finish())
