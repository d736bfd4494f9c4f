/*
 * output.h - where a command writes what it makes: standard output, or the
 * file named with -o.  Every write is checked: the first error is kept
 * (with its errno, taken when the write failed) and the close reports it
 * as one line and exit status 3 (PT_EXIT_OUTPUT), leaving no partial
 * regular file behind.
 */
#ifndef POOLTRACE_OUTPUT_H
#define POOLTRACE_OUTPUT_H

#include <stdio.h>

/* The file out, created or truncated; standard output if out is NULL or
 * "-".  NULL after one error line ("cannot write OUT: REASON"). */
FILE *pt_output_open(const char *out);

/* Flush and close f: rc, or PT_EXIT_OUTPUT after one error line if any
 * write to f failed.  A regular file is then removed (half a report is no
 * use); a device such as /dev/full is left alone.  Standard output is
 * flushed and its descriptor left open. */
int pt_output_close(FILE *f, int rc);

/* The name pt_output_open was given, for messages: "standard output" for
 * NULL and "-". */
const char *pt_output_name(const char *out);

#endif
