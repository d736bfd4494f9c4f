#!/bin/sh
# test_export.sh BUILD_DIR - pooltrace export, each format read back by what
# reads it: ms_print (massif), go tool pprof (pprof: totals against report's,
# -traces, two profiles merged), google-pprof (pprof-text), flamegraph.pl's line
# regex (folded), python3's json and the rules of speedscope's schema
# (speedscope); then the errors: a bad option, an unreadable trace, an
# unwritable output (no file left behind).
#
# The program recorded, tests/exp_prog.c, allocates known amounts from
# known functions: at the peak alloc_c 5000 B, alloc_a 3000 B (3 blocks, two
# stacks: two lines of main), alloc_b 200 B, alloc_d 50 B (under massif's
# 1%); at the end alloc_a 3000 B and alloc_d 50 B; alloc_t 300 B and alloc_c
# 5000 B are temporaries.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
PT=$B/pooltrace
PROG=$B/tests/exp_prog

have() { command -v "$1" > /dev/null 2>&1; }

# ex OUT ARGS...: pooltrace export ARGS -o OUT, its stderr in OUT.err
ex() {
	out=$1
	shift
	"$PT" export "$@" -o "$out" 2> "$out.err"
}

# leaves FOLDED: the "alloc_x BYTES" of the stacks that end in an alloc_
# function, in the file's order, on one line
leaves() {
	sed -n 's/.*;\(alloc_[a-z]\) \([0-9]*\)$/\1 \2/p' "$1" | tr '\n' ' ' | sed 's/ $//'
}

# flamegraph.pl's own regex for a folded line
folded_lines_ok() {
	perl -ne 'exit 1 unless /^(.*)\s+?(\d+(?:\.\d*)?)$/' "$1"
}

mkdir -p "$B/tests"
if ! ${CC:-cc} -std=gnu11 -g -O0 -o "$PROG" "$(dirname "$0")/exp_prog.c" > "$TMP/cc.out" 2>&1; then
	fail "compile tests/exp_prog.c" "$TMP/cc.out"
	summary
	exit 1
fi
T=$TMP/exp.trace
if ! "$PT" run -o "$T" -- "$PROG" > "$TMP/run.out" 2>&1 || [ ! -s "$T" ]; then
	fail "pooltrace run -- $PROG" "$TMP/run.out"
	summary
	exit 1
fi

# --- massif --------------------------------------------------------------------
if ! have ms_print; then
	skip "massif" "ms_print (valgrind) missing"
elif ! ex "$TMP/m.out" --format massif "$T"; then
	fail "massif: export failed" "$TMP/m.out.err"
elif ! ms_print "$TMP/m.out" > "$TMP/ms.txt" 2>&1; then
	fail "massif: ms_print rejects the file" "$TMP/ms.txt"
elif ! grep -q '(3,000B) 0x[0-9A-F]*: alloc_a ' "$TMP/ms.txt"; then
	fail "massif: ms_print shows no alloc_a with 3,000 B" "$TMP/ms.txt"
