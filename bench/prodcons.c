/*
 * prodcons.c [PAIRS] - PAIRS producer threads allocate blocks of 8..512 bytes
 * and pass them through a ring to their consumer thread, which frees them:
 * every free is a cross-thread free.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"

#define RING 4096

struct pair {
	_Atomic(unsigned char *) ring[RING];
	long count;
	uint64_t seed, sum;
};

static void *producer(void *arg)
{
	struct pair *pr = arg;
	uint64_t rng = pr->seed;
	for (long i = 0; i < pr->count; i++) {
		size_t n = rng_size(&rng, 8, 512);
		unsigned char *b = malloc(n);
		touch(b, n, (uint64_t)i);
		b[0] = (unsigned char)n;   /* the consumer needs the size back */
		if (n > 1)
			b[1] = (unsigned char)(n >> 8);
		_Atomic(unsigned char *) *slot = &pr->ring[i % RING];
		while (atomic_load_explicit(slot, memory_order_acquire))
			;   /* full: spin */
		atomic_store_explicit(slot, b, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct pair *pr = arg;
	uint64_t sum = 0;
	for (long i = 0; i < pr->count; i++) {
		_Atomic(unsigned char *) *slot = &pr->ring[i % RING];
		unsigned char *b;
		while (!(b = atomic_load_explicit(slot, memory_order_acquire)))
			;
		atomic_store_explicit(slot, NULL, memory_order_release);
		size_t n = b[0] | ((size_t)b[1] << 8);
		sum = fold(b, n, sum);
		free(b);
	}
	pr->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	int pairs = argc > 1 ? atoi(argv[1]) : 1;
	if (pairs < 1 || pairs > 16)
		pairs = 1;
	long count = (long)(4e6 * bench_scale()) / pairs;
	struct pair *pr = aligned_alloc(64, sizeof *pr * (size_t)pairs);
	pthread_t t[32];
	memset(pr, 0, sizeof *pr * (size_t)pairs);
	for (int i = 0; i < pairs; i++) {
		pr[i].count = count;
		pr[i].seed = 1000 + (uint64_t)i;
		pthread_create(&t[2 * i], NULL, producer, &pr[i]);
		pthread_create(&t[2 * i + 1], NULL, consumer, &pr[i]);
	}
	uint64_t sum = 0;
	for (int i = 0; i < pairs; i++) {
		pthread_join(t[2 * i], NULL);
		pthread_join(t[2 * i + 1], NULL);
		sum = sum * 1000003 + pr[i].sum;
	}
	printf("result: checksum=%016llx\n", (unsigned long long)sum);
	return 0;
}
