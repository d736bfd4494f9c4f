/*
 * cmd_frag.c - pooltrace frag [--top N] [--frames N] [--bytes] [--json]
 * TRACE: what fills
 * RSS at the peak and at exit (live bytes, rounding to the size class,
 * free blocks, pool tails, empty pools, arena headers, glibc, the rest),
 * the size classes, the arenas by occupancy, the arenas a few blocks pin,
 * and the same figures over time.  The figures are frag.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "frag.h"
#include "output.h"
#include "peak.h"
#include "report_json.h"
#include "util.h"
#include "view.h"

static const char usage[] =
	"usage: pooltrace frag [--top N] [--frames N] [--bytes] [--json] [--native] TRACE\n"
	"\n"
	"What fills RSS at the peak and at exit: live bytes, rounding to the size\n"
	"class, free blocks, pool tails, empty pools, arena headers, glibc, the rest;\n"
	"the size classes, arena occupancy, pinned arenas, and over time.\n"
	"\n"
	"  --top N      pinned arenas listed, and rows over time (default 20)\n"
	"  --frames N   frames printed per stack (default 6)\n"
	"  --bytes      exact byte counts instead of KiB, MiB...\n"
	"  --json       the JSON document of pooltrace(1), JSON OUTPUT, on stdout\n"
	"  --native     the Python interpreter's own native frames too\n";

static void frag_line(FILE *f, const char *what, uint64_t v, uint64_t rss)
{
	fprintf(f, "  %-46s %10s %6.1f%%\n", what, PT_B(v), pt_pct(v, rss));
}

/* The breakdown of full snapshot s, under a line that says which it is. */
static void frag_breakdown(FILE *f, const struct pt_profile *p, const struct pt_snapshot *s,
                           uint64_t pool_live, const char *title)
{
	struct pt_frag fr;
	pt_frag_compute(p, s, pool_live, &fr);
	fprintf(f, "%s (%s): RSS %s\n", title, PT_T(s->time_ns), PT_B(fr.rss));
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
	if (fr.meshed)
		fprintf(f, "  meshed (POOLTRACE_MESH): %s in %s %s that show another pool's page "
		        "and hold no memory of their own\n", PT_B(fr.meshed),
		        PT_N(fr.meshed / p->t->hdr.pool_size),
		        pt_plural(fr.meshed / p->t->hdr.pool_size, "pool", "pools"));
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
		if (kind == PT_SNAP_PEAK && p->snap_peak && p->snap_peak->kind != PT_SNAP_PEAK)
			fprintf(f, "\nPINNED ARENAS at the peak: not listed (the recorder lists them "
			        "beside its peak and exit snapshots; the peak's is a periodic one)\n");
		else if (!p->sampled)
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
	double scale;
	int dec;
	const char *unit = pt_time_unit(p->duration_ns, &scale, &dec);
	char head[16];
	snprintf(head, sizeof head, "time %s", unit);
	fprintf(f, "\nOVER TIME (full snapshots)\n  %9s %10s %10s %10s %10s %10s %10s\n",
	        head, "RSS", "live", "in blocks", "free blks", "empty pools", "glibc");
	size_t step = nfull > rows ? (nfull + rows - 1) / rows : 1, k = 0;
	for (size_t i = 0; i < p->npoints; i++) {
		const struct pt_point *pt = &p->point[i];
		if (pt->kind == PT_SNAP_LIGHT)
			continue;
		if (k++ % step && pt->kind != PT_SNAP_EXIT)
			continue;
		fprintf(f, "  %9.*f %10s %10s %10s %10s %10s %10s\n", dec, (double)pt->time_ns / scale,
		        PT_B(pt->rss), PT_B(pt->live), PT_B(pt->in_blocks), PT_B(pt->pool_free),
		        PT_B(pt->pool_empty), PT_B(pt->glibc));
	}
}

/* ---- JSON ------------------------------------------------------------------- */

