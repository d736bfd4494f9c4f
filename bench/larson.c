/*
 * larson.c [THREADS] - a server-like mix after Larson and Krishnan: THREADS
 * threads replace random slots of one shared array with new blocks of 8..512
 * bytes; the old block, often allocated by another thread, is freed.  The
 * checksum adds up the tags of every block ever allocated (each is freed
 * exactly once, by whichever thread), so it does not depend on timing.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"

#define SLOTS 40000

static _Atomic(unsigned char *) slot[SLOTS];
static long steps;

struct worker {
	uint64_t seed, made, left;
};

/* Block layout: [size_t size][uint64_t tag] ... */
static unsigned char *make(uint64_t *rng, uint64_t *made)
{
	size_t n = rng_size(rng, 16, 512);
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
	for (long i = 0; i < steps; i++) {
		unsigned char *b = make(&rng, &made);
		unsigned char *old = atomic_exchange(&slot[rng_next(&rng) % SLOTS], b);
		if (old)
			freed += release(old);
	}
	w->made = made;
	w->left = made - freed;   /* net: what this thread left in the array */
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4;
	if (nthreads < 1 || nthreads > 64)
		nthreads = 4;
	steps = (long)(8e6 * bench_scale()) / nthreads;
	pthread_t t[64];
	struct worker w[64];
	for (int i = 0; i < nthreads; i++) {
		w[i].seed = 77 + (uint64_t)i;
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
	/* every tag made but not freed by the workers is in the array; the sum
	 * of all tags made depends only on the seeds */
	printf("result: checksum=%016llx\n",
	       (unsigned long long)(left == in_array ? made : made ^ 0xbadbadull));
	return 0;
}
