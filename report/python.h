/*
 * python.h - the report tool's side of Python programs: the options every
 * command shares for them, what `pooltrace run` does for an interpreter,
 * and the live objects at exit by type.
 */
#ifndef POOLTRACE_REPORT_PYTHON_H
#define POOLTRACE_REPORT_PYTHON_H

#include <stdio.h>

struct pt_view;

/* report --by type, leaks --by type */
extern int pt_by_type;

/*
 * Take the options of Python programs out of a command's argv (after the
 * command name), where any command accepts them: --native (every frame,
 * the interpreter's too: pt_view_native), and for report and leaks
 * "--by type" (or --by=type).  Returns the new argc.
 */
int pt_python_options(const char *cmd, int argc, char **argv);

/*
 * Is the program run as cmd (argv[0], looked up in PATH) a CPython
 * interpreter, or a script whose #! line names one?
 */
int pt_is_python_program(const char *cmd);

/*
 * pooltrace run, for a Python program cmd (and the Python programs it
 * starts, which inherit the environment): PYTHONMALLOC=malloc, so that its
 * objects go through malloc, unless PYTHONMALLOC is set; one line says so.
 */
void pt_python_malloc_env(const char *cmd);

/*
 * The Python objects live at the end (lost and still reachable), by type
 * and allocation site, for `leaks --by type` (leaks nonzero) or `report
 * --by type`, after the heading: the top types, and for each the stacks
 * of its biggest sites with frames frames.  Prints why when the trace has
 * none.  Returns 0.
 */
int pt_print_by_type(FILE *f, struct pt_view *v, int leaks, unsigned long top,
                     unsigned long frames);

#endif
