#!/usr/bin/env python3
"""malloc_info_check.py [--pools [--freed]] < XML - check edge_prog info's XML.

The document must parse; the totals after the heaps must be the sums of the
heaps' figures, as glibc writes them (fast and rest free blocks, system and
address space).  With --pools: one heap holds the pools (a <pooltrace>
element), with at least the 1000 live 100-byte blocks; with --freed, the
1000 freed ones are among the free blocks of its <sizes> whose range holds
100 bytes, and the freed 3000-byte glibc block is among its free bytes, in
the thread's cache (not in debug mode, whose blocks are larger and which
keeps no cache).
"""
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("malloc_info_check: " + msg, file=sys.stderr)
    sys.exit(1)


def figures(elem):
    """(tag, type) -> (count, size) of the direct children of elem"""
    out = {}
    for child in elem:
        if child.tag in ("total", "system", "aspace"):
            out[(child.tag, child.get("type"))] = (int(child.get("count", "0")),
                                                  int(child.get("size")))
    return out


def f_rest(heap):
    return figures(heap)[("total", "rest")][1]


def main():
    try:
        root = ET.fromstring(sys.stdin.read())
    except ET.ParseError as e:
        fail("not well-formed XML: %s" % e)
    if root.tag != "malloc" or root.get("version") != "1":
        fail("root is <%s version=%s>" % (root.tag, root.get("version")))
    heaps = root.findall("heap")
    if not heaps:
        fail("no <heap>")
    if [h.get("nr") for h in heaps] != [str(i) for i in range(len(heaps))]:
        fail("heaps not numbered 0..n-1: %s" % [h.get("nr") for h in heaps])
    total = figures(root)
    for key in (("total", "fast"), ("total", "rest"), ("system", "current"),
                ("system", "max"), ("aspace", "total"), ("aspace", "mprotect")):
        s = [sum(figures(h)[key][i] for h in heaps) for i in (0, 1)]
        if key not in total or list(total[key]) != s:
            fail("%s %s: total %s, the heaps add up to %s" % (key + (total.get(key), s)))
    if ("total", "mmap") not in total:
        fail("no mmap total")
    pools = [h for h in heaps if h.find("pooltrace") is not None]
    if "--pools" not in sys.argv:
        if pools:
            fail("a pooltrace heap without the library")
        return
    if len(pools) != 1:
        fail("%d heaps with a <pooltrace> element" % len(pools))
    p = pools[0]
    if int(p.find("pooltrace").get("blocks")) < 1000:
        fail("pool blocks in use: %s, want at least 1000" % p.find("pooltrace").get("blocks"))
    free100 = sum(int(s.get("count")) for s in p.find("sizes")
                  if int(s.get("from")) <= 100 <= int(s.get("to")))
    if "--freed" in sys.argv and free100 < 1000:
        fail("free blocks of the 100-byte class: %d, want at least 1000" % free100)
    pe = p.find("pooltrace")
    cached, cached_size = int(pe.get("glibc_cached", "-1")), int(pe.get("glibc_cached_size", "-1"))
    if "--freed" in sys.argv and (cached < 1 or cached_size < 3000):
        fail("glibc blocks in the thread's cache: %d (%d bytes), want the freed 3000-byte one"
             % (cached, cached_size))
    if cached_size > f_rest(p):
        fail("the cached glibc blocks are not among the heap's free bytes")
    sizes = sum(int(s.get("total")) for s in p.find("sizes"))
    f = figures(p)
    if sizes > f[("total", "fast")][1] + f[("total", "rest")][1]:
        fail("the sizes hold more than the free bytes")
    if f[("system", "current")][1] > f[("aspace", "total")][1]:
        fail("more system memory than address space")


main()
