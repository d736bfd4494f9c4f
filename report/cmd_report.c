/*
 * cmd_report.c - pooltrace report [--top N] [--frames N] [--bytes]
 * [--json] TRACE: the summary of a trace: calls, blocks and bytes by kind,
 * temporaries, the peak heap and RSS, what was not freed; the top sites at
 * the peak, by calls, by temporaries and not freed, each with its stack;
 * the histogram of requested sizes; the live heap and RSS over time.  As
 * text, or as the JSON document pooltrace(1) describes.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "output.h"
#include "python.h"
#include "peak.h"
#include "report_json.h"
#include "view.h"

static const char usage[] =
	"usage: pooltrace report [--top N] [--frames N] [--bytes] [--json] [--by type]\n"
	"                        [--native] TRACE\n"
	"\n"
	"The summary of a trace: calls, blocks and bytes from pools and glibc,\n"
	"temporary allocations, the peak heap and RSS, bytes not freed; the top\n"
	"sites at the peak, by calls, by temporaries, not freed; sizes; timeline.\n"
	"\n"
	"  --top N      sites per list (default 10)\n"
	"  --frames N   frames printed per stack (default 8)\n"
	"  --bytes      exact byte counts instead of KiB, MiB...\n"
	"  --json       the JSON document of pooltrace(1), JSON OUTPUT, on stdout\n"
	"  --by type    the Python objects left, by type and allocation site: when\n"
	"               the interpreter began to finalize, and at exit\n"
	"  --native     the Python interpreter's own native frames too\n";

/* the lists of sites: title, counter, count beside it, JSON key */
static const struct list {
	const char *title, *what, *key;
	size_t off, n_off;
	int count_first;
} lists[] = {
	{ "PEAK HEAP: what was live at the peak, by allocation site", "", "at_peak",
	  offsetof(struct pt_site, peak_bytes), offsetof(struct pt_site, peak_n), 0 },
	{ "MOST CALLS: the sites that allocate most often", "allocations", "calls",
	  offsetof(struct pt_site, n_alloc), offsetof(struct pt_site, bytes_alloc), 1 },
	{ "MOST TEMPORARY: allocations freed with no other in between", "temporary",
	  "temporary", offsetof(struct pt_site, n_temp), offsetof(struct pt_site, bytes_temp), 1 },
	{ "NOT FREED: live at the end, by allocation site", "", "not_freed",
	  offsetof(struct pt_site, live_bytes), offsetof(struct pt_site, live_n), 0 },
};

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

/*
 * The live heap and RSS over time: rows of equal time, each with the
 * lowest and highest live heap within it (so that peaks and dips show)
 * and the highest RSS.  A snapshot's row holds the range of the live heap
 * since the snapshot before (exact when every event is recorded): a spike
 * between two snapshots shows in the row of the second, where the peak's
 * time is.  A row without a snapshot has no figures.
 */
static void timeline(FILE *f, const struct pt_profile *p, unsigned rows)
{
	fprintf(f, "\nTIMELINE: live heap, lowest (#) to highest (+) in each step; RSS (|)\n");
	if (!p->npoints || !p->duration_ns) {
		fprintf(f, "  too short: %zu snapshot%s\n", p->npoints, p->npoints == 1 ? "" : "s");
		return;
	}
	uint64_t max = 0;
	for (size_t i = 0; i < p->npoints; i++) {
		if (p->point[i].rss > max)
			max = p->point[i].rss;
		if (p->point[i].live_hi > max)
			max = p->point[i].live_hi;
	}
	double scale;
	int dec;
	const char *unit = pt_time_unit(p->duration_ns, &scale, &dec);
	fprintf(f, "  %8s %-3s %10s %10s %10s\n", "time", "", "live low", "live high", "RSS");
	size_t i = 0;
	for (unsigned r = 0; r < rows && i < p->npoints; r++) {
		uint64_t until = p->duration_ns * (r + 1) / rows, lo = UINT64_MAX, hi = 0, rss = 0;
		int peak = 0;
		for (; i < p->npoints && (p->point[i].time_ns <= until || r == rows - 1); i++) {
			const struct pt_point *pt = &p->point[i];
			lo = pt->live_lo < lo ? pt->live_lo : lo;
			hi = pt->live_hi > hi ? pt->live_hi : hi;
			rss = pt->rss > rss ? pt->rss : rss;
			peak |= (long)i == p->peak_point && p->peak;
		}
		if (lo == UINT64_MAX) {
			fprintf(f, "  %8.*f %-3s %10s %10s %10s\n", dec, (double)until / scale, unit,
			        "-", "-", "-");
			continue;
		}
		char bar[51];
		unsigned wl = max ? (unsigned)(lo * 50 / max) : 0, wh = max ? (unsigned)(hi * 50 / max) : 0;
		unsigned wr = max ? (unsigned)(rss * 50 / max) : 0;
		for (unsigned k = 0; k < 50; k++)
			bar[k] = k < wl ? '#' : k < wh ? '+' : k + 1 == wr ? '|' : ' ';
		bar[50] = 0;
		fprintf(f, "  %8.*f %-3s %10s %10s %10s  %s%s\n", dec, (double)until / scale, unit,
		        PT_B(lo), PT_B(hi), PT_B(rss), bar, peak ? "  <- the peak" : "");
	}
}

