/*
 * trace_read.c - the trace file reader: index, decompress, merge by seq.
 *
 * Every chunk is decompressed once, in file order (compressed chunks share
 * one zstd window).  Its records are decoded into an array and the chunk
 * joins a min-heap keyed by its next event's seq.  The heap's first event
 * may be delivered once no chunk still unread could hold a smaller seq:
 * suffix_min[i], the least first_seq of chunks i.. in file order, says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "trace_defs.h"
#include "trace_read.h"
#include "util.h"

struct pt_chunk_index {
	uint64_t off;             /* of the payload */
	struct pt_chunk_header h;
	int lost_before;          /* a chunk before it was lost: the zstd
	                             window is broken until a new frame */
};

struct loaded {                /* a decoded chunk waiting in the heap */
	struct pt_event *ev;
	size_t n, next;
};

static void vset_stop(struct pt_trace *t, const char *fmt, va_list ap)
{
	if (!t->stop[0])
		vsnprintf(t->stop, sizeof t->stop, fmt, ap);
}

static void set_stop(struct pt_trace *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset_stop(t, fmt, ap);
	va_end(ap);
}

const char *pt_record_name(unsigned type)
{
	static const char *const names[] = {
		"pad", "alloc", "free-temp", "free", "realloc", "info", "stack", "modules",
		"snapshot", "thread-exit", "end", "lost", "leaks", "pinned", "code", "ext",
	};
	return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

/* Damage skipped at file offset off: the first one named in t->stop. */
static void damage(struct pt_trace *t, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void damage(struct pt_trace *t, uint64_t off, const char *fmt, ...)
{
	if (!t->skipped_chunks && !t->skipped_bytes && !t->lost_events && !t->stopped)
		t->first_damage = off;
	va_list ap;
	va_start(ap, fmt);
	vset_stop(t, fmt, ap);
	va_end(ap);
}

/* The chunk ci (or the rest of it) is lost. */
static void chunk_lost(struct pt_trace *t, const struct pt_chunk_index *ci, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void pt_trace_describe(const struct pt_trace *t, char *buf, size_t cap)
{
	buf[0] = 0;
	if (!pt_trace_partial(t)) {
		if (t->stop[0])
			snprintf(buf, cap, "trace cut short: read up to offset %llu of %zu: %s",
			         (unsigned long long)t->data_end, t->size, t->stop);
		return;
	}
	size_t n = (size_t)snprintf(buf, cap, "damaged trace: read %llu of %zu bytes",
	                            (unsigned long long)t->read_bytes, t->size);
	if (n < cap && (t->skipped_chunks || t->skipped_bytes))
		n += (size_t)snprintf(buf + n, cap - n, "; skipped %llu damaged or unreadable "
		                      "chunk%s (%llu bytes) from offset %llu",
		                      (unsigned long long)t->skipped_chunks,
		                      t->skipped_chunks == 1 ? "" : "s",
		                      (unsigned long long)t->skipped_bytes,
		                      (unsigned long long)t->first_damage);
	if (n < cap && t->lost_events)
		n += (size_t)snprintf(buf + n, cap - n, "; %llu events of lost blocks dropped",
		                      (unsigned long long)t->lost_events);
	if (n < cap && t->stopped)
		n += (size_t)snprintf(buf + n, cap - n, "; reading stopped at offset %llu",
		                      (unsigned long long)t->data_end);
	if (n < cap)
		snprintf(buf + n, cap - n, " (first: %s): the result is partial", t->stop);
}

/* A chunk header that is one: magic, its own sum, sane fields. */
static int chunk_header_ok(const struct pt_chunk_header *c)
{
	return c->magic == PT_CHUNK_MAGIC &&
	       c->hsum == pt_trace_sum(c, offsetof(struct pt_chunk_header, hsum)) &&
	       c->stored <= PT_CHUNK_MAX && c->raw <= PT_CHUNK_MAX &&
	       ((c->flags & PT_CHUNK_F_ZSTD) || c->raw == c->stored) &&
	       !(c->flags & ~(PT_CHUNK_F_ZSTD | PT_CHUNK_F_ZSTD_NEW));
}

/* The offset of the next valid chunk header from off on (one whose payload
 * fits in the file), or size. */
static uint64_t resync(const uint8_t *map, size_t size, uint64_t off)
{
	static const uint8_t magic[4] = { 0x50, 0x54, 0x43, 0x4b };   /* PT_CHUNK_MAGIC, LE */
	struct pt_chunk_header c;
	while (off + sizeof c <= size) {
		const uint8_t *m = memmem(map + off, size - off, magic, sizeof magic);
		if (!m || (uint64_t)(m - map) + sizeof c > size)
			return size;
		off = (uint64_t)(m - map);
		memcpy(&c, m, sizeof c);
		if (chunk_header_ok(&c) && size - off - sizeof c >= c.stored)
			return off;
		off++;
	}
	return size;
}

static void chunk_lost(struct pt_trace *t, const struct pt_chunk_index *ci, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	damage(t, ci->off - sizeof(struct pt_chunk_header), "%s", msg);
	t->skipped_chunks++;
	t->skipped_bytes += sizeof(struct pt_chunk_header) + ci->h.stored;
}

/* ---- open and index ------------------------------------------------------ */

struct pt_trace *pt_trace_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO must not block */
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	size_t size = (size_t)st.st_size;
	if (size < sizeof(struct pt_trace_header)) {
		snprintf(err, errlen, "%s: not a pooltrace trace (%zu bytes, too short)", path,
		         size);
		close(fd);
		return NULL;
	}
	const uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: cannot map: %s", path, strerror(errno));
		return NULL;
	}
	struct pt_trace_header h;
	memcpy(&h, map, sizeof h);
	if (memcmp(h.magic, PT_TRACE_MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s: not a pooltrace trace (bad magic)", path);
		munmap((void *)map, size);
		return NULL;
	}
	if (h.version < PT_TRACE_VERSION_MIN || h.version > PT_TRACE_VERSION) {
		snprintf(err, errlen, "%s: trace format version %u, this pooltrace reads "
		         "versions %u to %u", path, h.version, PT_TRACE_VERSION_MIN, PT_TRACE_VERSION);
		munmap((void *)map, size);
		return NULL;
	}
	if (h.header_size != sizeof h + (uint64_t)h.exe_len + h.args_len ||
	    h.header_size > size || h.nclasses > PT_TRACE_MAX_CLASSES ||
	    h.depth > PT_TRACE_MAX_DEPTH ||
	    /* the geometry the reports divide by: powers of two, pools in arenas */
	    !h.pool_size || (h.pool_size & (h.pool_size - 1)) || h.arena_size <= h.pool_size ||
	    (h.arena_size & (h.arena_size - 1))) {
		snprintf(err, errlen, "%s: corrupt trace header", path);
		munmap((void *)map, size);
		return NULL;
	}

	struct pt_trace *t = pt_xmalloc(sizeof *t);
	memset(t, 0, sizeof *t);
	t->path = path;
	t->map = map;
	t->size = size;
	t->hdr = h;
	t->exe = pt_xmalloc(h.exe_len + 1);
	memcpy(t->exe, map + sizeof h, h.exe_len);
	t->exe[h.exe_len] = 0;
	t->args = pt_xmalloc(h.args_len + 1);
	memcpy(t->args, map + sizeof h + h.exe_len, h.args_len);
	t->args[h.args_len] = 0;

	size_t cap = 0;
	uint64_t off = h.header_size;
	int lost = 0;
	t->read_bytes = h.header_size;
	while (off < size) {
		struct pt_chunk_header c;
		if (size - off < sizeof c) {
			t->cut = 1;
			set_stop(t, "cut short inside a chunk header at offset %llu",
			         (unsigned long long)off);
			break;
		}
		memcpy(&c, map + off, sizeof c);
		if (!chunk_header_ok(&c)) {
			/* search for the next whole chunk with a valid header */
			uint64_t next = resync(map, size, off + 1);
			damage(t, off, "damaged chunk header at offset %llu", (unsigned long long)off);
			t->skipped_bytes += next - off;
			if (next >= size) {
				t->stopped = 1;
				break;
			}
			t->skipped_chunks++;
			off = next;
			lost = 1;
			continue;
		}
		if (size - off - sizeof c < c.stored) {
			t->cut = 1;
			set_stop(t, "cut short inside the chunk at offset %llu (the process "
			         "was probably killed while writing)", (unsigned long long)off);
			break;
		}
		if (pt_trace_sum(map + off + sizeof c, c.stored) != c.sum) {
			damage(t, off, "checksum mismatch in the chunk at offset %llu",
			       (unsigned long long)off);
			t->skipped_chunks++;
			t->skipped_bytes += sizeof c + c.stored;
			off += sizeof c + c.stored;
			lost = 1;
			continue;
		}
		if (t->nchunks == cap) {
			cap = cap ? cap * 2 : 256;
			t->chunk = pt_xrealloc(t->chunk, cap * sizeof *t->chunk);
		}
		t->chunk[t->nchunks].off = off + sizeof c;
		t->chunk[t->nchunks].h = c;
		t->chunk[t->nchunks].lost_before = lost;
		lost = 0;
		t->nchunks++;
		off += sizeof c + c.stored;
	}
	t->data_end = off;
	return t;
}

void pt_trace_close(struct pt_trace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nstacks; i++)
		free(t->stack[i].ip);
	free(t->stack);
	free(t->info);
	free(t->last_alloc);
	free(t->stream_first);
	free(t->gap);
	for (size_t i = 0; i < t->nmodmaps; i++) {
		for (unsigned k = 0; k < t->modmap[i].count; k++) {
			free(t->modmap[i].mod[k].path);
			free(t->modmap[i].mod[k].seg);
		}
		free(t->modmap[i].mod);
		free(t->modmap[i].idx);
	}
	free(t->modmap);
	for (size_t i = 0; i < t->npycodes; i++) {
		free(t->pycode[i].name);
		free(t->pycode[i].file);
		free(t->pycode[i].lines);
	}
	free(t->pycode);
	for (size_t i = 0; i < t->npytypes; i++)
		free(t->pytype[i]);
	free(t->pytype);
	free(t->pyobj);
	free(t->chunk);
	free(t->exe);
	free(t->args);
	munmap((void *)t->map, t->size);
	free(t);
}

/* ---- decoding a chunk: its events and what they carry ------------------ */

static struct pt_snapshot *parse_snapshot(struct pt_trace *t, struct pt_dec *d)
{
	struct pt_snapshot *s = pt_xmalloc(sizeof *s);
	memset(s, 0, sizeof *s);
	PT_DECODE(d, s, PT_FIELDS_SNAPSHOT);
	if (s->kind == PT_SNAP_LIGHT) {
		if (!d->bad)
			return s;
		free(s);
		return NULL;
	}
	PT_DECODE(d, s, PT_FIELDS_SNAP_POOLS);
	uint64_t nc = pt_dec_u(d);
	if (d->bad || nc > PT_TRACE_MAX_CLASSES)
		goto bad;
	s->nclasses = (unsigned)nc;
	s->cls = pt_xmalloc((nc ? nc : 1) * sizeof *s->cls);
	for (unsigned k = 0; k < s->nclasses; k++)
		PT_DECODE(d, &s->cls[k], PT_FIELDS_SNAP_CLASS);
	uint64_t na = pt_dec_u(d);
	if (!pt_dec_count_fits(d, na, 6))   /* an arena takes 6 varints */
		goto bad;
	s->narenas = (size_t)na;
	s->arena = pt_xmalloc(na * sizeof *s->arena);
	uint64_t base = 0;
	for (size_t i = 0; i < na; i++)
		PT_DECODE_FIELDS(d, &s->arena[i], base, PT_FIELDS_SNAP_ARENA);
	if (d->bad)
		goto bad;
	if (t->mesh_next.set && t->mesh_next.seq == s->seq)
		s->meshed_now = t->mesh_next.meshed_now;
	return s;
bad:
	free(s->cls);
	free(s->arena);
	free(s);
	return NULL;
}

#define HELD_MAX      (1u << 22)   /* events decoded and not delivered: ~400 MB */
#define STREAM_MAX    (1u << 20)

static uint32_t *last_alloc(struct pt_trace *t, uint32_t stream)
{
	t->last_alloc = pt__grow_zeroed(t->last_alloc, &t->nlast, stream, sizeof *t->last_alloc);
	return &t->last_alloc[stream];
}

/* The memory an event owns: a snapshot, a leak or pinned-arena list. */
static void event_free(struct pt_event *e)
{
	if (e->snap) {
		free(e->snap->cls);
		free(e->snap->arena);
		free((void *)e->snap);
	}
	if (e->leaks) {
		free(e->leaks->e);
		free((void *)e->leaks);
	}
	if (e->pinned) {
		for (size_t i = 0; i < e->pinned->n; i++)
			free(e->pinned->a[i].info);
		free(e->pinned->a);
		free((void *)e->pinned);
	}
}

static void loaded_free(struct loaded *l)
{
	for (size_t i = 0; i < l->n; i++)
		event_free(&l->ev[i]);
	free(l->ev);
	free(l);
}


static struct pt_leaks *parse_leaks(struct pt_trace *t, struct pt_dec *d, uint64_t *seq)
{
	struct pt_leaks *lk = pt_xmalloc(sizeof *lk);
	struct pt_r_leaks head;
	PT_DECODE(d, &head, PT_FIELDS_LEAKS);
	*seq = head.seq;
	lk->roots_bytes = head.roots_bytes;
	uint64_t n = pt_dec_u(d);
	lk->n = 0;
	lk->e = NULL;
	if (!pt_dec_count_fits(d, n, 4))
		goto bad;
	lk->e = pt_xmalloc((n ? n : 1) * sizeof *lk->e);
	for (lk->n = 0; lk->n < n; lk->n++) {
		struct pt_leak_entry *e = &lk->e[lk->n];
		struct pt_r_leak r;
		PT_DECODE(d, &r, PT_FIELDS_LEAK);
		if (d->bad || !r.info || r.info >= t->ninfos || r.cls >= PT_LEAK_CLASSES)
			goto bad;
		*e = (struct pt_leak_entry){ r.info, r.cls, r.blocks, r.bytes };
	}
	return lk;
bad:
	free(lk->e);
	free(lk);
	return NULL;
}

static struct pt_pinned *parse_pinned(struct pt_trace *t, struct pt_dec *d, uint64_t *seq)
{
	struct pt_pinned *pn = pt_xmalloc(sizeof *pn);
	struct pt_r_pinned head;
	PT_DECODE(d, &head, PT_FIELDS_PINNED);
	*seq = head.seq;
	pn->snap_kind = head.snap_kind;
	uint64_t n = pt_dec_u(d), base = 0;
	pn->n = 0;
	pn->a = NULL;
	if (!pt_dec_count_fits(d, n, 4))
		goto bad;
	pn->a = pt_xmalloc((n ? n : 1) * sizeof *pn->a);
	for (pn->n = 0; pn->n < n;) {
		struct pt_pinned_rec *a = &pn->a[pn->n];
		struct pt_r_pinned_arena r;
		PT_DECODE_FIELDS(d, &r, base, PT_FIELDS_PINNED_ARENA);
		a->base = r.base;
		a->blocks = r.blocks;
		a->bytes = r.bytes;
		if (!pt_dec_count_fits(d, r.ninfos, 2))
			goto bad;
		a->ninfos = 0;
		a->info = pt_xmalloc((r.ninfos ? r.ninfos : 1) * sizeof *a->info);
		pn->n++;
		for (; a->ninfos < r.ninfos; a->ninfos++) {
			struct pt_r_pinned_info e;
			PT_DECODE(d, &e, PT_FIELDS_PINNED_INFO);
			if (d->bad || !e.info || e.info >= t->ninfos)
				goto bad;
			a->info[a->ninfos] = (struct pt_pinned_info){ e.info, e.blocks };
		}
	}
	return pn;
bad:
	for (size_t i = 0; i < pn->n; i++)
		free(pn->a[i].info);
	free(pn->a);
	free(pn);
	return NULL;
}

/*
 * Decode one chunk's records: definitions go into t, sequenced records
 * into the returned array.  A damaged record ends the chunk (counted as
 * skipped); what came before it is kept.  *stop set: reading must stop
 * (memory would pass its bound).
 */
static struct loaded *decode_chunk(struct pt_trace *t, const struct pt_chunk_index *ci,
                                   const uint8_t *data, size_t len, int *stop)
{
	struct loaded *l = pt_xmalloc(sizeof *l);
	size_t cap = 64;
	l->ev = pt_xmalloc(cap * sizeof *l->ev);
	l->n = l->next = 0;
	struct pt_dec d = { data, data + len, 0 };
	uint64_t seq = ci->h.first_seq;
	if (ci->h.stream >= STREAM_MAX) {
		chunk_lost(t, ci, "stream number %u out of range in the chunk at offset %llu",
		           ci->h.stream, (unsigned long long)ci->off - sizeof(struct pt_chunk_header));
		return l;
	}
	t->stream_first = pt__grow_zeroed(t->stream_first, &t->nstream_first, ci->h.stream,
	                              sizeof *t->stream_first);
	if (ci->h.stream && t->stream_first[ci->h.stream] > ci->h.first_seq + 1)
		t->chunks_out_of_order++;
	t->stream_first[ci->h.stream] = ci->h.first_seq + 1;

	while (d.p < d.end) {
		const uint8_t *rec = d.p;
		uint8_t b = *d.p++;
		unsigned type = PT_REC_TYPE(b);
		if (b == 0)
			continue;   /* padding */
		struct pt_event e;
		int dropped = 0;
		memset(&e, 0, sizeof e);
		e.type = type;
		e.stream = ci->h.stream;
		e.tid = ci->h.tid;

		switch (type) {
		case PT_REC_ALLOC: case PT_REC_FREE_TEMP: case PT_REC_FREE:
		case PT_REC_REALLOC: case PT_REC_THREAD_EXIT: {
			e.seq = pt_dec_event_seq(&d, b, &seq);
			if (type == PT_REC_THREAD_EXIT) {
				struct pt_r_thread_exit r;
				PT_DECODE(&d, &r, PT_FIELDS_THREAD_EXIT);
				e.tid = r.tid;
				break;
			}
			const struct pt_info *old = NULL, *in;
			if (type == PT_REC_REALLOC) {
				struct pt_r_realloc r;
				PT_DECODE(&d, &r, PT_FIELDS_REALLOC);
				e.old_info = r.old_info;
				e.info = r.info;
				if (!d.bad && !(old = pt__def_info_of(t, e.old_info)) &&
				    pt__def_info_lost(t, e.old_info)) {
					e.old_info = 0;       /* a block of a lost chunk's info */
					old = pt__def_info_of(t, 0);
				}
				if (d.bad || !old) {
					d.bad = 1;
					break;
				}
				e.old_size = old->size;
				e.old_stack = old->stack;
			} else if (type == PT_REC_FREE_TEMP) {
				e.temp = 1;   /* its info: resolved in sequence order */
			} else if (type == PT_REC_ALLOC) {
				struct pt_r_alloc r;
				PT_DECODE(&d, &r, PT_FIELDS_ALLOC);
				e.info = r.info;
			} else {
				struct pt_r_free r;
				PT_DECODE(&d, &r, PT_FIELDS_FREE);
				e.info = r.info;
			}
			if (!d.bad && !(in = pt__def_info_of(t, e.info)) &&
			    pt__def_info_lost(t, e.info)) {
				dropped = 1;
				break;
			}
			if (d.bad || !in) {
				d.bad = 1;
				break;
			}
			e.size = in->size;
			e.stack = in->stack;
			if (type == PT_REC_FREE || type == PT_REC_FREE_TEMP) {
				e.type = PT_EV_FREE;
			} else {
				if (!e.info)   /* allocations always name their info */
					d.bad = 1;
				e.type = type == PT_REC_ALLOC
				         ? (in->kind ? PT_EV_ALLOC_SYS : PT_EV_ALLOC_POOL)
				         : (in->kind ? PT_EV_REALLOC_SYS : PT_EV_REALLOC_POOL);
			}
			break;
		}
		case PT_REC_INFO:
			if (PT_REC_SEQ(b) || pt__def_info(t, &d))
				d.bad = 1;
			if (!d.bad)
				continue;
			break;       /* a damaged definition ends the chunk too */
		case PT_REC_STACK:
			if (PT_REC_SEQ(b) || pt__def_stack(t, &d))
				d.bad = 1;
			if (!d.bad)
				continue;
			break;
		case PT_REC_MODULES:
			if (PT_REC_SEQ(b) || pt__def_modules(t, &d))
				d.bad = 1;
			if (!d.bad)
				continue;
			break;
		case PT_REC_CODE:
			if (PT_REC_SEQ(b) || t->hdr.version < 3 || pt__def_code(t, &d))
				d.bad = 1;
			if (!d.bad)
				continue;
			break;
		case PT_REC_EXT:
			if (PT_REC_SEQ(b) || t->hdr.version < 3 || pt__def_ext(t, &d))
				d.bad = 1;
			if (!d.bad)
				continue;
			break;
		case PT_REC_SNAPSHOT:
			if (!(e.snap = parse_snapshot(t, &d)))
				d.bad = 1;
			else
				e.seq = e.snap->seq;
			break;
		case PT_REC_LEAKS:
			if (!(e.leaks = parse_leaks(t, &d, &e.seq)))
				d.bad = 1;
			break;
		case PT_REC_PINNED:
			if (!(e.pinned = parse_pinned(t, &d, &e.seq)))
				d.bad = 1;
			break;
		case PT_REC_END: {
			struct pt_r_end r;
			PT_DECODE(&d, &r, PT_FIELDS_END);
			e.seq = r.seq;
			e.end_reason = r.reason;
			e.end_code = r.code;
			break;
		}
		case PT_REC_LOST: {
			struct pt_r_lost r;
			PT_DECODE(&d, &r, PT_FIELDS_LOST);
			if (!d.bad)
				continue;
			break;
		}
		default:
			d.bad = 1;
		}
		if (dropped) {            /* names an info of a lost chunk */
			t->lost_events++;
			continue;
		}
		if (d.bad || (PT_REC_SEQ(b) && (type == PT_REC_SNAPSHOT || type == PT_REC_END ||
		                                 type == PT_REC_LEAKS || type == PT_REC_PINNED))) {
			chunk_lost(t, ci, "damaged record (type byte 0x%02x) at offset %zu of the "
			           "chunk at offset %llu", b, (size_t)(rec - data),
			           (unsigned long long)ci->off - sizeof(struct pt_chunk_header));
			event_free(&e);
			break;
		}
		if (l->n == cap) {
			if (t->held + cap > HELD_MAX) {   /* a chunk of millions of events */
				*stop = 1;
				t->stopped = 1;
				damage(t, ci->off - sizeof(struct pt_chunk_header),
				       "more than %u events in the chunk at offset %llu", HELD_MAX,
				       (unsigned long long)ci->off - sizeof(struct pt_chunk_header));
				event_free(&e);
				break;
			}
			cap *= 2;
			l->ev = pt_xrealloc(l->ev, cap * sizeof *l->ev);
		}
		l->ev[l->n++] = e;
	}
	return l;
}

/*
 * A temporary free frees its stream's last allocation, taken as events are
 * delivered in sequence order, whatever order the chunks reached the file
 * in.  None: an unknown block.
 */
static void resolve_temp(struct pt_trace *t, struct pt_event *e)
{
	if (e->type == PT_EV_FREE && e->temp) {
		uint32_t *last = last_alloc(t, e->stream);
		const struct pt_info *in = pt__def_info_of(t, *last);
		e->info = in ? *last : 0;
		e->size = in ? in->size : 0;
		e->stack = in ? in->stack : 0;
		e->temp = e->info != 0;
		*last = 0;
	} else if (pt_event_allocates(e->type)) {
		*last_alloc(t, e->stream) = e->info;
	}
}

/* ---- the merge ----------------------------------------------------------- */

static inline uint64_t head_seq(const struct loaded *l)
{
	return l->ev[l->next].seq;
}

/* Order: seq, then frees before allocations (ties cannot come from one
 * counter, but a realloc's early seq may meet a signal handler's event). */
static inline int before(const struct loaded *a, const struct loaded *b)
{
	uint64_t sa = head_seq(a), sb = head_seq(b);
	if (sa != sb)
		return sa < sb;
	return a->ev[a->next].type == PT_EV_FREE && b->ev[b->next].type != PT_EV_FREE;
}

static void heap_push(struct loaded **h, size_t *n, struct loaded *l)
{
	size_t i = (*n)++;
	h[i] = l;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(h[i], h[p]))
			break;
		struct loaded *x = h[i];
		h[i] = h[p];
		h[p] = x;
		i = p;
	}
}

