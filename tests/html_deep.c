/*
 * html_deep.c - for tests/test_html.sh: at the peak, one wide stack (a
 * 1 MiB buffer from big_buffer, three calls deep) and 100 blocks of 16
 * bytes from the bottom of a recursion 60 calls deep, so that their stacks
 * are cut at the recording's depth (32) and each is a sliver of the flame
 * graph: the page must mark them "[truncated]" and not grow a thousand
 * pixels of slivers under the wide box.
 */
#include <stdlib.h>
#include <string.h>

static void *keep[101];

__attribute__((noinline)) static void *big_buffer(void)
{
	void *p = malloc(1 << 20);
	memset(p, 1, 1 << 20);
	return p;
}

__attribute__((noinline)) static void deep_alloc(int depth, int i)
{
	if (depth > 0) {
		deep_alloc(depth - 1, i);
		__asm__ volatile("" ::: "memory");   /* not a tail call */
		return;
	}
	keep[i] = malloc(16);
}

int main(void)
{
	for (int i = 0; i < 100; i++)
		deep_alloc(60, i);
	keep[100] = big_buffer();
	for (int i = 0; i <= 100; i++)
		free(keep[i]);
	return 0;
}
