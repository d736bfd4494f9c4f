/*
 * bigcache.c - the per-thread cache of freed glibc blocks (bigcache.h).
 *
 * Bins: 8 per power of two from 512 B (bigcache.h).  A request of n bytes
 * takes the head of the lowest bin whose blocks all are large enough (the
 * block freed there last), else, if that bin is empty, the head of the next
 * (at most 1/4 above n's bin); nothing else is searched.  When both are
 * empty, glibc is asked for the size of n's bin (pt__bc_request), so the
 * block comes back to that bin when it is freed.  A program that frees and
 * allocates sizes of one bin gets the same blocks back, and a take tests
 * only whether a bin is empty, never a block's size: with the sizes of a
 * mix, that test's outcome was random, a mispredicted branch every other
 * call (larson).
 *
 * When a free finds no room (bytes + u > cap), the older half of every bin
 * goes back to glibc: the bins of sizes the program no longer uses drain by
 * halves, the blocks it just freed stay.  A malloc that glibc cannot serve
 * flushes the thread's cache and asks again (symbols.c), as malloc_trim does.
 *
 * Thread exit: a key destructor flushes the cache and marks it DEAD, so that
 * what the thread's teardown frees after it goes to glibc.  A thread that
 * first frees a block into the cache after its destructors ran (glibc's own
 * teardown) keeps it until the process ends: at most cap bytes, once.
 *
 * The only lock, bc.lock, guards the registry of caches that mallinfo sums;
 * it is taken when a thread registers and unregisters, with busy set, so
 * that a signal handler on the same thread never waits for it.
 */
#include <pthread.h>

#include "bigcache.h"
#include "libc_sym.h"   /* __libc_free */

size_t pt__bc_cap;
__thread struct pt_bigcache pt__bc_tl __attribute__((tls_model("initial-exec")));

static struct bc_state {
	pthread_mutex_t lock;
	pthread_key_t key;
	int key_ok;
	struct pt_bigcache *all;     /* ON caches */
} bc = { PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL };

_Static_assert(PT_BC_NBINS == 50 && PT_BC_MAX_USABLE == 36864, "bins 0..48, 49 empty");
/* bin 48 = [8 << 12, 9 << 12): the top request's bin is the last */
_Static_assert(PT_BC_MAX_REQUEST == 8u << 12 && PT_BC_MAX_USABLE == 9u << 12,
               "bin 48 is [PT_BC_MAX_REQUEST, PT_BC_MAX_USABLE)");

/*
 * The keys, set by pt__bc_init before the cache is on (so read only while
 * a block can be cached).  The tag key, of cached blocks' second word,
 * differs between runs (ASLR) and is never 0.  The link key, of their
 * first word (the next block of the bin), has top 16 bits that make any
 * link a non-canonical address (as the pools store theirs): a block handed
 * out again still holds it, and the exit scan, or any tool that scans the
 * heap, must not find there a pointer to another block.
 */
static uintptr_t tag_key, link_key;

uint8_t pt__bc_bin_by64[PT_BC_MAX_USABLE >> 6];

static inline struct pt_bc_block *next_of(const struct pt_bc_block *k)
{
	return (struct pt_bc_block *)(k->link ^ link_key);
}

static inline void set_next(struct pt_bc_block *k, const struct pt_bc_block *next)
{
	k->link = (uintptr_t)next ^ link_key;
}

/* The usable size of cached block k. */
static inline size_t usable_of(const struct pt_bc_block *k)
{
	return k->tag ^ tag_key;
}

static inline void enter(struct pt_bigcache *c)
{
	c->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void leave(struct pt_bigcache *c)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	c->busy = 0;
}

/*
 * Is cached block k's chunk as it was kept (u: its usable size then)?  A
 * program that wrote over the header of a block it had freed (or the
 * next chunk's) finds glibc's malloc aborting on the damage when the chunk
 * comes back from glibc's bins; from the cache it would get it back quietly.
 */
static inline int chunk_intact(const struct pt_bc_block *k, size_t u)
{
	size_t h = ((const size_t *)k)[-1];
	return (h & ~(size_t)7) - sizeof(size_t) == u && !(h & 10) &&
	       (((const size_t *)k)[u / sizeof(size_t)] & 1);
}

