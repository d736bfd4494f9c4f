/*
 * exit_from_thread.c - a thread calls exit() while main waits in
 * pthread_join: main's stack, its __thread variable and its
 * pthread_setspecific value keep their blocks, and so do the exiting
 * thread's.  One block dropped is definitely lost.
 *
 * expect: definite 100/1 indirect 0/0
 */
#include <pthread.h>

#include "common.h"

static __thread void *tls_ptr;
static pthread_key_t key;

static void *thread(void *arg)
{
	tls_ptr = alloc_filled(24);
	void *volatile mine = alloc_filled(40);
	(void)mine;
	lose(100);
	clobber_stack();
	exit(0);
}

int main(void)
{
	pthread_key_create(&key, NULL);
	void *volatile local = alloc_filled(64);
	(void)local;
	tls_ptr = alloc_filled(32);
	pthread_setspecific(key, alloc_filled(48));
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	pthread_join(t, NULL);
	return 1;
}
