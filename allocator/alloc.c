/*
 * alloc.c - thread heaps: initialisation, the malloc/free slow paths,
 * remote frees, thread exit (abandon/adopt) and fork.
 *
 * See internal.h for the pool states and the remote-free protocol.  Functions
 * that take a `locked` flag are called either by the owner thread without
 * pt__g.lock, or under it for an abandoned heap (no owner thread).
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fastpath.h"
#include "internal.h"

struct pt_global pt__g __attribute__((aligned(64))) = { .lock = PTHREAD_MUTEX_INITIALIZER,
                                                        .mesh_fd = -1 };
uint8_t pt__size2class[PT_SMALL_MAX + 1] __attribute__((aligned(64)));
struct pt_classes pt__cls __attribute__((aligned(64)));
uint64_t pt__free_key;

/* Read-only: its free list is empty, so every pop through it goes slow. */
struct pt_pool pt__sentinel_pool;

#define SENTINEL (&pt__sentinel_pool)

struct pt_heap pt__empty_heap = {
	.avail = { [0 ... PT_NCLASSES_MAX - 1] = SENTINEL },
};

__thread struct pt_heap *pt__tl_heap
	__attribute__((tls_model("initial-exec"))) = &pt__empty_heap;
/* This thread takes no heap: it has exited (HEAPLESS_EXITED), or it blocked
 * SIGSEGV when it would have taken one with meshing on (HEAPLESS_BLOCKED:
 * heap_acquire; forgotten in a fork child, where meshing is off). */
enum { HEAPLESS_EXITED = 1, HEAPLESS_BLOCKED = 2 };
static __thread uint8_t tl_heapless __attribute__((tls_model("initial-exec")));
__thread uint8_t pt__tl_locked __attribute__((tls_model("initial-exec")));
/* What this thread's pt_fork_prepare did: 1 if it took pt__g.lock. */
static __thread uint8_t tl_fork_locked __attribute__((tls_model("initial-exec")));

static struct pt_config configured = { .align = 16, .tcache = 0, .double_free = NULL };

static void heap_done(void *arg);

/* ---- size classes ------------------------------------------------------- */

/*
 * Fill the size -> class table (indexed by the request size n = 0..512, one
 * byte each: one load on the malloc fast path) and the class sizes.
 * align 8: 16, 24, 32, ..., 512 (63 classes).  align 16: multiples of 16 up
 * to 512 (32 classes), so that every block is 16-aligned.  The smallest
 * block is 16 bytes, as in CPython's obmalloc since 3.8: every free block
 * has a second word for the free key (internal.h, "Double free").
 */
void pt__sizeclass_build(unsigned align, uint8_t *table, uint16_t *class_size,
                         unsigned *nclasses)
{
	unsigned n = 0;
	for (unsigned s = PT_MIN_BLOCK; s <= PT_SMALL_MAX; s += align)
		class_size[n++] = (uint16_t)s;
	*nclasses = n;
	unsigned c = 0;
	for (unsigned i = 0; i <= PT_SMALL_MAX; i++) {
		unsigned need = i ? i : 1;
		while (class_size[c] < need)
			c++;
		table[i] = (uint8_t)c;
	}
}

/*
 * The free key: random (getrandom, else whatever varies between runs), so
 * that no program's data equals it but by chance, and never 0, the value of
 * a live block's key word.
 */
static uint64_t make_free_key(void)
{
	uint64_t k = 0;
	int e = errno;
	if (syscall(SYS_getrandom, &k, sizeof k, 1 /* GRND_NONBLOCK */) != (long)sizeof k) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		k = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^ (uintptr_t)&k ^
		    (uint64_t)getpid() << 48;
		k *= 0x9e3779b97f4a7c15ull;
	}
	errno = e;
	/* top 16 bits in 0x8000..0xfffe: a link xor the key is no address */
	return (k & 0x0000ffffffffffffull) | (uint64_t)(0x8000u | (k >> 48 & 0x7ffeu)) << 48;
}

