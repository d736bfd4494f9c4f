/*
 * globals.c - blocks kept by the program's globals are reachable: in .data,
 * in .bss, a function's static, a field in the middle of a global struct
 * and an array element; one block whose global pointer was overwritten is
 * definitely lost.
 *
 * expect: definite 96/1 indirect 0/0
 */
#include "common.h"

void *in_data = (void *)1;   /* initialized: .data */
void *in_bss;                /* .bss */
struct { long a, b; void *p; long c; } in_struct = { 1, 2, 0, 3 };
void *in_array[16];
static void *volatile overwritten;

NOINLINE static void *keep_static(void)
{
	static void *mine;
	if (!mine)
		mine = alloc_filled(40);
	return mine;
}

int main(void)
{
	in_data = alloc_filled(24);
	in_bss = alloc_filled(32);
	in_struct.p = alloc_filled(56);
	in_array[11] = alloc_filled(1000);
	keep_static();
	overwritten = alloc_filled(96);
	overwritten = NULL;
	clobber_stack();
	return 0;
}
