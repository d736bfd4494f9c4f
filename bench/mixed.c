/*
 * mixed.c [THREADS [MAXSIZE]] - larson's mix across the pool limit: THREADS
 * threads replace random slots of one shared array with new blocks of
 * 8..MAXSIZE bytes (default 1000, as larson's original; 16384 is rptest's
 * range), and free the old block, often another thread's.  Sizes are drawn
 * with a bias to the small end (half the draws are at most MAXSIZE / 8), as
 * real programs' are.  Each thread also frees most of what it allocates
 * itself, on a short private ring, so that reuse within a thread is common.
 * The checksum adds up the tags of every block allocated; it depends only
 * on the seeds.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"

#define SLOTS 20000
#define RING  64

static _Atomic(unsigned char *) slot[SLOTS];
static long steps;
static size_t maxsize = 1000;

struct worker {
	uint64_t seed, made, left;
};

/* Block layout: [size_t size][uint64_t tag] ... */
static unsigned char *make(uint64_t *rng, uint64_t *made)
{
	size_t hi = rng_next(rng) & 1 ? maxsize : maxsize / 8;
	size_t n = rng_size(rng, 16, hi);
	unsigned char *b = malloc(n);
	uint64_t tag = rng_next(rng);
	memcpy(b, &n, sizeof n);
	memcpy(b + 8, &tag, sizeof tag);
	b[n - 1] = (unsigned char)tag;
	*made += tag;
	return b;
}

static uint64_t release(unsigned char *b)
{
	size_t n;
	uint64_t tag;
	memcpy(&n, b, sizeof n);
	memcpy(&tag, b + 8, sizeof tag);
	if (b[n - 1] != (unsigned char)tag)
		tag ^= 0xdeadbeef;   /* corrupted: the checksum will show it */
	free(b);
	return tag;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = w->seed, made = 0, freed = 0;
	unsigned char *ring[RING] = { 0 };
	for (long i = 0; i < steps; i++) {
		unsigned char *b = make(&rng, &made);
		if (i % 4 == 0) {   /* shared: the old block is often another thread's */
			unsigned char *old = atomic_exchange(&slot[rng_next(&rng) % SLOTS], b);
			if (old)
				freed += release(old);
		} else {            /* private: freed by this thread a little later */
			unsigned r = (unsigned)(rng_next(&rng) % RING);
			if (ring[r])
				freed += release(ring[r]);
			ring[r] = b;
		}
	}
	for (int r = 0; r < RING; r++)
		if (ring[r])
			freed += release(ring[r]);
	w->made = made;
	w->left = made - freed;   /* net: what this thread left in the array */
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4;
	if (nthreads < 1 || nthreads > 64)
		nthreads = 4;
	if (argc > 2 && atol(argv[2]) >= 64)
		maxsize = (size_t)atol(argv[2]);
	steps = (long)(8e6 * bench_scale()) / nthreads;
	pthread_t t[64];
	struct worker w[64];
	for (int i = 0; i < nthreads; i++) {
		w[i].seed = 91 + (uint64_t)i;
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	uint64_t left = 0, made = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		left += w[i].left;
		made += w[i].made;
	}
	uint64_t in_array = 0;
	for (int i = 0; i < SLOTS; i++)
		if (slot[i])
			in_array += release(slot[i]);
	printf("result: checksum=%016llx\n",
	       (unsigned long long)(left == in_array ? made : made ^ 0xbadbadull));
	return 0;
}
