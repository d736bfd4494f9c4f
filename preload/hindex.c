/*
 * hindex.c - the lock-free-read index of the interning tables (hindex.h).
 */
#include <string.h>
#include <sys/mman.h>

#include "common.h"
#include "hindex.h"

#define TAG_MASK 0xffffffff00000000ull

struct pt_hindex *pt__hindex_new(size_t cap)
{
	pt_assert(cap && !(cap & (cap - 1)));
	struct pt_hindex *x = pt__map(sizeof *x + cap * sizeof(uint64_t), 0);
	if (x)
		x->mask = cap - 1;
	return x;
}

static void place(struct pt_hindex *x, uint64_t h, uint32_t id)
{
	size_t i = (size_t)h & x->mask;
	while (atomic_load_explicit(&x->slot[i], memory_order_relaxed))
		i = (i + 1) & x->mask;
	atomic_store_explicit(&x->slot[i], (h & TAG_MASK) | id, memory_order_release);
}

uint32_t pt__hindex_find(struct pt_hindex *_Atomic *px, uint64_t h,
                         int (*eq)(uint32_t id, const void *key), const void *key)
{
	struct pt_hindex *x = atomic_load_explicit(px, memory_order_acquire);
	uint64_t tag = h & TAG_MASK;
	for (size_t i = (size_t)h & x->mask;; i = (i + 1) & x->mask) {
		uint64_t v = atomic_load_explicit(&x->slot[i], memory_order_acquire);
		if (v == 0)
			return 0;
		if ((v & TAG_MASK) == tag && eq((uint32_t)v, key))
			return (uint32_t)v;
	}
}

int pt__hindex_add(struct pt_hindex *_Atomic *px, uint64_t h, uint32_t id,
                   uint64_t (*hash_of)(uint32_t id, const void *table), const void *table)
{
	pt_assert(id != 0);
	struct pt_hindex *x = atomic_load_explicit(px, memory_order_relaxed);
	if ((x->n + 1) * 2 > x->mask + 1) {
		struct pt_hindex *y = pt__hindex_new((x->mask + 1) * 2);
		if (!y)
			return -1;
		for (uint32_t k = 1; k < id; k++)
			place(y, hash_of(k, table), k);
		y->n = x->n;
		atomic_store_explicit(px, y, memory_order_release);
		x = y;
	}
	place(x, h, id);
	x->n++;
	pt_assert(x->n * 2 <= x->mask + 1);
	return 0;
}

void pt__hindex_reset(struct pt_hindex *_Atomic *px, size_t cap)
{
	struct pt_hindex *x = pt__hindex_new(cap), *old = atomic_load(px);
	if (x) {
		atomic_store(px, x);
		return;
	}
	memset((void *)old->slot, 0, (old->mask + 1) * sizeof(uint64_t));
	old->n = 0;
}
