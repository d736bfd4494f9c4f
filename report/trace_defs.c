/*
 * trace_defs.c - the definitions a trace's records make, as the reader
 * (trace_read.c) meets them: stacks and the outer frames they share,
 * infos (and the gaps a lost chunk leaves among their ids), module maps,
 * Python code objects and the extended records (the interpreter, Python
 * types and objects).  Each decodes one record through the codec
 * (trace_codec.h) into struct pt_trace; events are trace_read.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_defs.h"
#include "util.h"

/* Grow a zero-filled array of *n elements of size sz so that index i fits. */
void *pt__grow_zeroed(void *a, size_t *n, size_t i, size_t sz)
{
	if (i < *n)
		return a;
	size_t nn = *n ? *n : 1024;
	while (nn <= i)
		nn *= 2;
	a = pt_xrealloc(a, nn * sz);
	memset((char *)a + *n * sz, 0, (nn - *n) * sz);
	*n = nn;
	return a;
}

/* ---- stacks ------------------------------------------------------------- */

int pt__def_stack(struct pt_trace *t, struct pt_dec *d)
{
	uint64_t ip[PT_TRACE_MAX_FRAMES];
	struct pt_r_stack r = { 0 };
	if (t->hdr.version < 3) {
		struct pt_r_stack_v2 r2;
		PT_DECODE(d, &r2, PT_FIELDS_STACK_V2);
		r = (struct pt_r_stack){ .id = r2.id, .gen = r2.gen, .nframes = r2.nframes };
	} else {
		PT_DECODE(d, &r, PT_FIELDS_STACK);
	}
	if (d->bad || r.id == 0 || r.id >= PT_TRACE_MAX_STACKS || r.nframes > PT_TRACE_MAX_FRAMES ||
	    r.shared > r.nframes || (r.shared && (!r.back || r.back >= r.id)))
		return -1;
	uint32_t own = r.nframes - r.shared;
	uint64_t prev = 0;
	struct pt_frame_state fs = { 0, 0 };
	for (uint32_t i = 0; i < own; i++) {
		if (t->hdr.version < 3) {
			struct pt_r_frame_v2 f;
			PT_DECODE_FIELDS(d, &f, prev, PT_FIELDS_FRAME_V2);
			ip[i] = f.ip;
		} else {
			ip[i] = pt_dec_frame(d, &fs);
		}
	}
	if (d->bad)
		return -1;
	t->stack = pt__grow_zeroed(t->stack, &t->nstacks, r.id, sizeof *t->stack);
	struct pt_stack *s = &t->stack[r.id];
	if (s->ip)
		return 0;   /* defined twice (a second fork child?): keep the first */
	s->gen = r.gen;
	s->nframes = own;
	s->back = r.shared ? r.back : 0;
	s->shared = r.shared;
	s->ip = pt_xmalloc((own ? own : 1) * sizeof *s->ip);
	memcpy(s->ip, ip, own * sizeof *s->ip);
	return 0;
}

/* The outer frames each stack shares with an earlier one (by id: the
 * earlier one is complete when a stack's turn comes).  A stack whose
 * earlier one is missing (cut off) or too short keeps its own frames and
 * ends with the mark of a cut stack. */
void pt__def_resolve_stacks(struct pt_trace *t)
{
	for (size_t id = 1; id < t->nstacks; id++) {
		struct pt_stack *s = &t->stack[id];
		if (!s->shared)
			continue;
		const struct pt_stack *o = s->back <= id ? &t->stack[id - s->back] : NULL;
		uint32_t k = s->shared;
		s->shared = 0;
		if (!o || !o->nframes || o->shared || k > o->nframes) {
			s->ip = pt_xrealloc(s->ip, (s->nframes + 1) * sizeof *s->ip);
			s->ip[s->nframes++] = PT_FRAME_TRUNCATED;
			continue;
		}
		s->ip = pt_xrealloc(s->ip, (s->nframes + k) * sizeof *s->ip);
		memcpy(s->ip + s->nframes, o->ip + o->nframes - k, k * sizeof *s->ip);
		s->nframes += k;
	}
}

/* Part of the trace was lost: definitions may be missing. */
int pt__def_lost_some(const struct pt_trace *t)
{
	return t->skipped_chunks || t->skipped_bytes;
}

#define INFO_ID_MAX   (1u << 28)

/* The next INFO record defines id next (version 3: a chunk of them opens
 * so); the ones before it that were never defined were in a lost chunk. */
static int infos_next(struct pt_trace *t, uint64_t next)
{
	uint64_t want = t->ninfos ? t->ninfos : 1;
	if (next == 0 || next > INFO_ID_MAX)
		return -1;
	t->info_prev_stack = 0;
	if (next == want)
		return 0;
	if (next < want || !pt__def_lost_some(t))
		return -1;
	t->gap = pt_xrealloc(t->gap, (t->ngaps + 1) * sizeof *t->gap);
	t->gap[t->ngaps++] = (struct pt_info_gap){ (uint32_t)want, (uint32_t)next };
	t->info = pt__grow_zeroed(t->info, &t->infos_cap, next - 1, sizeof *t->info);
	t->ninfos = next;
	return 0;
}

