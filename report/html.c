/*
 * html.c - `pooltrace html [-o FILE] TRACE`: one self-contained page (CSS,
 * script and SVG inline; nothing is fetched) showing a trace the way
 * heaptrack_gui or memray's report do: a summary, the timeline of the heap
 * and RSS, flame graphs of the heap at its peak and of what was left at
 * exit, the top allocation sites, the pool allocator's fragmentation and
 * the histogram of requested sizes.
 *
 * The C side only gathers figures.  It writes them as one JSON document in
 * <script type="application/json" id="pt-data">, every '<' written \u003c
 * so that no string of the trace (function names, paths, arguments) can
 * end the element; the page's script parses it with JSON.parse and builds
 * the DOM with textContent, never innerHTML.  Frame names and locations
 * are given once, in the document's "strings" array, and referred to by
 * their index there.
 *
 * Rendering done, the script sets document.body.dataset.ptStatus to "ok";
 * an uncaught error sets it to "error: MESSAGE" and shows a banner (what
 * tests/test_html.sh checks in a headless browser).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frag.h"
#include "args.h"
#include "output.h"
#include "commands.h"
#include "view.h"
#include "util.h"

#define TOP_SITES      20         /* rows of each table */
#define TABLE_FRAMES   16         /* frames kept per table row */
#define PINNED_FRAMES  4          /* frames per block kind of a pinned arena */
#define TIMELINE_MAX   2000       /* timeline points, at most */
#define FLAME_MIN      10000      /* flame nodes below 1/FLAME_MIN of the
                                     total are left out (far below a pixel) */

/* ---- JSON ---------------------------------------------------------------- */

/* A JSON writer that places the commas: a value after another one at the
 * same level (comma set) is preceded by ','.  Strings as pt_buf_json
 * writes them: no '<', nothing that could end the script element. */
struct json {
	struct pt_buf *b;
	int comma;
};

static void j_key(struct json *j, const char *key)
{
	if (j->comma)
		pt_buf_putc(j->b, ',');
	if (key)
		pt_buf_printf(j->b, "\"%s\":", key);
}

static void j_open(struct json *j, const char *key, char c)
{
	j_key(j, key);
	pt_buf_putc(j->b, c);
	j->comma = 0;
}

static void j_close(struct json *j, char c)
{
	pt_buf_putc(j->b, c);
	j->comma = 1;
}

static void j_u64(struct json *j, const char *key, uint64_t v)
{
	char num[24];
	j_key(j, key);
	pt_buf_put(j->b, num, (size_t)snprintf(num, sizeof num, "%" PRIu64, v));
	j->comma = 1;
}

static void j_strn(struct json *j, const char *key, const char *s, size_t len)
{
	j_key(j, key);
	pt_buf_json(j->b, s, len);
	j->comma = 1;
}

static void j_str(struct json *j, const char *key, const char *s)
{
	j_strn(j, key, s ? s : "", s ? strlen(s) : 0);
}

/* ---- the page's data ------------------------------------------------------- */

/* One page being written. */
struct html {
	struct json j;
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
	j_u64(&h->j, NULL, h->used[k] - 1);
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
	struct json *j = &h->j;
	size_t n = pt_view_frames(h->v, stack, h->fr, PT_VIEW_MAX_FRAMES);
	j_open(j, "f", '[');
	for (size_t i = 0; i < n && i < max; i++) {
		struct fref r = frame_ref(h, h->fr[i], 1);
		j_open(j, NULL, '[');
		j_strref(h, r.name);
		j_strref(h, r.where);
		j_close(j, ']');
	}
	j_close(j, ']');
	j_u64(j, "nf", n);
}

static void put_summary(struct html *h)
{
	struct json *j = &h->j;
	const struct pt_profile *p = h->p;
	const struct pt_trace *t = p->t;

	j_str(j, "path", h->v->path);
	j_str(j, "exe", t->exe);
	j_open(j, "args", '[');
	for (size_t i = 0; t->args && i < t->hdr.args_len;) {
		size_t len = strnlen(t->args + i, t->hdr.args_len - i);
		j_strn(j, NULL, t->args + i, len);
		i += len + 1;
	}
	j_close(j, ']');
	j_u64(j, "pid", t->hdr.pid);
	j_u64(j, "start", t->hdr.start_realtime_ns);
	j_u64(j, "sample", t->hdr.sample_bytes);
	j_u64(j, "duration", p->duration_ns);
	j_u64(j, "ended", (uint64_t)t->ended);
	j_u64(j, "end_reason", p->end_reason);
	j_u64(j, "end_code", p->end_code);
	j_str(j, "stop", t->stop);

	j_open(j, "calls", '{');
	j_u64(j, "malloc", p->n_malloc);
	j_u64(j, "free", p->n_free);
	j_u64(j, "realloc", p->n_realloc);
	j_u64(j, "free_unknown", p->n_free_unknown);
	j_close(j, '}');
	j_open(j, "temp", '{');
	j_u64(j, "n", p->n_temp);
	j_u64(j, "bytes", p->bytes_temp);
	j_close(j, '}');
	j_open(j, "peak", '{');
	j_u64(j, "bytes", p->peak);
	j_u64(j, "time", p->peak_time_ns);
	j_close(j, '}');
	j_open(j, "rss", '{');
	j_u64(j, "bytes", p->peak_rss);
	j_u64(j, "time", p->peak_rss_time_ns);
	j_close(j, '}');

	/* [0] pool, [1] glibc */
	uint64_t at_peak[2] = { p->peak_pool, p->peak_glibc };
	j_open(j, "kinds", '[');
	for (unsigned k = 0; k < 2; k++) {
		j_open(j, NULL, '{');
		j_u64(j, "n", p->n_alloc[k]);
		j_u64(j, "bytes", p->bytes_alloc[k]);
		j_u64(j, "peak", at_peak[k]);
		j_u64(j, "live_n", p->live_n[k]);
		j_u64(j, "live", p->live_bytes[k]);
		j_close(j, '}');
	}
	j_close(j, ']');

	if (p->have_leaks) {
		j_open(j, "leaks", '{');
		j_open(j, "n", '[');
		for (unsigned c = 0; c < PT_LEAK_CLASSES; c++)
			j_u64(j, NULL, p->leak_n[c]);
		j_close(j, ']');
		j_open(j, "bytes", '[');
		for (unsigned c = 0; c < PT_LEAK_CLASSES; c++)
			j_u64(j, NULL, p->leak_bytes[c]);
		j_close(j, ']');
		j_u64(j, "roots", p->leak_roots_bytes);
		j_close(j, '}');
	}
}

/* The timeline as columns; above TIMELINE_MAX points, each one emitted
 * holds the maximum of each column over a run of consecutive points (so
 * peaks survive; its time is that of the run's last point). */
static void put_timeline(struct html *h)
{
	static const struct { const char *key; size_t off; } col[] = {
		{ "t", offsetof(struct pt_point, time_ns) },
		{ "live", offsetof(struct pt_point, live) },
		{ "rss", offsetof(struct pt_point, rss) },
		{ "glibc", offsetof(struct pt_point, glibc) },
		{ "n", offsetof(struct pt_point, n_alloc) },
	};
	struct json *j = &h->j;
	const struct pt_profile *p = h->p;
	size_t per = p->npoints > TIMELINE_MAX ? (p->npoints + TIMELINE_MAX - 1) / TIMELINE_MAX : 1;

	j_open(j, "timeline", '{');
	for (unsigned c = 0; c < sizeof col / sizeof col[0]; c++) {
		j_open(j, col[c].key, '[');
		for (size_t i = 0; i < p->npoints; i += per) {
			uint64_t v = 0;
			for (size_t k = i; k < i + per && k < p->npoints; k++) {
				const char *pt = (const char *)&p->point[k];
				uint64_t x = *(const uint64_t *)(pt + col[c].off);
				if (x > v)
					v = x;
			}
			j_u64(j, NULL, v);
		}
		j_close(j, ']');
	}
	j_close(j, '}');
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
	struct json *j = &h->j;
	const struct tnode *x = &t->n[i];
	j_open(j, key, '[');
	j_strref(h, x->name);
	j_strref(h, x->where);
	j_u64(j, NULL, x->value);
	j_open(j, NULL, '[');
	for (uint32_t c = x->child; c; c = t->n[c].next)
		if (t->n[c].value >= min && t->n[c].value)
			tree_put(h, NULL, t, c, min);
	j_close(j, ']');
	j_close(j, ']');
}

/* The flame graph of the uint64_t field at offset off of the sites. */
static void put_flame(struct html *h, const char *key, size_t off)
{
	struct tree t = { 0 };
	struct fref none = { pt_strtab_intern(&h->str, "(stack not recorded)"), pt_strtab_intern(&h->str, "") };
	tree_new(&t, 0, pt_strtab_intern(&h->str, "all"), none.where);
	for (size_t s = 0; s < h->p->nsites; s++) {
		const struct pt_site *site = &h->p->site[s];
		uint64_t v = pt_site_counter(site, off);
		if (!v)
			continue;
		size_t n = pt_view_frames(h->v, site->stack, h->fr, PT_VIEW_MAX_FRAMES);
		uint32_t at = 0;
		t.n[0].value += v;
		if (!n) {
			at = tree_child(&t, at, none);
			t.n[at].value += v;
		}
		for (size_t i = n; i-- > 0;) {       /* outermost first */
			at = tree_child(&t, at, frame_ref(h, h->fr[i], 0));
			t.n[at].value += v;
		}
	}
	tree_put(h, key, &t, 0, t.n[0].value / FLAME_MIN);
	free(t.n);
	free(t.slot);
}

/* ---- tables -------------------------------------------------------------------- */

