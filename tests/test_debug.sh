#!/bin/sh
# test_debug.sh BUILD - POOLTRACE_DEBUG on deliberately broken programs
# (tests/debug_prog.c): each error gives its report, with the allocation
# stack in the function that made it (and the first free's stack where
# there is one), then an abort, or goes on with POOLTRACE_DEBUG=warn.
# The frames are named by `pooltrace symbolize` (the build's, beside the
# library): function (file:line) for a program built without -rdynamic
# (tests/dbgsym_prog.c), module+offset with POOLTRACE_SYMBOLIZER=none or
# when the tool cannot run.  Also: correct programs run clean, normal mode
# refuses interior frees with one line, and a setuid program neither reads
# the options nor writes a trace.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
PROG="$B/tests/debug_prog"

# run MODE LEVEL: stderr into $TMP/err, exit status into $rc
run() {
	POOLTRACE_DEBUG=$2 LD_PRELOAD="$LIB" "${RUN_PROG:-$PROG}" "$1" > "$TMP/out" 2> "$TMP/err"
	rc=$?
}

# expect MODE 'error line' 'allocating function' ['freeing function']
expect() {
	mode=$1 what=$2 fn=$3 freed=${4:-}
	run "$mode" 1
	ok=1
	[ $rc -eq 134 ] || ok=0
	grep -q "^==pooltrace== ERROR: $what" "$TMP/err" || ok=0
	# the first frame of the allocation stack is the function that allocated
	awk '/^  allocated by thread/ { getline; print; exit }' "$TMP/err" |
		grep -q " $fn[+ ]" || ok=0
	if [ -n "$freed" ]; then
		awk '/freed by thread/ { getline; print; exit }' "$TMP/err" |
			grep -q " $freed[+ ]" || ok=0
	fi
	grep -q "^==pooltrace== aborting" "$TMP/err" || ok=0
	if [ $ok -eq 1 ]; then
		pass "$mode: $what (abort, stacks in $fn)"
	else
		fail "$mode: exit $rc, want 134 and '$what' with $fn" "$TMP/err"
	fi
	run "$mode" warn
	if [ $rc -eq 0 ] && grep -q "^==pooltrace== ERROR: $what" "$TMP/err" &&
	   ! grep -q "aborting" "$TMP/err"; then
		pass "$mode with POOLTRACE_DEBUG=warn: reported, went on"
	else
		fail "$mode with POOLTRACE_DEBUG=warn: exit $rc" "$TMP/err"
	fi
}

expect overflow "heap buffer overflow: written up to 1 byte past the end of a 24-byte block" \
	overflow_by_one
grep -q "\[61\] fd  fd" "$TMP/err" || fail "overflow: the hex dump does not mark the byte" "$TMP/err"
expect overflow3 "heap buffer overflow: written up to 3 bytes past the end of a 600-byte block" \
	overflow_glibc
expect underflow "heap buffer underflow: written up to 1 byte before the start of a 40-byte" \
	underflow
expect double "double free of a 32-byte block" double_free double_free
expect after "write after free: 1 byte of a freed 48-byte block changed, the first at offset 10" \
	write_after_free write_after_free
expect interior "free of a pointer 8 bytes inside a 64-byte block" free_interior
expect mismatch "mismatched free: free_sized of a block from an aligned allocation" \
	mismatched_aligned
expect sized "mismatched free: free_sized with size 90 of a 100-byte block" mismatched_size
expect realloc "double free of a 16-byte block" realloc_freed realloc_freed
expect shrunk "heap buffer overflow: written up to 1 byte past the end of a 100-byte block" \
	realloc_shrunk
expect exitcheck "heap buffer overflow: written up to 1 byte past the end of a 16-byte block" \
	overflow_never_freed

