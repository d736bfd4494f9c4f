#!/bin/sh
# check_asan.sh [BUILD] - report/ and the tests under AddressSanitizer and
# UBSan (make check-asan).
#
# Builds, in their own directory (ASAN_BUILD, default BUILD/asan), with
# -fsanitize=address,undefined,float-cast-overflow (gcc leaves the last one
# out of "undefined") and no recovery: the pooltrace command (report/), the
# unit tests that link the allocator directly (UNIT_TESTS, from the
# Makefile), test_report_util, test_symbolize and test_recorder (whose
# reader is report/trace_read.c and trace_defs.c); then runs them, and the
# report scripts (test_reports.sh, test_export.sh, test_html.sh) with that
# directory as their build: there pooltrace is the sanitized one, while libpooltrace.so and
# the programs it records are BUILD's normal ones.  libpooltrace.so itself
# cannot run under ASan: it IS the malloc, and ASan must own malloc to find
# anything; the allocator's own checks are fuzz_alloc's (make fuzz, with
# UBSan) and the unit tests here (the allocator called directly, as
# pt_alloc/pt_free, inside an ASan process).  Last, every report command of
# the sanitized pooltrace on traces the normal build records, and on the
# fuzzing corpus (cut and damaged traces).
#
# Any sanitizer report fails the run: ASan, LeakSanitizer (at exit) and UBSan
# exit with status 86 and their report is shown.  Exit status: 0, or 1.
set -u
B=${1:-build}
A=${ASAN_BUILD:-$B/asan}
CC=${CC:-cc}
MAKE=${MAKE:-make}
UNIT_TESTS=${UNIT_TESTS:-test_sizeclass test_pool test_arena test_oom test_tcache test_options test_heapscan}
SAN="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow"
# quarantine 32 MiB, not 256: test_reports.sh bounds the reports of
# tests/corrupt/ to 1 GiB, which the decompression bomb there passes by
# 100 MB under ASan's default
ASAN_OPTIONS="exitcode=86:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:quarantine_size_mb=32"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86"
export ASAN_OPTIONS UBSAN_OPTIONS
MEM_LIMIT_KB=2097152   # test_reports.sh's bound on the hostile traces, ASan's overhead added
export MEM_LIMIT_KB
unset DEBUGINFOD_URLS

PASS=0
FAIL=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass() { PASS=$((PASS + 1)); printf 'ok   %s\n' "$1"; }
fail() { FAIL=$((FAIL + 1)); printf 'FAIL %s\n' "$1"; [ -n "${2:-}" ] && sed 's/^/     | /' "$2" | head -60; }

# a sanitizer's report in file $1?
sanitized() {
	grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$1"
}

# --- build ---------------------------------------------------------------------
targets="$A/pooltrace $A/tests/test_report_util $A/tests/test_symbolize $A/tests/test_recorder"
for t in $UNIT_TESTS; do targets="$targets $A/tests/$t"; done
echo "== building in $A with $CC $SAN"
# shellcheck disable=SC2086
if ! $MAKE --no-print-directory -f Makefile B="$A" CC="$CC" CFLAGS="$SAN" $targets \
		> "$TMP/build.out" 2>&1; then
	fail "build in $A" "$TMP/build.out"
	exit 1
fi
# the normal build's library and recorded programs, next to the sanitized tool
for f in libpooltrace.so tests/leak_prog tests/cxx_prog tests/rec_prog tests/rec_lib.so \
         tests/stress; do
	if [ ! -e "$B/$f" ]; then
		fail "$B/$f missing: make lib and the test programs first"
		exit 1
	fi
	rm -f "$A/$f"
	cp "$B/$f" "$A/$f"
done
pass "built with ASan and UBSan in $A"

# --- the unit tests, test_report_util, test_symbolize, test_recorder ---------------
for t in $UNIT_TESTS test_report_util test_symbolize; do
	if "$A/tests/$t" > "$TMP/$t.out" 2>&1; then
		pass "$t"
	else
		fail "$t: exit $?" "$TMP/$t.out"
	fi
done
if "$A/tests/test_recorder" "$A" > "$TMP/rec.out" 2>&1; then
	pass "test_recorder (its reader under ASan)"
else
	fail "test_recorder $A: exit $?" "$TMP/rec.out"
fi

# --- the report scripts, with the sanitized pooltrace --------------------------------
for s in test_reports test_export test_html; do
	CC="$CC" sh "tests/$s.sh" "$A" > "$TMP/$s.out" 2>&1
	rc=$?
	if sanitized "$TMP/$s.out"; then
		fail "$s.sh $A: a sanitizer report" "$TMP/$s.out"
	elif [ $rc -ne 0 ]; then
		fail "$s.sh $A: exit $rc" "$TMP/$s.out"
	else
		pass "$s.sh $A: $(tail -n 1 "$TMP/$s.out")"
	fi
done

# --- every command on recorded traces and on the fuzzing corpus ------------------------
PT="$A/pooltrace"
T=$TMP/traces
mkdir -p "$T"
run() {   # run NAME ARGS...: the normal pooltrace records a trace
	name=$1
	shift
	"$B/pooltrace" run -o "$T/$name.%p.trace" "$@" > /dev/null 2>&1
}
run leak -- "$B/tests/leak_prog"
run sampled --sample 4096 -- "$B/tests/leak_prog"
run cxx -- "$B/tests/cxx_prog"
run threads -- "$B/tests/rec_prog" threads
run fork -- "$B/tests/rec_prog" fork
run crash -- "$B/tests/rec_prog" crash
run known -- "$B/tests/rec_prog" known
run dl -- "$B/tests/rec_prog" dlopen "$A/tests/rec_lib.so"
run python -- /usr/bin/python3.11 tests/python/pyobjects.py   # Python frames, objects by type
first=$(ls "$T"/*.trace | head -n 1)
n=0
bad=0
# check NAME ARGS...: the sanitized pooltrace; a report or a crash fails
check() {
	n=$((n + 1))
	"$PT" "$@" > "$TMP/cmd.out" 2>&1
	rc=$?
	if sanitized "$TMP/cmd.out" || { [ $rc -gt 2 ] && [ $rc -ne 4 ]; }; then
		bad=$((bad + 1))
		fail "pooltrace $*: exit $rc" "$TMP/cmd.out"
	fi
}
for f in "$T"/*.trace; do
	check dump "$f"
	check report "$f"
	check report --native --by type "$f"
	check leaks "$f"
	check leaks --by type "$f"
	check frag "$f"
	check html -o "$TMP/page.html" "$f"
	check export --format massif -o "$TMP/x" "$f"
	check export --format pprof -o "$TMP/x" "$f"
	check export --format folded --what temporary -o "$TMP/x" "$f"
	check export --format speedscope --what leaks -o "$TMP/x" "$f"
	check diff "$first" "$f"
done
# the damaged and cut traces of the fuzzing corpus (check-fuzz runs every
# command on all of it, under clang's ASan)
for f in tests/fuzz/corpus_trace/*; do
	check report "$f"
done
[ $bad -eq 0 ] && pass "$n report commands on recorded, cut and damaged traces"

printf '%d passed, %d failed\n' "$PASS" "$FAIL"
[ "$FAIL" -eq 0 ]
