/*
 * test_pool.c - pool state transitions, block recycling, remote frees and
 * thread heaps (exit, abandonment, adoption).  Each test runs in a fresh
 * child so that the figures it checks are its own.
 */
#include "testutil.h"
#include <pthread.h>
#include <errno.h>
#include <string.h>

#include "internal.h"

static struct pt_stats st;

static const struct pt_class_stats *class_stats(size_t n)
{
	pt_stats_get(&st);
	return &st.cls[pt_size_class(n)];
}

/* used -> full -> used -> empty, as the stats walk and the descriptor see it */
static int child_transitions(void *arg)
{
	enum { N = PT_POOL_SIZE / 64 };
	void *a[N], *b[N];
	for (int i = 0; i < N; i++)
		a[i] = pt_alloc(64);
	const struct pt_class_stats *cs = class_stats(64);
	CHILD_CHECK(cs->pools_full == 1 && cs->pools_used == 0 && cs->blocks_used == N);
	CHILD_CHECK(pt__pool_of((uintptr_t)a[0]) == pt__pool_of((uintptr_t)a[N - 1]));

	b[0] = pt_alloc(64);   /* the first pool is full: a second one */
	struct pt_pool *pa = pt__pool_of((uintptr_t)a[0]), *pb = pt__pool_of((uintptr_t)b[0]);
	CHILD_CHECK(pa != pb && pa->state == PT_POOL_FULL && pb->state == PT_POOL_USED);
	/* from the class's run: the page right after the first */
	CHILD_CHECK(pb == pa + 1 && pt__pool_base(pb) == pt__pool_base(pa) + PT_POOL_SIZE);
	cs = class_stats(64);
	CHILD_CHECK(cs->pools_full == 1 && cs->pools_used == 1 && cs->blocks_used == N + 1);

	struct pt_pool **head = &pt__tl_heap->avail[pt_size_class(64)];
	pt_free(a[5]);         /* full -> used, queued behind the head */
	CHILD_CHECK(pa->state == PT_POOL_USED && *head == pb && pb->next == pa);
	CHILD_CHECK(pt__pool_of((uintptr_t)(b[1] = pt_alloc(64))) == pb);   /* head first */
	for (int i = 2; i < N; i++)
		b[i] = pt_alloc(64);   /* b's pool is full now ... */
	CHILD_CHECK(pt_alloc(64) == a[5]);   /* ... so malloc moves on to a's */
	CHILD_CHECK(*head == pa && pb->state == PT_POOL_FULL && pa->pinned && !pb->pinned);
	pt_free(a[5]);
	for (int i = 0; i < N; i++)
		pt_free(b[i]);     /* b's pool empties and is not the head: cached */
	CHILD_CHECK(pb->state == PT_POOL_EMPTY);
	for (int i = 0; i < N; i++)
		if (i != 5)
			pt_free(a[i]);
	/* the head pool of the class stays on its list, pinned, empty */
	CHILD_CHECK(pa->state == PT_POOL_USED && pa->pinned && pa->nused == 1);
	cs = class_stats(64);
	CHILD_CHECK(cs->pools_full == 0 && cs->pools_used == 0 && cs->pools_empty == 1);
	CHILD_CHECK(cs->blocks_used == 0);
	/* pb, and the pools of runs not used yet (64 B's, and the classes'
	 * this test's own calls made) */
	unsigned in_runs = 0;
	for (unsigned c = 0; c < PT_NCLASSES_MAX; c++)
		for (const struct pt_pool *p = pt__tl_heap->run[c]; p; p = p->next)
			in_runs++;
	CHILD_CHECK(in_runs >= PT_CLASS_RUN - 2 && st.pools_empty_heap == 1 + 1 + in_runs);
	CHILD_CHECK(pt__heap_valid(pt__tl_heap));
	CHILD_CHECK(cs->nmalloc == 2 * N + 1);
	return 0;
}

