/*
 * common.h - what the bench workloads share: a fixed-seed RNG, RSS readings,
 * and the one result line the runner parses:
 *
 *   result: checksum=HEX [key=value ...]
 *
 * The checksum depends only on the seed and on the bytes read back from the
 * blocks, so an allocator that hands out overlapping or unwritable memory
 * changes it and cannot look fast.  Workloads never time themselves: the
 * runner measures wall time and peak RSS from outside.
 */
#ifndef POOLTRACE_BENCH_COMMON_H
#define POOLTRACE_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: good enough, and identical everywhere */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* A size in [lo, hi]. */
static inline size_t rng_size(uint64_t *s, size_t lo, size_t hi)
{
	return lo + (size_t)(rng_next(s) % (hi - lo + 1));
}

/* Current resident set size in KiB, from /proc/self/statm. */
static inline long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Proportional set size in KiB, from /proc/self/smaps_rollup (0 where the
 * kernel has none): a page mapped twice in the process counts once, where
 * RSS counts it at each address. */
static inline long pss_kib(void)
{
	char line[256];
	long v = 0;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Pss: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* A monotonic clock in seconds, for a phase a workload times itself. */
static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Scale the work: BENCH_SCALE (a float, default 1) from the environment. */
static inline double bench_scale(void)
{
	const char *s = getenv("BENCH_SCALE");
	double v = s ? atof(s) : 1.0;
	return v > 0 ? v : 1.0;
}

/* Write a recognisable pattern into a block, and fold it back in. */
static inline void touch(unsigned char *p, size_t n, uint64_t tag)
{
	p[0] = (unsigned char)tag;
	p[n - 1] = (unsigned char)(tag >> 8);
	if (n > 16)
		p[n / 2] = (unsigned char)(tag >> 16);
}

static inline uint64_t fold(const unsigned char *p, size_t n, uint64_t acc)
{
	acc = acc * 31 + p[0];
	acc = acc * 31 + p[n - 1];
	if (n > 16)
		acc = acc * 31 + p[n / 2];
	return acc;
}

#endif
