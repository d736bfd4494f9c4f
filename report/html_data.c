/*
 * html_data.c - the figures of a trace as the JSON document the HTML page
 * is drawn from (html.h): the summary, the timeline, the stacks (one call
 * tree, from which the page draws the flame graphs of the heap at its peak,
 * of what was left at exit and of any time range), the top sites by four
 * measures, the fragmentation of the peak and exit snapshots, the pinned
 * arenas, the histogram of requested sizes.
 *
 * Frame names and locations are given once, in the document's "strings"
 * array, and referred to by their index there; each frame of the call tree
 * once, in "stacks"; each stack once, as a node of that tree.  Strings are
 * written by
 * pt_buf_json, so that the document holds no '<' and nothing can end the
 * <script> element it goes in.  The keys and shapes are what
 * the scripts of report/html/ read.
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
 * holds only the strings the page uses. */
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

/* ---- stacks ------------------------------------------------------------------ */

/*
 * Every stack the page shows, each written once, for the flame graphs and
 * the time ranges alike ("stacks"):
 *
 *   frames  [name, where] pairs, flat (where: the file, or the module), the
 *           frames of the most nodes first (the smallest indices)
 *   tree    the call tree of all the stacks, in preorder: a frame index
 *           (>= 0) is a new node under the current one, which it becomes;
 *           -k goes k levels up.  Node 0 is the root, the others are
 *           numbered in the order they come.
 *
 * A stack is a node, its frames the path to it from the root, outermost
 * first: "[truncated]" first for a stack cut at the recording's depth,
 * "(stack not recorded)" alone for none.  Calls from different lines of a
 * function are one frame, as in heaptrack's flame graph (the tables give
 * the lines), so the sites of one node are one stack of "sites" (by node,
 * ascending): "node", each one's node less the one before; "peak", "live":
 * bytes live at the peak, at exit.  The page builds the flame graphs from
 * these (any node is as wide as the stacks under it).
 */
