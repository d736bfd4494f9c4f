/*
 * churn.c - small-object churn: a working set of LIVE objects of random sizes
 * 8..512; each step frees a random one and allocates a new one in its place.
 */
#include "common.h"

int main(void)
{
	const size_t live = 200000;
	const long steps = (long)(20e6 * bench_scale());
	unsigned char **slot = calloc(live, sizeof *slot);
	size_t *size = calloc(live, sizeof *size);
	uint64_t rng = 42, sum = 0;

	for (size_t i = 0; i < live; i++) {
		size[i] = rng_size(&rng, 8, 512);
		slot[i] = malloc(size[i]);
		touch(slot[i], size[i], i);
	}
	for (long s = 0; s < steps; s++) {
		size_t i = (size_t)(rng_next(&rng) % live);
		sum = fold(slot[i], size[i], sum);
		free(slot[i]);
		size[i] = rng_size(&rng, 8, 512);
		slot[i] = malloc(size[i]);
		touch(slot[i], size[i], (uint64_t)s);
	}
	for (size_t i = 0; i < live; i++) {
		sum = fold(slot[i], size[i], sum);
		free(slot[i]);
	}
	printf("result: checksum=%016llx\n", (unsigned long long)sum);
	return 0;
}
