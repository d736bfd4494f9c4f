/*
 * trace_format.h - the pooltrace trace file: the one header that preload/
 * (the writer, inside host programs) and report/ (the reader) share.
 * man/pooltrace-trace.5 documents the same format for other readers.
 *
 * A file is a header followed by chunks.  All integers are little-endian.
 *
 *   header   struct pt_trace_header, then exe path, then argv (NUL-separated)
 *   chunk    struct pt_chunk_header, then `stored` bytes of records
 *
 * Every writer (a thread's buffer, or the shared stream 0 for snapshots,
 * modules and the end record) appends whole chunks with one write(2) on an
 * O_APPEND descriptor, so chunks never interleave; a crashed or killed
 * process leaves a file whose last chunk may be cut short.  A reader accepts
 * any prefix of a valid file and stops at the first chunk that is cut or
 * fails its checksum.
 *
 * Order.  Chunks of different streams reach the file in flush order, not in
 * program order, so every event carries a sequence number drawn from one
 * process-wide counter (as a delta from the previous event of its chunk;
 * the chunk header holds the base).  Within a stream, chunks are in order,
 * so a reader merges the streams by sequence number holding one chunk per
 * stream.  A chunk of definitions only (INFO records) has the counter's
 * value when it was written as its first_seq: a reader may load every
 * chunk whose first_seq is below the lowest it has not merged yet.  Stack, info and module records carry no sequence number.  A
 * stack is defined (once) in the stream of the thread that first met it,
 * before that thread's first event using it, and may be used by other
 * streams whose chunks come earlier in the file: resolve stacks at the end.
 * An info is defined (once) on stream 0 before any chunk that uses it, so
 * a reader that decodes chunks in file order knows every info it meets.
 *
 * Records inside a chunk: a type byte, then fields, each an unsigned LEB128
 * varint ("u") or a zigzag-encoded signed varint ("s"), or raw bytes.
 * The type byte's low 4 bits are the record type.  For events, its high 4
 * bits are the seq delta when it is 1..15; 0 there means a "u" seq delta
 * follows the type byte.  Other records have 0 there and no seq field
 * unless listed.
 *
 * Blocks.  As in heaptrack, an allocation is written as an "info": the
 * requested size, the stack and whether a pool or glibc served the block,
 * interned once (INFO record); ALLOC names the info, and FREE names the
 * info of the block it frees, which the writer looks up in its map of live
 * blocks.  Addresses are not written: one per free is some 20 bits that no
 * compressor can remove (the block freed is the program's choice), more
 * than all the rest of the record.  Reports need live bytes per stack, not
 * which block of a stack went; the allocator's own occupancy is in the
 * snapshots.
 */
#ifndef POOLTRACE_TRACE_FORMAT_H
#define POOLTRACE_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define PT_TRACE_MAGIC      "\x89PTRACE\n"   /* 8 bytes */
#define PT_TRACE_VERSION    3u
#define PT_TRACE_VERSION_MIN 2u              /* the oldest a reader reads */
#define PT_CHUNK_MAGIC      0x4b435450u      /* "PTCK" */
#define PT_TRACE_MAX_CLASSES 64
#define PT_TRACE_MAX_DEPTH  256
/* frames a stack record may hold: the depth, and the truncation mark */
#define PT_TRACE_MAX_FRAMES (PT_TRACE_MAX_DEPTH + 1)
#define PT_TRACE_MAX_STACKS (1u << 20)      /* stack ids are below this */
#define PT_REC_TYPE(b)      ((b) & 15)
#define PT_REC_SEQ(b)       ((b) >> 4)
#define PT_CHUNK_MAX        (16u << 20)      /* readers reject bigger chunks */

