/*
 * arena.c - arena life cycle, the ownership map, pools handed to and taken
 * back from heaps, purging, and the metadata bump allocator.
 *
 * Every function here runs with pt__g.lock held (the _unlocked suffix says
 * the caller took it).  The invariants are in internal.h: usable_arenas is
 * sorted by nfreepools, fewest first, and nfp2lasta[k] is the last arena on
 * it with nfreepools == k, or NULL.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

_Atomic(uint8_t *) pt__radix_root[1u << PT_RADIX_ROOT_BITS];
uintptr_t pt__region_base = PT_REGION_NONE;
uint8_t pt__region_map[PT_REGION_ARENAS];
uint8_t pt__region_cls[PT_REGION_POOLS];

void pt_test_region_limit(size_t n)
{
	pt__lock();
	pt__g.region_limit = n < PT_REGION_ARENAS ? n : PT_REGION_ARENAS;
	pt__unlock();
}

/*
 * Choose the region (at initialisation): reserve PT_REGION_SIZE of address
 * space to find a hole that large, and give it straight back.  Nothing of it
 * stays reserved: arenas are mapped into it one by one, from the bottom up,
 * at fixed addresses (see internal.h, "Ownership").  Without a hole (a
 * tight RLIMIT_AS at start), every arena is a plain mapping.
 */
void pt__region_init_unlocked(void)
{
	void *m;
	if (pt__region_base != PT_REGION_NONE)
		return;
	if (!pt__g.region_limit)
		pt__g.region_limit = PT_REGION_ARENAS;
	if (pt__os_reserve(PT_REGION_SIZE, PT_ARENA_SIZE, &m) == 0) {
		pt__os_unmap(m, PT_REGION_SIZE);
		__atomic_store_n(&pt__region_base, (uintptr_t)m, __ATOMIC_RELEASE);
	}
}

/* Slot i of the region holds an arena of ours now. */
static void region_mark_unlocked(size_t i)
{
	__atomic_store_n(&pt__region_map[i], PT_SLOT_OURS, __ATOMIC_RELEASE);
	if (i >= pt__g.region_top)
		pt__g.region_top = i + 1;
}

/*
 * A fresh arena mapped at the lowest free slot of the region, or NULL (no
 * region, no slot left below region_limit, the OS refused, or the next
 * slots are someone else's).  A slot found mapped by someone else is marked
 * and never tried again; a call tries a few such slots at most.
 */
static void *region_take_unlocked(void)
{
	if (pt__region_base == PT_REGION_NONE)
		return NULL;
	unsigned taken = 0;
	for (size_t i = pt__g.region_hint; i < pt__g.region_limit; i++) {
		if (pt__region_map[i])
			continue;
		void *p = (void *)(pt__region_base + (i << PT_ARENA_SHIFT));
		/* meshing: the slot's part of the memory file, whose offsets
		 * are the region's (zeros: released arenas are punched) */
		bool file = pt__g.mesh_fd >= 0;
		int r = file ? pt__os_map_file_at(p, PT_ARENA_SIZE, pt__g.mesh_fd,
		                                  i << PT_ARENA_SHIFT, false)
		             : pt__os_map_at(p, PT_ARENA_SIZE);
		if (r == 0) {
			region_mark_unlocked(i);
			pt__g.region_hint = i + 1;
			((struct pt_arena *)p)->in_file = file;
			return p;
		}
		if (r != EEXIST)
			return NULL;   /* out of memory or address space */
		__atomic_store_n(&pt__region_map[i], PT_SLOT_FOREIGN, __ATOMIC_RELAXED);
		if (i == pt__g.region_hint)
			pt__g.region_hint = i + 1;
		if (++taken == 8)
			return NULL;
	}
	return NULL;
}

#define LEAF_SIZE (1u << PT_RADIX_LEAF_BITS)

