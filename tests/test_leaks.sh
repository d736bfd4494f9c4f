#!/bin/sh
# test_leaks.sh BUILD - the known-answer leak suite (issue 15).
#
# Each program in tests/leaks/ says in its header comment what a correct
# leak checker reports at its exit:
#     expect[ ARGS]: definite BYTES/BLOCKS indirect BYTES/BLOCKS
# (one line per set of arguments; summed over all processes of a program
# that forks).  Each runs under pooltrace (the exit scan's LEAKS records,
# as `pooltrace dump` prints them, and `pooltrace leaks --fail-on-leak`
# must agree with them), and where installed under valgrind memcheck and
# LeakSanitizer (the program rebuilt with -fsanitize=leak).  One table
# row per program: what is expected, what each tool says.
#
# The suite fails on any disagreement that is not
#   - a deliberate rule below (RULES): where memcheck or LeakSanitizer
#     legitimately see a program otherwise, with the answer they give, or
#   - a line of tests/leaks/known-wrong.txt: where pooltrace is known to be
#     wrong today (the to-do list of issue 15).  A case listed there that
#     passes fails too ("fixed: remove it from the list"), so that the
#     list stays true.
#
# Counting conventions, the same for every tool: "definite" and "indirect"
# are memcheck's definitely and indirectly lost, LeakSanitizer's direct and
# indirect leaks; a pointer anywhere inside a block's requested bytes keeps
# it (LeakSanitizer's and pooltrace's rule), so memcheck's "possibly lost"
# (reached only through interior pointers) counts as not lost; still
# reachable blocks are not compared (LeakSanitizer does not report them,
# and libc's own differ between allocators).
#
# pooltrace runs each program LEAKS_PT_RUNS times (default 2): answers
# that differ between runs are all shown (a|b), and count as wrong.
# LEAKS_ONLY='case ...' runs only those cases (names as in the table).
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
PT=$B/pooltrace
S=tests/leaks
O=$B/tests/leaks
KNOWN=$S/known-wrong.txt
CC=${CC:-cc}
CXX=${CXX:-c++}
PT_RUNS=${LEAKS_PT_RUNS:-2}
mkdir -p "$O"

# TOOL CASE DEFINITE INDIRECT WHY: the answer memcheck or lsan gives
# instead of the program's own, on purpose.
RULES=$(cat <<'EOF'
lsan cycle 0/0 192/3 LeakSanitizer calls every block of a cycle that nothing outside reaches indirectly leaked (none is direct); memcheck and pooltrace call one of them definitely lost
lsan underscore_exit 0/0 0/0 LeakSanitizer checks from an atexit handler, which _exit() skips: no report
lsan fork_child 180/3 0/0 LeakSanitizer checks from an atexit handler: the child that ends with _exit() (24 B) is not checked
lsan malloc_zero 3/3 0/0 LeakSanitizer serves malloc(0) with a 1-byte block and counts that byte
EOF
)

# ---- build: the programs plain and with -fsanitize=leak --------------------
CFLAGS_L="-O0 -g -pthread -Wall -Wextra -Wno-unused-parameter -fno-omit-frame-pointer"
RPATH='-Wl,-rpath,$ORIGIN'

# newer OUT SRC...: true if OUT is missing or older than a SRC
newer() {
	out=$1
	shift
	[ -e "$out" ] || return 0
	[ -n "$(find "$@" -newer "$out" 2> /dev/null)" ]
}

# build OUT SRC FLAGS...: compile with CC or CXX by the source's suffix
build() {
	out=$1 src=$2
	shift 2
	newer "$out" "$src" "$S/common.h" || return 0
	case $src in
	*.cc) comp=$CXX ;;
	*) comp=$CC ;;
	esac
	# shellcheck disable=SC2086
	if ! $comp $CFLAGS_L -o "$out" "$src" "$@" > "$TMP/build.err" 2>&1; then
		fail "build $out" "$TMP/build.err"
		return 1
	fi
}

# the libraries some programs link or load: never instrumented
# (linked by their soname: found through the programs' rpath $ORIGIN)
for l in lib_tls.c lib_ctor.c lib_cxx_init.cc; do
	build "$O/${l%.*}.so" "$S/$l" -shared -fPIC -Wl,-soname,"${l%.*}.so" || exit 1
done

# link flags per program
libs_of() {
	case $1 in
	tls_dlopen) echo "-ldl $RPATH" ;;
	ctor_lib) echo "$O/lib_ctor.so $RPATH" ;;
	cxx_static_init) echo "$O/lib_cxx_init.so $RPATH" ;;
	esac
}