/* ---- Python: code objects, the interpreter, objects at exit ------------ */

#define PYCODE_MAX    (1u << 24)
#define PYTYPE_MAX    (1u << 20)

static char *xstrndup(const uint8_t *s, uint64_t n)
{
	char *c = pt_xmalloc(n + 1);
	memcpy(c, s, n);
	c[n] = 0;
	return c;
}

/* A CODE record: each id defined once (a second definition, from a fork
 * child's copy of a buffer, is ignored). */
int pt__def_code(struct pt_trace *t, struct pt_dec *d)
{
	struct pt_r_code r;
	PT_DECODE(d, &r, PT_FIELDS_CODE);
	if (d->bad || r.id == 0 || r.id > PT_FRAME_CODE_MAX || r.id >= PYCODE_MAX)
		return -1;
	t->pycode = pt__grow_zeroed(t->pycode, &t->npycodes, r.id, sizeof *t->pycode);
	struct pt_pycode *c = &t->pycode[r.id];
	if (c->name)
		return 0;
	c->name = xstrndup(r.name, r.name_len);
	c->file = xstrndup(r.file, r.file_len);
	c->firstline = r.firstline;
	c->lines = pt_xmalloc(r.lines_len ? r.lines_len : 1);
	memcpy(c->lines, r.lines, r.lines_len);
	c->nlines = r.lines_len;
	return 0;
}

static int ext_pyobjects(struct pt_trace *t, struct pt_dec *d)
{
	struct pt_r_ext_pyobjects r;
	PT_DECODE(d, &r, PT_FIELDS_EXT_PYOBJECTS);
	uint64_t n = pt_dec_u(d);
	if (!pt_dec_count_fits(d, n, 5))
		return -1;
	t->pyobj = pt_xrealloc(t->pyobj, (t->npyobjs + n + 1) * sizeof *t->pyobj);
	for (uint64_t i = 0; i < n; i++) {
		struct pt_r_pyobject e;
		PT_DECODE(d, &e, PT_FIELDS_PYOBJECT);
		if (d->bad || !e.info || e.info >= t->ninfos || e.cls >= PT_LEAK_CLASSES ||
		    e.type >= PYTYPE_MAX || r.when > PT_PYOBJ_FINALIZING)
			return -1;
		t->pyobj[t->npyobjs++] = (struct pt_pyobject){ r.when, e.info, e.cls, e.type,
		                                               e.objects, e.bytes };
	}
	return 0;
}

/* An extended record: the ones known are decoded from its payload, which
 * they must fill exactly; others are skipped. */
int pt__def_ext(struct pt_trace *t, struct pt_dec *d)
{
	struct pt_r_ext h;
	PT_DECODE(d, &h, PT_FIELDS_EXT);
	if (d->bad || h.len > (uint64_t)(d->end - d->p))
		return -1;
	struct pt_dec e = { d->p, d->p + h.len, 0 };
	d->p += h.len;
	switch (h.ext) {
	case PT_EXT_PYTHON: {
		struct pt_r_ext_python r;
		PT_DECODE(&e, &r, PT_FIELDS_EXT_PYTHON);
		if (e.bad)
			return -1;
		if (!t->python.present)
			t->python = (struct pt_python){ 1, r.hexversion, r.flags, r.eval_addr };
		break;
	}
	case PT_EXT_PYTYPE: {
		struct pt_r_ext_pytype r;
		PT_DECODE(&e, &r, PT_FIELDS_EXT_PYTYPE);
		if (e.bad || r.id >= PYTYPE_MAX)
			return -1;
		t->pytype = pt__grow_zeroed(t->pytype, &t->npytypes, r.id, sizeof *t->pytype);
		if (!t->pytype[r.id])
			t->pytype[r.id] = xstrndup(r.name, r.name_len);
		break;
	}
	case PT_EXT_PYOBJECTS:
		if (ext_pyobjects(t, &e))
			return -1;
		break;
	case PT_EXT_MESH: {
		struct pt_r_ext_mesh r;
		PT_DECODE(&e, &r, PT_FIELDS_EXT_MESH);
		if (e.bad)
			return -1;
		t->mesh_next = (struct pt_mesh_figures){ 1, r.seq, r.meshed_now };
		break;
	}
	case PT_EXT_INFOS: {
		struct pt_r_ext_infos r;
		PT_DECODE(&e, &r, PT_FIELDS_EXT_INFOS);
		if (e.bad || infos_next(t, r.next))
			return -1;
		break;
	}
	default:
		return 0;
	}
	return e.p == e.end ? 0 : -1;
}

