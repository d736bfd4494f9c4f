#!/bin/sh
# test_python.sh BUILD - Python frames in the recorder's stacks (issue 14),
# on every CPython this machine has: Debian's python3.11 (libpython linked
# in statically), the python3 first on PATH (its real executable: a build
# with a shared libpython here), and any python3.X pyenv installed.
#
# For each of 3.8 to 3.13:
#   - tests/python/sites.py under `pooltrace run`, its known answers
#     checked by py_check (every site's Python frames, in order, with their
#     lines: calls, a method, generators, async, threads, exec, a callback
#     from C, recursion 64 deep, fork, multiprocessing);
#   - the recursion again at the default depth: cut, with the mark;
#   - every line table of some modules decoded as CPython decodes it
#     (pylines_check);
#   - preload/python_layout.h against the version's own headers, when they
#     are installed (Debian's python3.11-dev is: make deps).
# For a version whose frames are not read (a fake one always; 2.7, 3.6,
# 3.7 when found): one line, and native frames.  Then the reports of a
# Python trace: file:line everywhere, --native, the exports, the page.
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
T=$TMP
B=$(cd "$B" && pwd)   # the runs below change directory
PT="$B/pooltrace"
HERE=$(cd "$(dirname "$0")" && pwd)

version_of() {   # "3.11", or nothing
	"$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2> /dev/null
}