static void put_site(struct html *h, const struct pt_site *s)
{
	struct json *j = &h->j;
	j_open(j, NULL, '{');
	put_frames(h, s->stack, TABLE_FRAMES);
	j_u64(j, "peak", s->peak_bytes);
	j_u64(j, "peak_n", s->peak_n);
	j_u64(j, "n", s->n_alloc);
	j_u64(j, "bytes", s->bytes_alloc);
	j_u64(j, "temp_n", s->n_temp);
	j_u64(j, "temp", s->bytes_temp);
	j_u64(j, "live", s->live_bytes);
	j_u64(j, "live_n", s->live_n);
	j_open(j, "lost", '[');
	for (unsigned c = 0; c < PT_LEAK_CLASSES; c++)
		j_u64(j, NULL, s->leak_bytes[c]);
	j_close(j, ']');
	j_u64(j, "min", s->min_size);
	j_u64(j, "max", s->max_size);
	j_u64(j, "kinds", s->kinds);
	j_close(j, '}');
}

static void put_tables(struct html *h)
{
	static const struct { const char *key; size_t off; } table[] = {
		{ "peak", offsetof(struct pt_site, peak_bytes) },
		{ "calls", offsetof(struct pt_site, n_alloc) },
		{ "temp", offsetof(struct pt_site, n_temp) },
		{ "leaks", offsetof(struct pt_site, live_bytes) },
	};
	struct json *j = &h->j;
	j_open(j, "tables", '{');
	for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) {
		size_t n;
		struct pt_site **s = pt_profile_sorted(h->p, table[i].off, &n);
		j_open(j, table[i].key, '[');
		for (size_t k = 0; k < n && k < TOP_SITES; k++)
			put_site(h, s[k]);
		j_close(j, ']');
		free(s);
	}
	j_close(j, '}');
}

/* ---- fragmentation -------------------------------------------------------------- */

static void put_snapshot(struct html *h, const char *kind, const struct pt_snapshot *s,
                         uint64_t pool_live)
{
	struct json *j = &h->j;
	const struct pt_trace_header *hdr = &h->p->t->hdr;
	struct pt_frag f;
	pt_frag_compute(h->p, s, pool_live, &f);

	j_open(j, NULL, '{');
	j_str(j, "kind", kind);
	j_u64(j, "time", s->time_ns);
	j_open(j, "parts", '{');
	j_u64(j, "rss", f.rss);
	j_u64(j, "pool_live", f.pool_live);
	j_u64(j, "pool_rounding", f.pool_rounding);
	j_u64(j, "pool_free", f.pool_free);
	j_u64(j, "pool_tails", f.pool_tails);
	j_u64(j, "pool_empty", f.pool_empty);
	j_u64(j, "headers", f.headers);
	j_u64(j, "untouched", f.untouched);
	j_u64(j, "glibc", f.glibc);
	j_u64(j, "other", f.other);
	j_u64(j, "arenas", f.arenas);
	j_u64(j, "pool_resident", f.pool_resident);
	j_close(j, '}');

	/* per class: [size, blocks used, free, cached, pools used, full,
	 * empty, requested bytes] */
	unsigned nc = s->nclasses < hdr->nclasses ? s->nclasses : hdr->nclasses;
	if (nc > PT_TRACE_MAX_CLASSES)
		nc = PT_TRACE_MAX_CLASSES;
	j_open(j, "classes", '[');
	for (unsigned k = 0; k < nc; k++) {
		const struct pt_snap_class *c = &s->cls[k];
		uint64_t v[] = { hdr->class_size[k], c->blocks_used, c->blocks_free,
		                 c->blocks_cached, c->pools_used, c->pools_full,
		                 c->pools_empty, c->req_bytes };
		j_open(j, NULL, '[');
		for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++)
			j_u64(j, NULL, v[i]);
		j_close(j, ']');
	}
	j_close(j, ']');

	uint64_t bins[PT_OCCUPANCY_BINS];
	pt_frag_occupancy(hdr, s, bins);
	j_open(j, "occupancy", '[');
	for (unsigned b = 0; b < PT_OCCUPANCY_BINS; b++)
		j_u64(j, NULL, bins[b]);
	j_close(j, ']');
	j_close(j, '}');
}

