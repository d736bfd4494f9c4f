/*
 * rec_live.c - which info each recorded live block has, so that a free is
 * written as the info of the block it frees (as heaptrack's interpreter
 * does): traces then hold no addresses, whose randomness no compressor
 * removes.  The exit scan and the pinned-arena records read it too.
 *
 * Blocks of the allocator's region: a word per block, written by the
 * allocating thread and read by the freeing one, which the program has
 * ordered after it.  A pool's words are its blocks' in order (room for 256,
 * the most a pool has: blocks of 16 bytes), so that the words in use sit
 * together: a pool of 256-byte blocks uses one line of its words, not one per
 * block (a word per 8 bytes of heap spread churn's 200,000 live blocks over
 * 12.8 MB of lines).  The words of an arena slot are mapped when its first
 * block is entered (a directory of slots, not one reservation of half the
 * region's size: a program that caps its address space with RLIMIT_AS after
 * start must not find it spent by us).  A slot whose words could not be
 * mapped, and every other block (glibc's, arenas outside the region), go to
 * an address map under the lock.  With sampling only sampled blocks are
 * entered, all of them in the map, and a counting filter of 64 KiB
 * (pt__rec_sfilter, read inline by the free hook), which stays in cache,
 * answers "not sampled" for almost every free: it counts the sampled blocks
 * per 4 KiB page, and only a "maybe" looks further.
 */
#include <string.h>

#include "../allocator/layout.h"
#include "addrmap.h"
#include "heapscan.h"
#include "libc_sym.h"
#include "rec_internal.h"

#define POOL_WORDS (PT_POOL_SIZE / PT_MIN_BLOCK)          /* room for a pool's blocks */
#define SLOT_WORDS (PT_POOLS_PER_ARENA * POOL_WORDS)      /* a slot's shadow words */
#define SLOT_BYTES (SLOT_WORDS * sizeof(uint32_t))        /* 64 KiB */
#define SLOT_NONE  ((uint32_t *)1)   /* its words were refused: the map */

uint8_t *pt__rec_sfilter;

static struct {
	struct pt_lock lock;       /* the map, the filter, sampled shadow words,
	                              mapping a slot's words */
	uint32_t *_Atomic *slot;   /* by arena slot: its words, NULL (no block
	                              entered yet) or SLOT_NONE; NULL: no region,
	                              every block in the map */
	struct pt_addrmap map;
} L = { .lock = PT_LOCK_INIT(PT_RANK_LIVE) };

/* The words of p's arena slot; NULL if p is not in the region. */
static inline uint32_t *_Atomic *slot_of(uintptr_t p)
{
	if (L.slot && pt__in_region(p))
		return &L.slot[(p - pt__region_base) >> PT_ARENA_SHIFT];
	return NULL;
}

/* The word of the block at p: its pool's words, then its index in the pool
 * (a pool of no class, which holds no recorded block, by PT_MIN_BLOCK). */
static inline uint32_t *word_in(uint32_t *words, uintptr_t p)
{
	unsigned v = pt__class_of(p);   /* the class + 1 */
	uintptr_t off = p & (PT_POOL_SIZE - 1);
	unsigned i = v ? pt__block_index(off, v - 1) : (unsigned)(off / PT_MIN_BLOCK);
	return &words[((p & (PT_ARENA_SIZE - 1)) >> PT_POOL_SHIFT) * POOL_WORDS + i];
}

/* p's shadow word if its slot has words, else NULL (*none: the slot's
 * words were refused or p is not in the region: look in the map). */
static inline uint32_t *shadow_of(uintptr_t p, int *none)
{
	uint32_t *_Atomic *s = slot_of(p);
	uint32_t *w = s ? atomic_load_explicit(s, memory_order_acquire) : SLOT_NONE;
	*none = w == SLOT_NONE;
	return w && w != SLOT_NONE ? word_in(w, p) : NULL;
}

/* The words of p's slot, mapped if they are not yet; NULL: the map.
 * Locked. */
