#!/bin/sh
# test_mesh.sh BUILD_DIR - POOLTRACE_MESH=1 under LD_PRELOAD:
#  - the scatter workload (90% of small blocks freed at random): the
#    survivors read back the same as under glibc, and malloc_trim's rounds
#    give back at least a third of the Pss (with meshing off, about none);
#    the stats line counts the meshes;
#  - where the memory file cannot be had (no region: a tight RLIMIT_AS at
#    start), one warning line, and the program runs as without meshing;
#  - a bad value: one warning, the default;
#  - a program's own SIGSEGV handling (tests/mesh_signal.c): the same
#    output as without the library, and killed by SIGSEGV as without it;
#  - a trace of a meshed Python heap: frag (text and JSON) counts the
#    meshed pools of the exit snapshot;
#  - the threaded stress program with forks, each thread meshing its pools
#    (malloc_trim) while the others write and free: every check holds;
#  - threads that write to the heap with SIGSEGV blocked while others fork
#    (tests/mesh_blocked.c: glibc's exiting threads, a worker that blocks
#    every signal) are not killed.
# The real programs, the fork and the stress tests run again with meshing on
# from the Makefile (check-mesh).
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"

field() {   # NAME FILE: the value of NAME= on the result line
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2"
}

if [ -x "$B/bench/scatter" ]; then
	BENCH_SCALE=0.25 "$B/bench/scatter" > "$TMP/glibc.out"
	for m in 0 1; do
		BENCH_SCALE=0.25 LD_PRELOAD="$LIB" POOLTRACE_MESH=$m POOLTRACE_STATS=1 \
			"$B/bench/scatter" > "$TMP/m$m.out" 2> "$TMP/m$m.err"
	done
	want=$(sed 's/.*checksum=\([0-9a-f]*\).*/\1/' "$TMP/glibc.out")
	freed=$(field pss_freed_kib "$TMP/m1.out")
	trim=$(field pss_trim_kib "$TMP/m1.out")
	off_freed=$(field pss_freed_kib "$TMP/m0.out")
	off_trim=$(field pss_trim_kib "$TMP/m0.out")
	meshes=$(sed -n 's/^# meshing: .* \([0-9]*\) meshed (.*/\1/p' "$TMP/m1.err")
	cat "$TMP/m0.out" "$TMP/m1.out" "$TMP/m1.err" > "$TMP/all"
	if ! grep -q "checksum=$want" "$TMP/m1.out" || ! grep -q "checksum=$want" "$TMP/m0.out"; then
		fail "scatter with meshing: the survivors changed" "$TMP/all"
	elif [ -z "$freed" ] || [ -z "$trim" ] || [ $((trim * 3)) -gt $((freed * 2)) ]; then
		fail "scatter with meshing: Pss $freed KiB after the frees, $trim after malloc_trim" "$TMP/all"
	elif [ $((off_trim * 10)) -lt $((off_freed * 9)) ]; then
		fail "scatter without meshing gave back memory: is the check blind?" "$TMP/all"
	elif [ -z "$meshes" ] || [ "$meshes" -lt 1000 ]; then
		fail "scatter with meshing: the stats count ${meshes:-no} meshes" "$TMP/all"
	else
		pass "scatter with meshing: Pss $freed -> $trim KiB at malloc_trim ($meshes pools meshed; without: $off_freed -> $off_trim)"
	fi
else
	skip "scatter with meshing" "$B/bench/scatter not built"
fi

# no region to back: RLIMIT_AS below it at start
(ulimit -v 1500000 && LD_PRELOAD="$LIB" POOLTRACE_MESH=1 sh -c 'echo fine') \
	> "$TMP/as.out" 2> "$TMP/as.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$TMP/as.out")" = fine ] && [ "$(wc -l < "$TMP/as.err")" -eq 1 ] &&
   grep -q 'POOLTRACE_MESH=1: .*meshing is off' "$TMP/as.err"; then
	pass "no memory file to be had: one line ($(cut -c1-60 "$TMP/as.err")...), the program runs"
else
	cat "$TMP/as.out" "$TMP/as.err" > "$TMP/all"
	fail "no memory file to be had (exit $rc)" "$TMP/all"
fi

LD_PRELOAD="$LIB" POOLTRACE_MESH=yes sh -c 'echo fine' > "$TMP/bad.out" 2> "$TMP/bad.err"
if [ "$(cat "$TMP/bad.out")" = fine ] && [ "$(wc -l < "$TMP/bad.err")" -eq 1 ] &&
   grep -q 'POOLTRACE_MESH' "$TMP/bad.err"; then
	pass "POOLTRACE_MESH=yes: $(cat "$TMP/bad.err")"
