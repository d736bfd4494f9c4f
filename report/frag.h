/*
 * frag.h - where the memory of a full snapshot goes: the breakdown behind
 * `pooltrace frag` and the fragmentation charts of `pooltrace html`.
 */
#ifndef POOLTRACE_FRAG_H
#define POOLTRACE_FRAG_H

#include "profile.h"

struct pt_frag {
	uint64_t rss;
	uint64_t pool_live;       /* bytes requested in live pool blocks */
	uint64_t pool_rounding;   /* their blocks' bytes less the requests */
	uint64_t pool_free;       /* free blocks in pools in use */
	uint64_t pool_tails;      /* pool bytes too few for one more block */
	uint64_t pool_empty;      /* empty pools kept, still resident */
	uint64_t headers;         /* arena header pages */
	uint64_t untouched;       /* arena space never carved, or purged: no RSS */
	uint64_t glibc;           /* glibc's bytes in use: blocks above 512 B,
	                             and those allocated before the library */
	uint64_t other;           /* the rest of RSS: code, stacks, libraries,
	                             glibc's free lists, the profiler itself */
	uint64_t arenas;
	uint64_t pool_resident;   /* pool memory counted in RSS: the sum of
	                             the pool_* fields and headers */
};

/*
 * The breakdown of snapshot s (a full one: not PT_SNAP_LIGHT).  pool_live:
 * the exact requested bytes in pool blocks at that moment, or
 * UINT64_MAX to use the allocator's estimate (sampled traces).
 */
void pt_frag_compute(const struct pt_trace_header *h, const struct pt_snapshot *s,
                     uint64_t pool_live, struct pt_frag *out);

/* The occupancy of arena a: bytes in live blocks over the bytes of its
 * pools, 0..1. */
double pt_arena_occupancy(const struct pt_trace_header *h, const struct pt_snap_arena *a);

#endif
