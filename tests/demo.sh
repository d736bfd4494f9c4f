#!/bin/sh
# demo.sh BUILD_DIR - the built-in demo (make demo): a Python program that
# churns dicts, tuples, strings and lists runs three ways, and pooltrace's
# statistics show where its small objects went; then it runs under the
# profiler (pooltrace run) and the trace's summary is printed.
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
echo "== python3 under the profiler (pooltrace run -- python3 ...), then pooltrace dump --summary"
PYTHONMALLOC=malloc "$B/pooltrace" run -o "$TRACES/demo.%p.trace" -- $PY "$SCRIPT"
for t in "$TRACES"/demo.*.trace; do
	"$B/pooltrace" dump --summary "$t"
	echo "trace size: $(wc -c < "$t") bytes"
done
