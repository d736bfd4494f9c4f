/*
 * testutil.h - what the cmocka tests share: cmocka's includes in the order it
 * needs, and a helper to run a check in a forked child (for tests that need
 * a fresh allocator, e.g. another alignment mode).
 */
#ifndef POOLTRACE_TESTUTIL_H
#define POOLTRACE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run fn(arg) in a child process; returns its exit status (0 = passed),
 * or 128 + signal number if it died of a signal. */
static inline int run_in_child(int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 255;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* In a child: report a failed check and return its line as the status. */
#define CHILD_CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
	return 1; } } while (0)

#endif
