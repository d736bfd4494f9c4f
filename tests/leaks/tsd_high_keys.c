/*
 * tsd_high_keys.c - pthread_setspecific values of keys 32 and up: glibc
 * keeps them in arrays of 32 it allocates (with calloc) on first use, one
 * per thread, pointed to by the thread descriptor.  The values of key 40
 * in the main thread and in a thread blocked in read() at exit are
 * reachable.  One block dropped is definitely lost.
 *
 * expect: definite 100/1 indirect 0/0
 */
#include <pthread.h>
#include <unistd.h>

#include "common.h"

static pthread_key_t key[41];
static int pipefd[2], ready[2];

static void *blocked(void *arg)
{
	pthread_setspecific(key[40], alloc_filled(600));
	clobber_stack();
	char c = 0;
	if (write(ready[1], &c, 1) != 1)
		abort();
	if (read(pipefd[0], &c, 1) < 0)
		abort();
	return NULL;
}

int main(void)
{
	for (int i = 0; i < 41; i++)
		if (pthread_key_create(&key[i], NULL))
			return 1;
	if (pipe(pipefd) || pipe(ready))
		return 1;
	pthread_setspecific(key[40], alloc_filled(72));
	lose(100);
	pthread_t t;
	pthread_create(&t, NULL, blocked, NULL);
	char c;
	if (read(ready[0], &c, 1) != 1)
		return 1;
	clobber_stack();
	exit(0);
}
