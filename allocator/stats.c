/*
 * stats.c - the stats walk: per size class, per arena and totals, computed
 * by reading the arena header pages (never the pools themselves), in the
 * spirit of CPython's sys._debugmallocstats().  No counter is shared on the
 * fast paths: lifetime counts are summed over the per-thread heaps.
 */
#include <string.h>

#include "internal.h"

/* Classify one carved pool of arena a into the figures. */
static void count_pool(const struct pt_pool *p, struct pt_stats *st,
                       struct pt_arena_info *ai)
{
	switch (p->state) {
	case PT_POOL_FREE:
		if (p->dirty)
			st->pools_free_dirty++;
		else
			st->pools_free_purged++;
		ai->pools_empty++;
		return;
	case PT_POOL_EMPTY:
		st->pools_empty_heap++;
		ai->pools_empty++;
		return;
	case PT_POOL_MESHED:   /* its blocks are counted in the pool it shows
		                        (pt_mesh_stats counts such pools) */
		return;
	default:
		break;
	}
	struct pt_class_stats *cs = &st->cls[p->cls];
	unsigned used = PT_NUSED(p) - p->pinned;
	if (used == 0) {
		cs->pools_empty++;
		st->pools_empty_heap++;
		ai->pools_empty++;
		return;
	}
	if (used >= p->nblocks)
		cs->pools_full++;
	else
		cs->pools_used++;
	st->pools_in_use++;
	cs->blocks_used += used;
	cs->blocks_free += p->nblocks - used;
	st->bytes_pool_tail += PT_POOL_SIZE - (unsigned)p->nblocks * p->size;
	ai->pools_used++;
	ai->blocks_used += used;
	ai->bytes_in_blocks += (uint64_t)used * p->size;
}

static void walk_unlocked(struct pt_stats *st,
                          void (*fn)(const struct pt_arena_info *, void *), void *arg,
                          size_t *narenas)
{
	for (struct pt_arena *a = pt__g.all; a; a = a->all_next) {
		struct pt_arena_info ai = { .base = (uintptr_t)a };
		for (unsigned i = 1; i < a->ncarved; i++)
			count_pool(&a->pool[i - 1], st, &ai);
		ai.pools_untouched = PT_POOLS_PER_ARENA - a->ncarved;
		st->pools_untouched += ai.pools_untouched;
		if (fn)
			fn(&ai, arg);
		(*narenas)++;
	}
}

void pt_stats_get(struct pt_stats *st)
{
	pt_stats_walk(st, NULL, NULL);
}

void pt_stats_walk(struct pt_stats *st, void (*fn)(const struct pt_arena_info *, void *),
                   void *arg)
{
	size_t narenas = 0;
	uint64_t sample_bytes[PT_NCLASSES_MAX] = { 0 }, samples[PT_NCLASSES_MAX] = { 0 };

	memset(st, 0, sizeof *st);
	if (!atomic_load(&pt__g.initialised))
		pt__init_slow();
	pt__lock();
	st->align = pt__g.align;
	st->nclasses = pt__g.nclasses;
	for (unsigned c = 0; c < pt__g.nclasses; c++) {
		st->cls[c].size = pt__cls.size[c];
		st->cls[c].blocks_per_pool = pt__class_nblocks(c);
	}
	walk_unlocked(st, fn, arg, &narenas);
	for (struct pt_heap *h = pt__g.heaps; h; h = h->all_next) {
		for (unsigned c = 0; c < pt__g.nclasses; c++) {
			/* blocks in a thread cache count as used in their pools;
			 * never walk another thread's list, count from its room */
			unsigned room = h->tc_room[c];
			if (room < pt__tc_cap())
				st->cls[c].blocks_cached += pt__tc_cap() - room;
			st->cls[c].nmalloc += h->nmalloc[c];
			sample_bytes[c] += h->req_sample_bytes[c];
			samples[c] += h->req_samples[c];
		}
		int ab = atomic_load(&h->abandoned);
		st->heaps_abandoned += ab == 1;
		st->heaps_orphaned += ab == 2;
	}
	st->heaps = pt__g.nheaps;
	st->arenas_mapped = pt__g.arenas_mapped;
	st->arenas_total = pt__g.arenas_total;
	st->arenas_released = pt__g.arenas_released;
	st->arenas_highwater = pt__g.arenas_highwater;
	st->arenas_outside = pt__g.arenas_outside;
	st->purges = pt__g.purges;
	pt__unlock();

	st->bytes_headers = st->arenas_mapped * PT_POOL_SIZE;
	for (unsigned c = 0; c < st->nclasses; c++) {
		struct pt_class_stats *cs = &st->cls[c];
		if (cs->blocks_cached > cs->blocks_used)
			cs->blocks_cached = cs->blocks_used;   /* racing with their owners */
		cs->blocks_used -= cs->blocks_cached;
		cs->blocks_free += cs->blocks_cached;
		if (samples[c])   /* mean of the sampled requests, times the calls */
			cs->req_bytes = (uint64_t)((double)sample_bytes[c] / (double)samples[c] *
			                           (double)cs->nmalloc);
		st->nmalloc += cs->nmalloc;
		st->bytes_in_blocks += cs->blocks_used * cs->size;
		st->bytes_free_blocks += cs->blocks_free * cs->size;
		if (cs->nmalloc) {
			/* mean request of the class, in 1/16 bytes to keep a fraction */
			uint64_t mean16 = cs->req_bytes * 16 / cs->nmalloc;
			uint64_t size16 = (uint64_t)cs->size * 16;
			if (size16 > mean16)
				st->bytes_rounding_est += cs->blocks_used * (size16 - mean16) / 16;
		}
	}
}

size_t pt_arena_walk(void (*fn)(const struct pt_arena_info *, void *), void *arg)
{
	static struct pt_stats st;   /* scratch, 4 KiB: kept off small stacks */
	size_t narenas = 0;

	if (!atomic_load(&pt__g.initialised))
		pt__init_slow();
	pt__lock();
	memset(&st, 0, sizeof st);
	walk_unlocked(&st, fn, arg, &narenas);
	pt__unlock();
	return narenas;
}

void pt_pool_walk(uintptr_t lo, uintptr_t hi,
                  void (*fn)(uintptr_t pool, size_t block_size, void *arg), void *arg)
{
	uintptr_t base = __atomic_load_n(&pt__region_base, __ATOMIC_ACQUIRE);
	if (base == PT_REGION_NONE)
		return;
	uintptr_t end = base + PT_REGION_SIZE;
	if (!lo && !hi)
		lo = base, hi = end;
	if (lo < base)
		lo = base;
	if (hi > end)
		hi = end;
	for (uintptr_t pool = lo & ~(uintptr_t)(PT_POOL_SIZE - 1); pool < hi; pool += PT_POOL_SIZE) {
		unsigned v = __atomic_load_n(&pt__region_cls[(pool - base) >> PT_POOL_SHIFT],
		                             __ATOMIC_RELAXED);
		if (v)
			fn(pool, pt__cls.size[v - 1], arg);
	}
}

size_t pt_purge(void)
{
	if (!atomic_load(&pt__g.initialised))
		return 0;
	pt__lock();
	uint64_t before = pt__g.purged_pools;
	pt__purge_all_unlocked();
	size_t bytes = (size_t)(pt__g.purged_pools - before) * PT_POOL_SIZE;
	pt__unlock();
	return bytes;
}
