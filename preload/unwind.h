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

/*
 * What a thread remembers of its walks, kept by the caller (the recorder's
 * thread state): its last walk's frames, by stack address, and its own
 * small table of rules.  A walk that meets a frame at the same stack
 * address with the same code address takes that frame's rule, in order;
 * other frames look in the thread's table, then in the shared one.  The
 * shared table's slots are scattered and read under a seqlock: on
 * CPython's stacks of 30-40 frames its loads were a quarter of the walk's
 * time.  The stack itself is still read frame by frame; only the rule, a
 * function of the code address, is remembered.  A walk that begins where
 * the last one began, and finds every word that one read (the saved return
 * addresses and RBPs) unchanged, has the same frames without walking: it
 * says so in same (the recorder then keeps the last stack's id, and asks
 * by want_same not to be given the frames).
 */
#define PT_UNWIND_MEMO 48
#define PT_UNWIND_NEAR_BITS 10

struct pt_unwind_frame {
	uintptr_t sp, look;        /* its stack pointer and the code address of its rule */
	uint64_t rule;
	uintptr_t ra_at, ra;       /* the word read for its return address, and its
	                              value (ra_at 0: none read, the outermost) */
	uintptr_t bp_at, bp;       /* the same for the RBP it restored, if a frame's
	                              CFA came from it (bp_at 0: none) */
	int bp_in_used;            /* it, or a frame above it, takes its CFA from the
	                              RBP it was entered with */
};

struct pt_unwind_memo {
	uint64_t gen_bits;         /* the shared table's generation it was read in */
	uintptr_t top;             /* the top of the stack the last walk was on */
	uintptr_t sp0, bp0;        /* where it began (bp0 matters if f's first
	                              frame has bp_in_used) */
	int max;                   /* the frames it was asked for */
	int base, n;               /* its frames: f[last][base .. base + n) */
	int frames;                /* frames the last walk found (n: those kept) */
	int cut;                   /* ... and it stopped at max, not at the end */
	int same;                  /* this walk found the last one's frames again */
	int want_same;             /* set by the caller: then it keeps the last
	                              frames, and ip is not written */
	unsigned last;             /* the last walk's; a walk writes the other */
	struct pt_unwind_frame f[2][PT_UNWIND_MEMO];
	struct {                   /* the thread's own rules by code address */
		uint64_t key, rule;
	} near[1u << PT_UNWIND_NEAR_BITS];
};

/*
 * Our own walk of the calling thread's stack into ip[0..max-1], innermost
 * first (its own frame included), by the call frame rules of cfi.h, each
 * read once per code address and cached.  Returns the number of frames,
 * or -1 when a frame has no rule we follow (a signal frame, code without
 * frame information, a frame outside the thread's stack): then the stack
 * is libunwind's, and the memo is left empty (its walk is no longer the
 * caller's last).  Reads nothing but the stack between the thread's
 * stack pointer and the top of its stack; no system call, no lock but the
 * loader's on a code address seen the first time.
 */
PT_HIDDEN int pt__unwind_walk(void **ip, int max, struct pt_unwind_memo *memo);

/* Forget the cached rules: a module was unloaded (its addresses may hold
 * other code now). */
PT_HIDDEN void pt__unwind_forget(void);

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
