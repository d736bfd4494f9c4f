/*
 * scatter.c - survivors scattered over the heap: 2M blocks of 48..96 bytes,
 * then 90% of them freed at random, as a long-running cache or service
 * leaves its heap.  Reports RSS and Pss at the peak, right after the frees,
 * and 1 s later (after a decay or a background purge has had its chance),
 * then reads every survivor back: a heap that moved or lost one changes the
 * checksum.  No allocator that keeps objects in place gets a page back
 * unless every block on it is free; at 90% freed, few pages are.
 */
#include <malloc.h>
#include <time.h>

#include "common.h"

int main(void)
{
	const size_t n = (size_t)(2e6 * bench_scale());
	unsigned char **p = malloc(n * sizeof *p);
	unsigned char *size = malloc(n);
	uint64_t rng = 11, sum = 0;

	for (size_t i = 0; i < n; i++) {
		size[i] = (unsigned char)rng_size(&rng, 48, 96);
		p[i] = malloc(size[i]);
		memset(p[i], (int)(i * 7), size[i]);
		touch(p[i], size[i], i);
	}
	long rss_peak = rss_kib(), pss_peak = pss_kib();
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (rng_next(&rng) % 10) {
			free(p[i]);
			p[i] = NULL;
		} else {
			kept++;
		}
	}
	long rss_freed = rss_kib(), pss_freed = pss_kib();
	struct timespec ts = { 1, 0 };
	nanosleep(&ts, NULL);
	free(malloc(1));   /* a delayed purge runs on a call */
	long rss_later = rss_kib(), pss_later = pss_kib();
	/* what a program gets back by asking: glibc's malloc_trim releases the
	 * free pages inside its chunks, pooltrace meshes (POOLTRACE_MESH=1) */
	double t0 = bench_now();
	malloc_trim(0);
	double trim_s = bench_now() - t0;
	long rss_trim = rss_kib(), pss_trim = pss_kib();
	for (size_t i = 0; i < n; i++)
		if (p[i]) {
			sum = fold(p[i], size[i], sum);
			free(p[i]);
		}
	free(p);
	free(size);
	printf("result: checksum=%016llx kept=%zu rss_peak_kib=%ld pss_peak_kib=%ld "
	       "rss_freed_kib=%ld pss_freed_kib=%ld rss_1s_kib=%ld pss_1s_kib=%ld "
	       "rss_trim_kib=%ld pss_trim_kib=%ld trim_s=%.3f\n",
	       (unsigned long long)sum, kept, rss_peak, pss_peak, rss_freed, pss_freed,
	       rss_later, pss_later, rss_trim, pss_trim, trim_s);
	return 0;
}
