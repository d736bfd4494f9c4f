#!/bin/sh
# demo.sh BUILD_DIR - the built-in demo (make demo): a Python program that
# churns dicts, tuples, strings and lists runs three ways, and pooltrace's
# statistics show where its small objects went; then the Python memory
# walk-through (tests/py_walkthrough.py, 1 million ints) runs under the
# profiler, and its reports are printed, with the Python lines that
# allocated: report (with the timeline), leaks, the Python objects by type,
# frag, and an HTML page.
set -eu
B=${1:-build}
LIB=$(cd "$B" && pwd)/libpooltrace.so
PY=/usr/bin/python3
SCRIPT=$(mktemp --suffix=.py)
TRACES=$(mktemp -d)
trap 'rm -rf "$SCRIPT" "$TRACES"' EXIT
cat > "$SCRIPT" <<'PYEOF'
import time
t = time.perf_counter()
live = []
for round in range(6):
    objs = [{"id": i, "name": "item%d" % i, "pair": (i, -i), "tags": [i % 7, i % 11]}
            for i in range(120000)]
    live.append(objs[::50])        # keep 2% of every round alive
    del objs
print("demo: %d objects kept, %.2f s" % (sum(len(x) for x in live), time.perf_counter() - t))
PYEOF

echo "== python3, glibc malloc (PYTHONMALLOC=malloc, no preload)"
PYTHONMALLOC=malloc $PY "$SCRIPT"
echo "== python3, Python's own pymalloc"
$PY "$SCRIPT"
echo "== python3, pooltrace (LD_PRELOAD=$LIB PYTHONMALLOC=malloc POOLTRACE_STATS=1)"
LD_PRELOAD="$LIB" PYTHONMALLOC=malloc POOLTRACE_STATS=1 $PY "$SCRIPT"
HERE=$(cd "$(dirname "$0")" && pwd)
echo "== the Python walk-through under the profiler (run sets PYTHONMALLOC=malloc):"
echo "   pooltrace run -- python3 tests/py_walkthrough.py 1000000"
"$B/pooltrace" run -o "$TRACES/walk.trace" -- $PY "$HERE/py_walkthrough.py" 1000000
echo "trace size: $(wc -c < "$TRACES/walk.trace") bytes"
echo "== pooltrace report --top 3 --frames 4"
"$B/pooltrace" report --top 3 --frames 4 "$TRACES/walk.trace"
echo "== pooltrace leaks --top 3 --frames 4"
"$B/pooltrace" leaks --top 3 --frames 4 "$TRACES/walk.trace"
echo "== pooltrace leaks --by type --top 3 --frames 3: the Python objects the program left"
"$B/pooltrace" leaks --by type --top 3 --frames 3 "$TRACES/walk.trace"
echo "== pooltrace frag --top 5 --frames 4"
"$B/pooltrace" frag --top 5 --frames 4 "$TRACES/walk.trace"
mkdir -p "$B/demo"
"$B/pooltrace" html -o "$B/demo/walkthrough.html" "$TRACES/walk.trace"
echo "== the HTML report (timeline, flame graphs, tables): $B/demo/walkthrough.html"
