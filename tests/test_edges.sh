#!/bin/sh
# test_edges.sh BUILD - the malloc API's edges against glibc's own answers
# (tests/edge_prog.c), in every mode: preloaded plain, POOLTRACE_ALIGN=8,
# POOLTRACE_DEBUG=1, POOLTRACE_PROFILE=1, and that with POOLTRACE_SAMPLE.
#   - every aligned call over valid, odd and impossible alignments and sizes:
#     the same result class and errno as glibc without the preload
#     (posix_memalign: its return value, errno ENOMEM, *memptr untouched);
#   - realloc to the same size keeps the block, as glibc does;
#   - mallinfo, mallinfo2, malloc_stats and malloc_info count the pools;
#   - the C++ operators (tests/cxx_new.cc): every form of new and delete
#     over sizes and alignments, the new-handler, std::bad_alloc and nothrow
#     at no memory, as libstdc++'s own; preloaded, they are ours;
#   - a program that replaces operator new and delete with an arena of its
#     own (also in an executable with only the SysV hash table), or with
#     wrappers that call the next ones through RTLD_NEXT
#     (tests/cxx_replace.cc): every other form reaches them, as libstdc++'s
#     defaults make them.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
PROG="$B/tests/edge_prog"
CXX_PROG="$B/tests/cxx_new"
REPLACE_PROG="$B/tests/cxx_replace"
WRAP_PROG="$B/tests/cxx_wrap"
CHECK_XML="$(dirname "$0")/malloc_info_check.py"

"$PROG" aligned > "$TMP/aligned.glibc" 2> "$TMP/err" || fail "aligned without the preload" "$TMP/err"
"$PROG" realloc > "$TMP/realloc.glibc" 2> "$TMP/err" || fail "realloc without the preload" "$TMP/err"
"$PROG" mallinfo > "$TMP/out" 2> "$TMP/err" ||
	fail "mallinfo without the preload: the test's expectations are not glibc's" "$TMP/err"
"$PROG" info > "$TMP/info" 2> "$TMP/err" && python3 "$CHECK_XML" < "$TMP/info" 2> "$TMP/err" ||
	fail "malloc_info without the preload: the check does not hold for glibc" "$TMP/err"
"$CXX_PROG" edges > "$TMP/cxx.glibc" 2> "$TMP/err" || fail "cxx_new without the preload" "$TMP/err"
grep -q FAILED "$TMP/cxx.glibc" && fail "cxx_new without the preload" "$TMP/cxx.glibc"
"$REPLACE_PROG" > "$TMP/replace.glibc" 2> "$TMP/err" || fail "cxx_replace without the preload" "$TMP/err"
"$WRAP_PROG" > "$TMP/wrap.glibc" 2> "$TMP/err" || fail "cxx_wrap without the preload" "$TMP/err"
cp "$TMP/replace.glibc" "$TMP/replace_sysv.glibc"

env LD_PRELOAD="$LIB" "$CXX_PROG" ours > "$TMP/out" 2>&1 &&
	pass "C++: new, new[], nothrow and aligned new are libpooltrace's, from the pools" ||
	fail "C++: the operators are not the library's" "$TMP/out"

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

# the pools' lines of malloc_stats (file $1): their in-use bytes, and the
# totals with and without them add up
stats_ok() {
	awk '
		/^Total \(incl. mmap\):/ { g = 1; next }
		/^Pools \(pooltrace\):/ { p = 1; g = 0; next }
		/^Total \(incl. mmap and pools\):/ { t = 1; p = 0; next }
		/^system bytes/ { if (g) gs = $4; if (p) ps = $4; if (t) ts = $4 }
		/^in use bytes/ { if (g) gu = $5; if (p) pu = $5; if (t) tu = $5; g = 0 }
		END { exit !(pu >= 200000 && ps >= pu && ts == gs + ps && tu == gu + pu) }
	' "$1"
}

for mode in plain align8 debug profile sample; do
	case $mode in
	plain) set -- ;;
	align8) set -- POOLTRACE_ALIGN=8 ;;
	debug) set -- POOLTRACE_DEBUG=1 ;;
	profile) set -- POOLTRACE_PROFILE=1 POOLTRACE_OUTPUT="$TMP/%p.trace" ;;
	sample) set -- POOLTRACE_PROFILE=1 POOLTRACE_SAMPLE=4096 POOLTRACE_OUTPUT="$TMP/%p.trace" ;;
	esac
	same $mode aligned "$@"
	same $mode realloc "$@"
	env LD_PRELOAD="$LIB" "$@" "$CXX_PROG" edges > "$TMP/cxx.pt" 2> "$TMP/err"
	rc=$?
	if [ $rc -eq 0 ] && cmp -s "$TMP/cxx.glibc" "$TMP/cxx.pt" && [ ! -s "$TMP/err" ]; then
		pass "$mode: C++ operators: $(wc -l < "$TMP/cxx.pt") answers as libstdc++'s"
	else
		{ echo "exit $rc"; cat "$TMP/err"; diff "$TMP/cxx.glibc" "$TMP/cxx.pt"; } > "$TMP/diff"
		fail "$mode: C++ operators differ from libstdc++'s (< glibc, > preloaded)" "$TMP/diff"
	fi
	for p in replace wrap replace_sysv; do
		prog=$B/tests/cxx_$p
		env LD_PRELOAD="$LIB" "$@" "$prog" > "$TMP/$p.pt" 2> "$TMP/err"
		rc=$?
		if [ $rc -eq 0 ] && cmp -s "$TMP/$p.glibc" "$TMP/$p.pt" && [ ! -s "$TMP/err" ]; then
			pass "$mode: cxx_$p: the program's own new and delete receive every other form"
		else
			{ echo "exit $rc"; cat "$TMP/err"; diff "$TMP/$p.glibc" "$TMP/$p.pt"; } > "$TMP/diff"
			fail "$mode: cxx_$p, a program that replaces new and delete (< glibc, > preloaded)" \
				"$TMP/diff"
		fi
	done
	# the debug quarantine keeps freed blocks: off, so that they go back
	[ $mode = debug ] && set -- "$@" POOLTRACE_QUARANTINE=0
	env LD_PRELOAD="$LIB" "$@" "$PROG" mallinfo > "$TMP/out" 2> "$TMP/err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^mallinfo: ok$" "$TMP/out" && stats_ok "$TMP/err"; then
		pass "$mode: mallinfo and mallinfo2 count the pools; malloc_stats adds them"
	else
		fail "$mode: mallinfo, mallinfo2 or malloc_stats: exit $rc" "$TMP/err"
	fi
	freed=--freed
	[ $mode = debug ] && freed=
	env LD_PRELOAD="$LIB" "$@" "$PROG" info > "$TMP/info" 2> "$TMP/err"
	rc=$?
	if [ $rc -eq 0 ] && python3 "$CHECK_XML" --pools $freed < "$TMP/info" 2> "$TMP/err"; then
		pass "$mode: malloc_info: the pools as one more heap, in the totals"
	else
		cat "$TMP/info" >> "$TMP/err"
		fail "$mode: malloc_info: exit $rc" "$TMP/err"
	fi
done
summary
