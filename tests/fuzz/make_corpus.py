#!/usr/bin/env python3
"""make_corpus.py BUILD OUT - record the seed traces of fuzz_trace into OUT.

Run by hand when the trace format changes (the seeds are committed):

    make tool build/tests/leak_prog build/tests/cxx_prog build/tests/rec_prog
    make -f Makefile -f tests/fuzz.mk build/fuzz/trace_plain
    rm -rf tests/fuzz/corpus_trace && python3 tests/fuzz/make_corpus.py build tests/fuzz/corpus_trace

Every seed is small (a few KiB; the whole corpus stays well under 1 MiB):
  - real traces of the test programs (leaks and the exit scan, a C++ program,
    a sampled trace, threads, a fork, a crash),
    rewritten with plain chunks (build/fuzz/trace_plain) so that mutations
    reach the records, and their module paths for libc, libpooltrace and the
    other libraries pointed at files that do not exist (same length): the
    symbolizer then skips them instead of loading libc's debug info on every
    run; the test program's own path stays, so its DWARF is read;
  - two traces as recorded, zstd-compressed;
  - Python: a sampled trace of python3.11 (its code records, Python frames
    and the interpreter's record), and one made here record by record
    (python_synth()) with what a small trace of the recorder lacks: Python
    frames between return addresses, a stack sharing outer frames with an
    earlier one, Python types and objects at exit and at finalization,
    an extended record of a type no reader knows, a damaged line run;
  - hand-damaged copies: cut inside the header, a chunk header and a chunk,
    cut on a chunk boundary, bad checksums, bad version, magic, header size,
    class count, chunk length and flags, a stream out of range, a chunk
    repeated, a sequence base near 2^64.
No file is named *.trace (.gitignore).
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

M64 = (1 << 64) - 1
HDR = 352
CHDR = 40
CHUNK_MAGIC = 0x4b435450


def trace_sum(data):
    """pt_trace_sum() of preload/trace_format.h."""
    n = len(data)
    h = 0x9e3779b97f4a7c15 ^ n
    i = 0
    while n - i >= 8:
        w = struct.unpack_from("<Q", data, i)[0]
        h = ((h ^ w) * 0xff51afd7ed558ccd) & M64
        h ^= h >> 32
        i += 8
    rest = n - i
    w = int.from_bytes(data[i:] + b"\0" * (8 - rest), "little")
    h = ((h ^ w ^ ((rest << 56) & M64)) * 0xc4ceb9fe1a85ec53) & M64
    h ^= h >> 29
    return (h ^ (h >> 32)) & 0xffffffff


def chunks(t):
    """[(offset of the chunk header, header fields list)] of a trace."""
    hsize = struct.unpack_from("<I", t, 12)[0]
    off, out = hsize, []
    while off + CHDR <= len(t):
        f = list(struct.unpack_from("<6IQ2I", t, off))
        if f[0] != CHUNK_MAGIC:
            break
        out.append((off, f))
        off += CHDR + f[3]
    return out


def put_chunk_header(t, off, f, fix=True):
    """Write fields f at off; fix: recompute the payload and header sums."""
    if fix:
        f[7] = trace_sum(bytes(t[off + CHDR:off + CHDR + f[3]]))
        f[8] = 0
        raw = struct.pack("<6IQ2I", *f)
        f[8] = trace_sum(raw[:36])
    struct.pack_into("<6IQ2I", t, off, *f)


def refix(t):
    """Recompute every chunk's checksums (after editing payloads)."""
    t = bytearray(t)
    for off, f in chunks(t):
        put_chunk_header(t, off, f)
    return bytes(t)


def uv(v):
    """An unsigned LEB128 varint."""
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def sv(v):
    return uv(((v << 1) ^ (v >> 63)) & M64)


def bv(b):
    return uv(len(b)) + b


def frame(state, f):
    """pt_enc_frame() of preload/trace_codec.h."""
    if f >> 63:
        code = (f >> 32) & 0x7fffffff
        d = code - state[1]
        state[1] = code
        return uv((((d << 1) ^ (d >> 63)) & M64) << 1 | 1) + uv(f & 0xffffffff)
    d = (f - state[0]) & M64
    if d >> 63:
        d -= 1 << 64
    state[0] = f
    return uv((((d << 1) ^ (d >> 63)) & M64) << 1)


def chunk(stream, first_seq, payload):
    f = [CHUNK_MAGIC, stream, 4242, len(payload), len(payload), 0, first_seq, 0, 0]
    t = bytearray(CHDR) + payload
    put_chunk_header(t, 0, f)
    return bytes(t)


