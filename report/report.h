/*
 * report.h - what the report commands share: a loaded, symbolized trace,
 * number formatting, stacks as text.
 *
 *   text.c     report, leaks, frag, diff
 *   export.c   export --format massif|pprof|folded|speedscope
 *   html.c     html
 */
#ifndef POOLTRACE_REPORT_H
#define POOLTRACE_REPORT_H

#include <stdio.h>

#include "profile.h"
#include "symbolize.h"

struct pt_view {
	struct pt_profile p;
	struct pt_symbolizer *sym;
	const char *path;
};

/*
 * Load and prepare the trace at path: 0, or 2 after printing one error
 * line (the exit status of a command that cannot read its trace).
 * Prints a warning for a trace cut short (where it ended) and for modules
 * that could not be symbolized.
 */
int pt_view_open(struct pt_view *v, const char *path);
void pt_view_close(struct pt_view *v);

/*
 * The frames of stack id, innermost first, symbolized (inlined calls
 * expanded), frames inside libpooltrace itself and the allocation
 * functions' own frames dropped.  Returns the number stored in out (at
 * most max).
 */
size_t pt_view_frames(struct pt_view *v, uint32_t stack, const struct pt_frame **out,
                      size_t max);

/* Print a stack as indented lines "      at func (file:line)" /
 * "      at func (module)", innermost first, at most max_frames of them. */
void pt_print_stack(FILE *f, struct pt_view *v, uint32_t stack, unsigned max_frames,
                    const char *indent);

/* Human units: "1.5 MiB", "812 B"; into buf, returned. */
const char *pt_fmt_bytes(char *buf, size_t cap, uint64_t bytes);
/* Thousands separated: "1,234,567". */
const char *pt_fmt_count(char *buf, size_t cap, uint64_t n);

/* Commands: argc/argv after the command name; exit status. */
int pt_cmd_report(int argc, char **argv);
int pt_cmd_leaks(int argc, char **argv);
int pt_cmd_frag(int argc, char **argv);
int pt_cmd_diff(int argc, char **argv);
int pt_cmd_export(int argc, char **argv);
int pt_cmd_html(int argc, char **argv);

#endif
