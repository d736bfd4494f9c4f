/*
 * cmd_run.c - pooltrace run [-o FILE] [--sample BYTES] [--depth N]
 * [--interval MS] [--children all|none|NAME,...] [--pymalloc] [-q] -- CMD
 * [ARGS...]: CMD with libpooltrace.so preloaded and profiling on, its
 * options passed as the library's environment variables (and a Python
 * program's PYTHONMALLOC=malloc, unless --pymalloc: report/python.c).  Exits with the program's status
 * (128 + signal if it was killed), after naming on stderr the trace files
 * it wrote and a summary of the program's own trace.
 *
 * The traces are exactly those of the processes it started: each process
 * that creates a trace file appends its path to a list the library is
 * given (POOLTRACE_RUN_LOG, a temporary file), which run reads at the end.
 * POOLTRACE_CHILDREN and POOLTRACE_RUN_PID tell the library which
 * processes record: all, only the program (the process run started, and
 * what it execs), or it and the children of those names.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "profile.h"
#include "python.h"
#include "trace_read.h"
#include "util.h"
#include "view.h"

static const char usage[] =
	"usage: pooltrace run [-o FILE] [--sample BYTES] [--depth N] [--interval MS]\n"
	"                     [--children all|none|NAME[,NAME...]] [--no-children]\n"
	"                     [--pymalloc] [-q] [--] CMD [ARGS...]\n"
	"\n"
	"Runs CMD with libpooltrace.so preloaded and profiling on; exits with its\n"
	"status.  Names the traces written on stderr, then a summary of the program's\n"
	"own trace (calls, peak, lost bytes) and the commands to look at it.\n"
	"\n"
	"  -o, --output FILE    trace path: %p pid, %e program name, %t start time,\n"
	"                       %% a percent sign (default pooltrace.%e.%p.trace); its\n"
	"                       directory must exist and be writable\n"
	"  --sample BYTES       record a stack for one allocation every BYTES on\n"
	"                       average (suffix k, M, G); 0 records every one\n"
	"  --depth N            frames per stack, 1 to 256 (default 32)\n"
	"  --interval MS        snapshot period in milliseconds (default 10)\n"
	"  --children WHICH     the processes CMD starts that are traced too: all\n"
	"                       (default), none, or those named NAME (the program\n"
	"                       name or its file's name; * and ? match any text)\n"
	"  --no-children        --children none: trace CMD only (and what it execs)\n"
	"  --pymalloc           a Python program keeps pymalloc (else run sets\n"
	"                       PYTHONMALLOC=malloc for it, unless that is set)\n"
	"  -q, --quiet          no summary: only the traces written\n"
	"\n"
	"Exit status: the program's (128 + N if signal N killed it); 2 for a usage\n"
	"error, no library, or a trace directory that is missing or not writable;\n"
	"126 or 127 if CMD cannot be run.\n";

#ifndef PT_LIBDIR
#define PT_LIBDIR "/usr/local/lib"
#endif

/* libpooltrace.so next to this program (build tree), then in ../lib. */
static int find_library(char *out, size_t cap)
{
	const char *env = getenv("POOLTRACE_LIB");
	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	char self[PATH_MAX - 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(out, cap, "%s/libpooltrace.so", self);
			if (access(out, R_OK) == 0)
				return 0;
			snprintf(out, cap, "%s/../lib/libpooltrace.so", self);
			if (access(out, R_OK) == 0)
				return 0;
		}
	}
	snprintf(out, cap, "%s/libpooltrace.so", PT_LIBDIR);
	return access(out, R_OK) == 0 ? 0 : -1;
}


/* The directory part of the pattern (no '%' in it) exists and takes new
 * files: 0, or -1 after one error line naming it and the reason. */
