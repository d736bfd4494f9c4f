#!/bin/sh
# test_reports.sh BUILD - the text reports against golden files, on traces
# of programs written here with known leaks, peaks and temporaries
# (tests/leak_prog.c, tests/cxx_prog.cc); bad and cut traces.
#
# What varies from run to run (paths, pid, times, RSS, roots scanned) is
# masked; everything else must match tests/golden/ byte for byte.
# UPDATE_GOLDEN=1 rewrites the golden files instead (review the diff!).
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
T=$TMP
PT="$B/pooltrace"
G=tests/golden

mask() {
	sed -e 's/^program: .*/program:    PROGRAM/' -e 's/^pid: .*/pid:        PID/' \
	    -e 's/^duration: .*/duration:   DURATION/' -e 's/roots scanned: .*/roots scanned:   ROOTS/' \
	    -e '/^peak RSS: /d' -e '/^TIMELINE/,$d' \
	    -e 's/ at [0-9][0-9.]* \(s\|ms\|µs\|ns\)\b/ at T/g' \
	    -e 's/^\( *exact (every event recorded)\), reached .*/\1, reached WHEN/' \
	    -e 's/^\( *RSS at the peak:\) .*/\1 RSS, from SNAPSHOT/' -e "s|$T/|TMP/|g"
}

golden() {   # golden NAME: stdin against tests/golden/NAME
	mask > "$T/$1.out"
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$T/$1.out" "$G/$1"
		echo "updated $G/$1"
	elif diff -u "$G/$1" "$T/$1.out"; then
		echo "pass $1 matches its golden file" >> "$T/golden.res"
	else
		echo "fail $1 differs from $G/$1 (diff above)" >> "$T/golden.res"
	fi
}

# golden runs at the end of a pipeline, in a subshell: its results are
# counted here
golden_results() {
	[ -e "$T/golden.res" ] || return 0
	while read -r res what; do
		if [ "$res" = pass ]; then pass "$what"; else fail "$what"; fi
	done < "$T/golden.res"
	rm -f "$T/golden.res"
}

"$PT" run -o "$T/leak.trace" -- "$B/tests/leak_prog" 2> "$T/run.err" ||
	fail "leak_prog under pooltrace run: exit $? ($(cat "$T/run.err"))"

"$PT" leaks --frames 2 "$T/leak.trace" | golden leaks.txt

# temporaries by heaptrack's rule (tests/temp_prog.c knows its count)
"$PT" run -o "$T/temp.trace" -- "$B/tests/temp_prog" 2> "$T/run.err" ||
	fail "temp_prog under pooltrace run: exit $? ($(cat "$T/run.err"))"
if "$PT" report "$T/temp.trace" | grep -q "^temporary:  1,326 allocations"; then
	pass "temporaries counted by heaptrack's rule"
else
	fail "temp_prog: want 1,326 temporaries: $("$PT" report "$T/temp.trace" | grep '^temporary')"
fi
"$PT" report --frames 2 "$T/leak.trace" | golden report.txt

# --fail-on-leak: 1 with lost blocks; 0 once they are all suppressed
"$PT" leaks --fail-on-leak "$T/leak.trace" > /dev/null 2> "$T/fail.err"
rc=$?
[ $rc -eq 1 ] && grep -q "leaks found" "$T/fail.err" ||
	fail "leaks --fail-on-leak: exit $rc, want 1 ($(cat "$T/fail.err"))"
cat > "$T/supp" <<'SUPP'
# known leaks of leak_prog
leak:lose_*
leak:^make_list$
SUPP
"$PT" leaks --fail-on-leak --suppressions "$T/supp" "$T/leak.trace" > "$T/supp.out" 2>&1 ||
	fail "leaks --fail-on-leak with every lost block suppressed: exit $?"
grep -q "suppressed:      4.71 KiB in 15 blocks" "$T/supp.out" &&
	grep -q "4.57 KiB in 12 blocks: leak:lose_\*" "$T/supp.out" &&
	grep -q "leak:lose_\*" "$T/supp.out" ||
	fail "suppressions not counted: $(cat "$T/supp.out")"
grep -q "still reachable: 100 B in 1 block" "$T/supp.out" ||
	fail "suppressing make_list should leave the global's 100 B reachable"
printf 'lose_big\n' > "$T/badsupp"
"$PT" leaks --suppressions "$T/badsupp" "$T/leak.trace" > /dev/null 2> "$T/badsupp.err"
[ $? -eq 2 ] && grep -q "badsupp:1: not a suppression" "$T/badsupp.err" ||
	fail "a malformed suppression line must be an error naming the line"
pass "leaks --fail-on-leak and --suppressions"

# frag: the pinned arena names the leaks' stacks; the class table counts them
# (class 3: 11 blocks of leak_prog's, 5 of the dlopen of libunwind)
"$PT" frag "$T/leak.trace" > "$T/frag.out" || fail "frag: exit $?"
grep -q "PINNED ARENAS at the exit" "$T/frag.out" &&
	grep -q "4 blocks of 48 B from:" "$T/frag.out" &&
	grep -q "at lose_list (tests/leak_prog.c:" "$T/frag.out" &&
	grep -Eq "^ +2 +48 +1 +0 +0 +16 " "$T/frag.out" &&
	grep -q "rounding to the size class" "$T/frag.out" ||
	fail "frag report: $(cat "$T/frag.out")"
