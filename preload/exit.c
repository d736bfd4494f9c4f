/*
 * exit.c - _exit and _Exit.  A program that ends with them (dash,
 * os._exit, forked children and multiprocessing workers) runs no
 * destructor: the heap check at exit and the recorder's exit (its last
 * events, the exit scan, the end record) run here, then the process ends
 * as glibc's _exit ends it.  glibc's own exit() calls its _exit
 * internally, not through this symbol.
 *
 * A child of vfork (or of a raw clone) shares the parent's memory and ran
 * no fork handler: it must touch nothing of ours.  It is told by its pid,
 * which is not the one this file saw at start or after a fork.  A thread
 * interrupted inside the library (a signal handler that forks, then the
 * child ends with _exit) may have left the checker's registry or the
 * recorder half-updated: no heap check then, and the recorder only writes
 * what it can without a lock.
 */
#include <pthread.h>
#include <unistd.h>

#include "common.h"
#include "debug.h"
#include "recorder.h"

#define PT_EXPORT __attribute__((visibility("default")))

static pid_t our_pid;

static void forked(void)
{
	our_pid = getpid();
}

__attribute__((constructor)) static void exit_init(void)
{
	our_pid = getpid();
	pthread_atfork(NULL, NULL, forked);
}

PT_EXPORT __attribute__((noreturn, noinline)) void _exit(int status)
{
	struct pt_exit_context ctx;
	PT_EXIT_CONTEXT(&ctx);
	if (getpid() == our_pid) {
		if (!pt__inside)
			pt__dbg_check_all("the check at exit");
		pt__rec_exit(&ctx, status);
	}
	for (;;)
		syscall(SYS_exit_group, status);
}

PT_EXPORT __attribute__((noreturn)) void _Exit(int status)
{
	_exit(status);
}
