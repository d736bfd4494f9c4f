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
	uint64_t meshed;          /* pools meshed into others (POOLTRACE_MESH): no
	                             memory of their own */
	uint64_t glibc;           /* glibc's bytes in use: blocks above 512 B,
	                             and those allocated before the library */
	uint64_t other;           /* the rest of RSS: code, stacks, libraries,
	                             glibc's free lists, the profiler itself */
	uint64_t arenas;
	uint64_t pool_resident;   /* pool memory counted in RSS: the sum of
	                             the pool_* fields and headers */
};

/*
 * The breakdown of snapshot s of the trace of p (a full snapshot: not
 * PT_SNAP_LIGHT).  pool_live: the exact requested bytes in pool blocks at
 * that moment, which a sampled trace does not have: there the allocator's
 * estimate is used.
 */
void pt_frag_compute(const struct pt_profile *p, const struct pt_snapshot *s,
                     uint64_t pool_live, struct pt_frag *out);

/*
 * The arenas of snapshot s by occupancy, bytes in live blocks over the
 * bytes of their pools: bins[b] counts those from b/10 up to (b+1)/10, the
 * last one those from 0.9 up (in a damaged trace the ratio can pass 1).
 */
#define PT_OCCUPANCY_BINS 10
void pt_frag_occupancy(const struct pt_trace_header *h, const struct pt_snapshot *s,
                       uint64_t bins[PT_OCCUPANCY_BINS]);

#endif
