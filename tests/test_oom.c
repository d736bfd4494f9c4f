/*
 * test_oom.c - out of memory: make the OS layer fail its n-th map for
 * n = 0, 1, 2, ... and check that every allocation either succeeds or returns
 * NULL with errno = ENOMEM, that nothing crashes, and that the allocator
 * works again once the OS gives memory (libuv's loop_init_oom, SQLite's
 * faultsim).
 */
#include "testutil.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"

enum { NALLOC = 6000 };
static void *p[NALLOC];

/* A workload that needs several maps: the radix leaf, heap metadata and
 * several arenas.  Returns the number of failed allocations, or -1 on a
 * failure that is not a clean NULL + ENOMEM. */
static int workload(void)
{
	int failed = 0;
	for (int i = 0; i < NALLOC; i++) {
		size_t n = 1 + (size_t)(i * 37) % PT_SMALL_MAX;
		errno = 0;
		p[i] = pt_alloc(n);
		if (!p[i]) {
			if (errno != ENOMEM)
				return -1;
			failed++;
			continue;
		}
		memset(p[i], 0xab, n);
	}
	for (int i = 0; i < NALLOC; i += 2)
		if (p[i]) {
			pt_free(p[i]);
			p[i] = NULL;
		}
	return failed;
}

static int child_fail_nth(void *arg)
{
	long n = (long)(intptr_t)arg;
	pt_test_fail_map_after(n);
	int failed = workload();
	CHILD_CHECK(failed >= 0);
	/* after the fault: everything works, and the stats walk is sane */
	pt_test_fail_map_after(-1);
	for (int i = 0; i < NALLOC; i++) {
		if (!p[i])
			p[i] = pt_alloc(64);
		CHILD_CHECK(p[i] != NULL);
	}
	struct pt_stats st;
	pt_stats_get(&st);
	uint64_t used = 0;
	for (unsigned c = 0; c < st.nclasses; c++)
		used += st.cls[c].blocks_used;
	CHILD_CHECK(used == NALLOC);
	for (int i = 0; i < NALLOC; i++)
		pt_free(p[i]);
	pt_stats_get(&st);
	CHILD_CHECK(st.pools_in_use == 0);
	/* exit status 0: passed, the fault hit; 2: passed, no map was n-th */
	return failed ? 0 : 2;
}

static void test_failing_each_map_in_turn_gives_enomem_never_a_crash(void **state)
{
	int hits = 0;
	for (long n = 0; n < 100; n++) {
		int r = run_in_child(child_fail_nth, (void *)(intptr_t)n);
		if (r == 2)
			break;          /* the workload needs fewer than n maps */
		assert_int_equal(r, 0);
		hits++;
	}
	assert_true(hits >= 5);   /* leaf, metadata, several arenas */
}

static int child_first_map_fails_in_thread(void *arg)
{
	pt_test_fail_map_after(0);
	errno = 0;
	void *q = pt_alloc(1);
	CHILD_CHECK(q == NULL && errno == ENOMEM);
	q = pt_alloc(1);
	CHILD_CHECK(q != NULL);
	pt_free(q);
	return 0;
}

static void test_first_allocation_without_memory_returns_null(void **state)
{
	assert_int_equal(run_in_child(child_first_map_fails_in_thread, NULL), 0);
}

static void test_too_large_or_badly_aligned_requests_are_refused(void **state)
{
	errno = 0;
	assert_null(pt_alloc(PT_SMALL_MAX + 1));
	assert_int_equal(errno, ENOMEM);
	assert_null(pt_alloc((size_t)-1));
	assert_null(pt_alloc_aligned(3, 8));
	assert_null(pt_alloc_aligned(1024, 8));
	assert_null(pt_alloc_aligned(0, 8));
	assert_null(pt_alloc_aligned(512, 513));
	/* a power of two <= 512 never rounds a request <= 512 past 512 */
	void *q = pt_alloc_aligned(512, 257);
	assert_non_null(q);
	assert_int_equal((uintptr_t)q % 512, 0);
	pt_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failing_each_map_in_turn_gives_enomem_never_a_crash),
		cmocka_unit_test(test_first_allocation_without_memory_returns_null),
		cmocka_unit_test(test_too_large_or_badly_aligned_requests_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
