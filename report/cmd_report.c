/*
 * cmd_report.c - pooltrace report [--top N] [--frames N] TRACE: the
 * summary of a trace: calls, blocks and bytes by kind, temporaries, the
 * peak heap and RSS, what was not freed; the top sites at the peak, by
 * calls, by temporaries and not freed, each with its stack; the histogram
 * of requested sizes; the live heap and RSS over time.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "python.h"
#include "view.h"

static void top_sites(FILE *f, struct pt_view *v, const char *title, size_t off, size_t n_off,
                      uint64_t total, const char *what, unsigned long top, unsigned long frames,
                      int count_first)
{
	size_t n;
	struct pt_site **s = pt_profile_sorted(&v->p, off, &n);
	fprintf(f, "\n%s\n", title);
	if (n == 0)
		fprintf(f, "  none\n");
	for (size_t i = 0; i < n && i < top; i++) {
		uint64_t val = pt_site_counter(s[i], off), cnt = pt_site_counter(s[i], n_off);
		if (count_first)
			fprintf(f, "%2zu) %s %s (%.1f%%), %s\n", i + 1, PT_N(val),
			        val == 1 && !strcmp(what, "allocations") ? "allocation" : what,
			        pt_pct(val, total), PT_B(cnt));
		else
			fprintf(f, "%2zu) %s (%.1f%%) in %s %s\n", i + 1, PT_B(val), pt_pct(val, total),
			        PT_N(cnt), pt_plural(cnt, "block", "blocks"));
		pt_print_stack(f, v, s[i]->stack, (unsigned)frames, "      ");
	}
	if (n > top)
		fprintf(f, "    ... %zu more sites\n", n - top);
	free(s);
}

static void histogram(FILE *f, const struct pt_profile *p)
{
	uint64_t total = 0, max = 0;
	unsigned first = PT_HIST_BUCKETS, last = 0;
	for (unsigned i = 0; i < PT_HIST_BUCKETS; i++) {
		total += p->hist_n[i];
		if (p->hist_n[i] > max)
			max = p->hist_n[i];
		if (p->hist_n[i]) {
			if (first == PT_HIST_BUCKETS)
				first = i;
			last = i;
		}
	}
	fprintf(f, "\nSIZES REQUESTED\n");
	if (!total) {
		fprintf(f, "  none\n");
		return;
	}
	fprintf(f, "  %-17s %13s %7s %10s\n", "size", "allocations", "", "bytes");
	for (unsigned i = first; i <= last; i++) {
		char range[40];
		uint64_t lo = pt_hist_low(i), hi = i ? 2 * lo - 1 : 0;
		if (i == PT_HIST_BUCKETS - 1)
			snprintf(range, sizeof range, ">= %llu", (unsigned long long)lo);
		else if (lo == hi)
			snprintf(range, sizeof range, "%llu", (unsigned long long)lo);
		else
			snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)lo,
			         (unsigned long long)hi);
		char bar[31];
		unsigned w = max ? (unsigned)((p->hist_n[i] * 30 + max - 1) / max) : 0;
		memset(bar, '#', w);
		bar[w] = 0;
		fprintf(f, "  %-17s %13s %6.1f%% %10s %s\n", range, PT_N(p->hist_n[i]),
		        pt_pct(p->hist_n[i], total), PT_B(p->hist_bytes[i]), bar);
	}
}

/* The live heap and RSS over time: rows of equal time, each with the
 * lowest and highest live heap within it (so that peaks and dips show)
 * and the highest RSS. */
static void timeline(FILE *f, const struct pt_profile *p, unsigned rows)
{
	fprintf(f, "\nTIMELINE: live heap, lowest (#) to highest (+) in each step; RSS (|)\n");
	if (p->npoints < 2 || !p->duration_ns) {
		fprintf(f, "  too short: %zu snapshot%s\n", p->npoints, p->npoints == 1 ? "" : "s");
		return;
	}
	uint64_t max = 0;
	for (size_t i = 0; i < p->npoints; i++) {
		if (p->point[i].rss > max)
			max = p->point[i].rss;
		if (p->point[i].live > max)
			max = p->point[i].live;
	}
	fprintf(f, "  %10s %10s %10s %10s\n", "time", "live low", "live high", "RSS");
	size_t i = 0;
	for (unsigned r = 0; r < rows && i < p->npoints; r++) {
		uint64_t until = p->duration_ns * (r + 1) / rows, lo = UINT64_MAX, hi = 0, rss = 0;
		for (; i < p->npoints && (p->point[i].time_ns <= until || r == rows - 1); i++) {
			const struct pt_point *pt = &p->point[i];
			lo = pt->live < lo ? pt->live : lo;
			hi = pt->live > hi ? pt->live : hi;
			rss = pt->rss > rss ? pt->rss : rss;
		}
		if (lo == UINT64_MAX)
			lo = hi;
		char bar[51];
		unsigned wl = max ? (unsigned)(lo * 50 / max) : 0, wh = max ? (unsigned)(hi * 50 / max) : 0;
		unsigned wr = max ? (unsigned)(rss * 50 / max) : 0;
		for (unsigned k = 0; k < 50; k++)
			bar[k] = k < wl ? '#' : k < wh ? '+' : k + 1 == wr ? '|' : ' ';
		bar[50] = 0;
		fprintf(f, "  %8.3f s %10s %10s %10s  %s\n", (double)until / 1e9, PT_B(lo), PT_B(hi),
		        PT_B(rss), bar);
	}
}

