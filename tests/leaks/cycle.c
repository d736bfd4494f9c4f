/*
 * cycle.c - a ring of 3 blocks, no pointer into it from outside: one block
 * definitely lost (memcheck and pooltrace count the first), two indirectly.
 * LeakSanitizer calls every block of a pure cycle indirect (rule in
 * test_leaks.sh).  A second ring kept by a global is reachable.
 *
 * expect: definite 64/1 indirect 128/2
 */
#include "common.h"

static void *volatile kept;

NOINLINE static void **ring(void)
{
	void **a = alloc_filled(64), **b = alloc_filled(64), **c = alloc_filled(64);
	a[0] = b;
	b[0] = c;
	c[0] = a;
	return a;
}

NOINLINE static void lose_ring(void)
{
	sink = ring();
	sink = NULL;
}

int main(void)
{
	kept = ring();
	lose_ring();
	clobber_stack();
	return 0;
}
