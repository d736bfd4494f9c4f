/*
 * test_tcache.c - the per-thread cache of freed blocks: LIFO reuse across
 * pools, its bound, its flush at thread exit and on request, blocks of other
 * threads passing through it (spilled to their pools in runs), and the
 * stats counting cached blocks as free.
 */
#include "testutil.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"

static struct pt_stats st;

enum { N = 2000 };
static void *blk[N];

/* The block freed last is the next one handed out, whatever its pool. */
static int child_lifo(void *arg)
{
	for (int i = 0; i < N; i++)
		blk[i] = pt_alloc(200);
	CHILD_CHECK(pt__pool_of((uintptr_t)blk[3]) != pt__pool_of((uintptr_t)blk[N - 1]));
	pt_free(blk[3]);
	pt_free(blk[N - 1]);
	CHILD_CHECK(pt_alloc(200) == blk[N - 1]);
	CHILD_CHECK(pt_alloc(200) == blk[3]);
	/* other classes have their own lists */
	pt_free(blk[10]);
	void *small = pt_alloc(16);
	CHILD_CHECK(small != blk[10]);
	CHILD_CHECK(pt_alloc(199) == blk[10]);   /* same class as 200 */
	return 0;
}

static void test_last_freed_block_is_reused_first_across_pools(void **state)
{
	assert_int_equal(run_in_child(child_lifo, NULL), 0);
}

/* At most PT_TCACHE_DEFAULT blocks per class wait in the cache; a free that
 * finds it full sends the older half to the pools; the stats count cached
 * blocks as free. */
static int child_bound(void *arg)
{
	unsigned c = pt_size_class(200);
	for (int i = 0; i < N; i++)
		blk[i] = pt_alloc(200);
	for (int i = 0; i < N; i++)
		pt_free(blk[i]);
	pt_stats_get(&st);
	CHILD_CHECK(st.cls[c].blocks_cached > PT_TCACHE_DEFAULT / 2 &&
	            st.cls[c].blocks_cached <= PT_TCACHE_DEFAULT);
	CHILD_CHECK(st.cls[c].blocks_used == 0);
	CHILD_CHECK((uint64_t)pt__tl_heap->tc_room[c] == PT_TCACHE_DEFAULT - st.cls[c].blocks_cached);
	/* the pools hold only the cached blocks: at most 16 pools in use */
	struct pt_pool *seen[PT_TCACHE_DEFAULT + 1];
	unsigned nseen = 0;
	for (int i = 0; i < N; i++) {
		struct pt_pool *p = pt__pool_of((uintptr_t)blk[i]);
		if ((p->state != PT_POOL_USED && p->state != PT_POOL_FULL) ||
		    PT_NUSED(p) - p->pinned == 0)
			continue;
		unsigned k = 0;
		while (k < nseen && seen[k] != p)
			k++;
		if (k == nseen) {
			CHILD_CHECK(nseen < PT_TCACHE_DEFAULT);
			seen[nseen++] = p;
		}
	}
	CHILD_CHECK(nseen >= 1);
	pt_thread_flush();
	pt_stats_get(&st);
	CHILD_CHECK(st.cls[c].blocks_cached == 0 && st.pools_in_use == 0);
	CHILD_CHECK(pt__tl_heap->tc_room[c] == PT_TCACHE_DEFAULT);
	return 0;
}

static void test_cache_is_bounded_and_flushes_to_pools(void **state)
{
	assert_int_equal(run_in_child(child_bound, NULL), 0);
}

static void *alloc_all(void *arg)
{
	for (int i = 0; i < N; i++)
		blk[i] = pt_alloc((size_t)(uintptr_t)arg);
	return NULL;
}

static void *free_all_alloc_some_exit(void *arg)
{
	for (int i = 0; i < N; i++)
		pt_free(blk[i]);          /* others' blocks: 16 into this cache */
	void *mine[8];
	for (int i = 0; i < 8; i++)
		mine[i] = pt_alloc(64);   /* served from the cache: others' blocks */
	for (int i = 0; i < 8; i++)
		pt_free(mine[i]);
	return NULL;                  /* exit flushes the cache */
}