void pt__init_slow(void)
{
	pt__lock();
	if (!atomic_load_explicit(&pt__g.initialised, memory_order_relaxed)) {
		struct pt_config cfg = configured;
		pt__g.double_free = cfg.double_free;
		pt__g.align = cfg.align == 8 ? 8 : 16;
		pt__g.tcache = cfg.tcache == PT_TCACHE_NONE ? 0
		             : cfg.tcache == 0 ? PT_TCACHE_DEFAULT
		             : cfg.tcache > 255 ? 255 : cfg.tcache;
		pt__sizeclass_build(pt__g.align, pt__size2class, pt__cls.size,
		                    &pt__g.nclasses);
		for (unsigned k = 0; k < pt__g.nclasses; k++) {
			uint32_t size = pt__cls.size[k];
			uint32_t m = (uint32_t)(((uint64_t)1 << 32) / size + 1);
			uint32_t e = (uint32_t)((uint64_t)size * m - ((uint64_t)1 << 32));
			pt__cls.mult[k] = m;
			pt__cls.start_below[k] = (pt__class_nblocks(k) - 1) * e + 1;
		}
		pt__free_key = make_free_key();
		pt__region_init_unlocked();
		if (cfg.mesh)
			pt__mesh_init_unlocked();
		/* pthread_key_create does not allocate in glibc */
		pt__g.key_ok = pthread_key_create(&pt__g.key, heap_done) == 0;
		atomic_store_explicit(&pt__g.initialised, 1, memory_order_release);
	}
	pt__unlock();
}

static inline void ensure_init(void)
{
	if (PT_UNLIKELY(!atomic_load_explicit(&pt__g.initialised, memory_order_acquire)))
		pt__init_slow();
}

int pt_configure(const struct pt_config *cfg)
{
	int r = 0;
	pt__lock();
	if (atomic_load_explicit(&pt__g.initialised, memory_order_relaxed)) {
		r = EBUSY;
	} else {
		configured = *cfg;
	}
	pt__unlock();
	return r;   /* applied at the first use */
}

unsigned pt_size_class(size_t n)
{
	ensure_init();
	return n <= PT_SMALL_MAX ? pt__size2class[n] : PT_NCLASSES_MAX;
}

size_t pt_class_size(unsigned cls)
{
	ensure_init();
	return cls < pt__g.nclasses ? pt__cls.size[cls] : 0;
}

unsigned pt_nclasses(void)
{
	ensure_init();
	return pt__g.nclasses;
}

unsigned pt_align(void)
{
	ensure_init();
	return pt__g.align;
}

/* ---- class lists -------------------------------------------------------- */

/*
 * The head pool of a class list carries a pin (+1 on nused) while a thread
 * allocates from the heap; abandoned heaps pin nothing, so that their pools
 * empty out and go back to the arenas.
 */
static void pin(struct pt_heap *h, struct pt_pool *p)
{
	if (!p->pinned && !atomic_load_explicit(&h->abandoned, memory_order_relaxed)) {
		p->pinned = 1;
		p->nused++;
	}
}

static void unpin(struct pt_pool *p)
{
	if (p->pinned) {
		p->pinned = 0;
		p->nused--;
	}
}

/*
 * Class lists are circular and doubly linked: avail[c] is the head, the pool
 * malloc pops from, and head->prev the tail.  A pool that stops being full
 * joins at the tail (as in mimalloc), so the head drains completely before
 * malloc moves on, and the pools behind it have had time to collect frees;
 * pushing it in front (obmalloc's order) made every free into a full pool
 * cost two head changes.
 */
static void avail_push_back(struct pt_heap *h, struct pt_pool *p)
{
	struct pt_pool *head = h->avail[p->cls];
	if (head == SENTINEL) {
		p->next = p->prev = p;
		h->avail[p->cls] = p;
		pin(h, p);
		return;
	}
	p->next = head;
	p->prev = head->prev;
	head->prev->next = p;
	head->prev = p;
}

/* Take p off its class list; a head's pin passes to the next pool. */
void pt__avail_unlink(struct pt_heap *h, struct pt_pool *p)
{
	if (p->next == p) {
		h->avail[p->cls] = SENTINEL;
		unpin(p);
	} else {
		p->prev->next = p->next;
		p->next->prev = p->prev;
		if (h->avail[p->cls] == p) {
			h->avail[p->cls] = p->next;
			unpin(p);
			pin(h, p->next);
		}
	}
	p->next = p->prev = NULL;
}

/* ---- pools of a heap ---------------------------------------------------- */

static void give_pool(struct pt_pool *p, bool locked)
{
	if (!locked)
		pt__lock();
	pt__arena_give_pool_unlocked(p);
	if (!locked)
		pt__unlock();
}