static void test_pool_moves_used_full_used_empty(void **state)
{
	assert_int_equal(run_in_child(child_transitions, NULL), 0);
}

static int child_lifo(void *arg)
{
	void *p = pt_alloc(100), *q = pt_alloc(100);
	CHILD_CHECK(p != q && pt_block_size(p) == 112);
	pt_free(p);
	CHILD_CHECK(pt_alloc(100) == p);   /* last freed, first reused */
	CHILD_CHECK(pt_alloc(97) != p);
	/* blocks are carved in address order, never overlapping */
	char *prev = NULL;
	for (int i = 0; i < 200; i++) {
		char *r = pt_alloc(48);
		CHILD_CHECK(!prev || pt__pool_of((uintptr_t)r) != pt__pool_of((uintptr_t)prev) ||
		            r - prev == 48);
		prev = r;
	}
	return 0;
}

static void test_freed_block_is_reused_first(void **state)
{
	assert_int_equal(run_in_child(child_lifo, NULL), 0);
}

/* ---- threads ------------------------------------------------------------ */

#define NB 4096
static void *blocks[NB];

static void *free_all(void *arg)
{
	for (int i = 0; i < NB; i++)
		pt_free(blocks[i]);
	return NULL;
}

static void *alloc_all(void *arg)
{
	size_t n = (size_t)(uintptr_t)arg;
	for (int i = 0; i < NB; i++) {
		blocks[i] = pt_alloc(n);
		memset(blocks[i], 0x5a, n);
	}
	return NULL;
}

/* Blocks freed by another thread come back to their owner's free lists. */
static int child_remote(void *arg)
{
	for (int i = 0; i < NB; i++)
		blocks[i] = pt_alloc(32);
	void *first = blocks[0];
	pthread_t t;
	CHILD_CHECK(pthread_create(&t, NULL, free_all, NULL) == 0);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	/* still counted as used until the owner collects them */
	CHILD_CHECK(class_stats(32)->blocks_used == NB);
	/* the head pool is exhausted, so the next malloc collects */
	void *again[NB];
	int seen_first = 0;
	for (int i = 0; i < NB; i++) {
		again[i] = pt_alloc(32);
		seen_first |= again[i] == first;
	}
	CHILD_CHECK(seen_first);
	pt_stats_get(&st);
	CHILD_CHECK(st.cls[pt_size_class(32)].blocks_used == NB);
	CHILD_CHECK(st.arenas_total == st.arenas_mapped);   /* nothing new was needed */
	for (int i = 0; i < NB; i++)
		pt_free(again[i]);
	CHILD_CHECK(class_stats(32)->blocks_used == 0);
	return 0;
}

static void test_remote_frees_are_collected_by_the_owner(void **state)
{
	assert_int_equal(run_in_child(child_remote, NULL), 0);
}

/* A thread that frees everything and exits leaves no arena behind. */
static int child_exit_clean(void *arg)
{
	pt_stats_get(&st);
	uint64_t before = st.arenas_mapped;
	pthread_t t;
	CHILD_CHECK(pthread_create(&t, NULL, alloc_all, (void *)(uintptr_t)500) == 0);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	pt_stats_get(&st);
	CHILD_CHECK(st.arenas_mapped >= NB / (PT_USABLE_POOLS * 8));
	CHILD_CHECK(st.heaps_abandoned == 1);
	/* the blocks of the dead thread, freed here: its abandoned heap
	 * collects them and gives its pools back */
	for (int i = 0; i < NB; i++)
		pt_free(blocks[i]);
	pt_stats_get(&st);
	CHILD_CHECK(st.cls[pt_size_class(500)].blocks_used == 0);
	CHILD_CHECK(st.pools_in_use == 0);
	CHILD_CHECK(st.arenas_mapped <= before + 1);   /* at most the spare */
	CHILD_CHECK(st.arenas_released > 0);
	return 0;
}

