#!/bin/sh
# test_cli.sh BUILD - the command line a person and a script rely on:
# --help and -h of every command (exit 0, its own usage), --opt=value, the
# exit status table (0, 1, 2, 3, 4) in --help, the man page and in fact;
# every write checked (/dev/full); a trace damaged in the middle read past
# its damage with status 4; `pooltrace run`: exactly the traces of the
# processes it started, --no-children and --children NAME, -o without a
# value, a missing or unwritable directory, the closing summary; --bytes.
set -u
LC_ALL=C
export LC_ALL
B=${1:-build}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
PT=$(cd "$B" && pwd)/pooltrace
MAN=$HERE/../man/pooltrace.1
CMDS="run report leaks frag html export diff dump symbolize"

# expect NAME STATUS PATTERN CMD...: CMD exits STATUS, its stderr matches
# PATTERN and (for an error) is one line
expect() {
	name=$1 want=$2 pat=$3
	shift 3
	"$@" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	if [ $rc -ne "$want" ]; then
		fail "$name: exit $rc, want $want" "$TMP/err"
	elif [ -n "$pat" ] && ! grep -q -- "$pat" "$TMP/err"; then
		fail "$name: stderr does not say '$pat'" "$TMP/err"
	elif [ "$want" -ge 2 ] && [ "$want" -le 3 ] && [ "$(wc -l < "$TMP/err")" -ne 1 ]; then
		fail "$name: more than one line on stderr" "$TMP/err"
	else
		pass "$name: exit $rc"
	fi
}

# --- --help, -h, help CMD ---------------------------------------------------------
for c in $CMDS; do
	"$PT" $c --help > "$TMP/h1" 2> "$TMP/herr"
	rc=$?
	"$PT" $c -h > "$TMP/h2" 2>> "$TMP/herr"
	"$PT" help $c > "$TMP/h3" 2>> "$TMP/herr"
	if [ $rc -ne 0 ] || [ -s "$TMP/herr" ] || ! head -1 "$TMP/h1" | grep -q "^usage: pooltrace $c " ||
	   ! cmp -s "$TMP/h1" "$TMP/h2" || ! cmp -s "$TMP/h1" "$TMP/h3"; then
		fail "$c --help: exit $rc, its usage on stdout, the same for -h and help $c" "$TMP/herr"
		continue
	fi
	# every exit status of the table, in the help and in the man page
	for s in 0 1 2 3 4; do
		grep -q "^  $s  " "$TMP/h1" || fail "$c --help does not list exit status $s"
	done
	# the options of the help are the man page's, and the other way round
	python3 - "$MAN" $c > "$TMP/man.opts" <<'PY'
import re, sys
man, cmd = open(sys.argv[1]).read().replace('\\-', '-'), sys.argv[2]
syn = man.split('.SH SYNOPSIS')[1].split('.SH ')[0]
for block in syn.split('.br'):
    if re.search(r'^\.B pooltrace %s( |$)' % cmd, block, re.M):
        opts = set(re.findall(r'--[a-z][a-z-]*|(?<![-\w])-[a-z]\b', block))
        print('\n'.join(sorted(opts)))
PY
	sed -n '/^usage:/,/^$/p' "$TMP/h1" | grep -o -- '--[a-z-]*\|\[-[a-z]\b' | tr -d '[' |
		grep -v '^--$' | sort -u > "$TMP/help.opts"
	if diff "$TMP/man.opts" "$TMP/help.opts" > "$TMP/optdiff"; then
		pass "$c --help: exit 0, usage on stdout; its options are the man page's synopsis"
	else
		fail "$c: options of the man page (<) and of --help (>) differ" "$TMP/optdiff"
	fi
done
"$PT" --help > "$TMP/h" 2>&1 && grep -q "^  4  the trace is damaged" "$TMP/h" &&
	grep -q '^\.B 4$' "$MAN" ||
	fail "pooltrace --help and the man page's EXIT STATUS list status 4" "$TMP/h"
expect "an unknown command" 2 "unknown command 'bogus'" "$PT" bogus
expect "no command" 2 "no command given" "$PT"

# --- a trace to report on -------------------------------------------------------
"$PT" run -q -o "$TMP/leak.trace" -- "$B/tests/leak_prog" > /dev/null 2> "$TMP/run.err" ||
	fail "record leak_prog" "$TMP/run.err"
T=$TMP/leak.trace