/* Mark or clear the arena at base in the ownership map.  0 or ENOMEM. */
static int radix_set_unlocked(uintptr_t base, uint8_t v)
{
	size_t ri = base >> (PT_ARENA_SHIFT + PT_RADIX_LEAF_BITS);
	uint8_t *leaf = atomic_load_explicit(&pt__radix_root[ri], memory_order_relaxed);
	if (!leaf) {
		void *m;
		if (!v)
			return 0;
		if (pt__os_map(LEAF_SIZE, &m))
			return ENOMEM;
		leaf = m;  /* zeroed by the kernel; leaves are never freed */
		atomic_store_explicit(&pt__radix_root[ri], leaf, memory_order_release);
	}
	__atomic_store_n(&leaf[(base >> PT_ARENA_SHIFT) & (LEAF_SIZE - 1)], v,
	                 __ATOMIC_RELEASE);
	return 0;
}

uintptr_t pt__pool_base(const struct pt_pool *p)
{
	uintptr_t d = (uintptr_t)p;
	uintptr_t base = d & ~(uintptr_t)(PT_ARENA_SIZE - 1);
	return base + (((d - base) >> 6) << PT_POOL_SHIFT);
}

/* used by the PT_DEBUG checks only */
static __attribute__((unused)) unsigned pool_index(const struct pt_pool *p)
{
	return (unsigned)(((uintptr_t)p & (PT_ARENA_SIZE - 1)) >> 6);
}

/* ---- usable_arenas ordering (obmalloc's nfp2lasta, rewritten) ---------- */

static void usable_unlink(struct pt_arena *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else
		pt__g.usable = a->next;
	if (a->next)
		a->next->prev = a->prev;
	a->next = a->prev = NULL;
}

static void usable_insert_after(struct pt_arena *a, struct pt_arena *after)
{
	if (!after) {
		a->prev = NULL;
		a->next = pt__g.usable;
		if (a->next)
			a->next->prev = a;
		pt__g.usable = a;
		return;
	}
	a->prev = after;
	a->next = after->next;
	if (a->next)
		a->next->prev = a;
	after->next = a;
}

/* a is leaving the group of arenas with nfreepools == nf: fix the finger. */
static void finger_drop(struct pt_arena *a, unsigned nf)
{
	if (pt__g.nfp2lasta[nf] == a)
		pt__g.nfp2lasta[nf] =
			(a->prev && a->prev->nfreepools == nf) ? a->prev : NULL;
}

/* ---- arenas ------------------------------------------------------------- */

static struct pt_arena *arena_new_unlocked(void)
{
	void *m = region_take_unlocked();
	if (!m) {
		if (pt__os_map_aligned(PT_ARENA_SIZE, PT_ARENA_SIZE, &m))
			return NULL;
		if (pt__in_range((uintptr_t)m)) {
			/* the kernel placed it in the region's range (whose free
			 * slots others' mappings take too): it is a slot */
			region_mark_unlocked(((uintptr_t)m - pt__region_base) >> PT_ARENA_SHIFT);
		} else if (radix_set_unlocked((uintptr_t)m, 1)) {
			pt__os_unmap(m, PT_ARENA_SIZE);
			return NULL;
		} else {
			pt__g.arenas_outside++;
		}
	}
	struct pt_arena *a = m;   /* zeroed: every pool FREE, not dirty */
	a->nfreepools = PT_USABLE_POOLS;
	a->ncarved = 1;
	a->all_next = pt__g.all;
	if (a->all_next)
		a->all_next->all_prev = a;
	pt__g.all = a;
	pt__g.arenas_mapped++;
	pt__g.arenas_total++;
	if (pt__g.arenas_mapped > pt__g.arenas_highwater)
		pt__g.arenas_highwater = pt__g.arenas_mapped;
	/* only called when no arena has a free pool: a is the whole list */
	pt_assert(pt__g.usable == NULL);
	usable_insert_after(a, NULL);
	pt__g.nfp2lasta[PT_USABLE_POOLS] = a;
	pt__g.nempty_arenas++;
	return a;
}

