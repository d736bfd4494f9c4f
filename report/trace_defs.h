/*
 * trace_defs.h - the definitions a trace's records make (trace_defs.c),
 * for the reader (trace_read.c) alone: each pt__def_* decodes one record
 * whose type byte was read into t, returning 0, or -1 for a damaged
 * record (the reader then skips the rest of its chunk).
 */
#ifndef POOLTRACE_TRACE_DEFS_H
#define POOLTRACE_TRACE_DEFS_H

#include "trace_read.h"

/* Grow a zero-filled array of *n elements of size sz so that index i fits
 * (by doubling); returns the array, which may have moved. */
void *pt__grow_zeroed(void *a, size_t *n, size_t i, size_t sz);

/* A STACK record; its outer frames may name another stack's, which
 * pt__def_resolve_stacks fills in once every stack is read. */
int pt__def_stack(struct pt_trace *t, struct pt_dec *d);
void pt__def_resolve_stacks(struct pt_trace *t);

/* An INFO record, the next id (version 3) or its own (version 2). */
int pt__def_info(struct pt_trace *t, struct pt_dec *d);
/* The info of id (0: the unknown one), NULL if it was never defined. */
const struct pt_info *pt__def_info_of(struct pt_trace *t, uint64_t id);
/* An id pt__def_info_of does not know, which a lost chunk may have defined. */
int pt__def_info_lost(const struct pt_trace *t, uint64_t id);
/* Part of the trace was lost: definitions may be missing. */
int pt__def_lost_some(const struct pt_trace *t);

/* A MODULES record: the map from its seq on. */
int pt__def_modules(struct pt_trace *t, struct pt_dec *d);

/* A CODE record (version 3), and an extended record (version 3: the ones
 * known are decoded, PT_EXT_INFOS among them; others skipped). */
int pt__def_code(struct pt_trace *t, struct pt_dec *d);
int pt__def_ext(struct pt_trace *t, struct pt_dec *d);

#endif
