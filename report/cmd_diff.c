/*
 * cmd_diff.c - pooltrace diff [--by peak|leaked|calls] [--fail-on-growth
 * SIZE[%]] [--top N] [--frames N] [--bytes] [--json] BASE NEW: the growth
 * of each stack from one trace to the other, biggest first.  Stacks are
 * matched by their symbolized frames (function, file and line), not by
 * address, so that two runs compare wherever their modules were loaded.
 * --fail-on-growth makes a growth of the total past it exit status 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "output.h"
#include "report_json.h"
#include "util.h"
#include "view.h"

static const char usage[] =
	"usage: pooltrace diff [--by peak|leaked|calls] [--fail-on-growth SIZE[%]]\n"
	"                      [--top N] [--frames N] [--bytes] [--json]\n"
	"                      [--native] BASE NEW\n"
	"\n"
	"The growth of each allocation site from trace BASE to trace NEW, biggest\n"
	"first; sites are matched by their symbolized stacks.\n"
	"\n"
	"  --by peak|leaked|calls   live bytes at the peak (default), bytes not\n"
	"                           freed, or allocations\n"
	"  --fail-on-growth SIZE[%] exit 1 if the total of that measure grows by more\n"
	"                           than SIZE (bytes, suffix k, M, G; allocations for\n"
	"                           --by calls), or by more than SIZE% of BASE's\n"
	"  --top N                  sites listed (default 20)\n"
	"  --frames N               frames printed per stack (default 8)\n"
	"  --bytes                  exact byte counts instead of KiB, MiB...\n"
	"  --json                   the JSON document of pooltrace(1), JSON OUTPUT\n"
	"  --native                 the Python interpreter's own native frames too\n";

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
	const char *limit_text;   /* --fail-on-growth as written, or NULL */
	unsigned long long limit; /* in the measure's unit */
	double limit_pct;         /* or a percentage of BASE's total (>= 0) */
};

enum { OPT_BY, OPT_FAIL };

static int parse_diff(int argc, char **argv, struct diff_opts *o)
{
	static const struct pt_optdef defs[] = {
		PT_LISTING_OPTS,
		{ "by", 0, 1, OPT_BY },
		{ "fail-on-growth", 0, 1, OPT_FAIL },
		{ 0 },
	};
	struct pt_cmdline c;
	pt_opt_init(&c, "diff", usage, argc, argv);
	int id;
	o->limit_pct = -1;
	while ((id = pt_opt_next(&c, defs)) != PT_OPT_END) {
		int rc = 0;
		if (id == PT_OPT_STOP) {
			return c.status;
		} else if (id == OPT_BY) {
			if (strcmp(c.arg, "peak") && strcmp(c.arg, "leaked") && strcmp(c.arg, "calls"))
				rc = pt_opt_error(&c, "--by takes peak, leaked or calls, not '%s'", c.arg);
			o->by = c.arg;
		} else if (id == OPT_FAIL) {
			size_t len = strlen(c.arg);
			char *end;
			o->limit_text = c.arg;
			if (c.arg[len - 1] == '%') {
				o->limit_pct = strtod(c.arg, &end);
				if (end != c.arg + len - 1 || !(o->limit_pct >= 0) || c.arg[0] == '-')
					rc = pt_opt_error(&c, "--fail-on-growth needs a size or a "
					                  "percentage, not '%s'", c.arg);
			} else if (pt_parse_size(c.arg, &o->limit)) {
				rc = pt_opt_error(&c, "--fail-on-growth needs a size or a percentage, "
				                  "not '%s'", c.arg);
			}
		} else if (id == PT_OPT_OPERAND) {
			rc = pt_opt_trace(&c, o->path, 2);
		} else {
			rc = pt_opt_listing(&c, id, &o->list);
		}
		if (rc)
			return c.status;
	}
	if (!o->path[1]) {
		pt_opt_error(&c, "needs two traces, BASE and NEW");
		return c.status;
	}
	return 0;
}

/* The totals of the measure, and whether the growth passed the limit. */
static int over_limit(const struct diff_opts *o, uint64_t base, uint64_t now)
{
	if (!o->limit_text || now <= base)
		return 0;
	if (o->limit_pct >= 0)
		return (double)(now - base) > (double)base * o->limit_pct / 100.0;
	return now - base > o->limit;
}

static void diff_text(FILE *f, struct pt_view *v, const struct diff_opts *o, struct dsite **row,
                      size_t n);

