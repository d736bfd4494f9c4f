/*
 * pair.c N [noop] - N malloc(64)+free pairs in a loop, for callgrind: the
 * runner takes the instruction count of N and 2N iterations and of the same
 * loop calling empty functions, so (Ir(2N) - Ir(N)) / N minus the empty
 * loop's figure is the cost of one pair, calls through the PLT included.
 */
#include <stdlib.h>

__attribute__((noinline)) static void *fake_malloc(size_t n)
{
	__asm__ volatile("" : : "r"(n) : "memory");
	return (void *)&fake_malloc;
}

__attribute__((noinline)) static void fake_free(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int noop = argc > 2;
	void *(*volatile m)(size_t) = noop ? fake_malloc : malloc;
	void (*volatile f)(void *) = noop ? fake_free : free;
	void *(*mm)(size_t) = m;
	void (*ff)(void *) = f;
	free(malloc(64));   /* warm up: first-use initialisation is not the fast path */
	for (long i = 0; i < n; i++) {
		void *p = mm(64);
		__asm__ volatile("" : : "r"(p) : "memory");
		ff(p);
	}
	return 0;
}
