/*
 * text.c - the text reports: report, leaks, frag, diff.
 *
 * Every figure comes from the profile (profile.h); every stack is printed
 * symbolized, innermost frame first, as memcheck and LeakSanitizer do.
 * Sampled traces print estimates and say so.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "frag.h"
#include "args.h"
#include "commands.h"
#include "view.h"
#include "util.h"

/* ---- frag ---------------------------------------------------------------- */

static void frag_line(FILE *f, const char *what, uint64_t v, uint64_t rss)
{
	fprintf(f, "  %-46s %10s %6.1f%%\n", what, PT_B(v), pt_pct(v, rss));
}

static void frag_breakdown(FILE *f, const struct pt_profile *p, const struct pt_snapshot *s,
                           uint64_t pool_live, const char *title)
{
	struct pt_frag fr;
	pt_frag_compute(p, s, pool_live, &fr);
	fprintf(f, "\n%s (%.3f s): RSS %s\n", title, (double)s->time_ns / 1e9, PT_B(fr.rss));
	frag_line(f, "live bytes requested, pool blocks", fr.pool_live, fr.rss);
	frag_line(f, "rounding to the size class", fr.pool_rounding, fr.rss);
	frag_line(f, "free blocks in pools in use", fr.pool_free, fr.rss);
	frag_line(f, "pool tails (less than one block)", fr.pool_tails, fr.rss);
	frag_line(f, "empty pools kept", fr.pool_empty, fr.rss);
	frag_line(f, "arena headers", fr.headers, fr.rss);
	frag_line(f, "glibc in use (blocks over 512 B, early ones)", fr.glibc, fr.rss);
	frag_line(f, "other (code, stacks, libraries, glibc free, ...)", fr.other, fr.rss);
	fprintf(f, "  pool memory: %s resident in %s %s; %.1f%% of it is live requested bytes\n",
	        PT_B(fr.pool_resident), PT_N(fr.arenas), pt_plural(fr.arenas, "arena", "arenas"),
	        pt_pct(fr.pool_live, fr.pool_resident));
	if (fr.untouched)
		fprintf(f, "  address space only (no RSS): %s of arena never carved or purged\n",
		        PT_B(fr.untouched));
}

static void frag_classes(FILE *f, const struct pt_profile *p, const struct pt_snapshot *s)
{
	const struct pt_trace_header *h = &p->t->hdr;
	fprintf(f, "\nSIZE CLASSES (alignment %u)\n", h->align);
	fprintf(f, "  %5s %5s %6s %6s %6s %10s %10s %8s %10s %10s %10s\n", "class", "size",
	        "pools", "full", "empty", "blocks", "free", "cached", "in use", "mean req",
	        "rounding");
	uint64_t tot[6] = { 0 };
	for (unsigned k = 0; k < s->nclasses && k < h->nclasses; k++) {
		const struct pt_snap_class *c = &s->cls[k];
		uint64_t pools = c->pools_used + c->pools_full;
		if (!pools && !c->pools_empty && !c->nmalloc)
			continue;
		uint64_t size = h->class_size[k];
		double mean = c->nmalloc ? (double)c->req_bytes / (double)c->nmalloc : 0;
		uint64_t round = mean > 0 && mean < (double)size
		                 ? (uint64_t)((double)c->blocks_used * ((double)size - mean)) : 0;
		fprintf(f, "  %5u %5llu %6llu %6llu %6llu %10s %10s %8s %10s %10.1f %10s\n", k,
		        (unsigned long long)size, (unsigned long long)pools,
		        (unsigned long long)c->pools_full, (unsigned long long)c->pools_empty,
		        PT_N(c->blocks_used), PT_N(c->blocks_free), PT_N(c->blocks_cached),
		        PT_B(c->blocks_used * size), mean, PT_B(round));
		tot[0] += pools;
		tot[1] += c->blocks_used;
		tot[2] += c->blocks_free;
		tot[3] += c->blocks_used * size;
		tot[4] += round;
	}
	fprintf(f, "  %5s %5s %6llu %6s %6s %10s %10s %8s %10s %10s %10s\n", "total", "",
	        (unsigned long long)tot[0], "", "", PT_N(tot[1]), PT_N(tot[2]), "", PT_B(tot[3]), "",
	        PT_B(tot[4]));
	fprintf(f, "  (mean req: bytes requested per allocation over the run; rounding: blocks "
	        "in use times the class size less it)\n");
}

static void frag_arenas(FILE *f, const struct pt_profile *p, const struct pt_snapshot *s)
{
	uint64_t bins[PT_OCCUPANCY_BINS];
	pt_frag_occupancy(&p->t->hdr, s, bins);
	fprintf(f, "\nARENA OCCUPANCY (live block bytes / arena pool bytes): %zu %s\n",
	        s->narenas, pt_plural(s->narenas, "arena", "arenas"));
	for (unsigned b = 0; b < PT_OCCUPANCY_BINS; b++) {
		char bar[41];
		unsigned w = s->narenas ? (unsigned)((bins[b] * 40 + s->narenas - 1) / s->narenas) : 0;
		memset(bar, '#', w);
		bar[w] = 0;
		fprintf(f, "  %3u-%3u%% %6llu %s\n", b * 10, b * 10 + 10,
		        (unsigned long long)bins[b], bar);
	}
}

