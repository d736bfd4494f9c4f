#!/bin/sh
# test_fork.sh BUILD_DIR - fork under stress, in the three modes (plain,
# POOLTRACE_DEBUG=1, POOLTRACE_PROFILE=1 with the traces in a temp dir):
#  - fork_stdio: threads in getline, fputs and fflush(NULL) while two others
#    fork (the atfork handler's locks against stdio's list lock);
#  - fork_signal: a single-threaded process forking from a timer signal's
#    handler that interrupted malloc or free, the child allocating.
# A hang is a failure: each run has a timeout far above its normal time.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"

run() {   # name, timeout in seconds, env..., -- program args
	name=$1; secs=$2; shift 2
	rm -rf "$TMP/trace"; mkdir -p "$TMP/trace"
	timeout -s KILL "$secs" env LD_PRELOAD="$LIB" POOLTRACE_OUTPUT="$TMP/trace/t" "$@" \
		> "$TMP/f.out" 2> "$TMP/f.err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q ': ok$' "$TMP/f.out"; then
		pass "$name"
	else
		[ $rc -eq 137 ] && echo "hung: killed after ${secs}s" >> "$TMP/f.err"
		cat "$TMP/f.out" >> "$TMP/f.err"
		fail "$name (exit $rc)" "$TMP/f.err"
	fi
}

for mode in plain POOLTRACE_DEBUG=1 POOLTRACE_PROFILE=1; do
	m=$mode; [ "$m" = plain ] && m=POOLTRACE_DEBUG=0
	run "fork racing stdio, $mode" 150 $m "$B/tests/fork_stdio" -f 300
	run "fork in a signal handler, $mode" 90 $m "$B/tests/fork_signal" -n 300
	if [ "$mode" = POOLTRACE_PROFILE=1 ] && ! ls "$TMP"/trace/t* > /dev/null 2>&1; then
		fail "fork tests, $mode: no trace written"
	fi
done
summary