def python_synth(base):
    """A version-3 trace of a Python program, record by record."""
    hsize = struct.unpack_from("<I", base, 12)[0]
    head = bytearray(base[:hsize])
    struct.pack_into("<I", head, 8, 3)
    py = lambda code, off1: 1 << 63 | code << 32 | off1
    ev = 0x401000   # inside the module's text
    mods = bytes([7]) + uv(1) + uv(1) + uv(1) + uv(0) + bv(b"/usr/bin/python3.11") + \
        bv(b"") + uv(1) + uv(0x400000) + uv(0x100000) + uv(5)
    ext = lambda kind, body: bytes([15]) + uv(kind) + bv(body)
    defs = ext(1, uv(0x030b02f0) + uv(0) + uv(ev))
    prev = 0
    for size, stack in ((100, 1), (2000, 2), (64, 3)):
        defs += bytes([5]) + uv(size) + uv(0) + sv(stack - prev)
        prev = stack
    defs += ext(9, b"a type no reader knows")
    codes = bytes([14]) + uv(1) + uv(10) + bv(b"main") + bv(b"/tmp/app.py") + \
        bv(uv(4 << 1 | 1) + sv(0) + uv(0 << 1 | 1) + sv(2))
    codes += bytes([14]) + uv(2) + uv(3) + bv("caf\u00e9.r\u00e9sum\u00e9".encode()) + \
        bv(b"<string>") + bv(b"\xff\xff\xff")   # a damaged run
    stacks = b""
    frames = [0x401234, py(1, 3), ev + 0x10, py(2, 0), ev + 0x10, 0x401100]
    for sid, fr, back, shared in ((1, frames, 0, 0), (2, [0x401300] + frames[1:], 1, 5),
                                  (3, frames[:3] + [(1 << 64) - 1], 0, 0)):
        st = [0, 0]
        stacks += bytes([6]) + uv(sid) + uv(1) + uv(len(fr)) + uv(back) + uv(shared)
        for f in fr[:len(fr) - shared]:
            stacks += frame(st, f)
    events = b""
    for k, info in enumerate((1, 2, 3, 1)):
        events += bytes([1 | 1 << 4]) + uv(info)
    tail = ext(2, uv(1) + bv(b"Node")) + ext(2, uv(2) + bv(b"dict"))
    tail += ext(3, uv(10) + uv(1) + uv(2) + uv(1) + uv(0) + uv(1) + uv(7) + uv(700) +
                uv(3) + uv(0) + uv(2) + uv(1) + uv(64))
    tail += ext(3, uv(11) + uv(0) + uv(1) + uv(1) + uv(2) + uv(1) + uv(2) + uv(200))
    tail += bytes([10]) + uv(12) + uv(0) + uv(0)
    return bytes(head) + chunk(0, 1, mods + defs) + chunk(1, 1, codes + stacks + events) + \
        chunk(0, 9, tail)


def mangle_paths(t, build):
    """Point the module paths of the libraries (libc, libpooltrace...) at
    missing files of the same length; the test programs' paths stay."""
    t = bytes(t)
    for pre in (b"/usr/lib/x86_64-linux-gnu/", b"/lib/x86_64-linux-gnu/", b"/lib64/"):
        t = t.replace(pre, b"/" + b"X" * (len(pre) - 2) + b"/")
    # libpooltrace.so keeps its basename: frames in it are internal
    lib = build.encode() + b"/libpooltrace.so"
    t = t.replace(lib, b"/" + b"Y" * (len(build) - 1) + b"/libpooltrace.so")
    return refix(t)