/*
 * p (USED, on avail, not the head) has no block in use any more: cache it or
 * give it back to its arena.
 */
static void retire_empty(struct pt_heap *h, struct pt_pool *p, bool locked)
{
	bool gone = atomic_load_explicit(&h->abandoned, memory_order_relaxed);
	pt_assert(!p->pinned && p->nused == 0);
	if (PT_UNLIKELY(p->mesh_first)) {
		/* pools meshed into p go back to their arenas first (mesh.c); a
		 * handler that interrupted this thread under the lock leaves
		 * p empty on its list */
		if (!locked && pt__tl_locked)
			return;
		if (!locked)
			pt__lock();
		pt__mesh_release_unlocked(p);
		if (!locked)
			pt__unlock();
	}
	pt__avail_unlink(h, p);
	/* a handler that interrupted this thread under the lock keeps the
	 * pool (over the cache's size) rather than wait for the lock */
	if (!gone && (h->nempty < PT_HEAP_EMPTY_CACHE || (!locked && pt__tl_locked))) {
		p->state = PT_POOL_EMPTY;
		p->next = h->empty;
		h->empty = p;
		h->nempty++;
		return;
	}
	give_pool(p, locked);
}

/*
 * Blocks came back to p (a local free or collected remote frees): a FULL pool
 * rejoins its class list at the tail, and a pool with none in use retires.
 */
static void pool_got_blocks(struct pt_heap *h, struct pt_pool *p, bool locked)
{
	pt_assert(pt__pool_valid(p));
	if (p->state == PT_POOL_FULL) {
		p->state = PT_POOL_USED;
		p->nused &= ~PT_NUSED_FULL;
		avail_push_back(h, p);
	}
	if (p->nused == 0)
		retire_empty(h, p, locked);
}

/* Is the free list at b n blocks long?  (Checks under PT_DEBUG.) */
static __attribute__((unused)) bool list_length_is(const struct pt_block *b, unsigned n)
{
	unsigned k = 0;
	for (; b && k <= n; b = pt__blk_next(b))
		k++;
	return k == n;
}

/* Collect the blocks other threads freed into h's pools.  A pool meshed
 * into another may still be on the stack: its blocks are the other's. */
void pt__heap_collect(struct pt_heap *h, bool locked)
{
	/* seq_cst: pairs with the abandoned check in free_remote */
	struct pt_pool *p = atomic_exchange(&h->pending, NULL);
	while (p) {
		struct pt_pool *next = p->pending_next;   /* before xfree is reset */
		uintptr_t w = atomic_exchange_explicit(&p->xfree, 0, memory_order_acq_rel);
		struct pt_block *list = pt__xfree_top(w);
		unsigned cnt = pt__xfree_count(w);
		pt_assert(list != NULL && cnt > 0);
		p = pt__pool_canon(p);
		if (p->free) {   /* splice the list in front: its tail is needed */
			struct pt_block *tail = list;
			while (pt__blk_next(tail))
				tail = pt__blk_next(tail);
			pt__blk_link(tail, p->free);
		} else {
			/* a FULL pool, or a drained head: no walk over blocks that
			 * other threads freed (a cache miss each) */
			pt_assert_every(16, list_length_is(list, cnt));
		}
		p->free = list;
		p->nused = (int16_t)(p->nused - (int)cnt);
		pool_got_blocks(h, p, locked);
		p = next;
	}
}

/* Thread up to PT_CARVE_BATCH fresh blocks from the bump region onto p->free. */
static void carve(struct pt_pool *p)
{
	uintptr_t base = pt__pool_base(p);
	unsigned k = p->nblocks - p->ncarved;
	if (k > PT_CARVE_BATCH)
		k = PT_CARVE_BATCH;
	char *first = (char *)base + (size_t)p->ncarved * p->size;
	char *b = first;
	for (unsigned i = 1; i < k; i++, b += p->size)
		pt__blk_link((struct pt_block *)b, (struct pt_block *)(b + p->size));
	pt__blk_link((struct pt_block *)b, p->free);
	p->free = (struct pt_block *)first;
	p->ncarved = (uint16_t)(p->ncarved + k);
}

