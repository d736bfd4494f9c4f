/*
 * output.h - where a command writes what it makes: standard output, or the
 * file named with -o.  A write that fails is one error line and exit
 * status 2, and leaves no partial regular file behind.
 */
#ifndef POOLTRACE_OUTPUT_H
#define POOLTRACE_OUTPUT_H

#include <stdio.h>

/* The file out, created or truncated; standard output if out is NULL.
 * NULL after one error line. */
FILE *pt_output_open(const char *out);

/* Flush and close f (standard output is flushed only): 0, or 2 after one
 * error line, "cannot write OUT: REASON".  A regular file is then removed
 * (half a profile is no use); a device such as /dev/full is left alone. */
int pt_output_close(FILE *f, const char *out);

#endif