struct pt_trace_header {
	char     magic[8];
	uint32_t version;
	uint32_t header_size;     /* bytes from magic to the first chunk */
	uint32_t pid, ppid;
	uint64_t start_realtime_ns;
	uint64_t start_monotonic_ns;  /* snapshot times are relative to this */
	uint32_t page_size;
	uint32_t flags;           /* PT_TRACE_F_* */
	uint64_t sample_bytes;    /* POOLTRACE_SAMPLE: 0 = every allocation */
	uint32_t depth;           /* POOLTRACE_DEPTH */
	uint32_t interval_ms;     /* POOLTRACE_INTERVAL_MS */
	uint32_t align;           /* POOLTRACE_ALIGN: 8 or 16 */
	uint32_t arena_size, pool_size, small_max;
	uint32_t nclasses;
	uint32_t class_size[PT_TRACE_MAX_CLASSES];
	uint32_t exe_len;         /* bytes of exe path that follow (no NUL) */
	uint32_t args_len;        /* bytes of argv that follow, NUL after each */
	uint32_t unrecorded;      /* allocation calls not recorded: made before
	                             the recorder could start (before libc's
	                             initialisation, inside the dynamic linker,
	                             or while another thread started it) */
};

_Static_assert(sizeof(struct pt_trace_header) == 352, "the documented layout");

/* header flags */
#define PT_TRACE_F_FORKED   1u   /* written by a forked child: blocks it
                                    inherited are unknown to this trace */

struct pt_chunk_header {
	uint32_t magic;           /* PT_CHUNK_MAGIC */
	uint32_t stream;          /* 0: the shared stream; else a thread buffer */
	uint32_t tid;             /* kernel thread id of the writer */
	uint32_t stored;          /* payload bytes that follow */
	uint32_t raw;             /* payload bytes once decompressed */
	uint32_t flags;           /* PT_CHUNK_F_* */
	uint64_t first_seq;       /* base of the first event's seq delta */
	uint32_t sum;             /* pt_trace_sum() of the stored payload */
	uint32_t hsum;            /* pt_trace_sum() of the 32 bytes above */
};

/*
 * Compressed payloads.  The compressed chunks of a file, in file order,
 * form zstd frames that span chunks: each payload ends at a zstd flush
 * point, so it decompresses to exactly `raw` bytes given the chunks before
 * it (the window is shared, which is what makes repetitive traces small).
 * A reader therefore decompresses every chunk, in file order, with one
 * decompression context, reset where a chunk has PT_CHUNK_F_ZSTD_NEW.
 */
_Static_assert(sizeof(struct pt_chunk_header) == 40, "the documented layout");

#define PT_CHUNK_F_ZSTD     1u    /* the payload is zstd-compressed */
#define PT_CHUNK_F_ZSTD_NEW 2u    /* ... and starts a new zstd frame */

/*
 * Record types.  Each record's fields, in order, are listed once in
 * trace_codec.h (PT_FIELDS_<TYPE>); what the records mean:
 */