static void arena_release_unlocked(struct pt_arena *a)
{
	pt__g.dirty_pools -= a->ndirty;
	if (a->all_prev)
		a->all_prev->all_next = a->all_next;
	else
		pt__g.all = a->all_next;
	if (a->all_next)
		a->all_next->all_prev = a->all_prev;
	uintptr_t base = (uintptr_t)a;
	bool in_file = a->in_file;
	if (pt__in_range(base)) {
		/* unmapped, not kept reserved: the address space counts against
		 * RLIMIT_AS, and the slot is usually free again when needed */
		size_t i = (base - pt__region_base) >> PT_ARENA_SHIFT;
		__atomic_store_n(&pt__region_map[i], 0, __ATOMIC_RELEASE);
		pt__os_unmap(a, PT_ARENA_SIZE);
		if (in_file && pt__g.mesh_fd >= 0)   /* the file keeps pages until punched */
			pt__os_punch(pt__g.mesh_fd, i << PT_ARENA_SHIFT, PT_ARENA_SIZE);
		if (i < pt__g.region_hint)
			pt__g.region_hint = i;
	} else {
		radix_set_unlocked(base, 0);
		pt__os_unmap(a, PT_ARENA_SIZE);
		pt__g.arenas_outside--;
	}
	pt__g.arenas_mapped--;
	pt__g.arenas_released++;
}

/*
 * Take a FREE pool from the fullest usable arena, mapping a new arena if
 * there is none.  Returns NULL (errno untouched) when the OS refuses memory.
 */
struct pt_pool *pt__arena_take_pool_unlocked(void)
{
	struct pt_arena *a = pt__g.usable;
	if (!a && !(a = arena_new_unlocked()))
		return NULL;

	unsigned nf = a->nfreepools;
	struct pt_pool *p;
	if (a->freepools && PT_UNLIKELY(a->freepools->stale)) {
		/* it was meshed: its address shows another pool's page until
		 * its own is mapped back (mesh.c; zeros: it was punched) */
		struct pt_pool *s = a->freepools;
		uintptr_t b = pt__pool_base(s);
		if (pt__g.mesh_fd >= 0 &&
		    pt__os_map_file_at((void *)b, PT_POOL_SIZE, pt__g.mesh_fd,
		                       b - pt__region_base, true))
			return NULL;
		s->stale = 0;
	}
	if (a->freepools) {
		p = a->freepools;
		a->freepools = p->next;
		if (p->dirty) {
			p->dirty = 0;
			a->ndirty--;
			pt__g.dirty_pools--;
		}
	} else {
		pt_assert(a->ncarved < PT_POOLS_PER_ARENA);
		p = &a->pool[a->ncarved++ - 1];
	}
	if (nf == PT_USABLE_POOLS)
		pt__g.nempty_arenas--;

	/* a is the head (fewest free pools) and stays so with one fewer */
	finger_drop(a, nf);
	a->nfreepools = (uint16_t)--nf;
	if (nf == 0)
		usable_unlink(a);
	else if (!pt__g.nfp2lasta[nf])
		pt__g.nfp2lasta[nf] = a;

	pt__g.pools_held++;
	pt__g.wave_taken++;
	p->next = p->prev = NULL;
	p->free = NULL;
	p->nused = p->ncarved = 0;
	p->mesh_first = 0;
	atomic_store_explicit(&p->xfree, 0, memory_order_relaxed);
	pt_assert_every(64, pt__arenas_valid());
	return p;
}

struct pt_pool *pt__arena_take_next_unlocked(const struct pt_pool *p)
{
	struct pt_arena *a = pt__g.usable;
	if (!a || a != pt__arena_of((uintptr_t)p) || a->freepools ||
	    a->ncarved >= PT_POOLS_PER_ARENA || &a->pool[a->ncarved - 1] != p + 1)
		return NULL;
	return pt__arena_take_pool_unlocked();   /* carves a->pool[ncarved - 1]: p + 1 */
}

