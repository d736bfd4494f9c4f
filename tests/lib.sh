# lib.sh - shell helpers shared by the integration scripts.
# Source with B (the build directory) set.

LIB=$(cd "$B" && pwd)/libpooltrace.so
PASS=0
FAIL=0
SKIP=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pass() { PASS=$((PASS + 1)); printf 'ok   %s\n' "$1"; }
fail() { FAIL=$((FAIL + 1)); printf 'FAIL %s\n' "$1"; [ -n "${2:-}" ] && sed 's/^/     | /' "$2" | head -40; }
skip() { SKIP=$((SKIP + 1)); printf 'skip %s: %s\n' "$1" "$2"; }

# Sum of "# pool allocations (lifetime):" over every process that printed
# POOLTRACE_STATS into file $1.
pool_allocs() {
	awk '/^# pool allocations \(lifetime\):/ { s += $5 } END { print s + 0 }' "$1"
}

# The closing line CI reads: "N passed, N failed, N skipped"; false if any failed.
summary() {
	printf '%d passed, %d failed, %d skipped\n' "$PASS" "$FAIL" "$SKIP"
	[ "$FAIL" -eq 0 ]
}
