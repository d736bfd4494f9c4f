/*
 * heapscan.h - reachability of the live blocks, as memcheck and
 * LeakSanitizer classify leaks: a conservative scan of root memory for
 * words that point into a live block (anywhere inside it), flooded through
 * the blocks they reach.
 *
 *   reachable   reached from the roots (globals, stacks, TLS)
 *   direct      reached from nothing: definitely lost
 *   indirect    reached only from lost blocks
 *
 * Lost blocks that point at each other in a cycle are classified as
 * memcheck does: the first of the cycle in address order is direct, the
 * rest indirect.  Nothing here allocates; the caller provides the memory.
 */
#ifndef POOLTRACE_HEAPSCAN_H
#define POOLTRACE_HEAPSCAN_H

#include <stddef.h>
#include <stdint.h>

enum hs_state { HS_UNSEEN = 0, HS_REACHABLE, HS_INDIRECT, HS_DIRECT };

struct hs_block {
	uintptr_t start;
	uint64_t size;            /* bytes scanned for pointers (requested) */
	uint32_t info;            /* the caller's tag */
	uint32_t state;           /* enum hs_state */
	uint64_t skip;            /* 0, or an offset in the block whose exact
	                             address is not a pointer to it: glibc's
	                             next chunk header, where its own lists and
	                             top pointer point */
};

struct hs_ctx {
	struct hs_block *b;       /* sorted by start, not overlapping */
	size_t n;
	uint32_t *work;           /* room for n indexes */
	size_t nwork;
	uint64_t roots_bytes;     /* root memory scanned so far */
};

/* Sort blocks by start (in place, no allocation). */
void hs_sort(struct hs_block *b, size_t n);

/* The index of the block holding address a, or -1. */
long hs_find(const struct hs_ctx *c, uintptr_t a);

/* Mark the blocks that the words of root memory [p, p + len) point into
 * as reachable (p is a copy or the memory itself; aligned words only). */
void hs_scan_root(struct hs_ctx *c, const void *p, size_t len);

/* Block i is a root itself (reachable, its words scanned). */
void hs_mark_root(struct hs_ctx *c, size_t i);

/* After the roots: flood reachability through the blocks, then classify
 * every block left unseen as direct or indirect. */
void hs_classify(struct hs_ctx *c);

#endif
