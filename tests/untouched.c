/*
 * untouched.c - the bytes of a block the program did not write are what
 * the allocator left there, with or without the preload's modes (run by
 * tests/test_dropin.sh).
 *
 * For each size from 8 to 1000 bytes: fill a block with a pattern, free
 * it, allocate the same size again (the thread cache, glibc's tcache or
 * the pool's list gives the same block back), and check that bytes 16 and
 * up still hold the pattern: the first two words are the allocator's
 * (a link and a key word, in the pools as in glibc's tcache); the rest is
 * nobody's business.  A profiler that clears the start of every new block
 * (to hide free-list links from its leak scan) changes what a program that
 * reads memory it never wrote sees, and fails here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	int bad = 0;
	for (size_t n = 8; n <= 1000; n += 8) {
		unsigned char *a = malloc(n);
		if (!a)
			return 2;
		memset(a, 0xa5, n);
		__asm__ volatile("" : : "r"(a) : "memory");   /* no dead store */
		free(a);
		unsigned char *b = malloc(n);
		if (!b)
			return 2;
		if (b != a)
			continue;   /* not the same block: nothing to compare */
		for (size_t i = 16; i < n; i++)
			if (b[i] != 0xa5) {
				if (bad++ < 5)
					printf("size %zu: byte %zu is %#x, not 0xa5\n", n, i, b[i]);
				break;
			}
		free(b);
	}
	if (bad)
		return 1;
	printf("untouched: ok\n");
	return 0;
}