static int check_dir(const char *pattern)
{
	const char *slash = strrchr(pattern, '/');
	char dir[PATH_MAX];
	if (!slash)
		return 0;
	snprintf(dir, sizeof dir, "%.*s", (int)(slash != pattern ? slash - pattern : 1), pattern);
	if (strchr(dir, '%'))
		return 0;             /* expanded per process: the library says */
	struct stat st;
	if (stat(dir, &st) != 0) {
		fprintf(stderr, "pooltrace: run: cannot write traces in %s: %s (create it first)\n",
		        dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pooltrace: run: cannot write traces in %s: %s\n", dir,
		        strerror(ENOTDIR));
		return -1;
	}
	char probe[PATH_MAX + 32];
	snprintf(probe, sizeof probe, "%s/.pooltrace-probe-XXXXXX", dir);
	int fd = mkstemp(probe);
	if (fd < 0) {
		fprintf(stderr, "pooltrace: run: cannot write traces in %s: %s\n", dir,
		        strerror(errno));
		return -1;
	}
	close(fd);
	unlink(probe);
	return 0;
}

struct traces {
	char **path;
	size_t n;
};

/* The traces the library listed in the run log, in the order they were
 * created, each once (a file that is gone or not a trace is left out). */
static void read_log(const char *log, struct traces *tr)
{
	FILE *f = fopen(log, "r");
	char line[PATH_MAX + 64];
	while (f && fgets(line, sizeof line, f)) {
		size_t len = strlen(line);
		if (!len || line[len - 1] != '\n')
			continue;             /* a line cut short */
		line[len - 1] = 0;
		int dup = 0;
		for (size_t i = 0; i < tr->n; i++)
			dup |= strcmp(tr->path[i], line) == 0;
		if (dup || access(line, R_OK) != 0)
			continue;
		tr->path = pt_xrealloc(tr->path, (tr->n + 1) * sizeof *tr->path);
		tr->path[tr->n++] = pt_xstrdup(line);
	}
	if (f)
		fclose(f);
}

/* The program's own trace: the last one written by the process run
 * started (after its execs), else the first. */
static const char *own_trace(const struct traces *tr, pid_t pid)
{
	const char *own = tr->n ? tr->path[0] : NULL;
	for (size_t i = 0; i < tr->n; i++) {
		char err[512];
		struct pt_trace *t = pt_trace_open(tr->path[i], err, sizeof err);
		if (t && t->hdr.pid == (uint32_t)pid)
			own = tr->path[i];
		pt_trace_close(t);
	}
	return own;
}

/* heaptrack's closing lines: what the trace holds, and what to run next. */
static void summary(const char *path)
{
	struct pt_profile p;
	char err[512];
	if (pt_profile_load(&p, path, 0, err, sizeof err)) {
		fprintf(stderr, "pooltrace: %s\n", err);
		return;
	}
	fprintf(stderr, "pooltrace: %s: malloc %s, free %s, realloc %s; peak heap %s at %s%s, "
	        "peak RSS %s\n", path, PT_N(p.n_malloc), PT_N(p.n_free), PT_N(p.n_realloc),
	        PT_B(p.peak), PT_T(p.peak_time_ns), p.sampled ? " (estimated)" : "", PT_B(p.peak_rss));
	if (p.have_leaks)
		fprintf(stderr, "pooltrace: lost: %s definitely, %s indirectly (%s still "
		        "reachable)\n", PT_B(p.leak_bytes[PT_LEAK_DEFINITE]),
		        PT_B(p.leak_bytes[PT_LEAK_INDIRECT]), PT_B(p.leak_bytes[PT_LEAK_REACHABLE]));
	else
		fprintf(stderr, "pooltrace: not freed: %s in %s blocks (no leak scan%s)\n",
		        PT_B(p.live), PT_N(p.live_n[0] + p.live_n[1]),
		        p.sampled ? " in a sampled trace" : ": the program did not exit");
	if (p.t->stop[0] || pt_trace_partial(p.t))
		fprintf(stderr, "pooltrace: the trace is cut short or damaged: %s\n", p.t->stop);
	fprintf(stderr, "pooltrace: next: pooltrace report %s\n"
	        "                 pooltrace leaks %s\n"
	        "                 pooltrace html %s\n", path, path, path);
	pt_profile_free(&p);
}

