/*
 * reused_block.c - blocks handed out again after a free, whose first words
 * the program never writes: what an allocator left there (a free-list
 * link, which would point at the block that followed on the list) must
 * not keep anything.  Pool and glibc sizes: two blocks of a size are
 * freed, the second first, so that the first lies on top of a list with a
 * link to the second; both are allocated again; the first is kept in a
 * global with only its tail written, the second is dropped: definitely
 * lost, not reached through the old link.
 *
 * expect: definite 2148/2 indirect 0/0
 */
#include "common.h"

static void *keep[2];

NOINLINE static void round_of(size_t n, int k)
{
	void *a = malloc(n), *b = malloc(n);
	sink = a;
	sink = b;
	free(b);
	free(a);                         /* a on top, linked to b */
	void *a2 = malloc(n), *b2 = malloc(n);
	fill((char *)a2 + 64, n - 64);   /* the first 64 bytes as they were left */
	fill(b2, n);
	keep[k] = a2;
	sink = b2;
	sink = NULL;                     /* b2: lost */
}

int main(void)
{
	round_of(100, 0);                /* the pools */
	round_of(2048, 1);               /* glibc's, through the cache of big blocks */
	clobber_stack();
	return 0;
}
