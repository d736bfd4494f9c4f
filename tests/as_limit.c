/*
 * as_limit.c - a program that caps its own address space after start, as
 * sandboxes and test harnesses do (run by tests/test_dropin.sh, with and
 * without the preload: it must behave the same).
 *
 * After some allocations it sets RLIMIT_AS to 256 MiB, then allocates small blocks (tens of MiB: new arenas), large ones (glibc's
 * mmap), creates threads that allocate, and finally asks for more than the
 * limit allows: NULL with errno ENOMEM, as under glibc.  A preload that had
 * reserved a large range of address space at start finds every new mapping
 * refused.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define FAIL(...) do { fprintf(stderr, "as_limit: " __VA_ARGS__); exit(1); } while (0)

/* The process's address space now (VmSize), in bytes. */
static unsigned long long vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kb = 0;
	if (!f)
		FAIL("cannot read /proc/self/status\n");
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

static void *worker(void *arg)
{
	size_t n = (size_t)arg;
	char *p[1000];
	for (int i = 0; i < 1000; i++) {
		p[i] = malloc(n + (size_t)i % 64);
		if (!p[i])
			return (void *)1;
		memset(p[i], 1, n);
	}
	for (int i = 0; i < 1000; i++)
		free(p[i]);
	char *big = malloc(4 << 20);
	if (!big)
		return (void *)2;
	memset(big, 2, 4 << 20);
	free(big);
	return NULL;
}

int main(void)
{
	void *warm[100];
	for (int i = 0; i < 100; i++)
		warm[i] = malloc((size_t)i * 5 + 1);

	/* the program's own start-up (and a preload's, debug mode's tables
	 * included) fits in half the limit */
	unsigned long long now = vm_size();
	if (now > (128ull << 20))
		FAIL("%llu MiB mapped before the limit is set\n", now >> 20);
	struct rlimit rl = { 256ull << 20, 256ull << 20 };
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		FAIL("setrlimit: %s\n", strerror(errno));

	/* 13 MiB of small blocks: many new arenas */
	enum { N = 50000 };
	static char *small[N];
	for (int i = 0; i < N; i++) {
		size_t n = 8 + (size_t)(i * 37) % 505;
		if (!(small[i] = malloc(n)))
			FAIL("malloc(%zu) failed after %d small blocks: %s\n", n, i, strerror(errno));
		memset(small[i], i, n);
	}
	char *large[4];
	for (int i = 0; i < 4; i++) {
		size_t n = (size_t)1 << (19 + 2 * i);   /* 0.5, 2, 8, 32 MiB */
		if (!(large[i] = malloc(n)))
			FAIL("malloc(%zu) failed: %s\n", n, strerror(errno));
		memset(large[i], 3, n);
	}
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		int e = pthread_create(&t[i], NULL, worker, (void *)(size_t)(16 + 100 * i));
		if (e)
			FAIL("pthread_create: %s\n", strerror(e));
	}
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		if (r)
			FAIL("thread %d: an allocation failed (%p)\n", i, r);
	}
	/* beyond the limit: refused, the process goes on */
	errno = 0;
	void *huge = malloc(300u << 20);
	if (huge || errno != ENOMEM)
		FAIL("malloc(300 MiB) under a 256 MiB limit: %p, errno %d\n", huge, errno);
	for (int i = 0; i < 4; i++)
		free(large[i]);
	for (int i = 0; i < N; i++)
		free(small[i]);
	for (int i = 0; i < 100; i++)
		free(warm[i]);
	char *again = malloc(100);
	if (!again)
		FAIL("malloc after freeing everything failed\n");
	free(again);
	printf("as_limit: RLIMIT_AS set after start: ok\n");
	return 0;
}