static void test_blocks_of_exited_thread_freed_elsewhere_release_arenas(void **state)
{
	assert_int_equal(run_in_child(child_exit_clean, NULL), 0);
}

static void *alloc_free_some(void *arg)
{
	for (int i = 0; i < 1000; i++)
		pt_free(pt_alloc(16));
	return NULL;
}

/* New threads adopt the heaps of exited ones instead of making new heaps. */
static int child_adopt(void *arg)
{
	for (int round = 0; round < 20; round++) {
		pthread_t t;
		CHILD_CHECK(pthread_create(&t, NULL, alloc_free_some, NULL) == 0);
		CHILD_CHECK(pthread_join(t, NULL) == 0);
	}
	pt_stats_get(&st);
	CHILD_CHECK(st.heaps == 1);
	CHILD_CHECK(st.heaps_abandoned == 1);
	CHILD_CHECK(pt__g.abandoned && pt__heap_valid(pt__g.abandoned));
	CHILD_CHECK(st.cls[pt_size_class(16)].nmalloc == 20000);
	CHILD_CHECK(st.pools_in_use == 0);
	return 0;
}

static void test_exited_threads_heaps_are_adopted(void **state)
{
	assert_int_equal(run_in_child(child_adopt, NULL), 0);
}

/* Allocate 496-byte blocks until the class holds a run of untouched pools
 * (the arenas' free pools used up, one is carved), free them; says whether
 * it got there. */
static void *take_a_run(void *arg)
{
	enum { MAX = 1 << 16 };
	static void *b[MAX];
	unsigned c = pt_size_class(496), n = 0;
	while (n < MAX && !pt__tl_heap->run[c])
		b[n++] = pt_alloc(496);
	bool got = pt__tl_heap->run[c] != NULL;
	while (n)
		pt_free(b[--n]);
	return (void *)(uintptr_t)got;
}

/* A heap given up returns its classes' runs with its empty pools. */
static int child_runs_return(void *arg)
{
	pthread_t t;
	void *got;
	CHILD_CHECK(pthread_create(&t, NULL, take_a_run, NULL) == 0);
	CHILD_CHECK(pthread_join(t, &got) == 0);
	CHILD_CHECK(got);
	CHILD_CHECK(pt__g.abandoned && pt__heap_valid(pt__g.abandoned));
	for (unsigned c = 0; c < PT_NCLASSES_MAX; c++)
		CHILD_CHECK(pt__g.abandoned->run[c] == NULL);
	return 0;
}

static void test_a_heap_given_up_returns_its_runs(void **state)
{
	assert_int_equal(run_in_child(child_runs_return, NULL), 0);
}

static void *exit_then_alloc(void *arg)
{
	void *p = pt_alloc(64);
	pt_thread_exit();
	errno = 0;
	void *q = pt_alloc(64);        /* torn down: refuses */
	pt_free(p);                    /* frees still work */
	return (void *)(uintptr_t)(q == NULL && errno == ENOMEM);
}

static void test_thread_after_its_exit_gets_enomem_not_a_crash(void **state)
{
	pthread_t t;
	void *ok;
	assert_int_equal(pthread_create(&t, NULL, exit_then_alloc, NULL), 0);
	assert_int_equal(pthread_join(t, &ok), 0);
	assert_true(ok);
}

/* ---- fork --------------------------------------------------------------- */

static pthread_barrier_t bar;

static void *hold_blocks_until_released(void *arg)
{
	alloc_all((void *)(uintptr_t)96);
	pthread_barrier_wait(&bar);   /* blocks are ready */
	pthread_barrier_wait(&bar);   /* the parent forked */
	return NULL;
}

static void *alloc_some(void *arg)
{
	for (int i = 0; i < 100; i++)
		*(volatile char *)pt_alloc(96) = 1;
	return NULL;
}

/*
 * In a child of fork, the heap of a thread that was running in the parent is
 * an orphan: frees of its blocks are accepted but never collected, and no new
 * thread adopts it.
 */