# --- --opt=value, usage errors (2) ------------------------------------------------
"$PT" report --top 1 --frames 2 "$T" > "$TMP/a" 2>&1
"$PT" report --top=1 --frames=2 "$T" > "$TMP/b" 2>&1
if cmp -s "$TMP/a" "$TMP/b" && [ "$(grep -c '^ 1)' "$TMP/a")" -eq 4 ]; then
	pass "--top=1 --frames=2 is --top 1 --frames 2"
else
	diff "$TMP/a" "$TMP/b" > "$TMP/d"
	fail "--opt=value" "$TMP/d"
fi
expect "an unknown option" 2 "report: unknown option --bogus" "$PT" report --bogus "$T"
expect "--native where no stack is printed" 2 "dump: unknown option --native" "$PT" dump --native "$T"
expect "a flag given a value" 2 "takes no value" "$PT" leaks --fail-on-leak=yes "$T"
expect "--top 0" 2 "from 1 to 1000000" "$PT" report --top 0 "$T"
expect "--top without a value" 2 "--top needs a value" "$PT" report "$T" --top
expect "a missing trace" 2 "No such file" "$PT" report "$TMP/none.trace"
printf 'not a trace\n' > "$TMP/junk"
expect "not a trace" 2 "not a pooltrace trace" "$PT" leaks "$TMP/junk"
expect "diff with one trace" 2 "needs two traces" "$PT" diff "$T"

# --- 1: leaks found, growth past a threshold ---------------------------------------------
expect "leaks --fail-on-leak finds lost blocks" 1 "leaks found" "$PT" leaks --fail-on-leak "$T"
LEAK_PROG_PEAK=300 "$PT" run -q -o "$TMP/leak2.trace" -- "$B/tests/leak_prog" 2> /dev/null
expect "diff --fail-on-growth 10k: the peak grew more" 1 "past --fail-on-growth 10k" \
	"$PT" diff --fail-on-growth 10k "$T" "$TMP/leak2.trace"
expect "diff --fail-on-growth 1000%: it did not" 0 "" \
	"$PT" diff --fail-on-growth=1000% "$T" "$TMP/leak2.trace"
expect "diff --fail-on-growth 50%: it did" 1 "grew by" \
	"$PT" diff --by peak --fail-on-growth 50% "$T" "$TMP/leak2.trace"

# --- 3: every command's output checked -------------------------------------------------
if [ -w /dev/full ]; then
	for args in "report" "report --json" "leaks" "leaks --json" "frag" "frag --json" \
	            "dump" "dump --summary" "export --format folded" "export --format pprof" \
	            "html -o -" "diff --json $T"; do
		# shellcheck disable=SC2086
		expect "$args > /dev/full" 3 "cannot write standard output: No space left" \
			sh -c '"$0" "$@" > /dev/full' "$PT" $args "$T"
	done
	expect "--help > /dev/full" 3 "cannot write standard output" \
		sh -c '"$0" report --help > /dev/full' "$PT"
else
	skip "writes to /dev/full" "no /dev/full"
fi
# --- 4: a trace damaged in the middle -------------------------------------------------
# A trace of many chunks, recompressed in zstd frames of 4 chunks, chunk 5
# damaged: chunks 5, 6, 7 are lost (one frame), 8 on are read.
PYTHONMALLOC=malloc "$PT" run -q -o "$TMP/py.trace" -- /usr/bin/python3 -c \
	'x = [str(i) for i in range(200000)]' > /dev/null 2>&1
"$B/tests/retrace" "$TMP/py.trace" "$TMP/frames.trace" 4 > "$TMP/n" &&
	"$B/tests/retrace" "$TMP/py.trace" "$TMP/bad.trace" 4 5 > /dev/null
