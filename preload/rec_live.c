/*
 * rec_live.c - which info each recorded live block has, so that a free is
 * written as the info of the block it frees (as heaptrack's interpreter
 * does): traces then hold no addresses, whose randomness no compressor
 * removes.  The exit scan and the pinned-arena records read it too.
 *
 * Blocks of the allocator's region: a word per 8 bytes of the region
 * (reserved, touched only where pools are), written by the allocating
 * thread and read by the freeing one, which the program has ordered after
 * it.  Other blocks (glibc's, arenas outside the region): an address map
 * under the lock.  With sampling only sampled blocks are entered, and a
 * counting filter of 64 KiB (pt__rec_sfilter, read inline by the free
 * hook), which stays in cache, answers "not sampled" for almost every
 * free: it counts the sampled blocks per 4 KiB page, and only a "maybe"
 * looks further.
 */
#include <string.h>

#include "../allocator/layout.h"
#include "addrmap.h"
#include "heapscan.h"
#include "libc_sym.h"
#include "rec_internal.h"

#define SHADOW_SIZE (PT_REGION_SIZE / 8 * sizeof(uint32_t))

uint8_t *pt__rec_sfilter;

static struct {
	struct pt_lock lock;       /* the map, the filter, sampled shadow words */
	uint32_t *shadow;          /* NULL: no region, every block in the map */
	struct pt_addrmap map;
} L = { .lock = PT_LOCK_INIT(PT_RANK_LIVE) };

static inline uint32_t *shadow_of(uintptr_t p)
{
	if (L.shadow && pt__in_region(p))
		return &L.shadow[(p - pt__region_base) >> 3];
	return NULL;
}

int pt__rlive_init(void)
{
	if (pt__region_base != PT_REGION_NONE)
		L.shadow = pt__map(SHADOW_SIZE, 1);   /* none: every block in the map */
	if (pt__rcfg.sample && !(pt__rec_sfilter = pt__map(PT_REC_SFILTER_SIZE, 0)))
		return -1;
	return 0;
}

int pt__rlive_has_shadow(void)
{
	return L.shadow != NULL;
}

static void filter_add(uintptr_t p, int d)
{
	uint8_t *c = &pt__rec_sfilter[pt__rec_sfilter_idx(p)];
	if (*c < 255 && (d > 0 || *c > 0))   /* 255 sticks: it may undercount */
		__atomic_store_n(c, (uint8_t)(*c + d), __ATOMIC_RELEASE);
}

void pt__rlive_put(uintptr_t p, uint32_t id)
{
	uint32_t *w = shadow_of(p);
	if (w && !pt__rec_sfilter) {
		__atomic_store_n(w, id, __ATOMIC_RELAXED);
		return;
	}
	pt__lock_acquire(&L.lock);
	if (w)
		__atomic_store_n(w, id, __ATOMIC_RELAXED);
	else
		pt__addrmap_put(&L.map, p, id);   /* no room: its free will be of an unknown block */
	if (pt__rec_sfilter)
		filter_add(p, 1);
	pt__lock_release(&L.lock);
}

uint32_t pt__rlive_take(uintptr_t p)
{
	uint32_t *w = shadow_of(p), id;
	if (!pt__rec_sfilter) {
		if (w) {
			id = __atomic_load_n(w, __ATOMIC_RELAXED);
			__atomic_store_n(w, 0, __ATOMIC_RELAXED);
			return id;
		}
	} else if (!__atomic_load_n(&pt__rec_sfilter[pt__rec_sfilter_idx(p)], __ATOMIC_ACQUIRE)) {
		return 0;
	}
	pt__lock_acquire(&L.lock);
	if (w) {
		id = __atomic_load_n(w, __ATOMIC_RELAXED);
		__atomic_store_n(w, 0, __ATOMIC_RELAXED);
	} else {
		id = pt__addrmap_take(&L.map, p);
	}
	if (id && pt__rec_sfilter)
		filter_add(p, -1);
	pt__lock_release(&L.lock);
	return id;
}

uint32_t pt__rlive_peek(uintptr_t p)
{
	uint32_t *w = shadow_of(p);
	return w ? __atomic_load_n(w, __ATOMIC_RELAXED) : 0;
}

struct walk {
	struct hs_block *b;
	size_t cap, n;
	uint32_t ninfo;
};

/* The recorded blocks of one pool, from their shadow words. */
static void pool_blocks(uintptr_t pool, size_t size, void *arg)
{
	struct walk *w = arg;
	for (uintptr_t a = pool; a + size <= pool + PT_POOL_SIZE; a += size) {
		uint32_t id = __atomic_load_n(shadow_of(a), __ATOMIC_RELAXED);
		if (!id || id >= w->ninfo)
			continue;
		if (w->b && w->n < w->cap)
			w->b[w->n] = (struct hs_block){ a, pt__rec_infos[id].size, id, HS_UNSEEN, 0 };
		w->n++;
	}
}

size_t pt__rlive_blocks(struct hs_block *b, size_t cap, uint32_t ninfo)
{
	struct walk w = { b, cap, 0, ninfo };
	if (L.shadow)
		pt_pool_walk(0, 0, pool_blocks, &w);
	size_t n = w.n;
	for (size_t i = 0; i < L.map.cap; i++) {
		uint32_t id = L.map.val[i];
		uintptr_t p = L.map.key[i];
		if (!p || !id || id >= ninfo)
			continue;
		if (b && n < cap) {
			b[n] = (struct hs_block){ p, pt__rec_infos[id].size, id, HS_UNSEEN, 0 };
			/* a block of glibc's: the next chunk's header begins 8 bytes
			 * before its usable end, and glibc's top pointer, bins and
			 * free chunks point there, into this block */
			size_t usable = pt__class_of(p) ? 0 : pt__libc_usable_size((void *)p);
			if (usable >= 8)
				b[n].skip = usable - 8;
		}
		n++;
	}
	return b && n > cap ? cap : n;
}

void pt__rlive_lock(void)
{
	pt__lock_acquire(&L.lock);
}

void pt__rlive_unlock(void)
{
	pt__lock_release(&L.lock);
}

/* The fork child: its trace knows no block. */
void pt__rlive_fork_child(void)
{
	pt__lock_reinit(&L.lock);
	if (L.shadow)
		madvise(L.shadow, SHADOW_SIZE, MADV_DONTNEED);
	pt__addrmap_clear(&L.map);
	if (pt__rec_sfilter)
		memset(pt__rec_sfilter, 0, PT_REC_SFILTER_SIZE);
}
