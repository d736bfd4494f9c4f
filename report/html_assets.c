/*
 * html_assets.c - the files of report/html/ inside the pooltrace binary
 * (html.h), put there by the assembler's .incbin: no tool beyond the
 * compiler, and no copy of the files in C.  The path is relative to the
 * directory the compiler runs in, the top of the tree; the Makefile lists
 * the files as prerequisites, so that editing one rebuilds.
 */
#include "html.h"

#ifndef PT_HTML_DIR
#define PT_HTML_DIR "report/html"
#endif

/* The bytes of FILE between the symbols NAME_start and NAME_end, read-only,
 * hidden; a NUL after them, so that the text can never run on. */
#define EMBED(name, file)                                                    \
	__asm__(".pushsection .rodata\n"                                      \
	        ".globl " #name "_start\n"                                    \
	        ".hidden " #name "_start\n"                                   \
	        ".type " #name "_start, @object\n"                            \
	        #name "_start:\n"                                             \
	        ".incbin \"" PT_HTML_DIR "/" file "\"\n"                      \
	        ".globl " #name "_end\n"                                      \
	        ".hidden " #name "_end\n"                                     \
	        #name "_end:\n"                                               \
	        ".byte 0\n"                                                   \
	        ".size " #name "_start, . - " #name "_start\n"                \
	        ".popsection\n");                                             \
	extern const char name##_start[], name##_end[]

EMBED(pt_page_html, "page.html");
EMBED(pt_style_css, "style.css");
EMBED(pt_data_js, "data.js");
EMBED(pt_draw_js, "draw.js");
EMBED(pt_summary_js, "summary.js");
EMBED(pt_timeline_js, "timeline.js");
EMBED(pt_flame_js, "flame.js");
EMBED(pt_tables_js, "tables.js");
EMBED(pt_app_js, "app.js");

const struct pt_html_file pt_html_page = { pt_page_html_start, pt_page_html_end };
const struct pt_html_file pt_html_style = { pt_style_css_start, pt_style_css_end };
static const struct pt_html_file data_js = { pt_data_js_start, pt_data_js_end },
	draw_js = { pt_draw_js_start, pt_draw_js_end },
	summary_js = { pt_summary_js_start, pt_summary_js_end },
	timeline_js = { pt_timeline_js_start, pt_timeline_js_end },
	flame_js = { pt_flame_js_start, pt_flame_js_end },
	tables_js = { pt_tables_js_start, pt_tables_js_end },
	app_js = { pt_app_js_start, pt_app_js_end };
const struct pt_html_file *const pt_html_scripts[] = {
	&data_js, &draw_js, &summary_js, &timeline_js, &flame_js, &tables_js, &app_js, NULL,
};
