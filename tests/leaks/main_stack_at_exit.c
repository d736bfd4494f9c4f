/*
 * main_stack_at_exit.c - exit() called three calls below main, while main's
 * locals and the frames between hold pointers: their blocks are reachable
 * (the frames are live).  One block dropped is definitely lost.
 *
 * expect: definite 100/1 indirect 0/0
 */
#include "common.h"

NOINLINE static void finish(void *arg)
{
	void *volatile mine = alloc_filled(48);
	(void)mine;
	(void)arg;
	exit(0);
}

NOINLINE static void middle(void)
{
	void *volatile mine = alloc_filled(2000);
	finish(mine);
}

int main(void)
{
	void *volatile local = alloc_filled(64);
	char *volatile array[4] = { 0, 0, alloc_filled(32), 0 };
	lose(100);
	clobber_stack();
	middle();
	(void)local;
	(void)array;
	return 1;
}
