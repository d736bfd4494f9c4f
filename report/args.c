/*
 * args.c - the command line of the commands (args.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "view.h"

const char pt_exit_help[] =
	"Exit status:\n"
	"  0  done\n"
	"  1  leaks --fail-on-leak: a block was lost; diff --fail-on-growth: growth past it\n"
	"  2  usage error, or an input that cannot be read (no such file, not a trace)\n"
	"  3  the output could not be written (disk full, closed pipe)\n"
	"  4  the trace is damaged in the middle: the result covers only what was read\n"
	"  (several: the first of 3, 2, 1, 4; run exits with the program's status)\n";

static void verror(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "pooltrace: ");
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (pooltrace %s%s--help for usage)\n", cmd ? cmd : "", cmd ? " " : "");
}

int pt_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(NULL, fmt, ap);
	va_end(ap);
	return PT_EXIT_USAGE;
}

int pt_opt_error(struct pt_cmdline *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(c->cmd, fmt, ap);
	va_end(ap);
	c->status = PT_EXIT_USAGE;
	return PT_OPT_STOP;
}

void pt_opt_init(struct pt_cmdline *c, const char *cmd, const char *usage, int argc,
                 char **argv)
{
	memset(c, 0, sizeof *c);
	c->cmd = cmd;
	c->usage = usage;
	c->argc = argc;
	c->argv = argv;
}

static int help(struct pt_cmdline *c)
{
	fputs(c->usage, stdout);
	fputs("\n", stdout);
	fputs(pt_exit_help, stdout);
	c->status = fflush(stdout) == 0 && !ferror(stdout) ? PT_EXIT_OK : PT_EXIT_OUTPUT;
	if (c->status)
		fprintf(stderr, "pooltrace: cannot write standard output: %s\n", strerror(errno));
	return PT_OPT_STOP;
}

int pt_opt_next(struct pt_cmdline *c, const struct pt_optdef *defs)
{
	if (c->i >= c->argc)
		return PT_OPT_END;
	const char *w = c->argv[c->i];
	c->opt = w;
	c->arg = NULL;
	if (c->operands_only || w[0] != '-' || w[1] == 0) {     /* "-" is an operand */
		if (c->stop_at_operand)
			return PT_OPT_END;
		c->i++;
		c->arg = w;
		return PT_OPT_OPERAND;
	}
	c->i++;
	if (strcmp(w, "--") == 0) {
		c->operands_only = 1;
		if (c->stop_at_operand)
			return PT_OPT_END;
		return pt_opt_next(c, defs);
	}
	if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0)
		return help(c);

	const struct pt_optdef *d = NULL;
	const char *inline_val = NULL;
	if (w[1] == '-') {                       /* --name or --name=value */
		const char *name = w + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		for (const struct pt_optdef *x = defs; x->name; x++)
			if (strlen(x->name) == len && strncmp(x->name, name, len) == 0)
				d = x;
		if (!d)
			return pt_opt_error(c, "unknown option --%.*s", (int)len, name);
		if (eq) {
			if (!d->has_arg)
				return pt_opt_error(c, "--%s takes no value ('%s')", d->name, w);
			inline_val = eq + 1;
		}
	} else {                                 /* -x, -xVALUE */
		for (const struct pt_optdef *x = defs; x->name; x++)
			if (x->short_name && x->short_name == w[1])
				d = x;
		if (!d)
			return pt_opt_error(c, "unknown option %s", w);
		if (w[2]) {
			if (!d->has_arg)
				return pt_opt_error(c, "unknown option %s", w);
			inline_val = w + 2;
		}
	}
	if (d->has_arg) {
		if (inline_val) {
			c->arg = inline_val;
		} else {
			if (c->i >= c->argc || strcmp(c->argv[c->i], "--") == 0)
				return pt_opt_error(c, "%s needs a value", w);
			c->arg = c->argv[c->i++];
		}
		if (!*c->arg)
			return pt_opt_error(c, "%s needs a value, not an empty word", w);
	}
	return d->id;
}

int pt_opt_trace(struct pt_cmdline *c, const char **path, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!path[k]) {
			path[k] = c->arg;
			return 0;
		}
	return pt_opt_error(c, n == 1 ? "one trace at a time ('%s')" : "too many traces ('%s')",
	                    c->arg);
}

int pt_opt_no_trace(struct pt_cmdline *c)
{
	pt_opt_error(c, "no trace file given");
	return c->status;
}

int pt_opt_count(struct pt_cmdline *c, unsigned long *out)
{
	const char *s = c->arg;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v == 0 || v > 1000000)
		return pt_opt_error(c, "%s needs a number from 1 to 1000000, not '%s'", c->opt, s);
	*out = v;
	return 0;
}

int pt_parse_size(const char *s, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned long long m = 1;
	if (*end == 'k' || *end == 'K')
		m = 1ull << 10, end++;
	else if (*end == 'm' || *end == 'M')
		m = 1ull << 20, end++;
	else if (*end == 'g' || *end == 'G')
		m = 1ull << 30, end++;
	if (*end == 'i' && m > 1)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (m > 1 && v > ~0ull / m))
		return -1;
	*out = v * m;
	return 0;
}

int pt_opt_listing(struct pt_cmdline *c, int id, struct pt_listing *l)
{
	switch (id) {
	case PT_OPT_TOP:
		return pt_opt_count(c, &l->top);
	case PT_OPT_FRAMES:
		return pt_opt_count(c, &l->frames);
	case PT_OPT_JSON:
		l->json = 1;
		return 0;
	case PT_OPT_BYTES:
		l->bytes = 1;
		pt_exact_bytes = 1;
		return 0;
	}
	return -1;
}

int pt_opt_listing_only(struct pt_cmdline *c, struct pt_listing *l, const char **path)
{
	static const struct pt_optdef defs[] = { PT_LISTING_OPTS, { 0 } };
	int id;
	while ((id = pt_opt_next(c, defs)) != PT_OPT_END) {
		if (id == PT_OPT_STOP)
			return c->status;
		int rc = id == PT_OPT_OPERAND ? pt_opt_trace(c, path, 1) : pt_opt_listing(c, id, l);
		if (rc)
			return c->status;
	}
	return *path ? 0 : pt_opt_no_trace(c);
}
