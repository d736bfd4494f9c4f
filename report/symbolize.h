/*
 * symbolize.h - offline symbols for the return addresses of a trace.
 *
 * A recorded stack holds return addresses in the recorded process; the
 * trace's module maps say which file each one fell in and where that file
 * was loaded.  pt_sym_lookup() turns one address into frames read from the
 * file on disk now (elfutils libdwfl): the symbol (.symtab, else .dynsym),
 * and with debug info (in the file, or a separate one found by build id or
 * debuglink) the source line and the chain of inlined calls.  A file that
 * is missing, not ELF, or whose build id is not the recorded one is not
 * read: its frames carry the module and offset only, and it gets one
 * warning line.
 */
#ifndef POOLTRACE_SYMBOLIZE_H
#define POOLTRACE_SYMBOLIZE_H

#include <stdint.h>

#include "trace_read.h"

struct pt_frame {
	const char *func;         /* demangled function name; NULL if no symbol */
	const char *file;         /* source file as the DWARF line table names it,
	                             NULL without line info */
	unsigned line;            /* 0 if none */
	const char *module;       /* module path; NULL if the address is in no
	                             known module */
	uint64_t addr;            /* the call site (return address - 1), relative
	                             to the module's load bias; absolute when
	                             module is NULL */
	int internal;             /* in libpooltrace itself (module basename
	                             starts with "libpooltrace") */
	int inlined;              /* an inlined call inside the next frame, of
	                             the same address */
	int python;               /* a Python frame: func its qualified name,
	                             file and line its code's; module NULL */
	int interp;               /* a native frame of the Python interpreter's
	                             own code (the module of its evaluation
	                             function), when the trace has Python frames */
	int truncated;            /* the mark of a stack cut at the recorded
	                             depth: func "[truncated]" */
};

struct pt_symbolizer;

/*
 * A symbolizer for the stacks of t, which must stay open until
 * pt_sym_close().  Files are opened lazily, on the first address that
 * falls in them.  Out of memory exits with status 2, as the rest of the
 * report tool does.
 */
struct pt_symbolizer *pt_sym_open(const struct pt_trace *t);
void pt_sym_close(struct pt_symbolizer *s);

/*
 * The frames of the return address ip of a stack of module map generation
 * gen: *n >= 1 of them, innermost (inlined) first, the last one the
 * function that made the call.  A Python frame or the truncation mark
 * (trace_format.h) is one frame; a Python frame whose code was never
 * defined (a damaged or cut trace) is named "[unknown Python code]".  Never fails: an address nothing knows of
 * is one frame with func and module NULL.  Each (gen, ip), and each call
 * site within a file, is resolved once; the frames stay valid until
 * pt_sym_close().  Out of memory exits with status 2, as the rest of the
 * report tool does.
 */
const struct pt_frame *pt_sym_lookup(struct pt_symbolizer *s, unsigned gen, uint64_t ip,
                                     unsigned *n);

/*
 * A short printable name for f: its function, else "module+0xOFF" (the
 * module's basename), else "0xADDR".  The result may live in a buffer of s
 * that the next call overwrites.
 */
const char *pt_sym_name(struct pt_symbolizer *s, const struct pt_frame *f);

/*
 * The warnings so far, one line each without a newline, at most one per
 * module file: "module PATH changed since recording (build-id differs):
 * its frames are unsymbolized" and the like.  For the caller to print
 * once, after the lookups.
 */
const char *const *pt_sym_warnings(const struct pt_symbolizer *s, unsigned *n);

/*
 * The demangled form of a C++ (Itanium ABI) symbol name, malloc'd for the
 * caller to free; NULL if name is not one (it then stays as it is).
 */
char *pt_sym_demangle(const char *name);

#endif