# C++ (tests/cxx_new.cc): each family frees its own; a sized or aligned
# delete must be the new's (memcheck and AddressSanitizer report the same
# seven); the allocation stack starts in the caller of new
RUN_PROG="$B/tests/cxx_new"
expect new-free "mismatched free: free of a block from operator new" alloc_for_mismatch
expect malloc-delete "mismatched free: operator delete of a block from malloc" alloc_for_mismatch
expect new-delete-array "mismatched free: operator delete\\[\\] of a block from operator new$" \
	alloc_for_mismatch
expect array-delete "mismatched free: operator delete of a block from operator new\\[\\]" \
	alloc_for_mismatch
expect sized "mismatched free: operator delete with size 32 of a 40-byte block" alloc_for_mismatch
expect aligned-plain "mismatched free: operator delete without an alignment of a block from operator new aligned to 64" \
	alloc_for_mismatch
expect aligned-wrong "mismatched free: operator delete with alignment 32 of a block from operator new aligned to 64" \
	alloc_for_mismatch
run clean 1
[ $rc -eq 0 ] && [ ! -s "$TMP/err" ] && grep -q "^clean$" "$TMP/out" &&
	pass "C++: every form of new and delete rightly paired runs clean" ||
	fail "C++: clean pairs: exit $rc" "$TMP/err"
unset RUN_PROG

# a forked child's check at _exit: its own blocks, not the parent's again
run forkexit 1
n=$(grep -c '^==pooltrace== ERROR: heap buffer overflow' "$TMP/err")
child=$(awk '/^  allocated by thread/ { getline; print }' "$TMP/err" | grep -c ' child_overflow[+ ]')
parent=$(awk '/^  allocated by thread/ { getline; print }' "$TMP/err" | grep -c ' fork_exit_check[+ ]')
if [ $rc -eq 134 ] && [ "$n" -eq 2 ] && [ "$child" -eq 1 ] && [ "$parent" -eq 1 ] &&
   grep -q '^child: aborted$' "$TMP/out"; then
	pass "forkexit: the child's _exit checks its own block, the parent's exit the parent's"
else
	echo "exit $rc; $n reports, $child of the child's block, $parent of the parent's" >> "$TMP/err"
	cat "$TMP/out" >> "$TMP/err"
	fail "forkexit: the checks of a forked child and its parent" "$TMP/err"
fi

run stack 1
if [ $rc -eq 134 ] && grep -q "^==pooltrace== ERROR: free of 0x[0-9a-f]*, which was never allocated" "$TMP/err" &&
   grep -q "is on this thread's stack" "$TMP/err" &&
   awk '/^  the call:/ { getline; print; exit }' "$TMP/err" | grep -q " free_stack_address[+ ]"; then
	pass "stack: free of a stack address, with the call's stack"
else
	fail "stack: exit $rc" "$TMP/err"
fi

# a write after free is also found when the block leaves the quarantine
POOLTRACE_DEBUG=1 POOLTRACE_QUARANTINE=4096 LD_PRELOAD="$LIB" "$PROG" afterq > /dev/null 2> "$TMP/err"
rc=$?
if [ $rc -eq 134 ] &&
   grep -q "^==pooltrace== ERROR: write after free: 1 byte of a freed 48-byte block changed, the first at offset 47" "$TMP/err" &&
   grep -q "found by a later free, when the block left the quarantine" "$TMP/err" &&
   awk '/^  freed by thread/ { getline; print; exit }' "$TMP/err" | grep -q " write_after_free_late[+ ]"; then
	pass "afterq: a write after free found when the block leaves the quarantine"
else
	fail "afterq: exit $rc" "$TMP/err"
fi
POOLTRACE_DEBUG=1 POOLTRACE_QUARANTINE=0 LD_PRELOAD="$LIB" "$PROG" clean > /dev/null 2> "$TMP/err"
rc=$?
[ $rc -eq 0 ] && [ ! -s "$TMP/err" ] || fail "clean with no quarantine: exit $rc" "$TMP/err"

for level in 1 warn; do
	run clean $level
	if [ $rc -eq 0 ] && [ ! -s "$TMP/err" ] && grep -q clean "$TMP/out"; then
		pass "clean program, POOLTRACE_DEBUG=$level: no report"
	else
		fail "clean program, POOLTRACE_DEBUG=$level: exit $rc" "$TMP/err"
	fi