enum pt_record {
	PT_REC_PAD = 0,          /* ignored: a chunk may end with zeros */
	/* event: a block was handed out (malloc, calloc, memalign...), of info */
	PT_REC_ALLOC = 1,
	/* event: the thread's last ALLOC or REALLOC block (in sequence order)
	 * was freed, with no other allocation recorded on this stream in
	 * between (a temporary allocation, as heaptrack counts them); its
	 * info is that record's.  No field. */
	PT_REC_FREE_TEMP = 2,
	/* event: a block of info was freed; info 0: a block the trace did not
	 * see allocated (before profiling, in a fork parent) */
	PT_REC_FREE = 3,
	/* event: realloc freed a block of old_info (0: unknown; unless it grew
	 * in place) and returned one of info */
	PT_REC_REALLOC = 4,
	/* the info that ALLOC, FREE and REALLOC records name by id: requested
	 * size, kind (0: a pool block, 1: glibc's), stack (as the difference
	 * from the previous INFO record's); ids count from 1, in the order of
	 * the records (version 2 wrote each id), 0 in an event means unknown
	 * (no size, no stack).  Each chunk of them opens with PT_EXT_INFOS,
	 * which says the id of its first and restarts the differences. */
	PT_REC_INFO = 5,
	/* a stack: its id, the module map generation when it was met, its
	 * frames, innermost first, return addresses as unwound (a reader
	 * symbolizing a call site subtracts 1), or frames with bit 63 set
	 * (below); the outer ones may be shared with an earlier stack, named
	 * by the difference of its id (trace_codec.h: PT_FIELDS_STACK and
	 * pt_enc_frame; version 2: every frame, each as the difference from
	 * the one before) */
	PT_REC_STACK = 6,
	/* the module map: seq (absolute), generation, then per module its load
	 * bias, path, build id and PT_LOAD segments (vaddr, memsz, PF_*
	 * flags).  A complete map; it replaces the previous one from its seq on. */
	PT_REC_MODULES = 7,
	/* seq (absolute: the counter's value when taken), kind (PT_SNAP_*),
	 * time since start, RSS, live bytes (exact when every event is
	 * recorded; otherwise the allocator's count), the call totals, glibc's
	 * bytes in use (mallinfo2); then the allocator's totals, its classes
	 * and its arenas (base addresses as differences).  A LIGHT snapshot
	 * ends after glibc's bytes in use. */
	PT_REC_SNAPSHOT = 8,
	/* event: the thread's exit destructor ran */
	PT_REC_THREAD_EXIT = 9,
	/* seq, reason (PT_END_*), signal or exit code: the last record of a
	 * complete trace; the process may still free memory after it */
	PT_REC_END = 10,
	/* events lost (not recorded: the writer was out of memory) */
	PT_REC_LOST = 11,
	/* seq (absolute), bytes of roots scanned, count, then (info, class
	 * PT_LEAK_*, blocks, bytes requested) each: the live blocks at exit by
	 * reachability, from a scan of the roots (writable segments of the
	 * modules, thread stacks, static TLS) flooded through the live
	 * blocks.  Written before END, only when every event is recorded. */
	PT_REC_LEAKS = 12,
	/* seq (absolute), snapshot kind (PT_SNAP_PEAK or PT_SNAP_EXIT), count,
	 * then per arena: base (as a difference), live blocks, bytes
	 * requested, and its infos with their block counts: the arenas held
	 * by at most PT_PINNED_MAX live blocks, and whose blocks they are.
	 * Written beside the peak and exit snapshots when every event is
	 * recorded. */
	PT_REC_PINNED = 13,
	/* a Python code object that Python frames of stacks name (version 3):
	 * id, its first line, its qualified name (3.11 on; its name before),
	 * file name, and its lines by instruction offset, as runs (below), so
	 * that the offset of a frame is turned into a line by the reader.  Defined once, in the stream of the thread that
	 * first met it; resolve with the stacks, at the end. */
	PT_REC_CODE = 14,
	/* an extended record (version 3): its type (PT_EXT_*) and its fields
	 * as a length and bytes, which a reader skips when it does not know
	 * the type.  No seq in the type byte. */
	PT_REC_EXT = 15,
};

/*
 * Frames.  A stack's frame is a return address, or, with bit 63 set
 * (which no user-space address has), one of these:
 *   a Python frame: bits 62..32 a code id (PT_REC_CODE), bits 31..0 the
 *     offset of the instruction it was executing, in 16-bit code units,
 *     plus 1 (0: before its first instruction);
 *   PT_FRAME_TRUNCATED: the stack went on beyond the recorded depth.
 * A Python frame stands where the interpreter's native frame that ran it
 * stands: just before (inner to) that evaluation function's frame.
 */
#define PT_FRAME_PY_BIT     (1ull << 63)
#define PT_FRAME_TRUNCATED  UINT64_MAX
#define PT_FRAME_CODE_MAX   0x7ffffffeu      /* code ids are 1..this */

static inline uint64_t pt_frame_py(uint32_t code, uint32_t offset1)
{
	return PT_FRAME_PY_BIT | (uint64_t)code << 32 | offset1;
}

static inline int pt_frame_is_py(uint64_t f)
{
	return (f & PT_FRAME_PY_BIT) && f != PT_FRAME_TRUNCATED;
}

static inline uint32_t pt_frame_py_code(uint64_t f)
{
	return (uint32_t)(f >> 32) & 0x7fffffffu;
}

/* The instruction offset in code units, -1 before the first. */
static inline int64_t pt_frame_py_offset(uint64_t f)
{
	return (int64_t)(uint32_t)f - 1;
}

/*
 * The lines of a code object (PT_REC_CODE): runs of instructions, from
 * offset 0, each a u varint, its length in code units << 1 | 1 if it has a
 * line, and then, if so, an s varint, its line less the previous run with
 * a line's (the first: less the first line).  A run of length 0 is the
 * last: every later offset is in it.  An offset beyond the runs has no line.
 */

