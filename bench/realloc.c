/*
 * realloc.c - growth of many small buffers by realloc, in CPython's
 * list-append pattern (capacity 0, 4, 8, 16, 24, 32, 40, 52, 64, 76, ...
 * elements of 8 bytes): most steps stay under 512 bytes, long lists cross
 * into glibc's range.
 */
#include "common.h"

static size_t grow(size_t newsize)
{
	return (newsize + (newsize >> 3) + 6) & ~(size_t)3;   /* listobject.c */
}

int main(void)
{
	const int lists = 20000;
	const int rounds = (int)(40 * bench_scale()) > 0 ? (int)(40 * bench_scale()) : 1;
	uint64_t **buf = calloc((size_t)lists, sizeof *buf);
	size_t *len = calloc((size_t)lists, sizeof *len), *cap = calloc((size_t)lists, sizeof *cap);
	uint64_t rng = 99, sum = 0;

	for (int r = 0; r < rounds; r++) {
		for (int l = 0; l < lists; l++) {
			/* most lists are short, a few long */
			size_t target = (rng_next(&rng) % 8) ? rng_size(&rng, 1, 40) : rng_size(&rng, 41, 300);
			for (size_t k = 0; k < target; k++) {
				if (len[l] == cap[l]) {
					cap[l] = grow(len[l] + 1);
					buf[l] = realloc(buf[l], cap[l] * sizeof(uint64_t));
				}
				buf[l][len[l]++] = k ^ (uint64_t)l;
			}
		}
		for (int l = 0; l < lists; l++) {
			for (size_t k = 0; k < len[l]; k += 7)
				sum = sum * 31 + buf[l][k];
			free(buf[l]);
			buf[l] = NULL;
			len[l] = cap[l] = 0;
		}
	}
	printf("result: checksum=%016llx\n", (unsigned long long)sum);
	return 0;
}
