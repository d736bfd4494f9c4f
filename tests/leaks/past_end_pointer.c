/*
 * past_end_pointer.c - a pointer just past a block's last requested byte
 * does not keep it, even where the allocator rounded the block up (40 B
 * in a 48 B slot, 590 B in glibc's 600 usable bytes): memcheck and
 * LeakSanitizer count the bytes asked for.  The blocks are definitely
 * lost; the guards after them are kept by a global.
 *
 * expect: definite 694/3 indirect 0/0
 */
#include "common.h"

static char *volatile end40, *volatile end64, *volatile end590;
static void *volatile guard[3];

int main(void)
{
	end40 = (char *)alloc_filled(40) + 40;
	guard[0] = alloc_filled(40);
	end64 = (char *)alloc_filled(64) + 64;
	guard[1] = alloc_filled(64);
	end590 = (char *)alloc_filled(590) + 590;
	guard[2] = alloc_filled(590);
	clobber_stack();
	return 0;
}