enum { OPT_OUTPUT, OPT_SAMPLE, OPT_DEPTH, OPT_INTERVAL, OPT_CHILDREN, OPT_NO_CHILDREN,
       OPT_QUIET, OPT_PYMALLOC };

struct run_opts {
	const char *out, *children;
	unsigned long long sample, depth, interval;
	int have_sample, quiet, pymalloc;
};

/* 0 and *first the index of CMD, or the exit status (c->status). */
static int parse_run(int argc, char **argv, struct run_opts *o, int *first)
{
	static const struct pt_optdef defs[] = {
		{ "output", 'o', 1, OPT_OUTPUT },
		{ "sample", 0, 1, OPT_SAMPLE },
		{ "depth", 0, 1, OPT_DEPTH },
		{ "interval", 0, 1, OPT_INTERVAL },
		{ "children", 0, 1, OPT_CHILDREN },
		{ "no-children", 0, 0, OPT_NO_CHILDREN },
		{ "quiet", 'q', 0, OPT_QUIET },
		{ "pymalloc", 0, 0, OPT_PYMALLOC },
		{ 0 },
	};
	struct pt_cmdline c;
	pt_opt_init(&c, "run", usage, argc, argv);
	c.stop_at_operand = 1;
	int id;
	while ((id = pt_opt_next(&c, defs)) != PT_OPT_END) {
		int rc = 0;
		switch (id) {
		case PT_OPT_STOP:
			return c.status ? c.status : -1;
		case OPT_OUTPUT:
			o->out = c.arg;
			break;
		case OPT_SAMPLE:
			if (pt_parse_size(c.arg, &o->sample) || o->sample > 0xffffffffull)
				rc = pt_opt_error(&c, "--sample needs a number of bytes, not '%s'", c.arg);
			o->have_sample = 1;
			break;
		case OPT_DEPTH:
			if (pt_parse_size(c.arg, &o->depth) || o->depth < 1 || o->depth > 256)
				rc = pt_opt_error(&c, "--depth needs a number from 1 to 256, not '%s'",
				                  c.arg);
			break;
		case OPT_INTERVAL:
			if (pt_parse_size(c.arg, &o->interval) || o->interval < 1 ||
			    o->interval > 3600000)
				rc = pt_opt_error(&c, "--interval needs milliseconds from 1 to 3600000, "
				                  "not '%s'", c.arg);
			break;
		case OPT_CHILDREN:
			if (strlen(c.arg) > 200 || strspn(c.arg, ",") == strlen(c.arg))
				rc = pt_opt_error(&c, "--children needs all, none or names, not '%s'",
				                  c.arg);
			o->children = c.arg;
			break;
		case OPT_NO_CHILDREN:
			o->children = "none";
			break;
		case OPT_QUIET:
			o->quiet = 1;
			break;
		case OPT_PYMALLOC:
			o->pymalloc = 1;
			break;
		}
		if (rc)
			return c.status;
	}
	if (c.i >= argc) {
		pt_opt_error(&c, "no command given");
		return c.status;
	}
	*first = c.i;
	return 0;
}

