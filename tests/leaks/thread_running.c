/*
 * thread_running.c - a thread running (spinning in user code) at exit keeps
 * the blocks its live frames point to.  A block it dropped is definitely
 * lost.
 *
 * expect: definite 100/1 indirect 0/0
 */
#include <pthread.h>

#include "common.h"

static volatile int started;

NOINLINE static void spin(void *volatile *held)
{
	started = 1;
	for (;;)
		if (!*held)
			abort();
}

static void *thread(void *arg)
{
	void *volatile held = alloc_filled(56);
	void *volatile big = alloc_filled(5000);
	(void)big;
	lose(100);
	clobber_stack();
	spin(&held);
	return NULL;
}

int main(void)
{
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	while (!started)
		;
	exit(0);
}
