/*
 * fork_stdio.c [-f FORKS] - fork racing stdio (run by tests/test_fork.sh).
 *
 * Readers loop over getline on a stream of their own, writers over fputs
 * and fflush on theirs, and both also hold their stream's lock
 * (flockfile) around a burst of allocations that takes pools from the
 * arenas and gives them back (the allocator's lock).  A flusher calls
 * fflush(NULL), which holds the stdio list lock while it waits for each
 * stream's lock.  Two threads fork, FORKS times in all; each child
 * allocates, writes to a stream and exits.  If fork's locks are taken in the wrong
 * order (the allocator's before stdio's list lock) the three form a cycle
 * and the program hangs: the caller runs it under a timeout.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READERS 2
#define WRITERS 2

static atomic_int stop;

/* Enough blocks of the largest classes to need a dozen new pools, then all
 * freed: the pools go back to their arenas (the allocator's lock, both ways). */
static void churn(unsigned seed)
{
	void *p[128];
	for (unsigned i = 0; i < 128; i++) {
		p[i] = malloc(400 + (seed + i) % 4 * 32);
		if (!p[i])
			abort();
		memset(p[i], (int)i, 16);
	}
	for (unsigned i = 0; i < 128; i++)
		free(p[i]);
}

/* A stream of its own (tmpfile: on stdio's list of streams) holding a few
 * lines; getline mallocs a new buffer for each. */
static void *reader(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	FILE *f = tmpfile();
	if (!f || fputs("one line\na longer line of the stream, to grow the buffer\n"
	                "and a third one\n", f) < 0)
		abort();
	while (!atomic_load(&stop)) {
		rewind(f);
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, f) > 0) {
			flockfile(f);
			churn(k++);
			funlockfile(f);
			free(line);
			line = NULL;
			cap = 0;
		}
		free(line);
	}
	fclose(f);
	return NULL;
}

static void *writer(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	FILE *f = tmpfile();
	if (!f)
		abort();
	while (!atomic_load(&stop)) {
		rewind(f);
		for (int i = 0; i < 20; i++) {
			fputs("some text for the stream\n", f);
			flockfile(f);
			churn(k++);
			funlockfile(f);
			fflush(f);
		}
	}
	fclose(f);
	return NULL;
}

static void *flusher(void *arg)
{
	(void)arg;
	/* a pause between flushes: the list lock is not fair, and a flusher
	 * that takes it back at once would starve the forks (under glibc too) */
	while (!atomic_load(&stop)) {
		fflush(NULL);
		usleep(20);
	}
	return NULL;
}

#define FORKERS 2

static int forks = 300;
static atomic_int failed;

/* FORKS / FORKERS forks; each child allocates, writes and exits */
static void *forker(void *arg)
{
	int id = (int)(uintptr_t)arg;
	for (int i = id; i < forks && !atomic_load(&failed); i += FORKERS) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			atomic_store(&failed, 1);
			break;
		}
		if (pid == 0) {
			churn((unsigned)i);
			char *s = malloc(2000);   /* glibc's share too */
			if (!s)
				_exit(3);
			snprintf(s, 2000, "child %d\n", i);
			FILE *f = fopen("/dev/null", "w");
			if (!f || fputs(s, f) < 0 || fclose(f) != 0)
				_exit(4);
			free(s);
			_exit(0);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "fork %d: child failed (status %#x)\n", i, st);
			atomic_store(&failed, 1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "-f") == 0)
		forks = atoi(argv[2]);
	pthread_t t[READERS + WRITERS + 1], f[FORKERS];
	int n = 0;
	for (int i = 0; i < READERS; i++)
		pthread_create(&t[n++], NULL, reader, (void *)(uintptr_t)(i * 7));
	for (int i = 0; i < WRITERS; i++)
		pthread_create(&t[n++], NULL, writer, (void *)(uintptr_t)(i * 5 + 1));
	pthread_create(&t[n++], NULL, flusher, NULL);
	for (int i = 0; i < FORKERS; i++)
		pthread_create(&f[i], NULL, forker, (void *)(uintptr_t)i);
	for (int i = 0; i < FORKERS; i++)
		pthread_join(f[i], NULL);
	atomic_store(&stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&failed))
		return 1;
	printf("fork_stdio: %d forks: ok\n", forks);
	return 0;
}
