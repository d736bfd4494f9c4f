/*
 * python_lines.h - the line tables of CPython's code objects, turned into
 * the runs of the trace format (trace_format.h, PT_REC_CODE) once per code
 * object: the reader then needs one decoder for every version, and the
 * runs hold lines only (3.11's table holds columns too, and takes about
 * four times the bytes).
 *
 * The three formats, each read as CPython's own PyCode_Addr2Line() reads
 * it:
 *   3.8, 3.9   co_lnotab: pairs (byte offset increment, signed line
 *              increment), offsets in bytes
 *   3.10       co_linetable: pairs (bytes covered, signed line delta;
 *              -128: no line), offsets in bytes (PEP 626)
 *   3.11 on    co_linetable, the location table (PEP 657): entries of a
 *              head byte 1CCCCLLL (code C, L + 1 code units covered) and
 *              the code's varints and column bytes, which never have bit 7
 * A table that is cut or malformed gives the runs decoded up to there.
 * Nothing here allocates (the recorder calls it).
 */
#ifndef POOLTRACE_PYTHON_LINES_H
#define POOLTRACE_PYTHON_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "../allocator/compiler.h"

enum pt_py_lines {
	PT_PYLINES_LNOTAB = 1,       /* 3.8, 3.9 */
	PT_PYLINES_310 = 2,          /* 3.10 */
	PT_PYLINES_LOCATIONS = 3,    /* 3.11 on */
};

/*
 * The runs of table t[0..n) of that format, for a code object whose first
 * line is firstline, into out[0..cap): their length in bytes (the runs
 * that fit; 0 for an unknown format).
 */
PT_HIDDEN size_t pt__pylines_runs(unsigned format, const uint8_t *t, size_t n, int64_t firstline,
                                  uint8_t *out, size_t cap);

#endif
