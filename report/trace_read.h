/*
 * trace_read.h - reading pooltrace trace files (format: preload/trace_format.h,
 * man/pooltrace-trace.5).
 *
 * pt_trace_open() checks the header and indexes the chunks; a file cut short
 * is read up to its last whole chunk.  pt_trace_read() then delivers the
 * events of every stream merged in sequence order, in one pass over the
 * file: memory grows with the chunks flushed out of order and with the
 * distinct stacks, not with the events.
 *
 * Damage in the middle is skipped where the format allows: chunks are
 * self-delimiting, so a chunk whose payload fails its checksum, does not
 * decompress or holds a damaged record is skipped (its records before the
 * damage kept), and a damaged chunk header is passed by searching for the
 * next valid one.  Compressed chunks share one zstd window: after a
 * compressed chunk is lost, the next ones cannot be decompressed until one
 * starts a new frame (PT_CHUNK_F_ZSTD_NEW); they are skipped too.  Events
 * that name an info defined in a lost chunk are dropped and counted.
 * pt_trace_partial() then says the result is partial, pt_trace_describe()
 * how much was read and where.
 */
#ifndef POOLTRACE_TRACE_READ_H
#define POOLTRACE_TRACE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "../preload/trace_codec.h"

struct pt_module {
	uint64_t base;            /* load bias */
	char *path;
	uint8_t build_id[64];
	unsigned build_id_len;
	unsigned nseg;
	struct { uint64_t vaddr, memsz; uint32_t flags; } *seg;
};

struct pt_modmap {             /* one MODULES record */
	uint64_t seq;
	unsigned gen;
	unsigned count;
	struct pt_module *mod;
	size_t nidx;              /* every segment, sorted by address */
	struct pt_seg_ref { uint64_t lo, hi; const struct pt_module *mod; } *idx;
};

struct pt_stack {
	unsigned gen;             /* module map generation when interned */
	unsigned nframes;         /* 0: never defined (lost with a cut trace) */
	uint64_t *ip;             /* innermost first: return addresses, Python
	                             frames, the truncation mark (trace_format.h) */
	uint32_t back, shared;    /* while reading: the outer frames still to
	                             take from stack id - back (its last shared) */
};

/* The parts of a SNAPSHOT record, with the fields the codec lists. */
struct pt_snap_class {
	PT_FIELDS_SNAP_CLASS(PT_FIELD_DECL)
};

struct pt_snap_arena {
	PT_FIELDS_SNAP_ARENA(PT_FIELD_DECL)
};

struct pt_snapshot {
	PT_FIELDS_SNAPSHOT(PT_FIELD_DECL)     /* seq, kind (PT_SNAP_*), time_ns, ... */
	PT_FIELDS_SNAP_POOLS(PT_FIELD_DECL)   /* 0 in a light one */
	unsigned nclasses;
	struct pt_snap_class *cls;    /* nclasses of them; NULL in a light one */
	size_t narenas;
	struct pt_snap_arena *arena;
	/* POOLTRACE_MESH: pools meshed into others (a PT_EXT_MESH record of
	 * this seq), else 0 */
	uint64_t meshed_now;
};

/* meshing's figure for the next full snapshot (PT_EXT_MESH) */
struct pt_mesh_figures {
	int set;
	uint64_t seq, meshed_now;
};

/*
 * The type of a delivered event: for blocks one of these (the kind of the
 * block, pool or glibc, taken from its info), otherwise the record type
 * (PT_REC_SNAPSHOT, PT_REC_THREAD_EXIT, PT_REC_END, PT_REC_LEAKS,
 * PT_REC_PINNED).
 */
enum pt_event_type {
	PT_EV_ALLOC_POOL = 1,
	PT_EV_ALLOC_SYS = 2,
	PT_EV_FREE = 3,
	PT_EV_REALLOC_POOL = 4,
	PT_EV_REALLOC_SYS = 5,
};

/* An allocation or realloc: a new block, of the event's info. */
static inline int pt_event_allocates(unsigned type)
{
	return type == PT_EV_ALLOC_POOL || type == PT_EV_ALLOC_SYS ||
	       type == PT_EV_REALLOC_POOL || type == PT_EV_REALLOC_SYS;
}

struct pt_info {
	uint64_t size;            /* requested */
	uint32_t stack;
	uint32_t kind;            /* 0 pool, 1 glibc */
};

struct pt_leaks {                 /* PT_REC_LEAKS */
	uint64_t roots_bytes;
	size_t n;
	struct pt_leak_entry { uint32_t info; unsigned cls; uint64_t blocks, bytes; } *e;
};

struct pt_pinned {                /* PT_REC_PINNED */
	unsigned snap_kind;
	size_t n;
	struct pt_pinned_rec {
		uint64_t base, blocks, bytes;
		size_t ninfos;
		struct pt_pinned_info { uint32_t info; uint64_t blocks; } *info;
	} *a;
};

struct pt_event {
	uint64_t seq;
	unsigned type;            /* PT_EV_* or PT_REC_* */
	uint32_t stream, tid;
	/* alloc, realloc: the new block; free: the block freed (info 0:
	 * unknown to the trace, size and stack 0) */
	uint32_t info;
	uint64_t size;
	uint32_t stack;
	int temp;                 /* free: of the stream's last allocation,
	                             with no other allocation in between */
	uint32_t old_info;        /* realloc: the block it replaced */
	uint64_t old_size;
	uint32_t old_stack;
	const struct pt_snapshot *snap;   /* PT_REC_SNAPSHOT */
	unsigned end_reason, end_code;    /* PT_REC_END */
	const struct pt_leaks *leaks;     /* PT_REC_LEAKS */
	const struct pt_pinned *pinned;   /* PT_REC_PINNED */
};

