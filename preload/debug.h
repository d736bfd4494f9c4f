/*
 * debug.h - POOLTRACE_DEBUG: the heap checker, after CPython's debug
 * allocator (PYTHONMALLOC=debug).
 *
 * Every block gets a header (requested size, the API that allocated it,
 * its allocation stack), a front and a rear guard of 0xFD bytes; new memory
 * is filled with 0xCD, freed memory with 0xDD and held in a quarantine of
 * bounded size before it is really freed.  Frees and reallocs check the
 * block; the whole heap is checked at exit and by pt_debug_check() (pooltrace.h).
 * A problem is reported on stderr with the block, the bytes around the
 * damage and the stacks, then the process aborts (POOLTRACE_DEBUG=warn:
 * reports and goes on).
 *
 * The exported malloc API calls into here when pt__dbg_state says so; the
 * blocks underneath come from the pools and glibc as usual.
 */
#ifndef POOLTRACE_DEBUG_H
#define POOLTRACE_DEBUG_H

#include <stddef.h>

#include "../allocator/compiler.h"
#include "common.h"

enum pt_dbg_state {
	PT_DBG_UNREAD = 0,   /* options not read yet: the next call reads them */
	PT_DBG_OFF,
	PT_DBG_START,        /* debug off, POOLTRACE_PROFILE=1 and the recorder not
	                        started yet: each call may start it (symbols.c) */
	PT_DBG_ABORT,        /* POOLTRACE_DEBUG=1 */
	PT_DBG_WARN,         /* POOLTRACE_DEBUG=warn */
};

/* The API that allocated a block, and the one that frees it. */
enum pt_dbg_api {
	PT_API_MALLOC = 1,   /* malloc, calloc, realloc */
	PT_API_ALIGNED,      /* posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
	PT_API_NEW,          /* operator new, aligned or not (cxx_new.c) */
	PT_API_NEW_ARRAY,    /* operator new[] */
};

enum pt_dbg_free {
	PT_FREE_PLAIN = 0,   /* free, cfree */
	PT_FREE_SIZED,       /* free_sized(p, size) */
	PT_FREE_ALIGNED_SIZED,   /* free_aligned_sized(p, align, size) */
	PT_FREE_REALLOC,     /* realloc(p, n) */
	PT_FREE_DELETE,      /* operator delete: size PT_DBG_NO_SIZE or the
	                        sized delete's, align 0 or the aligned delete's */
	PT_FREE_DELETE_ARRAY,   /* operator delete[], the same */
};
#define PT_DBG_NO_SIZE ((size_t)-1)   /* a delete that gives no size */

PT_HIDDEN extern int pt__dbg_state;

/* Sets the state, and the malloc API's gate with it (common.h). */
static inline void pt__dbg_set_state(int state)
{
	__atomic_store_n(&pt__dbg_state, state, __ATOMIC_RELEASE);
	pt__gate_set(PT_GATE_DEBUG, state != PT_DBG_OFF);
}

/* Read the options if not done yet; true if debug mode is on.  With debug
 * mode off the state becomes PT_DBG_START if profiling was asked for (the
 * caller sets PT_DBG_OFF once the recorder has started), else PT_DBG_OFF. */
PT_HIDDEN int pt__dbg_enabled(void);

/* A block of n bytes aligned to align (0: the default 16), zeroed or
 * filled with 0xCD; NULL with errno ENOMEM. */
PT_HIDDEN void *pt__dbg_alloc(size_t align, size_t n, unsigned api, int zero);

/* Free p as `how` (size and align as the call gave them). */
PT_HIDDEN void pt__dbg_free(void *p, unsigned how, size_t size, size_t align);

PT_HIDDEN void *pt__dbg_realloc(void *p, size_t n);

/* The requested size of a debug block (what the program may use). */
PT_HIDDEN size_t pt__dbg_usable_size(void *p);

/* Debug mode: live block p was allocated for api, though through another
 * call (the C++ runtime's operator new calls malloc). */
PT_HIDDEN void pt__dbg_set_api(void *p, unsigned api);
/* Check every live block's guards and every quarantined block's fill;
 * returns the number of problems found (each reported).  all = 0 (the
 * checks at exit): in a forked child, only the blocks it allocated or
 * freed since the fork. */
PT_HIDDEN unsigned pt__dbg_check_all(const char *when, int all);

/* fork: the registry's locks, taken around fork() */
PT_HIDDEN void pt__dbg_fork_prepare(void);
PT_HIDDEN void pt__dbg_fork_parent(void);
PT_HIDDEN void pt__dbg_fork_child(void);

#endif