static void json_breakdown(struct pt_json *j, const char *key, const struct pt_profile *p,
                           const struct pt_snapshot *s, uint64_t pool_live)
{
	if (!s) {
		pt_json_null(j, key);
		return;
	}
	struct pt_frag fr;
	pt_frag_compute(p, s, pool_live, &fr);
	pt_json_open(j, key, '{');
	pt_json_str(j, "snapshot", s == p->snap_peak ? (s->kind == PT_SNAP_PEAK ? "peak" :
	            s->kind == PT_SNAP_EXIT ? "exit" : "periodic") :
	            s->kind == PT_SNAP_EXIT ? "exit" : "last");
	pt_json_u64(j, "time_ns", s->time_ns);
	pt_json_u64(j, "rss", fr.rss);
	pt_json_u64(j, "pool_live", fr.pool_live);
	pt_json_u64(j, "pool_rounding", fr.pool_rounding);
	pt_json_u64(j, "pool_free", fr.pool_free);
	pt_json_u64(j, "pool_tails", fr.pool_tails);
	pt_json_u64(j, "pool_empty", fr.pool_empty);
	pt_json_u64(j, "headers", fr.headers);
	pt_json_u64(j, "glibc", fr.glibc);
	pt_json_u64(j, "other", fr.other);
	pt_json_u64(j, "untouched", fr.untouched);
	pt_json_u64(j, "meshed", fr.meshed);
	pt_json_u64(j, "arenas", fr.arenas);
	pt_json_u64(j, "pool_resident", fr.pool_resident);
	pt_json_close(j, '}');
}

static void json_classes(struct pt_json *j, const struct pt_profile *p, const struct pt_snapshot *s)
{
	const struct pt_trace_header *h = &p->t->hdr;
	pt_json_open(j, "classes", '[');
	for (unsigned k = 0; s && k < s->nclasses && k < h->nclasses; k++) {
		const struct pt_snap_class *c = &s->cls[k];
		pt_json_open(j, NULL, '{');
		pt_json_u64(j, "class", k);
		pt_json_u64(j, "size", h->class_size[k]);
		pt_json_u64(j, "pools_used", c->pools_used);
		pt_json_u64(j, "pools_full", c->pools_full);
		pt_json_u64(j, "pools_empty", c->pools_empty);
		pt_json_u64(j, "blocks_used", c->blocks_used);
		pt_json_u64(j, "blocks_free", c->blocks_free);
		pt_json_u64(j, "blocks_cached", c->blocks_cached);
		pt_json_u64(j, "allocations", c->nmalloc);
		pt_json_u64(j, "requested_bytes", c->req_bytes);
		pt_json_close(j, '}');
	}
	pt_json_close(j, ']');
}

static void json_pinned(struct pt_json *j, struct pt_view *v, const struct pt_listing *o)
{
	const struct pt_profile *p = &v->p;
	unsigned listed[2] = { 0 };
	pt_json_open(j, "pinned", '[');
	for (size_t i = 0; i < p->npinned; i++) {
		const struct pt_pinned_arena *a = &p->pinned[i];
		if (listed[a->snap_kind == PT_SNAP_PEAK]++ >= o->top)
			continue;
		char base[24];
		snprintf(base, sizeof base, "0x%llx", (unsigned long long)a->base);
		pt_json_open(j, NULL, '{');
		pt_json_str(j, "snapshot", a->snap_kind == PT_SNAP_PEAK ? "peak" : "exit");
		pt_json_u64(j, "time_ns", a->time_ns);
		pt_json_str(j, "base", base);
		pt_json_u64(j, "blocks", a->blocks);
		pt_json_u64(j, "bytes", a->bytes);
		pt_json_open(j, "holders", '[');
		for (unsigned k = 0; k < a->ninfos; k++) {
			if (a->info[k].info >= p->t->ninfos)
				continue;
			const struct pt_info *in = &p->t->info[a->info[k].info];
			pt_json_open(j, NULL, '{');
			pt_json_u64(j, "blocks", a->info[k].count);
			pt_json_u64(j, "size", in->size);
			pt_jr_stack(j, v, in->stack, (unsigned)o->frames);
			pt_json_close(j, '}');
		}
		pt_json_close(j, ']');
		pt_json_close(j, '}');
		pt_json_flush(j);
	}
	pt_json_close(j, ']');
}