# every interpreter once (by its real path)
interpreters() {
	{
		echo /usr/bin/python3.11
		python3 -c 'import sys; print(sys.executable)' 2> /dev/null
		if command -v pyenv > /dev/null 2>&1; then
			for x in "$(pyenv root)"/versions/*/bin/python[23].*; do
				case $x in *-config|*-gdb.py|*m) continue ;; esac
				[ -x "$x" ] && echo "$x"
			done
		fi
	} | while read -r p; do
		[ -x "$p" ] && readlink -f "$p"
	done | awk '!seen[$0]++'
}

shared_libpython() {   # the libpython the interpreter at $1 is linked with
	ldd "$1" 2> /dev/null | awk '/libpython/ { print $1; exit }'
}

supported=0
shared=""
k=0
for py in $(interpreters); do
	k=$((k + 1))
	v=$(version_of "$py")
	[ -n "$v" ] || continue
	case $v in
	3.8|3.9|3.10|3.11|3.12|3.13) ;;
	*)
		# a version whose frames are not read
		d="$T/old-$v-$k"
		mkdir -p "$d"
		PYTHONMALLOC=malloc "$PT" run -o "$d/t.%p" -- "$py" -c 'x = [str(i) for i in range(100)]' \
			> /dev/null 2> "$d/err"
		n=$(grep -c "its frames are not read" "$d/err")
		if [ "$n" = 1 ] && "$PT" report "$d"/t.* 2> /dev/null |
		   grep -q "^python: .*$v.*native frames only"; then
			pass "python $v ($py): one line, native frames only"
		else
			fail "python $v ($py): want one line and the report's note" "$d/err"
		fi
		continue
		;;
	esac
	supported=$((supported + 1))
	lib=$(shared_libpython "$py")
	[ -n "$lib" ] && shared="$shared $v"
	what="python $v ($py${lib:+, $lib})"

	d="$T/sites-$v-$k"
	mkdir -p "$d"
	(cd "$d" && PYTHONMALLOC=malloc "$PT" run --depth 128 -o "$d/t.%p" -- \
		"$py" "$HERE/python/sites.py" "$d/manifest" > "$d/out" 2> "$d/err")
	if "$B/tests/py_check" "$d" "$d/manifest" 128 > "$d/check" 2>&1; then
		pass "$what: $(grep -c '^ok' "$d/check") known sites, every Python frame and line"
	else
		fail "$what: sites.py's known answers" "$d/check"
		cat "$d/err" | sed 's/^/     | /' | head -20
	fi

	d="$T/cut-$v-$k"
	mkdir -p "$d"
	PYTHONMALLOC=malloc "$PT" run -o "$d/t.%p" -- "$py" "$HERE/python/sites.py" "$d/manifest" \
		recurse > /dev/null 2>&1
	if "$B/tests/py_check" "$d" "$d/manifest" 32 cut > "$d/check" 2>&1; then
		pass "$what: recursion 64 deep at the default depth: cut, with the mark"
	else
		fail "$what: the recursion at the default depth" "$d/check"
	fi

	# Python objects by type: the census when finalization begins, the exit scan
	d="$T/types-$v-$k"
	mkdir -p "$d"
	(cd "$d" && "$PT" run -o "$d/t.%p" -- "$py" "$HERE/python/pyobjects.py" > "$d/run" 2>&1)
	prc=$?
	"$PT" leaks --by type --top 1000 --frames 3 "$d"/t.* > "$d/leaks" 2>&1
	"$PT" report --by type --top 1000 --frames 3 "$d"/t.* > "$d/report" 2>&1
	node=$(grep -n "site: Node" "$HERE/python/pyobjects.py" | cut -d: -f1)
	if awk '/BEGAN TO FINALIZE/ { s = 1 } /LEFT AT EXIT/ { s = 2 }
	        s == 1 && /^ +1,000 .* Node$/ { n1++ } s == 1 && /^ +300 .* Frozen$/ { f1++ }
	        s == 2 && / Node$/ { n2++ } s == 2 && /^ +300 .* Frozen$/ { f2++ }
	        END { exit !(n1 == 1 && f1 == 1 && n2 == 0 && f2 == 1) }' "$d/leaks" &&
	   grep -A3 "Node objects (.*), allocated at:" "$d/leaks" |
	   grep -q "make_graph (.*pyobjects.py:$node)" &&
	   [ "$(sed 1d "$d/leaks")" = "$(sed 1d "$d/report")" ] && [ $prc = 0 ]; then
		pass "$what: leaks and report --by type: 1000 Node objects at finalization (pyobjects.py:$node), 300 frozen left at exit"
	else
		cat "$d/run" >> "$d/leaks"
		fail "$what: Python objects by type (run exit $prc)" "$d/leaks"
	fi

	"$py" "$HERE/python/linetables.py" > "$T/lines-$v-$k" 2> "$T/lines-$v-$k.err" || true
	if "$B/tests/pylines_check" "$T/lines-$v-$k" > "$T/lines-$v-$k.check" 2>&1; then
		pass "$what: $(sed 's/^ok *//' "$T/lines-$v-$k.check")"
	else
		fail "$what: line tables" "$T/lines-$v-$k.check"
	fi

	inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2> /dev/null)
	if [ -f "$inc/internal/pycore_pystate.h" ]; then
		if ${CC:-cc} -I"$inc" -o "$T/offsets-$v-$k" "$HERE/py_offsets.c" > "$T/offsets-$v-$k.err" 2>&1 &&
		   "$T/offsets-$v-$k" > "$T/offsets-$v-$k.out" 2>&1; then
			pass "$what: $(sed 's/^ok *//' "$T/offsets-$v-$k.out")"
		else
			cat "$T/offsets-$v-$k.out" >> "$T/offsets-$v-$k.err" 2> /dev/null
			fail "$what: python_layout.h against its headers" "$T/offsets-$v-$k.err"
		fi
	elif [ "$py" = /usr/bin/python3.11 ]; then
		fail "$what: no internal headers in $inc (make deps installs python3.11-dev)"
	else
		skip "$what: offsets" "no internal headers in $inc"
	fi
done
[ "$supported" -ge 1 ] || fail "no CPython 3.8-3.13 found (make deps installs python3.11)"
if [ -n "$shared" ]; then
	pass "a build with a shared libpython was among them:$shared"
else
	skip "shared libpython" "no CPython built with --enable-shared found"
fi

# a version whose frames are not read, always at hand
d="$T/fake"
mkdir -p "$d"
"$PT" run -o "$d/t.%p" -- "$B/tests/fake_python" > /dev/null 2> "$d/err"
if [ "$(grep -c 'CPython 3.99.1: its frames are not read' "$d/err")" = 1 ] &&
   "$PT" report "$d"/t.* > "$d/report" 2>&1 &&
   grep -q "^python:     CPython 3.99.1, a version whose frames are not read" "$d/report" &&
   grep -q "at work (.*fake_python.c:" "$d/report"; then
	pass "an unsupported version (fake 3.99): one line, native frames"
else
	cat "$d/report" >> "$d/err" 2> /dev/null
	fail "an unsupported version (fake 3.99)" "$d/err"
fi

# a build whose objects are not laid out as a release build's
d="$T/fake-layout"
mkdir -p "$d"
"$PT" run -o "$d/t.%p" -- "$B/tests/fake_python_layout" > /dev/null 2> "$d/err"
if [ "$(grep -c 'CPython 3.11.99: its objects are not laid out' "$d/err")" = 1 ] &&
   "$PT" report "$d"/t.* > "$d/report" 2>&1 &&
   grep -q "^python:     CPython 3.11.99, a version whose frames are not read" "$d/report" &&
   grep -q "at work (.*fake_python.c:" "$d/report"; then
	pass "a 3.11 whose objects are laid out otherwise (fake): one line, native frames"
else
	cat "$d/report" >> "$d/err" 2> /dev/null
	fail "a 3.11 laid out otherwise (fake)" "$d/err"
fi

# ---- the reports of a Python trace -----------------------------------------------
PY=/usr/bin/python3.11
d="$T/rep"
mkdir -p "$d"
(cd "$d" && PYTHONMALLOC=malloc "$PT" run -o "$d/t.%p" -- "$PY" "$HERE/python/sites.py" \
	"$d/manifest" > /dev/null 2>&1)
main=$(head -1 "$d/manifest" | cut -f1)
TR="$d/t.$main"
"$PT" report --top 1000 --frames 8 "$TR" > "$d/report" 2>&1
grep -q "^python:     CPython 3.11" "$d/report" &&
	grep -q "at leaf (.*/sites.py:[0-9]*)" "$d/report" &&
	grep -q "at main (.*/sites.py:" "$d/report" &&
	! grep -q "_PyEval_EvalFrameDefault" "$d/report" &&
	pass "report: Python frames with file:line, no interpreter frame" ||
	fail "report of a Python trace" "$d/report"
"$PT" report --native --top 1000 --frames 60 "$TR" > "$d/native" 2>&1
grep -q "at _PyEval_EvalFrameDefault" "$d/native" && grep -q "at leaf" "$d/native" &&
	pass "report --native: the interpreter's frames too" ||
	fail "report --native" "$d/native"
"$PT" leaks --frames 8 "$TR" > "$d/leaks" 2>&1
grep -q "^python:" "$d/leaks" && pass "leaks: the heading names the interpreter" ||
	fail "leaks of a Python trace" "$d/leaks"
# the options of Python programs in the command line's forms
"$PT" report --by=type --top 3 "$TR" > "$d/bytype" 2>&1
st1=$?
"$PT" leaks --json --by type "$TR" > "$d/bytype-json" 2>&1
st2=$?
"$PT" report --native --frames 60 --json "$TR" > "$d/native.json" 2> /dev/null
if [ $st1 = 0 ] && grep -q "^pooltrace report --by type" "$d/bytype" && [ $st2 = 2 ] &&
   grep -q "has no JSON form" "$d/bytype-json" && grep -q "_PyEval_EvalFrameDefault" "$d/native.json" &&
   "$PT" report --help | grep -q -- "--by type" && "$PT" frag --help | grep -q -- "--native"; then
	pass "--by=type, --by type --json refused (exit 2), --native with --json, both in --help"
else
	fail "the Python options on the command line: exit $st1, $st2" "$d/bytype-json"
fi
for fmt in folded speedscope massif; do
	what=allocated
	[ $fmt = massif ] && what=peak
	"$PT" export --format $fmt --what $what -o "$d/x.$fmt" "$TR" 2> "$d/x.err"
	case $fmt in
	folded) want='main;middle;leaf ' ;;
	speedscope) want='"name":"Holder.fill","file":"[^"]*sites.py"' ;;
	massif) want='worker (.*sites.py:[0-9]*)' ;;
	esac
	grep -q "$want" "$d/x.$fmt" && pass "export $fmt: Python frames" ||
		fail "export $fmt: no '$want'" "$d/x.err"
