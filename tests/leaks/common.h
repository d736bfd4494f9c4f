/*
 * common.h - helpers of the known-answer leak programs (tests/test_leaks.sh).
 *
 * Every block a program allocates is filled with a byte pattern that is no
 * pointer (uninitialized memory may hold stale links of the allocator),
 * and the frames of the helpers that held pointers are overwritten before
 * the program ends: a pointer that lingers in a dead frame would make a
 * lost block look reachable to every checker, and the known answers would
 * depend on the compiler.  Built with -O0 -g (and -fsanitize=leak for the
 * LeakSanitizer column).
 */
#ifndef LEAKS_COMMON_H
#define LEAKS_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/syscall.h>

#define NOINLINE __attribute__((noinline, unused))

/* stores the compiler cannot drop */
static void *volatile sink;

/* fill n bytes at p with a pattern that is no address */
static inline void *fill(void *p, size_t n)
{
	if (p)
		memset(p, 0x5a, n);
	return p;
}

/* a block of n bytes, filled */
NOINLINE static void *alloc_filled(size_t n)
{
	return fill(malloc(n), n);
}

/* a block of n bytes whose address is dropped at once: definitely lost */
NOINLINE static void lose(size_t n)
{
	sink = alloc_filled(n);
	sink = NULL;
}

/* overwrite the dead frames below the caller's (256 KiB: the profiler's
 * own frames too), where the pointers of the helpers called before may
 * linger, and the registers */
NOINLINE static void clobber_stack(void)
{
	volatile char buf[256 << 10];
	memset((char *)buf, 0, sizeof buf);
}

/*
 * Wait until thread tid sleeps in system call nr (its line of
 * /proc/self/task/TID/syscall starts with the number): a thread that said
 * "ready" may not have reached its read() yet.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
static inline void wait_blocked(pid_t tid, int nr)
{
	char path[64], buf[64], want[16];
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	snprintf(want, sizeof want, "%d ", nr);
	for (;;) {
		int fd = open(path, O_RDONLY);
		ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (r <= 0)
			return;
		buf[r] = 0;
		if (strncmp(buf, want, strlen(want)) == 0)
			return;
		sched_yield();
	}
}
#endif