static void heap_down(struct loaded **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && before(h[l], h[m]))
			m = l;
		if (r < n && before(h[r], h[m]))
			m = r;
		if (m == i)
			return;
		struct loaded *x = h[i];
		h[i] = h[m];
		h[m] = x;
		i = m;
	}
}

int pt_trace_read(struct pt_trace *t, int (*fn)(void *ctx, const struct pt_event *ev),
                  void *ctx)
{
	size_t n = t->nchunks;
	uint64_t *suffix_min = pt_xmalloc((n + 1) * sizeof *suffix_min);
	suffix_min[n] = UINT64_MAX;
	for (size_t i = n; i-- > 0;) {
		uint64_t f = t->chunk[i].h.first_seq;
		suffix_min[i] = f < suffix_min[i + 1] ? f : suffix_min[i + 1];
	}
	struct loaded **heap = pt_xmalloc((n + 1) * sizeof *heap);
	size_t hn = 0, next = 0;
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	uint8_t *raw = pt_xmalloc(PT_CHUNK_MAX);
	int zok = 0, rc = 0;
	if (!dc) {
		fprintf(stderr, "pooltrace: out of memory\n");
		exit(2);
	}

	while (next < n || hn > 0) {
		if (next < n && t->held > HELD_MAX) {
			/* a writer holds a chunk per thread: this is a hostile or
			 * broken file, and memory must stay bounded */
			t->stopped = 1;
			t->data_end = t->chunk[next].off - sizeof(struct pt_chunk_header);
			damage(t, t->data_end, "more than %u events decoded ahead of their turn at "
			       "the chunk at offset %llu: chunks too far out of order", HELD_MAX,
			       (unsigned long long)t->data_end);
			next = n;
		}
		if (next < n && (hn == 0 || suffix_min[next] <= head_seq(heap[0]))) {
			const struct pt_chunk_index *ci = &t->chunk[next];
			const uint8_t *data = t->map + ci->off;
			size_t len = ci->h.stored;
			if (ci->lost_before)
				zok = 0;          /* the window lost a chunk */
			if (ci->h.flags & PT_CHUNK_F_ZSTD) {
				if (ci->h.flags & PT_CHUNK_F_ZSTD_NEW) {
					ZSTD_DCtx_reset(dc, ZSTD_reset_session_only);
					zok = 1;
				}
				ZSTD_inBuffer in = { data, len, 0 };
				ZSTD_outBuffer out = { raw, ci->h.raw, 0 };
				size_t r = 0;
				while (zok && in.pos < in.size && out.pos < out.size) {
					r = ZSTD_decompressStream(dc, &out, &in);
					if (ZSTD_isError(r))
						break;
				}
				if (!zok || ZSTD_isError(r) || out.pos != ci->h.raw) {
					/* skipped; so are the next compressed chunks until
					 * one starts a new zstd frame */
					chunk_lost(t, ci, zok ? "cannot decompress the chunk at offset "
					           "%llu" : "the chunk at offset %llu follows a lost "
					           "chunk in its zstd frame",
					           (unsigned long long)ci->off -
					           sizeof(struct pt_chunk_header));
					zok = 0;
					next++;
					t->pos = ci->off + ci->h.stored;
					continue;
				}
				data = raw;
				len = out.pos;
			}
			int stop = 0;
			uint64_t lost = t->skipped_chunks;
			struct loaded *l = decode_chunk(t, ci, data, len, &stop);
			next++;
			t->pos = ci->off + ci->h.stored;
			if (t->skipped_chunks == lost)
				t->read_bytes += sizeof(struct pt_chunk_header) + ci->h.stored;
			if (stop) {
				t->data_end = ci->off - sizeof(struct pt_chunk_header);
				next = n;   /* keep what came before */
			}
			if (l->n == 0) {
				loaded_free(l);
				continue;
			}
			t->held += l->n;
			heap_push(heap, &hn, l);
			continue;
		}
		struct loaded *l = heap[0];
		struct pt_event *e = &l->ev[l->next++];
		t->held--;
		resolve_temp(t, e);
		t->events++;
		if (e->type == PT_REC_END)
			t->ended = 1;
		if (e->stream > t->streams_max)
			t->streams_max = e->stream;
		if (fn(ctx, e)) {
			rc = -1;
			break;
		}
		if (l->next == l->n) {
			heap[0] = heap[--hn];
			loaded_free(l);
		}
		if (hn)
			heap_down(heap, hn, 0);
	}
	for (size_t i = 0; i < hn; i++)
		loaded_free(heap[i]);
	pt__def_resolve_stacks(t);
	free(heap);
	free(suffix_min);
	free(raw);
	ZSTD_freeDCtx(dc);
	return rc;
}

