#!/bin/sh
# test_fork.sh BUILD_DIR - fork under stress, in the three modes (plain,
# POOLTRACE_DEBUG=1, POOLTRACE_PROFILE=1 with the traces in a temp dir):
#  - fork_stdio: threads in getline, fputs and fflush(NULL) while two others
#    fork (the atfork handler's locks against stdio's list lock);
#  - fork_signal: a single-threaded process forking from a timer signal's
#    handler that interrupted malloc, free or fork, the child allocating;
#    the process must still have one thread at the end (a thread of the
#    recorder's would make glibc's fork take its atfork lock, which a fork
#    in the handler then waits for).
# A hang is a failure: each run has a timeout far above its normal time.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"

run() {   # name, timeout in seconds, env..., -- program args
	name=$1; secs=$2; shift 2
	rm -rf "$TMP/trace"; mkdir -p "$TMP/trace"
	timeout -s KILL "$secs" env LD_PRELOAD="$LIB" POOLTRACE_OUTPUT="$TMP/trace/t.%p" "$@" \
		> "$TMP/f.out" 2> "$TMP/f.err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q ': ok$' "$TMP/f.out" &&
	   { ! grep -q 'threads:' "$TMP/f.out" || grep -q 'threads: 1$' "$TMP/f.out"; }; then
		pass "$name"
	else
		[ $rc -eq 137 ] && echo "hung: killed after ${secs}s" >> "$TMP/f.err"
		cat "$TMP/f.out" >> "$TMP/f.err"
		fail "$name (exit $rc)" "$TMP/f.err"
	fi
}

for mode in plain POOLTRACE_DEBUG=1 POOLTRACE_PROFILE=1; do
	m=$mode; [ "$m" = plain ] && m=POOLTRACE_DEBUG=0
	# debug mode forks a process whose quarantine holds up to 64 MiB: 300
	# forks take 14 s on an idle 2-core machine, and past 150 s when other
	# fork-heavy programs share it; with 100, the library before the lock
	# order was fixed still hung in 5 runs of 5
	forks=300; [ "$mode" = POOLTRACE_DEBUG=1 ] && forks=100
	run "fork racing stdio, $mode" 150 $m "$B/tests/fork_stdio" -f $forks
	run "fork in a signal handler, $mode" 90 $m "$B/tests/fork_signal" -n 300
	if [ "$mode" = POOLTRACE_PROFILE=1 ] && ! ls "$TMP"/trace/t* > /dev/null 2>&1; then
		fail "fork tests, $mode: no trace written"
	fi
done
summary
