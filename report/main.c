/*
 * main.c - the pooltrace command: the command word picks one of the
 * commands (commands.h), each in its own file, cmd_NAME.c, which has its
 * own --help.
 *
 *   pooltrace run | dump | report | leaks | frag | html | export | diff | symbolize ...
 *   pooltrace --help | --version | help [COMMAND]
 *
 * Exit statuses: args.h (PT_EXIT_*), pooltrace(1).
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "json.h"
#include "python.h"
#include "trace_read.h"

static const char usage[] =
	"usage: pooltrace COMMAND [OPTIONS] ...\n"
	"\n"
	"  run        run a program with libpooltrace.so preloaded and profiling on\n"
	"  report     summary: calls, peak heap and RSS, temporaries, top sites, sizes\n"
	"  leaks      blocks never freed, by stack: definitely and indirectly lost, reachable\n"
	"  frag       what fills RSS: rounding, free blocks, empty pools, pinned arenas\n"
	"  html       one self-contained page: timeline, flame graphs, tables, charts\n"
	"  export     pprof (protobuf), pprof-text, massif, folded, speedscope\n"
	"  diff       per stack growth from one trace to another\n"
	"  dump       a trace's records as text\n"
	"  symbolize  function, file:line and inlined calls of addresses\n"
	"\n"
	"Python programs: stacks show Python frames with file:line where the\n"
	"interpreter ran them, without its own native frames; the commands that print\n"
	"stacks take --native to show those too.  report and leaks take --by type: the\n"
	"Python objects the program left when the interpreter began to finalize, and\n"
	"those left at exit, by type (tp_name) and allocation site.\n"
	"\n"
	"  pooltrace COMMAND --help    the command's options\n"
	"  pooltrace --version\n"
	"\n"
	"  pooltrace run -- ./app args...        records pooltrace.app.PID.trace\n"
	"  pooltrace report pooltrace.app.1234.trace\n"
	"\n";

static const struct {
	const char *name;
	int (*fn)(int, char **);
} cmds[] = {
	{ "run", pt_cmd_run }, { "dump", pt_cmd_dump },
	{ "report", pt_cmd_report }, { "leaks", pt_cmd_leaks }, { "frag", pt_cmd_frag },
	{ "html", pt_cmd_html }, { "export", pt_cmd_export }, { "diff", pt_cmd_diff },
	{ "symbolize", pt_cmd_symbolize },
};

static int find(const char *name)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(name, cmds[i].name) == 0)
			return (int)i;
	return -1;
}

static int out_status(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return PT_EXIT_OK;
	perror("pooltrace: cannot write standard output");
	return PT_EXIT_OUTPUT;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return pt_usage_error("no command given");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		if (argc > 2 && strcmp(cmd, "help") == 0) {      /* help COMMAND */
			int k = find(argv[2]);
			if (k < 0)
				return pt_usage_error("unknown command '%s'", argv[2]);
			char *h[] = { "--help", NULL };
			return cmds[k].fn(1, h);
		}
		fputs(usage, stdout);
		fputs(pt_exit_help, stdout);
		fputs("\nSee pooltrace(1) and pooltrace-trace(5).\n", stdout);
		return out_status();
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("pooltrace %s (trace format %u, JSON schema %u)\n", PT_VERSION,
		       PT_TRACE_VERSION, PT_JSON_SCHEMA_VERSION);
		return out_status();
	}
	int k = find(cmd);
	if (k < 0)
		return pt_usage_error("unknown command '%s'", cmd);
	return cmds[k].fn(pt_python_options(cmd, argc - 2, argv + 2), argv + 2);
}
