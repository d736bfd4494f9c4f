/*
 * cmd_diff.c - pooltrace diff [--by peak|leaked|calls] [--top N]
 * [--frames N] BASE NEW: the growth of each stack from one trace to the
 * other, biggest first.  Stacks are matched by their symbolized frames
 * (function, file and line), not by address, so that two runs compare
 * wherever their modules were loaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "util.h"
#include "view.h"

/* Stacks of two traces are matched by their symbolized frames: the text
 * of a stack is its key, interned; its id indexes the sites. */
struct dsite {
	const char *key;
	uint32_t stack[2];        /* a stack id in each trace (0: none) */
	uint64_t peak[2], leaked[2], calls[2];
};

struct dmap {
	struct pt_strtab keys;
	struct dsite *s;          /* by key id */
	size_t cap;
};

static struct dsite *dmap_get(struct dmap *m, const char *key)
{
	uint32_t id = pt_strtab_intern(&m->keys, key);
	if (id >= m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		m->s = pt_xrealloc(m->s, cap * sizeof *m->s);
		memset(m->s + m->cap, 0, (cap - m->cap) * sizeof *m->s);
		m->cap = cap;
	}
	m->s[id].key = m->keys.str[id];
	return &m->s[id];
}

/* The text of a stack: a line per frame, "func (file:line)" or "func". */
static void stack_key(struct pt_buf *k, struct pt_view *v, uint32_t stack)
{
	const struct pt_frame *fr[PT_VIEW_MAX_FRAMES];
	size_t n = pt_view_frames(v, stack, fr, sizeof fr / sizeof fr[0]);
	k->len = 0;
	pt_buf_put(k, "", 0);
	for (size_t i = 0; i < n; i++)
		if (fr[i]->file)
			pt_buf_printf(k, "%s (%s:%u)\n", pt_sym_name(v->sym, fr[i]), fr[i]->file,
			              fr[i]->line);
		else
			pt_buf_printf(k, "%s\n", pt_sym_name(v->sym, fr[i]));
}

static const char *diff_by;

/* to - from, saturated to [-INT64_MAX, INT64_MAX]: counters are unsigned
 * and a damaged trace may hold any value */
static int64_t growth(uint64_t from, uint64_t to)
{
	if (to >= from)
		return to - from > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(to - from);
	return from - to > (uint64_t)INT64_MAX ? -INT64_MAX : -(int64_t)(from - to);
}

static int64_t diff_of(const struct dsite *d)
{
	if (strcmp(diff_by, "leaked") == 0)
		return growth(d->leaked[0], d->leaked[1]);
	if (strcmp(diff_by, "calls") == 0)
		return growth(d->calls[0], d->calls[1]);
	return growth(d->peak[0], d->peak[1]);
}

static int by_growth(const void *a, const void *b)
{
	const struct dsite *x = *(struct dsite *const *)a, *y = *(struct dsite *const *)b;
	int64_t dx = diff_of(x), dy = diff_of(y);
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->key, y->key);
}

static const char *signed_bytes(char *buf, size_t cap, int64_t v)
{
	char b[32];
	snprintf(buf, cap, "%s%s", v < 0 ? "-" : "+", pt_fmt_bytes(b, sizeof b,
	         (uint64_t)(v < 0 ? -v : v)));
	return buf;
}

struct diff_opts {
	struct pt_listing list;
	const char *path[2];      /* BASE, NEW */
	const char *by;
};

static int parse_diff(int argc, char **argv, struct diff_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = pt_opt_listing("diff", argc, argv, &i, &o->list);
		if (rc >= 0) {
			if (rc)
				return rc;
		} else if (strcmp(a, "--by") == 0) {
			if (!v || (strcmp(v, "peak") && strcmp(v, "leaked") && strcmp(v, "calls")))
				return pt_usage_error("diff: --by takes peak, leaked or calls, not '%s'",
				                      v ? v : "");
			o->by = v;
			i++;
		} else if ((rc = pt_opt_trace("diff", a, o->path, 2))) {
			return rc;
		}
	}
	return o->path[1] ? 0 : pt_usage_error("diff: needs two traces, BASE and NEW");
}

