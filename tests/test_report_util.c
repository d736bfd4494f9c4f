/*
 * test_report_util.c - report/util.c: the string table, growing strings,
 * the hash, and the JSON string writer's rules (util.h), one by one.
 */
#include <string.h>

#include "testutil.h"
#include "../report/util.h"

/* s (len bytes) as pt_buf_json writes it, without the quotes */
static const char *json(const char *s, size_t len)
{
	static struct pt_buf b;
	b.len = 0;
	pt_buf_json(&b, s, len);
	assert_true(b.len >= 2);
	assert_int_equal(b.s[0], '"');
	assert_int_equal(b.s[b.len - 1], '"');
	b.s[b.len - 1] = 0;
	return b.s + 1;
}

#define J(lit) json(lit, sizeof lit - 1)

static void test_strtab_ids_in_order_met(void **state)
{
	struct pt_strtab t = { 0 };
	char s[32];
	for (unsigned i = 0; i < 5000; i++) {      /* several growths */
		snprintf(s, sizeof s, "name %u", i);
		assert_int_equal(pt_strtab_intern(&t, s), i);
	}
	assert_int_equal(t.n, 5000);
	for (unsigned i = 0; i < 5000; i += 7) {
		snprintf(s, sizeof s, "name %u", i);
		assert_int_equal(pt_strtab_intern(&t, s), i);
		assert_string_equal(t.str[i], s);
	}
	assert_int_equal(pt_strtab_intern(&t, ""), 5000);
	assert_int_equal(pt_strtab_intern(&t, ""), 5000);
	assert_int_equal(t.n, 5001);
	pt_strtab_free(&t);
	assert_int_equal(t.n, 0);
	assert_int_equal(pt_strtab_intern(&t, "again"), 0);
	pt_strtab_free(&t);
}

static void test_buf_grows_and_stays_terminated(void **state)
{
	struct pt_buf b = { 0 };
	pt_buf_put(&b, "", 0);
	assert_non_null(b.s);
	assert_string_equal(b.s, "");
	for (int i = 0; i < 1000; i++)
		pt_buf_printf(&b, "%d,", i);
	pt_buf_putc(&b, 'x');
	assert_int_equal(b.len, strlen(b.s));
	assert_memory_equal(b.s, "0,1,2,", 6);
	assert_memory_equal(b.s + b.len - 5, "999,x", 5);
	b.len = 0;
	pt_buf_put(&b, "ab", 2);
	assert_string_equal(b.s, "ab");
	free(b.s);
}

/* the low bits index a table: 4096 similar keys into 4096 buckets fill
 * most of them (a perfect random hash: 63%) */
static void test_hash_spreads_similar_keys(void **state)
{
	static unsigned char hit[4096];
	char s[32];
	unsigned used = 0;
	for (unsigned i = 0; i < 4096; i++) {
		snprintf(s, sizeof s, "frame%u", i);
		unsigned k = pt_hash_str(s) & 4095;
		used += !hit[k];
		hit[k] = 1;
	}
	assert_true(used > 2400);
	assert_true(pt_hash_str("a") != pt_hash_str("b"));
	assert_true(pt_hash_u64(1) != pt_hash_u64(2));
}

static void test_json_quotes_and_controls(void **state)
{
	assert_string_equal(J("plain text, UTF-8 \xc3\xa9"), "plain text, UTF-8 \xc3\xa9");
	assert_string_equal(J("a\"b\\c"), "a\\\"b\\\\c");
	assert_string_equal(J("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
	assert_string_equal(J("\x01\x1f\x7f"), "\\u0001\\u001f\\u007f");
	assert_string_equal(J("a\0b"), "a\\u0000b");     /* len, not the NUL, ends it */
}

static void test_json_is_inert_in_a_script_element(void **state)
{
	assert_string_equal(J("</script><!-- & -->"),
	                    "\\u003c/script\\u003e\\u003c!-- \\u0026 --\\u003e");
	assert_string_equal(J("a\xe2\x80\xa8" "b\xe2\x80\xa9"), "a\\u2028b\\u2029");
	assert_string_equal(J("\xe2\x80\xa7"), "\xe2\x80\xa7");        /* U+2027 stays */
}

static void test_json_replaces_bytes_that_are_not_utf8(void **state)
{
	assert_string_equal(J("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");   /* U+1F600 */
	assert_string_equal(J("\xff"), "\\ufffd");
	assert_string_equal(J("a\x80z"), "a\\ufffdz");                    /* stray */
	assert_string_equal(J("\xc3"), "\\ufffd");                         /* cut at the end */
	assert_string_equal(json("\xc3\xa9", 1), "\\ufffd");              /* never read past len */
	assert_string_equal(J("\xe2\x82z"), "\\ufffd\\ufffdz");            /* cut */
	assert_string_equal(J("\xc0\xaf"), "\\ufffd\\ufffd");              /* overlong '/' */
	assert_string_equal(J("\xe0\x80\xbc"), "\\ufffd\\ufffd\\ufffd");   /* overlong '<' */
	assert_string_equal(J("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");   /* a surrogate */
	assert_string_equal(J("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");
	/* a cut sequence does not swallow the quote or '<' after it */
	assert_string_equal(J("\xe2\"<"), "\\ufffd\\\"\\u003c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strtab_ids_in_order_met),
		cmocka_unit_test(test_buf_grows_and_stays_terminated),
		cmocka_unit_test(test_hash_spreads_similar_keys),
		cmocka_unit_test(test_json_quotes_and_controls),
		cmocka_unit_test(test_json_is_inert_in_a_script_element),
		cmocka_unit_test(test_json_replaces_bytes_that_are_not_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
