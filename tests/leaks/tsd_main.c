/*
 * tsd_main.c - a value stored with pthread_setspecific in the main thread
 * is reachable: glibc keeps the first 32 keys' values in the thread
 * descriptor.  One block dropped is definitely lost.
 *
 * expect: definite 100/1 indirect 0/0
 */
#include <pthread.h>

#include "common.h"

int main(void)
{
	pthread_key_t key[4];
	for (int i = 0; i < 4; i++)
		if (pthread_key_create(&key[i], NULL))
			return 1;
	pthread_setspecific(key[3], alloc_filled(48));
	lose(100);
	clobber_stack();
	return 0;
}
