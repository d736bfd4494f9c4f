/*
 * trace_codec.h - the records of a trace (trace_format.h) as lists of
 * named fields, and the one encoder and decoder of each, shared by the
 * writer (preload/, inside host programs: no allocation) and the reader
 * (report/).  man/pooltrace-trace.5 documents the same fields in the same
 * order.
 *
 * Each record's fields are listed once, in file order, by an X-macro:
 * X(kind, name) with kind
 *   u    an unsigned varint, held as uint64_t
 *   u32  an unsigned varint, held as uint32_t (ids, kinds, counts that fit)
 *   d    a signed varint holding the difference from the previous entry's
 *        value of this field in the same list (addresses), held absolute
 *   b    a varint length and that many bytes, held as name + name_len
 * From a list come the struct (PT_FIELD_DECL, usable inside any struct:
 * the reader's own types embed the lists too), the encoder
 * (PT_ENCODE_FIELDS) and the decoder (PT_DECODE_FIELDS).  Adding a field
 * is one edit of its list (then the man page, and PT_TRACE_VERSION when
 * old readers cannot skip it).
 *
 * A record: a type byte, then its fields.  Events (ALLOC, FREE_TEMP, FREE,
 * REALLOC, THREAD_EXIT) carry their seq as a delta in the type byte's high
 * nibble (1..15) or, with 0 there, as a varint after it: pt_enc_event()
 * and pt_dec_event_seq().  Lists whose count is known only at their end
 * (arenas of a walk, pinned arenas, leaks) leave room for it and fill it
 * in with pt_enc_count_close().
 */
#ifndef POOLTRACE_TRACE_CODEC_H
#define POOLTRACE_TRACE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "trace_format.h"

/* ---- the records' fields ---------------------------------------------------- */

/* events: after the type byte and its seq */
#define PT_FIELDS_ALLOC(X)       X(u32, info)
#define PT_FIELDS_FREE(X)        X(u32, info)
#define PT_FIELDS_REALLOC(X)     X(u32, old_info) X(u32, info)
#define PT_FIELDS_THREAD_EXIT(X) X(u32, tid)
/* PT_REC_FREE_TEMP has no field */

/* definitions.  An info's id is implicit (infos are defined once each, in
 * id order from 1), its stack a difference from the previous info's. */
#define PT_FIELDS_INFO(X)        X(u, size) X(u32, kind) X(d, stack)
/* A stack: nframes in all, of which the last `shared` are the last ones of
 * stack id - back (back 0: none, shared 0); then the nframes - shared
 * others, innermost first, each as pt_enc_frame() writes it. */
#define PT_FIELDS_STACK(X)       X(u32, id) X(u32, gen) X(u32, nframes) X(u32, back) \
                                 X(u32, shared)
/* version 2: an info's id in its record; a stack's frames all there, each
 * X(d, ip) */
#define PT_FIELDS_INFO_V2(X)     X(u32, id) X(u, size) X(u32, stack) X(u32, kind)
#define PT_FIELDS_STACK_V2(X)    X(u32, id) X(u32, gen) X(u32, nframes)
#define PT_FIELDS_FRAME_V2(X)    X(d, ip)
#define PT_FIELDS_MODULES(X)     X(u, seq) X(u32, gen) X(u, count)
/* ... then count modules, each followed by its nseg segments */
#define PT_FIELDS_MODULE(X)      X(u, base) X(b, path) X(b, build_id) X(u, nseg)
#define PT_FIELDS_SEGMENT(X)     X(u, vaddr) X(u, memsz) X(u32, flags)

/* Python: a code object; an extended record's head, then its fields */
#define PT_FIELDS_CODE(X)        X(u32, id) X(u, firstline) X(b, name) X(b, file) \
                                 X(b, lines)
#define PT_FIELDS_EXT(X)         X(u32, ext) X(u, len)
#define PT_FIELDS_EXT_PYTHON(X)  X(u32, hexversion) X(u32, flags) X(u, eval_addr)
#define PT_FIELDS_EXT_PYTYPE(X)  X(u32, id) X(b, name)
#define PT_FIELDS_EXT_PYOBJECTS(X) X(u, seq) X(u32, when)
#define PT_FIELDS_EXT_INFOS(X)   X(u32, next)
#define PT_FIELDS_EXT_MESH(X)    X(u, seq) X(u, meshed_now) X(u, meshes) X(u, unmeshes)
/* ... then u count, and the entries */
#define PT_FIELDS_PYOBJECT(X)    X(u32, info) X(u32, cls) X(u32, type) X(u, objects) X(u, bytes)

/* snapshots: the head (all of a light one), the allocator's totals, then
 * u nclasses and the classes, u narenas and the arenas */