/*
 * A pool for class c: the next of the class's run, else from the heap's
 * empty cache, else from the arenas; a pool the arena carves is taken with
 * the untouched ones after it (PT_CLASS_RUN in all), the class's next pools.
 * Objects made one after another and walked in that order later (CPython's
 * collector walks its lists so) then cross from page to adjacent page, as
 * in a pool of PT_CLASS_RUN pages, where the prefetchers follow: with
 * every class's pools interleaved, `gc.collect()` over 900k small objects
 * took 0.86-1.84 s against pymalloc's 0.56-0.62 s (docs/DESIGN.md).
 */
static struct pt_pool *pool_for_class(struct pt_heap *h, unsigned c)
{
	struct pt_pool *p = h->run[c];
	if (p) {
		h->run[c] = p->next;
		p->next = NULL;
	} else if ((p = h->empty)) {
		h->empty = p->next;
		h->nempty--;
		p->free = NULL;      /* carve afresh: blocks in address order */
		p->ncarved = 0;
	} else {
		if (pt__tl_locked)
			return NULL;   /* a handler interrupted this thread under the lock */
		pt__lock();
		p = pt__arena_take_pool_unlocked();
		struct pt_pool *last = p, **tail = &h->run[c];
		for (unsigned k = 1; last && k < PT_CLASS_RUN; k++) {
			struct pt_pool *q = pt__arena_take_next_unlocked(last);
			if (!q)
				break;
			q->owner = h;
			q->state = PT_POOL_EMPTY;
			*tail = q;
			tail = &q->next;
			last = q;
		}
		pt__unlock();
		if (!p)
			return NULL;
		p->owner = h;
	}
	p->cls = (uint8_t)c;
	p->size = pt__cls.size[c];
	p->nblocks = (uint16_t)pt__class_nblocks(c);
	pt__set_pool_class(p, c + 1);
	p->state = PT_POOL_USED;
	p->pinned = 0;
	avail_push_back(h, p);    /* the list was empty: p is the head */
	return p;
}

/* ---- heaps ------------------------------------------------------------- */

static struct pt_heap *heap_acquire(void)
{
	struct pt_heap *h;

	if (tl_heapless || pt__tl_locked)
		return NULL;
	ensure_init();   /* meshing is on from here, or never */
	/* meshing's barrier would kill a thread that blocks SIGSEGV (glibc's
	 * exiting threads do: free_heapless) at its first write; asked once */
	if (pt__g.mesh_fd >= 0 && pt__os_segv_blocked()) {
		tl_heapless = HEAPLESS_BLOCKED;
		return NULL;
	}
	pt__lock();
	h = pt__g.abandoned;
	if (h) {
		pt__g.abandoned = h->abandoned_next;
		h->abandoned_next = NULL;
		atomic_store(&h->abandoned, 0);
		for (unsigned c = 0; c < PT_NCLASSES_MAX; c++) {
			if (h->avail[c] != SENTINEL)
				pin(h, h->avail[c]);
			h->tc_room[c] = (int16_t)pt__tc_cap();   /* flushed at abandon */
		}
	} else {
		h = pt__meta_alloc_unlocked(sizeof *h);
		if (h) {
			for (unsigned c = 0; c < PT_NCLASSES_MAX; c++) {
				h->avail[c] = SENTINEL;
				h->tc_room[c] = (int16_t)pt__tc_cap();
			}
			h->all_next = pt__g.heaps;
			pt__g.heaps = h;
			pt__g.nheaps++;
		}
	}
	pt__unlock();
	if (!h)
		return NULL;
	h->mesh_tick = 1;   /* the first slow malloc looks at meshing */
	pt_assert(pt__heap_valid(h));
	pt__tl_heap = h;
	/* may allocate (keys >= 32 take a calloc'ed block): tl_heap is set */
	if (pt__g.key_ok)
		pthread_setspecific(pt__g.key, h);
	return h;
}

/* Give the pools of *list (EMPTY, linked through next) back to their
 * arenas; the list is left empty. */
static void give_list_unlocked(struct pt_pool **list)
{
	while (*list) {
		struct pt_pool *p = *list;
		*list = p->next;
		pt__arena_give_pool_unlocked(p);   /* sets p->next */
	}
}

