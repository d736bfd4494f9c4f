/*
 * alloc_apis.c - one block lost through every allocation API: malloc,
 * calloc, realloc (from NULL, growing, shrinking, from a pool size to a
 * glibc size), reallocarray, memalign, aligned_alloc (small and page
 * aligned), posix_memalign, valloc, strdup, strndup.  The sizes asked
 * for are what the checkers count:
 * 10 + 60 + 30 + 200 + 50 + 2000 + 40 + 100 + 256 + 8192 + 72 + 100 + 12 + 5.
 *
 * expect: definite 11127/14 indirect 0/0
 */
#include <malloc.h>

#include "common.h"

static void drop(void *p, size_t n)
{
	fill(p, n);
	sink = p;
	sink = NULL;
}

NOINLINE static void lose_all(void)
{
	drop(malloc(10), 10);
	drop(calloc(3, 20), 60);
	drop(realloc(NULL, 30), 30);
	drop(realloc(alloc_filled(20), 200), 200);
	drop(realloc(alloc_filled(300), 50), 50);
	drop(realloc(alloc_filled(100), 2000), 2000);
	drop(reallocarray(NULL, 4, 10), 40);
	drop(memalign(64, 100), 100);
	drop(aligned_alloc(128, 256), 256);
	drop(aligned_alloc(4096, 8192), 8192);
	void *p = NULL;
	if (posix_memalign(&p, 32, 72))
		abort();
	drop(p, 72);
	p = NULL;
	drop(valloc(100), 100);
	drop(strdup("lost string"), 12);
	drop(strndup("lost string", 4), 5);
}

int main(void)
{
	lose_all();
	clobber_stack();
	return 0;
}