static void report_text(FILE *f, struct pt_view *v, const struct pt_listing *o);

/* The JSON document (pooltrace(1), JSON OUTPUT). */
static void report_json(FILE *f, struct pt_view *v, const struct pt_listing *o)
{
	const struct pt_profile *p = &v->p;
	struct pt_buf b = { 0 };
	struct pt_json j;
	pt_jr_begin(&j, &b, f, "report");
	pt_jr_trace(&j, "trace", v);
	pt_json_open(&j, "calls", '{');
	pt_json_u64(&j, "malloc", p->n_malloc);
	pt_json_u64(&j, "free", p->n_free);
	pt_json_u64(&j, "realloc", p->n_realloc);
	pt_json_u64(&j, "free_unknown", p->n_free_unknown);
	pt_json_close(&j, '}');
	pt_json_open(&j, "allocated", '{');
	pt_jr_count(&j, "pool", p->n_alloc[0], p->bytes_alloc[0]);
	pt_jr_count(&j, "glibc", p->n_alloc[1], p->bytes_alloc[1]);
	pt_jr_count(&j, "total", p->n_alloc[0] + p->n_alloc[1],
	            p->bytes_alloc[0] + p->bytes_alloc[1]);
	pt_json_close(&j, '}');
	pt_jr_count(&j, "temporary", p->n_temp, p->bytes_temp);
	pt_json_peak(&j, "peak", p);
	pt_json_open(&j, "peak_rss", '{');
	pt_json_u64(&j, "bytes", p->peak_rss);
	pt_json_u64(&j, "time_ns", p->peak_rss_time_ns);
	pt_json_close(&j, '}');
	pt_json_open(&j, "not_freed", '{');
	pt_jr_count(&j, "pool", p->live_n[0], p->live_bytes[0]);
	pt_jr_count(&j, "glibc", p->live_n[1], p->live_bytes[1]);
	pt_jr_count(&j, "total", p->live_n[0] + p->live_n[1], p->live);
	pt_json_close(&j, '}');
	if (p->have_leaks) {
		pt_json_open(&j, "leaks", '{');
		pt_jr_count(&j, "definitely_lost", p->leak_n[PT_LEAK_DEFINITE],
		            p->leak_bytes[PT_LEAK_DEFINITE]);
		pt_jr_count(&j, "indirectly_lost", p->leak_n[PT_LEAK_INDIRECT],
		            p->leak_bytes[PT_LEAK_INDIRECT]);
		pt_jr_count(&j, "still_reachable", p->leak_n[PT_LEAK_REACHABLE],
		            p->leak_bytes[PT_LEAK_REACHABLE]);
		pt_json_u64(&j, "roots_bytes", p->leak_roots_bytes);
		pt_json_close(&j, '}');
	} else {
		pt_json_null(&j, "leaks");
	}
	pt_json_open(&j, "top", '{');
	for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
		size_t n;
		struct pt_site **s = pt_profile_sorted(p, lists[l].off, &n);
		pt_json_open(&j, lists[l].key, '{');
		pt_json_u64(&j, "sites", n);
		pt_json_open(&j, "list", '[');
		for (size_t i = 0; i < n && i < o->top; i++)
			pt_jr_site(&j, v, s[i], (unsigned)o->frames);
		pt_json_close(&j, ']');
		pt_json_close(&j, '}');
		free(s);
	}
	pt_json_close(&j, '}');
	pt_json_open(&j, "sizes", '[');
	for (unsigned i = 0; i < PT_HIST_BUCKETS; i++) {
		if (!p->hist_n[i])
			continue;
		uint64_t lo = pt_hist_low(i);
		pt_json_open(&j, NULL, '{');
		pt_json_u64(&j, "min", lo);
		if (i == PT_HIST_BUCKETS - 1)
			pt_json_null(&j, "max");
		else
			pt_json_u64(&j, "max", i ? 2 * lo - 1 : 0);
		pt_json_u64(&j, "blocks", p->hist_n[i]);
		pt_json_u64(&j, "bytes", p->hist_bytes[i]);
		pt_json_close(&j, '}');
	}
	pt_json_close(&j, ']');
	pt_json_open(&j, "timeline", '[');
	for (size_t i = 0; i < p->npoints; i++) {
		pt_json_open(&j, NULL, '{');
		pt_json_u64(&j, "time_ns", p->point[i].time_ns);
		pt_json_u64(&j, "live", p->point[i].live);
		pt_json_u64(&j, "live_low", p->point[i].live_lo);
		pt_json_u64(&j, "live_high", p->point[i].live_hi);
		pt_json_u64(&j, "rss", p->point[i].rss);
		pt_json_close(&j, '}');
		if (b.len > 65536)
			pt_json_flush(&j);
	}
	pt_json_close(&j, ']');
	pt_jr_end(&j);
	free(b.s);
}