int pt_cmd_report(int argc, char **argv)
{
	struct pt_listing o = { .top = 10, .frames = 8 };
	const char *path = NULL;
	int rc = pt_opt_listing_only("report", argc, argv, &o, &path);
	if (rc)
		return rc;
	struct pt_view v;
	if ((rc = pt_view_open(&v, path)))
		return rc;
	if (pt_by_type) {   /* report --by type: the Python objects at exit */
		pt_print_by_type(stdout, &v, 0, o.top, o.frames);
		pt_view_close(&v);
		return 0;
	}
	const struct pt_profile *p = &v.p;
	FILE *f = stdout;
	uint64_t nalloc = p->n_alloc[0] + p->n_alloc[1];
	uint64_t bytes = p->bytes_alloc[0] + p->bytes_alloc[1];
	uint64_t live_n = p->live_n[0] + p->live_n[1];

	pt_print_heading(f, "report", &v);
	fprintf(f, "calls:      malloc %s, free %s, realloc %s\n", PT_N(p->n_malloc),
	        PT_N(p->n_free), PT_N(p->n_realloc));
	fprintf(f, "blocks:     %s allocated: %s from pools (%.1f%%), %s from glibc\n", PT_N(nalloc),
	        PT_N(p->n_alloc[0]), pt_pct(p->n_alloc[0], nalloc), PT_N(p->n_alloc[1]));
	fprintf(f, "allocated:  %s in total: pools %s, glibc %s\n", PT_B(bytes),
	        PT_B(p->bytes_alloc[0]), PT_B(p->bytes_alloc[1]));
	fprintf(f, "temporary:  %s allocations (%.1f%% of all), %s: freed with no other "
	        "allocation in between\n", PT_N(p->n_temp), pt_pct(p->n_temp, nalloc),
	        PT_B(p->bytes_temp));
	fprintf(f, "peak heap:  %s at %.3f s: pools %s, glibc %s\n", PT_B(p->peak),
	        (double)p->peak_time_ns / 1e9, PT_B(p->peak_pool), PT_B(p->peak_glibc));
	fprintf(f, "peak RSS:   %s at %.3f s\n", PT_B(p->peak_rss),
	        (double)p->peak_rss_time_ns / 1e9);
	fprintf(f, "not freed:  %s in %s %s: pools %s, glibc %s\n", PT_B(p->live), PT_N(live_n),
	        pt_plural(live_n, "block", "blocks"), PT_B(p->live_bytes[0]),
	        PT_B(p->live_bytes[1]));
	if (p->have_leaks)
		fprintf(f, "leaks:      definitely lost %s in %s, indirectly lost %s in %s, still "
		        "reachable %s in %s (pooltrace leaks)\n",
		        PT_B(p->leak_bytes[PT_LEAK_DEFINITE]), PT_N(p->leak_n[PT_LEAK_DEFINITE]),
		        PT_B(p->leak_bytes[PT_LEAK_INDIRECT]), PT_N(p->leak_n[PT_LEAK_INDIRECT]),
		        PT_B(p->leak_bytes[PT_LEAK_REACHABLE]), PT_N(p->leak_n[PT_LEAK_REACHABLE]));

	top_sites(f, &v, "PEAK HEAP: what was live at the peak, by allocation site",
	          offsetof(struct pt_site, peak_bytes), offsetof(struct pt_site, peak_n), p->peak,
	          "", o.top, o.frames, 0);
	top_sites(f, &v, "MOST CALLS: the sites that allocate most often",
	          offsetof(struct pt_site, n_alloc), offsetof(struct pt_site, bytes_alloc), nalloc,
	          "allocations", o.top, o.frames, 1);
	top_sites(f, &v, "MOST TEMPORARY: allocations freed with no other in between",
	          offsetof(struct pt_site, n_temp), offsetof(struct pt_site, bytes_temp), p->n_temp,
	          "temporary", o.top, o.frames, 1);
	top_sites(f, &v, "NOT FREED: live at the end, by allocation site",
	          offsetof(struct pt_site, live_bytes), offsetof(struct pt_site, live_n), p->live,
	          "", o.top, o.frames, 0);
	histogram(f, p);
	timeline(f, p, 20);
	pt_view_close(&v);
	return 0;
}
