/*
 * api.h - what the malloc API (symbols.c) shares with the families
 * libpooltrace.so exports on top of it (the C++ operators, cxx_new.c):
 * its allocation paths past the pools' fast path, its free path, and its
 * way in for every mode (debug mode, the recorder, the pools and glibc),
 * with the family debug mode records for a block and checks at its free.
 * Not for calls that may come from the dynamic loader (symbols.c's
 * start_pending tells those apart).
 */
#ifndef POOLTRACE_API_H
#define POOLTRACE_API_H

#include <stddef.h>
#include <stdint.h>

#include "../allocator/fastpath.h"
#include "bigcache.h"
#include "libc_sym.h"

/* n bytes aligned to align (0: malloc's alignment; else a power of two) for
 * api (enum pt_dbg_api); NULL when there is no memory. */
PT_HIDDEN void *pt__api_alloc(size_t n, size_t align, unsigned api);

/* n <= PT_SMALL_MAX and the fast path found no free block: the
 * allocator's slow path, else glibc.  NULL when neither has memory. */
static inline void *pt__small_malloc(size_t n)
{
	void *p = pt__alloc_slow(n);
	if (PT_LIKELY(p != NULL))
		return p;
	return __libc_malloc(n);
}

/* Above the pools: this thread's cache of freed glibc blocks, then glibc,
 * for the size of n's bin in the cache; if glibc has no memory, the cache
 * goes back to it and it is asked again. */
static inline void *pt__big_malloc(size_t n)
{
	void *p = pt__bc_pop(n);
	if (p)
		return p;
	p = __libc_malloc(pt__bc_request(n));
	if (PT_UNLIKELY(!p) && pt__bc_flush())
		p = __libc_malloc(n);
	return p;
}

/* Free p as how (enum pt_dbg_free) with the size (PT_DBG_NO_SIZE: none
 * given) and alignment (0: none) the call gave; call names it in the line
 * of a refused pointer. */
PT_HIDDEN void pt__api_free(const char *call, void *p, unsigned how, size_t size,
                            size_t align);

/* A pointer that call (free, realloc, ...) must not touch: one line on
 * stderr, and ignored.  v: its pool's class + 1 (inside a block), or 0
 * (in the arenas, in no block). */
PT_HIDDEN void pt__refuse(const char *call, void *p, unsigned v) PT_NOINLINE;

/* Not a pool block: glibc's (or NULL), through this thread's cache. */
PT_HIDDEN void pt__free_foreign(const char *call, void *p) PT_NOINLINE;

/*
 * One byte of the region's class map says whether p is a pool block and of
 * which class; blocks of arenas outside the region are found through the
 * radix map and their descriptor.  Anything else is glibc's (NULL too).
 * v: p's class + 1.
 */
static inline __attribute__((always_inline)) void pt__pool_free(const char *call, void *p,
                                                                size_t v)
{
	size_t c = v - 1;   /* 64-bit: the - 1 folds into the addresses */
	if (PT_UNLIKELY(!pt__block_start((uintptr_t)p, c))) {
		pt__refuse(call, p, (unsigned)v);
		return;
	}
	pt__free_class(p, c);
}

/* The free of every call that frees, with the gate shut (common.h). */
static inline __attribute__((always_inline)) void pt__free_impl(const char *call, void *p)
{
	size_t v = pt__class_of((uintptr_t)p);
	if (PT_LIKELY(v != 0)) {
		pt__pool_free(call, p, v);
		return;
	}
	if (PT_UNLIKELY(pt__in_region((uintptr_t)p))) {
		pt__refuse(call, p, 0);
		return;
	}
	pt__free_foreign(call, p);
}

#endif
