/*
 * html.h - the parts of `pooltrace html`: the page's own files, in
 * report/html/ and embedded in the binary (html_assets.c); the document of
 * the trace's figures that the page carries (html_data.c); the command,
 * which puts them together and writes the page (cmd_html.c).
 */
#ifndef POOLTRACE_HTML_H
#define POOLTRACE_HTML_H

#include "util.h"
#include "view.h"

/* An embedded file: its bytes from start up to end. */
struct pt_html_file {
	const char *start, *end;
};

extern const struct pt_html_file pt_html_page;     /* html/page.html */
extern const struct pt_html_file pt_html_style;    /* html/style.css */
/* html/data.js, draw.js, summary.js, timeline.js, flame.js, tables.js and
 * app.js, in that order (each defines what the later ones use); NULL after */
extern const struct pt_html_file *const pt_html_scripts[];

/* The figures of v, as the JSON document the scripts draw the page from,
 * appended to out. */
void pt_html_data(struct pt_view *v, struct pt_buf *out);

#endif
