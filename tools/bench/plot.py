#!/usr/bin/env python3
"""plot.py - PNG charts of the benchmark results (make bench-plot).

usage: plot.py HOST_TXT KERNEL_TXT OUTDIR

Reads the machine lines of build/bench/host.txt (make bench-host)
    bench-host WORKLOAD ALLOC [threads=N] ns_per_op=X ... ratio_best=X
               peak_kib=N reps=N ops=N
(a line with threads=N is charted as workload "WORKLOAD-NT") and, when the
file exists, of build/bench/kernel.txt (make bench)
    bench WORKLOAD MODE ops=N instr_per_op=X ticks_per_op=X peak_kib=N
          frag_pct=X failures=N overhead_per_obj=X
(not its `bench WORKLOAD MODE hart=N ...` and `harts=N ...` lines) and
draws, with gnuplot (pngcairo), into OUTDIR:
    host_ns_per_op.png       ns per operation on the traces, workload x
                             allocator (log scale)
    host_peak_kib.png        peak resident KiB, traces and user-style loops,
                             workload x allocator (log scale)
    host_user_ns_per_op.png  ns per operation, user-style loops x allocator
    host_threads_ns_per_op.png  ns per operation (wall clock, all threads),
                             pc and churn at each thread count x allocator
    host_twotier_vs_best.png TwoTier's time / the fastest C library's, every
                             workload and thread count (1 = as fast)
    kernel_instr_per_op.png  instructions per operation, workload x mode
    kernel_memory.png        fragmentation % and overhead per object by mode
Each bar is labelled with its value. A missing file or field is skipped,
not an error; no host lines at all is an error. Not a benchmark itself.
"""
import os
import subprocess
import sys
import tempfile

WORKLOADS = ["small", "mixed", "large", "frag"]
USER = ["user64", "usermix", "user8k"]
THREADED = ["pc", "churn"]
# Series order, so a name has the same colour in every chart.
NAMES = ["twotier", "simple", "hybrid", "glibc", "jemalloc", "mimalloc"]
GAP = 1  # bar slots between clusters


def read_lines(path, tag):
    """{(workload, name): {field: value}} for lines starting with tag."""
    rows = {}
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 4 or parts[0] != tag or parts[3].startswith(("hart=", "harts=")):
                continue   # bench ... harts=N lines are not charted
            fields = {}
            for p in parts[3:]:
                k, _, v = p.partition("=")
                try:
                    fields[k] = float(v)
                except ValueError:
                    pass
            w = parts[1]
            if "threads" in fields:
                w = f"{w}-{int(fields['threads'])}T"
            rows[(w, parts[2])] = fields
    return rows


def threaded_workloads(rows):
    """The 'pc-1T'-style workloads of rows, in THREADED order, then by
    thread count."""
    wls = {k[0] for k in rows if k[0].rpartition("-")[0] in THREADED}
    return sorted(wls, key=lambda w: (THREADED.index(w.rpartition("-")[0]),
                                      int(w.rpartition("-")[2][:-1])))


def series(rows):
    """Workloads and series names in first-seen order (workloads in the
    canonical order first)."""
    wls = [w for w in WORKLOADS if any(k[0] == w for k in rows)]
    wls += [k[0] for k in rows if k[0] not in wls]
    names = [n for n in NAMES if any(k[1] == n for k in rows)]
    for k in rows:
        if k[1] not in names:
            names.append(k[1])
    return list(dict.fromkeys(wls)), names


