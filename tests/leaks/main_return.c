/*
 * main_return.c - main returns: its locals are dead, and a block only they
 * pointed to is definitely lost, as memcheck and LeakSanitizer say (both
 * scan from the stack pointer at exit, and glibc's exit path has written
 * over main's frame).  A pointer main stored in argv[], above every frame
 * (on the stack the kernel set up), keeps its block.
 *
 * expect: definite 160/2 indirect 0/0
 */
#include "common.h"

int main(int argc, char **argv)
{
	void *volatile local = alloc_filled(64);
	(void)local;
	lose(96);
	argv[0] = alloc_filled(40);   /* argv[] is writable */
	clobber_stack();
	return 0;
}
