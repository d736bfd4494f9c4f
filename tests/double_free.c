/*
 * double_free.c - double frees under the preload in normal mode (run by
 * tests/test_dropin.sh).  Each one must be refused with one line on stderr
 * and ignored: the blocks handed out afterwards are all distinct, as if it
 * had not happened.  Then blocks whose contents equal the free-list key
 * (read from a freed block) are freed and reallocated normally: no line.
 *
 * Prints "refused N" (the double frees it made, for the caller to count the
 * lines) and ": ok"; exits non-zero if the heap handed a block out twice.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int made;   /* double frees made */

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "double_free: line %d: %s\n", \
                                            __LINE__, #c); exit(1); } } while (0)

/* n blocks of size bytes, all distinct and writable: a free list that took
 * a block twice hands it out twice. */
static void expect_distinct(size_t size, int n)
{
	char **p = malloc(sizeof *p * (size_t)n);
	CHECK(p);
	for (int i = 0; i < n; i++) {
		p[i] = malloc(size);
		CHECK(p[i]);
		memset(p[i], 0x5a, size);
		for (int j = 0; j < i; j++)
			CHECK(p[j] != p[i]);
	}
	for (int i = 0; i < n; i++)
		free(p[i]);
	free(p);
}

static void twice(void *p)
{
	free(p);
	made++;
}

/* the first free went to the thread cache */
static void in_thread_cache(size_t size)
{
	void *p = malloc(size);
	CHECK(p);
	free(p);
	twice(p);
	void *q = malloc(size), *r = malloc(size);
	CHECK(q && r && q != r);
	free(q);
	free(r);
	expect_distinct(size, 40);
}

/* the first free went to the pool: the thread cache spilled its older
 * blocks there when it was full */
static void in_pool(size_t size)
{
	enum { N = 60 };
	void *p[N];
	for (int i = 0; i < N; i++)
		CHECK((p[i] = malloc(size)));
	for (int i = 0; i < N; i++)
		free(p[i]);
	twice(p[N - 1]);   /* the last one freed: in the cache */
	twice(p[N / 2]);   /* spilled: deeper in the pool's list */
	twice(p[0]);       /* spilled first */
	expect_distinct(size, N + 10);
}

/* blocks of another thread's pool, freed by this one */
static void **remote_blocks;
static size_t remote_size;

static pthread_barrier_t barrier;

/* the owner stays alive (its pools stay its own) until the frees are done */
static void *allocate_them(void *arg)
{
	for (int i = 0; i < 60; i++)
		CHECK((remote_blocks[i] = malloc(remote_size)));
	pthread_barrier_wait(&barrier);
	pthread_barrier_wait(&barrier);
	expect_distinct(remote_size, 80);
	return arg;
}

static void remote(size_t size)
{
	void *p[60];
	pthread_t t;
	remote_blocks = p;
	remote_size = size;
	pthread_barrier_init(&barrier, NULL, 2);
	CHECK(pthread_create(&t, NULL, allocate_them, NULL) == 0);
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < 60; i++)
		free(p[i]);
	/* freed last: in this thread's cache (the older ones went home in
	 * runs, where only the owner may look) */
	twice(p[59]);
	pthread_barrier_wait(&barrier);
	CHECK(pthread_join(t, NULL) == 0);
	expect_distinct(size, 80);
}

/* live blocks whose key word holds the key: freed normally */
static void key_in_live_data(void)
{
	uint64_t *p = malloc(32);
	CHECK(p);
	free(p);
	uint64_t key = p[1];   /* what a freed block holds (read after free) */
	enum { N = 100 };
	uint64_t *q[N];
	for (int i = 0; i < N; i++) {
		CHECK((q[i] = malloc(16 + (size_t)(i % 4) * 16)));
		q[i][0] = key;
		q[i][1] = key;
	}
	for (int i = 0; i < N; i += 2) {   /* realloc too: not refused */
		q[i] = realloc(q[i], 100);
		CHECK(q[i] && q[i][1] == key);
		q[i][1] = key;
	}
	for (int i = 0; i < N; i++)
		free(q[i]);
	/* eight-byte blocks: the word after each is its neighbour's */
	uint64_t *e[N];
	for (int i = 0; i < N; i++) {
		CHECK((e[i] = malloc(8)));
		e[i][0] = key;
	}
	for (int i = 0; i < N; i++)
		free(e[i]);
	expect_distinct(32, 50);
}

/* realloc of a freed block: refused, NULL */
static void realloc_freed(void)
{
	void *p = malloc(48);
	CHECK(p);
	free(p);
	void *q = realloc(p, 64);
	made++;
	CHECK(q == NULL);
	expect_distinct(48, 40);
}

int main(void)
{
	in_thread_cache(32);
	in_thread_cache(24);   /* a class of its own with POOLTRACE_ALIGN=8 */
	in_thread_cache(8);    /* the smallest class, 16 bytes */
	in_pool(64);
	in_pool(8);
	in_pool(512);
	remote(96);
	remote(8);
	realloc_freed();
	key_in_live_data();
	printf("refused %d\n", made);
	printf("double_free: ok\n");
	return 0;
}
