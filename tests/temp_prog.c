/*
 * temp_prog.c - temporary allocations with a known count, by heaptrack's
 * rule: a free whose block has the info (size and stack) of the
 * allocation just before it, with no event in between, is a temporary.
 *
 * A queue of 8 nodes: each of 1000 rounds allocates a node and frees the
 * oldest (another block of the same info: a temporary from round 8 on,
 * 992 of them); every third round allocates a 100 B block and frees it at
 * once (334 more).  The 8 nodes freed at the end follow a free: none.
 * Total 1326 (heaptrack counts the same, plus its own libstdc++'s).
 */
#include <stdlib.h>
#include <string.h>
static void *volatile q[8];
__attribute__((noinline)) static void *node(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *other(size_t n) { return malloc(n); }
int main(void)
{
	for (int i = 0; i < 1000; i++) {
		void *p = node(40);
		free(q[i % 8]);          /* the oldest node: a temporary by heaptrack's rule */
		q[i % 8] = p;
		if (i % 3 == 0) {
			void *t = other(100);
			free(t);             /* the block just allocated */
		}
	}
	for (int i = 0; i < 8; i++)
		free(q[i]);
	return 0;
}