# LeakSanitizer works here if a program built with it reports a leak
HAVE_LSAN=0
printf '#include <stdlib.h>\nvoid *volatile p;\nint main(void) { p = malloc(7); p = 0; return 0; }\n' \
	> "$TMP/probe.c"
if $CC -fsanitize=leak -o "$TMP/probe" "$TMP/probe.c" > /dev/null 2>&1 &&
   LSAN_OPTIONS=exitcode=23 "$TMP/probe" > /dev/null 2>&1; [ $? -eq 23 ]; then
	HAVE_LSAN=1
else
	skip "LSan column" "$CC -fsanitize=leak does not build or does not report here"
fi
HAVE_VG=0
if command -v valgrind > /dev/null 2>&1; then
	HAVE_VG=1
else
	skip "memcheck column" "valgrind is not installed (make deps)"
fi

# the cases, one line "name|args|D/n I/m" per expect line of each program
: > "$TMP/cases"
for src in "$S"/*.c "$S"/*.cc; do
	name=$(basename "$src")
	name=${name%.*}
	case $name in lib_*) continue ;; esac
	# shellcheck disable=SC2046
	build "$O/$name" "$src" $(libs_of "$name") || continue
	if [ $HAVE_LSAN -eq 1 ]; then
		# shellcheck disable=SC2046
		build "$O/$name.lsan" "$src" -fsanitize=leak $(libs_of "$name") || continue
	fi
	sed -n 's@^\( \*\|//\) expect\([^:]*\): definite \([0-9]*/[0-9]*\) indirect \([0-9]*/[0-9]*\)$@\2|\3 \4@p' \
		"$src" > "$TMP/exp"
	if [ ! -s "$TMP/exp" ]; then
		fail "$name: no 'expect: definite B/N indirect B/N' line in $src"
		continue
	fi
	while IFS='|' read -r args want; do
		args=$(echo "$args" | sed 's/^ *//')
		printf '%s|%s|%s\n' "$name" "$args" "$want" >> "$TMP/cases"
	done < "$TMP/exp"
done

# ---- the tools -------------------------------------------------------------

