/*
 * pair.c N [noop] [mixed] - malloc+free pairs in a loop, for callgrind.
 *
 * Default: N malloc(64)+free pairs.  The runner takes the instruction count
 * of N and 2N iterations and of the same loop calling empty functions, so
 * (Ir(2N) - Ir(N)) / N minus the empty loop's figure is the cost of one
 * pair, calls through the PLT included.
 *
 * "mixed": each iteration frees the oldest of 64 live blocks and allocates
 * one of a size drawn from 16..512 B (a fixed table of 1024 sizes, the same
 * for every allocator), so the size classes change from call to call as in
 * real programs.  Its figure is reported with the loop included.
 */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void *fake_malloc(size_t n)
{
	__asm__ volatile("" : : "r"(n) : "memory");
	return (void *)&fake_malloc;
}

__attribute__((noinline)) static void fake_free(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

#define LIVE  64
#define SIZES 1024

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int noop = 0, mixed = 0;
	for (int i = 2; i < argc; i++) {
		noop |= strcmp(argv[i], "noop") == 0;
		mixed |= strcmp(argv[i], "mixed") == 0;
	}
	void *(*volatile m)(size_t) = noop ? fake_malloc : malloc;
	void (*volatile f)(void *) = noop ? fake_free : free;
	void *(*mm)(size_t) = m;
	void (*ff)(void *) = f;
	free(malloc(64));   /* warm up: first-use initialisation is not the fast path */
	if (!mixed) {
		for (long i = 0; i < n; i++) {
			void *p = mm(64);
			__asm__ volatile("" : : "r"(p) : "memory");
			ff(p);
		}
		return 0;
	}
	static unsigned short size[SIZES];
	static void *live[LIVE];
	unsigned x = 12345;
	for (int i = 0; i < SIZES; i++) {
		x = x * 1103515245u + 12345u;
		size[i] = 16 + (x >> 8) % 497;
	}
	for (int i = 0; i < LIVE; i++)
		live[i] = mm(size[i]);
	for (long i = 0; i < n; i++) {
		ff(live[i & (LIVE - 1)]);
		live[i & (LIVE - 1)] = mm(size[i & (SIZES - 1)]);
		__asm__ volatile("" : : "r"(live[i & (LIVE - 1)]) : "memory");
	}
	for (int i = 0; i < LIVE; i++)
		ff(live[i]);
	return 0;
}
