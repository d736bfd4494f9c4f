/*
 * layout.h - the allocator's data as its inline code reads it: the pool
 * and heap structures, the size-class tables, the region's maps, and the
 * inline tests of ownership, class and block start.  fastpath.h builds the
 * inline malloc and free on it; code outside allocator/ (the preload) may
 * read what is here through those inline functions and nothing else.  The
 * invariants are in internal.h, which is private to the allocator's own
 * files and its white-box tests.
 */
#ifndef POOLTRACE_ALLOC_LAYOUT_H
#define POOLTRACE_ALLOC_LAYOUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "pool_alloc.h"

#define PT_ARENA_SHIFT   18
#define PT_POOL_SHIFT    12
#define PT_POOLS_PER_ARENA (PT_ARENA_SIZE / PT_POOL_SIZE)   /* 64 */

#if PT_ARENA_SIZE != (1u << PT_ARENA_SHIFT) || PT_POOL_SIZE != (1u << PT_POOL_SHIFT)
#error "arena and pool sizes must match their shifts"
#endif

struct pt_block {
	uintptr_t link;            /* the next free block ^ pt__free_key: use
	                              pt__blk_next / pt__blk_link */
};

enum pt_pool_state { PT_POOL_FREE = 0, PT_POOL_EMPTY, PT_POOL_USED, PT_POOL_FULL,
                     PT_POOL_MESHED };

/*
 * A FULL pool also has the top bit of nused set, so that free's fast path
 * finds both of its slow cases, "now empty" and "was full", with one signed
 * test: (int16_t)--nused <= 0.
 */
#define PT_NUSED_FULL ((int16_t)0x8000)
#define PT_NUSED(p)   ((unsigned)((p)->nused & 0x7fff))

struct pt_heap;

/* Pool descriptor: 64 bytes, in the arena's header page (see above). */
struct pt_pool {
	struct pt_block *free;     /* owner-only free list */
	int16_t nused;             /* blocks out (incl. uncollected remote frees);
	                              | PT_NUSED_FULL while FULL */
	uint16_t ncarved;          /* blocks carved from the bump region */
	uint16_t nblocks;          /* PT_POOL_SIZE / size */
	uint16_t size;             /* block size of cls */
	uint8_t cls;
	uint8_t state;             /* enum pt_pool_state */
	uint8_t dirty;             /* FREE only: pages still resident */
	union {
		uint8_t pinned;        /* 1 while the head of its class list */
		uint8_t stale;         /* FREE: its address still shows the page of
		                          the pool it was meshed into (mesh.c); its
		                          own comes back when it is taken again */
	};
	union {
		uint32_t freed_ms;     /* FREE and dirty: when it was given back */
		uint32_t mesh_first;   /* otherwise: 1 + the region pool index of
		                          the first pool meshed into this one, or 0
		                          (mesh.c) */
	};
	struct pt_pool *next;      /* avail list, heap empty cache or arena
	                              freepools; MESHED: the next pool meshed
	                              into the same one */
	union {
		struct pt_pool *prev;  /* avail list only */
		struct pt_pool *alias; /* MESHED: the pool whose page this one's
		                          address shows now */
	};
	struct pt_heap *owner;     /* heap allocating from it; NULL when FREE */
	/* blocks freed by other threads: the top one's address, and in the top
	 * 16 bits how many are on the list (pt__xfree_top, pt__xfree_count) */
	_Atomic(uintptr_t) xfree;
	struct pt_pool *pending_next;      /* link on owner->pending */
};

struct pt_heap {
	/*
	 * The thread cache: per class, a LIFO list of blocks this thread freed
	 * (of any heap's pools; they still count as used in their pools), and
	 * how many more it may take.  malloc pops it first, so the block it
	 * returns is usually one freed moments ago and still in the CPU cache.
	 * pt__empty_heap has no room, so frees by heapless threads go to pools.
	 */
	struct pt_block *tc[PT_NCLASSES_MAX];
	/* 0..pt__tc_cap(); -1 for a moment when a free found it 0 (on its
	 * way to pt__free_full, which puts it back) */
	int16_t tc_room[PT_NCLASSES_MAX];
	struct pt_pool *avail[PT_NCLASSES_MAX];  /* sentinel when no used pool */
	/* per-class counters, written by the owner thread only (two arrays, so
	 * the fast path updates them with one add each) */
	uint64_t nmalloc[PT_NCLASSES_MAX];
	/* requested sizes, sampled in the malloc slow path (the fast path
	 * counts calls only) */
	uint64_t req_sample_bytes[PT_NCLASSES_MAX];
	uint64_t req_samples[PT_NCLASSES_MAX];
	_Atomic(struct pt_pool *) pending;       /* pools with remote frees */
	struct pt_pool *empty;                   /* cache of EMPTY pools */
	unsigned nempty;
	/* per class, EMPTY pools right after its last one, taken with it from
	 * the arena's untouched pools (ascending, through next): a class's
	 * pools adjacent, as its blocks were in one larger pool */
	struct pt_pool *run[PT_NCLASSES_MAX];
	_Atomic int abandoned;                   /* 1: owner thread gone, 2: fork orphan */
	uint32_t mesh_tick;                      /* malloc slow paths before the
	                                            next look at the mesh clock */
	struct pt_heap *all_next;                /* every heap ever made */
	struct pt_heap *abandoned_next;
};

