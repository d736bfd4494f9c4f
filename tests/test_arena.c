/*
 * test_arena.c - arena ordering (pools come from the fullest arena), release
 * of empty arenas (one spare kept), the reserve of cycles of build and free
 * all, purging, and the ownership test: foreign pointers are never claimed.
 */
#include "testutil.h"
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

static struct pt_stats st;

#define PER_ARENA ((int)(PT_USABLE_POOLS * (PT_POOL_SIZE / 512)))   /* 512 B blocks */
#define NBIG (3 * PER_ARENA)
static void *big[NBIG];
static struct pt_arena *arena_of_block[NBIG];

static void *fill_three_arenas(void *arg)
{
	for (int i = 0; i < NBIG; i++) {
		big[i] = pt_alloc(512);
		arena_of_block[i] = pt__arena_of((uintptr_t)big[i]);
	}
	return NULL;
}

/* Free the blocks of arena a until only `keep_pools` pools of it hold any. */
static void thin_arena(struct pt_arena *a, unsigned keep_pools)
{
	for (int i = 0; i < NBIG; i++) {
		if (arena_of_block[i] != a || !big[i])
			continue;
		unsigned idx = (unsigned)(((uintptr_t)big[i] >> PT_POOL_SHIFT) & 63);
		if (idx > keep_pools) {
			pt_free(big[i]);
			big[i] = NULL;
		}
	}
}

static void *thin_and_exit(void *arg)
{
	struct pt_arena **abc = arg;
	thin_arena(abc[0], 60);   /* A keeps 60 pools: 3 free */
	thin_arena(abc[1], 10);   /* B keeps 10: 53 free */
	thin_arena(abc[2], 0);    /* C: empty */
	return NULL;              /* thread exit gives cached pools back */
}

static struct pt_arena *first_arena_of(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_create(&t, NULL, fn, arg);
	pthread_join(t, NULL);
	return NULL;
}

static void *take_pools_of_64(void *arg)
{
	struct pt_arena **out = arg;
	for (int pool = 0; pool < 4; pool++) {
		void *p = NULL;
		for (int i = 0; i < (int)(PT_POOL_SIZE / 64); i++)
			p = pt_alloc(64);   /* a whole pool of class 64 */
		out[pool] = pt__arena_of((uintptr_t)p);
	}
	return NULL;
}

static int child_fullest_first(void *arg)
{
	struct pt_arena *abc[3];
	first_arena_of(fill_three_arenas, NULL);
	abc[0] = arena_of_block[0];
	abc[1] = arena_of_block[PER_ARENA];
	abc[2] = arena_of_block[2 * PER_ARENA];
	CHILD_CHECK(abc[0] != abc[1] && abc[1] != abc[2] && abc[0] != abc[2]);
	CHILD_CHECK(arena_of_block[PER_ARENA - 1] == abc[0]);
	pt_stats_get(&st);
	CHILD_CHECK(st.arenas_mapped == 3 && st.pools_untouched == 0);

	first_arena_of(thin_and_exit, abc);
	CHILD_CHECK(abc[0]->nfreepools == 3 && abc[1]->nfreepools == 53);
	pt_stats_get(&st);
	/* C is empty: kept as the spare, not unmapped */
	CHILD_CHECK(st.arenas_mapped == 3 && st.arenas_released == 0);

	/* new pools: the 3 free pools of A first, then B; never C */
	struct pt_arena *got[4];
	first_arena_of(take_pools_of_64, got);
	CHILD_CHECK(got[0] == abc[0] && got[1] == abc[0] && got[2] == abc[0]);
	CHILD_CHECK(got[3] == abc[1]);
	CHILD_CHECK(abc[0]->nfreepools == 0 && abc[1]->nfreepools == 52);
	CHILD_CHECK(abc[2]->nfreepools == PT_USABLE_POOLS);
	return 0;
}

static void test_new_pools_come_from_the_fullest_arena(void **state)
{
	assert_int_equal(run_in_child(child_fullest_first, NULL), 0);
}

static void *free_everything(void *arg)
{
	for (int i = 0; i < NBIG; i++)
		if (big[i])
			pt_free(big[i]);
	return NULL;
}

static void *fill_and_free(void *arg)
{
	fill_three_arenas(NULL);
	free_everything(NULL);
	return NULL;
}

static int child_release(void *arg)
{
	first_arena_of(fill_and_free, NULL);
	pt_stats_get(&st);
	CHILD_CHECK(st.arenas_highwater == 3);
	CHILD_CHECK(st.arenas_mapped == 1);      /* the spare */
	CHILD_CHECK(st.arenas_released == 2);
	CHILD_CHECK(st.pools_in_use == 0);
	/* freed pools are no longer ours, in released arenas or in the spare */
	int owned = 0;
	for (int i = 0; i < NBIG; i++)
		owned += pt_owns(big[i]);
	CHILD_CHECK(owned == 0);
	return 0;
}

static void test_arena_whose_blocks_are_all_freed_is_unmapped(void **state)
{
	assert_int_equal(run_in_child(child_release, NULL), 0);
}

/*
 * A program that builds its heap and frees it all, in allocation order
 * (whole arenas empty one after another), again and again: the first wave
 * gives everything back but the spare; from the next, the wave's reserve
 * keeps the arenas mapped for the next build.  16 arenas: their pools are
 * well above PT_DIRTY_MIN.
 */
#define NCYC (16 * PER_ARENA)
static void *cyc[NCYC];

static void build_and_free_all(void)
{
	for (int i = 0; i < NCYC; i++)
		cyc[i] = pt_alloc(512);
	for (int i = 0; i < NCYC; i++)
		pt_free(cyc[i]);
}

