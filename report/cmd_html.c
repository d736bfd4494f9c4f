/*
 * cmd_html.c - pooltrace html [-o FILE] TRACE: one self-contained page
 * (CSS, script and SVG inline; nothing is fetched) showing a trace the way
 * heaptrack_gui or memray's report do: a summary, the timeline of the heap
 * and RSS, flame graphs of the heap at its peak and of what was left at
 * exit, the top allocation sites, the pool allocator's fragmentation and
 * the histogram of requested sizes.  FILE defaults to TRACE.html.
 *
 * The page is report/html/page.html with its style sheet (style.css), its
 * scripts (the .js files of html/) and the trace's figures put in place of three
 * placeholder lines (html.h).  The C side only gathers figures, as one
 * JSON document in <script type="application/json" id="pt-data">
 * (html_data.c); the script parses it with JSON.parse and builds the DOM
 * with textContent, never innerHTML.
 *
 * Rendering done, the script sets document.body.dataset.ptStatus to "ok";
 * an uncaught error sets it to "error: MESSAGE" and shows a banner (what
 * tests/test_html.sh checks in a headless browser).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "html.h"
#include "output.h"
#include "util.h"
#include "view.h"

static const char usage[] =
	"usage: pooltrace html [-o FILE] [--native] TRACE\n"
	"\n"
	"One self-contained page (no network): summary, timeline (drag to pick a time\n"
	"range: what it allocated and what was live at its end, by stack; or open the\n"
	"page at #range=T0-T1, in ns), flame graphs of the peak, the leaks and the\n"
	"allocations, top-down or bottom-up, callers and callees of a function, tables,\n"
	"fragmentation, sizes.  Prints where it wrote the page on standard error.\n"
	"\n"
	"  -o, --output FILE   the page (default TRACE.html; -: standard output)\n"
	"  --native            the Python interpreter's own native frames too\n";

/* The placeholders of html/page.html, each a whole line of it, in the
 * order they come, and what replaces them: open, the files (NULL: the
 * document of figures), close.  The scripts go into one function, in
 * strict mode: they share its names, and nothing leaks into the page's
 * global scope. */
static const struct pt_html_file *const style_files[] = { &pt_html_style, NULL };
static const struct {
	const char *line, *open;
	const struct pt_html_file *const *files;
	const char *close;
} fill[] = {
	{ "<link rel=\"stylesheet\" href=\"style.css\">\n", "<style>\n", style_files,
	  "</style>\n" },
	{ "<script type=\"application/json\" id=\"pt-data\"></script>\n",
	  "<script type=\"application/json\" id=\"pt-data\">", NULL, "</script>\n" },
	{ "<script src=\"app.js\"></script>\n", "<script>\n(function () {\n'use strict';\n",
	  pt_html_scripts, "})();\n</script>\n" },
};

static void put_file(struct pt_buf *b, const struct pt_html_file *f)
{
	pt_buf_put(b, f->start, (size_t)(f->end - f->start));
}

/* The page of v: html/page.html with the style sheet, the document of
 * figures and the script in place of their placeholders.  0, or -1 after
 * one error line if the page has lost a placeholder. */
static int build_page(struct pt_view *v, struct pt_buf *page)
{
	const char *at = pt_html_page.start, *end = pt_html_page.end;
	for (size_t k = 0; k < sizeof fill / sizeof fill[0]; k++) {
		size_t len = strlen(fill[k].line);
		const char *hole = memmem(at, (size_t)(end - at), fill[k].line, len);
		if (!hole) {
			fprintf(stderr, "pooltrace: html/page.html has no line %.*s", (int)len,
			        fill[k].line);
			return -1;
		}
		pt_buf_put(page, at, (size_t)(hole - at));
		pt_buf_put(page, fill[k].open, strlen(fill[k].open));
		if (fill[k].files)
			for (const struct pt_html_file *const *f = fill[k].files; *f; f++)
				put_file(page, *f);
		else
			pt_html_data(v, page);
		pt_buf_put(page, fill[k].close, strlen(fill[k].close));
		at = hole + len;
	}
	pt_buf_put(page, at, (size_t)(end - at));
	return 0;
}

/* The page of v into the file out: 0, or 3 after one error line.  A
 * regular file left incomplete is removed. */
static int write_page(struct pt_view *v, const char *out)
{
	struct pt_buf page = { 0 };
	if (build_page(v, &page)) {
		free(page.s);
		return PT_EXIT_OUTPUT;
	}
	FILE *f = pt_output_open(out);
	if (f)
		fwrite(page.s, 1, page.len, f);
	size_t len = page.len;
	free(page.s);
	int rc = f ? pt_output_close(f, 0) : PT_EXIT_OUTPUT;
	if (!rc && strcmp(out, "-") != 0)
		fprintf(stderr, "pooltrace: wrote %s (%s)\n", out, PT_B(len));
	return rc;
}

int pt_cmd_html(int argc, char **argv)
{
	static const struct pt_optdef defs[] = { { "output", 'o', 1, 1 }, { 0 } };
	const char *out = NULL, *path = NULL;
	struct pt_cmdline c;
	pt_opt_init(&c, "html", usage, argc, argv);
	int id;
	while ((id = pt_opt_next(&c, defs)) != PT_OPT_END) {
		if (id == PT_OPT_STOP)
			return c.status;
		if (id == 1)
			out = c.arg;
		else if (pt_opt_trace(&c, &path, 1))
			return c.status;
	}
	if (!path)
		return pt_opt_no_trace(&c);

	char *def = NULL;
	if (!out) {
		def = pt_xmalloc(strlen(path) + sizeof ".html");
		out = strcat(strcpy(def, path), ".html");
	}
	struct pt_view v;
	pt_profile_steps = 1;     /* the page's time ranges */
	int rc = pt_view_open(&v, path);
	if (!rc) {
		rc = write_page(&v, out);
		if (!rc && pt_trace_partial(v.p.t))
			rc = PT_EXIT_PARTIAL;
		pt_view_close(&v);
	}
	free(def);
	return rc;
}