/* The size classes: read by every free (the block-start test) and, while
 * profiling, by every malloc; on lines of their own, which nothing else
 * dirties. */
struct pt_classes {
	uint16_t size[PT_NCLASSES_MAX];   /* block size of each class */
	/* floor(2^32 / size) + 1, and the bound pt__block_start() compares
	 * the low half of an offset times it with (two arrays: the multiply
	 * and the compare each read their operand from memory) */
	uint32_t mult[PT_NCLASSES_MAX];
	uint32_t start_below[PT_NCLASSES_MAX];
};
PT_HIDDEN extern struct pt_classes pt__cls;

/* Written into every free block (internal.h, "Double free"); random, its
 * top 16 bits neither all 0 nor all 1. */
PT_HIDDEN extern uint64_t pt__free_key;

/*
 * A free block's link to the next free block is stored xor the key, as
 * glibc's safe-linking stores tcache links: the word a block still holds
 * when malloc hands it out is then no address (the key's top bits make it
 * non-canonical), and a program's leak check (ours at exit, or any tool
 * that scans the heap) finds no pointer from a new block to the block
 * that followed it on a free list.  NULL is stored as the key.
 */
static inline struct pt_block *pt__blk_next(const struct pt_block *b)
{
	return (struct pt_block *)(b->link ^ pt__free_key);
}

static inline void pt__blk_link(struct pt_block *b, const struct pt_block *next)
{
	b->link = (uintptr_t)next ^ pt__free_key;
}
/* A pool's remote list word: a block address below 2^48 (user space) and
 * the list's length above, so that a CAS pushes a chain and counts it, and
 * the owner learns the count with the list it takes. */
#define PT_XFREE_COUNT_SHIFT 48
static inline struct pt_block *pt__xfree_top(uintptr_t w)
{
	return (struct pt_block *)(w & (((uintptr_t)1 << PT_XFREE_COUNT_SHIFT) - 1));
}

static inline unsigned pt__xfree_count(uintptr_t w)
{
	return (unsigned)(w >> PT_XFREE_COUNT_SHIFT);
}

PT_HIDDEN extern uint8_t pt__size2class[PT_SMALL_MAX + 1];
PT_HIDDEN extern struct pt_pool pt__sentinel_pool;
PT_HIDDEN extern struct pt_heap pt__empty_heap;
PT_HIDDEN extern __thread struct pt_heap *pt__tl_heap
	__attribute__((tls_model("initial-exec")));

/* The radix root: 2^15 pointers to 16 KiB leaves; see the top comment. */
#define PT_RADIX_LEAF_BITS 14
#define PT_RADIX_ROOT_BITS (47 - PT_ARENA_SHIFT - PT_RADIX_LEAF_BITS)
PT_HIDDEN extern _Atomic(uint8_t *) pt__radix_root[1u << PT_RADIX_ROOT_BITS];

#define PT_REGION_SIZE   ((uintptr_t)4 << 30)
#define PT_REGION_ARENAS (PT_REGION_SIZE >> PT_ARENA_SHIFT)   /* 16384 */
#define PT_REGION_POOLS  (PT_REGION_SIZE >> PT_POOL_SHIFT)    /* 1 Mi */
/* Start of the region; PT_REGION_NONE (the top of the address
 * space, never a user pointer) while there is none. */
#define PT_REGION_NONE   ((uintptr_t)0 - PT_REGION_SIZE)
PT_HIDDEN extern uintptr_t pt__region_base;
/* Per arena slot of the region: PT_SLOT_OURS while it holds an arena of
 * ours, PT_SLOT_FOREIGN once found mapped by someone else, else 0. */
PT_HIDDEN extern uint8_t pt__region_map[PT_REGION_ARENAS];
#define PT_SLOT_OURS    1
#define PT_SLOT_FOREIGN 2
/* Per pool of the region: its size class + 1 while it holds blocks of that
 * class (USED, FULL, or EMPTY in a heap), 0 otherwise.  free() reads
 * ownership and class from this one byte. */
PT_HIDDEN extern uint8_t pt__region_cls[PT_REGION_POOLS];

/* Is a in the region's range?  Arenas of ours there are in the flat maps;
 * other mappings may be there too (pt__region_cls is 0 for them). */
static inline bool pt__in_range(uintptr_t a)
{
	return a - pt__region_base < PT_REGION_SIZE;
}

