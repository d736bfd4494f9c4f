/*
 * cmd_leaks.c - pooltrace leaks [--fail-on-leak] [--suppressions FILE]
 * [--no-reachable] [--top N] [--frames N] [--bytes] [--json] TRACE: the
 * blocks never freed, by stack, biggest first, as memcheck and
 * LeakSanitizer list them: definitely lost, indirectly lost, still
 * reachable (the recorder's exit scan); without the scan, every live block
 * as "not freed".  Suppressions are LeakSanitizer's; --fail-on-leak makes
 * anything lost exit status 1.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "output.h"
#include "python.h"
#include "report_json.h"
#include "util.h"
#include "view.h"

static const char usage[] =
	"usage: pooltrace leaks [--fail-on-leak] [--suppressions FILE] [--no-reachable]\n"
	"                       [--top N] [--frames N] [--bytes] [--json] [--by type]\n"
	"                       [--native] TRACE\n"
	"\n"
	"The blocks never freed, by stack, biggest first: definitely lost, indirectly\n"
	"lost, still reachable (from the library's scan at exit).\n"
	"\n"
	"  --fail-on-leak        exit 1 if a block not suppressed is definitely or\n"
	"                        indirectly lost\n"
	"  --suppressions FILE   LeakSanitizer's syntax: leak:PATTERN lines\n"
	"  --no-reachable        do not list still reachable blocks (still counted)\n"
	"  --top N               stacks listed per kind (default 20)\n"
	"  --frames N            frames printed per stack (default 12)\n"
	"  --bytes               exact byte counts instead of KiB, MiB...\n"
	"  --json                the JSON document of pooltrace(1), JSON OUTPUT, on stdout\n"
	"  --by type             the Python objects left, by type and allocation site:\n"
	"                        when the interpreter began to finalize, and at exit\n"
	"  --native              the Python interpreter's own native frames too\n";

struct supp {
	char **pat;
	uint64_t *hits, *hit_bytes;
	size_t n;
};

static void supp_free(struct supp *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->pat[i]);
	free(s->pat);
	free(s->hits);
	free(s->hit_bytes);
}

/* LeakSanitizer's syntax: "leak:PATTERN" lines, '#' comments; a pattern
 * is a substring with '*' wildcards, '^' and '$' anchor it. */
static int supp_load(struct supp *s, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "pooltrace: cannot read suppressions %s: %s\n", path, strerror(errno));
		return PT_EXIT_USAGE;
	}
	char line[4096];
	unsigned lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *e = line + strlen(line);
		while (e > line && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		char *b = line;
		while (*b == ' ' || *b == '\t')
			b++;
		if (!*b || *b == '#')
			continue;
		if (strncmp(b, "leak:", 5) != 0 || !b[5]) {
			fprintf(stderr, "pooltrace: %s:%u: not a suppression (expected leak:PATTERN): "
			        "%s\n", path, lineno, b);
			fclose(f);
			return PT_EXIT_USAGE;
		}
		s->pat = pt_xrealloc(s->pat, (s->n + 1) * sizeof *s->pat);
		s->hits = pt_xrealloc(s->hits, (s->n + 1) * sizeof *s->hits);
		s->hit_bytes = pt_xrealloc(s->hit_bytes, (s->n + 1) * sizeof *s->hit_bytes);
		s->pat[s->n] = pt_xstrdup(b + 5);
		s->hits[s->n] = s->hit_bytes[s->n] = 0;
		s->n++;
	}
	fclose(f);
	return 0;
}

static int supp_match(const char *pat, const char *text)
{
	if (!text)
		return 0;
	size_t n = strlen(pat);
	char glob[4200];
	int start = pat[0] == '^', end = n && pat[n - 1] == '$';
	snprintf(glob, sizeof glob, "%s%.*s%s", start ? "" : "*", (int)(n - start - end),
	         pat + start, end ? "" : "*");
	return fnmatch(glob, text, 0) == 0;
}