done
"$PT" html -o "$d/page.html" "$TR" 2> "$d/html.err"
grep -q "\"leaf\"" "$d/page.html" && grep -q "sites.py" "$d/page.html" &&
	pass "html: Python functions and files in the page" || fail "html of a Python trace" "$d/html.err"
mkdir -p "$d/base"
PYTHONMALLOC=malloc "$PT" run -o "$d/base/t.%p" -- "$PY" "$HERE/python/sites.py" \
	"$d/base/manifest" recurse > /dev/null 2>&1
"$PT" diff --top 100 "$d"/base/t.* "$TR" > "$d/diff" 2>&1
grep -q "at leaf (.*/sites.py:[0-9]*)" "$d/diff" && pass "diff: Python frames with file:line" ||
	fail "diff of Python traces" "$d/diff"

# frag: the arenas a few Python objects pin, with their Python lines
d="$T/pinned"
mkdir -p "$d"
(cd "$d" && "$PT" run -o "$d/t.%p" -- "$PY" "$HERE/python/pinned.py" > /dev/null 2>&1)
"$PT" frag --top 3 --frames 3 "$d"/t.* > "$d/frag" 2>&1
line=$(grep -n "site: pinned" "$HERE/python/pinned.py" | cut -d: -f1)
sed -n '/PINNED ARENAS at the peak/,/PINNED ARENAS at the exit/p' "$d/frag" |
	grep -q "at <module> (.*pinned.py:$line)" &&
	pass "frag: pinned arenas at the peak, with the Python lines of their blocks" ||
	fail "frag of a Python trace: no pinned arena with pinned.py:$line" "$d/frag"

