/*
 * malloc_zero.c - zero-byte blocks are blocks: malloc(0), calloc(0, 8) and
 * memalign(32, 0) lost are 3 definitely lost blocks of 0 bytes; a
 * malloc(0) kept by a global (its address points at no byte) is
 * reachable.
 *
 * expect: definite 0/3 indirect 0/0
 */
#include <malloc.h>

#include "common.h"

static void *volatile kept;

NOINLINE static void lose_zero(void)
{
	sink = malloc(0);
	sink = calloc(0, 8);
	sink = memalign(32, 0);
	sink = NULL;
}

int main(void)
{
	kept = malloc(0);
	lose_zero();
	clobber_stack();
	return 0;
}
