/*
 * symbolizer.h - names and source lines for the frames of a debug report
 * (debug.c), from the program's debug information, by running
 * `pooltrace symbolize` at report time as ASan runs its external
 * symbolizer.
 *
 * The tool is POOLTRACE_SYMBOLIZER if set to a path (0 or none: no tool),
 * else the first of pooltrace beside this library, ../bin/pooltrace from
 * its directory, and pooltrace on PATH.  It runs in a child process
 * (clone and execve, pipes, no allocation, no stdio, no SIGCHLD) with a
 * deadline of POOLTRACE_SYMBOLIZER_TIMEOUT seconds, after which it is
 * killed.  When it cannot be used the caller names the frames itself
 * (dladdr: module+offset for a program's own functions); a tool that could
 * not be found or run, timed out or answered wrongly is not tried again by
 * this process, and the first such failure is given to the caller, once,
 * to print (a default tool that is not installed is not worth a warning).
 */
#ifndef POOLTRACE_SYMBOLIZER_H
#define POOLTRACE_SYMBOLIZER_H

#include <stddef.h>
#include <stdint.h>

#include "../allocator/compiler.h"

#define PT_SYMB_MAX 64            /* addresses per call */

struct pt_symb {
	unsigned n;               /* addresses asked */
	/* the frames of address i, innermost (inlined) first, as the reports
	 * print them ("fn (file.c:12)"): line[first[i] .. first[i + 1]); none
	 * when the tool could not name it (the caller names it itself) */
	unsigned first[PT_SYMB_MAX + 1];
	const char *const *line;
	/* the tool's warnings ("module X not found: ..."), without "pooltrace: " */
	unsigned nnotes;
	const char *const *note;
};

/*
 * The frames of the n (at most PT_SYMB_MAX) return addresses ip[]: the
 * answer, which stays valid and owned by this thread until
 * pt__symb_done(); or NULL (no tool, or it failed), with why (cap bytes)
 * the one line to warn with the first time a tool failed, "" otherwise.
 * Another thread's call waits for this one to end.  Preserves errno.
 */
PT_HIDDEN const struct pt_symb *pt__symb_run(const uintptr_t *ip, unsigned n, char *why,
                                             size_t cap);
PT_HIDDEN void pt__symb_done(void);

/* fork: the child's copy is free (the thread that held it is not there). */
PT_HIDDEN void pt__symb_fork_child(void);

#endif