static int child_fork_orphans(void *arg)
{
	pthread_t t;
	pthread_barrier_init(&bar, NULL, 2);
	CHILD_CHECK(pthread_create(&t, NULL, hold_blocks_until_released, NULL) == 0);
	pthread_barrier_wait(&bar);
	void *mine = pt_alloc(96);    /* the forking thread has a heap too */
	pt_fork_prepare();
	pid_t pid = fork();
	if (pid == 0) {
		pt_fork_child();
		pt_stats_get(&st);
		if (st.heaps_orphaned != 1 || st.heaps != 2)
			_exit(10);
		for (int i = 0; i < NB; i++)
			pt_free(blocks[i]);   /* remote frees into the orphan */
		pt_free(mine);
		pthread_t ct;
		if (pthread_create(&ct, NULL, alloc_some, NULL) || pthread_join(ct, NULL))
			_exit(11);
		pt_stats_get(&st);
		if (st.heaps != 3)            /* a new heap, not the orphan */
			_exit(12);
		if (st.cls[pt_size_class(96)].blocks_used != NB + 100)
			_exit(13);            /* orphan blocks stay put; 100 new */
		_exit(0);
	}
	pt_fork_parent();
	int wst;
	CHILD_CHECK(pid > 0 && waitpid(pid, &wst, 0) == pid);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	if (!WIFEXITED(wst) || WEXITSTATUS(wst)) {
		fprintf(stderr, "fork child status %d\n", WEXITSTATUS(wst));
		return 1;
	}
	/* the parent is unaffected: its thread's blocks free normally */
	free_all(NULL);
	pt_free(mine);
	pt_stats_get(&st);
	CHILD_CHECK(st.cls[pt_size_class(96)].blocks_used == 0 && st.heaps_orphaned == 0);
	return 0;
}

static void test_fork_child_orphans_other_threads_heaps(void **state)
{
	assert_int_equal(run_in_child(child_fork_orphans, NULL), 0);
}

/* pt__block_start and pt__block_index against plain arithmetic, for every
 * class and offset, and on real blocks: each start of a carved pool is one,
 * nothing else is */
static void test_block_start_matches_division(void **state)
{
	char *p = pt_alloc(40);
	assert_non_null(p);
	for (unsigned c = 0; c < pt_nclasses(); c++) {
		unsigned size = (unsigned)pt_class_size(c);
		for (uintptr_t off = 0; off < PT_POOL_SIZE; off++) {
			assert_int_equal(pt__block_start(off, c),
			                 off % size == 0 && off / size < pt__class_nblocks(c));
			assert_int_equal(pt__block_index(off, c), off / size);
		}
	}
	unsigned c = pt_size_class(40);
	assert_true(pt__block_start((uintptr_t)p, c));
	for (unsigned k = 1; k < pt_class_size(c); k++)
		assert_false(pt__block_start((uintptr_t)p + k, c));
	pt_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_moves_used_full_used_empty),
		cmocka_unit_test(test_freed_block_is_reused_first),
		cmocka_unit_test(test_remote_frees_are_collected_by_the_owner),
		cmocka_unit_test(test_blocks_of_exited_thread_freed_elsewhere_release_arenas),
		cmocka_unit_test(test_exited_threads_heaps_are_adopted),
		cmocka_unit_test(test_a_heap_given_up_returns_its_runs),
		cmocka_unit_test(test_thread_after_its_exit_gets_enomem_not_a_crash),
		cmocka_unit_test(test_fork_child_orphans_other_threads_heaps),
		/* last: it leaves a pool behind that the counts above do not expect */
		cmocka_unit_test(test_block_start_matches_division),
	};
	/* these tests watch pools: frees go straight to them (test_tcache.c
	 * covers the thread cache) */
	struct pt_config cfg = { .align = 16, .tcache = PT_TCACHE_NONE };
	pt_configure(&cfg);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
