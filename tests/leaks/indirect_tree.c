/*
 * indirect_tree.c - a binary tree of 7 nodes whose root pointer is dropped:
 * the root is definitely lost, the 6 nodes below it indirectly.  A second
 * tree of 7 kept by a global is reachable, nodes and all.
 *
 * expect: definite 48/1 indirect 288/6
 */
#include "common.h"

struct node {
	struct node *l, *r;
	char pad[32];
};

static struct node *volatile kept;

NOINLINE static struct node *tree(int depth)
{
	if (!depth)
		return NULL;
	struct node *n = alloc_filled(sizeof *n);
	n->l = tree(depth - 1);
	n->r = tree(depth - 1);
	return n;
}

NOINLINE static void lose_tree(void)
{
	sink = tree(3);
	sink = NULL;
}

int main(void)
{
	kept = tree(3);
	lose_tree();
	clobber_stack();
	return 0;
}