static int by_lo(const void *a, const void *b)
{
	const struct pt_seg_ref *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void pt_modmap_index(struct pt_modmap *m)
{
	size_t n = 0;
	free(m->idx);
	m->nidx = 0;
	for (unsigned k = 0; k < m->count; k++)
		n += m->mod[k].nseg;
	m->idx = pt_xmalloc((n ? n : 1) * sizeof *m->idx);
	for (unsigned k = 0; k < m->count; k++)
		for (unsigned s = 0; s < m->mod[k].nseg; s++) {
			uint64_t lo = m->mod[k].base + m->mod[k].seg[s].vaddr;
			m->idx[m->nidx++] = (struct pt_seg_ref){ lo, lo + m->mod[k].seg[s].memsz,
			                                         &m->mod[k] };
		}
	qsort(m->idx, m->nidx, sizeof *m->idx, by_lo);
}

int pt__def_modules(struct pt_trace *t, struct pt_dec *d)
{
	struct pt_r_modules head;
	struct pt_modmap m;
	memset(&m, 0, sizeof m);
	PT_DECODE(d, &head, PT_FIELDS_MODULES);
	m.seq = head.seq;
	m.gen = head.gen;
	/* 4 varints a module */
	if (!pt_dec_count_fits(d, head.count, 4) || head.count > 100000)
		return -1;
	m.mod = pt_xmalloc((head.count ? head.count : 1) * sizeof *m.mod);
	memset(m.mod, 0, head.count * sizeof *m.mod);
	for (uint64_t i = 0; i < head.count && !d->bad; i++) {
		struct pt_module *mo = &m.mod[i];
		struct pt_r_module r;
		PT_DECODE(d, &r, PT_FIELDS_MODULE);
		if (d->bad)
			break;
		mo->base = r.base;
		mo->path = pt_xmalloc(r.path_len + 1);
		memcpy(mo->path, r.path, r.path_len);
		mo->path[r.path_len] = 0;
		m.count = (unsigned)i + 1;
		if (r.build_id_len > sizeof mo->build_id || r.nseg > 1000) {
			d->bad = 1;
			break;
		}
		memcpy(mo->build_id, r.build_id, r.build_id_len);
		mo->build_id_len = (unsigned)r.build_id_len;
		mo->seg = pt_xmalloc(r.nseg * sizeof *mo->seg);
		for (uint64_t k = 0; k < r.nseg; k++) {
			struct pt_r_segment g;
			PT_DECODE(d, &g, PT_FIELDS_SEGMENT);
			mo->seg[k].vaddr = g.vaddr;
			mo->seg[k].memsz = g.memsz;
			mo->seg[k].flags = g.flags;
		}
		mo->nseg = (unsigned)r.nseg;
	}
	if (d->bad || m.count != head.count ||
	    (t->nmodmaps && m.gen < t->modmap[t->nmodmaps - 1].gen)) {   /* gens only rise */
		for (unsigned k = 0; k < m.count; k++) {
			free(m.mod[k].path);
			free(m.mod[k].seg);
		}
		free(m.mod);
		return -1;
	}
	t->modmap = pt_xrealloc(t->modmap, (t->nmodmaps + 1) * sizeof *t->modmap);
	pt_modmap_index(&m);
	t->modmap[t->nmodmaps++] = m;
	return 0;
}

/* ---- infos --------------------------------------------------------------- */

/* An INFO record: the writer numbers infos from 1 and defines them in
 * order, each once (version 3: the id implicit, the stack a difference
 * from the previous record's). */
int pt__def_info(struct pt_trace *t, struct pt_dec *d)
{
	struct pt_r_info r;
	uint64_t want = t->ninfos ? t->ninfos : 1, id = want;
	if (t->hdr.version < 3) {
		struct pt_r_info_v2 r2;
		PT_DECODE(d, &r2, PT_FIELDS_INFO_V2);
		id = r2.id;
		r = (struct pt_r_info){ .size = r2.size, .kind = r2.kind, .stack = r2.stack };
	} else {
		PT_DECODE_FIELDS(d, &r, t->info_prev_stack, PT_FIELDS_INFO);
	}
	if (d->bad || id > INFO_ID_MAX || r.stack >= PT_TRACE_MAX_STACKS || r.kind > 1)
		return -1;
	if (id != want) {
		/* after a lost chunk, the infos it defined are a gap */
		if (id < want || !pt__def_lost_some(t))
			return -1;
		t->gap = pt_xrealloc(t->gap, (t->ngaps + 1) * sizeof *t->gap);
		t->gap[t->ngaps++] = (struct pt_info_gap){ (uint32_t)want, (uint32_t)id };
	}
	t->info = pt__grow_zeroed(t->info, &t->infos_cap, id, sizeof *t->info);
	t->info[id] = (struct pt_info){ r.size, (uint32_t)r.stack, r.kind };
	t->ninfos = id + 1;
	return 0;
}

/* The info of id, NULL if it was never defined (a damaged record, or one
 * of a lost chunk: pt__def_info_lost). */
const struct pt_info *pt__def_info_of(struct pt_trace *t, uint64_t id)
{
	static const struct pt_info unknown;
	if (id == 0)
		return &unknown;
	if (id >= t->ninfos)
		return NULL;
	for (size_t i = 0; i < t->ngaps; i++)
		if (id >= t->gap[i].lo && id < t->gap[i].hi)
			return NULL;
	return &t->info[id];
}

/* An id pt__def_info_of does not know, which a lost chunk may have defined. */
int pt__def_info_lost(const struct pt_trace *t, uint64_t id)
{
	return pt__def_lost_some(t) && id < INFO_ID_MAX;
}
