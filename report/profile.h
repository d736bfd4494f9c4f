/*
 * profile.h - a trace read once and aggregated by stack: what every report
 * (report, leaks, frag, html, export, diff) prints.
 *
 * Memory grows with the distinct stacks and snapshots, never with the
 * events: a site is one stack's counters, and "at the peak" values are
 * kept lazily (a site saves its live bytes the first time it changes
 * after a new peak, so the pass stays O(1) per event).
 *
 * Sampled traces (header sample > 0) are scaled as pooltrace-trace(5)
 * says: a block of s bytes stands for 1/p blocks and s/p bytes, p = 1 -
 * exp(-s/N); every figure a report prints is then an estimate.
 */
#ifndef POOLTRACE_PROFILE_H
#define POOLTRACE_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "trace_read.h"

struct pt_site {                  /* one stack */
	uint32_t stack;
	unsigned kinds;           /* bit 0: pool blocks, bit 1: glibc blocks */
	uint64_t n_alloc, bytes_alloc;    /* allocations, reallocs included */
	uint64_t n_temp, bytes_temp;      /* temporary allocations */
	uint64_t live_n, live_bytes;      /* at the end of the trace */
	uint64_t peak_n, peak_bytes;      /* at the peak of the live heap */
	uint64_t leak_n[PT_LEAK_CLASSES], leak_bytes[PT_LEAK_CLASSES];
	uint64_t last_mod;        /* event index of its last change */
	uint64_t min_size, max_size;      /* requested sizes seen */
	struct pt_step *step;     /* pt_profile_steps: one per timeline step in
	                             which the stack allocated or freed, in order */
	size_t nsteps, steps_cap;
};

/*
 * A stack in one step of the timeline (pt_profile_steps): the events after
 * the snapshot of point - 1 (the start, for 0) up to that of point (events
 * after the last snapshot count in its step).  n, bytes: allocated in the
 * step; live_n, live_bytes: live at its end.  A stack's live bytes at any
 * point are those of its last step at or before it (0 before the first).
 */
struct pt_step {
	uint32_t point;
	uint64_t n, bytes, live_n, live_bytes;
};

struct pt_point {                 /* the timeline: one per snapshot */
	uint64_t time_ns, rss, live, glibc;
	uint64_t live_lo, live_hi;        /* the lowest and highest live heap since
	                                     the snapshot before (both included):
	                                     exact when every event is recorded,
	                                     live itself in a sampled trace */
	uint64_t pool_live;       /* requested bytes in live pool blocks then */
	uint64_t in_blocks;       /* full snapshots: pool bytes in used blocks, */
	uint64_t pool_free;       /* in free blocks of used pools, */
	uint64_t pool_empty;      /* in empty pools kept (else all 0) */
	uint64_t n_alloc;         /* allocations so far */
	unsigned kind;
};

#define PT_HIST_BUCKETS 40        /* requested sizes, by power of two */

struct pt_pinned_arena {
	unsigned snap_kind;       /* PT_SNAP_PEAK or PT_SNAP_EXIT */
	uint64_t time_ns;
	uint64_t base, blocks, bytes;
	unsigned ninfos;
	struct { uint32_t info; uint64_t count; } *info;
};

struct pt_profile {
	struct pt_trace *t;
	int sampled;
	double rate;              /* header sample bytes, as a double */

	struct pt_site *site;     /* by stack id */
	size_t nsites;

	/* calls and bytes by kind: [0] pool, [1] glibc */
	uint64_t n_malloc, n_free, n_realloc, n_free_unknown;
	uint64_t n_alloc[2], bytes_alloc[2], live_n[2], live_bytes[2];
	uint64_t n_temp, bytes_temp;
	/*
	 * The peak of the live heap, the one every report gives: the most
	 * requested bytes live at once.  Every event recorded: exact, the
	 * live bytes after the event that reached it, which falls between two
	 * snapshots; its time is the first snapshot's after it (the recorder
	 * takes one as soon as the heap passes its last peak by a margin), and
	 * peak_after_ns the one's before it.  Sampled: the snapshot with the
	 * most live bytes (the allocator's, not the sampled blocks'
	 * estimate), its time.  peak_point: that snapshot (whose RSS is the
	 * RSS at the peak), or -1 without one.
	 */
	uint64_t live, peak, peak_pool, peak_glibc;
	uint64_t peak_seq, peak_time_ns, peak_after_ns;
	long peak_point;
	int peak_when;            /* PT_PEAK_* */
	uint64_t peak_rss, peak_rss_time_ns;      /* the highest RSS of any snapshot */
	uint64_t duration_ns;
	uint64_t events;
	uint64_t hist_n[PT_HIST_BUCKETS], hist_bytes[PT_HIST_BUCKETS];

	struct pt_point *point;
	size_t npoints, points_cap;

	/* full snapshots: the peak's (the first full one after the peak, or
	 * the last before it when none came after; that of peak_point when
	 * sampled), the exit one, and the last of any kind (a cut trace has no
	 * exit snapshot); snap_peak_pool: the requested bytes in live pool
	 * blocks at snap_peak */
	struct pt_snapshot *snap_peak, *snap_exit, *snap_last;
	uint64_t snap_peak_pool;

	int have_leaks;           /* the trace holds the exit scan */
	uint64_t leak_n[PT_LEAK_CLASSES], leak_bytes[PT_LEAK_CLASSES];
	uint64_t leak_roots_bytes;

	struct pt_pinned_arena *pinned;
	size_t npinned;

	unsigned end_reason, end_code;
	int progress;             /* draw a progress bar on stderr */
};

/* When the peak was reached (pt_profile.peak_when) */
enum {
	PT_PEAK_NONE,             /* no block was ever live, or no snapshot */
	PT_PEAK_BETWEEN,          /* exact: after the snapshot at peak_after_ns,
	                             by the one at peak_time_ns */
	PT_PEAK_FIRST,            /* exact: before the first snapshot, at
	                             peak_time_ns */
	PT_PEAK_LAST,             /* exact: after the last snapshot (a trace cut
	                             short), at peak_time_ns */
	PT_PEAK_SNAPSHOT,         /* sampled: at the snapshot of peak_time_ns */
};

/* Set before pt_profile_load: keep each stack's steps (pt_site.step), for
 * `html`'s time ranges.  Memory grows with stacks times the steps in which
 * each changes. */
extern int pt_profile_steps;

/*
 * Read the trace at path into p.  Returns 0, or -1 with a one-line
 * message in err (the file cannot be read, or is not a trace).  A trace cut
 * short is read up to the damage: p->t->stop says where.
 */
int pt_profile_load(struct pt_profile *p, const char *path, int progress,
                    char *err, size_t errlen);
void pt_profile_free(struct pt_profile *p);

/* The counter of s at offset off: a uint64_t field of struct pt_site,
 * named by offsetof, for the reports that list sites by one counter or
 * another. */
static inline uint64_t pt_site_counter(const struct pt_site *s, size_t off)
{
	return *(const uint64_t *)((const char *)s + off);
}

/* The sites with the counter at offset off nonzero, sorted by it,
 * biggest first (then by stack id); *n set. */
struct pt_site **pt_profile_sorted(const struct pt_profile *p, size_t off, size_t *n);

/* The lower bound of histogram bucket i (0, 1, 2, 4, 8, ...). */
uint64_t pt_hist_low(unsigned i);

#endif
