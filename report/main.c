/*
 * main.c - the pooltrace command: the command word picks one of the
 * commands (commands.h), each in its own file, cmd_NAME.c.
 *
 *   pooltrace run | dump | report | leaks | frag | html | export | diff ...
 *   pooltrace --help | --version
 *
 * Exit status: run exits with the program's status (128 + signal if it was
 * killed); other commands 0, 1 on a usage error (leaks --fail-on-leak: 1 if
 * anything was lost), 2 if a trace is unreadable or an output unwritable.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "python.h"
#include "trace_read.h"

static const char usage[] =
	"usage: pooltrace run [-o FILE] [--sample BYTES] [--depth N] [--interval MS] [--pymalloc]\n"
	"                     -- CMD [ARGS...]\n"
	"       pooltrace report [--top N] [--frames N] [--by type] TRACE\n"
	"       pooltrace leaks [--fail-on-leak] [--suppressions FILE] [--no-reachable]\n"
	"                       [--top N] [--frames N] [--by type] TRACE\n"
	"       pooltrace frag [--top N] [--frames N] TRACE\n"
	"       pooltrace html [-o FILE] TRACE\n"
	"       pooltrace export --format massif|pprof|folded|speedscope\n"
	"                        [--what peak|leaks|allocated|temporary] [-o FILE] TRACE\n"
	"       pooltrace diff [--by peak|leaked|calls] [--top N] [--frames N] BASE NEW\n"
	"       pooltrace dump [--summary] TRACE\n"
	"       pooltrace --help | --version\n"
	"\n"
	"  run     run CMD with libpooltrace.so preloaded and profiling on; exits with\n"
	"          its status and prints the trace file(s) written on stderr.\n"
	"            -o FILE         trace path; %p pid, %e program, %t start time\n"
	"                            (default: pooltrace.%e.%p.trace in the current directory)\n"
	"            --sample BYTES  record a stack for one allocation every BYTES bytes on\n"
	"                            average (suffix k, M, G); 0 records every allocation\n"
	"            --depth N       frames per stack, 1..256 (default 32)\n"
	"            --interval MS   snapshot period in milliseconds (default 10)\n"
	"            --pymalloc      a Python program keeps pymalloc (else run sets\n"
	"                            PYTHONMALLOC=malloc for it, unless that is set)\n"
	"  report  summary: calls, peak heap and RSS, temporary allocations, bytes not\n"
	"          freed; top sites at the peak, by calls, by temporaries; sizes\n"
	"  leaks   blocks never freed, by stack, biggest first: definitely lost,\n"
	"          indirectly lost, still reachable (the recorder's exit scan)\n"
	"            --fail-on-leak  exit 1 if anything is definitely or indirectly lost\n"
	"            --suppressions FILE  LeakSanitizer syntax: leak:PATTERN lines\n"
	"            --no-reachable  do not list still reachable blocks\n"
	"  frag    what fills RSS: live, rounding, free blocks, empty pools, glibc;\n"
	"          size classes, arena occupancy, pinned arenas, over time\n"
	"  html    one self-contained page: timeline, flame graphs, tables, charts\n"
	"          (default FILE: TRACE.html)\n"
	"  export  massif (ms_print), pprof (google-pprof), folded (flamegraph.pl),\n"
	"          speedscope JSON; of the live bytes at the peak unless --what\n"
	"  diff    per stack growth from BASE to NEW, biggest first\n"
	"            --top N         sites or stacks to list (report 10, others 20)\n"
	"            --frames N      frames per stack to print\n"
	"  dump    print a trace's records as text, in sequence order;\n"
	"          --summary prints only the counts\n"
	"\n"
	"Python programs: stacks show Python frames with file:line where the\n"
	"interpreter ran them, without its own native frames; every command takes\n"
	"--native to show those too.  report and leaks take --by type: the Python\n"
	"objects the program left when the interpreter began to finalize, and those\n"
	"left at exit, by type (tp_name) and allocation site.\n"
	"\n"
	"See pooltrace(1) and pooltrace-trace(5).\n";

int main(int argc, char **argv)
{
	if (argc < 2)
		return pt_usage_error("no command given");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("pooltrace %s (trace format %u)\n", PT_VERSION, PT_TRACE_VERSION);
		return 0;
	}
	static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
		{ "run", pt_cmd_run }, { "dump", pt_cmd_dump },
		{ "report", pt_cmd_report }, { "leaks", pt_cmd_leaks }, { "frag", pt_cmd_frag },
		{ "html", pt_cmd_html }, { "export", pt_cmd_export }, { "diff", pt_cmd_diff },
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(pt_python_options(cmd, argc - 2, argv + 2), argv + 2);
	return pt_usage_error("unknown command '%s'", cmd);
}
