# py_scatter.py - the scatter workload with Python objects: a million small
# objects (tuples of a string and an int, 48..96 bytes each with
# PYTHONMALLOC=malloc), then 90% of them dropped at random, as a
# long-running service's cache leaves its heap.  Prints Pss (and RSS) at the
# peak, right after the drop, and after malloc_trim(0) (glibc gives back the
# free pages inside its chunks; pooltrace with POOLTRACE_MESH=1 meshes), then
# a checksum of the survivors.
import ctypes
import random
import sys


def mem_kib():
    rss = pss = -1
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss, pss


scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
n = int(1000000 * scale)
rng = random.Random(11)
objs = [("k%07d" % i + "x" * (i % 24), i) for i in range(n)]
rss_peak, pss_peak = mem_kib()
for i in range(n):
    if rng.random() < 0.9:
        objs[i] = None
rss_freed, pss_freed = mem_kib()
try:
    ctypes.CDLL(None).malloc_trim(0)
except (OSError, AttributeError):
    pass
rss_trim, pss_trim = mem_kib()
check = 0
kept = 0
for o in objs:
    if o is not None:
        check = (check * 31 + len(o[0]) + o[1]) % (1 << 61)
        kept += 1
print("result: checksum=%016x kept=%d rss_peak_kib=%d pss_peak_kib=%d rss_freed_kib=%d "
      "pss_freed_kib=%d rss_trim_kib=%d pss_trim_kib=%d"
      % (check, kept, rss_peak, pss_peak, rss_freed, pss_freed, rss_trim, pss_trim))
