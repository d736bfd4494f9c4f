/*
 * fastpath.h - the inline malloc and free fast paths of the pool allocator.
 *
 * Included by alloc.c and by preload/ so that malloc() and free() inline
 * them.  Each is a handful of instructions with one unlikely branch into a
 * noinline slow function in alloc.c.
 */
#ifndef POOLTRACE_ALLOC_FASTPATH_H
#define POOLTRACE_ALLOC_FASTPATH_H

#include "internal.h"

PT_HIDDEN void *pt__alloc_slow(size_t n) PT_NOINLINE;
PT_HIDDEN void pt__free_local_slow(struct pt_pool *p) PT_NOINLINE;
PT_HIDDEN void pt__free_remote(struct pt_pool *p, struct pt_block *b) PT_NOINLINE;

/* --*x, and whether the result is <= 0: one `subw` with its flags on x86-64
 * (GCC otherwise loads, decrements, stores and tests). */
static inline bool pt__dec_le_zero(int16_t *x)
{
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__)
	bool le;
	__asm__("subw $1, %0" : "+m"(*x), "=@ccle"(le));
	return le;
#else
	return --*x <= 0;
#endif
}

/* n <= PT_SMALL_MAX.  Pops the head pool's free list of the size class. */
static inline void *pt__alloc_inline(size_t n)
{
	struct pt_heap *h = pt__tl_heap;
	unsigned c = pt__size2class[n];
	struct pt_pool *p = h->avail[c];
	struct pt_block *b = p->free;

	if (PT_UNLIKELY(b == NULL))
		return pt__alloc_slow(n);
	p->free = b->next;
	p->nused++;
	h->nmalloc[c]++;
	return b;
}

/* ptr is a block of ours (pt_owns).  Local frees push; others go remote. */
static inline void pt__free_inline(void *ptr)
{
	struct pt_pool *p = pt__pool_of((uintptr_t)ptr);
	struct pt_block *b = ptr;

	if (PT_LIKELY(p->owner == pt__tl_heap)) {
		b->next = p->free;
		p->free = b;
		if (PT_UNLIKELY(pt__dec_le_zero(&p->nused)))   /* now empty, or FULL */
			pt__free_local_slow(p);
		return;
	}
	pt__free_remote(p, b);
}

#endif /* POOLTRACE_ALLOC_FASTPATH_H */