else
	# one peak tree: alloc_a 3000, alloc_c 5000, alloc_d's 50 in the
	# line of the places under 1%; the last snapshot a detailed tree of
	# the end: alloc_a 3000, alloc_d 50, no alloc_c
	got=$(awk '/^heap_tree=/ { tree = substr($0, 11); la = lc = ld = "-" }
	           /^heap_tree=peak$/ { np++ }
	           $4 == "alloc_a" { if (tree == "peak") pa = $2; la = $2 }
	           $4 == "alloc_c" { if (tree == "peak") pc = $2; lc = $2 }
	           $4 == "alloc_d" { ld = $2 }
	           /^ n0: [0-9]+ in 1 place, below massif.s threshold \(1\.00%\)$/ {
	                   if (tree == "peak") pi = $2 }
	           END { print np + 0, pa, pc, pi, tree, la, lc, ld }' "$TMP/m.out")
	want="1 3000 5000 50 detailed 3000 - 50"
	if [ "$got" = "$want" ]; then
		pass "massif: ms_print reads it; peak tree and end tree as allocated"
	else
		echo "peak trees, their alloc_a, alloc_c, under 1%; last tree, its" \
		     "alloc_a, alloc_c, alloc_d: got '$got', want '$want'" > "$TMP/why"
		cat "$TMP/m.out" >> "$TMP/why"
		fail "massif: the trees" "$TMP/why"
	fi
fi

# --- pprof -----------------------------------------------------------------------
N='[0-9][0-9]*'
# pprof_has VIEW FUNC VALUE: google-pprof --text VIEW gives FUNC the flat VALUE
pprof_has() {
	google-pprof --text --show_bytes "$1" "$PROG" "$TMP/p.heap" > "$TMP/pp.txt" 2>&1 &&
		awk -v f="$2" -v v="$3" '$NF == f && $1 == v { ok = 1 } END { exit !ok }' \
		    "$TMP/pp.txt"
}
if ! have google-pprof; then
	skip "pprof" "google-pprof (google-perftools) missing"
elif ! ex "$TMP/p.heap" --format pprof-text "$T"; then
	fail "pprof: export failed" "$TMP/p.heap.err"
elif ! head -1 "$TMP/p.heap" |
     grep -q "^heap profile: *$N:  *$N \\[ *$N:  *$N\\] @ heapprofile\$"; then
	fail "pprof: header line" "$TMP/p.heap"
elif ! pprof_has --inuse_space alloc_a 3000; then
	fail "pprof: google-pprof --text gives alloc_a no 3000 B in use" "$TMP/pp.txt"
elif ! pprof_has --inuse_objects alloc_a 3; then
	fail "pprof: google-pprof --inuse_objects gives alloc_a no 3 blocks" "$TMP/pp.txt"
elif ! pprof_has --alloc_space alloc_t 300; then
	fail "pprof: google-pprof --alloc_space gives alloc_t no 300 B" "$TMP/pp.txt"
else
	pass "pprof: google-pprof reads it: alloc_a 3000 B in 3 blocks, alloc_t 300 B allocated"
fi

# --- pprof: profile.proto through go tool pprof ----------------------------------------
# totals: go tool pprof's "Total samples = NB" against report --bytes
gopprof() {
	HOME=$TMP GOCACHE=$TMP/gocache GOPATH=$TMP/go GOTOOLCHAIN=local GOFLAGS= \
		timeout 120 go tool pprof "$@" 2> "$TMP/gp.err"
}
total_of() {   # total_of SAMPLE_INDEX FILE...: the total in bytes or objects
	idx=$1
	shift
	gopprof -top -unit=B -sample_index="$idx" "$@" |
		sed -n 's/.*Total samples = \([0-9]*\)B* *$/\1/p'
}
exact() {      # exact LABEL: the exact figure after LABEL in report --bytes
	"$PT" report --bytes "$T" 2> /dev/null | sed -n "s/^$1 *\([0-9,]*\) B.*/\1/p" | tr -d ,
}
if ! have go; then
	skip "pprof" "go (golang-go) missing: make deps"
elif ! ex "$TMP/p.pb.gz" --format pprof "$T"; then
	fail "pprof: export failed" "$TMP/p.pb.gz.err"
elif [ "$(head -c 2 "$TMP/p.pb.gz" | od -An -tx1 | tr -d ' ')" != 1f8b ]; then
	fail "pprof: not gzip-compressed"
else
	peak=$(exact "peak heap:") alloc=$(exact "allocated:")
	inuse=$(total_of inuse_space "$TMP/p.pb.gz") all=$(total_of alloc_space "$TMP/p.pb.gz")
	objs=$(gopprof -top -sample_index=inuse_objects "$TMP/p.pb.gz" |
	       awk '$NF == "alloc_a" { print $1 }')
	gopprof -traces -sample_index=inuse_space "$TMP/p.pb.gz" > "$TMP/traces.txt"
	merged=$(total_of alloc_space "$TMP/p.pb.gz" "$TMP/p.pb.gz")
	if [ -z "$peak" ] || [ "$inuse" != "$peak" ] || [ "$all" != "$alloc" ]; then
		echo "inuse_space $inuse, report's peak $peak; alloc_space $all, allocated $alloc" \
			> "$TMP/why"
		cat "$TMP/gp.err" >> "$TMP/why"
		fail "pprof: go tool pprof's totals are not report's" "$TMP/why"
	elif [ "$objs" != 3 ]; then
		fail "pprof: go tool pprof -top gives alloc_a $objs objects in use, want 3" "$TMP/gp.err"
	elif ! awk '/^-+\+/ { n = 0; next } { n++; f[n] = $NF }
	            n == 2 && f[1] == "alloc_a" && f[2] == "main" { ok = 1 }
	            END { exit !ok }' "$TMP/traces.txt"; then
		fail "pprof: go tool pprof -traces has no stack alloc_a <- main" "$TMP/traces.txt"
	elif [ "$merged" != $((2 * alloc)) ]; then
		fail "pprof: two profiles merged: alloc_space $merged, want $((2 * alloc))" "$TMP/gp.err"
	else
		pass "pprof: go tool pprof: inuse_space $inuse B = report's peak, alloc_space $all B = allocated; alloc_a 3 objects under main; two profiles merge"
	fi
fi

# --- folded ----------------------------------------------------------------------
# the leaves in order of bytes; alloc_a's two stacks (they differ in main's
# line only) one line
for what in peak leaks allocated temporary; do
	case $what in
	peak)      want="alloc_c 5000 alloc_a 3000 alloc_b 200 alloc_d 50" ;;
	leaks)     want="alloc_a 3000 alloc_d 50" ;;
	allocated) want="alloc_c 5000 alloc_a 3000 alloc_t 300 alloc_b 200 alloc_d 50" ;;
	temporary) want="alloc_c 5000 alloc_t 300" ;;
	esac
	f=$TMP/f.$what
	if ! ex "$f" --format folded --what $what "$T"; then
		fail "folded --what $what: export failed" "$f.err"
	elif ! folded_lines_ok "$f"; then
		fail "folded --what $what: a line flamegraph.pl cannot read" "$f"
	elif [ "$(leaves "$f")" != "$want" ]; then
		echo "got '$(leaves "$f")', want '$want'" > "$TMP/why"
		cat "$f" >> "$TMP/why"
		fail "folded --what $what: the allocating functions" "$TMP/why"
	elif [ $what = peak ] && ! grep -q ';main;alloc_a 3000$' "$f"; then
		fail "folded: no line ending ';main;alloc_a 3000'" "$f"
	else
		pass "folded --what $what: $want"
	fi