/* Give h up: collect, return empty pools, put it on the abandoned list. */
static void heap_abandon_unlocked(struct pt_heap *h)
{
	atomic_store(&h->abandoned, 1);   /* seq_cst: pairs with free_remote */
	pt__heap_collect(h, true);
	for (unsigned c = 0; c < PT_NCLASSES_MAX; c++) {
		struct pt_pool *head = h->avail[c];
		if (head == SENTINEL)
			continue;
		unpin(head);   /* nobody allocates from this heap now: no pins */
		struct pt_pool *p = head->prev;   /* walk from the tail to the head */
		for (;;) {
			struct pt_pool *prev = p->prev;
			bool last = p == head;
			if (p->nused == 0)
				retire_empty(h, p, true);   /* abandoned: back to its arena */
			if (last)
				break;
			p = prev;
		}
	}
	give_list_unlocked(&h->empty);
	h->nempty = 0;
	for (unsigned c = 0; c < PT_NCLASSES_MAX; c++)
		give_list_unlocked(&h->run[c]);
	h->abandoned_next = pt__g.abandoned;
	pt__g.abandoned = h;
	pt_assert(pt__heap_valid(h));
}

/* Give every block of h's thread cache back to its pool (h is the caller's). */
static void tc_flush(struct pt_heap *h)
{
	for (unsigned c = 0; c < PT_NCLASSES_MAX; c++) {
		struct pt_block *b = h->tc[c];
		h->tc[c] = NULL;
		h->tc_room[c] = (int16_t)pt__tc_cap();
		while (b) {   /* pt__free_to_pool never touches the cache */
			struct pt_block *next = pt__blk_next(b);
			pt__free_to_pool(b);
			b = next;
		}
	}
}

void pt_thread_flush(void)
{
	if (pt__tl_heap != &pt__empty_heap)
		tc_flush(pt__tl_heap);
}

static void heap_done(void *arg)
{
	struct pt_heap *h = arg;
	if (!h || h == &pt__empty_heap)
		return;
	if (pt__tl_heap == h) {
		tc_flush(h);   /* its blocks are local: it must still be the heap */
		pt__tl_heap = &pt__empty_heap;
	}
	tl_heapless = HEAPLESS_EXITED;
	pt__lock();
	heap_abandon_unlocked(h);
	pt__unlock();
}

void pt_thread_exit(void)
{
	struct pt_heap *h = pt__tl_heap;
	if (h == &pt__empty_heap) {
		tl_heapless = HEAPLESS_EXITED;
		return;
	}
	if (pt__g.key_ok)
		pthread_setspecific(pt__g.key, NULL);
	heap_done(h);
}

/* ---- slow paths --------------------------------------------------------- */

/* NULL, errno untouched, when no pool can serve (the caller says ENOMEM or
 * asks glibc, whose success must not leave an errno behind). */
void *pt__alloc_slow(size_t n)
{
	struct pt_heap *h = pt__tl_heap;
	if (h == &pt__empty_heap && !(h = heap_acquire()))
		return NULL;
	unsigned c = pt__size2class[n];   /* the table may have just been built */
	pt_assert_every(256, pt__heap_valid(h));
	if (PT_UNLIKELY(--h->mesh_tick == 0))
		pt__mesh_maybe(h);   /* POOLTRACE_MESH: a round now and then */
	if (atomic_load_explicit(&h->pending, memory_order_relaxed))
		pt__heap_collect(h, false);

	struct pt_pool *p;
	for (;;) {
		p = h->avail[c];
		if (p == SENTINEL)
			break;
		if (p->free)
			goto pop;
		if (p->ncarved < p->nblocks) {
			carve(p);
			goto pop;
		}
		pt__avail_unlink(h, p);        /* unpinned: nused == nblocks */
		p->state = PT_POOL_FULL;   /* remote frees will bring it back */
		p->nused |= PT_NUSED_FULL;
	}
	p = pool_for_class(h, c);
	if (!p)
		return NULL;
	if (!p->free)
		carve(p);
pop:;
	pt_assert(pt__pool_valid(p));
	struct pt_block *b = p->free;
	p->free = pt__blk_next(b);
	p->nused++;
	*pt__key_word(b) = 0;
	h->nmalloc[c]++;
	h->req_sample_bytes[c] += n;
	h->req_samples[c]++;
	return b;
}

/* A double free, ignored: the embedder's callback hears of it. */
static PT_NOINLINE void double_free(void *ptr, unsigned c)
{
	if (pt__g.double_free)
		pt__g.double_free(ptr, pt__cls.size[c]);
}

/* Under the lock: the remote frees into h, if h is abandoned, since no
 * owner thread will collect them (never a fork orphan's, whose lists may
 * be half-updated). */
static void collect_abandoned(struct pt_heap *h)
{
	if (atomic_load(&h->abandoned) == 1)
		pt__heap_collect(h, true);
}

