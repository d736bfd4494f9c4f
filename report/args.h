/*
 * args.h - the command line every command shares: the exit statuses, the
 * option parser (--name VALUE, --name=VALUE, -o VALUE, -oVALUE, --help and
 * -h, "--" to end the options), and the options of the reports that list
 * stacks (--top, --frames, --json, --bytes).
 *
 * A command declares its options in a table and calls pt_opt_next() until
 * it returns PT_OPT_END.  --help and -h print the command's usage on
 * standard output and a usage error prints one line on standard error;
 * both end the loop with PT_OPT_STOP and the exit status in c->status.
 */
#ifndef POOLTRACE_ARGS_H
#define POOLTRACE_ARGS_H

#include <stddef.h>

/* The exit statuses of every command but run (which exits with the
 * program's status), as pooltrace(1) lists them.  When several apply,
 * the first of 3, 2, 1, 4 wins. */
enum {
	PT_EXIT_OK = 0,
	PT_EXIT_FOUND = 1,        /* leaks --fail-on-leak found a lost block,
	                             diff --fail-on-growth a growth past it */
	PT_EXIT_USAGE = 2,        /* a usage error, an input that cannot be read
	                             (not a trace, no such file), out of memory */
	PT_EXIT_OUTPUT = 3,       /* the output could not be written */
	PT_EXIT_PARTIAL = 4,      /* the trace is damaged in the middle: the
	                             result covers only the parts that were read */
};

/* The text of the exit statuses, for the --help of every command. */
extern const char pt_exit_help[];

/* "pooltrace: [CMD: ]MESSAGE" and a pointer to --help on stderr; returns
 * PT_EXIT_USAGE. */
int pt_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the parser ------------------------------------------------------------ */

struct pt_optdef {
	const char *name;         /* long name, without "--" */
	char short_name;          /* or 0 */
	int has_arg;              /* takes a value */
	int id;                   /* what pt_opt_next returns for it (>= 0) */
};

#define PT_OPT_END     (-1)      /* no word left */
#define PT_OPT_OPERAND (-2)      /* a word that is not an option: c->arg */
#define PT_OPT_STOP    (-3)      /* --help printed, or a usage error: exit
                                    with c->status */

struct pt_cmdline {
	const char *cmd;          /* "report", ... */
	const char *usage;        /* the command's --help text */
	int argc;
	char **argv;
	int i;                    /* the next word */
	int operands_only;        /* after "--" */
	int stop_at_operand;      /* run: the first operand ends the options
	                             (pt_opt_next returns PT_OPT_END with i on it) */
	const char *opt;          /* the option as written ("--top", "-o") */
	const char *arg;          /* its value, or the operand */
	int status;               /* with PT_OPT_STOP */
};

void pt_opt_init(struct pt_cmdline *c, const char *cmd, const char *usage, int argc,
                 char **argv);

/* The next option's id, PT_OPT_OPERAND, PT_OPT_END or PT_OPT_STOP.  An
 * option's value may not be "--" (an option written without its value
 * must not eat the end of the options); "-" is a value. */
int pt_opt_next(struct pt_cmdline *c, const struct pt_optdef *defs);

/* A usage error about the current option or operand: PT_OPT_STOP, with
 * c->status set. */
int pt_opt_error(struct pt_cmdline *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* c->arg, an operand, into the next free one of the n trace paths
 * path[0..n) (NULL when free): 0, or PT_OPT_STOP for one too many. */
int pt_opt_trace(struct pt_cmdline *c, const char **path, size_t n);

/* The error for a command run without its trace. */
int pt_opt_no_trace(struct pt_cmdline *c);

/* c->arg as a count from 1 to 1,000,000 into *out: 0, or PT_OPT_STOP. */
int pt_opt_count(struct pt_cmdline *c, unsigned long *out);

/* A size: digits with an optional k, M or G (powers of 1024, "KiB" and
 * "kB" read alike): 0 and *out set, or -1. */
int pt_parse_size(const char *s, unsigned long long *out);

/* ---- the reports' common options --------------------------------------------- */

struct pt_listing {
	unsigned long top;        /* --top N: sites or stacks listed */
	unsigned long frames;     /* --frames N: frames per stack printed */
	int json;                 /* --json: the JSON document instead of text */
	int bytes;                /* --bytes: exact byte counts in the text */
};

enum { PT_OPT_TOP = 1000, PT_OPT_FRAMES, PT_OPT_JSON, PT_OPT_BYTES };

/* The entries of the listing options, to put in a command's table. */
#define PT_LISTING_OPTS                                  \
	{ "top", 0, 1, PT_OPT_TOP },                     \
	{ "frames", 0, 1, PT_OPT_FRAMES },               \
	{ "json", 0, 0, PT_OPT_JSON },                   \
	{ "bytes", 0, 0, PT_OPT_BYTES }

/* id, one of the listing options, into l: 0, or PT_OPT_STOP; -1 if id is
 * another option. */
int pt_opt_listing(struct pt_cmdline *c, int id, struct pt_listing *l);

/* The whole command line of a command whose options are the listing ones
 * only, and one trace: 0, or the exit status to return (c->status). */
int pt_opt_listing_only(struct pt_cmdline *c, struct pt_listing *l, const char **path);

#endif