pass "frag: breakdown, size classes, pinned arena with its stacks"

# diff: a second run with the peak 3 times bigger
LEAK_PROG_PEAK=300 "$PT" run -o "$T/leak2.trace" -- "$B/tests/leak_prog" 2> /dev/null ||
	fail "second leak_prog run"
"$PT" diff --frames 1 "$T/leak.trace" "$T/leak2.trace" | golden diff.txt

# a C++ program: demangled names
"$PT" run -o "$T/cxx.trace" -- "$B/tests/cxx_prog" 2> /dev/null || fail "cxx_prog run"
"$PT" report --frames 3 "$T/cxx.trace" > "$T/cxx.out" || fail "report of cxx_prog"
grep -q "at shapes::Grid::grow(unsigned long) (tests/cxx_prog.cc:" "$T/cxx.out" ||
	fail "C++ frames not demangled: $(grep ' at ' "$T/cxx.out" | head -5)"
pass "C++ names demangled"
# new is the library's: its frame is dropped as malloc's is, and the stack
# starts in the code that called it (make_unique, then Grid::grow)
if awk '/ in 1,000 blocks$/ { getline; print; exit }' "$T/cxx.out" | grep -q "make_unique" &&
	! grep -q "at operator new" "$T/cxx.out"; then
	pass "C++: the stack of a new starts in its caller"
else
	fail "C++: a new's stack does not start at its caller: $(grep -A2 ' in 1,000 blocks' "$T/cxx.out")"
fi

# bad input: one line, exit 2, never a crash
head -c $(($(wc -c < "$T/leak.trace") * 2 / 3)) "$T/leak.trace" > "$T/cut.trace"
"$PT" report "$T/cut.trace" > "$T/cut.out" 2> "$T/cut.err"
rc=$?
# (a cut on a chunk boundary leaves whole chunks and no end record)
[ $rc -eq 0 ] && grep -Eq "trace cut short|no end record" "$T/cut.err" &&
	grep -q "^peak heap:" "$T/cut.out" ||
	fail "a cut trace: exit $rc, $(cat "$T/cut.err")"
printf 'not a trace at all\n' > "$T/junk"
for cmd in report leaks frag; do
	"$PT" $cmd "$T/junk" > /dev/null 2> "$T/junk.err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l < "$T/junk.err")" -eq 1 ] ||
		fail "$cmd of a foreign file: exit $rc, stderr: $(cat "$T/junk.err")"
done
"$PT" report "$T/missing" > /dev/null 2>&1
[ $? -eq 2 ] || fail "report of a missing file must exit 2"
"$PT" report --top x "$T/leak.trace" > /dev/null 2>&1
[ $? -eq 2 ] || fail "report --top x must be a usage error (status 2)"
mkfifo "$T/fifo"
timeout 10 "$PT" report "$T/fifo" > /dev/null 2> "$T/fifo.err"
rc=$?
[ $rc -eq 2 ] || fail "report of a FIFO must not block: exit $rc" "$T/fifo.err"
pass "cut, foreign and missing traces, a FIFO; bad options"

# hostile files found by fuzzing (tests/corrupt/): each read ends with status
# 0, 1, 2 or 4 (damaged: partial), within 30 s and MEM_LIMIT_KB (1 GiB; check_asan.sh allows ASan
# its overhead), with no more than a few lines on stderr
MEM_LIMIT_KB=${MEM_LIMIT_KB:-1048576}
for f in tests/corrupt/*.trace; do
	for cmd in report "export --format folded -o $T/out" "diff tests/corrupt/base.trace"; do
		/usr/bin/time -f %M -o "$T/mem" timeout 30 "$PT" $cmd "$f" > /dev/null 2> "$T/err"
		rc=$?
		mem=$(tail -1 "$T/mem")
		if { [ $rc -gt 2 ] && [ $rc -ne 4 ]; } || [ "${mem:-0}" -gt "$MEM_LIMIT_KB" ] ||
		   [ "$(wc -l < "$T/err")" -gt 3 ]; then
			fail "$cmd $f: exit $rc, ${mem:-?} KB" "$T/err"
		fi
	done
done
pass "hostile traces from fuzzing: every command ends cleanly, bounded"

# sampled traces have no scan: leaks says so
"$PT" run --sample 4096 -o "$T/s.trace" -- "$B/tests/leak_prog" 2> /dev/null
"$PT" leaks "$T/s.trace" > "$T/s.out" || fail "leaks of a sampled trace: exit $?"
grep -q "sampled traces have none" "$T/s.out" || fail "sampled leaks: $(cat "$T/s.out")"
pass "a sampled trace's leak report says it has no reachability"
golden_results
summary
