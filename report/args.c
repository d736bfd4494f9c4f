/*
 * args.c - the option helpers of the commands (args.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int pt_usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pooltrace: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(pooltrace --help for usage)\n");
	return 1;
}

int pt_opt_trace(const char *cmd, const char *arg, const char **path, size_t n)
{
	if (arg[0] == '-' && arg[1])
		return pt_usage_error("%s: unknown option %s", cmd, arg);
	for (size_t k = 0; k < n; k++)
		if (!path[k]) {
			path[k] = arg;
			return 0;
		}
	return pt_usage_error("%s: one trace at a time (%s)", cmd, arg);
}

int pt_opt_no_trace(const char *cmd)
{
	return pt_usage_error("%s: no trace file given", cmd);
}

int pt_opt_output(const char *cmd, int argc, char **argv, int *i, const char **out)
{
	const char *a = argv[*i];
	if (strcmp(a, "-o") != 0 && strcmp(a, "--output") != 0)
		return -1;
	if (*i + 1 >= argc)
		return pt_usage_error("%s: %s needs a file name", cmd, a);
	*out = argv[++*i];
	return 0;
}

/* A count from 1 to 1,000,000. */
static int parse_count(const char *s, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = s ? strtoul(s, &end, 10) : 0;
	if (!s || errno || end == s || *end || *s == '-' || v == 0 || v > 1000000)
		return -1;
	*out = v;
	return 0;
}

int pt_opt_listing(const char *cmd, int argc, char **argv, int *i, struct pt_listing *l)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	unsigned long *dest = strcmp(a, "--top") == 0 ? &l->top :
	                      strcmp(a, "--frames") == 0 ? &l->frames : NULL;
	if (!dest)
		return -1;
	if (parse_count(v, dest))
		return pt_usage_error("%s: %s needs a number from 1, not '%s'", cmd, a, v ? v : "");
	++*i;
	return 0;
}

int pt_opt_listing_only(const char *cmd, int argc, char **argv, struct pt_listing *l,
                        const char **path)
{
	for (int i = 0; i < argc; i++) {
		int rc = pt_opt_listing(cmd, argc, argv, &i, l);
		if (rc < 0)
			rc = pt_opt_trace(cmd, argv[i], path, 1);
		if (rc)
			return rc;
	}
	return *path ? 0 : pt_opt_no_trace(cmd);
}
