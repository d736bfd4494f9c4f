# linetables.py - the line tables of code objects as this interpreter keeps
# them, and the line CPython itself gives each instruction offset, for
# tests/pylines_check.c to decode the tables the way report/pylines.c does
# and compare.  Output, per code object:
#   C <format> <first line> <table in hex>
#   O <offset in code units> <line, 0 for none>   (one per instruction)
# Format 1: co_lnotab (3.8, 3.9), 2: co_linetable (3.10), 3: the location
# table (3.11 on), as in the trace format.  The lines come from dis (3.8,
# 3.9: findlinestarts) and co_lines() (3.10 on), which read the same tables.
import dis
import sys
import types


def codes(co):
    yield co
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            yield from codes(c)


def sources():
    import asyncio.tasks
    import json.decoder
    import textwrap
    yield compile(open(__file__).read(), __file__, "exec")
    for mod in (json.decoder, asyncio.tasks, textwrap):
        yield compile(open(mod.__file__).read(), mod.__file__, "exec")
    # lines far apart, going back, long lines and columns, no line
    src = "x = 1\n" + "\n" * 300 + "def f(a,\n      b):\n    return (a +\n\n\n b)\n" + \
          "y = [i for i in range(3)]\n" + "z = " + " + ".join(["x"] * 200) + "\n"
    yield compile(src, "<made>", "exec")


def main():
    v = sys.version_info[:2]
    fmt = 1 if v < (3, 10) else 2 if v == (3, 10) else 3
    for top in sources():
        for co in codes(top):
            table = co.co_lnotab if fmt == 1 else co.co_linetable
            print("C %d %d %s" % (fmt, co.co_firstlineno, table.hex()))
            if fmt == 1:
                starts = list(dis.findlinestarts(co))
                for ins in dis.get_instructions(co):
                    line = 0
                    for off, ln in starts:
                        if off <= ins.offset:
                            line = ln
                    print("O %d %d" % (ins.offset // 2, line))
            else:
                for start, end, line in co.co_lines():
                    for off in range(start, end, 2):
                        print("O %d %d" % (off // 2, line or 0))


main()