#define PT_FIELDS_SNAPSHOT(X) \
	X(u, seq) X(u32, kind) X(u, time_ns) X(u, rss) X(u, live) \
	X(u, n_malloc) X(u, n_free) X(u, n_realloc) X(u, bytes_alloc) X(u, n_pool) \
	X(u, bytes_pool) X(u, glibc_in_use)
#define PT_FIELDS_SNAP_POOLS(X) \
	X(u, arenas_mapped) X(u, pools_in_use) X(u, pools_empty_heap) X(u, pools_free_dirty) \
	X(u, pools_purged) X(u, bytes_in_blocks) X(u, bytes_free_blocks) X(u, rounding_est) \
	X(u, pool_tails) X(u, headers)
#define PT_FIELDS_SNAP_CLASS(X) \
	X(u, pools_used) X(u, pools_full) X(u, pools_empty) X(u, blocks_used) \
	X(u, blocks_free) X(u, blocks_cached) X(u, nmalloc) X(u, req_bytes)
#define PT_FIELDS_SNAP_ARENA(X) \
	X(d, base) X(u, pools_used) X(u, pools_empty) X(u, pools_untouched) \
	X(u, blocks_used) X(u, bytes_in_blocks)

/* the end, lost events */
#define PT_FIELDS_END(X)         X(u, seq) X(u32, reason) X(u32, code)
#define PT_FIELDS_LOST(X)        X(u, lost)

/* leaks at exit: the head, u count, the entries */
#define PT_FIELDS_LEAKS(X)       X(u, seq) X(u, roots_bytes)
#define PT_FIELDS_LEAK(X)        X(u32, info) X(u32, cls) X(u, blocks) X(u, bytes)

/* pinned arenas: the head, u count, per arena its fields and ninfos infos */
#define PT_FIELDS_PINNED(X)      X(u, seq) X(u32, snap_kind)
#define PT_FIELDS_PINNED_ARENA(X) X(d, base) X(u, blocks) X(u, bytes) X(u, ninfos)
#define PT_FIELDS_PINNED_INFO(X) X(u32, info) X(u, blocks)

/* ---- struct members from a list --------------------------------------------- */

#define PT_FIELD_DECL(kind, name) PT__DECL_##kind(name)
#define PT__DECL_u(n)   uint64_t n;
#define PT__DECL_u32(n) uint32_t n;
#define PT__DECL_d(n)   uint64_t n;
#define PT__DECL_b(n)   const uint8_t *n; uint64_t n##_len;

/* The writer's records (the reader keeps its own structs, with the same
 * lists inside). */
#define PT__RECORD(name, LIST) struct pt_r_##name { LIST(PT_FIELD_DECL) };
PT__RECORD(alloc, PT_FIELDS_ALLOC)
PT__RECORD(free, PT_FIELDS_FREE)
PT__RECORD(realloc, PT_FIELDS_REALLOC)
PT__RECORD(thread_exit, PT_FIELDS_THREAD_EXIT)
PT__RECORD(info, PT_FIELDS_INFO)
PT__RECORD(stack, PT_FIELDS_STACK)
PT__RECORD(info_v2, PT_FIELDS_INFO_V2)
PT__RECORD(stack_v2, PT_FIELDS_STACK_V2)
PT__RECORD(frame_v2, PT_FIELDS_FRAME_V2)
PT__RECORD(modules, PT_FIELDS_MODULES)
PT__RECORD(module, PT_FIELDS_MODULE)
PT__RECORD(segment, PT_FIELDS_SEGMENT)
PT__RECORD(snapshot, PT_FIELDS_SNAPSHOT)
PT__RECORD(snap_pools, PT_FIELDS_SNAP_POOLS)
PT__RECORD(snap_class, PT_FIELDS_SNAP_CLASS)
PT__RECORD(snap_arena, PT_FIELDS_SNAP_ARENA)
PT__RECORD(end, PT_FIELDS_END)
PT__RECORD(lost, PT_FIELDS_LOST)
PT__RECORD(leaks, PT_FIELDS_LEAKS)
PT__RECORD(leak, PT_FIELDS_LEAK)
PT__RECORD(pinned, PT_FIELDS_PINNED)
PT__RECORD(pinned_arena, PT_FIELDS_PINNED_ARENA)
PT__RECORD(pinned_info, PT_FIELDS_PINNED_INFO)
PT__RECORD(code, PT_FIELDS_CODE)
PT__RECORD(ext, PT_FIELDS_EXT)
PT__RECORD(ext_python, PT_FIELDS_EXT_PYTHON)
PT__RECORD(ext_pytype, PT_FIELDS_EXT_PYTYPE)
PT__RECORD(ext_pyobjects, PT_FIELDS_EXT_PYOBJECTS)
PT__RECORD(ext_infos, PT_FIELDS_EXT_INFOS)
PT__RECORD(ext_mesh, PT_FIELDS_EXT_MESH)
PT__RECORD(pyobject, PT_FIELDS_PYOBJECT)
#undef PT__RECORD

