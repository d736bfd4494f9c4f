/*
 * fork_signal.c [-n FORKS] - fork from a signal handler in a single-threaded
 * process (run by tests/test_fork.sh).
 *
 * The main loop allocates and frees blocks of the pools' sizes, enough to
 * take pools from the arenas, give them back and purge them (under the
 * allocator's lock).  A
 * timer signal interrupts it wherever it is, inside malloc or free too; the
 * handler forks.  The child allocates small blocks, checks them and exits;
 * the parent's handler waits for it.  glibc's fork takes no lock in a
 * single-threaded process, so that this works; a preloaded allocator that
 * waits in its atfork handler for a lock the interrupted malloc holds hangs
 * here, and the caller's timeout turns that into a failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t forks, failures, want = 300, last_status;

static void on_timer(int sig)
{
	(void)sig;
	if (forks >= want)
		return;
	int e = errno;
	pid_t pid = fork();
	if (pid == 0) {
		/* the child: its heap is as the interrupted call left it, which
		 * it never resumes.  It allocates small blocks (the pools'): a
		 * glibc malloc here could find glibc's heap half-updated, under
		 * glibc alone too */
		char *a = malloc(24), *b = malloc(300);
		if (!a || !b)
			_exit(2);
		memset(a, 1, 24);
		memset(b, 2, 300);
		if (a[23] != 1 || b[299] != 2)
			_exit(3);
		_exit(0);   /* no free: debug mode's would release older blocks,
		               some of them glibc's */
	}
	if (pid < 0) {
		failures++;
	} else {
		int st;
		while (waitpid(pid, &st, 0) < 0)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			last_status = st;
			failures++;
		}
		forks++;
	}
	errno = e;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "-n") == 0)
		want = atoi(argv[2]);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_timer;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };
	setitimer(ITIMER_REAL, &it, NULL);

	/* 2 MiB of blocks of the largest classes, all freed: pools go from the
	 * arenas to the heap and back, and are purged (all under the
	 * allocator's lock).  No larger size: with POOLTRACE_PROFILE the
	 * recorder's thread makes the process multi-threaded, and then glibc's
	 * own fork takes glibc's malloc locks, which a glibc malloc it
	 * interrupted may hold */
	enum { N = 4096 };
	static void *p[N];
	unsigned k = 1;
	while (forks < want && !failures) {
		for (int i = 0; i < N; i++) {
			k = k * 1103515245u + 12345u;
			size_t n = (k >> 16) % 8 == 0 ? 8 + (k >> 8) % 64 : 400 + (k >> 16) % 4 * 32;
			p[i] = malloc(n);
			if (!p[i])
				return 1;
			memset(p[i], i, n < 64 ? n : 64);
		}
		for (int i = 0; i < N; i++)
			free(p[(i * 7) % N]);
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	if (failures) {
		fprintf(stderr, "fork_signal: a child failed after %d forks (status %#x)\n",
		        (int)forks, (unsigned)last_status);
		return 1;
	}
	printf("fork_signal: %d forks from a signal handler: ok\n", (int)forks);
	return 0;
}
