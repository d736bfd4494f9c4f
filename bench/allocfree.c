/*
 * allocfree.c [order|random] - allocate N objects of sizes 8..512, then free
 * them all, in allocation order or in a random order; several rounds.
 */
#include "common.h"

int main(int argc, char **argv)
{
	int random_order = argc > 1 && strcmp(argv[1], "random") == 0;
	const size_t n = 1000000;
	const int rounds = (int)(8 * bench_scale()) > 0 ? (int)(8 * bench_scale()) : 1;
	unsigned char **p = malloc(n * sizeof *p);
	size_t *size = malloc(n * sizeof *size), *order = malloc(n * sizeof *order);
	uint64_t rng = 7, sum = 0;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	if (random_order)
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = (size_t)(rng_next(&rng) % (i + 1)), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
	for (int r = 0; r < rounds; r++) {
		for (size_t i = 0; i < n; i++) {
			size[i] = rng_size(&rng, 8, 512);
			p[i] = malloc(size[i]);
			touch(p[i], size[i], i + (size_t)r);
		}
		for (size_t k = 0; k < n; k++) {
			size_t i = order[k];
			sum = fold(p[i], size[i], sum);
			free(p[i]);
		}
	}
	printf("result: checksum=%016llx rss_end_kib=%ld\n", (unsigned long long)sum, rss_kib());
	return 0;
}