done

# --- speedscope ------------------------------------------------------------------
# speedscope_ok FILE EXE: the file is JSON as speedscope's schema wants it:
# every sample's indexes are frames, one weight per sample, weights summing
# to endValue, no frame twice; the profile's name ends with EXE (bytes
# that are not UTF-8 as U+FFFD); and when EXE is the test program, alloc_a
# has 3000 B, always with main its caller.
speedscope_ok() {
	python3 - "$1" "$2" "$PROG" <<'EOF'
import json, os, sys
path, exe, prog = sys.argv[1], sys.argv[2], sys.argv[3]
def die(msg):
    print(msg)
    sys.exit(1)
try:
    d = json.load(open(path, encoding="utf-8"))
except ValueError as e:
    die("not JSON: %s" % e)
if d.get("$schema") != "https://www.speedscope.app/file-format-schema.json":
    die("no $schema")
frames = d["shared"]["frames"]
if not all(isinstance(f.get("name"), str) and f["name"] for f in frames):
    die("a frame without a name")
if len({json.dumps(f, sort_keys=True) for f in frames}) != len(frames):
    die("a frame twice")
if len(d["profiles"]) != 1:
    die("%d profiles" % len(d["profiles"]))
p = d["profiles"][0]
if p["type"] != "sampled" or p["unit"] != "bytes":
    die("type %s unit %s" % (p["type"], p["unit"]))
samples, weights = p["samples"], p["weights"]
if len(samples) != len(weights):
    die("%d samples, %d weights" % (len(samples), len(weights)))
for s in samples:
    if not s or not all(isinstance(i, int) and 0 <= i < len(frames) for i in s):
        die("a sample out of range: %s" % s)
if sum(weights) != p["endValue"] - p["startValue"]:
    die("weights sum to %d, endValue %d" % (sum(weights), p["endValue"]))
want = os.fsencode(exe).decode("utf-8", "replace")
if not p["name"].endswith(want) or d["name"] != want:
    die("names %r %r, want %r" % (p["name"], d["name"], want))
if exe == prog:
    a = [(s, w) for s, w in zip(samples, weights) if frames[s[-1]]["name"] == "alloc_a"]
    if sum(w for s, w in a) != 3000:
        die("alloc_a samples: %s" % a)
    if any(len(s) < 2 or frames[s[-2]]["name"] != "main" for s, w in a):
        die("alloc_a not called from main: %s" % a)
EOF
}
if ! have python3; then
	skip "speedscope" "python3 missing"
elif ! ex "$TMP/s.json" --format speedscope "$T"; then
	fail "speedscope: export failed" "$TMP/s.json.err"
elif ! speedscope_ok "$TMP/s.json" "$(cd "$B/tests" && pwd -P)/exp_prog" > "$TMP/why" 2>&1; then
	cat "$TMP/s.json" >> "$TMP/why"
	fail "speedscope" "$TMP/why"
else
	pass "speedscope: valid JSON, frames/samples/weights consistent, alloc_a 3000 B under main"
fi

# The program without its symbols, as "exp;prog" in a directory named with
# a quote, a backslash, a tab and a byte that is not UTF-8: the path is in
# the speedscope frames and names; the frames are named "exp;prog+0xOFF",
# which folded must write without its ';'.
W="$TMP/$(printf 'we"ird\\dir\t\303\251\377')"
mkdir -p "$W" && strip -o "$W/exp;prog" "$PROG"
if ! "$PT" run -o "$TMP/w.trace" -- "$W/exp;prog" > "$TMP/run.out" 2>&1; then
	fail "pooltrace run -- (a program in an oddly named directory)" "$TMP/run.out"
