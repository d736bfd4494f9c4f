/*
 * test_stacks.c - the recorder's data structures, out of the host process:
 * the stack table (preload/stacks.c) and its lock-free index
 * (preload/hindex.c), and the address map of live blocks
 * (preload/addrmap.c).
 */
#include "testutil.h"

#include <pthread.h>
#include <string.h>

#include "../preload/addrmap.h"
#include "../preload/stacks.h"

static void frames(void **ip, int n, uintptr_t seed)
{
	for (int i = 0; i < n; i++)
		ip[i] = (void *)(seed * 0x1000 + (uintptr_t)i * 16 + 0x400000);
}

/* An empty table t, and two stacks of 8 frames, a and b. */
static void table_and_two_stacks(struct pt_stack_table *t, void **a, void **b)
{
	assert_int_equal(pt__stacks_init(t, 1000, 1 << 20), 0);
	frames(a, 8, 1);
	frames(b, 8, 2);
}

static void test_same_stack_same_id_and_new_stacks_are_fresh(void **st)
{
	(void)st;
	static struct pt_stack_table t = PT_STACK_TABLE_INIT(PT_RANK_STACKS);
	void *a[8], *b[8];
	table_and_two_stacks(&t, a, b);
	int fresh;
	uint32_t ia = pt__stacks_intern(&t, a, 8, 0, 7, &fresh, NULL);
	assert_int_equal(ia, 1);
	assert_true(fresh);
	assert_int_equal(pt__stacks_intern(&t, a, 8, 0, 9, &fresh, NULL), ia);
	assert_false(fresh);
	uint32_t ib = pt__stacks_intern(&t, b, 8, 0, 9, &fresh, NULL);
	assert_int_equal(ib, 2);
	assert_true(fresh);
	/* a prefix is another stack; so is the same stack in a new epoch */
	assert_int_equal(pt__stacks_intern(&t, a, 7, 0, 9, &fresh, NULL), 3);
	assert_int_equal(pt__stacks_intern(&t, a, 8, 1, 9, &fresh, NULL), 4);
	const struct pt_stack_entry *e = pt__stacks_get(&t, ia);
	assert_int_equal(e->nframes, 8);
	assert_int_equal(e->gen, 7);   /* the generation it was first met in */
	assert_memory_equal(e->ip, a, sizeof a);
	pt__stacks_reset(&t);
	assert_int_equal(pt__stacks_intern(&t, b, 8, 0, 0, &fresh, NULL), 1);
	assert_true(fresh);
}

/* A caller's last id answers only the stack it names: another stack, a
 * prefix, another epoch, an id past the table (after a reset, as in a fork
 * child) all get their own. */
static void test_the_last_id_is_compared_not_trusted(void **st)
{
	(void)st;
	static struct pt_stack_table t = PT_STACK_TABLE_INIT(PT_RANK_STACKS);
	void *a[8], *b[8];
	table_and_two_stacks(&t, a, b);
	int fresh;
	uint32_t last = 0;
	uint32_t ia = pt__stacks_intern(&t, a, 8, 0, 0, &fresh, &last);
	assert_int_equal(last, ia);
	assert_int_equal(pt__stacks_intern(&t, a, 8, 0, 0, &fresh, &last), ia);
	assert_false(fresh);
	uint32_t ib = pt__stacks_intern(&t, b, 8, 0, 0, &fresh, &last);
	assert_int_not_equal(ib, ia);
	assert_int_equal(last, ib);
	assert_int_not_equal(pt__stacks_intern(&t, b, 7, 0, 0, &fresh, &last), ib);
	last = ib;
	assert_int_not_equal(pt__stacks_intern(&t, b, 8, 1, 0, &fresh, &last), ib);
	last = 999;   /* past the table */
	assert_int_equal(pt__stacks_intern(&t, a, 8, 0, 0, &fresh, &last), ia);
	pt__stacks_reset(&t);
	last = ib;    /* an id of the table before the reset */
	assert_int_equal(pt__stacks_intern(&t, b, 8, 0, 0, &fresh, &last), 1);
	assert_true(fresh);
}

/* Thousands of stacks: the index doubles many times, every id stays
 * found (and found without the lock: the lookups below take none). */
static void test_index_growth_keeps_every_stack(void **st)
{
	(void)st;
	static struct pt_stack_table t = PT_STACK_TABLE_INIT(PT_RANK_STACKS);
	assert_int_equal(pt__stacks_init(&t, 1 << 16, 64 << 20), 0);
	void *ip[16];
	int fresh;
	for (uintptr_t k = 1; k <= 50000; k++) {
		frames(ip, (int)(k % 16) + 1, k);
		assert_int_equal(pt__stacks_intern(&t, ip, (int)(k % 16) + 1, 0, 0, &fresh, NULL), k);
		assert_true(fresh);
	}
	for (uintptr_t k = 1; k <= 50000; k++) {
		frames(ip, (int)(k % 16) + 1, k);
		assert_int_equal(pt__stacks_intern(&t, ip, (int)(k % 16) + 1, 0, 0, &fresh, NULL), k);
		assert_false(fresh);
	}
	assert_true(t.index->mask + 1 >= 2 * 50000);
}

