/*
 * dbgsym_prog.c - heap errors in a program built with -g but without
 * -rdynamic, whose functions dladdr cannot name: the debug reports name
 * them, with file:line, through `pooltrace symbolize` (tests/test_debug.sh).
 *
 *   double     frees a block twice (alloc_victim, the example)
 *   overflow   writes 1 byte past a 32-byte block (overflow_victim)
 *   host       run with POOLTRACE_DEBUG=warn: three double frees by a
 *              program with a SIGCHLD handler that reaps every child; the
 *              reports leave it no SIGCHLD, no child, no new descriptor,
 *              and errno as it was; prints "host ok" or what was disturbed
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void *volatile sink;
static volatile sig_atomic_t sigchld, reaped;

__attribute__((noinline)) void alloc_victim(void)
{
	char *p = malloc(24);
	sink = p;
	free(p);
	free(p);
}

__attribute__((noinline)) void overflow_victim(void)
{
	char *p = malloc(32);
	memset(p, 'x', 33);
	free(p);
}

static void on_sigchld(int sig)
{
	int e = errno;
	sigchld++;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		reaped++;
	errno = e;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int host(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigchld;
	sigaction(SIGCHLD, &sa, NULL);
	int fds = count_fds(), bad = 0;
	for (int i = 0; i < 3; i++) {
		char *p = malloc(40);
		sink = p;
		free(p);
		errno = 1234;
		free(p);
		if (errno != 1234) {
			printf("errno %d after a report, not 1234\n", errno);
			bad = 1;
		}
	}
	if (sigchld || reaped) {
		printf("%d SIGCHLD, %d children reaped by the program\n", (int)sigchld, (int)reaped);
		bad = 1;
	}
	if (waitpid(-1, NULL, WNOHANG | __WALL) != -1 || errno != ECHILD) {
		printf("a child is left\n");
		bad = 1;
	}
	if (count_fds() != fds) {
		printf("%d descriptors open, %d before\n", count_fds(), fds);
		bad = 1;
	}
	struct sigaction now;
	sigaction(SIGCHLD, NULL, &now);
	if (now.sa_handler != on_sigchld) {
		printf("the SIGCHLD handler was changed\n");
		bad = 1;
	}
	if (!bad)
		printf("host ok\n");
	return bad;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (strcmp(m, "double") == 0)
		alloc_victim();
	else if (strcmp(m, "overflow") == 0)
		overflow_victim();
	else if (strcmp(m, "host") == 0)
		return host();
	else
		return fprintf(stderr, "usage: dbgsym_prog double|overflow|host\n"), 2;
	return 0;
}
