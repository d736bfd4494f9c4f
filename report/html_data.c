/*
 * html_data.c - the figures of a trace as the JSON document the HTML page
 * is drawn from (html.h): the summary, the timeline, the flame graphs of
 * the heap at its peak and of what was left at exit, the top sites by four
 * measures, the fragmentation of the peak and exit snapshots, the pinned
 * arenas, the histogram of requested sizes.
 *
 * Frame names and locations are given once, in the document's "strings"
 * array, and referred to by their index there; strings are written by
 * pt_buf_json, so that the document holds no '<' and nothing can end the
 * <script> element it goes in.  The keys and shapes are what
 * report/html/app.js reads.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frag.h"
#include "html.h"
#include "json.h"
#include "peak.h"
#include "util.h"
#include "view.h"

#define TOP_SITES      20         /* rows of each table */
#define TABLE_FRAMES   16         /* frames kept per table row */
#define PINNED_FRAMES  4          /* frames per block kind of a pinned arena */
#define TIMELINE_MAX   2000       /* timeline points, at most */
#define FLAME_MIN      10000      /* flame nodes below 1/FLAME_MIN of the
                                     total are left out (far below a pixel) */

/* ---- the page's data ------------------------------------------------------- */

/* One page being written. */
struct html {
	struct pt_json j;
	struct pt_view *v;
	struct pt_profile *p;
	struct pt_strtab str;        /* names and locations met */
	uint32_t *used;           /* by str index: index in "strings" + 1, or 0 */
	uint32_t *order;          /* "strings": str indices, in order of use */
	size_t nused, used_cap;
	const struct pt_frame *fr[PT_VIEW_MAX_FRAMES];     /* scratch */
};

/* Interned string k written as its index in the page's "strings", which
 * holds only the strings the page uses (not those of the flame graph
 * nodes left out). */
static void j_strref(struct html *h, uint32_t k)
{
	if (k >= h->used_cap) {
		size_t n = h->used_cap ? h->used_cap : 1024;
		while (n <= k)
			n *= 2;
		h->used = pt_xrealloc(h->used, n * sizeof *h->used);
		memset(h->used + h->used_cap, 0, (n - h->used_cap) * sizeof *h->used);
		h->order = pt_xrealloc(h->order, n * sizeof *h->order);
		h->used_cap = n;
	}
	if (!h->used[k]) {
		h->order[h->nused] = k;
		h->used[k] = (uint32_t)++h->nused;
	}
	pt_json_u64(&h->j, NULL, h->used[k] - 1);
}

struct fref {                     /* a frame: its name and location, interned */
	uint32_t name, where;
};

/* name: the function (or module+offset); where: "file:line" (with_line)
 * or "file", or the module, or "". */
static struct fref frame_ref(struct html *h, const struct pt_frame *f, int with_line)
{
	char where[4096];
	struct fref r = { .name = pt_strtab_intern(&h->str, pt_sym_name(h->v->sym, f)) };
	if (f->file && f->line && with_line)
		snprintf(where, sizeof where, "%s:%u", f->file, f->line);
	else
		snprintf(where, sizeof where, "%s", f->file ? f->file : f->module ? f->module : "");
	r.where = pt_strtab_intern(&h->str, where);
	return r;
}

/* "f": the first max frames of stack as [name, where] pairs, innermost
 * first; "nf": how many there are in all. */
static void put_frames(struct html *h, uint32_t stack, size_t max)
{
	struct pt_json *j = &h->j;
	size_t n = pt_view_frames(h->v, stack, h->fr, PT_VIEW_MAX_FRAMES);
	pt_json_open(j, "f", '[');
	for (size_t i = 0; i < n && i < max; i++) {
		struct fref r = frame_ref(h, h->fr[i], 1);
		pt_json_open(j, NULL, '[');
		j_strref(h, r.name);
		j_strref(h, r.where);
		pt_json_close(j, ']');
	}
	pt_json_close(j, ']');
	pt_json_u64(j, "nf", n);
}

