# pyobjects.py - Python objects by type for `leaks --by type` and `report --by
# type` (tests/test_python.sh).  300 Frozen objects in reference cycles
# moved out of the collector's reach by gc.freeze(), which are still there
# at exit; then 1000 Node objects in cycles the collector is kept from
# (gc.disable()), which finalization frees: they show in the census taken
# when the interpreter begins to finalize.  The allocating lines are marked
# "site:" for the test to find.
import gc


class Node:
    def __init__(self):
        self.peer = None


class Frozen:
    def __init__(self):
        self.peer = None


def make_graph(n):
    nodes = [Node() for _ in range(n)]  # site: Node
    for a, b in zip(nodes, nodes[1:] + nodes[:1]):
        a.peer = b


def make_frozen(n):
    objs = [Frozen() for _ in range(n)]  # site: Frozen
    for a, b in zip(objs, objs[1:] + objs[:1]):
        a.peer = b


gc.disable()
make_frozen(300)
gc.freeze()
make_graph(1000)

# 100 blocks whose second word, read as an object's type pointer, is -200:
# the census must not follow it (a range test wrapped past the top of the
# address space, and the census died of SIGSEGV).  ctypes may be missing
# from a build without libffi: then there is nothing to test here.
try:
    import ctypes
    odd = [(ctypes.c_int64 * 8)(0, -200, 0, 0, 0, 0, 0, 0) for _ in range(100)]
except ImportError:
    pass
