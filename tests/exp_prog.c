/*
 * exp_prog.c - a host program with known allocations, for the export test
 * (test_export.sh records it and checks every export format):
 *
 *   alloc_t  300 B, freed at once (a temporary)
 *   alloc_a  3 x 1000 B from two lines of main, kept to the end (the leak)
 *   alloc_b  200 B, freed after the peak
 *   alloc_c  5000 B, freed right after the peak (a temporary too)
 *   alloc_d  50 B, kept (under 1% of the peak, over 1% at the end)
 *
 * The peak of the live heap is 8250 B: alloc_c 5000, alloc_a 3000, alloc_b
 * 200, alloc_d 50; at the end alloc_a 3000 and alloc_d 50 are left.
 */
#include <stdlib.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static void *volatile keep[4];

NOINLINE void *alloc_t(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");   /* not a tail call: its own frame */
	return p;
}

NOINLINE void *alloc_a(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");   /* not a tail call: its own frame */
	return p;
}

NOINLINE void *alloc_b(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");   /* not a tail call: its own frame */
	return p;
}

NOINLINE void *alloc_c(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");   /* not a tail call: its own frame */
	return p;
}

NOINLINE void *alloc_d(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");   /* not a tail call: its own frame */
	return p;
}

int main(void)
{
	free(alloc_t(300));
	keep[0] = alloc_a(1000);
	for (int i = 1; i < 3; i++)     /* a second stack: the same function */
		keep[i] = alloc_a(1000);
	keep[3] = alloc_d(50);
	void *b = alloc_b(200);
	void *c = alloc_c(5000);
	usleep(30000);    /* a few snapshots at the peak */
	free(c);
	free(b);
	return 0;
}
