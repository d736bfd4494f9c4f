/*
 * misaligned_pointer.c - pointers stored at addresses that are not a
 * multiple of 8 (in a packed struct, in a byte buffer) are not seen by
 * memcheck or LeakSanitizer (by default), nor by pooltrace: their blocks
 * are definitely lost.  The same pointers stored aligned keep theirs.
 *
 * expect: definite 168/3 indirect 0/0
 */
#include "common.h"

static struct __attribute__((packed)) {
	char tag;
	void *p;
} packed;
static char bytes[64];
static void *volatile aligned_copy;

int main(void)
{
	packed.tag = 1;
	packed.p = alloc_filled(24);
	void *q = alloc_filled(64);
	memcpy(bytes + 13, &q, sizeof q);
	q = alloc_filled(80);
	memcpy(bytes + 36, &q, sizeof q);
	q = NULL;
	aligned_copy = alloc_filled(32);
	clobber_stack();
	return 0;
}
