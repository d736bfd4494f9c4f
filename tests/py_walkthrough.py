"""The classic Python memory walk-through, for `pooltrace run` (README).

Run with PYTHONMALLOC=malloc so that every Python object is a malloc call:

  1. build(): a list of N ints built inside a function and freed on return:
     memory rises, then falls back;
  2. keep(): the same list kept by a global: memory rises and stays;
  3. cycle(): two objects that refer to each other, dropped with the
     cyclic garbage collector off: nothing frees them.

N defaults to 10 million; the first argument changes it.
"""
import gc
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
kept = None


def build():
    data = list(range(N))
    time.sleep(0.1)
    return len(data)


def keep():
    global kept
    kept = list(range(N))


class Node:
    def __init__(self):
        self.other = None
        self.payload = bytearray(1 << 20)


def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a


def main():
    time.sleep(0.1)
    build()
    time.sleep(0.2)
    keep()
    time.sleep(0.2)
    gc.disable()
    cycle()
    time.sleep(0.1)
    print("kept", len(kept), "ints")


main()
