#!/usr/bin/env python3
"""The recorder's cost, side by side with heaptrack: every workload under
glibc, heaptrack (on glibc, as it is used), pooltrace with profiling off,
pooltrace recording every event, and pooltrace sampling every 512 KiB.
The CPython workloads run twice more, recording and sampling without
Python frames (POOLTRACE_PYTHON=0): the cost of the Python frames.

Runs are interleaved; medians of --reps.  Prints a markdown table and
writes it to bench/results/record.md (--quick: build/bench/results-quick/).

Slowdowns are each profiler's own: heaptrack against glibc (the allocator
it runs on), pooltrace against pooltrace with profiling off.  Trace sizes
are the files as written (heaptrack's .zst, our trace).
"""
import argparse
import glob
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PY = "/usr/bin/python3"


def workloads(build, quick):
    scale = "0.08" if quick else "1"
    b = os.path.join(build, "bench")
    w = [
        # a tight loop: one call site, 64 blocks live, sizes 16..512 B
        ("pair-mixed", [f"{b}/pair", "3000000" if quick else "30000000", "mixed"], {}),
        ("churn", [f"{b}/churn"], {"BENCH_SCALE": scale}),
        ("allocfree-random", [f"{b}/allocfree", "random"], {"BENCH_SCALE": scale}),
        ("realloc-growth", [f"{b}/realloc"], {"BENCH_SCALE": scale}),
        ("larson-4", [f"{b}/larson", "4"], {"BENCH_SCALE": scale}),
    ]
    if os.path.exists(PY):
        w.append(("python-churn", [PY, os.path.join(HERE, "py_churn.py"), "0.1" if quick else "0.5"],
                  {"PYTHONMALLOC": "malloc"}))
        w.append(("python-walkthrough", [PY, os.path.join(TOP, "tests", "py_walkthrough.py"),
                                         "200000" if quick else "1000000"],
                  {"PYTHONMALLOC": "malloc"}))
    return w


def run(cmd, env_extra, outdir):
    """Run once; return (wall s, cpu s incl. children, bytes written to outdir)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update(env_extra)
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=outdir, timeout=1800)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    size = sum(os.path.getsize(f) for f in glob.glob(os.path.join(outdir, "*")))
    if p.returncode != 0:
        print(f"record: {' '.join(cmd)} exited {p.returncode}", file=sys.stderr)
        return None
    return wall, cpu, size


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    reps = 1 if args.quick else args.reps
    args.build = os.path.abspath(args.build)
    lib = os.path.join(args.build, "libpooltrace.so")
    heaptrack = shutil.which("heaptrack")
    if not heaptrack:
        print("record: heaptrack not found (make deps installs it): its column is empty",
              file=sys.stderr)
    tmp = tempfile.mkdtemp(prefix="pooltrace-record-")
    out = os.path.join(tmp, "out")
    configs = [
        ("glibc", lambda c: (c, {})),
        ("heaptrack", lambda c: ([heaptrack, "-o", os.path.join(out, "ht")] + c, {})),
        ("off", lambda c: (c, {"LD_PRELOAD": lib})),
        ("full", lambda c: (c, {"LD_PRELOAD": lib, "POOLTRACE_PROFILE": "1",
                                "POOLTRACE_OUTPUT": os.path.join(out, "t.%p")})),
        ("sample-512K", lambda c: (c, {"LD_PRELOAD": lib, "POOLTRACE_PROFILE": "1",
                                       "POOLTRACE_SAMPLE": "524288",
                                       "POOLTRACE_OUTPUT": os.path.join(out, "t.%p")})),
    ]
    if not heaptrack:
        configs = [c for c in configs if c[0] != "heaptrack"]
    native = [  # the same without Python frames, for the CPython workloads
        ("full-native", lambda c: (c, {"LD_PRELOAD": lib, "POOLTRACE_PROFILE": "1",
                                       "POOLTRACE_PYTHON": "0",
                                       "POOLTRACE_OUTPUT": os.path.join(out, "t.%p")})),
        ("sample-native", lambda c: (c, {"LD_PRELOAD": lib, "POOLTRACE_PROFILE": "1",
                                         "POOLTRACE_PYTHON": "0", "POOLTRACE_SAMPLE": "524288",
                                         "POOLTRACE_OUTPUT": os.path.join(out, "t.%p")})),
    ]
    only = set(filter(None, args.only.split(",")))
    rows = []
    for name, cmd, env in workloads(args.build, args.quick):
        if only and name not in only:
            continue
        cfgs = configs + (native if name.startswith("python") else [])
        res = {c: [] for c, _ in cfgs}
        for _ in range(reps):
            for cname, make in cfgs:
                c, e = make(cmd)
                r = run(c, dict(env, **e), out)
                if r:
                    res[cname].append(r)
        med = {c: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v),
                   statistics.median(x[2] for x in v)) if v else None for c, v in res.items()}
        rows.append((name, med))
        print(f"record: {name} done", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)

    def ratio(a, b, k=0):
        return f"{a[k] / b[k]:.2f}" if a and b and b[k] > 0 else "-"

    lines = [
        "| workload | glibc s | heaptrack / glibc | off s | full / off | sample-512K / off "
        "| heaptrack CPU / glibc | full CPU / off | heaptrack file | pooltrace file |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    py = [
        "| workload | full / full-native | sample / sample-native | full file / full-native file "
        "| full file | full-native file |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in rows:
        g, h, o, f, s = (m.get(k) for k in ("glibc", "heaptrack", "off", "full", "sample-512K"))
        lines.append(
            f"| {name} | {g[0]:.2f} | {ratio(h, g)} | {o[0]:.2f} | {ratio(f, o)} | {ratio(s, o)} "
            f"| {ratio(h, g, 1)} | {ratio(f, o, 1)} | {human(h[2]) if h else '-'} "
            f"| {human(f[2]) if f else '-'} |")
        fn, sn = m.get("full-native"), m.get("sample-native")
        if fn:
            py.append(f"| {name} | {ratio(f, fn)} | {ratio(s, sn)} | {ratio(f, fn, 2)} "
                      f"| {human(f[2]) if f else '-'} | {human(fn[2])} |")
    text = ("Recorder overhead (wall time ratios, medians of %d; "
            "`bench/record.py%s`)\n\n" % (reps, " --quick" if args.quick else "")
            + "\n".join(lines) + "\n")
    if len(py) > 2:
        text += ("\nPython frames (CPython workloads, POOLTRACE_PYTHON=1 against 0: wall time "
                 "and trace size ratios)\n\n" + "\n".join(py) + "\n")
    print(text)
    dest = os.path.join(args.build, "bench", "results-quick") if args.quick \
        else os.path.join(HERE, "results")
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, "record.md"), "w") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
