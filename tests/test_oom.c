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
#include <stdbool.h>
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

static long fail_run = 1;   /* how many map calls in a row fail */

static int child_fail_nth(void *arg)
{
	long n = (long)(intptr_t)arg;
	pt_test_fail_maps(n, fail_run);
	int failed = workload();
	CHILD_CHECK(failed >= 0);
	bool fired = pt_test_failed_maps() >= 1;
	pt_test_fail_maps(-1, 0);
	/* after the fault: everything works, and the stats walk is sane */
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
	/* exit status: 0 the fault fired and allocations failed cleanly; 3 it
	 * fired and a fallback absorbed it (the reservation, a region slot);
	 * 2 no map was the n-th */
	return !fired ? 2 : failed ? 0 : 3;
}

/*
 * Fail 1, 2 or 3 map calls in a row, starting at every call in turn.  A single
 * failure of the reservation or of a region slot is absorbed by the mmap
 * fallback; a failed fallback or metadata map gives NULL/ENOMEM.
 */
static void test_failing_each_map_in_turn_gives_enomem_never_a_crash(void **state)
{
	int enomem = 0, absorbed = 0;
	for (fail_run = 1; fail_run <= 3; fail_run++)
		for (long n = 0; n < 200; n++) {
			int r = run_in_child(child_fail_nth, (void *)(intptr_t)n);
			if (r == 2)
				break;          /* the workload needs fewer than n maps */
			if (r != 0 && r != 3)
				fprintf(stderr, "fail %ld maps from %ld: child status %d\n",
				        fail_run, n, r);
			assert_true(r == 0 || r == 3);
			enomem += r == 0;
			absorbed += r == 3;
		}
	print_message("sweep: %d runs ended in ENOMEM, %d absorbed by a fallback\n",
	              enomem, absorbed);
	assert_true(absorbed >= 5);   /* reservation, region slots */
	assert_true(enomem >= 5);     /* metadata; slot and fallback both failing */
}

/* Without the reserved range every arena is a plain mapping, still ours. */
static int child_no_region(void *arg)
{
	pt_test_fail_map_after(0);        /* the reservation */
	enum { N = 20000 };
	static void *blk[N];
	for (int i = 0; i < N; i++) {
		blk[i] = pt_alloc(64 + (size_t)i % 400);
		CHILD_CHECK(blk[i] && pt_owns(blk[i]));
		CHILD_CHECK((uintptr_t)blk[i] - pt__region_base >= PT_REGION_SIZE);
	}
	struct pt_stats st;
	pt_stats_get(&st);
	CHILD_CHECK(st.arenas_outside == st.arenas_mapped && st.arenas_mapped > 2);
	for (int i = 0; i < N; i++)
		pt_free(blk[i]);
	pt_stats_get(&st);
	/* what stays mapped: the spare, and arenas holding the (empty) pool
	 * each class list keeps for its next malloc */
	CHILD_CHECK(st.pools_in_use == 0 && st.arenas_released > 0);
	CHILD_CHECK(st.arenas_outside == st.arenas_mapped);
	CHILD_CHECK(st.arenas_mapped <= 1 + pt_nclasses());
	return 0;
}

static void test_without_the_reserved_range_arenas_come_from_mmap(void **state)
{
	assert_int_equal(run_in_child(child_no_region, NULL), 0);
}

/* When the range is used up, further arenas are plain mappings (the kernel
 * places them, in the range or not). */
static int child_region_full(void *arg)
{
	pt_test_region_limit(2);
	enum { N = 8000 };   /* 512-byte blocks: about 16 arenas */
	static void *blk[N];
	size_t inside = 0, outside = 0;
	for (int i = 0; i < N; i++) {
		blk[i] = pt_alloc(512);
		CHILD_CHECK(blk[i] && pt_owns(blk[i]));
		if ((uintptr_t)blk[i] - pt__region_base < PT_REGION_SIZE)
			inside++;
		else
			outside++;
	}
	/* slots 0 and 1, and those the kernel chose in the range for plain
	 * mappings (they are slots then, in the flat maps) */
	CHILD_CHECK(inside >= 2 * PT_USABLE_POOLS * 8 && outside == N - inside);
	for (int i = 0; i < N; i++)
		pt_free(blk[i]);
	struct pt_stats st;
	pt_stats_get(&st);
	/* kept: the spare, the head pool's arena, the heap's cached pools' */
	CHILD_CHECK(st.pools_in_use == 0);
	CHILD_CHECK(st.arenas_mapped <= 2 + PT_HEAP_EMPTY_CACHE);
	return 0;
}

static void test_arenas_beyond_the_reserved_range_come_from_mmap(void **state)
{
	assert_int_equal(run_in_child(child_region_full, NULL), 0);
}

static int child_first_map_fails_in_thread(void *arg)
{
	pt_test_fail_maps(0, 1000);   /* no memory at all */
	errno = 0;
	void *q = pt_alloc(1);
	CHILD_CHECK(q == NULL && errno == ENOMEM);
	q = pt_alloc(400);
	CHILD_CHECK(q == NULL && errno == ENOMEM);
	pt_test_fail_maps(-1, 0);      /* memory is back */
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
		cmocka_unit_test(test_without_the_reserved_range_arenas_come_from_mmap),
		cmocka_unit_test(test_arenas_beyond_the_reserved_range_come_from_mmap),
		cmocka_unit_test(test_too_large_or_badly_aligned_requests_are_refused),
	};
	/* these tests watch pools: frees go straight to them (test_tcache.c
	 * covers the thread cache) */
	struct pt_config cfg = { .align = 16, .tcache = PT_TCACHE_NONE };
	pt_configure(&cfg);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
