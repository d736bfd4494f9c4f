/*
 * pprof.c - export --format pprof: the trace as pprof's profile.proto
 * (github.com/google/pprof, proto/profile.proto), gzip-compressed, which go
 * tool pprof, Pyroscope, Parca and Cloud Profiler read.
 *
 *   sample types   alloc_objects/count, alloc_space/bytes (allocated in
 *                  all), then the measure of --what: inuse_objects/count,
 *                  inuse_space/bytes for peak (live at the peak, the
 *                  default) and leaks (live at exit); temporary_objects,
 *                  temporary_space for temporary; none more for allocated.
 *                  The last one is the default.
 *   samples        one per stack (site), its locations leaf first; a stack
 *                  cut at the recording's depth ends with a "[truncated]"
 *                  location, one not recorded is "[unknown]"
 *   locations      one per return address and module: the call-site
 *                  address (return address - 1) in the recorded process,
 *                  its lines innermost (inlined) first, as pprof wants them
 *   mappings       one per PT_LOAD segment of each module: addresses, file
 *                  offset, file name and build id (hex), so that pprof can
 *                  symbolize again from the files
 *   functions      name (demangled), file; libpooltrace's own frames left out
 *
 * Values of a sampled trace are the profile's estimates (profile.h), as if
 * counted; period_type is space/bytes, period the sampling interval (1
 * when every allocation was recorded).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "export.h"
#include "peak.h"
#include "protobuf.h"
#include "util.h"

#ifndef PT_VERSION
#define PT_VERSION "unknown"
#endif

/* profile.proto's field numbers */
enum {
	P_SAMPLE_TYPE = 1, P_SAMPLE, P_MAPPING, P_LOCATION, P_FUNCTION, P_STRING_TABLE,
	P_TIME_NANOS = 9, P_DURATION_NANOS, P_PERIOD_TYPE, P_PERIOD, P_COMMENT,
	P_DEFAULT_SAMPLE_TYPE,
};
enum { VT_TYPE = 1, VT_UNIT };
enum { S_LOCATION_ID = 1, S_VALUE };
enum { M_ID = 1, M_START, M_LIMIT, M_OFFSET, M_FILENAME, M_BUILD_ID, M_HAS_FUNCTIONS,
       M_HAS_FILENAMES, M_HAS_LINE_NUMBERS, M_HAS_INLINE_FRAMES };
enum { L_ID = 1, L_MAPPING_ID, L_ADDRESS, L_LINE };
enum { LN_FUNCTION_ID = 1, LN_LINE };
enum { F_ID = 1, F_NAME, F_SYSTEM_NAME, F_FILENAME };

/* An id per distinct key text, from 1 (a pt_strtab offset by one). */
struct ids {
	struct pt_strtab t;
};

static uint64_t id_of(struct ids *m, const char *key, int *fresh)
{
	size_t before = m->t.n;
	uint64_t id = (uint64_t)pt_strtab_intern(&m->t, key) + 1;
	*fresh = m->t.n != before;
	return id;
}

struct pprof {
	struct export *x;
	struct pt_strtab str;     /* the string table; "" is 0 */
	struct ids loc, func, map;
	struct pt_buf out;        /* the Profile message */
	struct pt_buf tmp, key;
	int has_lines;
};

static uint64_t str(struct pprof *pp, const char *s)
{
	return pt_strtab_intern(&pp->str, s ? s : "");
}

static void value_type(struct pprof *pp, unsigned field, const char *type, const char *unit)
{
	struct pt_buf m = { 0 };
	pt_pb_uint(&m, VT_TYPE, str(pp, type));
	pt_pb_uint(&m, VT_UNIT, str(pp, unit));
	pt_pb_bytes(&pp->out, field, m.s, m.len);
	free(m.s);
}

static uint64_t function_id(struct pprof *pp, const char *name, const char *file)
{
	int fresh;
	pp->key.len = 0;
	pt_buf_printf(&pp->key, "%s\n%s", name, file ? file : "");
	uint64_t id = id_of(&pp->func, pp->key.s, &fresh);
	if (fresh) {
		struct pt_buf m = { 0 };
		pt_pb_uint(&m, F_ID, id);
		pt_pb_uint(&m, F_NAME, str(pp, name));
		pt_pb_uint(&m, F_SYSTEM_NAME, str(pp, name));
		pt_pb_uint(&m, F_FILENAME, str(pp, file));
		pt_pb_bytes(&pp->out, P_FUNCTION, m.s, m.len);
		free(m.s);
	}
	return id;
}