/*
 * Push the chain first .. last (linked, key words set) onto p's remote list
 * with one CAS.  Nothing done, a double free, if the chain is one block and
 * it is the block last pushed.  The push that finds the list empty puts p
 * on its owner's pending stack.
 */
static void remote_push(struct pt_pool *p, struct pt_block *first, struct pt_block *last,
                        unsigned n)
{
	pt_assert(pt__xfree_top((uintptr_t)first) == first);
	/* the owner before the push: a pool meshed into another since the
	 * caller looked has none (mesh.c), and its blocks are the other's */
	struct pt_heap *h = __atomic_load_n(&p->owner, __ATOMIC_ACQUIRE);
	if (PT_UNLIKELY(!h)) {
		p = pt__pool_canon(p);
		h = p->owner;
	}
	uintptr_t old = atomic_load_explicit(&p->xfree, memory_order_relaxed), w;
	do {
		if (PT_UNLIKELY(pt__xfree_top(old) == first)) {
			double_free(first, p->cls);
			return;
		}
		pt__blk_link(last, pt__xfree_top(old));
		w = (uintptr_t)first | (uintptr_t)(pt__xfree_count(old) + n) << PT_XFREE_COUNT_SHIFT;
	} while (!atomic_compare_exchange_weak_explicit(&p->xfree, &old, w,
	                                                memory_order_acq_rel,
	                                                memory_order_relaxed));
	if (old)
		return;   /* the pool is on its owner's pending stack already */

	struct pt_pool *head = atomic_load_explicit(&h->pending, memory_order_relaxed);
	do {
		p->pending_next = head;
	} while (!atomic_compare_exchange_weak(&h->pending, &head, p));   /* seq_cst */

	if (PT_UNLIKELY(atomic_load(&h->abandoned) == 1) && !pt__tl_locked) {
		pt__lock();
		collect_abandoned(h);
		pt__unlock();
	}
}

/* Nothing done, a double free, if b is the last block pushed. */
static void free_remote(struct pt_pool *p, struct pt_block *b)
{
	*pt__key_word(b) = pt__free_key;
	remote_push(p, b, b, 1);
}

/* The owner's push of b onto its pool p (nothing done, a double free, if b
 * is on top already). */
static inline void pool_push_local(struct pt_pool *p, struct pt_block *b)
{
	if (PT_UNLIKELY(p->free == b)) {
		double_free(b, p->cls);
		return;
	}
	*pt__key_word(b) = pt__free_key;
	pt__blk_link(b, p->free);
	p->free = b;
	if (PT_UNLIKELY(pt__dec_le_zero(&p->nused)))   /* now empty, or FULL */
		pool_got_blocks(p->owner, p, false);
}

/*
 * Free a block to its pool: a plain push for the owner, the lock-free remote
 * list for anyone else.  Used when a thread's cache is flushed, and without
 * a cache.  Nothing done, a double free, if the block is the one last
 * pushed there.
 */
void pt__free_to_pool(void *ptr)
{
	struct pt_pool *p = pt__pool_of_block((uintptr_t)ptr);
	if (PT_LIKELY(p->owner == pt__tl_heap)) {
		pool_push_local(p, ptr);
		return;
	}
	free_remote(p, ptr);
}

/* Push b, a block of class c, on h's cache, which has room. */
static inline void tc_push(struct pt_heap *h, unsigned c, struct pt_block *b)
{
	*pt__key_word(b) = pt__free_key;
	pt__blk_link(b, h->tc[c]);
	h->tc[c] = b;
	h->tc_room[c]--;
}

/*
 * The thread cache of class c is full: the older half of it goes back to
 * the pools.  Blocks of this thread's pools are pushed one by one (no
 * atomics); blocks of other threads' pools go in runs: consecutive blocks
 * of one pool (a producer's blocks, freed in the order it made them) are
 * linked into one chain and pushed with one CAS, where a free of each
 * would take one.  The spilled blocks keep their key words.
 */
