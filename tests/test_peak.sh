#!/bin/sh
# test_peak.sh BUILD - the one peak of the live heap: every command that
# gives it (report, frag, run's summary, html, export) gives the same bytes
# at the same time, and the timelines show it, on the known answers of
# tests/peak_prog.c: a spike of 200,000 B over 40,000 B between two
# snapshots, and a run so short that its peak comes well under a
# millisecond after the start.  The checks: tests/peak_check.py.
set -u
B=${1:-build}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
PT=$B/pooltrace
PROG=$B/tests/peak_prog

# record NAME INTERVAL_MS ARG: peak_prog ARG into $TMP/NAME.trace, run's
# standard error into $TMP/NAME.run
record() {
	if POOLTRACE_INTERVAL_MS=$2 "$PT" run -o "$TMP/$1.trace" -- "$PROG" "$3" \
	   > /dev/null 2> "$TMP/$1.run"; then
		pass "record peak_prog $3"
	else
		fail "record peak_prog $3: exit $?" "$TMP/$1.run"
	fi
}

# the spike lasts microseconds: with a snapshot every 100 ms none sees it
record spike 100 spike
if python3 "$HERE/peak_check.py" "$PT" "$TMP/spike.trace" "$TMP/spike.run" 240000 \
   spike_alloc 200000 > "$TMP/check.out" 2>&1; then
	pass "a spike between snapshots: one peak, 240,000 B, in every command and timeline"
else
	fail "a spike between snapshots" "$TMP/check.out"
fi

# one snapshot only, at exit
record short 60000 short
if python3 "$HERE/peak_check.py" "$PT" "$TMP/short.trace" "$TMP/short.run" 3000 \
   short_alloc 3000 > "$TMP/check.out" 2>&1; then
	pass "a short run: one peak, 3,000 B, its time printed precisely"
else
	fail "a short run" "$TMP/check.out"
fi
summary
