# pinned.py - arenas pinned by a few Python objects, for frag's pinned
# arenas at the peak (tests/test_python.sh): 60000 bytes objects of 134
# bytes, one in 3000 kept, then a peak (a 50 MB bytearray) while the
# arenas they filled stay pinned by the kept ones.
objs = [b"x" * 100 + bytes([i % 256]) for i in range(60000)]  # site: pinned
keep = objs[::3000]
del objs
big = bytearray(50000000)
