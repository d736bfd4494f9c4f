/*
 * view.h - a loaded trace with its symbolizer, and how the reports print
 * what is in it: stacks, sizes, counts, the heading of a text report.
 * What the report commands (cmd_*.c) share.
 */
#ifndef POOLTRACE_VIEW_H
#define POOLTRACE_VIEW_H

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

/* The most frames a stack can have once inlined calls are expanded. */
#define PT_VIEW_MAX_FRAMES (PT_TRACE_MAX_FRAMES * 4)

/* --native (every command): show the Python interpreter's own native
 * frames too, which stacks with Python frames leave out. */
extern int pt_view_native;

/*
 * The frames of stack id, innermost first, symbolized (inlined calls
 * expanded), frames inside libpooltrace itself and the allocation
 * functions' own frames dropped.  In a stack with Python frames, the
 * interpreter's own native frames are dropped too, and the native frames
 * outer than the outermost Python frame (the start of the process or the
 * thread), unless pt_view_native.
 * Returns the number stored in out (at most max).
 */
size_t pt_view_frames(struct pt_view *v, uint32_t stack, const struct pt_frame **out,
                      size_t max);

/* Print a stack as indented lines "      at func (file:line)" /
 * "      at func (module)", innermost first, at most max_frames of them. */
void pt_print_stack(FILE *f, struct pt_view *v, uint32_t stack, unsigned max_frames,
                    const char *indent);

/* The first lines of a text report: "pooltrace CMD: TRACE", the program
 * and its arguments, its pid, how it was recorded (and the Python
 * interpreter, for a Python program), how long it ran and how it ended. */
void pt_print_heading(FILE *f, const char *cmd, const struct pt_view *v);

/* Human units: "1.5 MiB", "812 B"; into buf, returned.  With
 * pt_exact_bytes set (--bytes), the exact count: "1,572,864 B". */
extern int pt_exact_bytes;
const char *pt_fmt_bytes(char *buf, size_t cap, uint64_t bytes);
/* Thousands separated: "1,234,567". */
const char *pt_fmt_count(char *buf, size_t cap, uint64_t n);
/* A time since the start with the precision a short run needs: "1.234 s",
 * "308.949 ms", "412.3 µs", "0 s".  pt_time_unit: the unit of the times of
 * a run of span ns (a table's rows in one unit): its name, returned, what
 * ns are divided by, and the decimals to print. */
const char *pt_fmt_time(char *buf, size_t cap, uint64_t ns);
const char *pt_time_unit(uint64_t span, double *scale, int *decimals);

/* The same as printf arguments, each in a buffer of its own that lives
 * until the end of the enclosing block. */
#define PT_B(x) pt_fmt_bytes((char[32]){ 0 }, 32, (x))
#define PT_N(x) pt_fmt_count((char[32]){ 0 }, 32, (x))
#define PT_T(x) pt_fmt_time((char[32]){ 0 }, 32, (x))

/* a as a percentage of b; 0 when b is */
static inline double pt_pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static inline const char *pt_plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}


struct pt_listing;
/*
 * The body of a command whose options are the listing ones and one trace
 * (report, frag): the options, the trace, its text or JSON on stdout.  The
 * command's exit status.
 */
int pt_listing_command(const char *cmd, const char *usage, int argc, char **argv,
                       struct pt_listing defaults,
                       void (*text)(FILE *f, struct pt_view *v, const struct pt_listing *o),
                       void (*json)(FILE *f, struct pt_view *v, const struct pt_listing *o));

#endif
