/* rec_lib.c - a library that rec_prog loads with dlopen: its allocations
 * must be attributed to it by the module map written after the dlopen. */
#include <stdlib.h>

__attribute__((noinline)) void *rec_lib_alloc(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}