int pt_cmd_run(int argc, char **argv)
{
	struct run_opts o = { 0 };
	int i = 0, rc = parse_run(argc, argv, &o, &i);
	if (rc)
		return rc < 0 ? 0 : rc;          /* -1: --help */

	char lib[PATH_MAX];
	if (find_library(lib, sizeof lib)) {
		fprintf(stderr, "pooltrace: run: cannot find libpooltrace.so (set POOLTRACE_LIB)\n");
		return PT_EXIT_USAGE;
	}
	char abslib[PATH_MAX];
	if (realpath(lib, abslib))
		snprintf(lib, sizeof lib, "%s", abslib);

	/* an absolute pattern: the program may change directory */
	char pattern[PATH_MAX * 2];
	const char *pat = o.out ? o.out : "pooltrace.%e.%p.trace";
	char cwd[PATH_MAX];
	if (pat[0] != '/' && getcwd(cwd, sizeof cwd))
		snprintf(pattern, sizeof pattern, "%s/%s", cwd, pat);
	else
		snprintf(pattern, sizeof pattern, "%s", pat);
	if (strlen(pattern) >= 1000) {
		fprintf(stderr, "pooltrace: run: the trace path is too long (%zu bytes)\n",
		        strlen(pattern));
		return PT_EXIT_USAGE;
	}
	if (check_dir(pattern))
		return PT_EXIT_USAGE;

	/* the list of the traces written, filled by the library */
	const char *tmp = getenv("TMPDIR");
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s/pooltrace-run.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int lfd = mkstemp(log);
	if (lfd < 0) {
		snprintf(log, sizeof log, "/tmp/pooltrace-run.XXXXXX");
		lfd = mkstemp(log);
	}
	if (lfd < 0) {
		fprintf(stderr, "pooltrace: run: cannot create a temporary file: %s\n",
		        strerror(errno));
		return PT_EXIT_USAGE;
	}
	close(lfd);

	char preload[PATH_MAX * 2];
	const char *old = getenv("LD_PRELOAD");
	if (old && *old)
		snprintf(preload, sizeof preload, "%s:%s", lib, old);
	else
		snprintf(preload, sizeof preload, "%s", lib);
	char num[32];
	setenv("LD_PRELOAD", preload, 1);
	setenv("POOLTRACE_PROFILE", "1", 1);
	setenv("POOLTRACE_OUTPUT", pattern, 1);
	setenv("POOLTRACE_RUN_LOG", log, 1);
	setenv("POOLTRACE_CHILDREN", o.children ? o.children : "all", 1);
	if (o.have_sample) {
		snprintf(num, sizeof num, "%llu", o.sample);
		setenv("POOLTRACE_SAMPLE", num, 1);
	}
	if (o.depth) {
		snprintf(num, sizeof num, "%llu", o.depth);
		setenv("POOLTRACE_DEPTH", num, 1);
	}
	if (o.interval) {
		snprintf(num, sizeof num, "%llu", o.interval);
		setenv("POOLTRACE_INTERVAL_MS", num, 1);
	}

	if (!o.pymalloc)
		pt_python_malloc_env(argv[i]);

	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pooltrace: run: fork: %s\n", strerror(errno));
		unlink(log);
		return PT_EXIT_USAGE;
	}
	if (pid == 0) {
		snprintf(num, sizeof num, "%d", (int)getpid());
		setenv("POOLTRACE_RUN_PID", num, 1);
		execvp(argv[i], argv + i);
		int e = errno;
		fprintf(stderr, "pooltrace: run: cannot run %s: %s\n", argv[i], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	/* like time(1): the terminal's signals are for the program */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "pooltrace: run: waitpid: %s\n", strerror(errno));
			unlink(log);
			return PT_EXIT_USAGE;
		}

	struct traces tr = { 0 };
	read_log(log, &tr);
	unlink(log);
	int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		fprintf(stderr, "pooltrace: %s killed by signal %d\n", argv[i], WTERMSIG(status));
	if (!tr.n) {
		fprintf(stderr, "pooltrace: no trace was written (pattern %s)%s\n", pattern,
		        code == 127 || code == 126 ? "" : ": see the warning above, if any");
	} else {
		if (tr.n == 1)
			fprintf(stderr, "pooltrace: 1 trace written: %s\n", tr.path[0]);
		else
			fprintf(stderr, "pooltrace: %zu traces written:\n", tr.n);
		for (size_t k = 0; k < tr.n && k < 10 && tr.n > 1; k++)
			fprintf(stderr, "pooltrace:   %s\n", tr.path[k]);
		if (tr.n > 10)
			fprintf(stderr, "pooltrace:   ... and %zu more\n", tr.n - 10);
		if (!o.quiet)
			summary(own_trace(&tr, pid));
	}
	for (size_t k = 0; k < tr.n; k++)
		free(tr.path[k]);
	free(tr.path);
	return code;
}
