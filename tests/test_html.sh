#!/bin/sh
# test_html.sh BUILD_DIR - `pooltrace html`: the page's script is valid
# JavaScript (node --check, when node is there); the page of a real trace is
# self-contained, a headless browser runs its script without an error and
# draws the timeline, the flame graphs and the tables (the function names of
# the program appear), its screenshot is not blank; the page of an empty
# trace renders too; the errors exit as documented.
#
# Needs a C compiler, python3 and chromium (the browser checks are skipped,
# with a note, without it).  Checks on the files: tests/html_check.py.
set -u
B=${1:-build}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
PT=$B/pooltrace
CHECK="python3 $HERE/html_check.py"
NAMES="html_build_list html_big_buffer html_temporaries html_leak_some html_pin_arenas"
CHROME=
for c in chromium chromium-browser google-chrome; do
	command -v $c > /dev/null 2>&1 && { CHROME=$c; break; }
done

# browser FLAG PAGE: headless chromium on PAGE (an absolute path: under
# $TMP) with FLAG, --dump-dom (the DOM into $TMP/browser.out) or
# --screenshot=PNG; a profile of its own, a minute at most
browser() {
	timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$TMP/chrome" --no-first-run --disable-extensions \
		--virtual-time-budget=5000 --window-size=1280,2000 "$1" "file://$2" \
		> "$TMP/browser.out" 2> "$TMP/browser.err"
}

# in_browser NAME FLAG PAGE CHECK-ARGS...: chromium with FLAG on PAGE, then
# html_check.py CHECK-ARGS on what it produced
in_browser() {
	name=$1 flag=$2 page=$3
	shift 3
	if ! browser "$flag" "$page"; then
		tail -20 "$TMP/browser.err" > "$TMP/check.out"
		fail "$name: chromium failed" "$TMP/check.out"
	elif $CHECK "$@" > "$TMP/check.out" 2>&1; then
		pass "$name"
	else
		fail "$name" "$TMP/check.out"
	fi
}

# --- the page's scripts, as JavaScript: a syntax check of each, and of
# them together as cmd_html.c puts them in the page (one function, strict
# mode), where node is installed (it is not among make deps; the browser
# below runs the page in any case)
JS="data draw summary timeline flame tables app"
if command -v node > /dev/null 2>&1; then
	ok=1
	{ printf '(function () {\n%s\n' "'use strict';"
	  for f in $JS; do cat "$HERE/../report/html/$f.js"; done
	  printf '})();\n'; } > "$TMP/page.js"
	for f in $JS; do
		node --check "$HERE/../report/html/$f.js" >> "$TMP/node.out" 2>&1 || ok=0
	done
	node --check "$TMP/page.js" >> "$TMP/node.out" 2>&1 || ok=0
	if [ $ok -eq 1 ]; then
		pass "report/html/*.js: node --check finds no syntax error, each and together"
	else
		fail "report/html/*.js: node --check" "$TMP/node.out"
	fi
else
	skip "node --check report/html/*.js" "node is not installed"
fi

if ! cc -std=gnu11 -O1 -g -o "$TMP/html_prog" "$HERE/html_prog.c" 2> "$TMP/cc.err"; then
	fail "compile tests/html_prog.c" "$TMP/cc.err"
	summary
	exit
fi

# --- a real trace; its command line holds markup and quotes --------------------
"$PT" run -o "$TMP/t.trace" -- "$TMP/html_prog" '</script><img src=x onerror=alert(1)>' \
	"it's & \"quoted\"" > /dev/null 2> "$TMP/run.err"
if [ $? -ne 0 ] || [ ! -s "$TMP/t.trace" ]; then
	fail "record html_prog" "$TMP/run.err"
	summary
	exit
fi
pass "record html_prog"

"$PT" html -o "$TMP/t.html" "$TMP/t.trace" > "$TMP/html.out" 2> "$TMP/html.err"
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$TMP/t.html" ] || [ -s "$TMP/html.out" ]; then
	fail "html -o: exit $rc, want 0, a page and nothing on stdout" "$TMP/html.err"
	summary
	exit
fi
pass "html -o writes the page ($(wc -c < "$TMP/t.html") bytes)"

if $CHECK page "$TMP/t.html" $NAMES > "$TMP/check.out" 2>&1; then
	pass "the page is self-contained, its data is JSON with no raw '<' and names the functions"