done

# --- the symbolizer: a program built with -g, without -rdynamic ---------------------
SP="$B/tests/dbgsym_prog"
SRC=tests/dbgsym_prog.c
line() { grep -n -- "$1" "$SRC" | head -1 | cut -d: -f1; }
# first FILE TITLE: the first frame of the stack TITLE in report FILE
first() { awk -v t="  $2" 'index($0, t) == 1 { getline; print; exit }' "$1"; }
LM=$(line 'char \*p = malloc(24);') LF=$(line 'free(p);') LD=$((LF + 1))
POOLTRACE_DEBUG=1 LD_PRELOAD="$LIB" "$SP" double > /dev/null 2> "$TMP/err"
rc=$?
if [ $rc -eq 134 ] && grep -q "^==pooltrace== ERROR: double free of a 24-byte block" "$TMP/err" &&
   first "$TMP/err" "allocated by" | grep -q "^    #0 0x[0-9a-f]* alloc_victim ($SRC:$LM)$" &&
   first "$TMP/err" "first freed by" | grep -q "^    #0 0x[0-9a-f]* alloc_victim ($SRC:$LF)$" &&
   first "$TMP/err" "the call" | grep -q "^    #0 0x[0-9a-f]* alloc_victim ($SRC:$LD)$" &&
   grep -q "^    #1 0x[0-9a-f]* main ($SRC:[0-9]*)$" "$TMP/err" &&
   ! grep -q "not symbolized" "$TMP/err"; then
	pass "symbolizer: a double free in a program without -rdynamic names alloc_victim ($SRC:$LM)"
else
	fail "symbolizer: double free: exit $rc" "$TMP/err"
fi
LO=$(line 'char \*p = malloc(32);')
POOLTRACE_DEBUG=1 LD_PRELOAD="$LIB" "$SP" overflow > /dev/null 2> "$TMP/err"
rc=$?
if [ $rc -eq 134 ] && grep -q "^==pooltrace== ERROR: heap buffer overflow: written up to 1 byte past the end of a 32-byte block" "$TMP/err" &&
   first "$TMP/err" "allocated by" | grep -q " overflow_victim ($SRC:$LO)$"; then
	pass "symbolizer: an overflow names overflow_victim ($SRC:$LO)"
else
	fail "symbolizer: overflow: exit $rc" "$TMP/err"
fi
for v in none 0; do
	POOLTRACE_SYMBOLIZER=$v POOLTRACE_DEBUG=1 LD_PRELOAD="$LIB" "$SP" double > /dev/null 2> "$TMP/err"
	rc=$?
	if [ $rc -eq 134 ] && grep -q "^==pooltrace== ERROR: double free" "$TMP/err" &&
	   first "$TMP/err" "allocated by" | grep -q "^    #0 0x[0-9a-f]* (.*dbgsym_prog+0x[0-9a-f]*)$" &&
	   ! grep -q "alloc_victim\|not symbolized\|warning" "$TMP/err"; then
		pass "POOLTRACE_SYMBOLIZER=$v: module+offset, no warning"
	else
		fail "POOLTRACE_SYMBOLIZER=$v: exit $rc" "$TMP/err"
	fi
done
POOLTRACE_SYMBOLIZER=$TMP/missing/pooltrace POOLTRACE_DEBUG=1 LD_PRELOAD="$LIB" "$SP" double \
	> /dev/null 2> "$TMP/err"
rc=$?
if [ $rc -eq 134 ] && grep -q "^==pooltrace== ERROR: double free" "$TMP/err" &&
   [ "$(grep -c "^  (frames not symbolized: cannot run POOLTRACE_SYMBOLIZER=$TMP/missing/pooltrace: No such file or directory)$" "$TMP/err")" -eq 1 ] &&
   first "$TMP/err" "allocated by" | grep -q " (.*dbgsym_prog+0x[0-9a-f]*)$" &&
   grep -q "^==pooltrace== aborting" "$TMP/err"; then
	pass "POOLTRACE_SYMBOLIZER=MISSING: the report, with one line saying why its frames are not named"
