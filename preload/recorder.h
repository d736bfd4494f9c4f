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

#include "../allocator/fastpath.h"
#include "common.h"

/* Nonzero while recording (cleared for good on a write error). */
PT_HIDDEN extern volatile int pt__rec_on;

/* Sampling: a counting filter, one byte per 4 KiB page (modulo its size),
 * nonzero where a sampled block may live.  NULL when every event is
 * recorded. */
PT_HIDDEN extern uint8_t *pt__rec_sfilter;
#define PT_REC_SFILTER_SIZE (1u << 16)

/* Sets pt__rec_on, and the malloc API's gate with it (common.h): the
 * sampling bit if pt__rec_sfilter is set (it is set before). */
static inline void pt__rec_set_on(int on)
{
	pt__rec_on = on;
	if (!on) {
		pt__gate_set(PT_GATE_REC | PT_GATE_SAMPLE, 0);
		return;
	}
	pt__gate_set(pt__rec_sfilter ? PT_GATE_SAMPLE : PT_GATE_REC, 1);
}

/* The page number in the pools' region (pt__region_base, fixed before the
 * recorder starts: pt__rec_init initialises the allocator) modulo the
 * filter's size: free has the page's region index at hand already (its
 * class byte's), so the filter's index is one instruction more.
 * Neighbouring pages share a cache line of the filter (64 pages of heap
 * per line), so a free touches few lines; pages 256 MiB apart share a byte
 * (a "maybe" looks further).  A hash spread them over every line: sampled
 * churn 1.42-1.46 s against 1.39 s (off: 1.20-1.22). */
static inline size_t pt__rec_sfilter_idx(uintptr_t p)
{
	return (size_t)((p - pt__region_base) >> 12) & (PT_REC_SFILTER_SIZE - 1);
}

/*
 * A thread's byte countdown to its next sampled allocation, first in its
 * recorder state (struct pt_rec_thread in rec_internal.h).  It stays at 0 when
 * every event is recorded, so that each allocation takes the slow path.
 *
 * With sampling, the pool hooks below are the whole cost of profiling for
 * almost every call: a subtraction for malloc, a byte of the filter for
 * free.  They count nothing else (a handful of stores per call measurably
 * slowed memory-bound programs); the snapshots take the call counts from
 * the allocator's own statistics instead, and the bytes allocated from the
 * countdowns.
 */
struct pt_rec_hot {
	int64_t sample_left;
	uint64_t n_realloc;        /* realloc calls, counted inline */
	/* with sampling: pool blocks that realloc allocated and freed when it
	 * moved a block (the allocator counts them as mallocs and frees) */
	uint64_t realloc_pool_in, realloc_pool_out;
};

/* This thread's state; until its first event pt__rec_no_hot, read-only,
 * whose countdown (INT64_MIN) is never above a request: the sampling fast
 * path needs no test for a thread without state. */
PT_HIDDEN extern __thread struct pt_rec_hot *pt__rec_tl __attribute__((tls_model("initial-exec")));
PT_HIDDEN extern const struct pt_rec_hot pt__rec_no_hot;

/* The start, at the first call of the malloc API that may start it, or
 * in the constructor at the latest (symbols.c): reads the options, opens
 * nothing yet (the file is created at the first flush), starts the
 * snapshot thread if the process has threads already (else
 * pt__rec_threads_begin will).  Called once. */
PT_HIDDEN void pt__rec_init(void);
/* The constructor, on the main thread: what the exit scan needs from the
 * main thread, if the recorder started on another. */
PT_HIDDEN void pt__rec_main_thread(void);
/* Allocation calls made while profiling was asked for and the recorder
 * had not started (symbols.c counts them): the trace's header says how
 * many were not recorded. */
PT_HIDDEN extern uint64_t pt__rec_unrecorded;
/* The program is about to create a thread (threads.c). */
PT_HIDDEN void pt__rec_threads_begin(void);
struct pt_exit_context;
/* The destructor: final snapshot, flush of every buffer, the exit scan,
 * the end record.  ctx: the exit context (common.h). */
PT_HIDDEN void pt__rec_fini(const struct pt_exit_context *ctx);
/* The same for _exit(status), which runs no destructor. */
PT_HIDDEN void pt__rec_exit(const struct pt_exit_context *ctx, int status);

/* realloc: the sequence number and old's info are taken before the call
 * (old may be freed inside it), the event written after it with the result. */
struct pt_rec_realloc {
	uint64_t seq1;             /* seq + 1; 0: nothing to write for old */
	uint32_t old_info;
	uint32_t old_pool;         /* old is a pool block */
};

/*
 * The slow hooks, one set for full recording and one for sampling, chosen
 * at start (rec_hooks.c); set before pt__rec_on.
 *   alloc        counted: the inline hook has taken n off the countdown
 *   realloc_end  counted: the inline hook has counted the call and taken n
 *                off the countdown
 */