/* A full table (ids or store) answers 0: the caller records no stack. */
static void test_full_table_answers_zero(void **st)
{
	(void)st;
	static struct pt_stack_table t = PT_STACK_TABLE_INIT(PT_RANK_STACKS);
	assert_int_equal(pt__stacks_init(&t, 4, 1 << 20), 0);
	void *ip[4];
	int fresh;
	for (uintptr_t k = 1; k <= 3; k++) {
		frames(ip, 4, k);
		assert_int_equal(pt__stacks_intern(&t, ip, 4, 0, 0, &fresh, NULL), k);
	}
	frames(ip, 4, 4);
	assert_int_equal(pt__stacks_intern(&t, ip, 4, 0, 0, &fresh, NULL), 0);
	assert_false(fresh);

	static struct pt_stack_table small = PT_STACK_TABLE_INIT(PT_RANK_STACKS);
	assert_int_equal(pt__stacks_init(&small, 100, 3 * (16 + 4 * 8)), 0);
	for (uintptr_t k = 1; k <= 3; k++) {
		frames(ip, 4, k);
		assert_int_equal(pt__stacks_intern(&small, ip, 4, 0, 0, &fresh, NULL), k);
	}
	frames(ip, 4, 9);
	assert_int_equal(pt__stacks_intern(&small, ip, 4, 0, 0, &fresh, NULL), 0);
}

/* Threads interning the same stacks at once: each stack gets one id, and
 * exactly one thread is told it is fresh. */
#define NT 4
#define NS 3000
static struct pt_stack_table shared = PT_STACK_TABLE_INIT(PT_RANK_STACKS);
static uint32_t got[NT][NS];
static int fresh_count[NT];

static void *intern_all(void *arg)
{
	int me = (int)(intptr_t)arg;
	void *ip[6];
	for (int i = 0; i < NS; i++) {
		int k = (i * 7 + me * 1009) % NS, fresh;
		frames(ip, 6, (uintptr_t)k + 1);
		got[me][k] = pt__stacks_intern(&shared, ip, 6, 0, 0, &fresh, NULL);
		fresh_count[me] += fresh;
	}
	return NULL;
}

static void test_concurrent_interning_gives_one_id_per_stack(void **st)
{
	(void)st;
	assert_int_equal(pt__stacks_init(&shared, 1 << 14, 16 << 20), 0);
	pthread_t th[NT];
	for (int i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, intern_all, (void *)(intptr_t)i);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	int fresh = 0;
	for (int i = 0; i < NT; i++)
		fresh += fresh_count[i];
	assert_int_equal(fresh, NS);
	uint8_t seen[NS + 1] = { 0 };
	for (int k = 0; k < NS; k++) {
		assert_true(got[0][k] >= 1 && got[0][k] <= NS);
		for (int i = 1; i < NT; i++)
			assert_int_equal(got[i][k], got[0][k]);
		assert_false(seen[got[0][k]]);
		seen[got[0][k]] = 1;
	}
}

/* ---- the address map ---------------------------------------------------------- */

/* Random puts and takes against a plain array; the probe runs stay intact
 * through backward-shift deletion, and the map grows as it fills. */
static void test_addrmap_matches_a_model_through_puts_and_takes(void **st)
{
	(void)st;
	enum { N = 20000 };
	static uint32_t model[N];
	struct pt_addrmap m = { 0 };
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	for (int step = 0; step < 400000; step++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		unsigned k = (unsigned)(rng % N);
		/* clustered addresses: 16-byte blocks side by side, and far ones */
		uintptr_t p = (k & 1 ? 0x7f0000000000ull : 0x560000000000ull) + (uintptr_t)k * 16;
		if (rng >> 63) {
			uint32_t v = (uint32_t)(rng >> 20) | 1;
			assert_int_equal(pt__addrmap_put(&m, p, v), 0);
			model[k] = v;
		} else {
			assert_int_equal(pt__addrmap_take(&m, p), model[k]);
			model[k] = 0;
		}
		if (step % 50000 == 0)
			assert_int_equal(pt__addrmap_check(&m), 0);
	}
	assert_int_equal(pt__addrmap_check(&m), 0);
	size_t live = 0;
	for (int k = 0; k < N; k++)
		live += model[k] != 0;
	assert_int_equal(m.n, live);
	for (int k = 0; k < N; k++) {
		uintptr_t p = (k & 1 ? 0x7f0000000000ull : 0x560000000000ull) + (uintptr_t)k * 16;
		assert_int_equal(pt__addrmap_take(&m, p), model[k]);
	}
	assert_int_equal(m.n, 0);
	assert_int_equal(pt__addrmap_take(&m, 0x1234560), 0);   /* absent */
	pt__addrmap_clear(&m);
	assert_int_equal(pt__addrmap_check(&m), 0);
}

/* Putting a key again replaces its value without a second entry. */
static void test_addrmap_put_again_replaces(void **st)
{
	(void)st;
	struct pt_addrmap m = { 0 };
	assert_int_equal(pt__addrmap_put(&m, 0x1000, 5), 0);
	assert_int_equal(pt__addrmap_put(&m, 0x1000, 6), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(pt__addrmap_take(&m, 0x1000), 6);
	assert_int_equal(pt__addrmap_take(&m, 0x1000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_stack_same_id_and_new_stacks_are_fresh),
		cmocka_unit_test(test_the_last_id_is_compared_not_trusted),
		cmocka_unit_test(test_index_growth_keeps_every_stack),
		cmocka_unit_test(test_full_table_answers_zero),
		cmocka_unit_test(test_concurrent_interning_gives_one_id_per_stack),
		cmocka_unit_test(test_addrmap_matches_a_model_through_puts_and_takes),
		cmocka_unit_test(test_addrmap_put_again_replaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