whole=$("$PT" dump --summary "$TMP/frames.trace" 2> /dev/null | sed -n 's/^summary: events \([0-9]*\) .*/\1/p')
got=$("$PT" dump --summary "$TMP/bad.trace" 2> "$TMP/bad.err" | sed -n 's/^summary: events \([0-9]*\) .*/\1/p')
rc=$?
"$PT" report --json "$TMP/bad.trace" > "$TMP/bad.json" 2> /dev/null
rrc=$?
read_json=$(python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["trace"]["read"]
print(r["skipped_chunks"], r["partial"])' "$TMP/bad.json" 2>&1)
if [ "$(cat "$TMP/n")" -lt 12 ]; then
	fail "the damaged trace test needs 12 chunks, the trace has $(cat "$TMP/n")"
elif [ "$rrc" -ne 4 ] || [ "$read_json" != "3 True" ]; then
	echo "report exit $rrc, read: $read_json" > "$TMP/why"
	cat "$TMP/bad.err" >> "$TMP/why"
	fail "damaged chunk: status 4 and 3 chunks skipped" "$TMP/why"
elif ! grep -q "damaged trace: read [0-9]* of [0-9]* bytes; skipped 3 .*checksum mismatch.*partial" \
     "$TMP/bad.err"; then
	fail "damaged chunk: the warning says how much was read and where" "$TMP/bad.err"
elif [ -z "$got" ] || [ "$got" -ge "$whole" ] || [ "$got" -lt $((whole * 9 / 10)) ]; then
	fail "damaged chunk: $got of $whole events read: reading must go on past it" "$TMP/bad.err"
else
	pass "a damaged chunk: $got of $whole events read past it, 3 chunks skipped, status 4"
fi
# a damaged chunk header: found again by its magic; the cut trace's status is 0
cp "$TMP/frames.trace" "$TMP/hdr.trace"
off=$(python3 -c 'import struct,sys; d = open(sys.argv[1], "rb").read()
o = struct.unpack_from("<I", d, 12)[0]
for i in range(5): o += 40 + struct.unpack_from("<I", d, o + 12)[0]
print(o)' "$TMP/hdr.trace")
printf '\377' | dd of="$TMP/hdr.trace" bs=1 seek=$((off + 4)) conv=notrunc 2> /dev/null
"$PT" report "$TMP/hdr.trace" > /dev/null 2> "$TMP/hdr.err"
rc=$?
if [ $rc -eq 4 ] && grep -q "damaged chunk header at offset $off" "$TMP/hdr.err"; then
	pass "a damaged chunk header: skipped to the next one, status 4"
else
	fail "a damaged chunk header: exit $rc" "$TMP/hdr.err"
fi
head -c $(($(wc -c < "$T") - 7)) "$T" > "$TMP/cut.trace"
expect "a trace cut short at its end (a killed program): status 0" 0 "cut short" \
	"$PT" report "$TMP/cut.trace"

# a closed pipe, SIGPIPE ignored (as under some supervisors): EPIPE is an error
(trap '' PIPE; "$PT" dump "$TMP/py.trace" 2> "$TMP/pipe.err" | head -c 10 > /dev/null; exit 0)
sleep 0
if grep -q "cannot write standard output: Broken pipe" "$TMP/pipe.err" &&
   [ "$(wc -l < "$TMP/pipe.err")" -eq 1 ]; then
	pass "a closed pipe with SIGPIPE ignored: one line, Broken pipe"
else
	fail "a closed pipe with SIGPIPE ignored" "$TMP/pipe.err"
fi

# --- pooltrace run ------------------------------------------------------------------
mkdir -p "$TMP/r"
"$PT" run -q -o "$TMP/r/t.%p.trace" -- /bin/true 2> "$TMP/r1.err"
"$PT" run -q -o "$TMP/r/t.%p.trace" -- /bin/true 2> "$TMP/r2.err"
first=$(sed -n 's/^pooltrace: 1 trace written: //p' "$TMP/r1.err")
second=$(sed -n 's/^pooltrace: 1 trace written: //p' "$TMP/r2.err")
if [ -n "$first" ] && [ -n "$second" ] && [ "$first" != "$second" ] &&
   ! grep -q "$first" "$TMP/r2.err" && [ "$(ls "$TMP/r" | wc -l)" -eq 2 ]; then
	pass "run names exactly the trace of its own program (not the run before's)"
else
	cat "$TMP/r1.err" "$TMP/r2.err" > "$TMP/why"
	fail "run lists another run's trace as its own" "$TMP/why"
fi

# a parent that starts two children: all of them, none, or by name (env
# execs true: its trace is named true)
CHILDREN='import subprocess; subprocess.run(["/bin/ls", "/"], stdout=subprocess.DEVNULL); subprocess.run(["/usr/bin/env", "true"])'
count() {   # count WHICH: traces written with --children WHICH
	rm -rf "$TMP/c"
	mkdir "$TMP/c"
	"$PT" run -q --children "$1" -o "$TMP/c/%e.%p.trace" -- /usr/bin/python3 -c "$CHILDREN" \
		2> "$TMP/c.err"
	ls "$TMP/c" | sed 's/\.[0-9]*\.trace$//' | sort | tr '\n' ' '
}
all=$(count all)
none=$(count none)
byname=$(count 'l?')
"$PT" run -q --no-children -o "$TMP/c/n.%p.trace" -- /usr/bin/python3 -c "$CHILDREN" 2> /dev/null
nc=$(ls "$TMP/c" | grep -c '^n\.')
if [ "$all" = "ls python3 true " ] && [ "$none" = "python3 " ] && [ "$byname" = "ls python3 " ] &&
   [ "$nc" -eq 1 ] && grep -q "^pooltrace: 2 traces written:" "$TMP/c.err"; then
	pass "run --children all|none|NAME, --no-children: the traces of the processes chosen"
else
	echo "all: '$all' none: '$none' l?: '$byname' --no-children: $nc" > "$TMP/why"
	cat "$TMP/c.err" >> "$TMP/why"
	fail "run --children" "$TMP/why"
fi

# -o without a value must not eat --; a missing or unwritable directory
cd "$TMP/r" || exit 1
expect "run -o --: -o needs a value" 2 "-o needs a value" "$PT" run -o -- /bin/true
[ -e "$TMP/r/--" ] && fail "run -o -- made a file named --"
cd - > /dev/null || exit 1
expect "run -o MISSING/x: says so, runs nothing" 2 \
	"cannot write traces in $TMP/missing: No such file or directory" \
	"$PT" run -o "$TMP/missing/x.trace" -- /bin/touch "$TMP/ran"
[ -e "$TMP/ran" ] && fail "run with a missing directory ran the program"
expect "run -o FILE/x: one line with the reason" 2 "cannot write traces in $T: Not a directory" \
	"$PT" run -o "$T/x.trace" -- /bin/true

# the summary at the end
"$PT" run -o "$TMP/s.trace" -- "$B/tests/leak_prog" > /dev/null 2> "$TMP/s.err"
if grep -q "^pooltrace: 1 trace written: $TMP/s.trace$" "$TMP/s.err" &&
   grep -q "^pooltrace: $TMP/s.trace: malloc [0-9,]*, free [0-9,]*, realloc 0; peak heap " \
        "$TMP/s.err" &&
   grep -q "^pooltrace: lost: 4.37 KiB definitely, 208 B indirectly (244 B still reachable)" \
        "$TMP/s.err" &&
   grep -q "^pooltrace: next: pooltrace report $TMP/s.trace" "$TMP/s.err"; then
	pass "run ends with the trace, calls, peak, lost bytes and the next commands"
else
	fail "run's summary" "$TMP/s.err"
fi

# --- --bytes: exact counts ------------------------------------------------------------
"$PT" leaks --bytes "$T" > "$TMP/bytes.out"
if grep -q "definitely lost: 4,472 B in 8 blocks" "$TMP/bytes.out" &&
   ! grep -q "KiB" "$TMP/bytes.out"; then
	pass "leaks --bytes: exact byte counts"
else
	fail "leaks --bytes" "$TMP/bytes.out"
fi

# --- symbolize: addresses of a file, operands or one a line on stdin -------------------
LP=$B/tests/leak_prog
A=$(nm "$LP" | awk '/ lose_direct$/ { sub(/^0+/, "", $1); print $1 }')
"$PT" symbolize --module "$LP" "0x$A" > "$TMP/sym.out" 2> "$TMP/sym.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(head -1 "$TMP/sym.out")" = "lose_direct (tests/leak_prog.c:36)" ] &&
   [ "$(sed -n 2p "$TMP/sym.out")" = "" ] && [ ! -s "$TMP/sym.err" ]; then
	pass "symbolize --module FILE ADDRESS: function (file:line), then an empty line"
else
	fail "symbolize --module: exit $rc" "$TMP/sym.out"
fi
BID=$(readelf -n "$LP" | awk '/Build ID/ { print $3 }')
printf '"%s" %s %s\n"%s" 0x%s 00ff\nnot-an-address\n' "$LP" "$A" "$BID" "$LP" "$A" |
	"$PT" symbolize > "$TMP/sym.out" 2> "$TMP/sym.err"
rc=$?
if [ $rc -eq 2 ] &&
   [ "$(tr '\n' '|' < "$TMP/sym.out")" = "lose_direct (tests/leak_prog.c:36)||leak_prog+0x$A||??||" ] &&
   grep -q "warning: module $LP changed since recording (build-id differs)" "$TMP/sym.err" &&
   grep -q "symbolize: line 3: not a hexadecimal address" "$TMP/sym.err"; then
	pass "symbolize on stdin: the build id checked, a bad line answered ?? with status 2"
else
	cat "$TMP/sym.err" >> "$TMP/sym.out"
	fail "symbolize on stdin: exit $rc" "$TMP/sym.out"
fi
expect "symbolize: an address alone" 2 "ADDRESS operands need --module or --pid" "$PT" symbolize 0x10

summary
