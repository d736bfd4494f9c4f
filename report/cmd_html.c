/*
 * cmd_html.c - pooltrace html [-o FILE] TRACE: one self-contained page
 * (CSS, script and SVG inline; nothing is fetched) showing a trace the way
 * heaptrack_gui or memray's report do: a summary, the timeline of the heap
 * and RSS, flame graphs of the heap at its peak and of what was left at
 * exit, the top allocation sites, the pool allocator's fragmentation and
 * the histogram of requested sizes.  FILE defaults to TRACE.html.
 *
 * The page is report/html/page.html with its style sheet (style.css), its
 * script (app.js) and the trace's figures put in place of three
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

/* The placeholders of html/page.html, each a whole line of it, in the
 * order they come, and what replaces them: open, the file (NULL: the
 * document of figures), close. */
static const struct {
	const char *line, *open;
	const struct pt_html_file *file;
	const char *close;
} fill[] = {
	{ "<link rel=\"stylesheet\" href=\"style.css\">\n", "<style>\n", &pt_html_style,
	  "</style>\n" },
	{ "<script type=\"application/json\" id=\"pt-data\"></script>\n",
	  "<script type=\"application/json\" id=\"pt-data\">", NULL, "</script>\n" },
	{ "<script src=\"app.js\"></script>\n", "<script>\n", &pt_html_app, "</script>\n" },
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
		if (fill[k].file)
			put_file(page, fill[k].file);
		else
			pt_html_data(v, page);
		pt_buf_put(page, fill[k].close, strlen(fill[k].close));
		at = hole + len;
	}
	pt_buf_put(page, at, (size_t)(end - at));
	return 0;
}

/* The page of v into the file out: 0, or 2 after one error line.  A
 * regular file left incomplete is removed. */
static int write_page(struct pt_view *v, const char *out)
{
	struct pt_buf page = { 0 };
	if (build_page(v, &page)) {
		free(page.s);
		return 2;
	}
	FILE *f = pt_output_open(out);
	if (f)
		fwrite(page.s, 1, page.len, f);
	free(page.s);
	return f ? pt_output_close(f, out) : 2;
}

int pt_cmd_html(int argc, char **argv)
{
	const char *out = NULL, *path = NULL;
	for (int i = 0; i < argc; i++) {
		int rc = pt_opt_output("html", argc, argv, &i, &out);
		if (rc < 0)
			rc = pt_opt_trace("html", argv[i], &path, 1);
		if (rc)
			return rc;
	}
	if (!path)
		return pt_opt_no_trace("html");

	char *def = NULL;
	if (!out) {
		def = pt_xmalloc(strlen(path) + sizeof ".html");
		out = strcat(strcpy(def, path), ".html");
	}
	struct pt_view v;
	int rc = pt_view_open(&v, path);
	if (!rc) {
		rc = write_page(&v, out);
		pt_view_close(&v);
	}
	free(def);
	return rc;
}
