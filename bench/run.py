#!/usr/bin/env python3
"""bench/run.py - run every workload under every allocator, interleaved, and
report medians and ratios.

    python3 bench/run.py [--quick] [--reps N] [--only NAME,...] [--out DIR]

Allocators: glibc (no preload), jemalloc, mimalloc, tcmalloc (Debian's
packages; a missing one is reported and skipped) and pooltrace (profiling off);
on the scatter rows also pooltrace+mesh (POOLTRACE_MESH=1), and on the Python
rows CPython's own pymalloc.
Each repetition runs every workload once under every allocator, in the same
order (A B C D E, A B C D E, ...), so that slow phases of a shared machine hit
all of them.  Wall time and peak RSS are measured from outside (wait4); every
workload prints a checksum, and a run whose checksum differs from glibc's is
reported as BROKEN.  No threshold is asserted: these are measurements.

Writes DIR/results.md, DIR/results.csv and DIR/results.svg (default
bench/results/ for a full run, build/bench/results-quick/ for --quick, so a
quick pass never replaces the committed full results).
"""
import argparse
import csv
import glob
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
LIBDIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"]
PY = "/usr/bin/python3"


def find_lib(names):
    for d in LIBDIRS:
        for n in names:
            hits = sorted(glob.glob(os.path.join(d, n)))
            if hits:
                return hits[0]
    return None


def allocators(build):
    found = [("glibc", None)]
    for name, pats in [("jemalloc", ["libjemalloc.so.2"]),
                       ("mimalloc", ["libmimalloc.so.2", "libmimalloc.so.2.*"]),
                       ("tcmalloc", ["libtcmalloc_minimal.so.4", "libtcmalloc.so.4"])]:
        path = find_lib(pats)
        if path:
            found.append((name, path))
        else:
            print(f"bench: {name} not found (make deps installs it): skipped", file=sys.stderr)
    ours = os.path.join(build, "libpooltrace.so")
    if not os.path.exists(ours):
        sys.exit(f"bench: {ours} missing: run make first")
    found.append(("pooltrace", ours))
    return found


def workloads(build, quick):
    scale = "0.08" if quick else "1"
    b = os.path.join(build, "bench")
    w = [
        ("churn", [f"{b}/churn"], {}, "small"),
        ("allocfree-order", [f"{b}/allocfree", "order"], {}, "small"),
        ("allocfree-random", [f"{b}/allocfree", "random"], {}, "small"),
        ("realloc-growth", [f"{b}/realloc"], {}, "small"),
        ("cxx-objects", [f"{b}/cxx_objects"], {}, "small"),
        ("prodcons-1x1", [f"{b}/prodcons", "1"], {}, "threads"),
        ("prodcons-2x2", [f"{b}/prodcons", "2"], {}, "threads"),
        ("larson-4", [f"{b}/larson", "4"], {}, "threads"),
        ("threadchurn-4", [f"{b}/threadchurn", "4"], {}, "threads"),
        ("mixed-4", [f"{b}/mixed", "4", "1000"], {}, "threads"),
        ("mixed-4-16k", [f"{b}/mixed", "4", "16384"], {}, "threads"),
        ("frag", [f"{b}/frag"], {}, "memory"),
        ("scatter", [f"{b}/scatter"], {}, "memory"),
        ("forks", [f"{b}/forks"], {}, "memory"),
    ]
    w = [(n, c, dict(e, BENCH_SCALE=scale), k) for n, c, e, k in w]
    if os.path.exists(PY):
        w.append(("python-churn", [PY, os.path.join(HERE, "py_churn.py"), "0.1" if quick else "1"],
                  {"PYTHONMALLOC": "malloc"}, "python"))
        w.append(("python-scatter", [PY, os.path.join(HERE, "py_scatter.py"), "0.1" if quick else "1"],
                  {"PYTHONMALLOC": "malloc"}, "python"))
        w.append(("python-gc", [PY, os.path.join(HERE, "py_gc.py"), "0.1" if quick else "1"],
                  {"PYTHONMALLOC": "malloc"}, "python"))
    return w


# rows that also run pooltrace with meshing on (issue 18's workloads)
MESH_ROWS = {"scatter", "python-scatter", "forks"}


