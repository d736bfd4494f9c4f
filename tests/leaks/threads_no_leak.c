/*
 * threads_no_leak.c - threads created and joined, one after another and
 * four at a time, some detached; each allocates and frees, keeps a
 * pthread_setspecific value freed by its destructor and a __thread pointer
 * freed before it returns (the detached ones say they are done from a
 * later key's destructor).  Nothing is lost: pooltrace leaks --fail-on-leak
 * must pass.
 *
 * expect: definite 0/0 indirect 0/0
 */
#include <pthread.h>
#include <unistd.h>

#include "common.h"

static pthread_key_t key, done_key;
static __thread void *tls;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int detached_done;

static void *thread(void *arg)
{
	void *p[8];
	for (int i = 0; i < 8; i++)
		p[i] = alloc_filled(16 + 100 * (size_t)i);
	pthread_setspecific(key, alloc_filled(40));
	tls = alloc_filled(24);
	for (int i = 0; i < 8; i++)
		free(p[i]);
	free(tls);
	tls = NULL;
	if (arg)
		pthread_setspecific(done_key, arg);
	return NULL;
}

/* the last thing a detached thread does: its values are freed by then */
static void done(void *arg)
{
	pthread_mutex_lock(&mu);
	detached_done++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

int main(void)
{
	pthread_key_create(&key, free);
	pthread_key_create(&done_key, done);
	pthread_t t[4];
	for (int i = 0; i < 3; i++) {
		pthread_create(&t[0], NULL, thread, NULL);
		pthread_join(t[0], NULL);
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		pthread_create(&t[i], NULL, thread, (void *)1);
		pthread_detach(t[i]);
	}
	pthread_mutex_lock(&mu);
	while (detached_done < 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return 0;
}
