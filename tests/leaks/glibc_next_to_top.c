/*
 * glibc_next_to_top.c SIZE - a block of SIZE bytes (over 512: glibc serves
 * it) lost as the last chunk before glibc's top chunk: main_arena's top
 * pointer (in libc's data) points at the top chunk's header, in the last
 * bytes of the lost block.  glibc's state is no root: it is definitely
 * lost, and the 48 B block it points to indirectly.
 *
 * expect 520: definite 520/1 indirect 48/1
 * expect 600: definite 600/1 indirect 48/1
 * expect 4001: definite 4001/1 indirect 48/1
 * expect 100008: definite 100008/1 indirect 48/1
 */
#include "common.h"

static void *volatile kept;

NOINLINE static void lose_last(size_t n)
{
	void **p = alloc_filled(n);
	p[1] = alloc_filled(48);
	sink = p;
	sink = NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	kept = alloc_filled(2000);
	lose_last(strtoul(argv[1], NULL, 0));
	clobber_stack();
	return 0;
}
