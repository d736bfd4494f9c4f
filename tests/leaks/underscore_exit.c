/*
 * underscore_exit.c - the program ends with _exit(): no atexit handler
 * runs, but the process still exits and its leaks are still leaks.  A block
 * main's live frame points to is reachable, so is a global's; one dropped
 * is definitely lost.  LeakSanitizer checks from an atexit handler and
 * says nothing here (rule in test_leaks.sh).
 *
 * expect: definite 100/1 indirect 0/0
 */
#include <unistd.h>

#include "common.h"

static void *volatile kept;

int main(void)
{
	void *volatile local = alloc_filled(48);
	(void)local;
	kept = alloc_filled(64);
	lose(100);
	clobber_stack();
	_exit(0);
}