/* The first suppression matching a frame of the stack, or -1. */
static int supp_find(struct supp *s, struct pt_view *v, uint32_t stack)
{
	if (!s->n)
		return -1;
	const struct pt_frame *fr[PT_VIEW_MAX_FRAMES];
	size_t n = pt_view_frames(v, stack, fr, sizeof fr / sizeof fr[0]);
	for (size_t k = 0; k < s->n; k++)
		for (size_t i = 0; i < n; i++)
			if (supp_match(s->pat[k], fr[i]->func) || supp_match(s->pat[k], fr[i]->module) ||
			    supp_match(s->pat[k], fr[i]->file))
				return (int)k;
	return -1;
}

struct leak_row {
	struct pt_site *site;
	unsigned cls;
	uint64_t n, bytes;
};

static int by_bytes(const void *a, const void *b)
{
	const struct leak_row *x = a, *y = b;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->site->stack < y->site->stack ? -1 : x->site->stack > y->site->stack;
}

static const char *const class_title[] = {
	"Direct leak", "Indirect leak", "Still reachable",
};

/* the "kind" of a leak in the JSON document */
static const char *const class_key[] = {
	"definitely_lost", "indirectly_lost", "still_reachable",
};

static void print_sizes(FILE *f, const struct pt_site *s)
{
	if (s->min_size == s->max_size)
		fprintf(f, "size %llu", (unsigned long long)s->min_size);
	else
		fprintf(f, "sizes %llu..%llu", (unsigned long long)s->min_size,
		        (unsigned long long)s->max_size);
}

struct leaks_opts {
	struct pt_listing list;
	const char *path, *supp;
	int fail_on_leak, no_reachable;
};

enum { OPT_FAIL, OPT_NO_REACHABLE, OPT_SUPP };

/* The end of the JSON document, after the list of stacks. */
static void leaks_json_end(struct pt_json *j, const struct pt_profile *p, const struct supp *supp,
                           const struct leaks_opts *o, const uint64_t *n, const uint64_t *b,
                           const unsigned *printed, uint64_t sup_n, uint64_t sup_b)
{
	pt_json_close(j, ']');
	pt_json_open(j, "more", '{');
	for (unsigned c = 0; c < PT_LEAK_CLASSES; c++)
		if (p->have_leaks || c == PT_LEAK_DEFINITE)
			pt_json_u64(j, p->have_leaks ? class_key[c] : "not_freed",
			            printed[c] > o->list.top ? printed[c] - o->list.top : 0);
	pt_json_close(j, '}');
	pt_json_open(j, "summary", '{');
	for (unsigned c = 0; c < PT_LEAK_CLASSES; c++)
		if (p->have_leaks)
			pt_jr_count(j, class_key[c], n[c], b[c]);
		else
			pt_json_null(j, class_key[c]);
	if (p->have_leaks) {
		pt_json_null(j, "not_freed");
		pt_json_u64(j, "roots_bytes", p->leak_roots_bytes);
	} else {
		pt_jr_count(j, "not_freed", n[0], b[0]);
		pt_json_null(j, "roots_bytes");
	}
	pt_json_close(j, '}');
	if (o->supp) {
		pt_json_open(j, "suppressed", '{');
		pt_json_u64(j, "blocks", sup_n);
		pt_json_u64(j, "bytes", sup_b);
		pt_json_open(j, "patterns", '[');
		for (size_t k = 0; k < supp->n; k++) {
			pt_json_open(j, NULL, '{');
			pt_json_str(j, "pattern", supp->pat[k]);
			pt_json_u64(j, "blocks", supp->hits[k]);
			pt_json_u64(j, "bytes", supp->hit_bytes[k]);
			pt_json_close(j, '}');
		}
		pt_json_close(j, ']');
		pt_json_close(j, '}');
	} else {
		pt_json_null(j, "suppressed");
	}
	pt_json_bool(j, "lost", n[PT_LEAK_DEFINITE] || n[PT_LEAK_INDIRECT]);
	pt_jr_end(j);
}

/* 0 and o filled, or the exit status (c->status after --help: 0, with
 * o->path NULL). */