void *pt__bc_take(size_t n)
{
	struct pt_bigcache *c = &pt__bc_tl;
	if (c->busy)
		return NULL;   /* a handler that interrupted this thread's cache */
	enter(c);
	unsigned b = pt__bc_bin_for(n);
	struct pt_bc_block *k = c->bin[b];
	if (!k)
		k = c->bin[++b];   /* at most 1/4 larger than n's bin; 49 is empty */
	if (k) {
		size_t u = usable_of(k);
		pt_assert(pt__bc_bin_of(u) == b && u >= n);
		c->bin[b] = next_of(k);
		c->count[b]--;
		c->bytes -= u;
		k->tag = 0;
		if (PT_UNLIKELY(!chunk_intact(k, u))) {
			leave(c);
			__libc_free(k);   /* glibc diagnoses the damage, as its malloc would */
			return NULL;
		}
	}
	leave(c);
	return k;
}

/* Free the older half of every bin; the caller is inside (busy). */
static PT_NOINLINE void trim_inside(struct pt_bigcache *c)
{
	for (unsigned b = 0; b < PT_BC_NBINS; b++) {
		unsigned keep = c->count[b] / 2;
		if (c->count[b] == 0)
			continue;
		struct pt_bc_block *last = NULL, *k = c->bin[b];
		for (unsigned i = 0; i < keep; i++) {
			last = k;
			k = next_of(k);
		}
		if (last)
			set_next(last, NULL);
		else
			c->bin[b] = NULL;
		c->count[b] = (uint16_t)keep;
		while (k) {
			struct pt_bc_block *next = next_of(k);
			c->bytes -= usable_of(k);
			__libc_free(k);
			k = next;
		}
	}
}

static int flush_inside(struct pt_bigcache *c);


/* Is k on bin b of c?  The caller is inside (busy). */
static PT_NOINLINE int on_bin(const struct pt_bigcache *c, unsigned b,
                              const struct pt_bc_block *k)
{
	for (const struct pt_bc_block *x = c->bin[b]; x; x = next_of(x))
		if (x == k)
			return 1;
	return 0;
}

/* Destroy the calling thread's cache when it exits; 0 if it cannot be
 * (no key: then it caches nothing). */
static PT_NOINLINE int enrol(struct pt_bigcache *c)
{
	if (!bc.key_ok)
		return 0;
	enter(c);
	/* a key above 31 makes glibc calloc its second level: a pool block */
	int ok = pthread_setspecific(bc.key, c) == 0;
	if (ok) {
		pthread_mutex_lock(&bc.lock);
		c->prev = NULL;
		c->next = bc.all;
		if (bc.all)
			bc.all->prev = c;
		bc.all = c;
		pthread_mutex_unlock(&bc.lock);
		c->state = PT_BC_ON;
	}
	leave(c);
	return ok;
}

/* Put k (usable size u) on top of its bin b; the caller is inside (busy). */
static inline void push_inside(struct pt_bigcache *c, struct pt_bc_block *k, size_t u,
                               unsigned b)
{
	set_next(k, c->bin[b]);
	k->tag = u ^ tag_key;
	c->bin[b] = k;
	c->count[b]++;
	c->bytes += u;
}

/* pt__bc_keep's unlikely half: block k (usable size u, through every
 * test of a free) where the thread's cache is not on yet, or k looks
 * cached already, or the cache is full. */
static PT_NOINLINE int keep_slow(struct pt_bigcache *c, struct pt_bc_block *k, size_t u)
{
	if (c->state == PT_BC_DEAD || (c->state != PT_BC_ON && !enrol(c)))
		return 0;
	unsigned b = pt__bc_bin_of(u);
	enter(c);
	if (k->tag == (u ^ tag_key) && on_bin(c, b, k)) {
		leave(c);
		return -1;
	}
	if (c->bytes + u > pt__bc_cap) {
		trim_inside(c);
		if (c->bytes + u > pt__bc_cap)
			flush_inside(c);
	}
	push_inside(c, k, u, b);
	leave(c);
	return 1;
}

