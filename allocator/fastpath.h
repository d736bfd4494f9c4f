/*
 * fastpath.h - the inline malloc and free fast paths of the pool allocator.
 *
 * Included by alloc.c and by preload/ so that malloc() and free() inline
 * them.  Each is a handful of instructions with one unlikely branch into a
 * noinline slow function in alloc.c.
 */
#ifndef POOLTRACE_ALLOC_FASTPATH_H
#define POOLTRACE_ALLOC_FASTPATH_H

#include "layout.h"

PT_HIDDEN void *pt__alloc_slow(size_t n) PT_NOINLINE;
PT_HIDDEN void pt__free_to_pool(void *ptr) PT_NOINLINE;
PT_HIDDEN void pt__free_full(void *ptr, unsigned c) PT_NOINLINE;
PT_HIDDEN void pt__free_suspect(void *ptr, unsigned c) PT_NOINLINE;
PT_HIDDEN bool pt__double_free(struct pt_block *b, unsigned c) PT_NOINLINE;

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

/* --*x, and whether the result is < 0: one `subw` with its flags. */
static inline bool pt__dec_lt_zero(int16_t *x)
{
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__)
	bool lt;
	__asm__("subw $1, %0" : "+m"(*x), "=@ccl"(lt));
	return lt;
#else
	return --*x < 0;
#endif
}

/* The free key's word: the second of a block (internal.h, "Double free"). */
static inline uint64_t *pt__key_word(struct pt_block *b)
{
	return (uint64_t *)b + 1;
}

/*
 * n <= PT_SMALL_MAX.  Pops the thread cache of the size class, else the head
 * pool's free list.  The block's key word is cleared, so that a live block
 * does not look free.
 * NULL when both are empty: the caller goes to pt__alloc_slow (through a
 * function of its own, so that this path needs no stack frame).
 */
static inline void *pt__alloc_try(size_t n)
{
	struct pt_heap *h = pt__tl_heap;
	size_t c = pt__size2class[n];
	struct pt_block *b = h->tc[c];

	if (PT_LIKELY(b != NULL)) {
		h->tc[c] = pt__blk_next(b);
		h->tc_room[c]++;
		h->nmalloc[c]++;
		*pt__key_word(b) = 0;
		return b;
	}
	struct pt_pool *p = h->avail[c];
	b = p->free;
	if (PT_UNLIKELY(b == NULL))
		return NULL;
	struct pt_block *next = pt__blk_next(b);
	p->free = next;
	/* the next malloc of the class reads that block's link: a pool's free
	 * blocks are often cold (a pool that filled again after its blocks
	 * were freed long ago) */
	__builtin_prefetch(next);
	p->nused++;
	h->nmalloc[c]++;
	*pt__key_word(b) = 0;
	return b;
}

/* n <= PT_SMALL_MAX.  NULL (errno untouched) if no pool can serve. */
static inline void *pt__alloc_inline(size_t n)
{
	void *b = pt__alloc_try(n);
	if (PT_LIKELY(b != NULL))
		return b;
	return pt__alloc_slow(n);
}

/*
 * ptr is a block of ours of class c: into the thread cache, else its pool.
 * A block whose key word holds the free key may be free already:
 * pt__free_suspect decides (internal.h, "Double free").  Every way out is
 * a tail call: no frame on this path.
 */
static inline void pt__free_class(void *ptr, size_t c)
{
	struct pt_heap *h = pt__tl_heap;
	struct pt_block *b = ptr;
	uint64_t k = pt__free_key;

	if (PT_UNLIKELY(*pt__key_word(b) == k)) {
		pt__free_suspect(ptr, (unsigned)c);
		return;
	}
	/* the room taken before it is known to be there (one instruction
	 * for the load, the test and the store); pt__free_full puts it back
	 * to 0.  Heapless threads write pt__empty_heap's room so, and only
	 * ever below 0 and back to 0: never a push there. */
	if (PT_LIKELY(!pt__dec_lt_zero(&h->tc_room[c]))) {
		struct pt_block *next = h->tc[c];
		/* the cache's store between the block's two: GCC would pair
		 * those through a vector register (three instructions more) */
		*pt__key_word(b) = k;
		h->tc[c] = b;
		pt__blk_link(b, next);
		return;
	}
	pt__free_full(ptr, (unsigned)c);
}

/* ptr is a block of ours (pt__owns). */
static inline void pt__free_inline(void *ptr)
{
	pt__free_class(ptr, (size_t)pt__class_of((uintptr_t)ptr) - 1);
}

/* Is ptr, a block of class c, free already (a free or realloc would be a
 * double free)? */
static inline bool pt__is_free(void *ptr, unsigned c)
{
	struct pt_block *b = ptr;
	return *pt__key_word(b) == pt__free_key && pt__double_free(b, c);
}

#endif /* POOLTRACE_ALLOC_FASTPATH_H */