static void frag_json(FILE *f, struct pt_view *v, const struct pt_listing *o)
{
	const struct pt_profile *p = &v->p;
	const struct pt_snapshot *end = p->snap_exit ? p->snap_exit : p->snap_last;
	struct pt_buf b = { 0 };
	struct pt_json j;
	pt_jr_begin(&j, &b, f, "frag");
	pt_jr_trace(&j, "trace", v);
	pt_json_u64(&j, "align", p->t->hdr.align);
	pt_json_peak(&j, "peak", p);
	json_breakdown(&j, "at_peak", p, p->snap_peak, p->snap_peak_pool);
	json_breakdown(&j, "at_end", p, end, p->live_bytes[0]);
	json_classes(&j, p, end);
	if (end) {
		uint64_t bins[PT_OCCUPANCY_BINS];
		pt_frag_occupancy(&p->t->hdr, end, bins);
		pt_json_u64s(&j, "arena_occupancy", bins, PT_OCCUPANCY_BINS);
	} else {
		pt_json_open(&j, "arena_occupancy", '[');
		pt_json_close(&j, ']');
	}
	json_pinned(&j, v, o);
	pt_json_open(&j, "over_time", '[');
	for (size_t i = 0; i < p->npoints; i++) {
		const struct pt_point *pt = &p->point[i];
		if (pt->kind == PT_SNAP_LIGHT)
			continue;
		pt_json_open(&j, NULL, '{');
		pt_json_u64(&j, "time_ns", pt->time_ns);
		pt_json_u64(&j, "rss", pt->rss);
		pt_json_u64(&j, "live", pt->live);
		pt_json_u64(&j, "in_blocks", pt->in_blocks);
		pt_json_u64(&j, "free_blocks", pt->pool_free);
		pt_json_u64(&j, "empty_pools", pt->pool_empty);
		pt_json_u64(&j, "glibc", pt->glibc);
		pt_json_close(&j, '}');
		if (b.len > 65536)
			pt_json_flush(&j);
	}
	pt_json_close(&j, ']');
	pt_jr_end(&j);
	free(b.s);
}

/* ---- the command --------------------------------------------------------------- */

static void frag_text(FILE *f, struct pt_view *v, const struct pt_listing *o)
{
	const struct pt_profile *p = &v->p;
	pt_print_heading(f, "frag", v);
	const struct pt_snapshot *end = p->snap_exit ? p->snap_exit : p->snap_last;
	if (!end) {
		fprintf(f, "\nNo allocator snapshot in this trace: nothing to break down.\n");
		return;
	}
	if (p->snap_peak) {
		fprintf(f, "\nAT THE PEAK\n");
		pt_print_peak(f, p);
		frag_breakdown(f, p, p->snap_peak, p->snap_peak_pool,
		               p->peak_when == PT_PEAK_SNAPSHOT ? "  the allocator then: that snapshot" :
		               p->snap_peak->seq > p->peak_seq ?
		               "  the allocator then: the full snapshot first after the peak" :
		               "  the allocator then: the last full snapshot before the peak");
	}
	fputc('\n', f);
	frag_breakdown(f, p, end, p->live_bytes[0], p->snap_exit ? "AT EXIT" : "AT THE LAST SNAPSHOT");
	frag_classes(f, p, end);
	frag_arenas(f, p, end);
	frag_pinned(f, v, PT_SNAP_PEAK, o->top, o->frames);
	frag_pinned(f, v, PT_SNAP_EXIT, o->top, o->frames);
	frag_over_time(f, p, o->top);
}

int pt_cmd_frag(int argc, char **argv)
{
	return pt_listing_command("frag", usage, argc, argv,
	                          (struct pt_listing){ .top = 20, .frames = 6 }, frag_text, frag_json);
}
