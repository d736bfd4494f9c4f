/*
 * ctor_lib.c - allocations in a library's constructor (lib_ctor.so, linked,
 * so it runs before main and maybe before the profiler's): the 120 B block
 * it drops is definitely lost, the blocks its globals keep are reachable,
 * and so is the block the program stores in the table the constructor
 * allocated.  One block the program drops is definitely lost.
 *
 * expect: definite 220/2 indirect 0/0
 */
#include "common.h"

void lib_keep(int i, void *p);

int main(void)
{
	lib_keep(3, alloc_filled(64));
	lose(100);
	clobber_stack();
	return 0;
}
