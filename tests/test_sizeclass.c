/*
 * test_sizeclass.c - size -> class mapping and block alignment, for every
 * request size 0..513, in both alignment modes.
 */
#include "testutil.h"
#include <errno.h>

#include "internal.h"

static void build(unsigned align, uint8_t *table, uint16_t *sizes, unsigned *n)
{
	pt__sizeclass_build(align, table, sizes, n);
}

static void test_align16_has_32_classes_multiples_of_16(void **state)
{
	uint8_t table[PT_SMALL_MAX + 1];
	uint16_t sizes[PT_NCLASSES_MAX];
	unsigned n;
	build(16, table, sizes, &n);
	assert_int_equal(n, 32);
	for (unsigned c = 0; c < n; c++)
		assert_int_equal(sizes[c], 16 * (c + 1));
}

static void test_align8_has_63_classes_in_steps_of_8_from_16(void **state)
{
	uint8_t table[PT_SMALL_MAX + 1];
	uint16_t sizes[PT_NCLASSES_MAX];
	unsigned n;
	build(8, table, sizes, &n);
	assert_int_equal(n, 63);
	for (unsigned c = 0; c < n; c++)
		assert_int_equal(sizes[c], 8 * (c + 2));
}

/* The class of n is the smallest class that holds n (0 counts as 1). */
static void check_every_size_maps_to_smallest_fitting_class(unsigned align)
{
	uint8_t table[PT_SMALL_MAX + 1];
	uint16_t sizes[PT_NCLASSES_MAX];
	unsigned n;
	build(align, table, sizes, &n);
	for (size_t req = 0; req <= PT_SMALL_MAX; req++) {
		unsigned c = table[req];
		size_t need = req ? req : 1;
		assert_true(c < n);
		assert_true(sizes[c] >= need);
		if (c > 0)
			assert_true(sizes[c - 1] < need);
		assert_true(sizes[c] >= PT_MIN_BLOCK);
		if (align == 16)
			assert_int_equal(sizes[c] % 16, 0);
	}
}

static void test_every_size_0_to_512_maps_to_smallest_class_align16(void **state)
{
	check_every_size_maps_to_smallest_fitting_class(16);
}

static void test_every_size_0_to_512_maps_to_smallest_class_align8(void **state)
{
	check_every_size_maps_to_smallest_fitting_class(8);
}

/*
 * In a fresh process configured for `align`: allocate every size 0..513,
 * check the block's alignment, usable size and that 513 is refused.
 */
static int child_alignment(void *arg)
{
	unsigned align = (unsigned)(uintptr_t)arg;
	struct pt_config cfg = { .align = align };
	CHILD_CHECK(pt_configure(&cfg) == 0);
	CHILD_CHECK(pt_align() == align);
	CHILD_CHECK(pt_nclasses() == (align == 8 ? 63u : 32u));
	void *blocks[PT_SMALL_MAX + 1];
	for (size_t n = 0; n <= PT_SMALL_MAX; n++) {
		char *p = pt_alloc(n);
		CHILD_CHECK(p != NULL);
		CHILD_CHECK(pt_owns(p));
		size_t bs = pt_block_size(p);
		CHILD_CHECK(bs >= (n ? n : 1) && bs == pt_class_size(pt_size_class(n)));
		if (align == 16 && n > 8)
			CHILD_CHECK(((uintptr_t)p & 15) == 0);
		CHILD_CHECK(((uintptr_t)p & 7) == 0);
		for (size_t i = 0; i < bs; i++)   /* the whole block is writable */
			p[i] = (char)n;
		blocks[n] = p;
	}
	for (size_t n = 0; n <= PT_SMALL_MAX; n++) {
		for (size_t i = 0; i < pt_block_size(blocks[n]); i++)
			CHILD_CHECK(((char *)blocks[n])[i] == (char)n);
		pt_free(blocks[n]);
	}
	errno = 0;
	CHILD_CHECK(pt_alloc(PT_SMALL_MAX + 1) == NULL && errno == ENOMEM);
	/* aligned requests: every power of two up to 512 */
	for (size_t a = 1; a <= PT_SMALL_MAX; a <<= 1)
		for (size_t n = 0; n <= PT_SMALL_MAX; n += 7) {
			void *p = pt_alloc_aligned(a, n);
			size_t rounded = ((n > a ? n : a) + a - 1) & ~(a - 1);
			if (rounded > PT_SMALL_MAX) {
				CHILD_CHECK(p == NULL);
				continue;
			}
			CHILD_CHECK(p != NULL && ((uintptr_t)p & (a - 1)) == 0);
			CHILD_CHECK(pt_block_size(p) >= n);
			pt_free(p);
		}
	/* configuration is fixed once the allocator is in use */
	CHILD_CHECK(pt_configure(&cfg) == EBUSY);
	return 0;
}

static void test_blocks_are_aligned_in_align16_mode(void **state)
{
	assert_int_equal(run_in_child(child_alignment, (void *)16), 0);
}

static void test_blocks_are_aligned_in_align8_mode(void **state)
{
	assert_int_equal(run_in_child(child_alignment, (void *)8), 0);
}

static int child_default(void *arg)
{
	void *p = pt_alloc(24);   /* first use without pt_configure */
	CHILD_CHECK(p && pt_align() == 16 && pt_block_size(p) == 32);
	return 0;
}

static void test_default_mode_is_align16(void **state)
{
	assert_int_equal(run_in_child(child_default, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_align16_has_32_classes_multiples_of_16),
		cmocka_unit_test(test_align8_has_63_classes_in_steps_of_8_from_16),
		cmocka_unit_test(test_every_size_0_to_512_maps_to_smallest_class_align16),
		cmocka_unit_test(test_every_size_0_to_512_maps_to_smallest_class_align8),
		cmocka_unit_test(test_blocks_are_aligned_in_align16_mode),
		cmocka_unit_test(test_blocks_are_aligned_in_align8_mode),
		cmocka_unit_test(test_default_mode_is_align16),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
