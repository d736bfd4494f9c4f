# py_gc.py - CPython's cyclic collector over a heap built in one go: 300k
# dicts, each holding a tuple and a list (about 900k objects the collector
# tracks), then ten full collections.  The collector walks its lists in the
# order the objects were made, so its time follows how the allocator laid
# them out: a class's pools adjacent or spread among the other classes'.
# Prints a checksum of what it built and the collections' time.
import gc
import sys
import time

scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
n = max(1000, int(300000 * scale))
gc.disable()
objs = [{"a": (i, i + 1), "b": [i]} for i in range(n)]
t = time.perf_counter()
for _ in range(10):
    gc.collect()
gc_s = time.perf_counter() - t
check = sum(o["a"][1] + o["b"][0] for o in objs[::7]) % (1 << 61)
print("result: checksum=%016x gc_s=%.3f" % (check, gc_s))