else
	cat "$TMP/bad.out" "$TMP/bad.err" > "$TMP/all"
	fail "POOLTRACE_MESH=yes" "$TMP/all"
fi
# the program's SIGSEGV handler and disposition, the library's in front
M=$B/tests/mesh_signal
"$M" > "$TMP/sig0.out" 2>&1
LD_PRELOAD="$LIB" POOLTRACE_MESH=1 "$M" > "$TMP/sig1.out" 2>&1
"$M" die > /dev/null 2>&1
die0=$?
LD_PRELOAD="$LIB" POOLTRACE_MESH=1 "$M" die > /dev/null 2>&1
die1=$?
if cmp -s "$TMP/sig0.out" "$TMP/sig1.out" && grep -q 'faults caught: 3, .*yes' "$TMP/sig1.out" &&
   [ $die0 -eq 139 ] && [ $die1 -eq 139 ]; then
	pass "the program's SIGSEGV handler gets its faults, sigaction and signal answer as without us, default kills (exit $die1)"
else
	diff "$TMP/sig0.out" "$TMP/sig1.out" > "$TMP/d"
	echo "die: $die0 plain, $die1 preloaded" >> "$TMP/d"
	fail "the program's SIGSEGV handling changed" "$TMP/d"
fi
# rounds while other threads write, with forks (tests/stress.c checks every block)
LD_PRELOAD="$LIB" POOLTRACE_MESH=1 POOLTRACE_STATS=1 "$B/tests/stress" -t 8 -n 200000 -s 7 \
	-f 10 -m 2000 > "$TMP/st.out" 2> "$TMP/st.err"
rc=$?
sm=$(sed -n 's/^# meshing: .* \([0-9]*\) meshed (.*/\1/p' "$TMP/st.err" | sort -n | tail -1)
if [ $rc -eq 0 ] && grep -q ': ok$' "$TMP/st.out" && [ "${sm:-0}" -gt 50 ]; then
	pass "stress, 8 threads meshing while the others write, 10 forks: ok, $sm pools meshed"
else
	cat "$TMP/st.out" "$TMP/st.err" > "$TMP/all"
	fail "stress with meshing (exit $rc, ${sm:-no} pools meshed)" "$TMP/all"
fi

# writers with SIGSEGV blocked while the heap is protected for forks
blocked() {   # MODE ROUNDS WHAT
	LD_PRELOAD="$LIB" POOLTRACE_MESH=1 "$B/tests/mesh_blocked" $1 $2 > "$TMP/bl.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^ok$' "$TMP/bl.out"; then
		pass "$3 while others fork: not killed"
	else
		echo "exit $rc" >> "$TMP/bl.out"
		fail "mesh_blocked $1: $3 while others fork" "$TMP/bl.out"
	fi
}
blocked exit 40 "threads exiting (glibc frees their TLS with every signal blocked)"
blocked worker 4 "a worker that blocks every signal and allocates"

# the trace's snapshots and frag
PY=/usr/bin/python3
if [ -x $PY ]; then
	cat > "$TMP/m.py" <<'PYEOF'
import ctypes, os, random
objs = [("k%07d" % i + "x" * (i % 24), i) for i in range(200000)]
r = random.Random(3)
for i in range(len(objs)):
    if r.random() < 0.9:
        objs[i] = None
ctypes.CDLL(None).malloc_trim(0)
os._exit(0)
PYEOF
	PYTHONMALLOC=malloc POOLTRACE_MESH=1 "$B/pooltrace" run -o "$TMP/m.trace" $PY "$TMP/m.py" \
		> /dev/null 2>&1
	"$B/pooltrace" frag "$TMP/m.trace" > "$TMP/frag.txt" 2>&1
	"$B/pooltrace" frag --json "$TMP/m.trace" > "$TMP/frag.json" 2> /dev/null
	jm=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["at_end"]["meshed"])' \
		"$TMP/frag.json" 2> /dev/null)
	line=$(grep 'meshed (POOLTRACE_MESH)' "$TMP/frag.txt")
	if [ -n "$line" ] && [ "${jm:-0}" -gt 4096000 ]; then
		pass "frag of a meshed Python heap$(echo "$line" | sed 's/ that show.*//; s/^ *meshed (POOLTRACE_MESH)//'), JSON meshed=$jm"
	else
		fail "frag of a meshed Python heap (JSON meshed=${jm:-none})" "$TMP/frag.txt"
	fi
else
	skip "frag of a meshed Python heap" "$PY missing"
fi
summary
