# sites.py MANIFEST [recurse] - allocation sites with known answers for the recorder's
# Python frames (tests/test_python.c): every site allocates a bytearray of a
# size no other allocation has, and on the same line writes to MANIFEST what
# the interpreter itself says its stack is there (sys._getframe()): pid, size
# and each frame's name, file and line, innermost first.  The recorded stack
# of that allocation must hold the same Python frames in the same order.
#
# Sites: a plain call chain, a class method, a generator, a three-stage
# generator pipeline, an async def and an async generator under asyncio,
# two threads, exec of a string, a callback from C (ctypes: qsort calls a
# Python comparison), recursion 64 deep, a function and a file named in
# UTF-8 beyond ASCII, a forked child and multiprocessing workers (each
# writes its own lines).  Sizes are 100000 + 1000 * k.
#
# With "recurse", only the recursion runs (to be cut at a smaller depth).
# The children end with an ordinary exit (sys.exit, the "spawn" start
# method), which writes their traces out: one that calls os._exit, as a
# forked multiprocessing worker does, keeps only what its last flush wrote.
import asyncio
import os
import sys
import threading

OUT = sys.argv[1]
keep = []


def expect(size):
    f = sys._getframe(1)
    frames = []
    while f is not None:
        co = f.f_code
        name = getattr(co, "co_qualname", co.co_name)
        frames.append("%s|%s|%d" % (name, os.path.basename(co.co_filename), f.f_lineno))
        f = f.f_back
    with open(OUT, "a", encoding="utf-8") as fh:
        fh.write("%d\t%d\t%s\n" % (os.getpid(), size, "\t".join(frames)))


def leaf():
    keep.append(bytearray(101000)); expect(101000)


def middle():
    leaf()


class Holder:
    def fill(self):
        self.data = bytearray(102000); expect(102000)


def gen():
    for i in range(2):
        yield bytearray(103000 + i * 0); expect(103000)


def source():
    for i in range(3):
        b = bytearray(104000); expect(104000)
        yield b


def double(it):
    for x in it:
        yield x
        yield x


def sink():
    return [len(x) for x in double(source())]


async def coro():
    await asyncio.sleep(0)
    b = bytearray(105000); expect(105000)
    return b


async def agen():
    for i in range(2):
        await asyncio.sleep(0)
        yield bytearray(106000); expect(106000)


async def amain():
    keep.append(await coro())
    async for x in agen():
        keep.append(x)


def worker(k):
    keep.append(bytearray(107000 + 1000 * k)); expect(107000 + 1000 * k)


def recurse(n):
    if n == 1:
        keep.append(bytearray(109000)); expect(109000)
        return
    recurse(n - 1)


def callback_from_c():
    import ctypes
    libc = ctypes.CDLL(None)
    cmp_t = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                             ctypes.POINTER(ctypes.c_int))
    calls = []

    def compare(a, b):
        if not calls:
            keep.append(bytearray(110000)); expect(110000)
        calls.append(1)
        return a[0] - b[0]

    arr = (ctypes.c_int * 4)(3, 1, 4, 2)
    libc.qsort(arr, 4, ctypes.sizeof(ctypes.c_int), cmp_t(compare))
    assert list(arr) == [1, 2, 3, 4]


def forked_child():
    keep.append(bytearray(111000)); expect(111000)


def pool_work(k):
    b = bytearray(112000); expect(112000)
    return len(b) + k


def main():
    middle()
    Holder().fill()
    keep.extend(gen())
    sink()
    asyncio.run(amain())
    threads = [threading.Thread(target=worker, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    exec("def f():\n    keep.append(bytearray(113000)); expect(113000)\nf()\n",
         {"keep": keep, "expect": expect, "bytearray": bytearray})
    exec(compile("def r\u00e9sum\u00e9():\n    keep.append(bytearray(114000)); expect(114000)\n"
                 "r\u00e9sum\u00e9()\n", "/tmp/caf\u00e9 \u2615/\u6587.py", "exec"),
         {"keep": keep, "expect": expect, "bytearray": bytearray})
    recurse(64)
    callback_from_c()
    pid = os.fork()
    if pid == 0:
        forked_child()
        sys.exit(0)
    os.waitpid(pid, 0)
    import multiprocessing
    pool = multiprocessing.get_context("spawn").Pool(2)
    assert sum(pool.map(pool_work, range(4))) == 4 * 112000 + 6
    pool.close()
    pool.join()


if __name__ == "__main__":
    if sys.argv[2:] == ["recurse"]:
        recurse(64)
    else:
        main()