/* The mapping of the segment of module mo that holds ip (0: none). */
static uint64_t mapping_id(struct pprof *pp, const struct pt_module *mo, uint64_t ip)
{
	const char *path = mo->path;
	for (unsigned s = 0; s < mo->nseg; s++) {
		uint64_t lo = mo->base + mo->seg[s].vaddr, hi = lo + mo->seg[s].memsz;
		if (ip < lo || ip >= hi)
			continue;
		int fresh;
		pp->key.len = 0;
		pt_buf_printf(&pp->key, "%s\n%llx\n%llx", path, (unsigned long long)lo,
		              (unsigned long long)hi);
		uint64_t id = id_of(&pp->map, pp->key.s, &fresh);
		if (fresh) {
			char hex[2 * sizeof mo->build_id + 1];
			for (unsigned k = 0; k < mo->build_id_len && k < sizeof mo->build_id; k++)
				snprintf(hex + 2 * k, 3, "%02x", mo->build_id[k]);
			hex[2 * (mo->build_id_len < sizeof mo->build_id ? mo->build_id_len :
			         sizeof mo->build_id)] = 0;
			struct pt_buf m = { 0 };
			pt_pb_uint(&m, M_ID, id);
			pt_pb_uint(&m, M_START, lo);
			pt_pb_uint(&m, M_LIMIT, hi);
			pt_pb_uint(&m, M_OFFSET, path[0] == '/' ?
			           pt_export_segment_offset(path, mo->seg[s].vaddr) : 0);
			pt_pb_uint(&m, M_FILENAME, str(pp, path));
			pt_pb_uint(&m, M_BUILD_ID, str(pp, hex));
			pt_pb_uint(&m, M_HAS_FUNCTIONS, 1);
			pt_pb_uint(&m, M_HAS_FILENAMES, 1);
			pt_pb_uint(&m, M_HAS_LINE_NUMBERS, 1);
			pt_pb_uint(&m, M_HAS_INLINE_FRAMES, 1);
			pt_pb_bytes(&pp->out, P_MAPPING, m.s, m.len);
			free(m.s);
		}
		return id;
	}
	return 0;
}

/* A location of one function and no address: [unknown], [truncated]. */
static uint64_t pseudo_location(struct pprof *pp, const char *name)
{
	int fresh;
	pp->key.len = 0;
	pt_buf_printf(&pp->key, "pseudo\n%s", name);
	uint64_t id = id_of(&pp->loc, pp->key.s, &fresh);
	if (fresh) {
		struct pt_buf m = { 0 }, ln = { 0 };
		pt_pb_uint(&m, L_ID, id);
		pt_pb_uint(&ln, LN_FUNCTION_ID, function_id(pp, name, NULL));
		pt_pb_bytes(&m, L_LINE, ln.s, ln.len);
		pt_pb_bytes(&pp->out, P_LOCATION, m.s, m.len);
		free(m.s);
		free(ln.s);
	}
	return id;
}

/* The location of return address ip of a stack of map generation gen; 0
 * if all its frames are libpooltrace's own. */
static uint64_t location_id(struct pprof *pp, unsigned gen, uint64_t ip)
{
	struct pt_view *v = pp->x->v;
	const struct pt_module *mo = pt_trace_module(v->p.t, gen, ip);
	unsigned n = 0;
	const struct pt_frame *f = pt_sym_lookup(v->sym, gen, ip, &n);
	int any = 0;
	for (unsigned i = 0; i < n; i++)
		any |= !f[i].internal;
	if (!any)
		return 0;
	int fresh;
	pp->key.len = 0;
	pt_buf_printf(&pp->key, "%llx\n%s\n%llx", (unsigned long long)ip, mo ? mo->path : "",
	              (unsigned long long)(mo ? mo->base : 0));
	uint64_t id = id_of(&pp->loc, pp->key.s, &fresh);
	if (!fresh)
		return id;
	struct pt_buf m = { 0 }, ln = { 0 };
	pt_pb_uint(&m, L_ID, id);
	if (mo)
		pt_pb_uint(&m, L_MAPPING_ID, mapping_id(pp, mo, ip));
	pt_pb_uint(&m, L_ADDRESS, ip ? ip - 1 : 0);
	for (unsigned i = 0; i < n; i++) {    /* innermost first: pprof's order */
		if (f[i].internal)
			continue;
		ln.len = 0;
		pt_pb_uint(&ln, LN_FUNCTION_ID, function_id(pp, pt_sym_name(v->sym, &f[i]),
		                                             f[i].file));
		pt_pb_uint(&ln, LN_LINE, f[i].line);
		pt_pb_bytes(&m, L_LINE, ln.s, ln.len);
	}
	pt_pb_bytes(&pp->out, P_LOCATION, m.s, m.len);
	free(m.s);
	free(ln.s);
	return id;
}

