#!/bin/sh
# test_dropin.sh BUILD_DIR - programs that must behave as under glibc alone:
#  - as_limit: RLIMIT_AS lowered to 256 MiB after start, then small and large
#    allocations and threads (plain and debug mode; profiling maps its
#    trace tables, over 3 GiB of address space, before the program starts);
#  - double_free: double frees into the thread cache, into a pool, of
#    another thread's blocks, and a realloc of a freed block, each refused
#    with one line and ignored; blocks whose contents equal the free-list
#    key are freed normally.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"

expect_ok() {   # name, env..., -- program args: exit 0, ": ok" on stdout
	name=$1; shift
	timeout -s KILL 120 env "$@" > "$TMP/d.out" 2> "$TMP/d.err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q ': ok$' "$TMP/d.out"; then
		pass "$name"
	else
		cat "$TMP/d.out" >> "$TMP/d.err"
		fail "$name (exit $rc)" "$TMP/d.err"
	fi
}

expect_ok "RLIMIT_AS after start, glibc alone" "$B/tests/as_limit"
expect_ok "RLIMIT_AS after start, preloaded" LD_PRELOAD="$LIB" "$B/tests/as_limit"
expect_ok "RLIMIT_AS after start, POOLTRACE_ALIGN=8" LD_PRELOAD="$LIB" POOLTRACE_ALIGN=8 \
	"$B/tests/as_limit"
expect_ok "RLIMIT_AS after start, POOLTRACE_DEBUG=1" LD_PRELOAD="$LIB" POOLTRACE_DEBUG=1 \
	"$B/tests/as_limit"
for align in 16 8; do
	name="double free refused, POOLTRACE_ALIGN=$align"
	timeout -s KILL 60 env LD_PRELOAD="$LIB" POOLTRACE_ALIGN=$align "$B/tests/double_free" \
		> "$TMP/d.out" 2> "$TMP/d.err"
	rc=$?
	made=$(sed -n 's/^refused //p' "$TMP/d.out")
	lines=$(grep -c '^pooltrace: .*(0x[0-9a-f]*): .*; ignored$' "$TMP/d.err")
	others=$(grep -vc '^pooltrace: .*(0x[0-9a-f]*): double free (the [0-9]*-byte block is already free); ignored$' "$TMP/d.err")
	if [ $rc -eq 0 ] && grep -q ': ok$' "$TMP/d.out" && [ -n "$made" ] &&
	   [ "$lines" -eq "$made" ] && [ "$others" -eq 0 ]; then
		pass "$name ($made lines)"
	else
		echo "exit $rc; $made double frees made, $lines lines" >> "$TMP/d.err"
		fail "$name" "$TMP/d.err"
	fi
done
summary
