/*
 * thread_exited.c - threads that exited and were joined: a block one of
 * them kept only on its stack is definitely lost (the stack is dead, even
 * if glibc keeps it mapped for the next thread); blocks they handed over
 * through a global are reachable; a block one dropped is definitely lost.
 *
 * expect: definite 152/2 indirect 0/0
 */
#include <pthread.h>

#include "common.h"

static void *volatile handed[4];

static void *thread(void *arg)
{
	long i = (long)arg;
	handed[i] = alloc_filled(32 + 8 * i);
	if (i == 0)
		lose(100);
	if (i == 1) {
		void *volatile only_here = alloc_filled(52);
		(void)only_here;
	}
	return NULL;
}

int main(void)
{
	for (long i = 0; i < 4; i++) {
		pthread_t t;
		pthread_create(&t, NULL, thread, (void *)i);
		pthread_join(t, NULL);
	}
	clobber_stack();
	return 0;
}