static const struct pt_module *map_lookup(const struct pt_modmap *m, uint64_t ip)
{
	size_t lo = 0, hi = m->nidx;   /* the last segment starting at or below ip */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->idx[mid].lo <= ip)
			lo = mid;
		else
			hi = mid;
	}
	if (m->nidx && ip >= m->idx[lo].lo && ip < m->idx[lo].hi)
		return m->idx[lo].mod;
	return NULL;
}

#define LATER_MAPS 16   /* later maps tried for an ip the current one misses */

const struct pt_module *pt_trace_module(const struct pt_trace *t, unsigned gen, uint64_t ip)
{
	/* the map current at the stack's interning: the last one of a
	 * generation at most gen (pt__def_modules keeps generations rising) */
	size_t lo = 0, hi = t->nmodmaps, best;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->modmap[mid].gen <= gen)
			lo = mid + 1;
		else
			hi = mid;
	}
	best = lo ? lo - 1 : SIZE_MAX;
	if (best != SIZE_MAX) {
		const struct pt_module *mo = map_lookup(&t->modmap[best], ip);
		if (mo)
			return mo;
	}
	/* else a module loaded while the stack was being taken: a later map */
	size_t from = best == SIZE_MAX ? 0 : best + 1;
	for (size_t i = from; i < t->nmodmaps && i < from + LATER_MAPS; i++) {
		const struct pt_module *mo = map_lookup(&t->modmap[i], ip);
		if (mo)
			return mo;
	}
	return NULL;
}