static void put_summary(struct html *h)
{
	struct pt_json *j = &h->j;
	const struct pt_profile *p = h->p;
	const struct pt_trace *t = p->t;

	pt_json_str0(j, "path", h->v->path);
	pt_json_str0(j, "exe", t->exe);
	pt_json_open(j, "args", '[');
	for (size_t i = 0; t->args && i < t->hdr.args_len;) {
		size_t len = strnlen(t->args + i, t->hdr.args_len - i);
		pt_json_strn(j, NULL, t->args + i, len);
		i += len + 1;
	}
	pt_json_close(j, ']');
	pt_json_u64(j, "pid", t->hdr.pid);
	pt_json_u64(j, "start", t->hdr.start_realtime_ns);
	pt_json_u64(j, "sample", t->hdr.sample_bytes);
	pt_json_u64(j, "duration", p->duration_ns);
	pt_json_u64(j, "ended", (uint64_t)t->ended);
	pt_json_u64(j, "end_reason", p->end_reason);
	pt_json_u64(j, "end_code", p->end_code);
	pt_json_str0(j, "stop", t->stop);

	pt_json_open(j, "calls", '{');
	pt_json_u64(j, "malloc", p->n_malloc);
	pt_json_u64(j, "free", p->n_free);
	pt_json_u64(j, "realloc", p->n_realloc);
	pt_json_u64(j, "free_unknown", p->n_free_unknown);
	pt_json_close(j, '}');
	pt_json_open(j, "temp", '{');
	pt_json_u64(j, "n", p->n_temp);
	pt_json_u64(j, "bytes", p->bytes_temp);
	pt_json_close(j, '}');
	/* the peak (peak.h): time and RSS are those of the snapshot at
	 * index point of the timeline's points (-1: none); after: the
	 * snapshot's before it, for when "between" */
	static const char *const when[] = { "none", "between", "before_first", "after_last",
	                                    "snapshot" };
	pt_json_open(j, "peak", '{');
	pt_json_u64(j, "bytes", p->peak);
	pt_json_u64(j, "time", p->peak_time_ns);
	pt_json_u64(j, "exact", !p->sampled);
	pt_json_str0(j, "when", when[p->peak_when]);
	pt_json_u64(j, "after", p->peak_after_ns);
	pt_json_u64(j, "rss", pt_peak_rss(p));
	pt_json_i64(j, "point", p->peak_point);
	pt_json_close(j, '}');
	pt_json_open(j, "rss", '{');
	pt_json_u64(j, "bytes", p->peak_rss);
	pt_json_u64(j, "time", p->peak_rss_time_ns);
	pt_json_close(j, '}');

	/* [0] pool, [1] glibc */
	uint64_t at_peak[2] = { p->peak_pool, p->peak_glibc };
	pt_json_open(j, "kinds", '[');
	for (unsigned k = 0; k < 2; k++) {
		pt_json_open(j, NULL, '{');
		pt_json_u64(j, "n", p->n_alloc[k]);
		pt_json_u64(j, "bytes", p->bytes_alloc[k]);
		pt_json_u64(j, "peak", at_peak[k]);
		pt_json_u64(j, "live_n", p->live_n[k]);
		pt_json_u64(j, "live", p->live_bytes[k]);
		pt_json_close(j, '}');
	}
	pt_json_close(j, ']');

	if (p->have_leaks) {
		pt_json_open(j, "leaks", '{');
		pt_json_u64s(j, "n", p->leak_n, PT_LEAK_CLASSES);
		pt_json_u64s(j, "bytes", p->leak_bytes, PT_LEAK_CLASSES);
		pt_json_u64(j, "roots", p->leak_roots_bytes);
		pt_json_close(j, '}');
	}
}

/* The timeline as columns; above TIMELINE_MAX points, each one emitted
 * holds the maximum of each column over a run of consecutive points (so
 * peaks survive; its time is that of the run's last point), the minimum
 * for lo.  lo and hi: the lowest and highest live heap since the point
 * before (profile.h), which a spike between two snapshots reaches. */