elif ! ex "$TMP/w.json" --format speedscope "$TMP/w.trace" ||
     ! speedscope_ok "$TMP/w.json" "$(cd "$W" && pwd -P)/exp;prog" > "$TMP/why" 2>&1; then
	cat "$TMP/w.json.err" "$TMP/w.json" >> "$TMP/why"
	fail "speedscope: JSON escaping of an odd path" "$TMP/why"
elif ! ex "$TMP/w.folded" --format folded "$TMP/w.trace" || ! folded_lines_ok "$TMP/w.folded" ||
     ! grep -q '^exp:prog+0x[0-9a-f]*;' "$TMP/w.folded" || grep -q 'exp;prog' "$TMP/w.folded"; then
	fail "folded: frames named 'exp;prog+0xOFF'" "$TMP/w.folded"
else
	pass "speedscope and folded: a path with '\"', '\\', a tab, a non-UTF-8 byte and a ';'"
fi

# --- the command -----------------------------------------------------------------
if ! "$PT" export --format folded "$T" > "$TMP/stdout" 2> "$TMP/err" ||
   ! "$PT" export --format folded -o - "$T" > "$TMP/dash" 2>> "$TMP/err"; then
	fail "standard output: export failed" "$TMP/err"
elif ! cmp -s "$TMP/stdout" "$TMP/dash" || ! cmp -s "$TMP/stdout" "$TMP/f.peak"; then
	diff "$TMP/stdout" "$TMP/dash" > "$TMP/diff"
	diff "$TMP/stdout" "$TMP/f.peak" >> "$TMP/diff"
	fail "standard output (no -o, -o -) differs from -o FILE" "$TMP/diff"
else
	pass "no -o, -o - and -o FILE write the same"
fi

# expect_error NAME STATUS PATTERN CMD...: CMD exits with STATUS, and its
# stderr's first line matches PATTERN (and is its only line with STATUS 2)
expect_error() {
	name=$1 want=$2 pat=$3
	shift 3
	"$@" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	if [ $rc -ne "$want" ]; then
		fail "$name: exit status $rc, want $want" "$TMP/err"
	elif ! head -1 "$TMP/err" | grep -q "$pat"; then
		fail "$name: stderr does not say '$pat'" "$TMP/err"
	elif [ "$want" -ge 2 ] && [ "$(wc -l < "$TMP/err")" -ne 1 ]; then
		fail "$name: more than one line on stderr" "$TMP/err"
	elif [ -s "$TMP/out" ]; then
		fail "$name: something on stdout" "$TMP/out"
	else
		pass "$name: exit $rc, $(head -1 "$TMP/err")"
	fi
}
expect_error "unknown format" 2 "^pooltrace: .*'svg'" "$PT" export --format svg "$T"
expect_error "unknown --what" 2 "^pooltrace: .*'most'" "$PT" export --format folded --what most "$T"
expect_error "no --format" 2 "^pooltrace: .*--format" "$PT" export "$T"
expect_error "unknown option" 2 "^pooltrace: .*--bogus" "$PT" export --format folded --bogus "$T"
head -c 4096 /dev/urandom > "$TMP/garbage"
expect_error "a garbage trace" 2 "^pooltrace: .*garbage" "$PT" export --format folded "$TMP/garbage"
expect_error "a missing trace" 2 "^pooltrace: .*missing" "$PT" export --format folded "$TMP/missing"
expect_error "-o in a missing directory" 3 \
	"^pooltrace: cannot write $TMP/nodir/x: No such file or directory$" \
	"$PT" export --format pprof -o "$TMP/nodir/x" "$T"
if [ -w /dev/full ]; then
	expect_error "stdout on a full device" 3 "^pooltrace: cannot write standard output: " \
		sh -c '"$0" export --format pprof "$1" > /dev/full' "$PT" "$T"
else
	skip "stdout on a full device" "no /dev/full"
fi
# a write that fails halfway (the file size limit, SIGXFSZ ignored): an
# error, and no half-written file left
(trap '' XFSZ; ulimit -f 1 && "$PT" export --format pprof -o "$TMP/big" "$T") 2> "$TMP/err"
rc=$?
if [ $rc -ne 3 ] || ! grep -q "^pooltrace: cannot write $TMP/big: " "$TMP/err"; then
	fail "write fails halfway: exit $rc, want 3 and one error line" "$TMP/err"
elif [ -e "$TMP/big" ]; then
	fail "write fails halfway: the partial file is still there" "$TMP/err"
else
	pass "write fails halfway: exit 3, $(head -1 "$TMP/err"), file removed"
fi

summary
