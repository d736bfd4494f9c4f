/*
 * thread_never_malloc.c - a live thread that never calls malloc holds the
 * only pointer to a block (main handed it over through a pipe, then
 * forgot it): the block is reachable.  A block main dropped is definitely
 * lost.
 *
 * expect: definite 100/1 indirect 0/0
 */
#include <pthread.h>
#include <unistd.h>

#include "common.h"

static int to_thread[2], ready[2];

static void *thread(void *arg)
{
	void *volatile held = NULL;
	if (read(to_thread[0], (void *)&held, sizeof held) != sizeof held)
		abort();
	char c = 0;
	if (write(ready[1], &c, 1) != 1)
		abort();
	if (read(to_thread[0], &c, 1) < 0)   /* blocks until exit */
		abort();
	return NULL;
}

NOINLINE static void hand_over(void)
{
	void *p = alloc_filled(80);
	if (write(to_thread[1], &p, sizeof p) != sizeof p)
		abort();
	p = NULL;
}

int main(void)
{
	if (pipe(to_thread) || pipe(ready))
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	hand_over();
	lose(100);
	char c;
	if (read(ready[0], &c, 1) != 1)
		return 1;
	clobber_stack();
	exit(0);
}
