/*
 * tls_dlopen.c - __thread variables of a library loaded with dlopen
 * (lib_tls.so): glibc allocates the TLS blocks (with malloc) on first use,
 * in the main thread and in a thread blocked in read() at exit; the blocks
 * they keep are reachable, and glibc's TLS blocks too.  One block dropped
 * is definitely lost.
 *
 * expect: definite 100/1 indirect 0/0
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "common.h"

static void (*keep)(size_t);
static int pipefd[2], ready[2];

static void *thread(void *arg)
{
	keep(72);
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
	void *h = dlopen("lib_tls.so", RTLD_NOW);   /* found by the rpath $ORIGIN */
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	keep = (void (*)(size_t))dlsym(h, "lib_tls_keep");
	keep(40);
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
