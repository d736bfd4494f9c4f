/*
 * check.c - the allocator's invariants (internal.h) as code: a pool, a
 * heap, the arenas.  Each check returns true when the invariants hold, so
 * that callers write pt_assert(pt__pool_valid(p)); built without PT_DEBUG
 * the asserts compile to nothing and these functions are never called.
 * They read only the allocator's own structures, never block contents
 * other than free-list links, and never allocate.
 */
#include "internal.h"

#define SENTINEL (&pt__sentinel_pool)

/* A block address of pool p: inside its carved part, at a block start. */
static bool block_of(const struct pt_pool *p, const struct pt_block *b)
{
	/* in p's page, or in that of a pool meshed into p (only our maps are
	 * read before a descriptor: a corrupt link fails, it does not fault) */
	uintptr_t a = (uintptr_t)b, off = a & (PT_POOL_SIZE - 1);
	if (a - off != pt__pool_base(p) && (!pt__owns(a) || pt__pool_of_block(a) != p))
		return false;
	return off < (size_t)p->ncarved * p->size && off % p->size == 0;
}

/*
 * One pool, as its owner sees it (the owner thread, or anyone under the
 * lock for an abandoned heap).  The counting identity
 *   (nused - pinned) + |free| + (nblocks - ncarved) == nblocks
 * where nused counts blocks in thread caches and on xfree as in use.
 */
bool pt__pool_valid(const struct pt_pool *p)
{
	if (p == SENTINEL)
		return p->free == NULL;
	if (p->state == PT_POOL_FREE)   /* (pinned is stale there: mesh.c) */
		return p->owner == NULL && PT_NUSED(p) == 0;
	if (p->size == 0 || p->size != pt__cls.size[p->cls] ||
	    p->nblocks != pt__class_nblocks(p->cls) || p->ncarved > p->nblocks)
		return false;
	/* the class map says the same (for pools of the region) */
	uintptr_t base = pt__pool_base(p);
	if (pt__in_region(base) &&
	    pt__region_cls[(base - pt__region_base) >> PT_POOL_SHIFT] != p->cls + 1u)
		return false;
	/* FULL: the sign bit, and only then; the pin only on a USED pool */
	if ((p->state == PT_POOL_FULL) != ((p->nused & PT_NUSED_FULL) != 0))
		return false;
	if (p->pinned && p->state != PT_POOL_USED)
		return false;
	unsigned nfree = 0;
	for (const struct pt_block *b = p->free; b; b = pt__blk_next(b)) {
		if (!block_of(p, b) || ++nfree > p->nblocks)
			return false;
	}
	unsigned used = PT_NUSED(p);
	if (used < p->pinned)
		return false;
	if (p->owner == NULL || (p->state == PT_POOL_EMPTY && used != 0))
		return false;
	return used - p->pinned + nfree + (p->nblocks - p->ncarved) == p->nblocks;
}

/*
 * A heap, as its owner sees it: each class list circular and doubly
 * linked, of USED pools of that class owned by the heap, its head pinned
 * (unless the heap is abandoned, when nothing is) and no other pool
 * pinned; the empty cache of nempty EMPTY pools; the thread cache within
 * its room.
 */
bool pt__heap_valid(const struct pt_heap *h)
{
	bool gone = atomic_load_explicit(&h->abandoned, memory_order_relaxed) != 0;
	for (unsigned c = 0; c < PT_NCLASSES_MAX; c++) {
		const struct pt_pool *head = h->avail[c], *p = head;
		if (head == SENTINEL)
			goto cache;
		if (c >= pt__g.nclasses || (!gone && !head->pinned))
			return false;
		unsigned n = 0;
		do {
			if (p->owner != h || p->cls != c || p->state != PT_POOL_USED ||
			    p->next->prev != p || p->prev->next != p ||
			    (p != head && p->pinned) || !pt__pool_valid(p) ||
			    ++n > PT_REGION_POOLS)
				return false;
			p = p->next;
		} while (p != head);
cache:;
		unsigned k = 0;
		/* cached blocks carry the free key */
		for (const struct pt_block *b = h->tc[c]; b; b = pt__blk_next(b))
			if (++k > pt__tc_cap() || !pt__owns((uintptr_t)b) ||
			    ((const uint64_t *)b)[1] != pt__free_key)
				return false;
		if (h != &pt__empty_heap && k + h->tc_room[c] != pt__tc_cap() && !gone)
			return false;
	}
	unsigned ne = 0;
	/* over PT_HEAP_EMPTY_CACHE only after a signal handler freed while its
	 * thread held the lock (internal.h, "Signals and fork"): bounded by
	 * the pools there are, as a cycle guard */
	for (const struct pt_pool *p = h->empty; p; p = p->next)
		if (p->state != PT_POOL_EMPTY || p->owner != h || !pt__pool_valid(p) ||
		    ++ne > PT_REGION_POOLS)
			return false;
	if (ne != h->nempty)
		return false;
	/* abandoned (not a fork orphan): its empty pools went back to the
	 * arenas, the classes' runs too */
	bool abandoned = atomic_load_explicit(&h->abandoned, memory_order_relaxed) == 1;
	if (abandoned && h->empty)
		return false;
	/* each class's run: EMPTY pools of h, each right after the one before */
	for (unsigned c = 0; c < PT_NCLASSES_MAX; c++) {
		unsigned nr = 0;
		if (abandoned && h->run[c])
			return false;
		for (const struct pt_pool *p = h->run[c]; p; p = p->next)
			if (p->state != PT_POOL_EMPTY || p->owner != h || PT_NUSED(p) != 0 ||
			    ++nr >= PT_CLASS_RUN || (p->next && p->next != p + 1))
				return false;
	}
	return true;
}

/*
 * The arenas, under the lock: usable_arenas sorted by nfreepools, fewest
 * first, holding exactly the mapped arenas with a free pool;
 * nfp2lasta[k] the last of those with k free pools; each arena's
 * nfreepools and ndirty what its pools say; the global counts their sums.
 */
bool pt__arenas_valid(void)
{
	uint64_t mapped = 0, dirty = 0, usable = 0, empty = 0;
	for (const struct pt_arena *a = pt__g.all; a; a = a->all_next) {
		unsigned nfree = PT_POOLS_PER_ARENA - a->ncarved, ndirty = 0;
		for (const struct pt_pool *p = a->freepools; p; p = p->next) {
			if (p->state != PT_POOL_FREE || pt__arena_of((uintptr_t)p) != a ||
			    ++nfree > PT_USABLE_POOLS)
				return false;
			ndirty += p->dirty;
		}
		if (nfree != a->nfreepools || ndirty != a->ndirty)
			return false;
		mapped++;
		dirty += ndirty;
		usable += nfree > 0;
		empty += nfree == PT_USABLE_POOLS;
	}
	if (mapped != pt__g.arenas_mapped || dirty != pt__g.dirty_pools ||
	    empty != pt__g.nempty_arenas)
		return false;
	uint64_t n = 0, groups = 0, fingers = 0;
	for (const struct pt_arena *a = pt__g.usable; a; a = a->next) {
		if (!a->nfreepools || (a->next && a->next->nfreepools < a->nfreepools) ||
		    (a->next && a->next->prev != a) || ++n > mapped)
			return false;
		bool last = !a->next || a->next->nfreepools != a->nfreepools;
		if ((pt__g.nfp2lasta[a->nfreepools] == a) != last)
			return false;
		groups += last;
	}
	for (unsigned k = 0; k <= PT_POOLS_PER_ARENA; k++)
		fingers += pt__g.nfp2lasta[k] != NULL;
	return n == usable && fingers == groups;
}
