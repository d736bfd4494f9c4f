/*
 * args.h - what the commands' option loops share: the usage error, the
 * trace operands, the -o option, and --top and --frames of the reports
 * that list stacks.
 *
 * Each command walks its own argv (after the command name) and hands the
 * words it does not know to these, which check them and print the one-line
 * error.  Functions that return int return 0 when all is well, or the exit
 * status of a usage error, 1, after printing it; those that may not own
 * the word return -1 and leave it alone.
 */
#ifndef POOLTRACE_ARGS_H
#define POOLTRACE_ARGS_H

#include <stddef.h>

/* "pooltrace: MESSAGE" and a pointer to --help on stderr; returns 1. */
int pt_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* arg, a word of argv that no option took: the next free one of the n
 * trace operands path[0..n) (NULL when free).  An option (a word starting
 * with '-', but not "-" alone), or an operand too many, is the error. */
int pt_opt_trace(const char *cmd, const char *arg, const char **path, size_t n);

/* The error for a command run without its trace. */
int pt_opt_no_trace(const char *cmd);

/* argv[*i] is -o or --output: *out set to the file name after it (*i
 * moved onto it).  -1: another word. */
int pt_opt_output(const char *cmd, int argc, char **argv, int *i, const char **out);

struct pt_listing {
	unsigned long top;        /* --top N: sites or stacks listed */
	unsigned long frames;     /* --frames N: frames per stack printed */
};

/* argv[*i] is --top or --frames: its value, a number from 1 to 1,000,000,
 * into l (*i moved onto it).  -1: another word. */
int pt_opt_listing(const char *cmd, int argc, char **argv, int *i, struct pt_listing *l);

/* The whole argv of a command whose options are --top and --frames only,
 * and one trace, into *path. */
int pt_opt_listing_only(const char *cmd, int argc, char **argv, struct pt_listing *l,
                        const char **path);

#endif