static int parse_leaks(int argc, char **argv, struct leaks_opts *o)
{
	static const struct pt_optdef defs[] = {
		PT_LISTING_OPTS,
		{ "fail-on-leak", 0, 0, OPT_FAIL },
		{ "no-reachable", 0, 0, OPT_NO_REACHABLE },
		{ "suppressions", 0, 1, OPT_SUPP },
		{ 0 },
	};
	struct pt_cmdline c;
	pt_opt_init(&c, "leaks", usage, argc, argv);
	int id;
	while ((id = pt_opt_next(&c, defs)) != PT_OPT_END) {
		int rc = 0;
		if (id == PT_OPT_STOP)
			return c.status;
		else if (id == OPT_FAIL)
			o->fail_on_leak = 1;
		else if (id == OPT_NO_REACHABLE)
			o->no_reachable = 1;
		else if (id == OPT_SUPP)
			o->supp = c.arg;
		else if (id == PT_OPT_OPERAND)
			rc = pt_opt_trace(&c, &o->path, 1);
		else
			rc = pt_opt_listing(&c, id, &o->list);
		if (rc)
			return c.status;
	}
	return o->path ? 0 : pt_opt_no_trace(&c);
}

int pt_cmd_leaks(int argc, char **argv)
{
	struct leaks_opts o = { .list = { .top = 20, .frames = 12 } };
	int rc = parse_leaks(argc, argv, &o);
	if (rc || !o.path)        /* an error, or --help */
		return rc;
	if (pt_by_type && o.list.json)
		return pt_usage_error("leaks: --by type has no JSON form");
	struct supp supp = { 0 };
	if (o.supp && (rc = supp_load(&supp, o.supp))) {
		supp_free(&supp);
		return rc;
	}
	struct pt_view v;
	if ((rc = pt_view_open(&v, o.path))) {
		supp_free(&supp);
		return rc;
	}
	struct pt_profile *p = &v.p;
	FILE *f = pt_output_open(NULL);
	if (!f) {
		supp_free(&supp);
		pt_view_close(&v);
		return PT_EXIT_OUTPUT;
	}
	if (pt_by_type) {   /* leaks --by type: the Python objects at exit */
		pt_print_by_type(f, &v, 1, o.list.top, o.list.frames);
		rc = pt_trace_partial(p->t) ? PT_EXIT_PARTIAL : PT_EXIT_OK;
		supp_free(&supp);
		pt_view_close(&v);
		return pt_output_close(f, rc);
	}
	/* rows: per site and class; without the exit scan every live block
	 * is "not freed", class unknown (shown as direct for --fail-on-leak) */
	size_t nrows = 0;
	struct leak_row *row = pt_xcalloc(p->nsites * PT_LEAK_CLASSES + 1, sizeof *row);
	for (size_t i = 0; i < p->nsites; i++) {
		struct pt_site *s = &p->site[i];
		if (!p->have_leaks) {
			if (s->live_n)
				row[nrows++] = (struct leak_row){ s, PT_LEAK_DEFINITE, s->live_n,
				                                  s->live_bytes };
			continue;
		}
		for (unsigned c = 0; c < PT_LEAK_CLASSES; c++)
			if (s->leak_n[c])
				row[nrows++] = (struct leak_row){ s, c, s->leak_n[c], s->leak_bytes[c] };
	}
	qsort(row, nrows, sizeof *row, by_bytes);

	uint64_t shown_n[PT_LEAK_CLASSES] = { 0 }, shown_b[PT_LEAK_CLASSES] = { 0 };
	uint64_t sup_n = 0, sup_b = 0;
	const char *no_scan = p->have_leaks ? NULL : p->sampled ? "sampled traces have none" :
	                      p->t->ended ? "written by an older pooltrace" :
	                      "the program did not exit";
	struct pt_buf jb = { 0 };
	struct pt_json j;
	if (o.list.json) {
		pt_jr_begin(&j, &jb, f, "leaks");
		pt_jr_trace(&j, "trace", &v);
		pt_json_bool(&j, "scan", p->have_leaks);
		pt_json_str(&j, "no_scan_reason", no_scan);
		pt_json_open(&j, "stacks", '[');
	} else {
		pt_print_heading(f, "leaks", &v);
		if (!p->have_leaks)
			fprintf(f, "\nNo reachability scan in this trace (%s): blocks not freed are "
			        "listed without telling lost from reachable.\n", no_scan);
	}
	unsigned printed[PT_LEAK_CLASSES] = { 0 };
	for (size_t i = 0; i < nrows; i++) {
		struct leak_row *r = &row[i];
		int k = supp_find(&supp, &v, r->site->stack);
		if (k >= 0) {
			supp.hits[k] += r->n;
			supp.hit_bytes[k] += r->bytes;
			sup_n += r->n;
			sup_b += r->bytes;
			continue;
		}
		shown_n[r->cls] += r->n;
		shown_b[r->cls] += r->bytes;
		if (r->cls == PT_LEAK_REACHABLE && o.no_reachable)
			continue;
		if (printed[r->cls]++ >= o.list.top)
			continue;
		if (o.list.json) {
			pt_json_open(&j, NULL, '{');
			pt_json_str(&j, "kind", p->have_leaks ? class_key[r->cls] : "not_freed");
			pt_json_u64(&j, "blocks", r->n);
			pt_json_u64(&j, "bytes", r->bytes);
			pt_json_u64(&j, "min_size", r->site->min_size);
			pt_json_u64(&j, "max_size", r->site->max_size);
			pt_jr_stack(&j, &v, r->site->stack, (unsigned)o.list.frames);
			pt_json_close(&j, '}');
			pt_json_flush(&j);
			continue;
		}
		fprintf(f, "\n%s%s %s in %s %s (", p->have_leaks ? class_title[r->cls] : "Not freed",
		        r->cls == PT_LEAK_REACHABLE ? ":" : " of", PT_B(r->bytes), PT_N(r->n),
		        pt_plural(r->n, "block", "blocks"));
		print_sizes(f, r->site);
		fprintf(f, ") allocated from:\n");
		pt_print_stack(f, &v, r->site->stack, (unsigned)o.list.frames, "    ");
	}
	if (o.list.json) {
		leaks_json_end(&j, p, &supp, &o, shown_n, shown_b, printed, sup_n, sup_b);
		free(jb.s);
	}
	for (unsigned c = 0; c < PT_LEAK_CLASSES && !o.list.json; c++)
		if (printed[c] > o.list.top)
			fprintf(f, "\n... %u more %s stacks (--top)\n",
			        printed[c] - (unsigned)o.list.top,
			        p->have_leaks ? class_title[c] : "not freed");

	if (o.list.json)
		;
	else if (fprintf(f, "\nSUMMARY\n"), p->have_leaks) {
		fprintf(f, "  definitely lost: %s in %s %s\n", PT_B(shown_b[0]), PT_N(shown_n[0]),
		        pt_plural(shown_n[0], "block", "blocks"));
		fprintf(f, "  indirectly lost: %s in %s %s\n", PT_B(shown_b[1]), PT_N(shown_n[1]),
		        pt_plural(shown_n[1], "block", "blocks"));
		fprintf(f, "  still reachable: %s in %s %s\n", PT_B(shown_b[2]), PT_N(shown_n[2]),
		        pt_plural(shown_n[2], "block", "blocks"));
		fprintf(f, "  roots scanned:   %s\n", PT_B(p->leak_roots_bytes));
	} else {
		fprintf(f, "  not freed:       %s in %s %s\n", PT_B(shown_b[0]), PT_N(shown_n[0]),
		        pt_plural(shown_n[0], "block", "blocks"));
	}
	if (o.supp && !o.list.json) {
		fprintf(f, "  suppressed:      %s in %s %s\n", PT_B(sup_b), PT_N(sup_n),
		        pt_plural(sup_n, "block", "blocks"));
		for (size_t k = 0; k < supp.n; k++)
			fprintf(f, "    %s in %s blocks: leak:%s\n", PT_B(supp.hit_bytes[k]),
			        PT_N(supp.hits[k]), supp.pat[k]);
	}
	rc = pt_trace_partial(p->t) ? PT_EXIT_PARTIAL : PT_EXIT_OK;
	if (o.fail_on_leak && (shown_n[PT_LEAK_DEFINITE] || shown_n[PT_LEAK_INDIRECT])) {
		fprintf(stderr, "pooltrace: leaks found: %s lost (--fail-on-leak)\n",
		        PT_B(shown_b[0] + shown_b[1]));
		rc = PT_EXIT_FOUND;
	}
	free(row);
	supp_free(&supp);
	pt_view_close(&v);
	return pt_output_close(f, rc);
}
