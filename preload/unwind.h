/*
 * unwind.h - libunwind, private to the library and loaded only when a mode
 * needs stacks (unwind.c).
 *
 * The stack capture (stacks.h) calls libunwind's unw_backtrace through
 * pt__unw_backtrace, a pointer into a copy of libunwind loaded with
 * RTLD_LOCAL, so that libunwind's _Unwind_* functions never enter the
 * program's global scope.  A call through the pointer from the inlined
 * capture adds no frame for libunwind to step over (a forwarding function
 * of ours cost some 80 instructions per stack).
 */
#ifndef POOLTRACE_UNWIND_H
#define POOLTRACE_UNWIND_H

#include <stdint.h>

#include "../allocator/compiler.h"

/* libunwind's unw_backtrace, NULL until loaded (acquire). */
PT_HIDDEN extern int (*pt__unw_backtrace)(void **buf, int size);

/*
 * Load libunwind (once).  Call from the constructor only: dlopen allocates
 * and takes the loader's lock.  Until it has run, and if it fails (one
 * warning line), unw_backtrace finds no frame.  Returns 0 or -1.
 */
PT_HIDDEN int pt__unwind_load(void);

/* The load bias of the private libunwind, 0 if it is not loaded: its
 * thread-local data (its per-thread cache of what it unwound) is ours,
 * never a root of the exit scan. */
PT_HIDDEN uintptr_t pt__unwind_base(void);

/* libunwind's per-thread cache of unwind information (the recorder's
 * setting); nothing if it is not loaded. */
PT_HIDDEN void pt__unwind_cache_per_thread(void);

#endif