else
	fail "POOLTRACE_SYMBOLIZER=MISSING: exit $rc" "$TMP/err"
fi
POOLTRACE_SYMBOLIZER=yes POOLTRACE_DEBUG=1 LD_PRELOAD="$LIB" "$SP" double > /dev/null 2> "$TMP/err"
rc=$?
if [ $rc -eq 134 ] && [ "$(grep -c warning "$TMP/err")" -eq 1 ] &&
   head -1 "$TMP/err" | grep -q "^pooltrace: warning: POOLTRACE_SYMBOLIZER=yes is not 0, none or a path (with a '/'); using the default$" &&
   first "$TMP/err" "allocated by" | grep -q " alloc_victim ($SRC:$LM)$"; then
	pass "POOLTRACE_SYMBOLIZER=yes: one warning, the default symbolizer"
else
	fail "POOLTRACE_SYMBOLIZER=yes: exit $rc" "$TMP/err"
fi
# three reports in a program with its own SIGCHLD handler: each symbolized,
# and the program sees no SIGCHLD, no child, no descriptor of ours, its errno
POOLTRACE_DEBUG=warn LD_PRELOAD="$LIB" "$SP" host > "$TMP/out" 2> "$TMP/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "^host ok$" "$TMP/out" &&
   [ "$(grep -c "^==pooltrace== ERROR: double free" "$TMP/err")" -eq 3 ] &&
   [ "$(grep -c "^    #0 0x[0-9a-f]* host ($SRC:[0-9]*)$" "$TMP/err")" -eq 9 ]; then
	pass "symbolizer: three reports, the program's SIGCHLD handler, children, descriptors and errno undisturbed"
else
	cat "$TMP/out" >> "$TMP/err"
	fail "symbolizer in a program with a SIGCHLD handler: exit $rc" "$TMP/err"
fi
# a tool that fails: one warning for the first report, none for the others
POOLTRACE_SYMBOLIZER=/bin/false POOLTRACE_DEBUG=warn LD_PRELOAD="$LIB" "$SP" host > "$TMP/out" \
	2> "$TMP/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "^host ok$" "$TMP/out" &&
   [ "$(grep -c "^  (frames not symbolized: /bin/false symbolize answered too few addresses)$" "$TMP/err")" -eq 1 ] &&
   [ "$(grep -c "^    #0 0x[0-9a-f]* (.*dbgsym_prog+0x[0-9a-f]*)$" "$TMP/err")" -eq 9 ]; then
	pass "POOLTRACE_SYMBOLIZER=/bin/false: one warning, module+offset, the program undisturbed"
else
	cat "$TMP/out" >> "$TMP/err"
	fail "POOLTRACE_SYMBOLIZER=/bin/false: exit $rc" "$TMP/err"
fi
# no pooltrace beside the library nor on PATH: module+offset, silently
mkdir -p "$TMP/lib/sub" && cp "$LIB" "$TMP/lib/sub/libpooltrace.so"
PATH=/nonexistent POOLTRACE_DEBUG=1 LD_PRELOAD="$TMP/lib/sub/libpooltrace.so" "$SP" double \
	> /dev/null 2> "$TMP/err"
rc=$?
if [ $rc -eq 134 ] && first "$TMP/err" "allocated by" | grep -q " (.*dbgsym_prog+0x[0-9a-f]*)$" &&
   ! grep -q "not symbolized\|warning" "$TMP/err"; then
	pass "no pooltrace to be found: module+offset, no warning"
else
	fail "no pooltrace to be found: exit $rc" "$TMP/err"
fi

# real programs run clean under the checker
if POOLTRACE_DEBUG=1 LD_PRELOAD="$LIB" PYTHONMALLOC=malloc /usr/bin/python3 -c \
	'import json, re; d = {str(i): [i] * 3 for i in range(20000)}; assert len(json.dumps(d)) > 1000' \
	2> "$TMP/err" && [ ! -s "$TMP/err" ]; then
	pass "python3 (PYTHONMALLOC=malloc) runs clean under POOLTRACE_DEBUG=1"
else
	fail "python3 under POOLTRACE_DEBUG=1" "$TMP/err"
fi
if POOLTRACE_DEBUG=1 LD_PRELOAD="$LIB" "$B/tests/stress" -t 4 -n 30000 -s 7 -f 3 > /dev/null \
	2> "$TMP/err" && [ ! -s "$TMP/err" ]; then
	pass "threaded stress with forks runs clean under POOLTRACE_DEBUG=1"
else
	fail "stress under POOLTRACE_DEBUG=1" "$TMP/err"
fi

# a bad value: one warning, debug off (normal mode refuses the double free
# with its own one line)
POOLTRACE_DEBUG=yes LD_PRELOAD="$LIB" "$PROG" double > /dev/null 2> "$TMP/err"
rc=$?
if grep -q "POOLTRACE_DEBUG=yes is not 0, 1 or warn; using 0" "$TMP/err" &&
   grep -q "double free (the .*-byte block is already free); ignored" "$TMP/err" &&
   [ "$(wc -l < "$TMP/err")" -eq 2 ]; then
	pass "POOLTRACE_DEBUG=yes: one warning, debug off"
else
	fail "POOLTRACE_DEBUG=yes: exit $rc" "$TMP/err"
fi

# normal mode: an interior free is refused with one line, not passed on
LD_PRELOAD="$LIB" "$PROG" interior > /dev/null 2> "$TMP/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "^pooltrace: free(0x[0-9a-f]*): not the start of a block" "$TMP/err" &&
   [ "$(wc -l < "$TMP/err")" -eq 1 ]; then
	pass "normal mode: interior free refused with one line"
else
	fail "normal mode interior free: exit $rc" "$TMP/err"
fi

# the line or report about a bad free is no cancellation point inside free
for level in 0 warn; do
	POOLTRACE_DEBUG=$level LD_PRELOAD="$LIB" "$PROG" cancelled > /dev/null 2> "$TMP/err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q "pooltrace" "$TMP/err"; then
		pass "POOLTRACE_DEBUG=$level: a bad free reported by a thread whose cancellation is pending"
	else
		fail "POOLTRACE_DEBUG=$level: bad free with a cancellation pending: exit $rc" "$TMP/err"
	fi
done

# a setuid program ignores the options: no trace, no debug mode
if [ "$(id -u)" -eq 0 ] && id nobody > /dev/null 2>&1 && command -v setpriv > /dev/null; then
	D=$(mktemp -d /tmp/pt-suid.XXXXXX)
	chmod 755 "$D"
	cc -O0 -o "$D/prog" tests/debug_prog.c -w -L"$B" -lpooltrace -Wl,-rpath,"$(cd "$B" && pwd)"
	chmod 4755 "$D/prog"
	mkdir "$D/out" && chmod 777 "$D/out"
	setpriv --reuid=nobody --regid=nogroup --clear-groups env POOLTRACE_PROFILE=1 \
		POOLTRACE_OUTPUT="$D/out/t.trace" POOLTRACE_DEBUG=1 "$D/prog" clean > "$TMP/out" 2> "$TMP/err"
	rc=$?
	POOLTRACE_PROFILE=1 POOLTRACE_OUTPUT="$D/out/u.trace" "$D/prog" clean > /dev/null 2>&1
	if [ $rc -eq 0 ] && [ ! -e "$D/out/t.trace" ] && [ -e "$D/out/u.trace" ]; then
		pass "setuid program run by nobody: options ignored, no trace written"
	else
		fail "setuid: exit $rc, files: $(ls "$D/out")" "$TMP/err"
	fi
	rm -rf "$D"
else
	skip "setuid" "needs root, the nobody user and setpriv"
fi
summary