# pooltrace run and PYTHONMALLOC: set for a Python program and the Python
# programs it starts (one line), kept with --pymalloc, never overridden
d="$T/run"
mkdir -p "$d/a" "$d/b" "$d/c" "$d/d"
child='import subprocess, sys; subprocess.run([sys.executable, "-c", "x = [1] * 10"])'
(cd "$d/a" && "$PT" run -- "$PY" -c "$child" > /dev/null 2> "$d/a.err")
n=$(grep -c "is Python: PYTHONMALLOC=malloc" "$d/a.err")
notes=$(for f in "$d"/a/pooltrace.*; do "$PT" report "$f" 2> /dev/null; done | grep -c "pymalloc served")
[ "$n" = 1 ] && [ "$(ls "$d"/a/pooltrace.* | wc -l)" = 2 ] && [ "$notes" = 0 ] &&
	pass "run: PYTHONMALLOC=malloc for Python and its Python child, in one line" ||
	fail "run: PYTHONMALLOC=malloc ($n lines, $notes traces say pymalloc)" "$d/a.err"
(cd "$d/b" && "$PT" run --pymalloc -- "$PY" -c "x = 1" > /dev/null 2> "$d/b.err")
! grep -q "PYTHONMALLOC" "$d/b.err" &&
	"$PT" report "$d"/b/pooltrace.* 2> /dev/null | grep -q "^ *pymalloc served objects" &&
	pass "run --pymalloc: pymalloc kept, and the report says so" ||
	fail "run --pymalloc" "$d/b.err"
(cd "$d/c" && PYTHONMALLOC=pymalloc "$PT" run -- "$PY" -c "x = 1" > /dev/null 2> "$d/c.err")
! grep -q "PYTHONMALLOC" "$d/c.err" &&
	"$PT" report "$d"/c/pooltrace.* 2> /dev/null | grep -q "^ *pymalloc served objects" &&
	pass "run: the user's PYTHONMALLOC is kept" || fail "run: the user's PYTHONMALLOC" "$d/c.err"
printf '#!/usr/bin/env python3\nx = 1\n' > "$d/script"
chmod +x "$d/script"
(cd "$d/d" && "$PT" run -- "$d/script" > /dev/null 2> "$d/d.err")
grep -q "is Python: PYTHONMALLOC=malloc" "$d/d.err" &&
	pass "run: a script whose #! line names python is Python" || fail "run: a Python script" "$d/d.err"

# a subset of CPython's own test suite, profiled, still passes: Debian's
# python3.11, and the python3 first on PATH when it is another build (here
# a shim of pyenv's, a script that runs a build with a shared libpython).
# SIGINT back to its default: test_generators raises it and expects
# KeyboardInterrupt, which CPython cannot give where the shell that started
# `make check` in the background made it ignored (it fails so without
# pooltrace too).
regr() {   # regr NAME PYTHON
	d="$T/regr-$1"
	mkdir -p "$d"
	if (cd "$d" && env --default-signal=INT "$PT" run -o "$d/t.%p" -- "$2" -m test \
		test_json test_generators \
		test_coroutines test_contextlib > "$d/out" 2>&1); then
		ok=0
		for tr in "$d"/t.*; do
			"$PT" report --top 3 --frames 30 "$tr" 2> /dev/null |
				grep -q "(.*/test/.*\.py:[0-9]*)" && ok=1
		done
		if [ $ok = 1 ]; then
			pass "$1 -m test (4 modules) passes under pooltrace run, with Python frames"
		else
			fail "$1 -m test under pooltrace run: no frame of the test suite in the reports"
		fi
	else
		fail "$1 -m test under pooltrace run" "$d/out"
		tail -25 "$d/out" | sed "s/^/     | /"
	fi
}
regr python3.11 "$PY"
real=$(python3 -c 'import sys; print(sys.executable)' 2> /dev/null)
if [ -n "$real" ] && [ "$(readlink -f "$real")" != "$(readlink -f "$PY")" ]; then
	regr "python3 (PATH: $real)" python3
else
	skip "python3 on PATH" "it is Debian's python3.11"
fi

summary
