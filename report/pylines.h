/*
 * pylines.h - the line of a Python frame: the runs of its code object's
 * record (PT_REC_CODE, trace_format.h), which the recorder made from the
 * interpreter's own line table (preload/python_lines.c), and the offset of
 * the instruction the frame was executing.
 */
#ifndef POOLTRACE_PYLINES_H
#define POOLTRACE_PYLINES_H

#include <stddef.h>
#include <stdint.h>

/*
 * The line of the instruction at offset (in 16-bit code units; -1: before
 * the first instruction, which is the first line) of a code object whose
 * first line is firstline and whose runs are t[0..n).  0 when the runs give
 * none (an offset beyond them, an instruction without a line, a damaged
 * record).
 */
unsigned pt_pylines_line(const uint8_t *t, size_t n, uint64_t firstline, int64_t offset);

#endif
