/*
 * bigcache.h - a per-thread cache of freed glibc blocks of 513 B .. 32 KiB.
 *
 * Above PT_SMALL_MAX every request goes to glibc, whose arenas take a lock
 * and search bins on each call.  This cache keeps the blocks a thread frees
 * in size bins (8 per power of two, LIFO) and hands them out again to the
 * same thread's mallocs: the system allocator stays the backing, the common
 * reuse skips its locks.  Invariants (per thread, struct pt_bigcache):
 *
 *   - a cached block is a live glibc chunk (not mmapped) whose usable size
 *     u satisfies pt__bc_bin_size(b) <= u < pt__bc_bin_size(b + 1), b its
 *     bin (checked under PT_DEBUG when it is taken); its first word links
 *     the bin (xor the link key), its second holds u xor the tag key
 *     (per-process values); the second word is cleared when the block is
 *     handed out, and no other byte is written (as glibc's tcache, and the
 *     pools).  It is on exactly one bin of one thread, and never handed
 *     out while it is there.
 *   - a free of a block whose second word is its u xor the tag key is a double
 *     free if the block is on its bin of this thread's cache (the bin is
 *     walked to confirm): refused, as the pools refuse theirs.  A block
 *     freed first into another thread's cache is not caught.
 *   - a block is kept only if it passes glibc's own sanity tests of free
 *     (alignment, size; above PT_BC_GLIBC_TCACHE_MAX the next chunk's
 *     in-use bit, which glibc's tcache does not test either): anything
 *     else goes on to glibc, which diagnoses it as before.
 *   - sum of u over the bins == bytes <= cap (POOLTRACE_BIGCACHE);
 *     count[b] == blocks in bin b.
 *   - busy is set while this thread changes its bins: a signal handler that
 *     interrupted it finds it set and goes straight to glibc.
 *   - state: NEW (no destructor registered yet), ON, DEAD (the thread's key
 *     destructor or the process's flushed it: from then on, glibc only).
 *
 * The cache sits below the recorder's hooks (symbols.c): a malloc served
 * from it is one malloc, a free into it one free.  Debug mode never reaches
 * it.  It is off (cap 0) until the constructor configured it.
 */
#ifndef POOLTRACE_BIGCACHE_H
#define POOLTRACE_BIGCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "../allocator/fastpath.h"

#define PT_BC_MIN_USABLE 512u     /* a block's usable size: 512 .. PT_BC_MAX_USABLE - 1 */
#define PT_BC_MAX_REQUEST 32768u  /* requests of PT_SMALL_MAX + 1 .. this */
#define PT_BC_MAX_USABLE 36864u   /* the top of bin 48 */
#define PT_BC_GLIBC_TCACHE_MAX 1032u  /* the largest usable size glibc's tcache holds */
#define PT_BC_NBINS 50            /* 8 per power of two: 512 .. 36863; 49 stays empty */

/* Bin b holds the usable sizes [pt__bc_bin_size(b), pt__bc_bin_size(b + 1)). */
static inline size_t pt__bc_bin_size(unsigned b)
{
	return (size_t)(8 + (b & 7)) << (b / 8 + 6);
}

/* pt__bc_bin_by64[u >> 6]: the bin of usable size u (512 <= u <
 * PT_BC_MAX_USABLE; every bin starts on a multiple of 64), built from
 * pt__bc_bin_size by pt__bc_init before the cache is on. */
PT_HIDDEN extern uint8_t pt__bc_bin_by64[PT_BC_MAX_USABLE >> 6];

static inline unsigned pt__bc_bin_of(size_t u)
{
	return pt__bc_bin_by64[u >> 6];
}

/*
 * The bin a request of n bytes (PT_SMALL_MAX < n <= PT_BC_MAX_REQUEST)
 * takes from: the lowest whose every block has n usable bytes or more.
 */
static inline unsigned pt__bc_bin_for(size_t n)
{
	return pt__bc_bin_of(n - 1) + 1;
}

/* Bytes a thread may cache; 0: the cache is off. */
PT_HIDDEN extern size_t pt__bc_cap;

/*
 * What to ask glibc for, for a request of n > PT_SMALL_MAX bytes the cache
 * had no block for: the size of n's bin, whose chunk (usable size + 8)
 * falls in that bin again, so that the block, once freed, serves the next
 * request of about its size.  The cost is at most 1/8 of the request
 * (jemalloc's and mimalloc's size classes round as much).  n itself when
 * the cache is off or n is above PT_BC_MAX_REQUEST.
 */
static inline size_t pt__bc_request(size_t n)
{
	if (pt__bc_cap == 0 || n > PT_BC_MAX_REQUEST)
		return n;
	return pt__bc_bin_size(pt__bc_bin_for(n));
}

enum { PT_BC_NEW, PT_BC_ON, PT_BC_DEAD };

struct pt_bc_block {
	uintptr_t link;     /* the next cached block ^ the link key (bigcache.c) */
	uintptr_t tag;      /* usable size ^ the cache key */
};

struct pt_bigcache {
	struct pt_bc_block *bin[PT_BC_NBINS];
	uint16_t count[PT_BC_NBINS];
	size_t bytes;                    /* usable bytes cached */
	uint8_t state;
	volatile uint8_t busy;
	struct pt_bigcache *next, *prev; /* every ON cache (mallinfo), under the lock */
};

PT_HIDDEN extern __thread struct pt_bigcache pt__bc_tl
	__attribute__((tls_model("initial-exec")));

/* The constructor: cap bytes per thread (0: off).  Creates the thread key
 * (glibc's pthread_key_create allocates nothing). */
PT_HIDDEN void pt__bc_init(size_t cap);
/* A block of at least n bytes (PT_SMALL_MAX < n <= PT_BC_MAX_REQUEST) from
 * bin pt__bc_bin_for(n) of this thread's cache, or NULL; its contents are
 * old. */
PT_HIDDEN void *pt__bc_take(size_t n);
/* Keep glibc block p (not NULL) in this thread's cache: 1; 0 if the
 * caller must free it (too small or large, mmapped, off); -1 if p is on
 * this thread's cache already (a double free: the caller refuses it). */
PT_HIDDEN int pt__bc_keep(void *p);
/* Give this thread's cached blocks back to glibc; 1 if there were any. */
PT_HIDDEN int pt__bc_flush(void);
/* The process ends (our destructor): flush the calling thread's cache and
 * keep it off for the rest of the exit. */
PT_HIDDEN void pt__bc_exit(void);
/* fork child: the other threads' caches are gone (their blocks leak, at
 * most cap bytes each); the registry holds this thread's only. */
PT_HIDDEN void pt__bc_fork_child(void);
/* Blocks and glibc chunk bytes (usable + header) cached by all threads:
 * free memory that glibc counts as in use (mallinfo).  Racy, relaxed. */
PT_HIDDEN void pt__bc_totals(size_t *blocks, size_t *chunk_bytes);

static inline void *pt__bc_pop(size_t n)
{
	if (PT_LIKELY(pt__bc_cap != 0) && n <= PT_BC_MAX_REQUEST)
		return pt__bc_take(n);
	return NULL;
}

static inline int pt__bc_push(void *p)
{
	if (PT_LIKELY(pt__bc_cap != 0) && p)
		return pt__bc_keep(p);
	return 0;
}

#endif
