/*
 * cmd_leaks.c - pooltrace leaks [--fail-on-leak] [--suppressions FILE]
 * [--no-reachable] [--top N] [--frames N] TRACE: the blocks never freed,
 * by stack, biggest first, as memcheck and LeakSanitizer list them:
 * definitely lost, indirectly lost, still reachable (the recorder's exit
 * scan); without the scan, every live block as "not freed".
 * Suppressions are LeakSanitizer's; --fail-on-leak makes anything lost
 * exit status 1.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "python.h"
#include "util.h"
#include "view.h"

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
		return 2;
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
			return 2;
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

static int parse_leaks(int argc, char **argv, struct leaks_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int rc = pt_opt_listing("leaks", argc, argv, &i, &o->list);
		if (rc >= 0) {
			if (rc)
				return rc;
		} else if (strcmp(a, "--fail-on-leak") == 0) {
			o->fail_on_leak = 1;
		} else if (strcmp(a, "--no-reachable") == 0) {
			o->no_reachable = 1;
		} else if (strcmp(a, "--suppressions") == 0) {
			if (i + 1 >= argc)
				return pt_usage_error("leaks: --suppressions needs a file");
			o->supp = argv[++i];
		} else if ((rc = pt_opt_trace("leaks", a, &o->path, 1))) {
			return rc;
		}
	}
	return o->path ? 0 : pt_opt_no_trace("leaks");
}

int pt_cmd_leaks(int argc, char **argv)
{
	struct leaks_opts o = { .list = { .top = 20, .frames = 12 } };
	int rc = parse_leaks(argc, argv, &o);
	if (rc)
		return rc;
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
	if (pt_by_type) {   /* leaks --by type: the Python objects at exit */
		pt_print_by_type(stdout, &v, 1, o.list.top, o.list.frames);
		supp_free(&supp);
		pt_view_close(&v);
		return 0;
	}
	struct pt_profile *p = &v.p;
	FILE *f = stdout;
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
	pt_print_heading(f, "leaks", &v);
	if (!p->have_leaks)
		fprintf(f, "\nNo reachability scan in this trace (%s): blocks not freed are listed "
		        "without telling lost from reachable.\n",
		        p->sampled ? "sampled traces have none" :
		        p->t->ended ? "written by an older pooltrace" : "the program did not exit");
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
		fprintf(f, "\n%s%s %s in %s %s (", p->have_leaks ? class_title[r->cls] : "Not freed",
		        r->cls == PT_LEAK_REACHABLE ? ":" : " of", PT_B(r->bytes), PT_N(r->n),
		        pt_plural(r->n, "block", "blocks"));
		print_sizes(f, r->site);
		fprintf(f, ") allocated from:\n");
		pt_print_stack(f, &v, r->site->stack, (unsigned)o.list.frames, "    ");
	}
	for (unsigned c = 0; c < PT_LEAK_CLASSES; c++)
		if (printed[c] > o.list.top)
			fprintf(f, "\n... %u more %s stacks (--top)\n",
			        printed[c] - (unsigned)o.list.top,
			        p->have_leaks ? class_title[c] : "not freed");

	fprintf(f, "\nSUMMARY\n");
	if (p->have_leaks) {
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
	if (o.supp) {
		fprintf(f, "  suppressed:      %s in %s %s\n", PT_B(sup_b), PT_N(sup_n),
		        pt_plural(sup_n, "block", "blocks"));
		for (size_t k = 0; k < supp.n; k++)
			fprintf(f, "    %s in %s blocks: leak:%s\n", PT_B(supp.hit_bytes[k]),
			        PT_N(supp.hits[k]), supp.pat[k]);
	}
	rc = 0;
	if (o.fail_on_leak && (shown_n[PT_LEAK_DEFINITE] || shown_n[PT_LEAK_INDIRECT])) {
		fprintf(stderr, "pooltrace: leaks found: %s lost (--fail-on-leak)\n",
		        PT_B(shown_b[0] + shown_b[1]));
		rc = 1;
	}
	free(row);
	supp_free(&supp);
	pt_view_close(&v);
	return rc;
}