static void put_timeline(struct html *h)
{
	static const struct { const char *key; size_t off; int min; } col[] = {
		{ "t", offsetof(struct pt_point, time_ns), 0 },
		{ "live", offsetof(struct pt_point, live), 0 },
		{ "lo", offsetof(struct pt_point, live_lo), 1 },
		{ "hi", offsetof(struct pt_point, live_hi), 0 },
		{ "rss", offsetof(struct pt_point, rss), 0 },
		{ "glibc", offsetof(struct pt_point, glibc), 0 },
		{ "n", offsetof(struct pt_point, n_alloc), 0 },
	};
	struct pt_json *j = &h->j;
	const struct pt_profile *p = h->p;
	size_t per = p->npoints > TIMELINE_MAX ? (p->npoints + TIMELINE_MAX - 1) / TIMELINE_MAX : 1;

	pt_json_open(j, "timeline", '{');
	for (unsigned c = 0; c < sizeof col / sizeof col[0]; c++) {
		pt_json_open(j, col[c].key, '[');
		for (size_t i = 0; i < p->npoints; i += per) {
			uint64_t v = col[c].min ? UINT64_MAX : 0;
			for (size_t k = i; k < i + per && k < p->npoints; k++) {
				const char *pt = (const char *)&p->point[k];
				uint64_t x = *(const uint64_t *)(pt + col[c].off);
				if (col[c].min ? x < v : x > v)
					v = x;
			}
			pt_json_u64(j, NULL, v);
		}
		pt_json_close(j, ']');
	}
	/* the point the peak is dated by, once grouped */
	pt_json_i64(j, "peak", p->peak_point >= 0 ? p->peak_point / (long)per : -1);
	pt_json_close(j, '}');
}

/* ---- flame graphs ------------------------------------------------------------ */

/* The call tree of the sites, root (node 0) first: a node is one function
 * (and its file) under its parent, its value the bytes of the sites below
 * it.  Calls from different lines of a function are one node, as in
 * heaptrack's flame graph; the tables give the lines. */
struct tree {
	struct tnode {
		uint32_t parent, name, where;
		uint32_t child, next;     /* first child, next sibling; 0: none */
		uint64_t value;
	} *n;
	size_t len, cap;
	uint32_t *slot;           /* (parent, name, where) -> node + 1 */
	size_t nslots;
};

static uint64_t node_hash(uint32_t parent, uint32_t name, uint32_t where)
{
	return pt_hash_u64(((uint64_t)parent << 32 | name) ^ pt_hash_u64(where));
}

static uint32_t tree_new(struct tree *t, uint32_t parent, uint32_t name, uint32_t where)
{
	if (t->len == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->n = pt_xrealloc(t->n, t->cap * sizeof *t->n);
	}
	uint32_t i = (uint32_t)t->len++;
	t->n[i] = (struct tnode){ .parent = parent, .name = name, .where = where };
	if (i) {
		t->n[i].next = t->n[parent].child;
		t->n[parent].child = i;
	}
	return i;
}