struct pt_rec_hooks {
	void (*alloc)(void *p, size_t n, int counted);
	void (*free)(void *p);
	struct pt_rec_realloc (*realloc_begin)(void *old);
	void (*realloc_end)(struct pt_rec_realloc token, void *old, void *p, size_t n,
	                    int counted);
};
PT_HIDDEN extern const struct pt_rec_hooks *pt__rec_hooks;

/* fork: called from the atfork handlers, around the allocator's own. */
PT_HIDDEN void pt__rec_fork_prepare(void);
PT_HIDDEN void pt__rec_fork_parent(void);
PT_HIDDEN void pt__rec_fork_child(void);

/* While sampling (the filter set): may a sampled block share p's page? */
static inline int pt__rec_sfilter_maybe(const void *p)
{
	return __atomic_load_n(&pt__rec_sfilter[pt__rec_sfilter_idx((uintptr_t)p)],
	                       __ATOMIC_RELAXED) != 0;
}

/* May p be a sampled block?  Always when every event is recorded. */
static inline int pt__rec_maybe_sampled(const void *p)
{
	return !pt__rec_sfilter || pt__rec_sfilter_maybe(p);
}

/*
 * Block p was handed out for n bytes.  A pool block with sampling costs a
 * subtraction until the countdown runs out (the allocator counts the
 * pool's calls); glibc's calls cost more than the slow path, which counts
 * them.
 */
static inline void pt__rec_alloc(void *p, size_t n)
{
	if (__builtin_expect(!pt__rec_on, 1) || !p)
		return;
	struct pt_rec_hot *h = pt__rec_tl;
	if (__builtin_expect(h != &pt__rec_no_hot && pt__class_of((uintptr_t)p) != 0, 1)) {
		h->sample_left -= (int64_t)n;
		if (__builtin_expect(h->sample_left > 0, 1))
			return;
		pt__rec_hooks->alloc(p, n, 1);
		return;
	}
	pt__rec_hooks->alloc(p, n, 0);
}

/* Is p, whose pool class map byte is v, a pool block that no sampled block
 * shares a page with (so its free is not recorded)?  Never when every event
 * is recorded. */
static inline int pt__rec_free_unsampled(const void *p, unsigned v)
{
	return v != 0 && !pt__rec_maybe_sampled(p);
}

/* The same while sampling (pt__gate says so: the filter is set, and stays
 * set). */
static inline int pt__rec_sampling_free_unsampled(const void *p, size_t v)
{
	return v != 0 && !pt__rec_sfilter_maybe(p);
}

/* Block p is about to be freed (it may be handed out again as soon as it
 * is, so the event is numbered first).  With sampling, a pool block costs
 * a byte of the filter. */
static inline void pt__rec_free(void *p)
{
	if (__builtin_expect(!pt__rec_on, 1) || !p)
		return;
	if (__builtin_expect(pt__rec_free_unsampled(p, pt__class_of((uintptr_t)p)), 1))
		return;
	pt__rec_hooks->free(p);
}

/*
 * Sampling: does an allocation of n bytes leave this thread's countdown
 * (*left, read here) above 0, so that the block is not sampled?  If not,
 * the caller goes the hooked way, where pt__rec_alloc charges it; if so,
 * the caller that serves it from the pools stores left - n with
 * pt__rec_charge, as pt__rec_alloc would.
 */
static inline bool pt__rec_unsampled(size_t n, int64_t *left)
{
	*left = pt__rec_tl->sample_left;
	return __builtin_expect(*left > (int64_t)n, 1);
}

static inline void pt__rec_charge(int64_t left, size_t n)
{
	pt__rec_tl->sample_left = left - (int64_t)n;
}

/* realloc(old, n) with old != NULL, around the call.  With sampling, a
 * realloc of a block that was not sampled whose result is not sampled
 * either costs the filter's byte and the countdown, as malloc and free do. */
static inline struct pt_rec_realloc pt__rec_realloc_before(void *old)
{
	struct pt_rec_realloc tok = { 0, 0, 0 };
	if (__builtin_expect(pt__rec_maybe_sampled(old), 0))
		tok = pt__rec_hooks->realloc_begin(old);
	tok.old_pool = pt__class_of((uintptr_t)old) != 0;
	return tok;
}

static inline void pt__rec_realloc_after(struct pt_rec_realloc tok, void *old, void *p, size_t n)
{
	struct pt_rec_hot *h = pt__rec_tl;
	if (h == &pt__rec_no_hot)
		h = NULL;
	if (pt__rec_sfilter && h && p && p != old) {
		h->realloc_pool_in += pt__class_of((uintptr_t)p) != 0;
		h->realloc_pool_out += tok.old_pool;
	}
	if (__builtin_expect(pt__rec_sfilter && !tok.seq1 && p && h, 1)) {
		h->n_realloc++;
		h->sample_left -= (int64_t)n;
		if (__builtin_expect(h->sample_left > 0, 1))
			return;
		pt__rec_hooks->realloc_end(tok, old, p, n, 1);
		return;
	}
	pt__rec_hooks->realloc_end(tok, old, p, n, 0);
}

#endif
