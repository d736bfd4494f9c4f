#!/bin/sh
# programs.sh BUILD_DIR - real programs under LD_PRELOAD=libpooltrace.so must
# give the same output and exit status as without it, and their small
# allocations must really come from the pools (POOLTRACE_STATS=1 counts them).
#
# Programs missing from the machine are skipped with a note (make deps
# installs them all).
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

# same NAME MIN_POOL_ALLOCS CMD...: run CMD plain and preloaded (with stats),
# compare stdout and exit status, and check the pool allocation count.
same() {
	name=$1 min=$2
	shift 2
	"$@" > "$TMP/plain.out" 2> "$TMP/plain.err"
	rc_plain=$?
	LD_PRELOAD="$LIB" POOLTRACE_STATS=1 "$@" > "$TMP/pre.out" 2> "$TMP/pre.err"
	rc_pre=$?
	n=$(pool_allocs "$TMP/pre.err")
	if [ $rc_plain -ne $rc_pre ]; then
		fail "$name: exit status $rc_pre preloaded, $rc_plain plain" "$TMP/pre.err"
	elif ! cmp -s "$TMP/plain.out" "$TMP/pre.out"; then
		diff -u "$TMP/plain.out" "$TMP/pre.out" > "$TMP/diff" 2>&1
		fail "$name: output differs" "$TMP/diff"
	elif [ "$n" -lt "$min" ]; then
		fail "$name: only $n pool allocations (want >= $min)" "$TMP/pre.err"
	else
		pass "$name (exit $rc_pre, $n pool allocations)"
	fi
}

have() { command -v "$1" > /dev/null 2>&1; }

# --- python3: the test suite, with and without PYTHONMALLOC=malloc ---------
# The suite runs without POOLTRACE_STATS (several tests require empty stderr
# from their child interpreters); the stats runs below prove the pools serve.
PYTESTS="test_dict test_list test_set test_unicode test_json test_re test_pickle
         test_threading test_collections test_deque test_bytes"
pyresult() {   # the verdict lines of python -m test, without timings
	grep -E '^(Tests result|== Tests result|[0-9]+ tests? (OK|failed)|All [0-9]+ tests OK)' "$1"
}
if [ -x $PY ] && $PY -c 'import test.libregrtest' 2> /dev/null; then
	$PY -m test $PYTESTS > "$TMP/py0.out" 2>&1
	rc0=$?
	pyresult "$TMP/py0.out" > "$TMP/py0.res"
	for mode in pymalloc malloc; do
		if [ $mode = malloc ]; then pm="PYTHONMALLOC=malloc"; else pm="PYTHONMALLOC=pymalloc"; fi
		env LD_PRELOAD="$LIB" $pm $PY -m test $PYTESTS > "$TMP/py1.out" 2>&1
		rc1=$?
		pyresult "$TMP/py1.out" > "$TMP/py1.res"
		if [ $rc0 -eq $rc1 ] && cmp -s "$TMP/py0.res" "$TMP/py1.res" && [ -s "$TMP/py1.res" ]; then
			pass "python3 -m test ($(echo $PYTESTS | wc -w) modules) with $pm: $(tail -1 "$TMP/py1.res")"
		else
			tail -30 "$TMP/py1.out" > "$TMP/py1.tail"
			fail "python3 -m test with $pm: exit $rc1 vs $rc0" "$TMP/py1.tail"
		fi
	done
	cat > "$TMP/churn.py" <<'PYEOF'
import json, threading
d = [{"k": i, "s": str(i) * 3, "t": (i, i + 1)} for i in range(200000)]
def worker(n):
    x = [str(i) for i in range(n)]
    return len(x)
