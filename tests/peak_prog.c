/*
 * peak_prog.c - programs whose peak of the live heap is known, for
 * tests/test_peak.sh.
 *
 *   peak_prog spike   keeps 40,000 B (steady_alloc), sleeps 250 ms, then
 *                     allocates 100 blocks of 2,000 B (spike_alloc) and frees
 *                     them at once, sleeps 250 ms and frees the rest: the
 *                     peak is 240,000 B, 200,000 of them spike_alloc's in
 *                     100 blocks.  Recorded with POOLTRACE_INTERVAL_MS=100 the
 *                     spike falls between two snapshots: no periodic one
 *                     comes in the microseconds it lasts, and the recorder
 *                     takes no peak snapshot for it (it sees a thread's live
 *                     bytes only once they move by 256 KiB, more than this
 *                     program ever holds).
 *   peak_prog short   allocates 3 blocks of 1,000 B, frees them and exits
 *                     at once: the peak, 3,000 B, comes long before the
 *                     first periodic snapshot (record with a long interval),
 *                     well under a millisecond after the start.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *volatile sink;

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts))
		;
}

__attribute__((noinline)) static void *steady_alloc(size_t n)
{
	void *p = malloc(n);
	memset(p, 1, n);
	return p;
}

__attribute__((noinline)) static void spike_alloc(void)
{
	void *b[100];
	for (int i = 0; i < 100; i++) {
		b[i] = malloc(2000);
		sink = b[i];
	}
	for (int i = 0; i < 100; i++)
		free(b[i]);
}

__attribute__((noinline)) static void short_alloc(void)
{
	void *b[3];
	for (int i = 0; i < 3; i++) {
		b[i] = malloc(1000);
		sink = b[i];
	}
	for (int i = 0; i < 3; i++)
		free(b[i]);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "short")) {
		short_alloc();
		return 0;
	}
	void *keep = steady_alloc(40000);
	pause_ms(250);
	spike_alloc();
	pause_ms(250);
	free(keep);
	return 0;
}