static void tree_rehash(struct tree *t)
{
	size_t ns = t->nslots ? 2 * t->nslots : 4096;
	uint32_t *slot = pt_xcalloc(ns, sizeof *slot);
	for (size_t i = 1; i < t->len; i++) {
		const struct tnode *x = &t->n[i];
		size_t k = node_hash(x->parent, x->name, x->where) & (ns - 1);
		while (slot[k])
			k = (k + 1) & (ns - 1);
		slot[k] = (uint32_t)i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslots = ns;
}

static uint32_t tree_child(struct tree *t, uint32_t parent, struct fref r)
{
	if (2 * (t->len + 1) > t->nslots)
		tree_rehash(t);
	size_t k = node_hash(parent, r.name, r.where) & (t->nslots - 1);
	for (; t->slot[k]; k = (k + 1) & (t->nslots - 1)) {
		const struct tnode *x = &t->n[t->slot[k] - 1];
		if (x->parent == parent && x->name == r.name && x->where == r.where)
			return t->slot[k] - 1;
	}
	uint32_t i = tree_new(t, parent, r.name, r.where);
	t->slot[k] = i + 1;
	return i;
}

/* Node i as [name, where, value, [children]], under key (NULL in an
 * array); children below min left out. */
static void tree_put(struct html *h, const char *key, const struct tree *t, uint32_t i,
                     uint64_t min)
{
	struct pt_json *j = &h->j;
	const struct tnode *x = &t->n[i];
	pt_json_open(j, key, '[');
	j_strref(h, x->name);
	j_strref(h, x->where);
	pt_json_u64(j, NULL, x->value);
	pt_json_open(j, NULL, '[');
	for (uint32_t c = x->child; c; c = t->n[c].next)
		if (t->n[c].value >= min && t->n[c].value)
			tree_put(h, NULL, t, c, min);
	pt_json_close(j, ']');
	pt_json_close(j, ']');
}

/* The flame graph of the uint64_t field at offset off of the sites: the
 * outermost call at the root, or (invert, bottom-up) the allocating
 * function.  A stack cut at the recording's depth has a "[truncated]"
 * frame where its outermost callers would be. */
static void put_flame(struct html *h, const char *key, size_t off, int invert)
{
	struct tree t = { 0 };
	struct fref none = { pt_strtab_intern(&h->str, "(stack not recorded)"),
	                     pt_strtab_intern(&h->str, "") };
	struct fref cut = { pt_strtab_intern(&h->str, "[truncated]"), none.where };
	tree_new(&t, 0, pt_strtab_intern(&h->str, "all"), none.where);
	for (size_t s = 0; s < h->p->nsites; s++) {
		const struct pt_site *site = &h->p->site[s];
		uint64_t v = pt_site_counter(site, off);
		if (!v)
			continue;
		size_t n = pt_view_frames(h->v, site->stack, h->fr, PT_VIEW_MAX_FRAMES);
		uint32_t at = 0;
		t.n[0].value += v;
		int truncated = n && pt_trace_stack_cut(h->p->t, site->stack);
		if (!n) {
			at = tree_child(&t, at, none);
			t.n[at].value += v;
		}
		if (truncated && !invert) {
			at = tree_child(&t, at, cut);
			t.n[at].value += v;
		}
		for (size_t k = 0; k < n; k++) {     /* outermost first, or innermost */
			size_t i = invert ? k : n - 1 - k;
			at = tree_child(&t, at, frame_ref(h, h->fr[i], 0));
			t.n[at].value += v;
		}
		if (truncated && invert) {
			at = tree_child(&t, at, cut);
			t.n[at].value += v;
		}
	}
	tree_put(h, key, &t, 0, t.n[0].value / FLAME_MIN);
	free(t.n);
	free(t.slot);
}

/* ---- time ranges ------------------------------------------------------------- */

/*
 * What the page needs to show what any range of the timeline allocated
 * and what was live at its end (pt_profile_steps): "stacks", each stack
 * that allocated as its frames [name, where], outermost first (as the
 * flame graphs group them); "steps", for each of them, flat, 5 numbers per
 * timeline point (as emitted, grouped as put_timeline groups them) in
 * which it allocated or freed: the point, blocks and bytes allocated in
 * the step, blocks and bytes live at its end.
 */
static void put_range(struct html *h)
{
	struct pt_json *j = &h->j;
	const struct pt_profile *p = h->p;
	size_t per = p->npoints > TIMELINE_MAX ? (p->npoints + TIMELINE_MAX - 1) / TIMELINE_MAX : 1;
	struct fref none = { pt_strtab_intern(&h->str, "(stack not recorded)"),
	                     pt_strtab_intern(&h->str, "") };
	struct fref cut = { pt_strtab_intern(&h->str, "[truncated]"), none.where };
	pt_json_open(j, "range", '{');
	pt_json_open(j, "stacks", '[');
	for (size_t i = 0; i < p->nsites; i++) {
		const struct pt_site *s = &p->site[i];
		if (!s->nsteps || !s->n_alloc)
			continue;
		size_t n = pt_view_frames(h->v, s->stack, h->fr, PT_VIEW_MAX_FRAMES);
		pt_json_open(j, NULL, '[');
		struct fref first = !n ? none : pt_trace_stack_cut(p->t, s->stack) ? cut : none;
		if (!n || first.name == cut.name) {
			pt_json_open(j, NULL, '[');
			j_strref(h, first.name);
			j_strref(h, first.where);
			pt_json_close(j, ']');
		}
		for (size_t k = n; k-- > 0;) {
			struct fref r = frame_ref(h, h->fr[k], 0);
			pt_json_open(j, NULL, '[');
			j_strref(h, r.name);
			j_strref(h, r.where);
			pt_json_close(j, ']');
		}
		pt_json_close(j, ']');
	}
	pt_json_close(j, ']');
	pt_json_open(j, "steps", '[');
	for (size_t i = 0; i < p->nsites; i++) {
		const struct pt_site *s = &p->site[i];
		if (!s->nsteps || !s->n_alloc)
			continue;
		pt_json_open(j, NULL, '[');
		for (size_t k = 0; k < s->nsteps;) {
			const struct pt_step *st = &s->step[k];
			size_t at = st->point / per;
			uint64_t n = 0, bytes = 0;
			for (; k < s->nsteps && s->step[k].point / per == at; k++) {
				n += s->step[k].n;
				bytes += s->step[k].bytes;
				st = &s->step[k];
			}
			uint64_t v[5] = { at, n, bytes, st->live_n, st->live_bytes };
			for (unsigned c = 0; c < 5; c++)
				pt_json_u64(j, NULL, v[c]);
		}
		pt_json_close(j, ']');
	}
	pt_json_close(j, ']');
	pt_json_close(j, '}');
}

/* ---- tables -------------------------------------------------------------------- */

static void put_site(struct html *h, const struct pt_site *s)
{
	struct pt_json *j = &h->j;
	pt_json_open(j, NULL, '{');
	put_frames(h, s->stack, TABLE_FRAMES);
	pt_json_u64(j, "peak", s->peak_bytes);
	pt_json_u64(j, "peak_n", s->peak_n);
	pt_json_u64(j, "n", s->n_alloc);
	pt_json_u64(j, "bytes", s->bytes_alloc);
	pt_json_u64(j, "temp_n", s->n_temp);
	pt_json_u64(j, "temp", s->bytes_temp);
	pt_json_u64(j, "live", s->live_bytes);
	pt_json_u64(j, "live_n", s->live_n);
	pt_json_u64s(j, "lost", s->leak_bytes, PT_LEAK_CLASSES);
	pt_json_u64(j, "min", s->min_size);
	pt_json_u64(j, "max", s->max_size);
	pt_json_u64(j, "kinds", s->kinds);
	pt_json_close(j, '}');
}

static void put_tables(struct html *h)
{
	static const struct { const char *key; size_t off; } table[] = {
		{ "peak", offsetof(struct pt_site, peak_bytes) },
		{ "calls", offsetof(struct pt_site, n_alloc) },
		{ "temp", offsetof(struct pt_site, n_temp) },
		{ "leaks", offsetof(struct pt_site, live_bytes) },
	};
	struct pt_json *j = &h->j;
	pt_json_open(j, "tables", '{');
	for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) {
		size_t n;
		struct pt_site **s = pt_profile_sorted(h->p, table[i].off, &n);
		pt_json_open(j, table[i].key, '[');
		for (size_t k = 0; k < n && k < TOP_SITES; k++)
			put_site(h, s[k]);
		pt_json_close(j, ']');
		free(s);
	}
	pt_json_close(j, '}');
}

