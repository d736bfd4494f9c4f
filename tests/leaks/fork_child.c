/*
 * fork_child.c - forked children that leak: one ends with exit() (80 B in
 * 2 blocks lost), one with _exit() (24 B lost), as forked children often
 * do; the parent waits for both and loses 100 B.  The counts are summed
 * over the three processes.  LeakSanitizer does not check the child that
 * calls _exit (rule in test_leaks.sh).
 *
 * expect: definite 204/4 indirect 0/0
 */
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static void *volatile kept;

int main(void)
{
	kept = alloc_filled(64);
	pid_t a = fork();
	if (a == 0) {
		lose(40);
		lose(40);
		clobber_stack();
		exit(0);
	}
	pid_t b = fork();
	if (b == 0) {
		lose(24);
		clobber_stack();
		_exit(0);
	}
	int st;
	if (waitpid(a, &st, 0) != a || waitpid(b, &st, 0) != b)
		return 1;
	lose(100);
	clobber_stack();
	return 0;
}