int pt__bc_keep(void *p)
{
	struct pt_bigcache *c = &pt__bc_tl;
	/*
	 * glibc's chunk header, the word before p: the chunk's size with flag
	 * bits, bit 1 for a chunk of its own mapping.  The usable size of any
	 * other chunk is its size less that word: what glibc's
	 * malloc_usable_size answers (without memory tagging, which x86-64
	 * lacks), for a third of the cost of calling it.
	 */
	size_t h = ((const size_t *)p)[-1];
	size_t u = (h & ~(size_t)7) - sizeof(size_t);
	/*
	 * What glibc's free checks before it trusts a chunk, so that a pointer
	 * malloc never returned still reaches glibc's diagnosis: p 16-aligned,
	 * the size a multiple of 16 (bit 3 clear; bit 1: mmapped, not kept);
	 * above glibc's tcache sizes, also the next chunk's "previous in use"
	 * bit (its size word is the last word of p's usable bytes, plus one),
	 * clear when glibc holds p already (a block freed twice after the
	 * cache gave it back).  glibc's tcache puts a chunk of its sizes in
	 * without that test, and so does this cache: the word is on another
	 * cache line, most often a miss, and the test cost larson a tenth of
	 * its time (docs/DESIGN.md).
	 */
	if (c->busy || ((uintptr_t)p & 15) || (h & 10) || u - PT_BC_MIN_USABLE >=
	    PT_BC_MAX_USABLE - PT_BC_MIN_USABLE || u > pt__bc_cap)
		return 0;
	if (u > PT_BC_GLIBC_TCACHE_MAX && !(((const size_t *)p)[u / sizeof(size_t)] & 1))
		return 0;
	struct pt_bc_block *k = p;
	if (PT_UNLIKELY(c->state != PT_BC_ON) || PT_UNLIKELY(k->tag == (u ^ tag_key)) ||
	    PT_UNLIKELY(c->bytes + u > pt__bc_cap))
		return keep_slow(c, k, u);
	enter(c);
	push_inside(c, k, u, pt__bc_bin_of(u));
	leave(c);
	return 1;
}

/* The caller is inside (busy). */
static int flush_inside(struct pt_bigcache *c)
{
	int any = 0;
	for (unsigned b = 0; b < PT_BC_NBINS; b++) {
		struct pt_bc_block *k = c->bin[b];
		c->bin[b] = NULL;
		c->count[b] = 0;
		while (k) {
			struct pt_bc_block *next = next_of(k);
			__libc_free(k);
			k = next;
			any = 1;
		}
	}
	c->bytes = 0;
	return any;
}

int pt__bc_flush(void)
{
	struct pt_bigcache *c = &pt__bc_tl;
	if (c->busy)
		return 0;
	enter(c);
	int any = flush_inside(c);
	leave(c);
	return any;
}

/* Flush c, the calling thread's, take it off the registry, and keep it
 * off: the thread is ending. */
static void retire(struct pt_bigcache *c)
{
	enter(c);
	flush_inside(c);
	if (c->state == PT_BC_ON) {
		pthread_mutex_lock(&bc.lock);
		if (c->prev)
			c->prev->next = c->next;
		else
			bc.all = c->next;
		if (c->next)
			c->next->prev = c->prev;
		pthread_mutex_unlock(&bc.lock);
	}
	c->state = PT_BC_DEAD;
	leave(c);
}

static void thread_done(void *arg)
{
	struct pt_bigcache *c = &pt__bc_tl;
	if (arg == c && !c->busy)
		retire(c);
}

void pt__bc_exit(void)
{
	struct pt_bigcache *c = &pt__bc_tl;
	if (!c->busy)
		retire(c);
}

void pt__bc_init(size_t cap)
{
	tag_key = ((uintptr_t)&bc * 0x9e3779b97f4a7c15ull) | 1;
	link_key = (tag_key & 0x0000ffffffffffffull) | 0xa5a5000000000000ull;
	for (unsigned i = PT_BC_MIN_USABLE >> 6, b = 0; i < sizeof pt__bc_bin_by64; i++) {
		while (pt__bc_bin_size(b + 1) <= (size_t)i << 6)
			b++;
		pt_assert(pt__bc_bin_size(b) % 64 == 0);
		pt__bc_bin_by64[i] = (uint8_t)b;
	}
	/* pthread_key_create does not allocate in glibc */
	if (cap && !bc.key_ok)
		bc.key_ok = pthread_key_create(&bc.key, thread_done) == 0;
	__atomic_store_n(&pt__bc_cap, bc.key_ok ? cap : 0, __ATOMIC_RELEASE);
}

void pt__bc_fork_child(void)
{
	struct pt_bigcache *c = &pt__bc_tl;
	pthread_mutex_init(&bc.lock, NULL);
	bc.all = NULL;
	if (c->state == PT_BC_ON) {
		c->next = c->prev = NULL;
		bc.all = c;
	}
}

void pt__bc_totals(size_t *blocks, size_t *chunk_bytes)
{
	size_t n = 0, bytes = 0;
	pthread_mutex_lock(&bc.lock);
	for (struct pt_bigcache *c = bc.all; c; c = c->next) {
		for (unsigned b = 0; b < PT_BC_NBINS; b++)
			n += __atomic_load_n(&c->count[b], __ATOMIC_RELAXED);
		bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&bc.lock);
	*blocks = n;
	*chunk_bytes = bytes + n * sizeof(size_t);   /* each chunk's size word */
}