def fmt(v):
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def histogram(tmp, out, rows, field, title, ylabel, log, wls=None,
              only=None, one_line=False):
    """One clustered bar chart of rows[(w, name)][field], for the workloads
    wls (default all) and the series only (default all); one_line draws a
    line at y = 1. Returns the gnuplot commands, or "" when there is
    nothing to draw."""
    all_wls, names = series(rows)
    wls = [w for w in (wls or all_wls) if w in all_wls]
    names = [n for n in names if any(field in rows.get((w, n), {}) for w in wls)
             and (only is None or n in only)]
    if not wls or not names:
        return ""
    dat = os.path.join(tmp, os.path.basename(out) + ".dat")
    lab = dat + ".labels"
    n = len(names)
    with open(dat, "w") as d, open(lab, "w") as lf:
        d.write("workload " + " ".join(names) + "\n")
        for r, w in enumerate(wls):
            vals = []
            for i, name in enumerate(names):
                v = rows.get((w, name), {}).get(field)
                vals.append("NaN" if v is None else repr(v))
                if v is not None and (v > 0 or not log):
                    x = r + (i - (n - 1) / 2.0) / (n + GAP)
                    lf.write(f"{x} {v} \"{fmt(v)}\"\n")
            d.write(w + " " + " ".join(vals) + "\n")
    cmds = [
        f"set output '{out}'",
        f"set title '{title}'",
        f"set ylabel '{ylabel}'",
        "set logscale y" if log else "unset logscale y",
        "set yrange [*:*]" if log else "set yrange [0:*]",
        "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead "
        "dashtype 2 lw 2" if one_line else "unset arrow 1",
        "set format y '%.1f'" if one_line else "set format y '%.0f'",
        "set xtics rotate by -30" if len(wls) > 9 else "set xtics norotate",
        f"plot for [i=2:{n + 1}] '{dat}' using i:xtic(1) title columnheader(i), \\",
        f"     '{lab}' using 1:2:3 with labels rotate by 90 left offset 0,0.4 "
        "font ',8' notitle",
    ]
    return "\n".join(cmds) + "\n"


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    host, kernel, outdir = argv[1:]
    hrows = read_lines(host, "bench-host")
    krows = read_lines(kernel, "bench")
    if not hrows:
        sys.stderr.write(f"plot.py: no 'bench-host' lines in {host} "
                         "(run make bench-host first)\n")
        return 1
    os.makedirs(outdir, exist_ok=True)
    pre = "\n".join([
        "set terminal pngcairo size 1000,560 enhanced font 'DejaVu Sans,11'",
        "set style data histograms",
        f"set style histogram clustered gap {GAP}",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.95",
        "set key outside right top vertical",
        "set grid ytics",
        "set format y '%.0f'",
        "set xtics nomirror",
        "set offsets 0, 0, graph 0.12, 0",
    ]) + "\n"
    script = pre
    made = []
    thr = threaded_workloads(hrows)
    # rows, field, file, title, y label, log scale, workloads, series, line at 1
    charts = [
        (hrows, "ns_per_op", "host_ns_per_op.png",
         "Host: median ns per operation on the traces (lower is better)",
         "ns / op (log)", True, WORKLOADS, None, False),
        (hrows, "peak_kib", "host_peak_kib.png",
         "Host: peak resident memory during the trace or loop", "KiB (log)",
         True, WORKLOADS + USER, None, False),
        (hrows, "ns_per_op", "host_user_ns_per_op.png",
         "Host, user-style loops (fresh process each): median ns per operation",
         "ns / op", False, USER, None, False),
        (hrows, "ns_per_op", "host_threads_ns_per_op.png",
         "Host, threaded: median wall-clock ns per operation of all threads (2 cores)",
         "ns / op", False, thr, None, False),
        (hrows, "ratio_best", "host_twotier_vs_best.png",
         "Host: TwoTier / fastest of glibc, jemalloc, mimalloc (same run; < 1: faster)",
         "ratio", False, WORKLOADS + USER + thr, ["twotier"], True),
        (krows, "instr_per_op", "kernel_instr_per_op.png",
         "Kernel (QEMU -icount shift=0): instructions per operation",
         "instructions / op (log)", True, None, None, False),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for rows, field, name, title, ylabel, log, wls, only, one in charts:
            cmds = histogram(tmp, os.path.join(outdir, name), rows, field,
                             title, ylabel, log, wls, only, one)
            if cmds:
                script += cmds
                made.append(name)
        mem = os.path.join(outdir, "kernel_memory.png")
        frag = histogram(tmp, mem + ".frag", krows, "frag_pct",
                         "Kernel: fragmentation after the run", "%", False)
        ovh = histogram(tmp, mem + ".ovh", krows, "overhead_per_obj",
                        "Kernel: metadata overhead per live object",
                        "bytes (log)", True)
        if frag and ovh:
            strip = lambda c: "\n".join(l for l in c.splitlines()
                                       if not l.startswith("set output"))
            script += (f"set terminal pngcairo size 1000,900 enhanced "
                       f"font 'DejaVu Sans,11'\nset output '{mem}'\n"
                       "set multiplot layout 2,1\n" + strip(frag) + "\n" +
                       strip(ovh) + "\nunset multiplot\n")
            made.append("kernel_memory.png")
        gp = os.path.join(tmp, "bench.gp")
        with open(gp, "w") as f:
            f.write(script)
        proc = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
        if proc.returncode:
            sys.stderr.write(proc.stderr)
            return 1
    for name in made:
        print(f"plot.py: wrote {os.path.join(outdir, name)}")
    if not krows:
        print(f"plot.py: no kernel results ({kernel} missing or empty): "
              "kernel charts skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