ts = [threading.Thread(target=worker, args=(100000,)) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print(len(json.dumps(d)), sum(len(v["s"]) for v in d))
PYEOF
	same "python3 object churn, PYTHONMALLOC=malloc" 1000000 env PYTHONMALLOC=malloc $PY "$TMP/churn.py"
	same "python3 object churn, pymalloc" 100 $PY "$TMP/churn.py"
else
	skip "python3 -m test" "$PY or libpython3.11-testsuite missing (make deps)"
fi

# --- sqlite3: a 100k-row table, an index, queries ---------------------------
if have sqlite3; then
	cat > "$TMP/q.sql" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL, blob BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t SELECT x, 'name' || x, x * 1.5, zeroblob(x % 300) FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(v), max(name), sum(length(blob)) FROM t;
SELECT name FROM t WHERE name LIKE 'name9999%' ORDER BY name;
SELECT id % 7 AS k, count(*), avg(v) FROM t GROUP BY k ORDER BY k;
DELETE FROM t WHERE id % 3 = 0;
SELECT count(*) FROM t;
PRAGMA integrity_check;
SQL
	same "sqlite3 100k rows, in memory" 100000 sqlite3 :memory: ".read $TMP/q.sql"
	same "sqlite3 100k rows, on disk" 100000 sh -c \
		"rm -f '$TMP/db.sqlite'; sqlite3 '$TMP/db.sqlite' '.read $TMP/q.sql'"
else
	skip sqlite3 "not installed (make deps)"
fi

# --- git: init, commits, gc, fsck, log --------------------------------------
if have git; then
	cat > "$TMP/git.sh" <<'GITEOF'
set -e
d=$(mktemp -d); cd "$d"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t
export GIT_COMMITTER_EMAIL=t@example.invalid HOME="$d" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
git init -q -b main .
for i in $(seq 1 40); do
	seq $i 3 5000 > "f$((i % 9)).txt"
	echo "line $i" >> log.txt
	git add -A && git commit -q -m "commit $i"
done
git gc -q --aggressive
git fsck --full --strict
git log --stat --oneline | head -100
git rev-list --count HEAD
cd /; rm -rf "$d"
GITEOF
	same "git init/commit/gc/fsck" 10000 sh "$TMP/git.sh"
else
	skip git "not installed"
fi

# --- perl: a hash-heavy one-liner --------------------------------------------
if have perl; then
	same "perl hash churn" 100000 perl -e '
		my %h; $h{"k$_"} = [$_, "v" x ($_ % 50)] for 1 .. 200000;
		delete $h{"k$_"} for grep { $_ % 3 } 1 .. 200000;
		my $s = 0; $s += $h{$_}[0] + length($h{$_}[1]) for keys %h;
		print scalar(keys %h), " $s\n"'
else
	skip perl "not installed"
fi

# --- gcc: compile a C file; the object must be byte-identical ---------------
if have gcc; then
	same "gcc -O2 compile" 10000 sh -c \
		"gcc -O2 -g -c -o /dev/stdout '$(dirname "$0")/stress.c' | md5sum"
else
	skip gcc "not installed"
fi

# --- coreutils and compressors: sort, tar, xz -T2 ---------------------------
seq 1 300000 | awk '{ printf "%08x %s\n", ($1 * 2654435761) % 4294967296, $1 }' > "$TMP/data.txt"
same "sort" 500 sh -c "sort '$TMP/data.txt' | md5sum; sort -k2,2n -t' ' '$TMP/data.txt' | tail -1"
if have xz; then
	same "tar + xz -T2" 100 sh -c "cd '$TMP' && tar --sort=name --mtime=2026-01-01 --owner=0 \
		--group=0 --numeric-owner -cf - data.txt | xz -T2 -6 | xz -d -T2 | md5sum"
else
	skip xz "not installed"
fi

# --- the bench workloads: same checksums as under glibc ----------------------
for w in "churn" "allocfree order" "allocfree random" "realloc" "prodcons 1" "prodcons 2" \
         "larson 4" "frag" "cxx_objects"; do
	set -- $w
	if [ -x "$B/bench/$1" ]; then
		same "bench workload $w" 50 sh -c \
			"BENCH_SCALE=0.03 '$B/bench/$1' ${2:-} | sed 's/ rss_.*//'"
	fi
done

# --- redis-server (linked with jemalloc: our symbols must win) --------------
if have redis-server && have redis-benchmark && have redis-cli; then
	port=$((20000 + $$ % 20000))
	(cd "$TMP" && LD_PRELOAD="$LIB" POOLTRACE_STATS=1 exec redis-server --port $port \
		--bind 127.0.0.1 --save '' --appendonly no > redis.log 2> redis.err) &
	i=0
	until redis-cli -p $port ping > /dev/null 2>&1 || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	redis-benchmark -p $port -n 20000 -q -t set,get,lpush,lrange_100 > "$TMP/bench.out" 2>&1
	rb=$?
	{
		redis-cli -p $port set k1 hello
		redis-cli -p $port rpush l a b c d
		redis-cli -p $port lrange l 0 -1
		redis-cli -p $port get k1
	} > "$TMP/redis.out" 2>&1
	redis-cli -p $port shutdown nosave > /dev/null 2>&1
	wait
	n=$(pool_allocs "$TMP/redis.err")
	printf 'OK\n4\na\nb\nc\nd\nhello\n' > "$TMP/redis.want"
	if [ $rb -eq 0 ] && cmp -s "$TMP/redis.out" "$TMP/redis.want" && [ "$n" -gt 100000 ] &&
	   grep -q 'ready to exit' "$TMP/redis.log"; then
		pass "redis-server + redis-benchmark 4x20000 requests ($n pool allocations)"
	else
		cat "$TMP/redis.out" "$TMP/bench.out" "$TMP/redis.log" "$TMP/redis.err" > "$TMP/r.all" 2>&1
		fail "redis-server (benchmark exit $rb, $n pool allocations)" "$TMP/r.all"
	fi
else
	skip redis-server "not installed (make deps)"
fi

summary