static void sample(struct pprof *pp, const struct pt_site *s, const uint64_t *val, size_t nval)
{
	const struct pt_trace *t = pp->x->v->p.t;
	uint64_t loc[PT_TRACE_MAX_DEPTH + 1];
	size_t n = 0;
	if (s->stack < t->nstacks && t->stack[s->stack].nframes) {
		const struct pt_stack *st = &t->stack[s->stack];
		for (unsigned i = 0; i < st->nframes; i++) {
			uint64_t id = location_id(pp, st->gen, st->ip[i]);
			if (id)
				loc[n++] = id;
		}
		if (pt_trace_stack_cut(t, s->stack))
			loc[n++] = pseudo_location(pp, "[truncated]");
	}
	if (!n)
		loc[n++] = pseudo_location(pp, "[unknown]");
	struct pt_buf m = { 0 };
	pt_pb_packed(&m, S_LOCATION_ID, loc, n);
	pt_pb_packed(&m, S_VALUE, val, nval);
	pt_pb_bytes(&pp->out, P_SAMPLE, m.s, m.len);
	free(m.s);
}

/* pp->out gzip-compressed into the export's file. */
static void write_gzip(struct pprof *pp)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		fprintf(stderr, "pooltrace: zlib: cannot start compressing\n");
		exit(2);
	}
	unsigned char buf[1 << 16];
	z.next_in = (unsigned char *)pp->out.s;
	z.avail_in = (uInt)pp->out.len;
	int r;
	do {
		z.next_out = buf;
		z.avail_out = sizeof buf;
		r = deflate(&z, Z_FINISH);
		fwrite(buf, 1, sizeof buf - z.avail_out, pp->x->f);
	} while (r == Z_OK || (r == Z_BUF_ERROR && z.avail_out == 0));
	deflateEnd(&z);
}

void pt_export_pprof(struct export *x)
{
	const struct pt_profile *p = &x->v->p;
	const struct pt_export_what *w = x->what;
	struct pprof *pp = pt_xcalloc(1, sizeof *pp);
	pp->x = x;
	str(pp, "");
	int third = strcmp(w->name, "allocated") != 0;
	int temp = strcmp(w->name, "temporary") == 0;

	value_type(pp, P_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(pp, P_SAMPLE_TYPE, "alloc_space", "bytes");
	if (third) {
		value_type(pp, P_SAMPLE_TYPE, temp ? "temporary_objects" : "inuse_objects", "count");
		value_type(pp, P_SAMPLE_TYPE, temp ? "temporary_space" : "inuse_space", "bytes");
	}
	for (size_t i = 0; i < p->nsites; i++) {
		const struct pt_site *s = &p->site[i];
		uint64_t val[4] = { s->n_alloc, s->bytes_alloc, pt_site_counter(s, w->n_off),
		                    pt_site_counter(s, w->bytes_off) };
		if (val[0] || val[1] || val[2] || val[3])
			sample(pp, s, val, third ? 4 : 2);
	}
	value_type(pp, P_PERIOD_TYPE, "space", "bytes");
	pt_pb_uint(&pp->out, P_PERIOD, p->t->hdr.sample_bytes ? p->t->hdr.sample_bytes : 1);
	pt_pb_uint(&pp->out, P_TIME_NANOS, p->t->hdr.start_realtime_ns);
	pt_pb_uint(&pp->out, P_DURATION_NANOS, p->duration_ns);
	pp->tmp.len = 0;
	pt_buf_printf(&pp->tmp, "pooltrace %s export of %s (--what %s)", PT_VERSION, x->v->path,
	              w->name);
	if (!strcmp(w->name, "peak")) {
		char how[256];
		pt_buf_printf(&pp->tmp, ": the live heap at its peak, %llu B at %s, %s",
		              (unsigned long long)p->peak, PT_T(p->peak_time_ns),
		              pt_peak_how(how, sizeof how, p));
	}
	uint64_t comment = str(pp, pp->tmp.s);
	pt_pb_packed(&pp->out, P_COMMENT, &comment, 1);
	pt_pb_uint(&pp->out, P_DEFAULT_SAMPLE_TYPE,
	           str(pp, !third ? "alloc_space" : temp ? "temporary_space" : "inuse_space"));
	for (size_t i = 0; i < pp->str.n; i++)
		pt_pb_bytes(&pp->out, P_STRING_TABLE, pp->str.str[i], strlen(pp->str.str[i]));
	write_gzip(pp);

	pt_strtab_free(&pp->str);
	pt_strtab_free(&pp->loc.t);
	pt_strtab_free(&pp->func.t);
	pt_strtab_free(&pp->map.t);
	free(pp->out.s);
	free(pp->tmp.s);
	free(pp->key.s);
	free(pp);
}