static int by_fewest_blocks(const void *a, const void *b)
{
	const struct pt_pinned_arena *x = *(const struct pt_pinned_arena *const *)a;
	const struct pt_pinned_arena *y = *(const struct pt_pinned_arena *const *)b;
	if (x->blocks != y->blocks)
		return x->blocks < y->blocks ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	return x->base < y->base ? -1 : x->base > y->base;
}

/* The arenas of snapshot kind that a few blocks pin, fewest blocks first. */
static void frag_pinned(FILE *f, struct pt_view *v, unsigned kind, unsigned long top,
                        unsigned long frames)
{
	const struct pt_profile *p = &v->p;
	const char *when = kind == PT_SNAP_PEAK ? "peak" : "exit";
	const struct pt_pinned_arena **a = pt_xcalloc(p->npinned + 1, sizeof *a);
	size_t n = 0;
	uint64_t bytes = 0, blocks = 0;
	for (size_t i = 0; i < p->npinned; i++)
		if (p->pinned[i].snap_kind == kind) {
			a[n++] = &p->pinned[i];
			bytes += p->pinned[i].bytes;
			blocks += p->pinned[i].blocks;
		}
	if (!n) {
		if (!p->sampled)
			fprintf(f, "\nPINNED ARENAS at the %s: none\n", when);
		free(a);
		return;
	}
	qsort(a, n, sizeof *a, by_fewest_blocks);
	fprintf(f, "\nPINNED ARENAS at the %s: %zu %s (%s) that at most %u live blocks each "
	        "keep from being released: %s requested in %s %s\n", when, n,
	        pt_plural(n, "arena", "arenas"), PT_B((uint64_t)n * p->t->hdr.arena_size),
	        PT_PINNED_MAX, PT_B(bytes), PT_N(blocks), pt_plural(blocks, "block", "blocks"));
	for (size_t i = 0; i < n && i < top; i++) {
		fprintf(f, "\n  arena 0x%llx: %s live %s, %s requested\n",
		        (unsigned long long)a[i]->base, PT_N(a[i]->blocks),
		        pt_plural(a[i]->blocks, "block", "blocks"), PT_B(a[i]->bytes));
		for (unsigned k = 0; k < a[i]->ninfos; k++) {
			const struct pt_info *in = &p->t->info[a[i]->info[k].info];
			fprintf(f, "    %s %s of %llu B from:\n", PT_N(a[i]->info[k].count),
			        pt_plural(a[i]->info[k].count, "block", "blocks"),
			        (unsigned long long)in->size);
			pt_print_stack(f, v, in->stack, (unsigned)frames, "        ");
		}
	}
	if (n > top)
		fprintf(f, "\n  ... %zu more pinned arenas (--top)\n", n - top);
	free(a);
}

static void frag_over_time(FILE *f, const struct pt_profile *p, unsigned long rows)
{
	size_t nfull = 0;
	for (size_t i = 0; i < p->npoints; i++)
		nfull += p->point[i].kind != PT_SNAP_LIGHT;
	if (!nfull)
		return;
	fprintf(f, "\nOVER TIME (full snapshots)\n  %9s %10s %10s %10s %10s %10s %10s\n",
	        "time s", "RSS", "live", "in blocks", "free blks", "empty pools", "glibc");
	size_t step = nfull > rows ? (nfull + rows - 1) / rows : 1, k = 0;
	for (size_t i = 0; i < p->npoints; i++) {
		const struct pt_point *pt = &p->point[i];
		if (pt->kind == PT_SNAP_LIGHT)
			continue;
		if (k++ % step && pt->kind != PT_SNAP_EXIT)
			continue;
		fprintf(f, "  %9.3f %10s %10s %10s %10s %10s %10s\n", (double)pt->time_ns / 1e9,
		        PT_B(pt->rss), PT_B(pt->live), PT_B(pt->in_blocks), PT_B(pt->pool_free),
		        PT_B(pt->pool_empty), PT_B(pt->glibc));
	}
}

int pt_cmd_frag(int argc, char **argv)
{
	struct pt_listing o = { .top = 20, .frames = 6 };
	const char *path = NULL;
	int rc = pt_opt_listing_only("frag", argc, argv, &o, &path);
	if (rc)
		return rc;
	struct pt_view v;
	if ((rc = pt_view_open(&v, path)))
		return rc;
	const struct pt_profile *p = &v.p;
	FILE *f = stdout;
	pt_print_heading(f, "frag", &v);
	const struct pt_snapshot *end = p->snap_exit ? p->snap_exit : p->snap_last;
	if (!end) {
		fprintf(f, "\nNo allocator snapshot in this trace: nothing to break down.\n");
		pt_view_close(&v);
		return 0;
	}
	if (p->snap_peak)
		frag_breakdown(f, p, p->snap_peak, p->peak_pool, "AT THE PEAK");
	frag_breakdown(f, p, end, p->live_bytes[0], p->snap_exit ? "AT EXIT" : "AT THE LAST SNAPSHOT");
	frag_classes(f, p, end);
	frag_arenas(f, p, end);
	frag_pinned(f, &v, PT_SNAP_PEAK, o.top, o.frames);
	frag_pinned(f, &v, PT_SNAP_EXIT, o.top, o.frames);
	frag_over_time(f, p, o.top);
	pt_view_close(&v);
	return 0;
}

/* ---- diff ---------------------------------------------------------------- */

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