def run(cmd, env=None, check=True):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if check and r.returncode not in (0, 1):
        sys.stderr.write(r.stderr.decode(errors="replace"))
    return r.returncode


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    out = sys.argv[2] if len(sys.argv) > 2 else "tests/fuzz/corpus_trace"
    build = os.path.abspath(build)
    pt = os.path.join(build, "pooltrace")
    plain = os.path.join(build, "fuzz", "trace_plain")
    tests = os.path.join(build, "tests")
    os.makedirs(out, exist_ok=True)
    # the program test_export.sh compiles for itself
    here = os.path.dirname(os.path.abspath(__file__))
    for prog in ("exp_prog",):
        if not os.path.exists(os.path.join(tests, prog)):
            subprocess.run([os.environ.get("CC", "cc"), "-std=gnu11", "-g", "-O0", "-o",
                            os.path.join(tests, prog),
                            os.path.join(here, "..", prog + ".c")], check=True)
    tmp = tempfile.mkdtemp(prefix="fuzz-corpus-")
    try:
        progs = {
            "leak": ([os.path.join(tests, "leak_prog")], {}, []),
            "leak-peak300": ([os.path.join(tests, "leak_prog")], {"LEAK_PROG_PEAK": "300"}, []),
            "leak-sampled": ([os.path.join(tests, "leak_prog")], {}, ["--sample", "4096"]),
            "cxx": ([os.path.join(tests, "cxx_prog")], {}, []),
            "exp": ([os.path.join(tests, "exp_prog")], {}, []),
            "known": ([os.path.join(tests, "rec_prog"), "known"], {}, []),
            "threads": ([os.path.join(tests, "rec_prog"), "threads"], {}, []),
            "fork": ([os.path.join(tests, "rec_prog"), "fork"], {}, []),
            "crash": ([os.path.join(tests, "rec_prog"), "crash"], {}, []),
            "python-sampled": (["/usr/bin/python3.11", "-c", "x = [str(i) for i in range(20000)]"],
                               {}, ["--sample", "1048576", "--depth", "8"]),
        }
        traces = {}
        for name, (argv, env, opts) in progs.items():
            d = os.path.join(tmp, name)
            os.makedirs(d)
            run([pt, "run"] + opts + ["-o", os.path.join(d, "t.%p.trace"), "--"] + argv,
                env, check=False)
            files = sorted(os.listdir(d))
            for k, f in enumerate(files):
                traces[name + ("" if k == 0 else "-child%d" % k)] = (os.path.join(d, f), argv[0])
        for name, (path, _) in sorted(traces.items()):
            p = path + ".plain"
            if run([plain, path, p]) != 0:
                continue
            with open(p, "rb") as f:
                t = f.read()
            if len(t) > 48 << 10:
                print("skip %s: %d bytes plain" % (name, len(t)))
                continue
            with open(os.path.join(out, name), "wb") as f:
                f.write(mangle_paths(t, build))
        # as recorded: compressed chunks, real paths
        for name in ("leak-sampled", "known"):
            if name in traces:
                shutil.copy(traces[name][0], os.path.join(out, name + "-zstd"))

        with open(os.path.join(out, "leak"), "rb") as f:
            base = f.read()
        with open(os.path.join(out, "python-synth"), "wb") as f:
            f.write(python_synth(base))
        ch = chunks(base)
        hsize = ch[0][0]
        bad = {}
        bad["cut-in-header"] = base[:200]
        bad["cut-after-header"] = base[:hsize]
        bad["cut-in-chunk-header"] = base[:hsize + 20]
        mid = ch[len(ch) // 2]
        bad["cut-in-chunk"] = base[:mid[0] + CHDR + mid[1][3] // 2]
        bad["cut-on-chunk-boundary"] = base[:mid[0]]
        t = bytearray(base)
        t[mid[0] + CHDR + 1] ^= 0x40
        bad["bad-payload-sum"] = bytes(t)
        t = bytearray(base)
        t[ch[1][0] + 36] ^= 1
        bad["bad-header-sum"] = bytes(t)
        t = bytearray(base)
        struct.pack_into("<I", t, 8, 3)
        bad["version-3"] = bytes(t)
        t = bytearray(base)
        t[1:7] = b"PTRACF"
        bad["bad-magic"] = bytes(t)
        t = bytearray(base)
        struct.pack_into("<I", t, 12, hsize - 1)
        bad["bad-header-size"] = bytes(t)
        t = bytearray(base)
        struct.pack_into("<I", t, 84, 65)   # nclasses
        bad["nclasses-65"] = bytes(t)
        t = bytearray(base)
        f = list(mid[1])
        f[3] = f[4] = 0xfffffff0
        put_chunk_header(t, mid[0], f)
        bad["chunk-stored-huge"] = bytes(t)
        t = bytearray(base)
        f = list(mid[1])
        f[5] = 1   # zstd flag on a plain payload
        put_chunk_header(t, mid[0], f)
        bad["chunk-flag-zstd"] = bytes(t)
        t = bytearray(base)
        f = list(mid[1])
        f[1] = 1 << 20
        put_chunk_header(t, mid[0], f)
        bad["stream-out-of-range"] = bytes(t)
        t = bytearray(base)
        f = list(ch[0][1])
        f[6] = M64 - 5
        put_chunk_header(t, ch[0][0], f)
        bad["seq-near-2-64"] = bytes(t)
        bad["chunk-repeated"] = base[:mid[0] + CHDR + mid[1][3]] + base[mid[0]:]
        for name, data in bad.items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
    finally:
        shutil.rmtree(tmp)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print("%d seeds, %d bytes in %s" % (len(os.listdir(out)), total, out))


if __name__ == "__main__":
    main()
