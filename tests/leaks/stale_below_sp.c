/*
 * stale_below_sp.c - a thread's deep call leaves the only pointer to a
 * block far below the stack pointer, then the thread returns up and
 * blocks in read() until exit.  That memory is dead (memcheck and
 * LeakSanitizer scan a live thread's stack from its stack pointer up):
 * the block is definitely lost.  The same in the main thread, which calls
 * exit() from a shallow frame.
 *
 * expect: definite 176/2 indirect 0/0
 */
#include <pthread.h>
#include <unistd.h>

#include "common.h"

static int pipefd[2], ready[2];
static volatile pid_t thread_tid;

/* a 64 KiB frame holding the pointer at its bottom, dropped on return */
NOINLINE static void deep(size_t n)
{
	void *volatile frame[8192];
	frame[0] = alloc_filled(n);
	frame[8191] = NULL;
	sink = (void *)frame;
	sink = NULL;
}

/* overwrites the registers (where memset leaves copies of the pointer),
 * not frame[0] */
NOINLINE static void shallow(void)
{
	volatile char buf[4096];
	memset((char *)buf, 0, sizeof buf);
}

static void *thread(void *arg)
{
	thread_tid = (pid_t)syscall(SYS_gettid);
	deep(96);
	shallow();
	char c = 0;
	if (write(ready[1], &c, 1) != 1)
		abort();
	if (read(pipefd[0], &c, 1) < 0)
		abort();
	return NULL;
}

int main(void)
{
	if (pipe(pipefd) || pipe(ready))
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	char c;
	if (read(ready[0], &c, 1) != 1)
		return 1;
	wait_blocked(thread_tid, SYS_read);
	deep(80);
	shallow();
	exit(0);
}
