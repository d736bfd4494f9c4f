/*
 * glibc_next_to_bins.c - blocks over 512 B (glibc serves them) of many
 * sizes lost, each just before a freed chunk that glibc keeps in a bin of
 * its own: glibc's bins (in libc's data) then point at the freed chunk's
 * header, which lies in the last bytes of the lost block when the size is
 * 1..8 above a multiple of 16.  glibc's state is no root for blocks it
 * does not hold free: all are definitely lost, and the 32 B block the
 * first one points to is indirectly lost.  The last size is above the
 * mmap threshold (a chunk of its own).
 *
 * expect: definite 311732/10 indirect 32/1
 */
#include "common.h"

static const size_t size[] = { 520, 600, 1000, 1537, 2008, 3005, 4100, 9000, 20000, 270000 - 38 };
#define N (sizeof size / sizeof size[0])
static void *volatile kept;

NOINLINE static void lose_all(void)
{
	void *freed[N];
	for (unsigned i = 0; i < N; i++) {
		void **p = alloc_filled(size[i]);
		if (i == 0)
			p[3] = alloc_filled(32);
		sink = p;
		/* over tcache's 1032 B, each in a large bin of its own */
		freed[i] = alloc_filled(1100 + 200 * i);
	}
	sink = NULL;
	for (unsigned i = 0; i < N; i++)
		free(freed[i]);
	kept = alloc_filled(5000);   /* sorts the unsorted chunks into their bins */
}

int main(void)
{
	lose_all();
	clobber_stack();
	return 0;
}
