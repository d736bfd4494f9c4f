#!/bin/sh
# test_edges.sh BUILD - the malloc API's edges against glibc's own answers
# (tests/edge_prog.c), in every mode: preloaded plain, POOLTRACE_ALIGN=8,
# POOLTRACE_DEBUG=1 and POOLTRACE_PROFILE=1.
#   - every aligned call over valid, odd and impossible alignments and sizes:
#     the same result class and errno as glibc without the preload
#     (posix_memalign: its return value, errno ENOMEM, *memptr untouched);
#   - realloc to the same size keeps the block, as glibc does.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
PROG="$B/tests/edge_prog"

"$PROG" aligned > "$TMP/aligned.glibc" 2> "$TMP/err" || fail "aligned without the preload" "$TMP/err"
"$PROG" realloc > "$TMP/realloc.glibc" 2> "$TMP/err" || fail "realloc without the preload" "$TMP/err"

# same NAME CASE ENV...: the case's output under the preload is glibc's
same() {
	name=$1 c=$2
	shift 2
	env LD_PRELOAD="$LIB" "$@" "$PROG" $c > "$TMP/$c.pt" 2> "$TMP/err"
	rc=$?
	if [ $rc -eq 0 ] && cmp -s "$TMP/$c.glibc" "$TMP/$c.pt" && [ ! -s "$TMP/err" ]; then
		pass "$name: $c: $(wc -l < "$TMP/$c.pt") answers as glibc's"
	else
		{ echo "exit $rc"; cat "$TMP/err"; diff "$TMP/$c.glibc" "$TMP/$c.pt"; } > "$TMP/diff"
		fail "$name: $c differs from glibc (< glibc, > preloaded)" "$TMP/diff"
	fi
}

for mode in plain align8 debug profile; do
	case $mode in
	plain) set -- ;;
	align8) set -- POOLTRACE_ALIGN=8 ;;
	debug) set -- POOLTRACE_DEBUG=1 ;;
	profile) set -- POOLTRACE_PROFILE=1 POOLTRACE_OUTPUT="$TMP/%p.trace" ;;
	esac
	same $mode aligned "$@"
	same $mode realloc "$@"
done
summary
