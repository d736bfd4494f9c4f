/*
 * pylines.h - the line of a Python frame, from the line table of its code
 * object as the interpreter kept it (PT_REC_CODE) and the offset of the
 * instruction the frame was executing.
 *
 * Three formats (trace_format.h, enum pt_pylines), each decoded as
 * CPython's own PyCode_Addr2Line() decodes it:
 *   3.8, 3.9   co_lnotab: pairs (byte offset increment, signed line
 *              increment), offsets in bytes
 *   3.10       co_linetable: pairs (bytes covered, signed line delta; -128:
 *              no line), offsets in bytes (PEP 626)
 *   3.11 on    co_linetable, the location table (PEP 657): entries of a
 *              head byte 1CCCCLLL (code C, L + 1 code units covered) and
 *              the code's varints; lines only are read here
 * A table that is cut or malformed gives what it decoded up to there.
 */
#ifndef POOLTRACE_PYLINES_H
#define POOLTRACE_PYLINES_H

#include <stddef.h>
#include <stdint.h>

/*
 * The line of the instruction at offset (in 16-bit code units; -1: before
 * the first instruction, which is the first line) of a code object whose
 * first line is firstline and whose table of that format is t[0..n).
 * 0 when the table gives none (an unknown format, an offset beyond it, an
 * instruction without a line).
 */
unsigned pt_pylines_line(unsigned format, const uint8_t *t, size_t n, uint64_t firstline,
                         int64_t offset);

#endif