/* ---- fragmentation -------------------------------------------------------------- */

/* A full snapshot: its kind ("peak": the peak's, whatever the recorder
 * called it, "exit"), its time, the parts of its RSS (frag.h), its
 * classes and arena occupancy; for the peak's, rel: "after" (the first
 * full one after the peak), "before" (the last before it, none came
 * after) or "at" (the peak's own, sampled). */
static void put_snapshot(struct html *h, const char *kind, const struct pt_snapshot *s,
                         uint64_t pool_live)
{
	struct pt_json *j = &h->j;
	const struct pt_trace_header *hdr = &h->p->t->hdr;
	struct pt_frag f;
	pt_frag_compute(h->p, s, pool_live, &f);

	pt_json_open(j, NULL, '{');
	pt_json_str0(j, "kind", kind);
	pt_json_u64(j, "time", s->time_ns);
	if (s == h->p->snap_peak)
		pt_json_str0(j, "rel", h->p->peak_when == PT_PEAK_SNAPSHOT ? "at" :
		             s->seq > h->p->peak_seq ? "after" : "before");
	pt_json_open(j, "parts", '{');
	pt_json_u64(j, "rss", f.rss);
	pt_json_u64(j, "pool_live", f.pool_live);
	pt_json_u64(j, "pool_rounding", f.pool_rounding);
	pt_json_u64(j, "pool_free", f.pool_free);
	pt_json_u64(j, "pool_tails", f.pool_tails);
	pt_json_u64(j, "pool_empty", f.pool_empty);
	pt_json_u64(j, "headers", f.headers);
	pt_json_u64(j, "untouched", f.untouched);
	pt_json_u64(j, "glibc", f.glibc);
	pt_json_u64(j, "other", f.other);
	pt_json_u64(j, "arenas", f.arenas);
	pt_json_u64(j, "pool_resident", f.pool_resident);
	pt_json_close(j, '}');

	/* per class: [size, blocks used, free, cached, pools used, full,
	 * empty, requested bytes] */
	unsigned nc = s->nclasses < hdr->nclasses ? s->nclasses : hdr->nclasses;
	if (nc > PT_TRACE_MAX_CLASSES)
		nc = PT_TRACE_MAX_CLASSES;
	pt_json_open(j, "classes", '[');
	for (unsigned k = 0; k < nc; k++) {
		const struct pt_snap_class *c = &s->cls[k];
		uint64_t v[] = { hdr->class_size[k], c->blocks_used, c->blocks_free,
		                 c->blocks_cached, c->pools_used, c->pools_full,
		                 c->pools_empty, c->req_bytes };
		pt_json_u64s(j, NULL, v, sizeof v / sizeof v[0]);
	}
	pt_json_close(j, ']');

	uint64_t bins[PT_OCCUPANCY_BINS];
	pt_frag_occupancy(hdr, s, bins);
	pt_json_u64s(j, "occupancy", bins, PT_OCCUPANCY_BINS);
	pt_json_close(j, '}');
}