static int child_cycles(void *arg)
{
	build_and_free_all();
	pt_stats_get(&st);
	/* given back but the spare and the arenas of the heap's cached empty pools */
	CHILD_CHECK(st.arenas_highwater >= 16 && st.arenas_mapped <= 2 + PT_HEAP_EMPTY_CACHE);
	uint64_t released = st.arenas_released;
	for (int round = 0; round < 3; round++) {
		build_and_free_all();
		pt_stats_get(&st);
		CHILD_CHECK(st.pools_in_use == 0);
		/* the second build maps its arenas again; none is released since */
		CHILD_CHECK(st.arenas_released == released);
		CHILD_CHECK(st.arenas_mapped == st.arenas_highwater);
	}
	/* the reserve is resident: what pt_purge gives back */
	CHILD_CHECK(pt_purge() > 0);
	return 0;
}

static void test_cycles_of_build_and_free_all_keep_their_arenas(void **state)
{
	assert_int_equal(run_in_child(child_cycles, NULL), 0);
}

/*
 * Free pools stay resident for PT_PURGE_DELAY_MS while the heap is large
 * next to them; the next pool return after that purges them.  When the free
 * pools outgrow half the pools in use, they are purged at once.
 */
static int child_purge(void *arg)
{
	enum { N = 40000, PER_POOL = PT_POOL_SIZE / 256 };
	static void *p[N];
	for (int i = 0; i < N; i++)
		p[i] = pt_alloc(256);
	/* blocks are carved in order: block i is in the (i / PER_POOL)-th pool */
	for (int i = 0; i < N; i++)
		if ((i / PER_POOL) % 10 < 3 && i / PER_POOL != 1) {   /* 30% of pools */
			pt_free(p[i]);
			p[i] = NULL;
		}
	pt_stats_get(&st);
	CHILD_CHECK(st.pools_free_dirty > 500 && st.purges == 0);   /* delayed */
	uint64_t dirty_before = st.pools_free_dirty;
	usleep((PT_PURGE_DELAY_MS + 50) * 1000);
	for (int i = PER_POOL; i < 2 * PER_POOL; i++) {   /* one more pool comes back */
		pt_free(p[i]);
		p[i] = NULL;
	}
	pt_stats_get(&st);
	CHILD_CHECK(st.purges > 0 && st.pools_free_purged >= dirty_before - 8);
	CHILD_CHECK(st.pools_free_dirty < 16);
	for (int i = 0; i < N; i++)   /* the heap shrinks: purged at once */
		if (p[i] && i % 1000) {
			pt_free(p[i]);
			p[i] = NULL;
		}
	pt_stats_get(&st);
	CHILD_CHECK(st.pools_free_dirty <= PT_DIRTY_MIN);
	CHILD_CHECK(pt_purge() == st.pools_free_dirty * PT_POOL_SIZE);
	pt_stats_get(&st);
	CHILD_CHECK(st.pools_free_dirty == 0);
	/* a purged pool is reusable and reads as fresh memory */
	for (int i = 0; i < N; i++)
		if (!p[i]) {
			p[i] = pt_alloc(256);
			memset(p[i], 1, 256);
		}
	return 0;
}

static void test_free_pools_are_purged_after_a_delay(void **state)
{
	assert_int_equal(run_in_child(child_purge, NULL), 0);
}

static void test_foreign_pointers_are_never_claimed(void **state)
{
	int local;
	void *ours = pt_alloc(8);
	assert_true(pt_owns(ours));
	assert_false(pt_owns(NULL));
	assert_false(pt_owns(&local));
	assert_false(pt_owns(&st));                  /* static data */
	void *g = malloc(64);                        /* glibc, in this process */
	assert_false(pt_owns(g));
	free(g);
	g = malloc(1 << 20);                         /* glibc, mmapped */
	assert_false(pt_owns(g));
	free(g);
	void *m = mmap(NULL, 2 * PT_ARENA_SIZE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	uintptr_t al = ((uintptr_t)m + PT_ARENA_SIZE - 1) & ~(uintptr_t)(PT_ARENA_SIZE - 1);
	assert_false(pt_owns(m));
	assert_false(pt_owns((void *)al));           /* arena-aligned, not ours */
	munmap(m, 2 * PT_ARENA_SIZE);
	assert_false(pt_owns((void *)(uintptr_t)-1));
	assert_false(pt_owns((void *)0xffff800000000000ull));   /* kernel half */
	assert_false(pt_owns((void *)(((uintptr_t)ours & ~(uintptr_t)(PT_ARENA_SIZE - 1)) - 1)));
	/* reserved for arenas but holding none */
	assert_true((uintptr_t)ours - pt__region_base < PT_REGION_SIZE);
	assert_false(pt_owns((void *)(pt__region_base + PT_REGION_SIZE - PT_ARENA_SIZE + 64)));
	assert_false(pt_owns((void *)(pt__region_base + PT_REGION_SIZE)));
	pt_free(ours);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_pools_come_from_the_fullest_arena),
		cmocka_unit_test(test_arena_whose_blocks_are_all_freed_is_unmapped),
		cmocka_unit_test(test_cycles_of_build_and_free_all_keep_their_arenas),
		cmocka_unit_test(test_free_pools_are_purged_after_a_delay),
		cmocka_unit_test(test_foreign_pointers_are_never_claimed),
	};
	/* these tests watch pools: frees go straight to them (test_tcache.c
	 * covers the thread cache) */
	struct pt_config cfg = { .align = 16, .tcache = PT_TCACHE_NONE };
	pt_configure(&cfg);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