/* extended record types */
enum pt_ext {
	/* the program is a CPython interpreter: its version (PY_VERSION_HEX),
	 * flags (PT_PY_F_*), and the address of its evaluation function
	 * (_PyEval_EvalFrameDefault), whose module is the interpreter's own
	 * code.  A definition; written once, before any Python frame. */
	PT_EXT_PYTHON = 1,
	/* the name of a Python type that PT_EXT_PYOBJECTS names by id */
	PT_EXT_PYTYPE = 2,
	/* seq (absolute), when (PT_PYOBJ_*), count, then (info, class
	 * PT_LEAK_*, type id, objects, bytes requested) each: the Python
	 * objects among the live blocks, by allocation and type.  Several
	 * records of one `when` add up. */
	PT_EXT_PYOBJECTS = 3,
	/* the id the next INFO record defines; the next INFO record's stack is
	 * a difference from 0.  The first record of every chunk of INFO
	 * records, so that a reader that lost a chunk knows the ids of the
	 * infos after it (the lost ones are a gap).  Not Python's: any
	 * version 3 trace has them. */
	PT_EXT_INFOS = 4,
	/* seq (absolute: the full snapshot right after it, in the same
	 * chunk), then meshing's figures at that snapshot (POOLTRACE_MESH):
	 * pools meshed into others now (no page of their own), meshed since
	 * start, given back since.  Only when meshing is on. */
	PT_EXT_MESH = 5,
};

enum pt_pyobj_when {
	PT_PYOBJ_EXIT = 0,       /* the blocks the exit scan classified (the
	                            class is theirs); after the LEAKS records */
	PT_PYOBJ_FINALIZING = 1, /* every live block, when the interpreter began
	                            to finalize (the class is 0 and means
	                            nothing): what the program's code left;
	                            only when every event is recorded */
};

/* PT_EXT_PYTHON flags */
#define PT_PY_F_OWN_ALLOC   1u   /* the interpreter's allocator served its small
                                    objects (pymalloc): they are not in the trace */
#define PT_PY_F_UNSUPPORTED 2u   /* a version whose frames are not read: the
                                    stacks have native frames only */

enum pt_leak_kind {
	PT_LEAK_DEFINITE = 0,    /* no pointer to the block anywhere */
	PT_LEAK_INDIRECT = 1,    /* pointed to only from lost blocks */
	PT_LEAK_REACHABLE = 2,   /* reachable from the roots */
	PT_LEAK_CLASSES = 3,
};

#define PT_PINNED_MAX 16u

enum pt_snap_kind {
	PT_SNAP_PERIODIC = 0,
	PT_SNAP_PEAK = 1,        /* taken when the live heap passed its peak */
	PT_SNAP_EXIT = 2,
	PT_SNAP_LIGHT = 3,       /* periodic, without the allocator's part: the
	                            record ends after glibc's bytes in use */
};

enum pt_end_reason {
	PT_END_EXIT = 0,         /* the library's destructor ran */
	PT_END_SIGNAL = 1,       /* a fatal signal (the number follows) */
};

/* ---- varints and the checksum, under the codec (trace_codec.h) ------------ */

static inline uint8_t *pt_put_u(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *pt_put_s(uint8_t *p, int64_t v)
{
	return pt_put_u(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Reads a varint from [*pp, end); 0 and *pp advanced, or -1 if cut or
 * longer than 10 bytes. */
static inline int pt_get_u(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (p >= end)
			return -1;
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return -1;
}

static inline int pt_get_s(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
	uint64_t u;
	if (pt_get_u(pp, end, &u))
		return -1;
	*out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return 0;
}

/* The checksum of chunks: 64-bit multiply-xorshift over 8-byte words,
 * folded to 32 bits.  Catches torn and overwritten chunks; not a MAC. */
static inline uint32_t pt_trace_sum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	while (len >= 8) {
		uint64_t w;
		__builtin_memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		p += 8;
		len -= 8;
	}
	uint64_t w = 0;
	__builtin_memcpy(&w, p, len);
	h = (h ^ w ^ ((uint64_t)len << 56)) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

#endif