static void json_change(struct pt_json *j, const char *key, uint64_t base, uint64_t now)
{
	pt_json_open(j, key, '{');
	pt_json_u64(j, "base", base);
	pt_json_u64(j, "new", now);
	pt_json_i64(j, "growth", growth(base, now));
	pt_json_close(j, '}');
}

static void diff_json(FILE *f, struct pt_view *v, const struct diff_opts *o, struct dsite **row,
                      size_t n, const uint64_t *tot, int failed)
{
	const struct pt_profile *a = &v[0].p, *b = &v[1].p;
	struct pt_buf buf = { 0 };
	struct pt_json j;
	pt_jr_begin(&j, &buf, f, "diff");
	pt_jr_trace(&j, "base", &v[0]);
	pt_jr_trace(&j, "new", &v[1]);
	pt_json_str(&j, "by", o->by);
	pt_json_open(&j, "totals", '{');
	json_change(&j, "peak", a->peak, b->peak);
	json_change(&j, "peak_rss", a->peak_rss, b->peak_rss);
	json_change(&j, "not_freed", a->live, b->live);
	json_change(&j, "allocations", a->n_alloc[0] + a->n_alloc[1], b->n_alloc[0] + b->n_alloc[1]);
	pt_json_close(&j, '}');
	pt_json_u64(&j, "sites_changed", n);
	pt_json_open(&j, "sites", '[');
	for (size_t i = 0; i < n && i < o->list.top; i++) {
		struct dsite *d = row[i];
		int t = d->calls[1] ? 1 : 0;
		pt_json_open(&j, NULL, '{');
		pt_json_str(&j, "status", !d->calls[0] ? "new" : !d->calls[1] ? "gone" : "changed");
		json_change(&j, "peak", d->peak[0], d->peak[1]);
		json_change(&j, "not_freed", d->leaked[0], d->leaked[1]);
		json_change(&j, "allocations", d->calls[0], d->calls[1]);
		pt_jr_stack(&j, &v[t], d->stack[t], (unsigned)o->list.frames);
		pt_json_close(&j, '}');
		pt_json_flush(&j);
	}
	pt_json_close(&j, ']');
	if (o->limit_text) {
		pt_json_open(&j, "fail_on_growth", '{');
		pt_json_str(&j, "limit", o->limit_text);
		json_change(&j, "total", tot[0], tot[1]);
		pt_json_bool(&j, "failed", failed);
		pt_json_close(&j, '}');
	} else {
		pt_json_null(&j, "fail_on_growth");
	}
	pt_jr_end(&j);
	free(buf.s);
}

int pt_cmd_diff(int argc, char **argv)
{
	struct diff_opts o = { .list = { .top = 20, .frames = 8 }, .by = "peak" };
	int rc = parse_diff(argc, argv, &o);
	if (rc || !o.path[1])     /* an error, or --help */
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

	FILE *f = pt_output_open(NULL);
	const struct pt_profile *a = &v[0].p, *b = &v[1].p;
	uint64_t ca = a->n_alloc[0] + a->n_alloc[1], cb = b->n_alloc[0] + b->n_alloc[1];
	uint64_t tot[2] = { a->peak, b->peak };
	if (strcmp(o.by, "leaked") == 0)
		tot[0] = a->live, tot[1] = b->live;
	else if (strcmp(o.by, "calls") == 0)
		tot[0] = ca, tot[1] = cb;
	int failed = over_limit(&o, tot[0], tot[1]);
	if (!f)
		rc = PT_EXIT_OUTPUT;
	else if (o.list.json)
		diff_json(f, v, &o, row, n, tot, failed);
	else
		diff_text(f, v, &o, row, n);
	if (f) {
		rc = pt_trace_partial(a->t) || pt_trace_partial(b->t) ? PT_EXIT_PARTIAL : PT_EXIT_OK;
		if (failed) {
			fprintf(stderr, "pooltrace: diff: the %s grew by %lld, past --fail-on-growth "
			        "%s\n", strcmp(o.by, "calls") == 0 ? "allocations" :
			        strcmp(o.by, "leaked") == 0 ? "bytes not freed" : "peak heap",
			        (long long)growth(tot[0], tot[1]), o.limit_text);
			rc = PT_EXIT_FOUND;
		}
		rc = pt_output_close(f, rc);
	}
	pt_strtab_free(&m.keys);
	free(m.s);
	free(row);
	pt_view_close(&v[1]);
	pt_view_close(&v[0]);
	return rc;
}

static void diff_text(FILE *f, struct pt_view *v, const struct diff_opts *op, struct dsite **row,
                      size_t n)
{
	struct diff_opts o = *op;
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
}
