#!/usr/bin/env python3
"""Per-hart caches in the shell (issue 17): `memstat pcp` prints each hart's
page lists (pages per zone, blocks per order, blocks handed out) and
magazines (objects, KiB, objects handed out) in 80 columns, with totals as
key: value lines that the rows add up to; `memstat zones` has the lists'
pages per zone, and free = zone free lists + page lists; `harts` shows
what each hart's caches served (a bench on both harts: the magazines
served them), the same figures memstat pcp adds; a hog
that takes everything empties every list (the keeper), and its release
leaves a list no longer than its high mark. Boots -smp 2."""
import re
import sys

from tally import Tally, finish, guarded, ok, parse_kv

BATCH = re.compile(r"^pcp_batch: DMA (\d+), Normal (\d+) pages \(high: (\d+) batches a list\)$",
                   re.M)


def kib(value):
    return int(value.split()[0])


def pcp(t, n):
    """memstat pcp -> (rows as lists of ints, key: values, batches)."""
    out = t.cmd("memstat pcp")
    lines = out.splitlines()
    ok(all(len(line) <= 80 for line in lines), "memstat pcp fits 80 columns", out)
    m = BATCH.search(out)
    ok(m is not None, "pcp_batch names each zone's batch and the high mark", out)
    head = lines[1].split() if len(lines) > 1 else []
    ok(head == ["hart", "DMA", "Normal", "o0", "o1", "o2", "o3", "pcp_allocs", "mag_objs",
                "mag_KiB", "mag_allocs"], "a header naming the columns", head)
    rows = [[int(x) for x in line.split()] for line in lines[2:2 + n]]
    ok([r[0] for r in rows] == list(range(n)) and all(len(r) == 11 for r in rows),
       f"a row per hart ({n})", out)
    kv = parse_kv(out)
    pages = sum(r[1] + r[2] for r in rows)
    ok(kib(kv.get("pcp_pages", "-1")) == pages and
       sum(sum(r[3 + o] << o for o in range(4)) for r in rows) == pages,
       f"pcp_pages ({pages}) adds up the rows, by zone and by order", out)
    ok(kib(kv.get("magazine_objects", "-1")) == sum(r[8] for r in rows),
       "magazine_objects adds up the rows", out)
    return rows, kv, (tuple(int(x) for x in m.groups()) if m else (0, 0, 0))


def harts_cached(t):
    rows = [line.split() for line in t.cmd("harts").splitlines()]
    ok(rows and rows[0][-1] == "cache_allocs", "harts: a cache_allocs column", rows)
    return [int(r[-1]) for r in rows[1:]]


def views(t):
    rows, kv, (dma_b, nor_b, high) = pcp(t, 2)
    ok(dma_b == 2 and nor_b == 16 and high == 4,
       "128 MiB: DMA takes 2 pages a batch, Normal 16; high 4 batches", (dma_b, nor_b, high))
    zones = [line.split() for line in t.cmd("memstat zones").splitlines()]
    ok(zones[0][4:6] == ["free", "pcp"], "memstat zones: a pcp column after free", zones[0])
    s = parse_kv(t.cmd("memstat"))
    free = sum(int(z[4]) + int(z[5]) for z in zones[1:])
    ok(kib(s["free"]) == free * 4 and sum(int(z[5]) for z in zones[1:]) == kib(kv["pcp_pages"]),
       "free = the zones' free lists + the page lists", (s["free"], zones))
    out = t.cmd("memstat all")
    ok(re.findall(r"^\[(\w+)\]$", out, re.M) == ["zones", "buddy", "pcp", "slab", "heap",
                                                  "counters"],
       "memstat all has a [pcp] section", out)


def lists_and_keeper(t):
    t.cmd("hog 8M")
    t.cmd("hog release")
    rows, kv, (dma_b, nor_b, high) = pcp(t, 2)
    limit = [high * (max(dma_b >> o, 1) + max(nor_b >> o, 1)) for o in range(4)]
    ok(rows[0][1] + rows[0][2] > 0 and all(rows[0][3 + o] <= limit[o] for o in range(4)),
       "after hog's release hart 0's lists hold pages, none above its high mark", rows[0])
    t.cmd("hog leave 0", timeout=60)
    rows, kv, _ = pcp(t, 2)
    ok(kib(kv["pcp_pages"]) == 0, "hog leave 0: the keeper emptied every hart's lists", kv)
    t.cmd("hog release")
    ok(t.cmd("memcheck").strip() == "memcheck: ok", "memcheck clean")


def served(t):
    out = t.cmd("bench small twotier 20002 harts=2", timeout=120)
    ok(re.search(r"^bench small twotier harts=2 ops=40004 .* failures=0$", out, re.M),
       "bench small on both harts", out)
    cached = harts_cached(t)
    rows, _, _ = pcp(t, 2)
    ok(len(cached) == 2 and all(cached[h] == rows[h][7] + rows[h][10] for h in range(2)),
       "harts' cache_allocs = page lists' + magazines' allocations, per hart",
       (cached, rows))
    ok(rows[1][10] >= 10001 and cached[1] >= 10001,
       "hart 1's magazines served its bench's allocations", rows[1])


with Tally(smp=2) as shell:
    shell.boot()
    for fn in (views, lists_and_keeper, served):
        guarded(lambda: fn(shell), fn.__name__)
sys.exit(finish())
