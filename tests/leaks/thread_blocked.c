/*
 * thread_blocked.c - threads blocked in system calls at exit (read() on a
 * pipe, nanosleep, a futex in pthread_cond_wait) keep the blocks their
 * frames point to.  A block one dropped is definitely lost.
 *
 * expect: definite 100/1 indirect 0/0
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static int pipefd[2], ready[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void started(void)
{
	char c = 0;
	if (write(ready[1], &c, 1) != 1)
		abort();
}

static void *in_read(void *arg)
{
	void *volatile held = alloc_filled(24);
	(void)held;
	lose(100);
	clobber_stack();
	started();
	char c;
	if (read(pipefd[0], &c, 1) < 0)
		abort();
	return NULL;
}

static void *in_sleep(void *arg)
{
	void *volatile held = alloc_filled(800);
	(void)held;
	started();
	for (;;)
		nanosleep(&(struct timespec){ 1000, 0 }, NULL);
	return NULL;
}

static void *in_cond(void *arg)
{
	void *volatile held = alloc_filled(88);
	(void)held;
	pthread_mutex_lock(&mu);
	started();
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

int main(void)
{
	if (pipe(pipefd) || pipe(ready))
		return 1;
	void *(*fn[])(void *) = { in_read, in_sleep, in_cond };
	for (int i = 0; i < 3; i++) {
		pthread_t t;
		pthread_create(&t, NULL, fn[i], NULL);
	}
	for (int i = 0; i < 3; i++) {
		char c;
		if (read(ready[0], &c, 1) != 1)
			return 1;
	}
	exit(0);
}
