/*
 * interior_pointer.c - pointers into the middle of blocks count, as
 * LeakSanitizer and pooltrace count them: a pool block and a glibc block
 * kept by a global pointing inside them, one by an odd address inside it
 * (stored at an aligned place), are reachable; a lost block pointing
 * into the middle of another makes that one indirectly lost.  memcheck
 * calls the first three "possibly lost", which is not lost (rule in
 * test_leaks.sh).
 *
 * expect: definite 128/1 indirect 40/1
 */
#include "common.h"

static char *volatile mid_pool, *volatile mid_glibc, *volatile odd;

NOINLINE static void lose_pair(void)
{
	char **a = alloc_filled(128);
	char *b = alloc_filled(40);
	a[5] = b + 20;
	sink = a;
	sink = NULL;
}

int main(void)
{
	mid_pool = (char *)alloc_filled(64) + 24;
	mid_glibc = (char *)alloc_filled(3000) + 1500;
	odd = (char *)alloc_filled(100) + 33;
	lose_pair();
	clobber_stack();
	return 0;
}
