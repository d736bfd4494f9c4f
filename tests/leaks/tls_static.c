/*
 * tls_static.c - __thread variables of the program (static TLS) keep their
 * blocks: the main thread's, and those of a thread blocked in read() at
 * exit.  One block dropped by each thread is definitely lost.
 *
 * expect: definite 200/2 indirect 0/0
 */
#include <pthread.h>
#include <unistd.h>

#include "common.h"

static __thread void *tls_ptr;
static __thread char tls_pad[100];   /* a TLS block bigger than a word */
static __thread void *tls_ptr2;
static int pipefd[2], ready[2];

static void *thread(void *arg)
{
	tls_ptr = alloc_filled(48);
	tls_ptr2 = alloc_filled(1500);
	lose(100);
	clobber_stack();
	char c = 0;
	if (write(ready[1], &c, 1) != 1)
		abort();
	if (read(pipefd[0], &c, 1) < 0)   /* blocks until exit */
		abort();
	return NULL;
}

int main(void)
{
	tls_pad[0] = 1;
	tls_ptr = alloc_filled(64);
	tls_ptr2 = alloc_filled(700);
	lose(100);
	if (pipe(pipefd) || pipe(ready))
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	char c;
	if (read(ready[0], &c, 1) != 1)
		return 1;
	clobber_stack();
	exit(0);
}
