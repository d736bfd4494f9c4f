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
PT_HIDDEN void pt__free_to_pool(void *ptr) PT_NOINLINE;

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

/*
 * n <= PT_SMALL_MAX.  Pops the thread cache of the size class, else the head
 * pool's free list.
 */
static inline void *pt__alloc_inline(size_t n)
{
	struct pt_heap *h = pt__tl_heap;
	unsigned c = pt__size2class[n];
	struct pt_block *b = h->tc[c];

	if (PT_LIKELY(b != NULL)) {
		h->tc[c] = b->next;
		h->tc_room[c]++;
		h->nmalloc[c]++;
		return b;
	}
	struct pt_pool *p = h->avail[c];
	b = p->free;
	if (PT_UNLIKELY(b == NULL))
		return pt__alloc_slow(n);
	p->free = b->next;
	p->nused++;
	h->nmalloc[c]++;
	return b;
}

/* ptr is a block of ours of class c: into the thread cache, else its pool. */
static inline void pt__free_class(void *ptr, unsigned c)
{
	struct pt_heap *h = pt__tl_heap;
	struct pt_block *b = ptr;

	if (PT_LIKELY(h->tc_room[c] != 0)) {
		b->next = h->tc[c];
		h->tc[c] = b;
		h->tc_room[c]--;
		return;
	}
	pt__free_to_pool(ptr);
}

/* ptr is a block of ours (pt__owns). */
static inline void pt__free_inline(void *ptr)
{
	pt__free_class(ptr, pt__class_of((uintptr_t)ptr) - 1u);
}

#endif /* POOLTRACE_ALLOC_FASTPATH_H */
