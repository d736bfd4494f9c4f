/*
 * direct.c - blocks whose every pointer is dropped: definitely lost.
 * Three pool sizes and one glibc size, one of them twice.
 *
 * expect: definite 1436/5 indirect 0/0
 */
#include "common.h"

int main(void)
{
	lose(8);
	lose(100);
	lose(100);
	lose(512);
	lose(716);
	clobber_stack();
	return 0;
}