static uint32_t *shadow_make_locked(uintptr_t p)
{
	uint32_t *_Atomic *s = slot_of(p);
	if (!s)
		return NULL;
	uint32_t *w = atomic_load_explicit(s, memory_order_relaxed);
	if (!w) {
		w = pt__map(SLOT_BYTES, 0);
		atomic_store_explicit(s, w ? w : SLOT_NONE, memory_order_release);
		if (!w)
			return NULL;
	}
	return w == SLOT_NONE ? NULL : word_in(w, p);
}

int pt__rlive_init(void)
{
	/* 128 KiB: none, every block in the map.  With sampling every block is
	 * in the map too: the few sampled blocks are spread over all the pools,
	 * and each entered one faulted in a page of words (churn: 5,400 pages,
	 * 21 MB, for a few hundred live blocks at a time) */
	if (pt__region_base != PT_REGION_NONE && !pt__rcfg.sample)
		L.slot = pt__map(PT_REGION_ARENAS * sizeof *L.slot, 0);
	if (pt__rcfg.sample && !(pt__rec_sfilter = pt__map(PT_REC_SFILTER_SIZE, 0)))
		return -1;
	return 0;
}

int pt__rlive_has_shadow(void)
{
	return L.slot != NULL;
}

static void filter_add(uintptr_t p, int d)
{
	uint8_t *c = &pt__rec_sfilter[pt__rec_sfilter_idx(p)];
	if (*c < 255 && (d > 0 || *c > 0))   /* 255 sticks: it may undercount */
		__atomic_store_n(c, (uint8_t)(*c + d), __ATOMIC_RELEASE);
}

void pt__rlive_put(uintptr_t p, uint32_t id)
{
	int none;
	uint32_t *w = shadow_of(p, &none);
	if (w && !pt__rec_sfilter) {
		__atomic_store_n(w, id, __ATOMIC_RELAXED);
		return;
	}
	pt__lock_acquire(&L.lock);
	if (!w && !none)
		w = shadow_make_locked(p);
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
	int none;
	uint32_t *w = shadow_of(p, &none), id;
	if (!pt__rec_sfilter) {
		if (w) {
			id = __atomic_load_n(w, __ATOMIC_RELAXED);
			__atomic_store_n(w, 0, __ATOMIC_RELAXED);
			return id;
		}
		if (!none)
			return 0;   /* a slot no block was entered in */
	} else if (!__atomic_load_n(&pt__rec_sfilter[pt__rec_sfilter_idx(p)], __ATOMIC_ACQUIRE)) {
		return 0;
	}
	pt__lock_acquire(&L.lock);
	if (w) {
		id = __atomic_load_n(w, __ATOMIC_RELAXED);
		__atomic_store_n(w, 0, __ATOMIC_RELAXED);
	} else if (none) {
		id = pt__addrmap_take(&L.map, p);
	} else {
		id = 0;
	}
	if (id && pt__rec_sfilter)
		filter_add(p, -1);
	pt__lock_release(&L.lock);
	return id;
}

uint32_t pt__rlive_peek(uintptr_t p)
{
	int none;
	uint32_t *w = shadow_of(p, &none);
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
	int none;
	if (!shadow_of(pool, &none))
		return;   /* no block entered in its slot, or they are in the map */
	for (uintptr_t a = pool; a + size <= pool + PT_POOL_SIZE; a += size) {
		uint32_t id = __atomic_load_n(shadow_of(a, &none), __ATOMIC_RELAXED);
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
	if (L.slot)
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
	for (size_t i = 0; L.slot && i < PT_REGION_ARENAS; i++) {
		uint32_t *w = atomic_load_explicit(&L.slot[i], memory_order_relaxed);
		if (w && w != SLOT_NONE)
			madvise(w, SLOT_BYTES, MADV_DONTNEED);
	}
	pt__addrmap_clear(&L.map);
	if (pt__rec_sfilter)
		memset(pt__rec_sfilter, 0, PT_REC_SFILTER_SIZE);
}