def extra_sets(wname, kind, python_pymalloc, ours):
    """(name, preload, extra env) run on this row besides the allocators."""
    e = []
    if wname in MESH_ROWS:
        e.append(("pooltrace+mesh", ours, {"POOLTRACE_MESH": "1"}))
    if kind == "python" and python_pymalloc:
        e.append(("pymalloc", None, {}))
    return e


def run_measured(build, cmd, env_extra, preload, timeout=600):
    """Run cmd through bench/measure (see measure.c for why); return
    (status, wall s, cpu s, peak RSS KiB, stdout)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update(env_extra)
    with tempfile.NamedTemporaryFile("r") as rep:
        p = subprocess.run([os.path.join(build, "bench", "measure"), rep.name, preload or "-"] + cmd,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=timeout)
        fields = rep.read().split()
    if p.returncode != 0 or len(fields) != 4:
        return 255, 0.0, 0.0, 0, ""
    return (int(fields[0]), float(fields[1]), float(fields[2]), int(fields[3]),
            p.stdout.decode(errors="replace"))


def parse_result(text):
    m = re.search(r"^result: (.*)$", text, re.M)
    if not m:
        return None, {}
    fields = dict(kv.split("=", 1) for kv in m.group(1).split())
    return fields.get("checksum"), fields


# ---- redis ------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_redis(build, preload, requests):
    """redis-server on loopback under preload (through bench/measure), driven
    by redis-benchmark.  Returns (ok, server CPU s, peak RSS KiB, requests/s
    summed over the tests)."""
    port = free_port()
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    rep = tempfile.NamedTemporaryFile("r")
    srv = subprocess.Popen([os.path.join(build, "bench", "measure"), rep.name, preload or "-",
                            "redis-server", "--port", str(port), "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no", "--daemonize", "no"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    r = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(requests), "-q",
                        "-t", "set,get,lpush,lpop,sadd,hset,lrange_100", "-d", "64"],
                       capture_output=True, text=True, timeout=600)
    rps = sum(float(x) for x in re.findall(r"([0-9.]+) requests per second", r.stdout))
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
    srv.wait()
    fields = rep.read().split()
    rep.close()
    if srv.returncode != 0 or len(fields) != 4:
        return False, 0.0, 0, rps
    ok = r.returncode == 0 and rps > 0 and fields[0] == "0"
    return ok, float(fields[2]), int(fields[3]), rps


# ---- callgrind ----------------------------------------------------------------

def callgrind_ir(cmd, preload):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                       env=env, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    return int(m.group(1)) if m else None


def instructions_per_pair(build, preload, mixed=False):
    """malloc(64)+free, loop overhead subtracted; or, mixed, one iteration
    of the mixed-size loop (free the oldest of 64 live blocks, allocate
    16..512 B), loop included."""
    pair = os.path.join(build, "bench", "pair")
    n = 200000
    extra = ["mixed"] if mixed else []
    a = callgrind_ir([pair, str(n)] + extra, preload)
    b = callgrind_ir([pair, str(2 * n)] + extra, preload)
    if mixed:
        return None if None in (a, b) else (b - a) / n
    c, d = callgrind_ir([pair, str(n), "noop"], preload), callgrind_ir([pair, str(2 * n), "noop"], preload)
    if None in (a, b, c, d):
        return None
    return ((b - a) - (d - c)) / n


# ---- report -----------------------------------------------------------------

def fmt_rss(kib):
    return f"{kib / 1024:.1f} MiB"


def svg_plot(rows, names, path):
    """Grouped bars: time ratio to glibc per workload and allocator."""
    colors = {"glibc": "#888888", "jemalloc": "#4e79a7", "mimalloc": "#59a14f",
              "tcmalloc": "#f28e2b", "pooltrace": "#e15759", "pymalloc": "#b07aa1",
              "pooltrace+mesh": "#ff9da7"}
    wl = [r for r in rows if r["ratios"]]
    bar, gap, left, top, h = 14, 22, 150, 40, 300
    group = bar * len(names) + gap
    width = left + group * len(wl) + 40
    maxr = max([2.0] + [min(v, 3.0) for r in wl for v in r["ratios"].values() if v])
    y = lambda v: top + h - h * min(v, 3.0) / maxr
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + h + 120}" '
           'font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="20" font-size="14">wall time relative to glibc (lower is '
           'faster; median of the runs)</text>']
    for t in [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]:
        if t <= maxr:
            out.append(f'<line x1="{left - 5}" x2="{width - 20}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                       f'stroke="{"#000" if t == 1 else "#ddd"}"/>')
            out.append(f'<text x="{left - 10}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.1f}x</text>')
    for i, r in enumerate(wl):
        x0 = left + i * group
        for j, n in enumerate(names):
            v = r["ratios"].get(n)
            if v is None:
                continue
            out.append(f'<rect x="{x0 + j * bar}" y="{y(v):.1f}" width="{bar - 2}" '
                       f'height="{top + h - y(v):.1f}" fill="{colors.get(n, "#333")}">'
                       f'<title>{r["name"]} {n}: {v:.2f}x</title></rect>')
        out.append(f'<text transform="translate({x0 + group / 2 - 8},{top + h + 10}) rotate(40)" '
                   f'>{r["name"]}</text>')
    for j, n in enumerate(names):
        out.append(f'<rect x="{left + j * 90}" y="{top + h + 95}" width="10" height="10" '
                   f'fill="{colors.get(n, "#333")}"/><text x="{left + j * 90 + 14}" '
                   f'y="{top + h + 104}">{n}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="about one minute: smaller workloads, 5 runs")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--out", default=None,
                    help="default: bench/results (full runs), BUILD/bench/results-quick (--quick)")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-redis", action="store_true")
    args = ap.parse_args()
    if args.out is None:
        args.out = (os.path.join(args.build, "bench", "results-quick") if args.quick
                    else os.path.join(HERE, "results"))
    if args.reps < 1:
        print("bench: --reps must be at least 1; using 5", file=sys.stderr)
        args.reps = 5

    allocs = allocators(args.build)
    names = [a for a, _ in allocs]
    wls = workloads(args.build, args.quick)
    only = set(filter(None, args.only.split(",")))
    if only:
        wls = [w for w in wls if w[0] in only]
    runs = {}   # (workload, allocator) -> list of (wall, cpu, rss, fields)
    broken = set()
    python_pymalloc = any(w[0] == "python-churn" for w in wls)

    print(f"bench: {len(wls)} workloads x {len(allocs)} allocators x {args.reps} runs, interleaved",
          file=sys.stderr)
    for rep in range(args.reps):
        for wname, cmd, env, kind in wls:
            sets = [(a, lib, {}) for a, lib in allocs] + \
                extra_sets(wname, kind, python_pymalloc, allocs[-1][1])
            ref = None
            for aname, lib, more in sets:
                e = dict(env, **more)
                if aname == "pymalloc":
                    e.pop("PYTHONMALLOC", None)
                code, wall, cpu, rss, text = run_measured(args.build, cmd, e, lib)
                csum, fields = parse_result(text)
                if aname == "glibc":
                    ref = csum
                if code != 0 or csum is None or (ref and csum != ref):
                    broken.add((wname, aname))
                runs.setdefault((wname, aname), []).append((wall, cpu, rss, fields))
            print(f"  run {rep + 1}/{args.reps} {wname} done", file=sys.stderr)

    redis_rows = {}
    if not args.no_redis and shutil.which("redis-server") and shutil.which("redis-benchmark"):
        n = 10000 if args.quick else 100000
        for rep in range(args.reps):
            for aname, lib in allocs:
                ok, cpu, rss, rps = run_redis(args.build, lib, n)
                if not ok:
                    broken.add(("redis", aname))
                redis_rows.setdefault(aname, []).append((cpu, rss, rps))
        print("  redis done", file=sys.stderr)

    ipp, ipm = {}, {}
    if not args.no_callgrind and shutil.which("valgrind"):
        for aname, lib in allocs:
            ipp[aname] = instructions_per_pair(args.build, lib)
            ipm[aname] = instructions_per_pair(args.build, lib, mixed=True)
        print("  callgrind done", file=sys.stderr)

    # ---- tables ----
    peers = [n for n in names if n not in ("glibc", "pooltrace")]
    rows = []
    for wname, cmd, env, kind in wls:
        sets = names + [x[0] for x in extra_sets(wname, kind, python_pymalloc, None)]
        med = {a: statistics.median(r[0] for r in runs[(wname, a)]) for a in sets}
        row = {"name": wname, "kind": kind, "ratios": {}, "lines": []}
        best_peer = min((med[p] for p in peers), default=None)
        for a in sets:
            rs = runs[(wname, a)]
            walls = [r[0] for r in rs]
            rss = statistics.median(r[2] for r in rs)
            ratio = med[a] / med["glibc"]
            row["ratios"][a] = ratio
            vs_best = med[a] / best_peer if best_peer else None
            extra = ""
            fields = rs[-1][3]
            if kind in ("memory", "python") and fields:
                extra = " ".join([f"{k[:-4]}={int(v) / 1024:.0f}M" for k, v in fields.items()
                                  if k.endswith("_kib")] +
                                 [f"{k[:-3]}={float(v):.1f}ms" for k, v in fields.items()
                                  if k.endswith("_ms")])
            row["lines"].append([wname, a, f"{med[a]:.3f}", f"{min(walls):.3f}-{max(walls):.3f}",
                                 fmt_rss(rss), f"{ratio:.2f}", f"{vs_best:.2f}" if vs_best else "-",
                                 f"{rss / statistics.median(r[2] for r in runs[(wname, 'glibc')]):.2f}",
                                 "BROKEN" if (wname, a) in broken else extra])
        rows.append(row)
    if redis_rows:
        med = {a: statistics.median(r[0] for r in redis_rows[a]) for a in redis_rows}
        best_peer = min((med[p] for p in peers if p in med), default=None)
        row = {"name": "redis (server CPU)", "kind": "redis", "ratios": {}, "lines": []}
        for a in names:
            rs = redis_rows[a]
            cpus = [r[0] for r in rs]
            rss = statistics.median(r[1] for r in rs)
            rps = statistics.median(r[2] for r in rs)
            row["ratios"][a] = med[a] / med["glibc"]
            row["lines"].append(["redis", a, f"{med[a]:.3f}", f"{min(cpus):.3f}-{max(cpus):.3f}",
                                 fmt_rss(rss), f"{med[a] / med['glibc']:.2f}",
                                 f"{med[a] / best_peer:.2f}" if best_peer else "-",
                                 f"{rss / statistics.median(r[1] for r in redis_rows['glibc']):.2f}",
                                 "BROKEN" if ("redis", a) in broken else f"{rps:.0f} req/s (sum)"])
        rows.append(row)

    header = ["workload", "allocator", "median s", "min-max s", "peak RSS", "time/glibc",
              "time/best peer", "RSS/glibc", "notes"]
    os.makedirs(args.out, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    md = [f"# pooltrace benchmark ({'quick' if args.quick else 'full'}, {args.reps} interleaved runs, "
          f"{stamp}, {os.cpu_count()} CPUs)", "",
          "time/best peer compares with the fastest of jemalloc, mimalloc and tcmalloc on that row. "
          "redis rows are server CPU seconds for a fixed request count.", "",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        for line in r["lines"]:
            md.append("| " + " | ".join(line) + " |")
    if ipp:
        md += ["", "Instructions (callgrind, calls through the PLT included): per malloc(64)+free "
               "pair with the loop's overhead subtracted, and per iteration of the mixed-size "
               "loop (`bench/pair N mixed`: free the oldest of 64 live blocks, allocate 16..512 B) "
               "with the loop included (the loop alone is 18):", "",
               "| allocator | malloc(64)+free | mixed-size iteration |", "|---|---|---|"]
        def fmt(v):
            return f"{v:.1f}" if v is not None else "n/a"
        for a in names:
            md.append(f"| {a} | {fmt(ipp.get(a))} | {fmt(ipm.get(a))} |")
    text = "\n".join(md) + "\n"
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(header)
        for r in rows:
            wr.writerows(r["lines"])
        for a in names:
            if ipp.get(a) is not None:
                wr.writerow(["instructions-per-pair", a, f"{ipp[a]:.1f}", "", "", "", "", "", ""])
            if ipm.get(a) is not None:
                wr.writerow(["instructions-per-mixed-iteration", a, f"{ipm[a]:.1f}", "", "", "", "", "", ""])
    svg_plot(rows, names + (["pooltrace+mesh"] if any(w[0] in MESH_ROWS for w in wls) else []) +
             (["pymalloc"] if python_pymalloc else []),
             os.path.join(args.out, "results.svg"))
    print(text)
    print(f"bench: wrote {args.out}/results.md, results.csv, results.svg", file=sys.stderr)
    if broken:
        print("bench: BROKEN runs (wrong checksum or exit status): " +
              ", ".join(f"{w}/{a}" for w, a in sorted(broken)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
