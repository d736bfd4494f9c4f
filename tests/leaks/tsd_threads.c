/*
 * tsd_threads.c - pthread_setspecific values of other threads: the value
 * of a thread blocked in read() at exit is reachable (glibc keeps it in
 * the thread descriptor); a joined thread's value freed by its key's
 * destructor is gone.  One block dropped is definitely lost.
 *
 * expect: definite 100/1 indirect 0/0
 */
#include <pthread.h>
#include <unistd.h>

#include "common.h"

static pthread_key_t key[3];
static int pipefd[2], ready[2];

static void *blocked(void *arg)
{
	pthread_setspecific(key[2], alloc_filled(56));
	lose(100);
	clobber_stack();
	char c = 0;
	if (write(ready[1], &c, 1) != 1)
		abort();
	if (read(pipefd[0], &c, 1) < 0)
		abort();
	return NULL;
}

static void *joined(void *arg)
{
	pthread_setspecific(key[2], alloc_filled(56));
	pthread_setspecific(key[1], alloc_filled(600));
	return NULL;
}

int main(void)
{
	for (int i = 0; i < 3; i++)
		if (pthread_key_create(&key[i], free))
			return 1;
	if (pipe(pipefd) || pipe(ready))
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, joined, NULL);
	pthread_join(t, NULL);
	pthread_create(&t, NULL, blocked, NULL);
	char c;
	if (read(ready[0], &c, 1) != 1)
		return 1;
	clobber_stack();
	exit(0);
}