static void tc_spill(struct pt_heap *h, unsigned c)
{
	unsigned keep = pt__tc_cap() / 2;
	struct pt_block *rest = h->tc[c];
	if (keep == 0) {
		h->tc[c] = NULL;
	} else {
		struct pt_block *b = rest;
		for (unsigned i = 1; i < keep; i++)
			b = pt__blk_next(b);
		rest = pt__blk_next(b);
		pt__blk_link(b, NULL);
	}
	h->tc_room[c] = (int16_t)(pt__tc_cap() - keep);

	while (rest) {
		struct pt_pool *p = pt__pool_of_block((uintptr_t)rest);
		struct pt_block *first = rest, *last = rest;
		rest = pt__blk_next(rest);
		if (p->owner == h) {
			pool_push_local(p, first);
			continue;
		}
		unsigned n = 1;
		while (rest && pt__pool_of_block((uintptr_t)rest) == p) {
			last = rest;
			rest = pt__blk_next(rest);
			n++;
		}
		remote_push(p, first, last, n);   /* relinks last only */
	}
}

/*
 * A free by a thread that has no heap and may not take one (heap_acquire):
 * one inside the lock, one that is exiting, or, with meshing on, one that
 * blocks SIGSEGV.  glibc frees the TLS of the stacks it caches from an
 * exiting thread with every signal blocked (start_thread,
 * __nptl_free_stacks), and a write into a page meshing's barrier protects
 * would have the kernel kill the process: such a free takes the lock,
 * under which alone the barrier protects (a round; a fork of a threaded
 * process).  Under it, a block of an abandoned heap is collected here, as
 * remote_push would without the lock.
 */
static PT_NOINLINE void free_heapless(void *ptr)
{
	if (pt__tl_locked) {
		pt__free_to_pool(ptr);
		return;
	}
	pt__lock();
	struct pt_heap *owner = pt__pool_of_block((uintptr_t)ptr)->owner;
	pt__free_to_pool(ptr);   /* remote_push leaves the collect to us */
	if (owner)
		collect_abandoned(owner);
	pt__unlock();
}

/* pt__free_full for a block of another thread's pool (or a heapless
 * thread): cache it, after a spill if the cache is full. */
static PT_NOINLINE void free_full_foreign(struct pt_heap *h, void *ptr, unsigned c)
{
	if (h == &pt__empty_heap && !(h = heap_acquire())) {
		free_heapless(ptr);
		return;
	}
	if (h->tc_room[c] == 0)
		tc_spill(h, c);
	tc_push(h, c, ptr);
}

/*
 * The fast path's slow half: class c's cache is full, or there is none (its
 * room 0, or -1 after the fast path's decrement: put back to 0 first).  A
 * block of this thread's own pool goes to its pool (a push without atomics;
 * spilling the cache there cost a program that frees its own blocks in bulk
 * 7%); another thread's block makes the cache spill, so that such frees go
 * home in runs.  A thread that has only freed so far (a consumer) takes a
 * heap here, so that its frees of other threads' blocks are cached too.
 */
void pt__free_full(void *ptr, unsigned c)
{
	struct pt_heap *h = pt__tl_heap;
	h->tc_room[c] = 0;
	/* a pool meshed into another has no owner: its blocks take the
	 * paths below, which find the other pool (pt__pool_of_block) */
	struct pt_pool *p = pt__pool_of((uintptr_t)ptr);
	if (PT_LIKELY(p->owner == h)) {
		pool_push_local(p, ptr);
		return;
	}
	if (pt__tc_cap() == 0) {
		if (h == &pt__empty_heap)
			free_heapless(ptr);
		else
			pt__free_to_pool(ptr);
		return;
	}
	free_full_foreign(h, ptr, c);
}

/* pt__free_class's slow half: ptr may be free already. */
void pt__free_suspect(void *ptr, unsigned c)
{
	struct pt_heap *h = pt__tl_heap;
	struct pt_block *b = ptr;
	if (pt__double_free(b, c)) {
		double_free(ptr, c);
		return;
	}
	if (h->tc_room[c] > 0) {   /* (a heapless thread's room may be -1) */
		tc_push(h, c, b);
		return;
	}
	pt__free_full(ptr, c);
}

/*
 * The slow half of the double-free test (internal.h, "Double free"): b, a
 * block of class c, has the free key in its key word or is the head of this
 * thread's cache.  Is it free?  Only lists this thread may read are walked:
 * its cache, and if it owns b's pool the pool's free list and remote list;
 * otherwise the top of the pool's remote list.  Bounded walks: a corrupted
 * list does not hang the free.
 */