static void put_pinned(struct html *h)
{
	struct json *j = &h->j;
	const struct pt_trace *t = h->p->t;
	j_open(j, "pinned", '[');
	for (size_t i = 0; i < h->p->npinned; i++) {
		const struct pt_pinned_arena *a = &h->p->pinned[i];
		char base[32];
		snprintf(base, sizeof base, "0x%" PRIx64, a->base);
		j_open(j, NULL, '{');
		j_str(j, "kind", a->snap_kind == PT_SNAP_PEAK ? "peak" : "exit");
		j_u64(j, "time", a->time_ns);
		j_str(j, "base", base);
		j_u64(j, "blocks", a->blocks);
		j_u64(j, "bytes", a->bytes);
		j_open(j, "infos", '[');
		for (unsigned k = 0; k < a->ninfos; k++) {
			uint32_t id = a->info[k].info;
			if (id >= t->ninfos)
				continue;
			j_open(j, NULL, '{');
			j_u64(j, "count", a->info[k].count);
			j_u64(j, "size", t->info[id].size);
			put_frames(h, t->info[id].stack, PINNED_FRAMES);
			j_close(j, '}');
		}
		j_close(j, ']');
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void put_hist(struct html *h)
{
	struct json *j = &h->j;
	j_open(j, "hist", '{');
	j_open(j, "low", '[');
	for (unsigned i = 0; i < PT_HIST_BUCKETS; i++)
		j_u64(j, NULL, pt_hist_low(i));
	j_close(j, ']');
	j_open(j, "n", '[');
	for (unsigned i = 0; i < PT_HIST_BUCKETS; i++)
		j_u64(j, NULL, h->p->hist_n[i]);
	j_close(j, ']');
	j_open(j, "bytes", '[');
	for (unsigned i = 0; i < PT_HIST_BUCKETS; i++)
		j_u64(j, NULL, h->p->hist_bytes[i]);
	j_close(j, ']');
	j_close(j, '}');
}

static void put_data(struct html *h)
{
	struct json *j = &h->j;
	const struct pt_profile *p = h->p;
	j_open(j, NULL, '{');
	put_summary(h);
	put_timeline(h);
	put_flame(h, "flame_peak", offsetof(struct pt_site, peak_bytes));
	put_flame(h, "flame_leaks", offsetof(struct pt_site, live_bytes));
	put_tables(h);
	j_open(j, "frag", '[');
	if (p->snap_peak)
		put_snapshot(h, "peak", p->snap_peak, p->peak_pool);
	if (p->snap_exit)
		put_snapshot(h, "exit", p->snap_exit, p->live_bytes[0]);
	j_close(j, ']');
	put_pinned(h);
	put_hist(h);
	j_open(j, "strings", '[');
	for (size_t i = 0; i < h->nused; i++)
		j_str(j, NULL, h->str.str[h->order[i]]);
	j_close(j, ']');
	j_close(j, '}');
}

/* ---- the page ------------------------------------------------------------------ */

/* The page up to its data: the styles, the handler that reports a script
 * error, and the sections the script fills. */
static const char page_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>pooltrace report</title>\n"
	"<style>\n"
	":root { --fg: #1a202c; --muted: #5f6b7a; --line: #dde2e8; --bg: #f4f5f7; --card: #fff;\n"
	"        --head: #1f2937; }\n"
	"* { box-sizing: border-box; }\n"
	"body { margin: 0; color: var(--fg); background: var(--bg); font: 14px/1.45 system-ui,\n"
	"       -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif; }\n"
	"header { background: var(--head); color: #fff; padding: 14px 24px 10px; }\n"
	"header h1 { margin: 0; font-size: 20px; font-weight: 600; word-break: break-all; }\n"
	"header nav { margin-top: 6px; display: flex; flex-wrap: wrap; gap: 2px 16px; }\n"
	"header nav a { color: #cbd5e0; text-decoration: none; font-size: 13px; }\n"
	"header nav a:hover { color: #fff; }\n"
	"main { max-width: 1280px; margin: 0 auto; padding: 8px 24px 40px; }\n"
	"section { background: var(--card); border: 1px solid var(--line); border-radius: 6px;\n"
	"          padding: 14px 18px; margin: 16px 0; }\n"
	"h2 { font-size: 17px; margin: 0 0 6px; }\n"
	"h3 { font-size: 15px; margin: 18px 0 6px; }\n"
	"p.note { color: var(--muted); margin: 2px 0 10px; font-size: 13px; }\n"
	"p.empty { color: var(--muted); font-style: italic; }\n"
	".mono, .fn { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,\n"
	"             \"Liberation Mono\", monospace; font-size: 12.5px; }\n"
	".loc { color: var(--muted); font-size: 12px; }\n"
	".more { color: var(--muted); font-size: 11.5px; }\n"
	"table { border-collapse: collapse; }\n"
	"table.kv th { text-align: left; font-weight: 500; color: var(--muted);\n"
	"              padding: 3px 18px 3px 0; vertical-align: top; white-space: nowrap; }\n"
	"table.kv td { padding: 3px 0; word-break: break-all; }\n"
	".cols { display: flex; flex-wrap: wrap; gap: 8px 48px; }\n"
	".cols > div { flex: 1 1 420px; min-width: 0; }\n"
	"table.grid { width: 100%; font-size: 13px; }\n"
	"table.grid th, table.grid td { border-bottom: 1px solid var(--line); padding: 4px 8px;\n"
	"                               text-align: right; vertical-align: top;\n"
	"                               white-space: nowrap; }\n"
	"table.grid th { background: #eef1f5; font-weight: 600; user-select: none; }\n"
	"table.grid.sortable th { cursor: pointer; }\n"
	"table.grid th.down::after { content: \" \\25BE\"; }\n"
	"table.grid th.up::after { content: \" \\25B4\"; }\n"
	"table.grid .stack { text-align: left; white-space: normal; word-break: break-all;\n"
	"                    width: 55%; }\n"
	"table.grid tbody tr:hover { background: #f7f9fc; }\n"
	"table.grid tbody th { text-align: left; background: none; font-weight: 500; }\n"
	".tabs { margin: 4px 0 8px; }\n"
	".tabs button, .bar button { font: inherit; font-size: 13px; background: #f7f8fa;\n"
	"                            border: 1px solid var(--line); padding: 4px 12px;\n"
	"                            margin-right: 4px; border-radius: 4px; cursor: pointer; }\n"
	".tabs button.on { background: var(--head); color: #fff; border-color: var(--head); }\n"
	".bar { display: flex; align-items: center; gap: 12px; margin: 4px 0 6px;\n"
	"       font-size: 12px; color: var(--muted); }\n"
	".bar button { font-size: 12px; padding: 2px 10px; }\n"
	".bar input { font: inherit; font-size: 12px; width: 240px; padding: 2px 6px;\n"
	"             border: 1px solid var(--line); border-radius: 4px; }\n"
	".tip { position: fixed; display: none; background: var(--head); color: #fff;\n"
	"       padding: 6px 9px; border-radius: 4px; font-size: 12px; pointer-events: none;\n"
	"       z-index: 10; max-width: 620px; word-break: break-all; }\n"
	".tip div:first-child { font-weight: 600; }\n"
	"svg { display: block; }\n"
	"svg text { font-size: 11px; fill: #4a5568; }\n"
	"svg .gridline { stroke: #e6e9ee; }\n"
	"svg .axis { stroke: #a0aec0; }\n"
	"svg.flame text { fill: #1a202c; pointer-events: none; font-size: 11.5px; }\n"
	"svg.flame g { cursor: pointer; }\n"
	"svg.flame rect { stroke: #fff; stroke-width: 0.6; }\n"
	"svg.flame g.anc rect { opacity: 0.5; }\n"
	"svg.flame g.hit rect { fill: #e040fb; }\n"
	".swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;\n"
	"          margin-right: 6px; vertical-align: -1px; }\n"
	".banner, .notice { padding: 8px 12px; border-radius: 4px; margin: 12px 0; }\n"
	".banner { background: #fff5f5; border: 1px solid #feb2b2; color: #9b2c2c; }\n"
	".notice { background: #fffbeb; border: 1px solid #f6e05e; color: #744210; }\n"
	"footer { color: var(--muted); font-size: 12px; text-align: center; padding: 0 0 24px;\n"
	"         word-break: break-all; }\n"
	"</style>\n"
	"</head>\n"
	"<body data-pt-status=\"loading\">\n"
	"<script>\n"
	"window.onerror = function (msg) {\n"
	"\tdocument.body.dataset.ptStatus = 'error: ' + msg;\n"
	"\tvar b = document.createElement('div');\n"
	"\tb.className = 'banner';\n"
	"\tb.textContent = 'This report failed to render: ' + msg;\n"
	"\tdocument.body.insertBefore(b, document.body.firstChild);\n"
	"};\n"
	"</script>\n"
	"<header>\n"
	"<h1 id=\"title\">pooltrace report</h1>\n"
	"<nav><a href=\"#summary\">Summary</a><a href=\"#timeline\">Timeline</a>\n"
	"<a href=\"#peak\">Memory at the peak</a><a href=\"#leaks\">Leaked at exit</a>\n"
	"<a href=\"#sites\">Top sites</a><a href=\"#frag\">Fragmentation</a>\n"
	"<a href=\"#sizes\">Sizes</a></nav>\n"
	"</header>\n"
	"<main>\n"
	"<noscript><div class=\"banner\">This report is drawn by its inline script: enable\n"
	"JavaScript.</div></noscript>\n"
	"<div id=\"notices\"></div>\n"
	"<section id=\"summary\"><h2>Summary</h2><div id=\"summary-body\"></div></section>\n"
	"<section id=\"timeline\"><h2>Timeline</h2>\n"
	"<p class=\"note\">Requested bytes in live blocks, resident memory (RSS) and glibc's\n"
	"bytes in use, from the snapshots the profiler took during the run. Hover for the\n"
	"values.</p>\n"
	"<div id=\"timeline-body\"></div></section>\n"
	"<section id=\"peak\"><h2>Memory at the peak</h2>\n"
	"<p class=\"note\">The live heap at its peak, by call stack: the outermost call at the\n"
	"top, each box as wide as the bytes allocated beneath it and still live at the peak.\n"
	"Click a box to zoom in, a box above it to zoom out.</p>\n"
	"<div id=\"flame-peak\"></div></section>\n"
	"<section id=\"leaks\"><h2>Leaked at exit</h2>\n"
	"<p class=\"note\">The blocks still allocated when the program ended, by call stack.</p>\n"
	"<div id=\"flame-leaks\"></div></section>\n"
	"<section id=\"sites\"><h2>Top allocation sites</h2>\n"
	"<p class=\"note\">The 20 biggest call stacks by each measure. Click a column heading\n"
	"to sort; hover a stack for all its frames.</p>\n"
	"<div id=\"sites-body\"></div></section>\n"
	"<section id=\"frag\"><h2>Fragmentation</h2>\n"
	"<p class=\"note\">Where resident memory went, from the pool allocator's full\n"
	"snapshots.</p>\n"
	"<div id=\"frag-body\"></div></section>\n"
	"<section id=\"sizes\"><h2>Allocation sizes</h2>\n"
	"<p class=\"note\">Requested sizes by power of two, over the whole run.</p>\n"
	"<div id=\"sizes-body\"></div></section>\n"
	"</main>\n"
	"<footer id=\"footer\">pooltrace html</footer>\n";

/* After the data: the script that draws the page from it. */
static const char page_script[] =
	"(function () {\n"
	"'use strict';\n"
	"var D = JSON.parse(document.getElementById('pt-data').textContent);\n"
	"var STR = D.strings;\n"
	"var SVGNS = 'http://www.w3.org/2000/svg';\n"
	"var KIND_NAMES = ['pool', 'glibc'];\n"
	"var LEAK_NAMES = ['definitely lost', 'indirectly lost', 'still reachable'];\n"
	"\n"
	"/* ---- helpers ---- */\n"
	"function $(id) { return document.getElementById(id); }\n"
	"function add(parent, child) { parent.appendChild(child); return child; }\n"
	"function el(tag, cls, text) {\n"
	"\tvar e = document.createElement(tag);\n"
	"\tif (cls) e.className = cls;\n"
	"\tif (text !== undefined) e.textContent = text;\n"
	"\treturn e;\n"
	"}\n"
	"function sv(parent, tag, attrs, text) {\n"
	"\tvar e = document.createElementNS(SVGNS, tag);\n"
	"\tfor (var k in attrs) e.setAttribute(k, attrs[k]);\n"
	"\tif (text !== undefined) e.textContent = text;\n"
	"\treturn add(parent, e);\n"
	"}\n"
	"function fmtBytes(b) {\n"
	"\tif (b < 1024) return Math.round(b) + ' B';\n"
	"\tvar units = ['KiB', 'MiB', 'GiB', 'TiB'], v = b / 1024, u = 0;\n"
	"\twhile (v >= 1024 && u < 3) { v /= 1024; u++; }\n"
	"\treturn v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0) + ' ' + units[u];\n"
	"}\n"
	"function fmtCount(n) {\n"
	"\treturn Math.round(n).toString().replace(/\\B(?=(\\d{3})+(?!\\d))/g, ',');\n"
	"}\n"
	"function fmtTime(ns) {\n"
	"\tif (ns >= 1e9) return (ns / 1e9).toFixed(ns >= 1e11 ? 0 : ns >= 1e10 ? 1 : 2) + ' s';\n"
	"\tif (ns >= 1e6) return (ns / 1e6).toFixed(ns >= 1e8 ? 0 : ns >= 1e7 ? 1 : 2) + ' ms';\n"
	"\tif (ns >= 1e3) return (ns / 1e3).toFixed(1) + ' \\u00b5s';\n"
	"\treturn ns + ' ns';\n"
	"}\n"
	"function pct(a, b) { return b ? (100 * a / b).toFixed(1) + '%' : '-'; }\n"
	"function sum(a) { return a.reduce(function (s, x) { return s + x; }, 0); }\n"
	"function basename(p) { return p.slice(p.lastIndexOf('/') + 1); }\n"
	"function widthOf(box) { return Math.max(320, box.clientWidth || 1000); }\n"
	"\n"
	"/* a deterministic hue in [lo, lo + span) for a name */\n"
	"function hue(name, lo, span) {\n"
	"\tvar h = 0;\n"
	"\tfor (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;\n"
	"\treturn lo + h % span;\n"
	"}\n"
	"\n"
	"/* ---- tooltip ---- */\n"
	"var tip = add(document.body, el('div', 'tip'));\n"
	"function showTip(ev, lines) {\n"
	"\ttip.textContent = '';\n"
	"\tlines.forEach(function (l) { add(tip, el('div', '', l)); });\n"
	"\ttip.style.display = 'block';\n"
	"\tvar x = ev.clientX + 14, y = ev.clientY + 14;\n"
	"\tvar w = tip.offsetWidth, h = tip.offsetHeight;\n"
	"\tif (x + w > window.innerWidth - 4) x = ev.clientX - w - 14;\n"
	"\tif (y + h > window.innerHeight - 4) y = ev.clientY - h - 14;\n"
	"\ttip.style.left = Math.max(4, x) + 'px';\n"
	"\ttip.style.top = Math.max(4, y) + 'px';\n"
	"}\n"
	"function hideTip() { tip.style.display = 'none'; }\n"
	"\n"
	"/* ---- axes from 0 to max (rounded up to a tick unless tight): ticks at 1,\n"
	" * 2 or 5 times a power of ten of a unit ---- */\n"
	"function axis(kind, max, tight) {\n"
	"\tvar unit = 1, name = '';\n"
	"\tif (kind === 'bytes') {\n"
	"\t\tvar names = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], k = 0;\n"
	"\t\twhile (k < 4 && max >= Math.pow(1024, k + 1)) k++;\n"
	"\t\tunit = Math.pow(1024, k);\n"
	"\t\tname = names[k];\n"
	"\t} else if (kind === 'time') {\n"
	"\t\tvar t = max >= 1e9 ? [1e9, 's'] : max >= 1e6 ? [1e6, 'ms'] :\n"
	"\t\t\tmax >= 1e3 ? [1e3, '\\u00b5s'] : [1, 'ns'];\n"
	"\t\tunit = t[0];\n"
	"\t\tname = t[1];\n"
	"\t}\n"
	"\tif (!(max > 0)) max = unit;\n"
	"\tvar raw = max / unit / 5, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;\n"
	"\tvar step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;\n"
	"\tif (kind === 'count' && step < 1) step = 1;\n"
	"\tvar steps = max / unit / step, ticks = [];\n"
	"\tvar n = tight ? Math.floor(steps + 1e-9) : Math.ceil(steps - 1e-9);\n"
	"\tfor (var i = 0; i <= n; i++) ticks.push(i * step * unit);\n"
	"\treturn {\n"
	"\t\tmax: tight ? max : n * step * unit,\n"
	"\t\tticks: ticks,\n"
	"\t\tlabel: function (v) {\n"
	"\t\t\tvar x = +(v / unit).toPrecision(6);\n"
	"\t\t\tif (!x) return '0';\n"
	"\t\t\tif (kind !== 'count') return x + ' ' + name;\n"
	"\t\t\treturn x >= 1e6 ? +(x / 1e6).toPrecision(4) + 'M' :\n"
	"\t\t\t\tx >= 1e3 ? +(x / 1e3).toPrecision(4) + 'k' : String(x);\n"
	"\t\t}\n"
	"\t};\n"
	"}\n"
	"\n"
	"/* gridlines and labels of a y axis over the plot [ml, ml + pw] x [mt, mt + ph] */\n"
	"function yAxis(s, ya, ml, mt, pw, ph) {\n"
	"\tya.ticks.forEach(function (v) {\n"
	"\t\tvar y = mt + ph - ph * v / ya.max;\n"
	"\t\tsv(s, 'line', { x1: ml, x2: ml + pw, y1: y, y2: y,\n"
	"\t\t\t'class': v ? 'gridline' : 'axis' });\n"
	"\t\tsv(s, 'text', { x: ml - 6, y: y + 4, 'text-anchor': 'end' }, ya.label(v));\n"
	"\t});\n"
	"}\n"
	"\n"
	"/* Delegated hover and click over the children of an svg carrying data-i. */\n"
	"function hover(s, tipOf, click) {\n"
	"\tfunction idx(ev) {\n"
	"\t\tvar g = ev.target.closest('[data-i]');\n"
	"\t\treturn g ? +g.getAttribute('data-i') : -1;\n"
	"\t}\n"
	"\ts.addEventListener('mousemove', function (ev) {\n"
	"\t\tvar i = idx(ev);\n"
	"\t\tif (i < 0) hideTip();\n"
	"\t\telse showTip(ev, tipOf(i));\n"
	"\t});\n"
	"\ts.addEventListener('mouseleave', hideTip);\n"
	"\tif (click) s.addEventListener('click', function (ev) {\n"
	"\t\tvar i = idx(ev);\n"
	"\t\tif (i >= 0) click(i);\n"
	"\t});\n"
	"}\n"
	"\n"
	"function legend(parent, items) {\n"
	"\tvar d = add(parent, el('div', 'bar'));\n"
	"\titems.forEach(function (it) {\n"
	"\t\tvar s = add(d, el('span'));\n"
	"\t\tadd(s, el('span', 'swatch')).style.background = it[1];\n"
	"\t\tadd(s, document.createTextNode(it[0]));\n"
	"\t});\n"
	"}\n"
	"\n"
	"/*\n"
	" * A column chart: o.labels, o.series [{name, color, values}] stacked,\n"
	" * o.kind of the y axis ('bytes' or 'count'), o.xname under the x axis,\n"
	" * o.tip(i) the tooltip lines of column i.\n"
	" */\n"
	"function columns(parent, o) {\n"
	"\tvar n = o.labels.length, W = widthOf(parent), H = 220;\n"
	"\tvar ml = 72, mr = 10, mt = 10, mb = 34, pw = W - ml - mr, ph = H - mt - mb;\n"
	"\tvar tot = o.labels.map(function (_, i) {\n"
	"\t\treturn sum(o.series.map(function (se) { return se.values[i]; }));\n"
	"\t});\n"
	"\tvar ya = axis(o.kind, Math.max.apply(null, tot.concat([0])));\n"
	"\tvar s = sv(parent, 'svg', { width: W, height: H, 'class': 'chart' });\n"
	"\tyAxis(s, ya, ml, mt, pw, ph);\n"
	"\tvar bw = pw / Math.max(n, 1), every = Math.ceil(n * 46 / pw);\n"
	"\to.labels.forEach(function (label, i) {\n"
	"\t\tvar g = sv(s, 'g', { 'data-i': i }), y = mt + ph, x = ml + i * bw;\n"
	"\t\tsv(g, 'rect', { x: x, y: mt, width: bw, height: ph, fill: 'transparent' });\n"
	"\t\to.series.forEach(function (se) {\n"
	"\t\t\tvar h = ph * se.values[i] / ya.max;\n"
	"\t\t\ty -= h;\n"
	"\t\t\tif (h > 0) sv(g, 'rect', { x: x + bw * 0.12, y: y, width: Math.max(1, bw * 0.76),\n"
	"\t\t\t                           height: h, fill: se.color });\n"
	"\t\t});\n"
	"\t\tif (i % every === 0)\n"
	"\t\t\tsv(s, 'text', { x: x + bw / 2, y: mt + ph + 15, 'text-anchor': 'middle' }, label);\n"
	"\t});\n"
	"\tsv(s, 'text', { x: ml + pw / 2, y: H - 3, 'text-anchor': 'middle' }, o.xname);\n"
	"\thover(s, o.tip);\n"
	"\tif (o.series.length > 1)\n"
	"\t\tlegend(parent, o.series.map(function (se) { return [se.name, se.color]; }));\n"
	"}\n"
	"\n"
	"/* the frames of a table row or pinned block: r.f, [name, where] innermost\n"
	" * first, of r.nf */\n"
	"function frameText(f) {\n"
	"\tvar w = STR[f[1]];\n"
	"\treturn STR[f[0]] + (w ? '  (' + w + ')' : '');\n"
	"}\n"
	"function stackCell(td, r, shown) {\n"
	"\tif (!r.f.length) {\n"
	"\t\tadd(td, el('span', 'fn', '(stack not recorded)'));\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tr.f.slice(0, shown).forEach(function (f, i) {\n"
	"\t\tvar line = add(td, el('div'));\n"
	"\t\tadd(line, el('span', 'fn', (i ? '\\u2190 ' : '') + STR[f[0]]));\n"
	"\t\tif (STR[f[1]]) add(line, el('span', 'loc', '  ' + basename(STR[f[1]])));\n"
	"\t});\n"
	"\tif (r.nf > shown) add(td, el('div', 'more', '+ ' + (r.nf - shown) + ' more frames'));\n"
	"\ttd.title = r.f.map(frameText).join('\\n') + (r.nf > r.f.length ? '\\n...' : '');\n"
	"}\n"
	"\n"
	"/* ---- summary ---- */\n"
	"function notices() {\n"
	"\tvar box = $('notices');\n"
	"\tbox.textContent = '';\n"
	"\tif (D.stop)\n"
	"\t\tadd(box, el('div', 'notice', 'This trace is cut short: ' + D.stop +\n"
	"\t\t\t'. The figures cover what was read.'));\n"
	"\telse if (!D.ended)\n"
	"\t\tadd(box, el('div', 'notice', 'No end record: the program did not exit normally ' +\n"
	"\t\t\t'(killed, or still running). The figures cover what was written.'));\n"
	"\tif (D.sample)\n"
	"\t\tadd(box, el('div', 'notice', 'Sampled trace (one allocation per ' +\n"
	"\t\t\tfmtBytes(D.sample) + ' on average): sizes and counts are estimates.'));\n"
	"}\n"
	"\n"
	"function kv(parent, rows) {\n"
	"\tvar t = add(parent, el('table', 'kv'));\n"
	"\trows.forEach(function (r) {\n"
	"\t\tvar tr = add(t, el('tr'));\n"
	"\t\tadd(tr, el('th', '', r[0]));\n"
	"\t\tadd(tr, el('td', r[2] || '', r[1]));\n"
	"\t});\n"
	"}\n"
	"\n"
	"/* an argument as a shell would need it */\n"
	"function shellQuote(a) {\n"
	"\treturn /^[\\w.\\/:=,+-]+$/.test(a) ? a : \"'\" + a.replace(/'/g, \"'\\\\''\") + \"'\";\n"
	"}\n"
	"\n"
	"function renderSummary(box) {\n"
	"\tdocument.title = 'pooltrace: ' + (basename(D.exe) || 'report');\n"
	"\t$('title').textContent = 'pooltrace \\u2014 ' + (basename(D.exe) || D.path);\n"
	"\t$('footer').textContent = 'pooltrace html \\u2014 ' + D.path;\n"
	"\tnotices();\n"
	"\tvar k = D.kinds, nall = k[0].n + k[1].n, bytes = k[0].bytes + k[1].bytes;\n"
	"\tvar live = k[0].live + k[1].live, liven = k[0].live_n + k[1].live_n;\n"
	"\tvar started = new Date(D.start / 1e6).toLocaleString();\n"
	"\tvar calls = fmtCount(D.calls.malloc) + ' malloc, ' + fmtCount(D.calls.free) +\n"
	"\t\t' free, ' + fmtCount(D.calls.realloc) + ' realloc';\n"
	"\tif (D.calls.free_unknown)\n"
	"\t\tcalls += ' (' + fmtCount(D.calls.free_unknown) +\n"
	"\t\t\t' frees of blocks allocated before tracing)';\n"
	"\tvar end = !D.ended ? 'no end record' :\n"
	"\t\tD.end_reason ? 'killed by signal ' + D.end_code : 'exited, status ' + D.end_code;\n"
	"\tvar cols = add(box, el('div', 'cols')), left = add(cols, el('div'));\n"
	"\tvar right = add(cols, el('div'));\n"
	"\tkv(left, [\n"
	"\t\t['program', D.exe || '?', 'mono'],\n"
	"\t\t['command line', D.args.map(shellQuote).join(' '), 'mono'],\n"
	"\t\t['process', 'pid ' + D.pid + ', started ' + started],\n"
	"\t\t['duration', fmtTime(D.duration) + ' (' + end + ')'],\n"
	"\t\t['calls', calls],\n"
	"\t\t['total allocated', fmtBytes(bytes) + ' in ' + fmtCount(nall) + ' blocks'],\n"
	"\t\t['temporary allocations', D.temp.n ? fmtCount(D.temp.n) + ' (' +\n"
	"\t\t\tpct(D.temp.n, nall) + ' of the allocations), ' + fmtBytes(D.temp.bytes) : 'none'],\n"
	"\t]);\n"
	"\tvar rows = [\n"
	"\t\t['peak heap', D.peak.bytes ?\n"
	"\t\t\tfmtBytes(D.peak.bytes) + ' at ' + fmtTime(D.peak.time) : '0 B'],\n"
	"\t\t['peak RSS', D.rss.bytes ?\n"
	"\t\t\tfmtBytes(D.rss.bytes) + ' at ' + fmtTime(D.rss.time) : '-'],\n"
	"\t\t['leaked at exit', fmtBytes(live) + ' in ' + fmtCount(liven) + ' blocks'],\n"
	"\t];\n"
	"\tif (D.leaks) {\n"
	"\t\tLEAK_NAMES.forEach(function (name, c) {\n"
	"\t\t\trows.push(['\\u2003' + name,\n"
	"\t\t\t\tfmtBytes(D.leaks.bytes[c]) + ' in ' + fmtCount(D.leaks.n[c]) + ' blocks']);\n"
	"\t\t});\n"
	"\t\trows.push(['\\u2003roots scanned', fmtBytes(D.leaks.roots)]);\n"
	"\t}\n"
	"\tkv(right, rows);\n"
	"\n"
	"\tadd(box, el('h3', '', 'Pool allocator and glibc'));\n"
	"\tvar t = add(box, el('table', 'grid'));\n"
	"\tvar hr = add(add(t, el('thead')), el('tr')), tb = add(t, el('tbody'));\n"
	"\t['', 'allocations', 'bytes allocated', 'live at the peak', 'live at exit',\n"
	"\t 'blocks at exit'].forEach(function (h) { add(hr, el('th', '', h)); });\n"
	"\tvar total = { n: nall, bytes: bytes, peak: k[0].peak + k[1].peak, live: live,\n"
	"\t              live_n: liven };\n"
	"\t[k[0], k[1], total].forEach(function (r, i) {\n"
	"\t\tvar tr = add(tb, el('tr'));\n"
	"\t\tadd(tr, el('th', '', ['pool (up to 512 B)', 'glibc (above 512 B)', 'total'][i]));\n"
	"\t\t[fmtCount(r.n) + (i < 2 ? ' (' + pct(r.n, nall) + ')' : ''), fmtBytes(r.bytes),\n"
	"\t\t fmtBytes(r.peak), fmtBytes(r.live), fmtCount(r.live_n)]\n"
	"\t\t\t.forEach(function (v) { add(tr, el('td', '', v)); });\n"
	"\t});\n"
	"}\n"
	"\n"
	"/* ---- timeline ---- */\n"
	"var SERIES = [\n"
	"\t{ key: 'rss', name: 'RSS', color: '#3b6fd0' },\n"
	"\t{ key: 'live', name: 'live heap (requested)', color: '#d9432f' },\n"
	"\t{ key: 'glibc', name: 'glibc in use', color: '#2f9e5b', dash: '5 3' },\n"
	"];\n"
	"\n"
	"function renderTimeline(box) {\n"
	"\tvar T = D.timeline, n = T.t.length;\n"
	"\tif (!n) {\n"
	"\t\tadd(box, el('p', 'empty', 'No snapshots in this trace: no timeline to draw.'));\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tvar W = widthOf(box), H = 340, ml = 78, mr = 24, mt = 14, mb = 36;\n"
	"\tvar pw = W - ml - mr, ph = H - mt - mb, ymax = D.peak.bytes;\n"
	"\tSERIES.forEach(function (se) {\n"
	"\t\tymax = Math.max.apply(null, T[se.key].concat([ymax]));\n"
	"\t});\n"
	"\tvar xa = axis('time', Math.max(T.t[n - 1], D.duration), true);\n"
	"\tvar ya = axis('bytes', ymax);\n"
	"\tfunction X(t) { return ml + pw * t / xa.max; }\n"
	"\tfunction Y(b) { return mt + ph - ph * b / ya.max; }\n"
	"\tvar s = sv(box, 'svg', { id: 'timeline-svg', width: W, height: H, 'class': 'chart' });\n"
	"\tyAxis(s, ya, ml, mt, pw, ph);\n"
	"\txa.ticks.forEach(function (v) {\n"
	"\t\tsv(s, 'line', { x1: X(v), x2: X(v), y1: mt + ph, y2: mt + ph + 4,\n"
	"\t\t\t'class': 'axis' });\n"
	"\t\tsv(s, 'text', { x: X(v), y: mt + ph + 17, 'text-anchor': 'middle' }, xa.label(v));\n"
	"\t});\n"
	"\tsv(s, 'text', { x: ml + pw / 2, y: H - 3, 'text-anchor': 'middle' },\n"
	"\t\t'time since start');\n"
	"\tSERIES.forEach(function (se) {\n"
	"\t\tvar pts = T.t.map(function (t, i) {\n"
	"\t\t\treturn X(t).toFixed(1) + ',' + Y(T[se.key][i]).toFixed(1);\n"
	"\t\t});\n"
	"\t\tsv(s, 'polyline', { points: pts.join(' '), fill: 'none', stroke: se.color,\n"
	"\t\t\t'stroke-width': 1.8, 'stroke-dasharray': se.dash || 'none',\n"
	"\t\t\t'stroke-linejoin': 'round' });\n"
	"\t\tif (n < 3) T.t.forEach(function (t, i) {\n"
	"\t\t\tsv(s, 'circle', { cx: X(t), cy: Y(T[se.key][i]), r: 3, fill: se.color });\n"
	"\t\t});\n"
	"\t});\n"
	"\tif (D.peak.bytes) {\n"
	"\t\t/* the peak came after the snapshot at peak.time: mark it on the next one */\n"
	"\t\tvar after = T.t.filter(function (t) { return t > D.peak.time; });\n"
	"\t\tvar px = X(after.length ? after[0] : D.peak.time), py = Y(D.peak.bytes);\n"
	"\t\tvar onLeft = px > ml + pw * 0.8;\n"
	"\t\tsv(s, 'circle', { cx: px, cy: py, r: 4.5, fill: '#fff', stroke: '#d9432f',\n"
	"\t\t\t'stroke-width': 2 });\n"
	"\t\tsv(s, 'text', { x: px + (onLeft ? -8 : 8), y: Math.max(py - 8, mt + 10),\n"
	"\t\t\t'text-anchor': onLeft ? 'end' : 'start', 'font-weight': 600 },\n"
	"\t\t\t'peak ' + fmtBytes(D.peak.bytes));\n"
	"\t}\n"
	"\tvar lg = sv(s, 'g', { transform: 'translate(' + (ml + 10) + ',' + (mt + 6) + ')' });\n"
	"\tsv(lg, 'rect', { x: -4, y: -2, width: 170, height: SERIES.length * 16 + 4,\n"
	"\t\tfill: '#fff', opacity: 0.85 });\n"
	"\tSERIES.forEach(function (se, i) {\n"
	"\t\tsv(lg, 'line', { x1: 0, x2: 18, y1: i * 16 + 7, y2: i * 16 + 7, stroke: se.color,\n"
	"\t\t\t'stroke-width': 2.5, 'stroke-dasharray': se.dash || 'none' });\n"
	"\t\tsv(lg, 'text', { x: 24, y: i * 16 + 11 }, se.name);\n"
	"\t});\n"
	"\tvar cursor = sv(s, 'line', { y1: mt, y2: mt + ph, stroke: '#718096',\n"
	"\t\t'stroke-dasharray': '3 3', visibility: 'hidden' });\n"
	"\tvar area = sv(s, 'rect', { x: ml, y: mt, width: pw, height: ph,\n"
	"\t\tfill: 'transparent' });\n"
	"\tarea.addEventListener('mousemove', function (ev) {\n"
	"\t\tvar r = s.getBoundingClientRect(), t = (ev.clientX - r.left - ml) / pw * xa.max;\n"
	"\t\tvar lo = 0, hi = n - 1;\n"
	"\t\twhile (lo < hi) {\n"
	"\t\t\tvar mid = (lo + hi) >> 1;\n"
	"\t\t\tif (T.t[mid] < t) lo = mid + 1; else hi = mid;\n"
	"\t\t}\n"
	"\t\tif (lo > 0 && t - T.t[lo - 1] < T.t[lo] - t) lo--;\n"
	"\t\tcursor.setAttribute('x1', X(T.t[lo]));\n"
	"\t\tcursor.setAttribute('x2', X(T.t[lo]));\n"
	"\t\tcursor.setAttribute('visibility', 'visible');\n"
	"\t\tshowTip(ev, ['t = ' + fmtTime(T.t[lo]), 'live heap: ' + fmtBytes(T.live[lo]),\n"
	"\t\t\t'RSS: ' + fmtBytes(T.rss[lo]), 'glibc in use: ' + fmtBytes(T.glibc[lo]),\n"
	"\t\t\t'allocations so far: ' + fmtCount(T.n[lo])]);\n"
	"\t});\n"
	"\tarea.addEventListener('mouseleave', function () {\n"
	"\t\tcursor.setAttribute('visibility', 'hidden');\n"
	"\t\thideTip();\n"
	"\t});\n"
	"}\n"
	"\n"
	"/* ---- flame graphs (icicle: the outermost call at the top) ---- */\n"
	"var flames = {};                  /* by container: zoom and query outlive a redraw */\n"
	"\n"
	"function flame(box, data, o) {\n"
	"\tfunction build(a, parent) {\n"
	"\t\tvar nd = { name: STR[a[0]], where: STR[a[1]], v: a[2], parent: parent };\n"
	"\t\tnd.kids = a[3].map(function (c) { return build(c, nd); });\n"
	"\t\tnd.kids.sort(function (x, y) { return y.v - x.v; });\n"
	"\t\treturn nd;\n"
	"\t}\n"
	"\tvar st = flames[box.id];\n"
	"\tif (!st) {\n"
	"\t\tst = flames[box.id] = { root: build(data, null), query: '' };\n"
	"\t\tst.root.name = o.rootName;\n"
	"\t\tst.focus = st.root;\n"
	"\t}\n"
	"\tvar root = st.root;\n"
	"\tif (!root.v) {\n"
	"\t\tadd(box, el('p', 'empty', o.empty));\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tvar bar = add(box, el('div', 'bar'));\n"
	"\tadd(bar, el('button', '', 'Reset zoom')).onclick = function () {\n"
	"\t\tst.focus = root;\n"
	"\t\tredraw();\n"
	"\t};\n"
	"\tvar q = add(bar, el('input'));\n"
	"\tq.placeholder = 'highlight functions matching...';\n"
	"\tq.value = st.query;\n"
	"\tq.oninput = function () { st.query = q.value; redraw(); };\n"
	"\tvar info = add(bar, el('span')), holder = add(box, el('div'));\n"
	"\tvar W = widthOf(box), RH = 18, nodes = [];\n"
	"\n"
	"\tfunction color(nd) {\n"
	"\t\tif (!nd.parent) return '#cbd2dc';\n"
	"\t\tvar h = hue(nd.name, o.hue, o.span);\n"
	"\t\treturn 'hsl(' + h + ',' + (62 + h % 17) + '%,' + (58 + h % 13) + '%)';\n"
	"\t}\n"
	"\tfunction drawNode(s, nd, x, w, row, cls) {\n"
	"\t\tvar g = sv(s, 'g', { 'data-i': nodes.length, 'class': cls });\n"
	"\t\tnodes.push(nd);\n"
	"\t\tsv(g, 'rect', { x: x, y: row * RH, width: Math.max(w, 0.5), height: RH - 1,\n"
	"\t\t\tfill: color(nd) });\n"
	"\t\tvar chars = Math.floor((w - 8) / 6.6);\n"
	"\t\tif (chars >= 3) {\n"
	"\t\t\tvar label = nd.name.length <= chars ? nd.name :\n"
	"\t\t\t\tnd.name.slice(0, chars - 1) + '\\u2026';\n"
	"\t\t\tsv(g, 'text', { x: x + 4, y: row * RH + 13 }, label);\n"
	"\t\t}\n"
	"\t\treturn g;\n"
	"\t}\n"
	"\tfunction redraw() {\n"
	"\t\tholder.textContent = '';\n"
	"\t\tnodes = [];\n"
	"\t\tvar f = st.focus, chain = [], matched = 0, query = st.query.toLowerCase();\n"
	"\t\tfor (var a = f.parent; a; a = a.parent) chain.unshift(a);\n"
	"\t\tvar s = sv(holder, 'svg', { width: W, height: RH, 'class': 'flame',\n"
	"\t\t\tid: box.id + '-svg' });\n"
	"\t\tchain.forEach(function (nd, row) { drawNode(s, nd, 0, W, row, 'anc'); });\n"
	"\t\tvar rows = chain.length;\n"
	"\t\t(function lay(nd, x, w, row) {\n"
	"\t\t\tif (w < 0.3) return;\n"
	"\t\t\tvar g = drawNode(s, nd, x, w, row, '');\n"
	"\t\t\tif (query && nd.name.toLowerCase().indexOf(query) >= 0) {\n"
	"\t\t\t\tg.setAttribute('class', 'hit');\n"
	"\t\t\t\tmatched += nd.v;\n"
	"\t\t\t}\n"
	"\t\t\trows = Math.max(rows, row + 1);\n"
	"\t\t\tnd.kids.forEach(function (c) {\n"
	"\t\t\t\tvar cw = w * c.v / nd.v;\n"
	"\t\t\t\tlay(c, x, cw, row + 1);\n"
	"\t\t\t\tx += cw;\n"
	"\t\t\t});\n"
	"\t\t})(f, 0, W, chain.length);\n"
	"\t\ts.setAttribute('height', rows * RH);\n"
	"\t\tinfo.textContent = '';\n"
	"\t\tif (f !== root)\n"
	"\t\t\tinfo.textContent = 'zoomed on ' + f.name + ' (' + pct(f.v, root.v) + '). ';\n"
	"\t\tif (query)\n"
	"\t\t\tinfo.textContent += 'Matching: ' + fmtBytes(matched) + ' (' +\n"
	"\t\t\t\tpct(matched, root.v) + ')';\n"
	"\t\thover(s, function (i) {\n"
	"\t\t\tvar nd = nodes[i], lines = [nd.name];\n"
	"\t\t\tif (nd.where) lines.push(nd.where);\n"
	"\t\t\tlines.push(fmtBytes(nd.v) + ' \\u2014 ' + pct(nd.v, root.v) + ' of ' + o.what +\n"
	"\t\t\t\t(f !== root ? ', ' + pct(nd.v, f.v) + ' of the zoomed frame' : ''));\n"
	"\t\t\tlines.push(nd === f && f !== root ? 'click to zoom out' : 'click to zoom');\n"
	"\t\t\treturn lines;\n"
	"\t\t}, function (i) {\n"
	"\t\t\tvar nd = nodes[i];\n"
	"\t\t\tst.focus = nd === st.focus && nd.parent ? nd.parent : nd;\n"
	"\t\t\thideTip();\n"
	"\t\t\tredraw();\n"
	"\t\t});\n"
	"\t}\n"
	"\tredraw();\n"
	"}\n"
	"\n"
	"/* ---- tables ---- */\n"
	"function renderSites(box) {\n"
	"\tvar lost = D.leaks ? [0, 1, 2] : [];\n"
	"\tfunction kind(r) { return r.kinds === 3 ? 'both' : KIND_NAMES[r.kinds - 1] || '-'; }\n"
	"\tfunction sizes(r) {\n"
	"\t\treturn fmtBytes(r.min) + (r.min === r.max ? '' : ' \\u2013 ' + fmtBytes(r.max));\n"
	"\t}\n"
	"\t/* a column: [heading, the row's value to sort on, the row's text] */\n"
	"\tfunction col(title, get, fmt) {\n"
	"\t\treturn [title, get, function (r) { return fmt(get(r)); }];\n"
	"\t}\n"
	"\tfunction field(name) { return function (r) { return r[name]; }; }\n"
	"\tvar C = {\n"
	"\t\tpeak: col('at the peak', field('peak'), fmtBytes),\n"
	"\t\tpeak_pct: col('% of peak', field('peak'),\n"
	"\t\t\tfunction (v) { return pct(v, D.peak.bytes); }),\n"
	"\t\tpeak_n: col('blocks at the peak', field('peak_n'), fmtCount),\n"
	"\t\tn: col('allocations', field('n'), fmtCount),\n"
	"\t\tbytes: col('bytes allocated', field('bytes'), fmtBytes),\n"
	"\t\ttemp_n: col('temporary', field('temp_n'), fmtCount),\n"
	"\t\ttemp_pct: col('% temporary', function (r) { return r.n ? r.temp_n / r.n : 0; },\n"
	"\t\t\tfunction (v) { return (100 * v).toFixed(1) + '%'; }),\n"
	"\t\ttemp: col('temporary bytes', field('temp'), fmtBytes),\n"
	"\t\tlive: col('leaked', field('live'), fmtBytes),\n"
	"\t\tlive_n: col('blocks', field('live_n'), fmtCount),\n"
	"\t\tsizes: ['sizes', field('max'), sizes],\n"
	"\t\tkind: ['allocator', kind, kind],\n"
	"\t};\n"
	"\tvar lostKeys = lost.map(function (c) {\n"
	"\t\tC['lost' + c] = col(LEAK_NAMES[c], function (r) { return r.lost[c]; }, fmtBytes);\n"
	"\t\treturn 'lost' + c;\n"
	"\t});\n"
	"\t/* [table, tab, columns, text when empty] */\n"
	"\tvar tabs = [\n"
	"\t\t['peak', 'Peak memory', ['peak', 'peak_pct', 'peak_n', 'n', 'sizes', 'kind'],\n"
	"\t\t\t'No block was live at the peak.'],\n"
	"\t\t['calls', 'Allocation calls', ['n', 'bytes', 'temp_n', 'peak', 'sizes', 'kind'],\n"
	"\t\t\t'No allocation in this trace.'],\n"
	"\t\t['temp', 'Temporary allocations', ['temp_n', 'temp_pct', 'temp', 'n', 'sizes'],\n"
	"\t\t\t'No temporary allocation (a block freed before its thread allocated another).'],\n"
	"\t\t['leaks', 'Leaks', ['live', 'live_n'].concat(lostKeys, ['sizes', 'kind']),\n"
	"\t\t\t'Nothing left allocated at exit.'],\n"
	"\t];\n"
	"\tvar bar = add(box, el('div', 'tabs')), panes = [];\n"
	"\ttabs.forEach(function (tb, ti) {\n"
	"\t\tvar b = add(bar, el('button', ti ? '' : 'on', tb[1])), pane = add(box, el('div'));\n"
	"\t\tpane.hidden = ti > 0;\n"
	"\t\tpanes.push([b, pane]);\n"
	"\t\tb.onclick = function () {\n"
	"\t\t\tpanes.forEach(function (p) {\n"
	"\t\t\t\tp[0].className = p[0] === b ? 'on' : '';\n"
	"\t\t\t\tp[1].hidden = p[0] !== b;\n"
	"\t\t\t});\n"
	"\t\t};\n"
	"\t\tvar rows = D.tables[tb[0]];\n"
	"\t\tif (!rows.length) {\n"
	"\t\t\tadd(pane, el('p', 'empty', tb[3]));\n"
	"\t\t\treturn;\n"
	"\t\t}\n"
	"\t\tvar t = add(pane, el('table', 'grid sortable'));\n"
	"\t\tt.id = 'table-' + tb[0];\n"
	"\t\tvar hr = add(add(t, el('thead')), el('tr')), body = add(t, el('tbody'));\n"
	"\t\tadd(hr, el('th', 'stack', 'call stack (innermost first)'));\n"
	"\t\tvar ths = tb[2].map(function (key) {\n"
	"\t\t\tvar th = add(hr, el('th', '', C[key][0]));\n"
	"\t\t\tth.dataset.key = key;\n"
	"\t\t\treturn th;\n"
	"\t\t});\n"
	"\t\tvar sortKey = tb[2][0], desc = true;\n"
	"\t\tfunction fill() {\n"
	"\t\t\tvar get = C[sortKey][1];\n"
	"\t\t\tvar sorted = rows.slice().sort(function (a, b) {\n"
	"\t\t\t\tvar x = get(a), y = get(b);\n"
	"\t\t\t\treturn (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);\n"
	"\t\t\t});\n"
	"\t\t\tbody.textContent = '';\n"
	"\t\t\tsorted.forEach(function (r) {\n"
	"\t\t\t\tvar tr = add(body, el('tr'));\n"
	"\t\t\t\tstackCell(add(tr, el('td', 'stack')), r, 3);\n"
	"\t\t\t\ttb[2].forEach(function (key) { add(tr, el('td', '', C[key][2](r))); });\n"
	"\t\t\t});\n"
	"\t\t\tths.forEach(function (th) {\n"
	"\t\t\t\tth.className = th.dataset.key === sortKey ? (desc ? 'down' : 'up') : '';\n"
	"\t\t\t});\n"
	"\t\t}\n"
	"\t\tths.forEach(function (th) {\n"
	"\t\t\tth.onclick = function () {\n"
	"\t\t\t\tif (sortKey === th.dataset.key) {\n"
	"\t\t\t\t\tdesc = !desc;\n"
	"\t\t\t\t} else {\n"
	"\t\t\t\t\tsortKey = th.dataset.key;\n"
	"\t\t\t\t\tdesc = true;\n"
	"\t\t\t\t}\n"
	"\t\t\t\tfill();\n"
	"\t\t\t};\n"
	"\t\t});\n"
	"\t\tfill();\n"
	"\t});\n"
	"}\n"
	"\n"
	"/* ---- fragmentation ---- */\n"
	"/* the parts of RSS: [field, name, colour, what it is] */\n"
	"var PARTS = [\n"
	"\t['pool_live', 'requested, in pool blocks', '#d9432f',\n"
	"\t\t'bytes the program asked for, in live pool blocks'],\n"
	"\t['pool_rounding', 'size-class rounding', '#f08a4b',\n"
	"\t\t'live pool blocks less the bytes requested'],\n"
	"\t['pool_free', 'free blocks', '#f6c343', 'free blocks in pools in use'],\n"
	"\t['pool_tails', 'pool tails', '#b9a36b',\n"
	"\t\t'the end of each pool, too small for one more block'],\n"
	"\t['pool_empty', 'empty pools', '#9c7fd1', 'empty pools kept, still resident'],\n"
	"\t['headers', 'arena headers', '#6b7a8f', 'the first page of each arena'],\n"
	"\t['glibc', 'glibc in use', '#2f9e5b',\n"
	"\t\t'blocks above 512 B, and those allocated before the library'],\n"
	"\t['other', 'other RSS', '#a9b6c6',\n"
	"\t\t'code, stacks, libraries, glibc free lists, the profiler'],\n"
	"];\n"
	"\n"
	"function breakdown(box, P) {\n"
	"\tvar total = sum(PARTS.map(function (p) { return P[p[0]]; }));\n"
	"\tvar W = widthOf(box), x = 0;\n"
	"\tvar s = sv(box, 'svg', { width: W, height: 34, 'class': 'frag-bar' });\n"
	"\tPARTS.forEach(function (p, i) {\n"
	"\t\tvar w = total ? W * P[p[0]] / total : 0;\n"
	"\t\tif (w > 0)\n"
	"\t\t\tsv(sv(s, 'g', { 'data-i': i }), 'rect',\n"
	"\t\t\t   { x: x, y: 2, width: w, height: 30, fill: p[2] });\n"
	"\t\tx += w;\n"
	"\t});\n"
	"\thover(s, function (i) {\n"
	"\t\tvar p = PARTS[i];\n"
	"\t\treturn [p[1], fmtBytes(P[p[0]]) + ' (' + pct(P[p[0]], P.rss) + ' of RSS)', p[3]];\n"
	"\t});\n"
	"\tvar t = add(box, el('table', 'grid'));\n"
	"\tt.style.width = 'auto';\n"
	"\tPARTS.forEach(function (p) {\n"
	"\t\tvar tr = add(t, el('tr')), name = add(tr, el('td', 'stack'));\n"
	"\t\tadd(name, el('span', 'swatch')).style.background = p[2];\n"
	"\t\tadd(name, document.createTextNode(p[1]));\n"
	"\t\tadd(tr, el('td', '', fmtBytes(P[p[0]])));\n"
	"\t\tadd(tr, el('td', '', pct(P[p[0]], P.rss)));\n"
	"\t\tadd(tr, el('td', 'loc stack', p[3]));\n"
	"\t});\n"
	"\tadd(box, el('p', 'note', fmtCount(P.arenas) + ' arenas mapped; pool memory ' +\n"
	"\t\t'resident: ' + fmtBytes(P.pool_resident) + '; arena space never carved or ' +\n"
	"\t\t'purged (not resident): ' + fmtBytes(P.untouched) + '.'));\n"
	"}\n"
	"\n"
	"/* sn.classes: [size, blocks used, free, cached, pools used, full, empty, requested] */\n"
	"function classChart(box, sn) {\n"
	"\tvar cls = sn.classes.filter(function (c) {\n"
	"\t\treturn c[1] || c[2] || c[3] || c[4] || c[6];\n"
	"\t});\n"
	"\tif (!cls.length) {\n"
	"\t\tadd(box, el('p', 'empty', 'No pool in use.'));\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tfunction bytes(k) { return cls.map(function (c) { return c[k] * c[0]; }); }\n"
	"\tcolumns(box, {\n"
	"\t\tlabels: cls.map(function (c) { return String(c[0]); }), kind: 'bytes',\n"
	"\t\txname: 'block size (bytes)',\n"
	"\t\tseries: [\n"
	"\t\t\t{ name: 'blocks in use', color: '#d9432f', values: bytes(1) },\n"
	"\t\t\t{ name: 'free blocks', color: '#f6c343', values: bytes(2) },\n"
	"\t\t],\n"
	"\t\ttip: function (i) {\n"
	"\t\t\tvar c = cls[i];\n"
	"\t\t\treturn ['size class ' + c[0] + ' B',\n"
	"\t\t\t\tfmtCount(c[1]) + ' blocks in use (' + fmtBytes(c[1] * c[0]) + '), ' +\n"
	"\t\t\t\tfmtCount(c[3]) + ' of them cached by threads',\n"
	"\t\t\t\tfmtCount(c[2]) + ' free blocks (' + fmtBytes(c[2] * c[0]) + ')',\n"
	"\t\t\t\t'pools: ' + fmtCount(c[4]) + ' in use, ' + fmtCount(c[5]) + ' full, ' +\n"
	"\t\t\t\tfmtCount(c[6]) + ' empty',\n"
	"\t\t\t\t'requested (estimate): ' + fmtBytes(c[7])];\n"
	"\t\t},\n"
	"\t});\n"
	"}\n"
	"\n"
	"function occupancyChart(box, occ) {\n"
	"\tif (!sum(occ)) {\n"
	"\t\tadd(box, el('p', 'empty', 'No arena mapped.'));\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tcolumns(box, {\n"
	"\t\tlabels: occ.map(function (_, i) { return i * 10 + '%'; }), kind: 'count',\n"
	"\t\txname: 'bytes in live blocks / arena pool bytes',\n"
	"\t\tseries: [{ name: 'arenas', color: '#3b6fd0', values: occ }],\n"
	"\t\ttip: function (i) {\n"
	"\t\t\treturn [i * 10 + '% to ' + (i + 1) * 10 + '% full', fmtCount(occ[i]) + ' arenas'];\n"
	"\t\t},\n"
	"\t});\n"
	"}\n"
	"\n"
	"function pinnedTable(box) {\n"
	"\tadd(box, el('h3', '', 'Pinned arenas'));\n"
	"\tif (!D.pinned.length) {\n"
	"\t\tadd(box, el('p', 'empty', 'No arena held by only a few live blocks.'));\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tadd(box, el('p', 'note', 'Arenas kept mapped by at most a handful of live blocks, ' +\n"
	"\t\t'and whose blocks they are.'));\n"
	"\tvar t = add(box, el('table', 'grid'));\n"
	"\tvar hr = add(add(t, el('thead')), el('tr')), tb = add(t, el('tbody'));\n"
	"\t['snapshot', 'arena', 'live blocks', 'bytes', 'held by'].forEach(function (h, i) {\n"
	"\t\tadd(hr, el('th', i === 4 ? 'stack' : '', h));\n"
	"\t});\n"
	"\tD.pinned.forEach(function (a) {\n"
	"\t\tvar tr = add(tb, el('tr'));\n"
	"\t\tadd(tr, el('td', '', a.kind + ' (' + fmtTime(a.time) + ')'));\n"
	"\t\tadd(tr, el('td', 'mono', a.base));\n"
	"\t\tadd(tr, el('td', '', fmtCount(a.blocks)));\n"
	"\t\tadd(tr, el('td', '', fmtBytes(a.bytes)));\n"
	"\t\tvar td = add(tr, el('td', 'stack'));\n"
	"\t\ta.infos.forEach(function (inf) {\n"
	"\t\t\tvar d = add(td, el('div'));\n"
	"\t\t\tadd(d, el('div', '', fmtCount(inf.count) + ' \\u00d7 ' + fmtBytes(inf.size) +\n"
	"\t\t\t\t' from'));\n"
	"\t\t\tstackCell(add(d, el('div')), inf, 2);\n"
	"\t\t});\n"
	"\t});\n"
	"}\n"
	"\n"
	"function renderFrag(box) {\n"
	"\tif (!D.frag.length)\n"
	"\t\tadd(box, el('p', 'empty', 'No full snapshot of the allocator in this trace ' +\n"
	"\t\t\t'(the program ended before one was taken).'));\n"
	"\tD.frag.forEach(function (sn) {\n"
	"\t\tadd(box, el('h3', '', (sn.kind === 'peak' ? 'At the peak' : 'At exit') +\n"
	"\t\t\t' (t = ' + fmtTime(sn.time) + '): RSS ' + fmtBytes(sn.parts.rss)));\n"
	"\t\tbreakdown(box, sn.parts);\n"
	"\t\tvar cols = add(box, el('div', 'cols')), left = add(cols, el('div'));\n"
	"\t\tvar right = add(cols, el('div'));\n"
	"\t\tadd(left, el('h3', '', 'Size classes'));\n"
	"\t\tadd(right, el('h3', '', 'Arena occupancy'));\n"
	"\t\tclassChart(left, sn);\n"
	"\t\toccupancyChart(right, sn.occupancy);\n"
	"\t});\n"
	"\tpinnedTable(box);\n"
	"}\n"
	"\n"
	"/* ---- size histogram ---- */\n"
	"function renderSizes(box) {\n"
	"\tvar H = D.hist, idx = [];\n"
	"\tH.n.forEach(function (v, i) { if (v || idx.length) idx.push(i); });\n"
	"\twhile (idx.length && !H.n[idx[idx.length - 1]]) idx.pop();\n"
	"\tif (!idx.length) {\n"
	"\t\tadd(box, el('p', 'empty', 'No allocation in this trace.'));\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tfunction range(i) {\n"
	"\t\tvar l = H.low[i];\n"
	"\t\treturn l <= 1 ? l + ' B' : fmtBytes(l) + ' \\u2013 ' + fmtBytes(2 * l - 1);\n"
	"\t}\n"
	"\tfunction short(l) {\n"
	"\t\treturn l >= 1 << 30 ? l / (1 << 30) + 'G' : l >= 1 << 20 ? l / (1 << 20) + 'M' :\n"
	"\t\t\tl >= 1024 ? l / 1024 + 'K' : String(l);\n"
	"\t}\n"
	"\tvar labels = idx.map(function (i) { return short(H.low[i]); });\n"
	"\tfunction tipOf(j) {\n"
	"\t\tvar i = idx[j];\n"
	"\t\treturn ['requested ' + range(i),\n"
	"\t\t\tfmtCount(H.n[i]) + ' allocations (' + pct(H.n[i], sum(H.n)) + ')',\n"
	"\t\t\tfmtBytes(H.bytes[i]) + ' (' + pct(H.bytes[i], sum(H.bytes)) + ' of the bytes)'];\n"
	"\t}\n"
	"\t/* [title, y axis, colour, values]; both columns made before either chart */\n"
	"\tvar charts = [['Allocations', 'count', '#3b6fd0', H.n],\n"
	"\t              ['Bytes', 'bytes', '#d9432f', H.bytes]];\n"
	"\tvar cols = add(box, el('div', 'cols'));\n"
	"\tvar boxes = charts.map(function (c) {\n"
	"\t\tvar d = add(cols, el('div'));\n"
	"\t\tadd(d, el('h3', '', c[0]));\n"
	"\t\treturn d;\n"
	"\t});\n"
	"\tcharts.forEach(function (c, k) {\n"
	"\t\tcolumns(boxes[k], { labels: labels, kind: c[1], tip: tipOf,\n"
	"\t\t\txname: 'requested size from (bytes)', series: [{ name: c[0], color: c[2],\n"
	"\t\t\tvalues: idx.map(function (i) { return c[3][i]; }) }] });\n"
	"\t});\n"
	"}\n"
	"\n"
	"/* ---- all of it: [container, renderer, redrawn to the new width on a resize] ---- */\n"
	"var parts = [\n"
	"\t['summary-body', renderSummary, false],\n"
	"\t['timeline-body', renderTimeline, true],\n"
	"\t['flame-peak', function (box) {\n"
	"\t\tflame(box, D.flame_peak, { rootName: 'all: the heap at its peak', what: 'the peak',\n"
	"\t\t\thue: 0, span: 55,\n"
	"\t\t\tempty: 'No block was live at the peak: the trace has no allocation.' });\n"
	"\t}, true],\n"
	"\t['flame-leaks', function (box) {\n"
	"\t\tflame(box, D.flame_leaks, { rootName: 'all: left at exit', what: 'the leaks',\n"
	"\t\t\thue: 195, span: 70, empty: 'Nothing was left allocated at exit.' });\n"
	"\t}, true],\n"
	"\t['sites-body', renderSites, false],\n"
	"\t['frag-body', renderFrag, true],\n"
	"\t['sizes-body', renderSizes, true],\n"
	"];\n"
	"function render(resizing) {\n"
	"\tparts.forEach(function (p) {\n"
	"\t\tif (resizing && !p[2]) return;\n"
	"\t\tvar box = $(p[0]);\n"
	"\t\tbox.textContent = '';\n"
	"\t\tp[1](box);\n"
	"\t});\n"
	"}\n"
	"render(false);\n"
	"var lastWidth = window.innerWidth, timer = 0;\n"
	"window.addEventListener('resize', function () {\n"
	"\tclearTimeout(timer);\n"
	"\ttimer = setTimeout(function () {\n"
	"\t\tif (window.innerWidth !== lastWidth) {\n"
	"\t\t\tlastWidth = window.innerWidth;\n"
	"\t\t\trender(true);\n"
	"\t\t}\n"
	"\t}, 150);\n"
	"});\n"
	"document.body.dataset.ptStatus = 'ok';\n"
	"})();\n";

/* The whole page into page. */
static void build_page(struct pt_view *v, struct pt_buf *page)
{
	static const char data_open[] = "<script type=\"application/json\" id=\"pt-data\">";
	static const char script_open[] = "</script>\n<script>\n";
	static const char page_end[] = "</script>\n</body>\n</html>\n";
	struct html *h = pt_xcalloc(1, sizeof *h);
	h->j.b = page;
	h->v = v;
	h->p = &v->p;
	pt_buf_put(page, page_head, sizeof page_head - 1);
	pt_buf_put(page, data_open, sizeof data_open - 1);
	put_data(h);
	pt_buf_put(page, script_open, sizeof script_open - 1);
	pt_buf_put(page, page_script, sizeof page_script - 1);
	pt_buf_put(page, page_end, sizeof page_end - 1);
	pt_strtab_free(&h->str);
	free(h->used);
	free(h->order);
	free(h);
}

/* The page of v into the file out: 0, or 2 after one error line.  A
 * regular file left incomplete is removed. */
static int write_page(struct pt_view *v, const char *out)
{
	struct pt_buf page = { 0 };
	build_page(v, &page);
	FILE *f = pt_output_open(out);
	if (f)
		fwrite(page.s, 1, page.len, f);
	free(page.s);
	return f ? pt_output_close(f, out) : 2;
}

int pt_cmd_html(int argc, char **argv)
{
	const char *out = NULL, *path = NULL;
	for (int i = 0; i < argc; i++) {
		int rc = pt_opt_output("html", argc, argv, &i, &out);
		if (rc < 0)
			rc = pt_opt_trace("html", argv[i], &path, 1);
		if (rc)
			return rc;
	}
	if (!path)
		return pt_opt_no_trace("html");

	char *def = NULL;
	if (!out) {
		def = pt_xmalloc(strlen(path) + sizeof ".html");
		out = strcat(strcpy(def, path), ".html");
	}
	struct pt_view v;
	int rc = pt_view_open(&v, path);
	if (!rc) {
		rc = write_page(&v, out);
		pt_view_close(&v);
	}
	free(def);
	return rc;
}