else
	fail "page content" "$TMP/check.out"
fi

"$PT" html "$TMP/t.trace" 2> "$TMP/html.err"
if [ $? -eq 0 ] && cmp -s "$TMP/t.html" "$TMP/t.trace.html"; then
	pass "html without -o writes TRACE.html, the same page"
else
	fail "html TRACE: no TRACE.html, or a different page" "$TMP/html.err"
fi

# --- in the browser -------------------------------------------------------------
if [ -z "$CHROME" ]; then
	skip "browser checks" "chromium is not installed"
else
	in_browser "chromium runs the page: status ok, timeline, flame graphs, functions shown" \
		--dump-dom "$TMP/t.html" dom "$TMP/browser.out" $NAMES
	in_browser "its screenshot is not blank" \
		--screenshot="$TMP/t.png" "$TMP/t.html" png "$TMP/t.png"
	# the layout, from the boxes the page reports (#layout) and the
	# screenshot of the same window: structure, not pixels of text
	if browser --screenshot="$TMP/lay.png" "$TMP/t.html#layout" &&
	   browser --dump-dom "$TMP/t.html#layout" &&
	   $CHECK layout "$TMP/browser.out" "$TMP/lay.png" > "$TMP/check.out" 2>&1; then
		pass "its layout: one column of sections in order, charts inside them, cards in the screenshot"
	else
		tail -5 "$TMP/browser.err" >> "$TMP/check.out"
		fail "the page's layout" "$TMP/check.out"
	fi
fi

# --- deep stacks cut at the recording's depth, slivers under a wide box --------
if cc -std=gnu11 -O0 -g -o "$TMP/html_deep" "$HERE/html_deep.c" 2> "$TMP/cc.err" &&
   "$PT" run -q -o "$TMP/deep.trace" -- "$TMP/html_deep" > /dev/null 2>&1 &&
   "$PT" html -o "$TMP/deep.html" "$TMP/deep.trace" 2> /dev/null &&
   $CHECK page "$TMP/deep.html" "[truncated]" big_buffer deep_alloc > "$TMP/check.out" 2>&1; then
	pass "the page of deep stacks marks the cut ones [truncated]"
	if [ -n "$CHROME" ]; then
		# 6 rows of wide boxes; the 100 deep stacks are slivers under 3 px
		in_browser "no tall column of slivers under the peak flame graph (at most 8 rows)" \
			--dump-dom "$TMP/deep.html" flame "$TMP/browser.out" flame-peak-svg 144 big_buffer
		# #fn=NAME selects a function: its callers and callees are listed
		in_browser "callers and callees of deep_alloc (#fn=deep_alloc): itself, and main" \
			--dump-dom "$TMP/deep.html#fn=deep_alloc" flame "$TMP/browser.out" flame-peak-svg 144 \
			"Callers and callees of deep_alloc" "nothing: it allocates itself"
		# #up: bottom-up, the allocating functions at the top
		in_browser "bottom-up flame graph (#up): big_buffer above main" \
			--dump-dom "$TMP/deep.html#up" flame "$TMP/browser.out" flame-peak-svg 2000 big_buffer
		if grep -q 'class="on" data-mode="up"' "$TMP/browser.out"; then
			pass "the bottom-up button is on"
		else
			fail "#up: the bottom-up button is not on"
		fi
	fi
else
	cat "$TMP/cc.err" >> "$TMP/check.out"
	fail "the page of deep stacks" "$TMP/check.out"
fi