int pt_cmd_report(int argc, char **argv)
{
	if (pt_by_type)
		for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
			if (strcmp(argv[i], "--json") == 0)
				return pt_usage_error("report: --by type has no JSON form");
	return pt_listing_command("report", usage, argc, argv,
	                          (struct pt_listing){ .top = 10, .frames = 8 }, report_text, report_json);
}

static void report_text(FILE *f, struct pt_view *v, const struct pt_listing *o)
{
	if (pt_by_type) {   /* report --by type: the Python objects left */
		pt_print_by_type(f, v, 0, o->top, o->frames);
		return;
	}
	const struct pt_profile *p = &v->p;
	uint64_t nalloc = p->n_alloc[0] + p->n_alloc[1];
	uint64_t bytes = p->bytes_alloc[0] + p->bytes_alloc[1];
	uint64_t live_n = p->live_n[0] + p->live_n[1];

	pt_print_heading(f, "report", v);
	fprintf(f, "calls:      malloc %s, free %s, realloc %s\n", PT_N(p->n_malloc),
	        PT_N(p->n_free), PT_N(p->n_realloc));
	fprintf(f, "blocks:     %s allocated: %s from pools (%.1f%%), %s from glibc\n", PT_N(nalloc),
	        PT_N(p->n_alloc[0]), pt_pct(p->n_alloc[0], nalloc), PT_N(p->n_alloc[1]));
	fprintf(f, "allocated:  %s in total: pools %s, glibc %s\n", PT_B(bytes),
	        PT_B(p->bytes_alloc[0]), PT_B(p->bytes_alloc[1]));
	if (p->sampled)
		fprintf(f, "temporary:  not counted in a sampled trace (its events are too few "
		        "to tell what came in between)\n");
	else
		fprintf(f, "temporary:  %s allocations (%.1f%% of all), %s: freed with no other "
		        "allocation in between\n", PT_N(p->n_temp), pt_pct(p->n_temp, nalloc),
		        PT_B(p->bytes_temp));
	pt_print_peak(f, p);
	fprintf(f, "peak RSS:   %s at %s (the highest of any snapshot)\n", PT_B(p->peak_rss),
	        PT_T(p->peak_rss_time_ns));
	fprintf(f, "not freed:  %s in %s %s: pools %s, glibc %s\n", PT_B(p->live), PT_N(live_n),
	        pt_plural(live_n, "block", "blocks"), PT_B(p->live_bytes[0]),
	        PT_B(p->live_bytes[1]));
	if (p->have_leaks)
		fprintf(f, "leaks:      definitely lost %s in %s, indirectly lost %s in %s, still "
		        "reachable %s in %s (pooltrace leaks)\n",
		        PT_B(p->leak_bytes[PT_LEAK_DEFINITE]), PT_N(p->leak_n[PT_LEAK_DEFINITE]),
		        PT_B(p->leak_bytes[PT_LEAK_INDIRECT]), PT_N(p->leak_n[PT_LEAK_INDIRECT]),
		        PT_B(p->leak_bytes[PT_LEAK_REACHABLE]), PT_N(p->leak_n[PT_LEAK_REACHABLE]));

	uint64_t total[] = { p->peak, nalloc, p->n_temp, p->live };
	for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
		top_sites(f, v, lists[l].title, lists[l].off, lists[l].n_off, total[l], lists[l].what,
		          o->top, o->frames, lists[l].count_first);
	histogram(f, p);
	timeline(f, p, 20);
}