/* The most bytes a list's fixed fields take (b fields: their length
 * prefix only; the caller adds the bytes). */
#define PT__MAX_u(n)   + 10
#define PT__MAX_u32(n) + 5
#define PT__MAX_d(n)   + 10
#define PT__MAX_b(n)   + 10
#define PT_FIELD_MAX(kind, name) PT__MAX_##kind(name)
#define PT_FIELDS_MAX(LIST) (0 LIST(PT_FIELD_MAX))

/* ---- encoding: into a buffer the caller sized -------------------------------- */

/*
 * PT_ENCODE_FIELDS(p, r, LIST): append the fields of LIST from *r at p
 * (a uint8_t * lvalue, advanced).  prev: a uint64_t lvalue holding the
 * list's previous d value (0 before the first entry).
 */
#define PT_ENCODE_FIELDS(p, r, prev, LIST) do { \
		uint8_t *pt__p = (p); \
		const __typeof__(*(r)) *pt__r = (r); \
		uint64_t pt__prev = (prev); \
		LIST(PT__ENC_FIELD) \
		(p) = pt__p; \
		(prev) = pt__prev; \
	} while (0)
/* ... and for a list without d fields */
#define PT_ENCODE(p, r, LIST) PT_ENCODE_FIELDS(p, r, (*(uint64_t[1]){ 0 }), LIST)
#define PT__ENC_FIELD(kind, name) PT__ENC_##kind(name)
#define PT__ENC_u(n)   pt__p = pt_put_u(pt__p, pt__r->n);
#define PT__ENC_u32(n) pt__p = pt_put_u(pt__p, pt__r->n);
#define PT__ENC_d(n)   pt__p = pt_put_s(pt__p, (int64_t)(pt__r->n - pt__prev)); pt__prev = pt__r->n;
#define PT__ENC_b(n)   pt__p = pt_put_u(pt__p, pt__r->n##_len); \
                       memcpy(pt__p, pt__r->n, (size_t)pt__r->n##_len); pt__p += pt__r->n##_len;

/* The type byte of a record that is not an event. */
static inline uint8_t *pt_enc_type(uint8_t *p, unsigned type)
{
	*p++ = (uint8_t)type;
	return p;
}

/* An event's type byte and its seq delta d from the previous event of the
 * chunk (the chunk's first_seq for the first one). */
static inline uint8_t *pt_enc_event(uint8_t *p, unsigned type, uint64_t d)
{
	if (d >= 1 && d <= 15) {
		*p++ = (uint8_t)(type | d << 4);
		return p;
	}
	*p++ = (uint8_t)type;
	return pt_put_u(p, d);
}

/* A list whose count is known only at its end: leave room for the count
 * at p (returns where the entries start) ... */
#define PT_COUNT_ROOM 10
static inline uint8_t *pt_enc_count_open(uint8_t *p)
{
	return p + PT_COUNT_ROOM;
}

/* ... and write it there once the entries, up to end, are written; the
 * gap closes.  Returns the new end. */
static inline uint8_t *pt_enc_count_close(uint8_t *count_at, uint8_t *end, uint64_t n)
{
	uint8_t tmp[PT_COUNT_ROOM], *te = pt_put_u(tmp, n);
	size_t cl = (size_t)(te - tmp);
	memmove(count_at + cl, count_at + PT_COUNT_ROOM, (size_t)(end - (count_at + PT_COUNT_ROOM)));
	memcpy(count_at, tmp, cl);
	return end - (PT_COUNT_ROOM - cl);
}

/*
 * The frames of a stack record (trace_format.h says what a frame is), one
 * u varint each, differences within the record:
 *   bit 0 clear  a return address: the rest, zigzag, its difference from
 *                the previous return address of the record (the first's
 *                from 0)
 *   bit 0 set    a Python frame or the mark (bit 63 set): the rest, zigzag,
 *                the difference of its bits 62..32 (a code id) from the
 *                previous such frame's (the first's from 0); then a u
 *                varint, its bits 31..0
 * Return addresses and Python frames alternate in merged stacks: each kind
 * against its own kind stays short.
 */
struct pt_frame_state {
	uint64_t native;
	uint32_t code;
};
#define PT_FRAME_MAX_BYTES 15

static inline uint64_t pt_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t pt_unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static inline uint8_t *pt_enc_frame(uint8_t *p, struct pt_frame_state *s, uint64_t f)
{
	if (f & PT_FRAME_PY_BIT) {
		uint32_t code = (uint32_t)(f >> 32) & 0x7fffffffu;
		p = pt_put_u(p, pt_zigzag((int64_t)code - (int64_t)s->code) << 1 | 1);
		s->code = code;
		return pt_put_u(p, (uint32_t)f);
	}
	p = pt_put_u(p, pt_zigzag((int64_t)(f - s->native)) << 1);
	s->native = f;
	return p;
}

/* ---- decoding: bounds-checked, never allocating ----------------------------- */

/* A reader's position in a chunk's records.  bad: something was cut or
 * malformed; every later read gives 0. */
struct pt_dec {
	const uint8_t *p, *end;
	int bad;
};

static inline uint64_t pt_dec_u(struct pt_dec *d)
{
	uint64_t v = 0;
	if (!d->bad && pt_get_u(&d->p, d->end, &v))
		d->bad = 1;
	return v;
}

static inline uint32_t pt_dec_u32(struct pt_dec *d)
{
	uint64_t v = pt_dec_u(d);
	if (v > UINT32_MAX)
		d->bad = 1;
	return (uint32_t)v;
}

static inline int64_t pt_dec_s(struct pt_dec *d)
{
	int64_t v = 0;
	if (!d->bad && pt_get_s(&d->p, d->end, &v))
		d->bad = 1;
	return v;
}

/* A length and that many bytes, pointed to in place. */
static inline void pt_dec_bytes(struct pt_dec *d, const uint8_t **s, uint64_t *n)
{
	uint64_t len = pt_dec_u(d);
	if (d->bad || len > (uint64_t)(d->end - d->p)) {
		d->bad = 1;
		*s = d->p;
		*n = 0;
		return;
	}
	*s = d->p;
	*n = len;
	d->p += len;
}

/* A list of n entries of at least min_bytes each fits in what is left of
 * the chunk: a hostile count cannot make a reader allocate more than the
 * chunk could describe. */
static inline int pt_dec_count_fits(const struct pt_dec *d, uint64_t n, unsigned min_bytes)
{
	return !d->bad && n <= (uint64_t)(d->end - d->p) / min_bytes;
}

/*
 * An event's seq: the delta in type byte b, or the varint after it, added
 * to *seq (modulo 2^64: a realloc's seq, taken before the call, may be
 * below its predecessor's).
 */
static inline uint64_t pt_dec_event_seq(struct pt_dec *d, uint8_t b, uint64_t *seq)
{
	*seq += PT_REC_SEQ(b) ? PT_REC_SEQ(b) : pt_dec_u(d);
	return *seq;
}

/* A frame written by pt_enc_frame(). */
static inline uint64_t pt_dec_frame(struct pt_dec *d, struct pt_frame_state *s)
{
	uint64_t v = pt_dec_u(d);
	if (v & 1) {
		s->code = (uint32_t)((uint64_t)s->code + (uint64_t)pt_unzigzag(v >> 1)) & 0x7fffffffu;
		uint64_t low = pt_dec_u(d);
		if (low > UINT32_MAX)
			d->bad = 1;
		return PT_FRAME_PY_BIT | (uint64_t)s->code << 32 | (uint32_t)low;
	}
	s->native += (uint64_t)pt_unzigzag(v >> 1);
	return s->native;
}

/* PT_DECODE_FIELDS(d, r, prev, LIST): read LIST's fields into *r (d a
 * struct pt_dec *, prev a uint64_t lvalue as for encoding). */
#define PT_DECODE_FIELDS(d, r, prev, LIST) do { \
		struct pt_dec *pt__d = (d); \
		__typeof__(*(r)) *pt__r = (r); \
		uint64_t pt__prev = (prev); \
		LIST(PT__DEC_FIELD) \
		(prev) = pt__prev; \
	} while (0)
#define PT_DECODE(d, r, LIST) PT_DECODE_FIELDS(d, r, (*(uint64_t[1]){ 0 }), LIST)
#define PT__DEC_FIELD(kind, name) PT__DEC_##kind(name)
#define PT__DEC_u(n)   pt__r->n = pt_dec_u(pt__d);
#define PT__DEC_u32(n) pt__r->n = pt_dec_u32(pt__d);
#define PT__DEC_d(n)   pt__prev += (uint64_t)pt_dec_s(pt__d); pt__r->n = pt__prev;
#define PT__DEC_b(n)   pt_dec_bytes(pt__d, &pt__r->n, &pt__r->n##_len);

#endif
