/*
 * threads.c - pthread_create: the recorder's snapshot thread starts just
 * before the program's first thread, not at start.
 *
 * A process with a thread of ours is multithreaded in glibc's eyes
 * (__libc_single_threaded is cleared for good), and glibc then takes its
 * atfork lock, the stdio list lock and its malloc locks around fork.  A
 * single-threaded program may fork from a signal handler that interrupted
 * malloc or fork (glibc promises it since 2.30); with our thread running
 * that deadlocks inside glibc.  So while the program has one thread the
 * recorder does the snapshot thread's work inline (rec_snapshot.c), and
 * the thread is started here, from the program's own call, which the
 * program may not make from a signal handler.  Threads glibc starts for
 * itself (timer_create's SIGEV_THREAD, AIO) do not come through here: the
 * inline work goes on then, from whichever thread allocates.
 */
#include <pthread.h>

#include "../allocator/compiler.h"
#include "libc_sym.h"
#include "recorder.h"

PT_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
                             void *(*start)(void *), void *arg)
{
	pt__rec_threads_begin();   /* ours first */
	return pt__libc_pthread_create(th, attr, start, arg);
}