# pooltrace: the sums of the LEAKS records of every trace, as "D/n I/m";
# "no scan" if a process wrote none.  `pooltrace leaks --fail-on-leak`
# must say the same (status 1 exactly when something is lost, the same
# block counts in its SUMMARY), else "leaks says ...".
run_pooltrace() {
	rm -f "$TMP/pt".*
	"$PT" run -o "$TMP/pt.%p.trace" -- "$@" < /dev/null > "$TMP/pt.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "exit $rc"
		return
	fi
	traces=$(ls "$TMP"/pt.*.trace 2> /dev/null)
	if [ -z "$traces" ]; then
		echo "no trace"
		return
	fi
	tot=""
	for tr in $traces; do
		"$PT" dump "$tr" > "$TMP/pt.dump" 2> "$TMP/pt.dumperr" || { echo "dump failed"; return; }
		one=$(awk '
			/^[0-9]+ leaks roots / { scans++; inl = 1; next }
			inl && $1 == "info" && $4 == "blocks" && $6 == "bytes" {
				n[$3] += $5; b[$3] += $7; next }
			{ inl = 0 }
			END {
				if (!scans) { print "none"; exit }
				printf "%d/%d %d/%d\n", b["definite"], n["definite"], b["indirect"], n["indirect"]
			}' "$TMP/pt.dump")
		if [ "$one" = none ]; then
			echo "no scan"
			return
		fi
		# the leaks command on the same trace
		"$PT" leaks --fail-on-leak "$tr" > "$TMP/pt.leaks" 2> /dev/null
		rc=$?
		dn=$(echo "$one" | sed 's@^[0-9]*/\([0-9]*\) [0-9]*/\([0-9]*\)$@\1 \2@')
		lost=$(echo "$dn" | awk '{ print ($1 + $2 > 0) }')
		sn=$(awk '/^  definitely lost:/ { d = $(NF - 1) } /^  indirectly lost:/ { i = $(NF - 1) }
		          END { print d + 0, i + 0 }' "$TMP/pt.leaks")
		if [ "$rc" -ne "$lost" ] || [ "$sn" != "$dn" ]; then
			echo "leaks says $sn blocks, exit $rc"
			return
		fi
		tot=$(printf '%s\n%s\n' "$tot" "$one" | awk -F'[/ ]' 'NF == 4 {
			a += $1; b += $2; c += $3; d += $4 } END { printf "%d/%d %d/%d\n", a, b, c, d }')
	done
	echo "$tot"
}

# memcheck: the LEAK SUMMARY of every process, summed; its possibly lost
# bytes, if any, after a " p" (not compared: see the conventions above).
# Address randomisation off: with it, a stale word that happens to point
# inside a big lost block sometimes made memcheck call it possibly lost.
NORAND=
if setarch "$(uname -m)" -R true > /dev/null 2>&1; then
	NORAND="setarch $(uname -m) -R"
fi
run_memcheck() {
	rm -f "$TMP/vg".*
	$NORAND valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=definite \
		--log-file="$TMP/vg.%p" "$@" < /dev/null > /dev/null 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "exit $rc"
		return
	fi
	awk '
		FNR == 1 { files++ }
		/All heap blocks were freed/ { done++ }
		/LEAK SUMMARY:/ { done++ }
		/definitely lost: .* bytes in / { x = $0; gsub(",", "", x); split(x, f, " ");
			for (i = 1; i <= NF; i++) if (f[i] == "lost:") { db += f[i + 1]; dn += f[i + 4] } }
		/indirectly lost: .* bytes in / { x = $0; gsub(",", "", x); split(x, f, " ");
			for (i = 1; i <= NF; i++) if (f[i] == "lost:") { ib += f[i + 1]; in_ += f[i + 4] } }
		/possibly lost: .* bytes in / { x = $0; gsub(",", "", x); split(x, f, " ");
			for (i = 1; i <= NF; i++) if (f[i] == "lost:") { pb += f[i + 1]; pn += f[i + 4] } }
		END {
			if (done < files || !files) { print "no summary"; exit }
			printf "%d/%d %d/%d", db, dn, ib, in_
			if (pn) printf " p%d/%d", pb, pn
			printf "\n"
		}' "$TMP"/vg.* 2> /dev/null || echo "no summary"
}

# LeakSanitizer: its Direct and Indirect leak lines in every process's log
run_lsan() {
	rm -f "$TMP/ls".*
	LSAN_OPTIONS="log_path=$TMP/ls:exitcode=23" "$@" < /dev/null > /dev/null 2>&1
	rc=$?
	# 23: leaks found (in this process); a report without leak lines is
	# LeakSanitizer's own failure (it cannot stop the threads, say)
	if [ $rc -ne 0 ] && [ $rc -ne 23 ]; then
		echo "exit $rc"
		return
	fi
	cat "$TMP"/ls.* 2> /dev/null | awk -v rc=$rc '
		/^(Direct|Indirect) leak of [0-9]+ byte\(s\) in [0-9]+ object\(s\)/ {
			if ($1 == "Direct") { db += $4; dn += $7 } else { ib += $4; in_ += $7 }
			lines++ }
		/LeakSanitizer has encountered a fatal error|Tracer caught signal/ { broken = 1 }
		END {
			if (broken || (rc == 23 && !lines)) { print "LSan failed"; exit }
			printf "%d/%d %d/%d\n", db, dn, ib, in_
		}'
}

known_of() {
	[ -f "$KNOWN" ] && awk -v c="$1" '$1 == c { $1 = ""; sub(/^ +/, ""); print; exit }' "$KNOWN"
}

rule_of() {   # rule_of TOOL CASE: "D/n I/m|why" or nothing
	echo "$RULES" | awk -v t="$1" -v c="$2" '$1 == t && $2 == c {
		w = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", w); print $3 " " $4 "|" w; exit }'
}

# ---- run -------------------------------------------------------------------
FMT='%-26s %-16s %-28s %-28s %-22s %s\n'
echo
printf "$FMT" case expected pooltrace memcheck LSan verdict
: > "$TMP/notes"
while IFS='|' read -r name args want; do
	id=$name${args:+:$args}
	id=$(echo "$id" | tr ' ' ',')
	if [ -n "${LEAKS_ONLY:-}" ] && ! echo " $LEAKS_ONLY " | grep -q " $id "; then
		continue
	fi
	bad="" note=""
	# pooltrace PT_RUNS times: its answer must not change from run to run
	pt=""
	i=0
	while [ $i -lt "$PT_RUNS" ]; do
		# shellcheck disable=SC2086
		one=$(run_pooltrace "$O/$name" $args)
		case "|$pt|" in
		*"|$one|"*) ;;
		*) pt=${pt:+$pt|}$one ;;
		esac
		i=$((i + 1))
	done
	known=$(known_of "$id")
	if [ "$pt" = "$want" ]; then
		ptc="$pt"
		if [ -n "$known" ]; then
			bad="$bad pooltrace-fixed"
			note="$note\n  $id: pooltrace is right now: remove it from $KNOWN"
		fi
	elif [ -n "$known" ]; then
		ptc="$pt (K)"
		note="$note\n  $id: pooltrace (K, known): $known"
	else
		ptc="$pt (!)"
		bad="$bad pooltrace"
	fi
	for tool in memcheck lsan; do
		if [ $tool = memcheck ]; then
			[ $HAVE_VG -eq 1 ] || { vgc="-"; continue; }
			# shellcheck disable=SC2086
			got=$(run_memcheck "$O/$name" $args)
			possibly=""
			case $got in
			*" p"*)
				possibly=" p${got##* p}"
				got=${got% p*}
				;;
			esac
		else
			[ $HAVE_LSAN -eq 1 ] || { lsc="-"; continue; }
			# shellcheck disable=SC2086
			got=$(run_lsan "$O/$name.lsan" $args)
		fi
		r=$(rule_of $tool "$id")
		if [ -n "$r" ]; then
			rwant=${r%%|*}
			if [ "$got" = "$rwant" ]; then
				cell="$got (R)"
				note="$note\n  $id: $tool (R, rule): ${r#*|}"
			else
				cell="$got (!)"
				bad="$bad $tool"
				note="$note\n  $id: $tool: the rule expects $rwant: ${r#*|}"
			fi
		elif [ "$got" = "$want" ]; then
			cell="$got"
		else
			cell="$got (!)"
			bad="$bad $tool"
		fi
		if [ $tool = memcheck ]; then
			vgc=$cell$possibly
			[ -n "$possibly" ] && [ "$cell" = "$got" ] && vgc="$vgc (R)"
		else
			lsc=$cell
		fi
	done
	if [ -z "$bad" ]; then
		case $ptc in
		*"(K)") verdict="known" ;;
		*) verdict="ok" ;;
		esac
		PASS=$((PASS + 1))
	else
		verdict="FAIL:$bad"
		FAIL=$((FAIL + 1))
	fi
	printf "$FMT" "$id" "$want" "$ptc" "$vgc" "$lsc" "$verdict"
	[ -n "$note" ] && printf '%b\n' "$note" | sed '/^$/d' >> "$TMP/notes"