/* Blocks of another thread's pools pass through a cache and get home. */
static int child_foreign(void *arg)
{
	pthread_t t;
	CHILD_CHECK(pthread_create(&t, NULL, alloc_all, (void *)64) == 0);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	CHILD_CHECK(pthread_create(&t, NULL, free_all_alloc_some_exit, NULL) == 0);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	pt_stats_get(&st);
	CHILD_CHECK(st.cls[pt_size_class(64)].blocks_used == 0);
	CHILD_CHECK(st.cls[pt_size_class(64)].blocks_cached == 0);
	CHILD_CHECK(st.pools_in_use == 0);
	return 0;
}

static void test_blocks_of_other_threads_pass_through_and_get_home(void **state)
{
	assert_int_equal(run_in_child(child_foreign, NULL), 0);
}

/*
 * The owner stays alive while another thread frees all its blocks, in
 * address order (long runs of one pool: one push per run) or alternating
 * between the first and the second half (runs of one block).  Then the
 * owner allocates as many again: it must get its blocks back (all but at
 * most a pool's worth, the head pool's unused blocks coming first), each
 * once, from the pools it has (a block lost from a run would need a new
 * pool; a block linked twice would come out twice).
 */
static void *free_in_order(void *arg)
{
	int interleave = (int)(uintptr_t)arg;
	/* no malloc here: a thread that only frees takes a heap, so a cache,
	 * at its first free that finds no room */
	for (int i = 0; i < N; i++) {
		int k = !interleave ? i : (i & 1) ? N / 2 + i / 2 : i / 2;
		pt_free(blk[k]);
	}
	return NULL;   /* exit flushes the cache: the rest go home too */
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
	return x < y ? -1 : x > y;
}

static int child_runs(void *arg)
{
	static void *again[N], *orig[N];
	for (int interleave = 0; interleave < 2; interleave++) {
		for (int i = 0; i < N; i++)
			blk[i] = pt_alloc(96);
		memcpy(orig, blk, sizeof orig);
		pt_stats_get(&st);
		size_t pools = st.pools_in_use;
		pthread_t t;
		CHILD_CHECK(pthread_create(&t, NULL, free_in_order,
		                           (void *)(uintptr_t)interleave) == 0);
		CHILD_CHECK(pthread_join(t, NULL) == 0);
		for (int i = 0; i < N; i++)
			again[i] = pt_alloc(96);
		pt_stats_get(&st);
		CHILD_CHECK(st.pools_in_use == pools);
		qsort(orig, N, sizeof *orig, cmp_ptr);
		qsort(again, N, sizeof *again, cmp_ptr);
		unsigned mine = 0;
		for (int i = 0, k = 0; i < N; i++) {
			CHILD_CHECK(i == 0 || again[i] != again[i - 1]);
			while (k < N && (uintptr_t)orig[k] < (uintptr_t)again[i])
				k++;
			mine += k < N && orig[k] == again[i];
		}
		/* the head pool's unused blocks may come first: at most a pool's */
		CHILD_CHECK(mine + PT_POOL_SIZE / 96 >= N);
		for (int i = 0; i < N; i++)
			pt_free(again[i]);
		pt_thread_flush();
		pt_stats_get(&st);
		CHILD_CHECK(st.cls[pt_size_class(96)].blocks_used == 0);
	}
	return 0;
}

static void test_other_threads_frees_go_home_in_runs_and_lose_nothing(void **state)
{
	assert_int_equal(run_in_child(child_runs, NULL), 0);
}

static int child_none(void *arg)
{
	struct pt_config cfg = { .align = 16, .tcache = PT_TCACHE_NONE };
	CHILD_CHECK(pt_configure(&cfg) == 0);
	void *p = pt_alloc(100);
	pt_free(p);
	pt_stats_get(&st);
	CHILD_CHECK(st.cls[pt_size_class(100)].blocks_cached == 0);
	CHILD_CHECK(pt__tl_heap->tc_room[pt_size_class(100)] == 0);
	CHILD_CHECK(pt_configure(&cfg) == EBUSY);
	return 0;
}

static void test_cache_can_be_switched_off(void **state)
{
	assert_int_equal(run_in_child(child_none, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_freed_block_is_reused_first_across_pools),
		cmocka_unit_test(test_cache_is_bounded_and_flushes_to_pools),
		cmocka_unit_test(test_blocks_of_other_threads_pass_through_and_get_home),
		cmocka_unit_test(test_other_threads_frees_go_home_in_runs_and_lose_nothing),
		cmocka_unit_test(test_cache_can_be_switched_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
