/*
 * recorder.h - the heap profiler's recording side (POOLTRACE_PROFILE=1):
 * stacks via libunwind, interned once; per-thread event buffers streamed to
 * the trace file of trace_format.h; periodic snapshots; crash safety.
 *
 * symbols.c calls the hooks around the allocator: pt__rec_free before a
 * block goes back (so its address cannot be handed out again before the
 * free is numbered), pt__rec_alloc after a block was obtained.  Every hook
 * is cheap to call when profiling is off: one load of pt__rec_on.
 */
#ifndef POOLTRACE_RECORDER_H
#define POOLTRACE_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#define PT_HIDDEN __attribute__((visibility("hidden")))

/* Nonzero while recording (cleared for good on a write error). */
PT_HIDDEN extern volatile int pt__rec_on;

/* The constructor: reads the options, opens nothing yet (the file is
 * created at the first flush), starts the snapshot thread. */
PT_HIDDEN void pt__rec_init(void);
/* The destructor: final snapshot, flush of every buffer, the end record. */
PT_HIDDEN void pt__rec_fini(void);

PT_HIDDEN void pt__rec_alloc_slow(void *p, size_t n);
PT_HIDDEN void pt__rec_free_slow(void *p);
/* realloc: the sequence number is taken before the call (old may be freed
 * inside it), the event written after it with the result. */
PT_HIDDEN uint64_t pt__rec_realloc_begin(void *old);
PT_HIDDEN void pt__rec_realloc_end(uint64_t token, void *old, void *p, size_t n);

/* fork: called from the atfork handlers, around the allocator's own. */
PT_HIDDEN void pt__rec_fork_prepare(void);
PT_HIDDEN void pt__rec_fork_parent(void);
PT_HIDDEN void pt__rec_fork_child(void);

static inline void pt__rec_alloc(void *p, size_t n)
{
	if (__builtin_expect(pt__rec_on, 0) && p)
		pt__rec_alloc_slow(p, n);
}

static inline void pt__rec_free(void *p)
{
	if (__builtin_expect(pt__rec_on, 0) && p)
		pt__rec_free_slow(p);
}

#endif