done < "$TMP/cases"

echo
echo "Values: definitely lost bytes/blocks, indirectly lost bytes/blocks."
echo "pB/N: memcheck's possibly lost, reached only through pointers inside the blocks"
echo "  (threads: glibc's thread descriptor points 16 B into the DTV pthread_create"
echo "  allocates): not lost, as LeakSanitizer and pooltrace count them (a rule)."
echo "(K) pooltrace known wrong ($KNOWN); (R) a rule of this script; (!) unexpected."
if [ -s "$TMP/notes" ]; then
	echo "Notes:"
	cat "$TMP/notes"
fi

# ---- before pooltrace's constructor ------------------------------------------
# What other libraries' constructors allocate before ours runs (lib_ctor.c's
# constructor, lib_cxx_init.cc's static initialisers, libstdc++'s emergency
# pool) is in the trace: the report says every allocation was recorded, the
# library's constructor is in a stack, and the allocation calls (malloc and
# realloc) are memcheck's "allocs", which it counts from the first call.
echo
for c in "ctor_lib lib_init" "cxx_static_init lib_leaker"; do
	name=${c% *} fn=${c#* }
	case " ${LEAKS_ONLY:-$name} " in *" $name "*) ;; *) continue ;; esac
	rm -f "$TMP"/ct.*
	"$PT" run -o "$TMP/ct.trace" -- "$O/$name" < /dev/null > /dev/null 2>&1
	if ! "$PT" report "$TMP/ct.trace" > "$TMP/ct.report" 2>&1; then
		fail "$name: constructors: no report" "$TMP/ct.report"
		continue
	fi
	calls=$(awk '/^calls:/ { gsub(",", ""); print $3 + $7 }' "$TMP/ct.report")
	if ! grep -q '^recorded:   every allocation$' "$TMP/ct.report" ||
	   ! grep -q "  at $fn (" "$TMP/ct.report"; then
		fail "$name: constructors: not every allocation, or no $fn in a stack" "$TMP/ct.report"
		continue
	fi
	if [ $HAVE_VG -eq 1 ]; then
		valgrind --log-file="$TMP/ct.vg" "$O/$name" < /dev/null > /dev/null 2>&1
		vg=$(awk '/total heap usage:/ { x = $0; gsub(",", "", x); split(x, f, " ");
		          for (i = 1; i <= length(f); i++) if (f[i] == "allocs") print f[i - 1] }' \
		     "$TMP/ct.vg")
		if [ "$calls" != "$vg" ]; then
			echo "pooltrace: $calls allocation calls; memcheck: $vg allocs" > "$TMP/ct.why"
			fail "$name: constructors: allocation calls" "$TMP/ct.why"
			continue
		fi
	fi
	pass "$name: constructors: $calls allocation calls recorded, $fn in a stack"
done
summary