bool pt__double_free(struct pt_block *b, unsigned c)
{
	struct pt_heap *h = pt__tl_heap;
	unsigned n = 0;
	for (struct pt_block *x = h->tc[c]; x && n < 256; x = pt__blk_next(x), n++)
		if (x == b)
			return true;
	struct pt_pool *p = pt__pool_of_block((uintptr_t)b);
	struct pt_block *x = pt__xfree_top(atomic_load_explicit(&p->xfree, memory_order_acquire));
	if (p->owner != h)
		return x == b;
	/* the owner: nobody else pops or unlinks these lists */
	for (n = 0; x && n < p->nblocks; x = pt__blk_next(x), n++)
		if (x == b)
			return true;
	for (n = 0, x = p->free; x && n < p->nblocks; x = pt__blk_next(x), n++)
		if (x == b)
			return true;
	return false;
}

/* ---- public wrappers ---------------------------------------------------- */

void pt_init(void)
{
	ensure_init();
}

void *pt_alloc(size_t n)
{
	if (n > PT_SMALL_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = pt__alloc_inline(n);
	if (!p)
		errno = ENOMEM;
	return p;
}

void *pt_alloc_aligned(size_t align, size_t n)
{
	if (align == 0 || (align & (align - 1)) || align > PT_SMALL_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	size_t s = n > align ? n : align;
	s = (s + align - 1) & ~(align - 1);
	if (s > PT_SMALL_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	/* every class size is a multiple of 8; for align >= 16 the class of a
	 * multiple of align is exactly s in both modes, so blocks are aligned */
	void *p = pt__alloc_inline(s);
	if (!p)
		errno = ENOMEM;
	return p;
}

bool pt_owns(const void *p)
{
	return pt__owns((uintptr_t)p);
}

void pt_free(void *p)
{
	pt__free_inline(p);
}

size_t pt_block_size(const void *p)
{
	unsigned v = pt__class_of((uintptr_t)p);
	return v ? pt__cls.size[v - 1] : 0;
}

/* ---- fork ------------------------------------------------------------- */

/*
 * Is the process single-threaded, as glibc's fork sees it?  glibc (2.32 and
 * later) exports the flag it tests; without it, assume threads.
 */
extern char __libc_single_threaded __attribute__((weak));

static bool single_threaded(void)
{
	return &__libc_single_threaded != NULL && __libc_single_threaded;
}

int pt_arenas_lock(int wait)
{
	if (pt__tl_locked)
		return 0;
	if (wait) {
		pt__lock();
		return 1;
	}
	pt__tl_locked = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (pthread_mutex_trylock(&pt__g.lock) == 0)
		return 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	pt__tl_locked = 0;
	return -1;
}

void pt_arenas_unlock(void)
{
	pt__unlock();
}

int pt_arenas_held(void)
{
	return pt__tl_locked;
}

/*
 * Take pt__g.lock across fork, unless the process is single-threaded (no
 * other thread can be inside the allocator: glibc's fork takes no malloc
 * lock then either, which is what makes fork from a signal handler work) or
 * this thread already holds it (fork from a handler that interrupted it
 * under the lock: nobody else holds it, so the state is this thread's).
 */
void pt_fork_prepare(void)
{
	tl_fork_locked = !single_threaded() && !pt__tl_locked;
	if (tl_fork_locked)
		pt__lock();
	pt__mesh_fork_prepare();
}

void pt_fork_parent(void)
{
	pt__mesh_fork_parent();
	if (tl_fork_locked) {
		tl_fork_locked = 0;
		pt__unlock();
	}
}

/*
 * In the child only the forking thread survives.  The heaps of the others
 * may have been caught halfway through an update: they become fork orphans,
 * never adopted nor collected (see internal.h).  Heaps that were already
 * abandoned were left consistent, under the lock, and stay adoptable.  A
 * lock that prepare did not take is left as it is: free, or held by the
 * frame this thread's signal handler interrupted, which releases it if the
 * handler returns.
 */
void pt_fork_child(void)
{
	pt__mesh_fork_child();
	if (tl_heapless == HEAPLESS_BLOCKED)
		tl_heapless = 0;
	if (tl_fork_locked) {
		tl_fork_locked = 0;
		pthread_mutex_init(&pt__g.lock, NULL);
		pt__tl_locked = 0;
	}
	for (struct pt_heap *h = pt__g.heaps; h; h = h->all_next)
		if (h != pt__tl_heap && !atomic_load(&h->abandoned))
			atomic_store(&h->abandoned, 2);
}
