#!/bin/sh
# run_stress.sh BUILD_DIR - the threaded stress program under LD_PRELOAD:
# several seeds, both alignment modes, and forks while 8 threads run.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"

stress() {   # name, env..., -- args...
	name=$1; shift
	if env "$@" > "$TMP/s.out" 2> "$TMP/s.err"; then
		n=$(pool_allocs "$TMP/s.err")
		if grep -q ': ok$' "$TMP/s.out" && [ "$n" -gt 100000 ]; then
			pass "$name ($n pool allocations)"
		else
			fail "$name: too few pool allocations ($n)" "$TMP/s.err"
		fi
	else
		cat "$TMP/s.out" >> "$TMP/s.err"
		fail "$name" "$TMP/s.err"
	fi
}

for seed in 1 2 3; do
	stress "stress 8 threads seed $seed" LD_PRELOAD="$LIB" POOLTRACE_STATS=1 \
		"$B/tests/stress" -t 8 -n 300000 -s $seed
done
stress "stress 8 threads POOLTRACE_ALIGN=8" LD_PRELOAD="$LIB" POOLTRACE_STATS=1 \
	POOLTRACE_ALIGN=8 "$B/tests/stress" -t 8 -n 300000 -s 4
stress "stress 8 threads with 20 forks" LD_PRELOAD="$LIB" POOLTRACE_STATS=1 \
	"$B/tests/stress" -t 8 -n 400000 -s 5 -f 20
stress "stress 2 threads, long run" LD_PRELOAD="$LIB" POOLTRACE_STATS=1 \
	"$B/tests/stress" -t 2 -n 2000000 -s 6
summary
