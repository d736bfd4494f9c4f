/*
 * freed_header.c - a program that writes over the chunk header of a glibc
 * block it freed, then allocates that size again (run by
 * tests/test_dropin.sh): glibc's malloc finds the damage and aborts
 * (SIGABRT), and so must a preload that keeps freed blocks for reuse.
 */
#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) static void free_then_damage(void *p)
{
	free(p);
	*(volatile size_t *)((char *)p - sizeof(size_t)) = 1;   /* the size field */
}

int main(void)
{
	void *a = malloc(4096), *b = malloc(4096);
	sink = b;
	fclose(stderr);   /* glibc's message: not the test's */
	free_then_damage(a);
	sink = malloc(4096);
	printf("freed_header: the damage was not found\n");
	return 0;
}
