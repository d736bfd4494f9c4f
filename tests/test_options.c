/*
 * test_options.c - POOLTRACE_* parsing: valid values are taken, a bad value
 * gives exactly one warning line naming the variable and the default.
 */
#include "testutil.h"
#include <fcntl.h>
#include <string.h>

#include "fmt.h"
#include "options.h"

static void test_align_accepts_only_8_and_16(void **state)
{
	unsigned v = 0;
	assert_int_equal(pt__option_parse("POOLTRACE_ALIGN", "8", &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(pt__option_parse("POOLTRACE_ALIGN", "16", &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(pt__option_parse("POOLTRACE_ALIGN", "4", &v), -1);
	assert_int_equal(pt__option_parse("POOLTRACE_ALIGN", "32", &v), -1);
	assert_int_equal(pt__option_parse("POOLTRACE_ALIGN", "", &v), -1);
	assert_int_equal(pt__option_parse("POOLTRACE_ALIGN", "16x", &v), -1);
	assert_int_equal(pt__option_parse("POOLTRACE_ALIGN", "99999999999", &v), -1);
}

static void test_stats_accepts_0_and_1(void **state)
{
	unsigned v = 7;
	assert_int_equal(pt__option_parse("POOLTRACE_STATS", "1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pt__option_parse("POOLTRACE_STATS", "0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pt__option_parse("POOLTRACE_STATS", "yes", &v), -1);
	assert_int_equal(pt__option_parse("POOLTRACE_STATS", "-1", &v), -1);
	assert_int_equal(pt__option_parse("POOLTRACE_NOSUCH", "1", &v), -1);
}

/* Read the options in a child with stderr going to a file; return what it wrote. */
static char captured[4096];

static int child_read(void *arg)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	if (fd < 0)
		return 3;
	dup2(fd, 2);
	pt__options_read();
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, captured, sizeof captured - 1);
	captured[n > 0 ? n : 0] = 0;
	/* report what we saw through the exit status and stdout */
	fprintf(stdout, "%s", captured);
	fflush(stdout);
	if (strcmp((const char *)arg, "bad") == 0)
		return pt__opt.align == 16 && pt__opt.stats == 0 &&
		       strcmp(captured, "pooltrace: warning: POOLTRACE_ALIGN=7 is not 8 or 16; "
		                        "using 16\n") == 0 ? 0 : 1;
	return pt__opt.align == 8 && pt__opt.stats == 1 && captured[0] == 0 ? 0 : 1;
}

static void test_bad_value_warns_once_and_uses_default(void **state)
{
	setenv("POOLTRACE_ALIGN", "7", 1);
	assert_int_equal(run_in_child(child_read, "bad"), 0);
	unsetenv("POOLTRACE_ALIGN");
}

static void test_good_values_are_taken_silently(void **state)
{
	setenv("POOLTRACE_ALIGN", "8", 1);
	setenv("POOLTRACE_STATS", "1", 1);
	assert_int_equal(run_in_child(child_read, "good"), 0);
	unsetenv("POOLTRACE_ALIGN");
	unsetenv("POOLTRACE_STATS");
}

/* the formatter the options' warnings (and the reports) are written with */
static void test_fmt_precision_cuts_a_string(void **state)
{
	char buf[64];
	assert_int_equal(pt__fmt(buf, sizeof buf, "[%.*s|%s]", 3, "abcdef", "x"), 7);
	assert_string_equal(buf, "[abc|x]");
	assert_int_equal(pt__fmt(buf, sizeof buf, "[%.10s][%.0s][%.2s]", "ab", "zz", "xyz"), 10);
	assert_string_equal(buf, "[ab][][xy]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_align_accepts_only_8_and_16),
		cmocka_unit_test(test_stats_accepts_0_and_1),
		cmocka_unit_test(test_bad_value_warns_once_and_uses_default),
		cmocka_unit_test(test_good_values_are_taken_silently),
		cmocka_unit_test(test_fmt_precision_cuts_a_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