struct tree {
	struct tnode {
		uint32_t parent, name, where;
		uint32_t child, next;     /* first child, next sibling; 0: none */
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

/* A site the page shows: live at the peak or at exit, or (pt_profile_steps)
 * allocating in some step. */
static int site_shown(const struct pt_site *s)
{
	return s->peak_bytes || s->live_bytes || (s->nsteps && s->n_alloc);
}

/* The call tree of the sites shown, and each one's node (UINT32_MAX: not
 * shown) into node[]. */
static void tree_build(struct html *h, struct tree *t, uint32_t *node)
{
	const struct pt_profile *p = h->p;
	struct fref none = { pt_strtab_intern(&h->str, "(stack not recorded)"),
	                     pt_strtab_intern(&h->str, "") };
	struct fref cut = { pt_strtab_intern(&h->str, "[truncated]"), none.where };
	tree_new(t, 0, none.name, none.where);
	for (size_t i = 0; i < p->nsites; i++) {
		const struct pt_site *s = &p->site[i];
		node[i] = UINT32_MAX;
		if (!site_shown(s))
			continue;
		size_t n = pt_view_frames(h->v, s->stack, h->fr, PT_VIEW_MAX_FRAMES);
		uint32_t at = 0;
		if (!n)
			at = tree_child(t, at, none);
		else if (pt_trace_stack_cut(p->t, s->stack))
			at = tree_child(t, at, cut);
		for (size_t k = n; k-- > 0;)
			at = tree_child(t, at, frame_ref(h, h->fr[k], 0));
		node[i] = at;
	}
}

struct frame_use {                /* a frame of the tree: its nodes, first node */
	uint32_t count, first;
};

static int by_use(const void *a, const void *b)
{
	const struct frame_use *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

/* Writing the tree: frame[i], node i's frame index; pre[i], its number in
 * preorder; up, the levels to go up before the next node. */
struct tree_out {
	const struct tree *t;
	const uint32_t *frame;
	uint32_t *pre, next;
	uint64_t up;
};

static void put_subtree(struct pt_json *j, struct tree_out *o, uint32_t i)
{
	for (uint32_t c = o->t->n[i].child; c; c = o->t->n[c].next) {
		if (o->up) {
			pt_json_i64(j, NULL, -(int64_t)o->up);
			o->up = 0;
		}
		pt_json_u64(j, NULL, o->frame[c]);
		o->pre[c] = o->next++;
		put_subtree(j, o, c);
		o->up++;
	}
}

/* "frames" and "tree" of t (above); into pre[], each node's number in
 * preorder. */
static void put_tree(struct html *h, const struct tree *t, uint32_t *pre)
{
	struct pt_json *j = &h->j;
	struct pt_strtab keys = { 0 };      /* "name where" -> frame */
	uint32_t *frame = pt_xcalloc(t->len, sizeof *frame);
	struct frame_use *use = pt_xcalloc(t->len, sizeof *use);
	size_t nframes = 0;
	for (size_t i = 1; i < t->len; i++) {
		char key[32];
		snprintf(key, sizeof key, "%u %u", t->n[i].name, t->n[i].where);
		frame[i] = pt_strtab_intern(&keys, key);
		if (frame[i] == nframes)
			use[nframes++] = (struct frame_use){ .first = (uint32_t)i };
		use[frame[i]].count++;
	}
	qsort(use, nframes, sizeof *use, by_use);
	uint32_t *rank = pt_xcalloc(nframes + 1, sizeof *rank);
	pt_json_open(j, "frames", '[');
	for (size_t r = 0; r < nframes; r++) {
		const struct tnode *x = &t->n[use[r].first];
		rank[frame[use[r].first]] = (uint32_t)r;
		j_strref(h, x->name);
		j_strref(h, x->where);
	}
	pt_json_close(j, ']');
	for (size_t i = 1; i < t->len; i++)
		frame[i] = rank[frame[i]];
	struct tree_out o = { .t = t, .frame = frame, .pre = pre, .next = 1 };
	pt_json_open(j, "tree", '[');
	put_subtree(j, &o, 0);
	pt_json_close(j, ']');
	free(rank);
	free(use);
	free(frame);
	pt_strtab_free(&keys);
}

/* ---- time ranges ------------------------------------------------------------- */

/* A stack's record of one timeline point (as emitted, grouped as
 * put_timeline groups them): blocks and bytes allocated and freed in the
 * step. */
struct rec {
	uint32_t at;
	uint64_t v[4];
};

static int by_at(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	return (x->at > y->at) - (x->at < y->at);
}

/*
 * The records of the n sites site[] (of one node) as one stack's, flat, 5
 * numbers a point in which it allocated or freed: the point less the one
 * of the record before (0 for the first), blocks and bytes allocated in the
 * step, blocks and bytes freed in it.  Blocks and bytes live at the end of
 * a step are those allocated up to it less those freed (what the page
 * sums: pt_profile_steps).
 */
static void put_steps(struct html *h, struct pt_site *const *site, size_t n,
                      struct rec **buf, size_t *cap)
{
	struct pt_json *j = &h->j;
	const struct pt_profile *p = h->p;
	size_t per = p->npoints > TIMELINE_MAX ? (p->npoints + TIMELINE_MAX - 1) / TIMELINE_MAX : 1;
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pt_site *s = site[i];
		uint64_t live_n = 0, live_bytes = 0;
		for (size_t k = 0; s->n_alloc && k < s->nsteps;) {
			size_t at = s->step[k].point / per;
			struct rec r = { .at = (uint32_t)at };
			const struct pt_step *st = &s->step[k];
			for (; k < s->nsteps && s->step[k].point / per == at; k++) {
				st = &s->step[k];
				r.v[0] += st->n;
				r.v[1] += st->bytes;
			}
			/* live only falls by frees, rises by allocations */
			r.v[2] = live_n + r.v[0] - st->live_n;
			r.v[3] = live_bytes + r.v[1] - st->live_bytes;
			live_n = st->live_n;
			live_bytes = st->live_bytes;
			if (len == *cap) {
				*cap = *cap ? 2 * *cap : 256;
				*buf = pt_xrealloc(*buf, *cap * sizeof **buf);
			}
			(*buf)[len++] = r;
		}
	}
	struct rec *r = *buf;
	if (len)                  /* none yet: buf is NULL */
		qsort(r, len, sizeof *r, by_at);
	pt_json_open(j, NULL, '[');
	uint32_t last = 0;
	for (size_t i = 0; i < len;) {
		struct rec sum = r[i];
		for (i++; i < len && r[i].at == sum.at; i++)
			for (unsigned c = 0; c < 4; c++)
				sum.v[c] += r[i].v[c];
		pt_json_u64(j, NULL, sum.at - last);
		for (unsigned c = 0; c < 4; c++)
			pt_json_u64(j, NULL, sum.v[c]);
		last = sum.at;
	}
	pt_json_close(j, ']');
}

struct sref {                     /* a site shown: its node (preorder), itself */
	uint32_t node;
	struct pt_site *site;
};

static int by_node(const void *a, const void *b)
{
	const struct sref *x = a, *y = b;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return (x->site > y->site) - (x->site < y->site);
}

/* "stacks" and "sites" (above), and with pt_profile_steps "range":
 * "steps", each stack's records (put_steps), in the order of "sites". */
static void put_stacks(struct html *h)
{
	struct pt_json *j = &h->j;
	struct pt_profile *p = h->p;
	struct tree t = { 0 };
	uint32_t *node = pt_xcalloc(p->nsites + 1, sizeof *node);
	tree_build(h, &t, node);
	uint32_t *pre = pt_xcalloc(t.len, sizeof *pre);
	pt_json_open(j, "stacks", '{');
	put_tree(h, &t, pre);
	pt_json_close(j, '}');

	struct sref *sr = pt_xcalloc(p->nsites + 1, sizeof *sr);
	size_t n = 0;
	for (size_t i = 0; i < p->nsites; i++)
		if (node[i] != UINT32_MAX)
			sr[n++] = (struct sref){ pre[node[i]], &p->site[i] };
	qsort(sr, n, sizeof *sr, by_node);
	/* a stack: the run of sites of one node */
	pt_json_open(j, "sites", '{');
	static const struct { const char *key; size_t off; } col[] = {
		{ "node", 0 },
		{ "peak", offsetof(struct pt_site, peak_bytes) },
		{ "live", offsetof(struct pt_site, live_bytes) },
	};
	for (unsigned c = 0; c < sizeof col / sizeof col[0]; c++) {
		pt_json_open(j, col[c].key, '[');
		uint32_t last = 0;
		for (size_t i = 0; i < n;) {
			uint64_t v = 0;
			size_t k = i;
			for (; k < n && sr[k].node == sr[i].node; k++)
				v += c ? pt_site_counter(sr[k].site, col[c].off) : 0;
			pt_json_u64(j, NULL, c ? v : sr[i].node - last);
			last = sr[i].node;
			i = k;
		}
		pt_json_close(j, ']');
	}
	pt_json_close(j, '}');

	if (pt_profile_steps) {
		struct pt_site **site = pt_xcalloc(n + 1, sizeof *site);
		struct rec *buf = NULL;
		size_t cap = 0;
		pt_json_open(j, "range", '{');
		pt_json_open(j, "steps", '[');
		for (size_t i = 0; i < n;) {
			size_t k = 0;
			for (uint32_t at = sr[i].node; i < n && sr[i].node == at; i++)
				site[k++] = sr[i].site;
			put_steps(h, site, k, &buf, &cap);
		}
		pt_json_close(j, ']');
		pt_json_close(j, '}');
		free(buf);
		free(site);
	}
	free(sr);
	free(pre);
	free(node);
	free(t.n);
	free(t.slot);
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
	pt_json_u64(j, "meshed", f.meshed);
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
	put_stacks(h);
	put_tables(h);
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
