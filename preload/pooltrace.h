/*
 * pooltrace.h - what libpooltrace.so offers beyond the C malloc API.
 *
 * Link with `pkg-config --libs pooltrace` (or LD_PRELOAD the library) and
 * call these to look at the pool allocator from inside a program.  The
 * allocator's own API and the stats structures are in pool_alloc.h.
 */
#ifndef POOLTRACE_H
#define POOLTRACE_H

#include "pool_alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define POOLTRACE_VERSION "0.2.0"

/*
 * Write the allocator statistics table (the one POOLTRACE_STATS=1 prints at
 * exit) to file descriptor fd.  Does not allocate; safe at any time.
 */
void pt_stats_print(int fd);

/*
 * With POOLTRACE_DEBUG set: check every live block's guard bytes and every
 * freed block in the quarantine, now, reporting each problem on stderr (and
 * aborting at the first unless POOLTRACE_DEBUG=warn).  Returns the number
 * of problems found; 0 without POOLTRACE_DEBUG.
 */
unsigned pt_debug_check(void);

#ifdef __cplusplus
}
#endif
#endif
