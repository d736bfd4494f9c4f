/*
 * frag.c - fragmentation: build 1M objects of 16..128 bytes, free 90% of them
 * at random, then allocate objects of other sizes (200..400 bytes) for as
 * many bytes as were freed.  Reports RSS at the peak, after the frees (and
 * again 300 ms later, when delayed purging has had its chance), and at the
 * end; then frees everything, its own index arrays too, and reports RSS once
 * more: what the allocator keeps after the program has freed all it had.
 */
#include <time.h>

#include "common.h"

int main(void)
{
	const size_t n = (size_t)(1e6 * bench_scale());
	unsigned char **p = malloc(n * sizeof *p);
	size_t *size = malloc(n * sizeof *size);
	uint64_t rng = 5, sum = 0, freed_bytes = 0;
	long rss_start = rss_kib();

	for (size_t i = 0; i < n; i++) {
		size[i] = rng_size(&rng, 16, 128);
		p[i] = malloc(size[i]);
		touch(p[i], size[i], i);
	}
	long rss_peak = rss_kib();
	for (size_t i = 0; i < n; i++)
		if (rng_next(&rng) % 10) {
			sum = fold(p[i], size[i], sum);
			freed_bytes += size[i];
			free(p[i]);
			p[i] = NULL;
		}
	long rss_freed = rss_kib();
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	free(malloc(1));   /* give a delayed purge the chance to run */
	long rss_later = rss_kib();

	size_t m = 0, cap = 1024;
	unsigned char **q = malloc(cap * sizeof *q);
	size_t *qs = malloc(cap * sizeof *qs);
	for (uint64_t b = 0; b < freed_bytes; b += qs[m++]) {
		if (m == cap) {
			cap *= 2;
			q = realloc(q, cap * sizeof *q);
			qs = realloc(qs, cap * sizeof *qs);
		}
		qs[m] = rng_size(&rng, 200, 400);
		q[m] = malloc(qs[m]);
		touch(q[m], qs[m], m);
	}
	long rss_end = rss_kib();
	for (size_t i = 0; i < m; i++) {
		sum = fold(q[i], qs[i], sum);
		free(q[i]);
	}
	for (size_t i = 0; i < n; i++)
		if (p[i]) {
			sum = fold(p[i], size[i], sum);
			free(p[i]);
		}
	free(q);
	free(qs);
	free(p);      /* the workload's own index arrays: not the allocator's */
	free(size);
	long rss_empty = rss_kib();
	printf("result: checksum=%016llx rss_start_kib=%ld rss_peak_kib=%ld rss_freed_kib=%ld "
	       "rss_freed_300ms_kib=%ld rss_end_kib=%ld rss_all_freed_kib=%ld\n",
	       (unsigned long long)sum, rss_start, rss_peak, rss_freed, rss_later, rss_end,
	       rss_empty);
	return 0;
}
