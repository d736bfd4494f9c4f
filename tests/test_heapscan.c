/*
 * test_heapscan.c - leak classification by reachability (preload/heapscan.c)
 * on blocks laid out by hand: roots, chains, cycles, interior pointers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../preload/heapscan.h"

#define NB 8

/* Eight 64-byte "blocks" in one buffer, each holding up to 8 words. */
static uintptr_t mem[NB][8] __attribute__((aligned(64)));
static struct hs_block blk[NB];
static uint32_t work[NB];
static struct hs_ctx ctx;

static void setup_blocks(size_t size)
{
	memset(mem, 0, sizeof mem);
	/* given in reverse order: hs_sort must put them right */
	for (int i = 0; i < NB; i++)
		blk[i] = (struct hs_block){ (uintptr_t)mem[NB - 1 - i], size, (uint32_t)(NB - 1 - i),
		                            HS_UNSEEN, 0 };
	hs_sort(blk, NB);
	ctx = (struct hs_ctx){ .b = blk, .n = NB, .work = work };
}

static uint32_t state_of(int i)
{
	for (int k = 0; k < NB; k++)
		if (blk[k].start == (uintptr_t)mem[i])
			return blk[k].state;
	fail_msg("block %d not found", i);
	return 0;
}

static void test_sort_and_find(void **st)
{
	(void)st;
	setup_blocks(64);
	for (int i = 1; i < NB; i++)
		assert_true(blk[i - 1].start < blk[i].start);
	assert_int_equal(hs_find(&ctx, (uintptr_t)mem[3]), 3);
	assert_int_equal(hs_find(&ctx, (uintptr_t)mem[3] + 63), 3);   /* interior */
	assert_int_equal(hs_find(&ctx, (uintptr_t)mem[0] - 1), -1);
	assert_int_equal(hs_find(&ctx, (uintptr_t)mem[NB - 1] + 64), -1);
	setup_blocks(16);   /* gaps between blocks: nothing there */
	assert_int_equal(hs_find(&ctx, (uintptr_t)mem[2] + 16), -1);
	assert_int_equal(hs_find(&ctx, (uintptr_t)mem[2] + 8), 2);
}

static void test_classes(void **st)
{
	(void)st;
	setup_blocks(64);
	/* root -> 0 -> 1 (interior pointer) -> 2 */
	mem[0][0] = (uintptr_t)mem[1] + 24;
	mem[1][3] = (uintptr_t)mem[2];
	/* 3 lost -> 4 -> 5 */
	mem[3][0] = (uintptr_t)mem[4];
	mem[4][7] = (uintptr_t)mem[5];
	/* 6 <-> 7: a lost cycle */
	mem[6][1] = (uintptr_t)mem[7];
	mem[7][1] = (uintptr_t)mem[6];
	uintptr_t roots[4] = { 12345, (uintptr_t)mem[0], 0, ~(uintptr_t)0 };
	hs_scan_root(&ctx, roots, sizeof roots);
	hs_classify(&ctx);
	assert_int_equal(state_of(0), HS_REACHABLE);
	assert_int_equal(state_of(1), HS_REACHABLE);
	assert_int_equal(state_of(2), HS_REACHABLE);
	assert_int_equal(state_of(3), HS_DIRECT);
	assert_int_equal(state_of(4), HS_INDIRECT);
	assert_int_equal(state_of(5), HS_INDIRECT);
	assert_int_equal(state_of(6), HS_DIRECT);   /* the first of the cycle */
	assert_int_equal(state_of(7), HS_INDIRECT);
	assert_int_equal(ctx.roots_bytes, sizeof roots);
}

/* A lost block met late that points at an earlier lost one absorbs it:
 * one direct leak for the whole structure. */
static void test_leader_absorbed(void **st)
{
	(void)st;
	setup_blocks(64);
	mem[5][0] = (uintptr_t)mem[2];   /* 5 -> 2; 2 comes first in address order */
	hs_classify(&ctx);
	assert_int_equal(state_of(2), HS_INDIRECT);
	assert_int_equal(state_of(5), HS_DIRECT);
	assert_int_equal(state_of(0), HS_DIRECT);
}

/* Only the requested bytes are scanned: a pointer past them is not one. */
static void test_scan_size(void **st)
{
	(void)st;
	setup_blocks(16);
	mem[0][3] = (uintptr_t)mem[1];   /* at byte 24, past 16 */
	uintptr_t root = (uintptr_t)mem[0];
	hs_scan_root(&ctx, &root, sizeof root);
	hs_classify(&ctx);
	assert_int_equal(state_of(0), HS_REACHABLE);
	assert_int_equal(state_of(1), HS_DIRECT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_and_find),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_leader_absorbed),
		cmocka_unit_test(test_scan_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
