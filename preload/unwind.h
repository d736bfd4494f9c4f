/*
 * unwind.h - libunwind, private to the library and loaded only when a mode
 * needs stacks (unwind.c).
 *
 * The recorder and the heap checker call libunwind's unw_backtrace and
 * unw_set_caching_policy as usual; unwind.c defines those two (hidden)
 * and forwards them to a copy of libunwind loaded with RTLD_LOCAL, so that
 * libunwind's _Unwind_* functions never enter the program's global scope.
 */
#ifndef POOLTRACE_UNWIND_H
#define POOLTRACE_UNWIND_H

#define PT_HIDDEN __attribute__((visibility("hidden")))

/*
 * Load libunwind (once).  Call from the constructor only: dlopen allocates
 * and takes the loader's lock.  Until it has run, and if it fails (one
 * warning line), unw_backtrace finds no frame.  Returns 0 or -1.
 */
PT_HIDDEN int pt__unwind_load(void);

#endif
