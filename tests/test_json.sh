#!/bin/sh
# test_json.sh BUILD - the --json documents of report, leaks, frag and diff
# against their schema (docs/pooltrace.schema.json, validated with python3's
# jsonschema), and their figures against the text reports' exact ones
# (--bytes) and tests/leak_prog.c's known answers.
set -u
B=${1:-build}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
PT=$B/pooltrace
SCHEMA=$HERE/../docs/pooltrace.schema.json

if ! python3 -c 'import jsonschema' 2> /dev/null; then
	skip "JSON schema checks" "python3-jsonschema is not installed (make deps)"
	summary
	exit
fi

"$PT" run -q -o "$TMP/a.trace" -- "$B/tests/leak_prog" > /dev/null 2>&1
LEAK_PROG_PEAK=300 "$PT" run -q -o "$TMP/b.trace" -- "$B/tests/leak_prog" > /dev/null 2>&1
"$PT" run -q --sample 4096 -o "$TMP/s.trace" -- "$B/tests/leak_prog" > /dev/null 2>&1
printf 'leak:lose_*\n' > "$TMP/supp"

n=0
for args in "report a" "report s" "leaks a" "leaks s" "leaks --suppressions $TMP/supp a" \
            "frag a" "frag s" "diff a b" "diff --by calls --fail-on-growth 1% a b"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	set -- $args
	cmd=$1
	shift
	files=""
	for w in "$@"; do
		case $w in a|b|s) files="$files $TMP/$w.trace" ;; *) files="$files $w" ;; esac
	done
	# shellcheck disable=SC2086
	"$PT" $cmd --json $files > "$TMP/$n.json" 2> "$TMP/$n.err"
	rc=$?
	if [ $rc -gt 1 ]; then
		fail "$cmd --json $*: exit $rc" "$TMP/$n.err"
		continue
	fi
	if python3 - "$SCHEMA" "$TMP/$n.json" > "$TMP/$n.why" 2>&1 <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
v = jsonschema.Draft202012Validator(schema)
errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors[:5]:
    print('/'.join(map(str, e.absolute_path)), e.message[:300])
# the validator must catch a broken document too
doc['schema_version'] = 2
if v.is_valid(doc):
    print('a document with schema_version 2 passed the schema')
    errors.append(1)
sys.exit(1 if errors else 0)
PY
	then
		pass "$cmd --json $*: valid against the schema"
	else
		fail "$cmd --json $*: not valid against the schema" "$TMP/$n.why"
	fi
done

# exact figures: the JSON's, the --bytes text's and leak_prog's answers
python3 - "$TMP" > "$TMP/figures" 2>&1 <<'PY'
import json, sys
t = sys.argv[1]
rep = json.load(open(t + '/1.json'))
lk = json.load(open(t + '/3.json'))
s = lk['summary']
assert (s['definitely_lost']['blocks'], s['definitely_lost']['bytes']) == (8, 4472), s
assert (s['indirectly_lost']['blocks'], s['indirectly_lost']['bytes']) == (4, 208), s
assert (s['still_reachable']['blocks'], s['still_reachable']['bytes']) == (4, 244), s
assert lk['lost'] is True
assert rep['leaks']['definitely_lost'] == s['definitely_lost'], rep['leaks']
big = [x for x in lk['stacks'] if x['stack'] and x['stack'][0]['function'] == 'lose_big']
assert big and big[0]['bytes'] == 4000 and big[0]['kind'] == 'definitely_lost', big
assert big[0]['stack'][0]['file'].endswith('leak_prog.c') and big[0]['stack'][0]['line'], big
sup = json.load(open(t + '/5.json'))['suppressed']
assert sup['patterns'][0]['pattern'] == 'lose_*' and sup['patterns'][0]['blocks'] == 12, sup
d = json.load(open(t + '/9.json'))
assert d['fail_on_growth']['failed'] is True, d['fail_on_growth']
print(rep['peak']['bytes'], rep['not_freed']['total']['bytes'], rep['allocated']['total']['bytes'])
PY
if [ $? -ne 0 ]; then
	fail "JSON figures against leak_prog's known answers" "$TMP/figures"
else
	set -- $(cat "$TMP/figures")
	"$PT" report --bytes "$TMP/a.trace" > "$TMP/text" 2> /dev/null
	fmt() { python3 -c 'import sys; print(f"{int(sys.argv[1]):,} B")' "$1"; }
	if grep -q "^peak heap:  $(fmt "$1") at" "$TMP/text" &&
	   grep -q "^not freed:  $(fmt "$2") in" "$TMP/text" &&
	   grep -q "^allocated:  $(fmt "$3") in total" "$TMP/text"; then
		pass "JSON: leak_prog's known leaks; peak, not freed, allocated as report --bytes says"
	else
		echo "JSON: $*" > "$TMP/why"
		cat "$TMP/text" >> "$TMP/why"
		fail "JSON figures against report --bytes" "$TMP/why"
	fi
fi
summary