static void put_pinned(struct html *h)
{
	struct pt_json *j = &h->j;
	const struct pt_trace *t = h->p->t;
	pt_json_open(j, "pinned", '[');
	for (size_t i = 0; i < h->p->npinned; i++) {
		const struct pt_pinned_arena *a = &h->p->pinned[i];
		char base[32];
		snprintf(base, sizeof base, "0x%" PRIx64, a->base);
		pt_json_open(j, NULL, '{');
		pt_json_str0(j, "kind", a->snap_kind == PT_SNAP_PEAK ? "peak" : "exit");
		pt_json_u64(j, "time", a->time_ns);
		pt_json_str0(j, "base", base);
		pt_json_u64(j, "blocks", a->blocks);
		pt_json_u64(j, "bytes", a->bytes);
		pt_json_open(j, "infos", '[');
		for (unsigned k = 0; k < a->ninfos; k++) {
			uint32_t id = a->info[k].info;
			if (id >= t->ninfos)
				continue;
			pt_json_open(j, NULL, '{');
			pt_json_u64(j, "count", a->info[k].count);
			pt_json_u64(j, "size", t->info[id].size);
			put_frames(h, t->info[id].stack, PINNED_FRAMES);
			pt_json_close(j, '}');
		}
		pt_json_close(j, ']');
		pt_json_close(j, '}');
	}
	pt_json_close(j, ']');
}

static void put_hist(struct html *h)
{
	struct pt_json *j = &h->j;
	pt_json_open(j, "hist", '{');
	pt_json_open(j, "low", '[');
	for (unsigned i = 0; i < PT_HIST_BUCKETS; i++)
		pt_json_u64(j, NULL, pt_hist_low(i));
	pt_json_close(j, ']');
	pt_json_u64s(j, "n", h->p->hist_n, PT_HIST_BUCKETS);
	pt_json_u64s(j, "bytes", h->p->hist_bytes, PT_HIST_BUCKETS);
	pt_json_close(j, '}');
}

static void put_data(struct html *h)
{
	struct pt_json *j = &h->j;
	const struct pt_profile *p = h->p;
	pt_json_open(j, NULL, '{');
	put_summary(h);
	put_timeline(h);
	put_flame(h, "flame_peak", offsetof(struct pt_site, peak_bytes), 0);
	put_flame(h, "flame_peak_up", offsetof(struct pt_site, peak_bytes), 1);
	put_flame(h, "flame_leaks", offsetof(struct pt_site, live_bytes), 0);
	put_flame(h, "flame_leaks_up", offsetof(struct pt_site, live_bytes), 1);
	put_tables(h);
	if (pt_profile_steps)
		put_range(h);
	pt_json_open(j, "frag", '[');
	if (p->snap_peak)
		put_snapshot(h, "peak", p->snap_peak, p->snap_peak_pool);
	if (p->snap_exit)
		put_snapshot(h, "exit", p->snap_exit, p->live_bytes[0]);
	pt_json_close(j, ']');
	put_pinned(h);
	put_hist(h);
	pt_json_open(j, "strings", '[');
	for (size_t i = 0; i < h->nused; i++)
		pt_json_str0(j, NULL, h->str.str[h->order[i]]);
	pt_json_close(j, ']');
	pt_json_close(j, '}');
}

void pt_html_data(struct pt_view *v, struct pt_buf *out)
{
	struct html *h = pt_xcalloc(1, sizeof *h);
	h->j.b = out;
	h->v = v;
	h->p = &v->p;
	put_data(h);
	pt_strtab_free(&h->str);
	free(h->used);
	free(h->order);
	free(h);
}