/* Is a inside an arena of ours in the region (a block, a pool's tail or an
 * arena's header page)? */
static inline bool pt__in_region(uintptr_t a)
{
	return pt__in_range(a) &&
	       __atomic_load_n(&pt__region_map[(a - pt__region_base) >> PT_ARENA_SHIFT],
	                       __ATOMIC_RELAXED) == PT_SLOT_OURS;
}

static inline bool pt__radix_test(uintptr_t a)
{
	if (PT_UNLIKELY(a >> 47))
		return false;
	uint8_t *leaf = atomic_load_explicit(
		&pt__radix_root[a >> (PT_ARENA_SHIFT + PT_RADIX_LEAF_BITS)],
		memory_order_acquire);
	return leaf && leaf[(a >> PT_ARENA_SHIFT) & ((1u << PT_RADIX_LEAF_BITS) - 1)];
}

static inline struct pt_pool *pt__pool_of(uintptr_t a);

/*
 * The size class + 1 of the pool holding a, or 0 if a is in no pool of ours
 * that holds blocks.  O(1), reads only our maps (and, for arenas outside the
 * region, the descriptor of a pool in an arena the radix map says is ours).
 */
static inline unsigned pt__class_of(uintptr_t a)
{
	/* the pool's index, and from it whether a is in the range: one shift
	 * fewer than pt__in_range and then the index */
	uintptr_t i = (a - pt__region_base) >> PT_POOL_SHIFT;
	if (PT_LIKELY(i < PT_REGION_SIZE >> PT_POOL_SHIFT))
		/* a plain load: the byte is set before any block of the pool is
		 * handed out, and the program orders a free after its malloc */
		return pt__region_cls[i];
	if (pt__radix_test(a) && (a & (PT_ARENA_SIZE - 1)) >= PT_POOL_SIZE) {
		const struct pt_pool *p = pt__pool_of(a);
		return p->state != PT_POOL_FREE ? p->cls + 1u : 0;
	}
	return 0;
}

/* Is a inside a pool of ours that holds blocks? */
static inline bool pt__owns(uintptr_t a)
{
	return pt__class_of(a) != 0;
}

/*
 * Is a the start of a block of class c (a in one of its pools)?  A block
 * starts at a multiple q of the class size d from its pool's start, with q
 * at most the last block's index L.  One multiply and one compare: with
 * m = floor(2^32 / d) + 1, d * m = 2^32 + e with 0 < e <= d, and for an
 * offset off = q * d + r (off < 2^12, r < d) the low 32 bits of off * m are
 *   r = 0: q * e, which grows with q (below 2^12 * 2^9, no wrap);
 *   r > 0: q * e + r * m >= m (no wrap either: (d - 1) * m + 2^21 < 2^32),
 * so they are below start_below = L * e + 1 (< m) exactly for the block
 * starts (Lemire's divisibility test, with the bound folded in).  For a
 * power-of-two d, m = 2^32 / d + 1 rather than 2^32 / d, so that e > 0
 * there too and one formula serves every class (a bound below the pool's
 * last block, as an 8-byte class with an unused last block once needed,
 * could not be told with e = 0).
 */
static inline bool pt__block_start(uintptr_t a, size_t c)
{
	uint32_t off = (uint32_t)(a & (PT_POOL_SIZE - 1));
	return off * pt__cls.mult[c] < pt__cls.start_below[c];
}

/* The index of the block at offset off (< PT_POOL_SIZE) of a pool of class
 * c: off / size by the same multiplier (off * m / 2^32 exceeds off / size by
 * less than 2^-20, and a fraction of off / size is at most 1 - 1/512). */
static inline unsigned pt__block_index(uintptr_t off, unsigned c)
{
	return (unsigned)((off * pt__cls.mult[c]) >> 32);
}

/* The descriptor of the pool holding address a (a inside an arena, not page 0). */
static inline struct pt_pool *pt__pool_of(uintptr_t a)
{
	uintptr_t base = a & ~(uintptr_t)(PT_ARENA_SIZE - 1);
	return (struct pt_pool *)(base + (((a >> PT_POOL_SHIFT) &
	                                   (PT_POOLS_PER_ARENA - 1)) << 6));
}

/* The pool that holds the blocks of pool descriptor p: p, or for a pool
 * meshed into another (whose address shows the other's page) that one. */
static inline struct pt_pool *pt__pool_canon(struct pt_pool *p)
{
	/* the alias is set before the state (mesh.c): acquire */
	return PT_UNLIKELY(__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == PT_POOL_MESHED)
	       ? p->alias : p;
}

/* The pool holding block a. */
static inline struct pt_pool *pt__pool_of_block(uintptr_t a)
{
	return pt__pool_canon(pt__pool_of(a));
}

/* The block size of class c. */
static inline size_t pt__class_size(unsigned c)
{
	return pt__cls.size[c];
}

#endif /* POOLTRACE_ALLOC_LAYOUT_H */