/* A Python code object (PT_REC_CODE). */
struct pt_pycode {
	char *name;               /* qualified name (3.11 on), else name; NULL: never defined */
	char *file;
	uint64_t firstline;
	uint8_t *lines;           /* runs of lines (trace_format.h) */
	size_t nlines;
};

/* The interpreter (PT_EXT_PYTHON). */
struct pt_python {
	int present;              /* the trace has the record */
	uint32_t hexversion, flags;   /* PT_PY_F_* */
	uint64_t eval_addr;
};

/* Python objects live at exit, or when the interpreter began to finalize
 * (PT_EXT_PYOBJECTS), all records' entries. */
struct pt_pyobject {
	uint32_t when;                /* PT_PYOBJ_* */
	uint32_t info, cls, type;     /* type: an index into pt_trace.pytype */
	uint64_t objects, bytes;
};

struct pt_chunk_index;

struct pt_trace {
	const char *path;
	const uint8_t *map;       /* the whole file, read-only */
	size_t size;
	struct pt_trace_header hdr;
	char *exe;
	char *args;               /* NUL-separated, args_len bytes */
	size_t nchunks;
	struct pt_chunk_index *chunk;
	uint64_t data_end;        /* offset after the last chunk indexed */
	char stop[256];           /* the first problem met: why reading stopped
	                             early, or the first damage skipped; or "" */
	int cut;                  /* the file ends inside a chunk (a process
	                             killed while writing): not damage */
	int stopped;              /* reading stopped early on damage */
	uint64_t read_bytes;      /* header and chunks decoded */
	uint64_t skipped_chunks;  /* damaged or undecompressible, skipped */
	uint64_t skipped_bytes;   /* their bytes, and those searched past */
	uint64_t first_damage;    /* file offset of the first, if any */
	uint64_t lost_events;     /* naming an info of a lost chunk: dropped */
	struct pt_info_gap { uint32_t lo, hi; } *gap;   /* infos never defined */
	size_t ngaps;

	/* filled by pt_trace_read */
	struct pt_stack *stack;   /* by id */
	size_t nstacks;
	struct pt_info *info;     /* by id, 1..ninfos-1 defined */
	size_t ninfos, infos_cap;
	uint64_t info_prev_stack; /* the last INFO record's (version 3) */
	uint32_t *last_alloc;     /* by stream: the info of FREE_TEMP */
	size_t nlast;
	uint64_t *stream_first;   /* by stream: its last chunk's first_seq + 1 */
	size_t nstream_first;
	uint64_t chunks_out_of_order;   /* a stream's chunk below its previous
	                                   one (a writer bug; readers cope) */
	struct pt_modmap *modmap;
	size_t nmodmaps;
	struct pt_pycode *pycode; /* by code id (frames, trace_format.h) */
	size_t npycodes;
	struct pt_python python;
	struct pt_mesh_figures mesh_next;   /* for the full snapshot of its seq */
	char **pytype;            /* type names by id; NULL where undefined */
	size_t npytypes;
	struct pt_pyobject *pyobj;
	size_t npyobjs;
	int ended;                /* an END record was seen */
	uint64_t pos;             /* file offset read up to (for progress) */
	size_t held;              /* events decoded and not yet delivered */
	uint64_t events, streams_max;
};

/* Stack id was cut at the recording's depth: it has exactly the header's
 * depth frames (its outermost callers are missing). */
static inline int pt_trace_stack_cut(const struct pt_trace *t, uint32_t id)
{
	return id < t->nstacks && t->stack[id].nframes && t->stack[id].nframes >= t->hdr.depth;
}

/* Damage was met (skipped, or reading stopped on it): what was read is
 * only part of the trace.  A file merely cut short at its end is not. */
static inline int pt_trace_partial(const struct pt_trace *t)
{
	return t->skipped_chunks || t->skipped_bytes || t->lost_events || t->stopped;
}

/* One line (no newline) for a warning: how much of the file was read,
 * what was skipped or where reading stopped, and why.  "" when nothing
 * went wrong. */
void pt_trace_describe(const struct pt_trace *t, char *buf, size_t cap);

/* Open and index a trace.  NULL with a one-line message in err otherwise. */
struct pt_trace *pt_trace_open(const char *path, char *err, size_t errlen);
void pt_trace_close(struct pt_trace *t);

/*
 * Deliver every sequenced record (alloc, free, realloc, snapshot, thread
 * exit, end) in sequence order; stacks and module maps are stored in t as
 * they are met (t->stack[id] may be defined after an event using id was
 * delivered: resolve stacks at the end; the outer frames a stack shares
 * with another are filled in when the reading ends).  Skips damaged chunks
 * (see the top of this file).  Returns 0, or -1 if the callback returned
 * nonzero.
 */
int pt_trace_read(struct pt_trace *t, int (*fn)(void *ctx, const struct pt_event *ev),
                  void *ctx);

/* The module of map generation gen (or the closest earlier map) that
 * holds ip; NULL if none. */
const struct pt_module *pt_trace_module(const struct pt_trace *t, unsigned gen,
                                        uint64_t ip);

const char *pt_record_name(unsigned type);

/* Index the segments of m (sorted, for pt_trace_module); the reader does
 * it for every map it reads, a program that builds a map calls it. */
void pt_modmap_index(struct pt_modmap *m);

#endif
