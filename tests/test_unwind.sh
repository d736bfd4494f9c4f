#!/bin/sh
# test_unwind.sh BUILD - nothing the library loads may change how a program
# unwinds, throws or is cancelled.  Without the preload (which checks the
# tests themselves), then preloaded plain, with POOLTRACE_DEBUG=1 and with
# POOLTRACE_PROFILE=1:
#   - a thread cancelled in fputs or fwrite on a full pipe leaves the stream
#     unlocked, in a C program that does not link libgcc_s (glibc loads it
#     to cancel) and in one built with -fexceptions;
#   - cleanup handlers in several C frames (-fexceptions) run on cancel;
#   - a C program's global scope holds no unwinder symbol of ours;
#   - a C++ plugin dlopen'ed by a C program throws and catches, also
#     through a C frame of the host;
#   - C++ exceptions through qsort and bsearch callbacks, through many
#     frames with destructors, rethrown, nested, carried between threads;
#     a C++ thread cancelled: its destructors run, catch (...) sees it.
# Each run has a timeout: a hang is a failure.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
T="$B/tests"
PLUGIN=$(cd "$T" && pwd)/unwind_plugin.so

# run MODE NAME CMD...: MODE none, plain, debug or profile
run() {
	mode=$1 name=$2
	shift 2
	case $mode in
	none) set -- env -u LD_PRELOAD "$@" ;;
	plain) set -- env LD_PRELOAD="$LIB" "$@" ;;
	debug) set -- env LD_PRELOAD="$LIB" POOLTRACE_DEBUG=1 "$@" ;;
	profile) set -- env LD_PRELOAD="$LIB" POOLTRACE_PROFILE=1 \
		POOLTRACE_OUTPUT="$TMP/trace/%p.trace" "$@" ;;
	esac
	runs=$((runs + 1))
	timeout -k 5 120 "$@" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q ": ok$" "$TMP/out" && ! grep -q "pooltrace" "$TMP/err"; then
		pass "$mode: $name"
	else
		[ $rc -eq 124 ] && echo "timed out (a hang)" >> "$TMP/err"
		fail "$mode: $name: exit $rc" "$TMP/err"
	fi
}

for mode in none plain debug profile; do
	rm -rf "$TMP/trace"
	mkdir -p "$TMP/trace"
	runs=0
	for c in fputs fwrite; do
		run $mode "cancel in $c, C without libgcc_s" "$T/unwind_prog" $c
		run $mode "cancel in $c, C with -fexceptions" "$T/unwind_prog_exc" $c
	done
	run $mode "cleanup handlers in three C frames" "$T/unwind_prog_exc" cleanup
	run $mode "cleanup handlers without -fexceptions" "$T/unwind_prog" cleanup
	run $mode "no unwinder in the global scope" "$T/unwind_prog" scope
	run $mode "C++ plugin throws and catches (C host)" "$T/unwind_prog" plugin "$PLUGIN"
	run $mode "C++ plugin throws through a -fexceptions host" "$T/unwind_prog_exc" plugin \
		"$PLUGIN"
	for c in qsort frames threads cancel; do
		run $mode "C++ $c" "$T/unwind_cxx" $c
	done
	if [ $mode = profile ]; then
		n=$(ls "$TMP/trace" | wc -l)
		if [ "$n" -eq $runs ]; then
			pass "profile: a trace from each of the $runs runs"
		else
			fail "profile: $n traces written, want $runs"
		fi
	fi
done
summary
