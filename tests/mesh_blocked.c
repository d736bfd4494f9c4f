/*
 * mesh_blocked.c - threads that write to the heap with SIGSEGV blocked
 * while other threads fork, under POOLTRACE_MESH=1.  A fork write-protects
 * the whole heap until the child has its own (allocator/mesh.c), and a
 * write fault that the thread blocks is not delivered: the kernel kills
 * the process.  Two such writers, both of glibc's or common in services:
 *  - glibc's exiting threads free the TLS of the stacks it caches beyond
 *    its limit with every signal blocked (start_thread, __nptl_free_stacks):
 *    16 detached threads at a time, each forking once, then exiting;
 *  - a worker that blocks every signal (the sigwait idiom) and allocates,
 *    writes and frees all the while.
 * mesh_blocked exit|worker ROUNDS: the threads forking, with the worker
 * or not.  Prints "ok" and exits 0 when every round ran.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int running;
static atomic_int stop;

static void *fork_once(void *arg)
{
	(void)arg;
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	if (p > 0)
		waitpid(p, NULL, 0);
	pthread_mutex_lock(&mu);
	running--;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *blocked_worker(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	char *keep[64] = { 0 };
	for (unsigned i = 0; !atomic_load(&stop); i++) {
		unsigned k = i % 64;
		free(keep[k]);
		keep[k] = malloc(16 + i % 200);
		if (keep[k])
			memset(keep[k], (int)i, 16);
	}
	for (unsigned k = 0; k < 64; k++)
		free(keep[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "exit") && strcmp(argv[1], "worker"))) {
		fprintf(stderr, "usage: mesh_blocked exit|worker ROUNDS\n");
		return 2;
	}
	bool worker = strcmp(argv[1], "worker") == 0;
	int rounds = atoi(argv[2]);
	/* a heap large enough that each fork's copy takes a while */
	for (int i = 0; i < 200000; i++) {
		char *p = malloc(64);
		if (p)
			memset(p, 1, 64);
	}
	pthread_t w;
	if (worker && pthread_create(&w, NULL, blocked_worker, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < 16; i++) {
			pthread_t t;
			pthread_mutex_lock(&mu);
			running++;
			pthread_mutex_unlock(&mu);
			if (pthread_create(&t, &at, fork_once, NULL) != 0) {
				perror("pthread_create");
				return 1;
			}
		}
		pthread_mutex_lock(&mu);
		while (running)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
	}
	atomic_store(&stop, 1);
	if (worker)
		pthread_join(w, NULL);
	puts("ok");
	return 0;
}