void pt__release_pages_unlocked(void *p, size_t size)
{
	uintptr_t a = (uintptr_t)p;
	if (pt__arena_of(a)->in_file && pt__g.mesh_fd >= 0)
		/* a shared mapping: MADV_DONTNEED would only drop this mapping
		 * of the pages, the file would keep them */
		pt__os_punch(pt__g.mesh_fd, a - pt__region_base, size);
	else
		pt__os_purge(p, size);
}

static bool purgeable(const struct pt_pool *p, uint32_t now, uint32_t delay)
{
	return p->state == PT_POOL_FREE && p->dirty && now - p->freed_ms >= delay;
}

/* Purge arena a's free pools dirty for at least delay ms (0: every dirty
 * one), one madvise per run of adjacent pools. */
static void purge_arena_unlocked(struct pt_arena *a, uint32_t now, uint32_t delay)
{
	unsigned i = 1;
	while (i < PT_POOLS_PER_ARENA) {
		if (!purgeable(&a->pool[i - 1], now, delay)) {
			i++;
			continue;
		}
		unsigned j = i;
		while (j < PT_POOLS_PER_ARENA && purgeable(&a->pool[j - 1], now, delay)) {
			a->pool[j - 1].dirty = 0;
			j++;
		}
		pt__release_pages_unlocked((char *)a + (size_t)i * PT_POOL_SIZE,
		                           (size_t)(j - i) * PT_POOL_SIZE);
		pt__g.purges++;
		pt__g.purged_pools += j - i;
		pt__g.dirty_pools -= j - i;
		a->ndirty = (uint16_t)(a->ndirty - (j - i));
		i = j;
	}
}

/* The same in every arena. */
static void purge_unlocked(uint32_t now, uint32_t delay)
{
	for (struct pt_arena *a = pt__g.all; a; a = a->all_next)
		if (a->ndirty)
			purge_arena_unlocked(a, now, delay);
}

/*
 * A pool came back to its arena (see internal.h, "Purging").  The first
 * return after the program took pools from the arenas starts a new wave of
 * frees, of the pools free now; a wave that starts less than
 * PT_WAVE_WINDOW_MS after the previous wave's last return continues a run,
 * and its reserve (wave_keep) is the largest wave of the run, else there
 * is none.  Counted here, at each return, so that the pools of arenas
 * released whole count too: a program that frees its heap in allocation
 * order empties whole arenas one after another, and the dirty pools a
 * shrink sees are few.
 */
static void wave_give(uint32_t now)
{
	struct pt_global *g = &pt__g;
	if (g->wave_taken || !g->wave_seen) {
		bool run = g->wave_seen && now - g->wave_ms < PT_WAVE_WINDOW_MS;
		if (!run)
			g->wave_peak = 0;
		g->wave_keep = g->wave_peak;   /* 0 for a run's first wave */
		g->wave_given = g->dirty_pools;
		g->wave_taken = 0;
		g->wave_seen = 1;
	}
	g->wave_ms = now;
	if (++g->wave_given > g->wave_peak)
		g->wave_peak = g->wave_given;
}

/*
 * The free pools outgrew both PT_DIRTY_MIN and half the pools heaps hold: a
 * wave of frees (see internal.h, "Purging").  Purge them all but the reserve
 * (wave_keep, wave_give), the dirty pools of the arenas that hand out pools
 * first, the head of usable_arenas.
 */
static void shrink_unlocked(uint32_t now)
{
	struct pt_global *g = &pt__g;
	if (g->dirty_pools <= g->wave_keep + PT_DIRTY_MIN)
		return;
	g->last_purge_ms = now;
	uint64_t kept = 0;
	struct pt_arena *next;
	for (struct pt_arena *a = g->usable; a; a = next) {
		next = a->next;
		if (!a->ndirty)
			continue;
		if (kept < g->wave_keep) {
			kept += a->ndirty;
		} else if (a->nfreepools == PT_USABLE_POOLS && g->nempty_arenas > 1) {
			/* an empty arena past the reserve and the spare: unmap it */
			finger_drop(a, PT_USABLE_POOLS);
			usable_unlink(a);
			g->nempty_arenas--;
			arena_release_unlocked(a);
		} else {
			purge_arena_unlocked(a, 0, 0);
		}
	}
}