# --- a time range (#range=T0-T1): tests/peak_prog.c's spike, the step between the
# two snapshots around it: 100 blocks, 200,000 B of spike_alloc's, allocated in
# it; 40,000 B of steady_alloc's live at its end (the spike is freed by then)
if [ -n "$CHROME" ] && cc -std=gnu11 -O0 -g -o "$TMP/peak_prog" "$HERE/peak_prog.c" 2> "$TMP/cc.err" &&
   POOLTRACE_INTERVAL_MS=100 "$PT" run -q -o "$TMP/spike.trace" -- "$TMP/peak_prog" spike \
	> /dev/null 2>&1 &&
   "$PT" html -o "$TMP/spike.html" "$TMP/spike.trace" 2> /dev/null &&
   range=$("$PT" report --json "$TMP/spike.trace" | python3 -c '
import json, sys
p = json.load(sys.stdin)["peak"]
print("%d-%d" % (p["after_ns"] + 1, p["time_ns"]))'); then
	browser --dump-dom "$TMP/spike.html#range=$range"
	if grep -q 'data-pt-status="ok"' "$TMP/browser.out" &&
	   grep -q 'data-pt-range-alloc="200000" data-pt-range-alloc-n="100" data-pt-range-live="40000"' \
		"$TMP/browser.out" &&
	   $CHECK flame "$TMP/browser.out" range-flame-svg 400 spike_alloc "Clear the selection" \
		> "$TMP/check.out" 2>&1; then
		pass "#range=$range: the spike's step, 200,000 B in 100 blocks allocated, 40,000 B live at its end"
	else
		grep -o '<div id="range"[^>]*>' "$TMP/browser.out" >> "$TMP/check.out"
		fail "#range: the selection's figures or flame graph" "$TMP/check.out"
	fi
	# the same selection by the page's hook, then cleared
	cat > "$TMP/hook.html" <<HOOK
$(sed 's|</body>|<script>ptSelectRange(0, 1e15); document.body.dataset.all = document.getElementById("range").dataset.ptRangeAlloc; ptSelectRange(); document.body.dataset.cleared = document.getElementById("range").childNodes.length;</script></body>|' "$TMP/spike.html")
HOOK
	browser --dump-dom "$TMP/hook.html"
	if grep -q 'data-all="240000"' "$TMP/browser.out" && grep -q 'data-cleared="0"' "$TMP/browser.out"; then
		pass "ptSelectRange(0, end): all 240,000 B allocated; ptSelectRange(): cleared"
	else
		grep -o '<body[^>]*>' "$TMP/browser.out" > "$TMP/check.out"
		fail "ptSelectRange hook" "$TMP/check.out"
	fi
elif [ -n "$CHROME" ]; then
	fail "record and page tests/peak_prog.c's spike" "$TMP/cc.err"
fi

# --- a trace with no allocation -------------------------------------------------------
"$PT" run -o "$TMP/e.trace" -- /bin/true > /dev/null 2> "$TMP/check.out"
if "$PT" html -o "$TMP/e.html" "$TMP/e.trace" >> "$TMP/check.out" 2>&1 &&
   $CHECK page "$TMP/e.html" >> "$TMP/check.out" 2>&1; then
	pass "html of a trace with no allocation"
	[ -n "$CHROME" ] && in_browser "its page renders with status ok" \
		--dump-dom "$TMP/e.html" dom "$TMP/browser.out"
else
	fail "html of a trace with no allocation" "$TMP/check.out"
fi

# --- errors ----------------------------------------------------------------------------
# expect NAME STATUS PATTERN CMD...: CMD exits STATUS with PATTERN on stderr
expect() {
	name=$1 want=$2 pat=$3
	shift 3
	"$@" > /dev/null 2> "$TMP/err"
	rc=$?
	if [ $rc -eq "$want" ] && grep -q -- "$pat" "$TMP/err"; then
		pass "$name: exit $rc"
	else
		fail "$name: exit $rc, want $want and '$pat'" "$TMP/err"
	fi
}
expect "html into a missing directory" 3 "cannot write $TMP/none/x.html: No such file" \
	"$PT" html -o "$TMP/none/x.html" "$TMP/t.trace"
expect "html of a missing trace" 2 "missing.trace: No such file" \
	"$PT" html -o "$TMP/m.html" "$TMP/missing.trace"
expect "html with an unknown option" 2 "unknown option --bogus" "$PT" html --bogus "$TMP/t.trace"
expect "html without a trace" 2 "no trace" "$PT" html -o "$TMP/x.html"
expect "html with two traces" 2 "one trace" "$PT" html "$TMP/t.trace" "$TMP/e.trace"
[ -e "$TMP/m.html" ] && fail "html of a missing trace left $TMP/m.html"

# a write that fails half way (a file size limit of a few KiB, SIGXFSZ
# ignored): exit 3 and no partial page left
expect "html cut by a file size limit" 3 "cannot write $TMP/big.html" \
	sh -c 'trap "" XFSZ; ulimit -f 8; exec "$@"' sh "$PT" html -o "$TMP/big.html" "$TMP/t.trace"
if [ -e "$TMP/big.html" ]; then
	fail "a partial page was left behind ($(wc -c < "$TMP/big.html") bytes)"
else
	pass "no partial page left behind"
fi

summary
