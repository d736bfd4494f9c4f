# py_churn.py - CPython object churn for the allocator benchmark: creates and
# drops dicts, tuples, short strings and lists in rounds, keeping a little
# alive each round.  Prints a checksum of what it built.
import sys

scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
rounds = max(1, int(12 * scale))
keep = []
check = 0
for r in range(rounds):
    objs = []
    for i in range(100000):
        d = {"id": i, "name": "n%d" % i, "pair": (i, r), "tags": [i % 7, i % 11, r]}
        objs.append(d)
        if i % 3 == 0:
            objs.append(str(i) * 3)
        if i % 5 == 0:
            objs.append(tuple(range(i % 9)))
    check = (check * 31 + len(objs) + sum(len(o) for o in objs[::97])) % (1 << 61)
    keep.append(objs[::100])
    del objs
    if len(keep) > 4:
        keep.pop(0)
print("result: checksum=%016x" % check)
