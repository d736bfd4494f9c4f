/*
 * threadchurn.c [THREADS] - short-lived threads, as mimalloc-bench's mstress:
 * ROUNDS rounds of THREADS threads (default 4) started together.  Each keeps
 * a working set of LIVE blocks of 8..512 bytes (a few larger), replaces
 * random ones STEPS times, frees the rest and exits; a slice of its blocks
 * is left behind in a shared table for a thread of a later round to free
 * (a remote free into a heap whose thread has gone).  About 800 threads in
 * all at BENCH_SCALE=1.
 */
#include <pthread.h>

#include "common.h"

#define LIVE     5000
#define STEPS    20000
#define HANDOVER 64

struct worker {
	uint64_t seed, sum;
	unsigned char **in, **out;   /* handed over by the previous round / to the next */
};

static size_t block_size(uint64_t *rng)
{
	return rng_next(rng) % 64 ? rng_size(rng, 8, 512) : rng_size(rng, 513, 4096);
}

/* A block of a random size, touched. */
static unsigned char *new_block(uint64_t *rng, size_t *n, uint64_t tag)
{
	*n = block_size(rng);
	unsigned char *b = malloc(*n);
	touch(b, *n, tag);
	return b;
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	unsigned char **slot = malloc(LIVE * sizeof *slot);
	size_t *size = malloc(LIVE * sizeof *size);
	uint64_t rng = w->seed, sum = 0;

	for (int i = 0; i < HANDOVER; i++) {
		unsigned char *b = w->in[i];
		if (b) {
			sum = sum * 31 + b[0] + b[2];
			free(b);
		}
	}
	for (size_t i = 0; i < LIVE; i++)
		slot[i] = new_block(&rng, &size[i], i);
	for (long s = 0; s < STEPS; s++) {
		size_t i = (size_t)(rng_next(&rng) % LIVE);
		sum = fold(slot[i], size[i], sum);
		free(slot[i]);
		slot[i] = new_block(&rng, &size[i], (uint64_t)s);
	}
	for (size_t i = 0; i < LIVE; i++) {
		sum = fold(slot[i], size[i], sum);
		if (i < HANDOVER) {
			slot[i][2] = (unsigned char)i;   /* size >= 8: bytes 0..2 are ours */
			w->out[i] = slot[i];
		} else {
			free(slot[i]);
		}
	}
	free(size);
	free(slot);
	w->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4;
	if (nthreads < 1 || nthreads > 64)
		nthreads = 4;
	long rounds = (long)(800 * bench_scale()) / nthreads;
	if (rounds < 1)
		rounds = 1;
	/* two tables of handover blocks per thread: read one, fill the other */
	unsigned char *(*table)[2][HANDOVER] = calloc((size_t)nthreads, sizeof *table);
	struct worker *w = calloc((size_t)nthreads, sizeof *w);
	pthread_t t[64];
	uint64_t sum = 0;

	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < nthreads; i++) {
			/* thread i frees what thread i+1 of the last round left */
			w[i].seed = 1 + (uint64_t)r * 64 + (uint64_t)i;
			w[i].in = table[(i + 1) % nthreads][r & 1];
			w[i].out = table[i][(r + 1) & 1];
			pthread_create(&t[i], NULL, worker, &w[i]);
		}
		for (int i = 0; i < nthreads; i++) {
			pthread_join(t[i], NULL);
			sum = sum * 1000003 + w[i].sum;
		}
		/* every in-table was consumed: clear them for the round after next */
		for (int i = 0; i < nthreads; i++)
			memset(table[i][r & 1], 0, sizeof table[i][r & 1]);
	}
	for (int i = 0; i < nthreads; i++)
		for (int k = 0; k < HANDOVER; k++)
			free(table[i][rounds & 1][k]);
	free(table);
	free(w);
	printf("result: checksum=%016llx\n", (unsigned long long)sum);
	return 0;
}