void pt__purge_all_unlocked(void)
{
	purge_unlocked(pt__os_now_ms(), 0);
}

/*
 * Give a pool with no block in use back to its arena.  The arena moves to
 * its place in usable_arenas; an arena left with every pool free is
 * unmapped unless it is the only such arena (the spare).
 */
void pt__arena_give_pool_unlocked(struct pt_pool *p)
{
	struct pt_arena *a = pt__arena_of((uintptr_t)p);
	unsigned nf = a->nfreepools;

	pt_assert(pool_index(p) >= 1 && PT_NUSED(p) == 0);
	pt__set_pool_class(p, 0);   /* its addresses are no block of ours now */
	p->state = PT_POOL_FREE;
	p->owner = NULL;
	p->free = NULL;
	uint32_t now = pt__os_now_ms();
	pt__g.pools_held--;
	if (!p->stale) {
		wave_give(now);
		p->dirty = 1;
		p->freed_ms = now;
		a->ndirty++;
		pt__g.dirty_pools++;
	}   /* else a meshed pool: its own page went back at the mesh (mesh.c) */
	p->next = a->freepools;
	a->freepools = p;

	if (nf == 0) {
		/* back on the list, in front: nobody has fewer than one free pool */
		usable_insert_after(a, NULL);
		a->nfreepools = 1;
		if (!pt__g.nfp2lasta[1])
			pt__g.nfp2lasta[1] = a;
	} else {
		struct pt_arena *last = pt__g.nfp2lasta[nf];
		finger_drop(a, nf);
		if (last != a) {
			usable_unlink(a);
			usable_insert_after(a, last);
		}
		a->nfreepools = (uint16_t)++nf;
		if (!pt__g.nfp2lasta[nf])
			pt__g.nfp2lasta[nf] = a;
	}

	if (a->nfreepools == PT_USABLE_POOLS) {
		/* a wave's reserve keeps its empty arenas mapped too */
		if (pt__g.nempty_arenas >= 1 && pt__g.dirty_pools > pt__g.wave_keep) {
			finger_drop(a, PT_USABLE_POOLS);
			usable_unlink(a);
			arena_release_unlocked(a);
			return;
		}
		pt__g.nempty_arenas++;
	}
	if (pt__g.dirty_pools > PT_DIRTY_MIN &&
	    pt__g.dirty_pools > pt__g.pools_held / PT_DIRTY_RATIO) {
		shrink_unlocked(now);   /* the heap shrank: give back all but the reserve */
	} else if (pt__g.dirty_pools && now - pt__g.last_purge_ms >= PT_PURGE_CHECK_MS) {
		pt__g.last_purge_ms = now;
		purge_unlocked(now, PT_PURGE_DELAY_MS);
	}
	pt_assert_every(64, pt__arenas_valid());
}

/*
 * Bump allocator for allocator metadata (heap structs), from 64 KiB maps.
 * Never freed: heaps are recycled through the abandoned list.
 */
void *pt__meta_alloc_unlocked(size_t size)
{
	size = (size + 63) & ~(size_t)63;
	if ((size_t)(pt__g.meta_end - pt__g.meta_cur) < size) {
		size_t chunk = size > (64u << 10) ? size : (64u << 10);
		void *m;
		if (pt__os_map(chunk, &m))
			return NULL;
		pt__g.meta_cur = m;
		pt__g.meta_end = (char *)m + chunk;
	}
	void *r = pt__g.meta_cur;
	pt__g.meta_cur += size;
	return r;
}