int pt_cmd_diff(int argc, char **argv)
{
	struct diff_opts o = { .list = { .top = 20, .frames = 8 }, .by = "peak" };
	int rc = parse_diff(argc, argv, &o);
	if (rc)
		return rc;
	struct pt_view v[2];
	if ((rc = pt_view_open(&v[0], o.path[0])))
		return rc;
	if ((rc = pt_view_open(&v[1], o.path[1]))) {
		pt_view_close(&v[0]);
		return rc;
	}
	struct dmap m = { 0 };
	struct pt_buf key = { 0 };
	for (int t = 0; t < 2; t++)
		for (size_t i = 0; i < v[t].p.nsites; i++) {
			const struct pt_site *s = &v[t].p.site[i];
			if (!s->n_alloc)
				continue;
			stack_key(&key, &v[t], s->stack);
			struct dsite *d = dmap_get(&m, key.s);
			d->stack[t] = s->stack;
			d->peak[t] += s->peak_bytes;
			d->leaked[t] += s->live_bytes;
			d->calls[t] += s->n_alloc;
		}
	free(key.s);
	struct dsite **row = pt_xcalloc(m.keys.n + 1, sizeof *row);
	size_t n = 0;
	for (size_t i = 0; i < m.keys.n; i++)
		if (m.s[i].peak[0] != m.s[i].peak[1] || m.s[i].leaked[0] != m.s[i].leaked[1] ||
		    m.s[i].calls[0] != m.s[i].calls[1])
			row[n++] = &m.s[i];
	diff_by = o.by;
	qsort(row, n, sizeof *row, by_growth);

	FILE *f = stdout;
	const struct pt_profile *a = &v[0].p, *b = &v[1].p;
	char s1[40], s2[40], s3[40];
	fprintf(f, "pooltrace diff: %s -> %s\n", o.path[0], o.path[1]);
	fprintf(f, "peak heap:  %s -> %s (%s)\n", PT_B(a->peak), PT_B(b->peak),
	        signed_bytes(s1, sizeof s1, growth(a->peak, b->peak)));
	fprintf(f, "peak RSS:   %s -> %s (%s)\n", PT_B(a->peak_rss), PT_B(b->peak_rss),
	        signed_bytes(s1, sizeof s1, growth(a->peak_rss, b->peak_rss)));
	fprintf(f, "not freed:  %s -> %s (%s)\n", PT_B(a->live), PT_B(b->live),
	        signed_bytes(s1, sizeof s1, growth(a->live, b->live)));
	uint64_t ca = a->n_alloc[0] + a->n_alloc[1], cb = b->n_alloc[0] + b->n_alloc[1];
	fprintf(f, "allocations: %s -> %s (%+lld)\n", PT_N(ca), PT_N(cb),
	        (long long)growth(ca, cb));
	fprintf(f, "\nSITES BY GROWTH OF %s (biggest first)\n",
	        strcmp(o.by, "leaked") == 0 ? "BYTES NOT FREED" :
	        strcmp(o.by, "calls") == 0 ? "ALLOCATIONS" : "LIVE BYTES AT THE PEAK");
	if (!n)
		fprintf(f, "  no change\n");
	for (size_t i = 0; i < n && i < o.list.top; i++) {
		struct dsite *d = row[i];
		fprintf(f, "%2zu) peak %s, not freed %s, allocations %+lld%s\n", i + 1,
		        signed_bytes(s2, sizeof s2, growth(d->peak[0], d->peak[1])),
		        signed_bytes(s3, sizeof s3, growth(d->leaked[0], d->leaked[1])),
		        (long long)growth(d->calls[0], d->calls[1]),
		        !d->calls[0] ? " (new)" : !d->calls[1] ? " (gone)" : "");
		int t = d->calls[1] ? 1 : 0;
		pt_print_stack(f, &v[t], d->stack[t], (unsigned)o.list.frames, "      ");
	}
	if (n > o.list.top)
		fprintf(f, "    ... %zu more sites changed\n", n - o.list.top);
	pt_strtab_free(&m.keys);
	free(m.s);
	free(row);
	pt_view_close(&v[1]);
	pt_view_close(&v[0]);
	return 0;
}
