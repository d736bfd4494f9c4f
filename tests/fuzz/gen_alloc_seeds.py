#!/usr/bin/env python3
"""gen_alloc_seeds.py DIR - write the hand-made seeds of fuzz_alloc into DIR.

Each seed is an op sequence in fuzz_alloc.c's encoding (keep OPS in step
with its enum op and get_size()).  They start the fuzzer from the
interesting places: every size across the 512-byte boundary, realloc
chains both ways, every alignment, full pools, cross-thread batches.
"""
import os
import random
import sys

OPS = ["MALLOC", "CALLOC", "REALLOC", "FREE", "FREE_SIZED", "POSIX_MEMALIGN",
       "ALIGNED_ALLOC", "MEMALIGN", "USABLE", "XTHREAD", "JOIN", "CHECK",
       "REALLOC_ZERO", "REALLOCARRAY", "TRIM", "REALLOC_NULL", "BURST",
       "FREE_MANY", "BAD_ARGS"]
OP = {name: i for i, name in enumerate(OPS)}


def size(n):
    """get_size()'s encoding of n bytes (n <= 8704 or 64 KiB + 4k)."""
    if n < 64:
        return bytes([n])
    if n <= 512:
        return bytes([0x40, n & 0xff, n >> 8])
    if 496 <= n <= 528:
        return bytes([0x80, n - 496])
    if n <= 512 + 8192:
        k = n - 513
        return bytes([0xc0, k & 0xff, k >> 8])
    k = (n - 65536) // 4
    return bytes([0xe0, k & 0xff, k >> 8])


def u16(v):
    return bytes([v & 0xff, (v >> 8) & 0xff])


def align(a):
    return bytes([a.bit_length() - 4])   # 8 << k


def op(name, *parts):
    return bytes([OP[name]]) + b"".join(parts)


seeds = {}

# every pool size once, then free them in another order
s = b"".join(op("MALLOC", size(n)) for n in range(0, 530, 7))
s += op("CHECK") + op("FREE_MANY", bytes([2, 1])) + op("FREE_MANY", bytes([1, 0]))
seeds["sizes"] = s

# realloc chains: grow across 512 into glibc, shrink back into a pool
s = op("MALLOC", size(24))
for n in (24, 40, 200, 496, 512, 513, 528, 1000, 5000, 300, 16, 8, 700, 9, 0):
    s += op("REALLOC", u16(0), bytes([0]), size(n)) if n else op("REALLOC_ZERO", u16(0), bytes([0]))
s += op("REALLOC_NULL", size(100)) + op("REALLOCARRAY", u16(0), bytes([3]), size(600))
seeds["realloc"] = s

# the memalign family at every alignment, small and large
s = b""
for k, a in enumerate((8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)):
    for n in (1, 24, 100, 512, 600):
        s += op(["POSIX_MEMALIGN", "ALIGNED_ALLOC", "MEMALIGN"][k % 3], align(a), size(n))
s += op("CHECK") + op("FREE_SIZED", u16(3)) + op("FREE_MANY", bytes([1, 0]))
seeds["aligned"] = s

# full pools of one class, every other block freed, usable size written
s = op("BURST", bytes([127]), size(48)) + op("BURST", bytes([127]), size(48))
s += op("FREE_MANY", bytes([1, 1])) + op("USABLE", u16(5)) + op("BURST", bytes([60]), size(48))
s += op("TRIM", bytes([0])) + op("TRIM", bytes([1])) + op("TRIM", bytes([2]))
seeds["burst"] = s

# cross-thread: a batch handed to a thread while main goes on, twice
s = op("BURST", bytes([80]), size(32)) + op("BURST", bytes([40]), size(300))
s += op("XTHREAD", bytes([40, 12, 6]), b"".join(u16(i * 3) for i in range(40)),
        b"".join(size(n) for n in (8, 16, 24, 100, 200, 512, 513, 40, 48, 64, 1000, 3)))
s += b"".join(op("MALLOC", size(32)) for _ in range(4)) + op("FREE", u16(1)) + op("FREE", u16(2))
s += op("XTHREAD", bytes([20, 8, 0]), b"".join(u16(i) for i in range(20)),
        b"".join(size(n) for n in (32, 32, 32, 32, 300, 300, 300, 300)))
s += op("JOIN") + op("CHECK") + op("FREE_MANY", bytes([1, 0]))
seeds["xthread"] = s

# calloc, bad arguments (overflows, sizes nobody has, bad alignments), free(NULL),
# frees and reallocs of pointers inside blocks and in pool tails
s = b"".join(op("CALLOC", size(n)) for n in (0, 1, 9, 33, 300, 512, 513, 4000))
for k in range(10):
    for j in range(5):
        s += op("BAD_ARGS", bytes([k, j, j, 0, 0x10]))
seeds["calloc_bad"] = s

# large blocks (glibc, mmap threshold) reallocated down into pools
s = op("MALLOC", size(65536 + 4 * 40000)) + op("MALLOC", size(8000))
s += op("REALLOC", u16(0), bytes([0]), size(500)) + op("REALLOC", u16(1), bytes([0]), size(70000))
s += op("CHECK")
seeds["large"] = s

# a long random mix (fixed seed): deep heap states from the start
rng = random.Random(6)
s = b""
while len(s) < 3000:
    name = rng.choice(OPS)
    if name == "XTHREAD":
        s += op(name, bytes([rng.randrange(65), rng.randrange(17), rng.randrange(16)]))
    elif name in ("POSIX_MEMALIGN", "ALIGNED_ALLOC", "MEMALIGN"):
        s += op(name, align(8 << rng.randrange(10)), size(rng.choice((rng.randrange(64), rng.randrange(513), 496 + rng.randrange(33), 513 + rng.randrange(8000)))))
    else:
        s += op(name) + bytes(rng.randrange(256) for _ in range(rng.randrange(5)))
seeds["long-mix"] = s

out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus_alloc"
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(data)
print("%d seeds in %s" % (len(seeds), out))
