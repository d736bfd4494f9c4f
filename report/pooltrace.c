/*
 * pooltrace.c - the pooltrace command: run a program under the profiler,
 * and read the traces it writes.
 *
 *   pooltrace run [-o FILE] [--sample BYTES] [--depth N] [--interval MS] -- CMD [ARGS...]
 *   pooltrace dump [--summary] TRACE
 *
 *   pooltrace report | leaks | frag | html | export | diff ...   (commands.h)
 *
 * Exit status: run exits with the program's status (128 + signal if it was
 * killed); other commands 0, 1 on a usage error (leaks --fail-on-leak: 1 if
 * anything was lost), 2 if a trace is unreadable or an output unwritable.
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
#include "view.h"
#include "trace_read.h"

#ifndef PT_LIBDIR
#define PT_LIBDIR "/usr/local/lib"
#endif

static const char usage[] =
	"usage: pooltrace run [-o FILE] [--sample BYTES] [--depth N] [--interval MS] -- CMD [ARGS...]\n"
	"       pooltrace report [--top N] [--frames N] TRACE\n"
	"       pooltrace leaks [--fail-on-leak] [--suppressions FILE] [--no-reachable]\n"
	"                       [--top N] [--frames N] TRACE\n"
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
	"See pooltrace(1) and pooltrace-trace(5).\n";

/* ---- run ----------------------------------------------------------------- */

static int parse_bytes(const char *s, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
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
	if (*end || v > 0xffffffffull / m)
		return -1;
	*out = v * m;
	return 0;
}

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

/* The trace pattern as a glob: %p %e %t become *, %% a %. */
static void pattern_glob(const char *pat, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *s = pat; *s && o + 3 < cap; s++) {
		if (*s == '%' && (s[1] == 'p' || s[1] == 'e' || s[1] == 't')) {
			out[o++] = '*';
			s++;
		} else if (*s == '%' && s[1] == '%') {
			out[o++] = '%';
			s++;
		} else if (*s == '*' || *s == '?' || *s == '[' || *s == '\\') {
			out[o++] = '\\';
			out[o++] = *s;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = 0;
}

static void report_traces(const char *pattern, time_t since)
{
	char g[PATH_MAX * 2 + 16];
	pattern_glob(pattern, g, sizeof g - 8);
	strcat(g, "*");   /* and the .N names taken when a name existed */
	glob_t gl;
	int found = 0;
	if (glob(g, 0, NULL, &gl) == 0) {
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			struct stat st;
			if (stat(gl.gl_pathv[i], &st) || !S_ISREG(st.st_mode) ||
			    st.st_mtime < since || st.st_uid != getuid())
				continue;
			int fd = open(gl.gl_pathv[i], O_RDONLY);
			char magic[8] = { 0 };
			if (fd >= 0) {
				if (read(fd, magic, 8) != 8)
					magic[0] = 0;
				close(fd);
			}
			if (memcmp(magic, PT_TRACE_MAGIC, 8) != 0)
				continue;
			fprintf(stderr, "pooltrace: trace written to %s\n", gl.gl_pathv[i]);
			found = 1;
		}
		globfree(&gl);
	}
	if (!found)
		fprintf(stderr, "pooltrace: no trace was written (pattern %s)\n", pattern);
}

static int cmd_run(int argc, char **argv)
{
	const char *out = NULL;
	unsigned long long sample = 0, depth = 0, interval = 0;
	int have_sample = 0, i;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;   /* the command, without -- */
		if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			if (!v)
				return pt_usage_error("%s needs a file name", a);
			out = v, i++;
		} else if (strcmp(a, "--sample") == 0) {
			if (!v || parse_bytes(v, &sample))
				return pt_usage_error("--sample needs a number of bytes, not '%s'",
				                 v ? v : "");
			have_sample = 1, i++;
		} else if (strcmp(a, "--depth") == 0) {
			if (!v || parse_bytes(v, &depth) || depth < 1 || depth > 256)
				return pt_usage_error("--depth needs a number from 1 to 256, not '%s'",
				                 v ? v : "");
			i++;
		} else if (strcmp(a, "--interval") == 0) {
			if (!v || parse_bytes(v, &interval) || interval < 1 || interval > 3600000)
				return pt_usage_error("--interval needs milliseconds from 1 to 3600000, "
				                 "not '%s'", v ? v : "");
			i++;
		} else {
			return pt_usage_error("run: unknown option %s", a);
		}
	}
	if (i >= argc)
		return pt_usage_error("run: no command given");

	char lib[PATH_MAX];
	if (find_library(lib, sizeof lib)) {
		fprintf(stderr, "pooltrace: cannot find libpooltrace.so (set POOLTRACE_LIB)\n");
		return 127;
	}
	char abslib[PATH_MAX];
	if (realpath(lib, abslib))
		snprintf(lib, sizeof lib, "%s", abslib);

	/* an absolute pattern: the program may change directory */
	char pattern[PATH_MAX * 2];
	const char *pat = out ? out : "pooltrace.%e.%p.trace";
	char cwd[PATH_MAX];
	if (pat[0] != '/' && getcwd(cwd, sizeof cwd))
		snprintf(pattern, sizeof pattern, "%s/%s", cwd, pat);
	else
		snprintf(pattern, sizeof pattern, "%s", pat);

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
	if (have_sample) {
		snprintf(num, sizeof num, "%llu", sample);
		setenv("POOLTRACE_SAMPLE", num, 1);
	}
	if (depth) {
		snprintf(num, sizeof num, "%llu", depth);
		setenv("POOLTRACE_DEPTH", num, 1);
	}
	if (interval) {
		snprintf(num, sizeof num, "%llu", interval);
		setenv("POOLTRACE_INTERVAL_MS", num, 1);
	}

	time_t start = time(NULL);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pooltrace: fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0) {
		execvp(argv[i], argv + i);
		int e = errno;
		fprintf(stderr, "pooltrace: cannot run %s: %s\n", argv[i], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	/* like time(1): the terminal's signals are for the program */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "pooltrace: waitpid: %s\n", strerror(errno));
			return 127;
		}
	report_traces(pattern, start);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "pooltrace: %s killed by signal %d\n", argv[i], WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

/* ---- dump ---------------------------------------------------------------- */

struct dump_ctx {
	int summary;
	uint64_t n[16];
	uint64_t bytes, temp;
};

static const char *snap_kind(unsigned k)
{
	return k == PT_SNAP_PEAK ? "peak" : k == PT_SNAP_EXIT ? "exit" :
	       k == PT_SNAP_LIGHT ? "light" : "periodic";
}

static int dump_event(void *arg, const struct pt_event *e)
{
	struct dump_ctx *c = arg;
	c->n[e->type < 16 ? e->type : 0]++;
	if (pt_event_allocates(e->type))
		c->bytes += e->size;
	if (e->type == PT_EV_FREE)
		c->temp += e->temp;
	if (c->summary)
		return 0;
	const char *where = e->type == PT_EV_ALLOC_POOL || e->type == PT_EV_REALLOC_POOL
	                    ? "pool" : "sys";
	switch (e->type) {
	case PT_EV_ALLOC_POOL: case PT_EV_ALLOC_SYS:
		printf("%llu tid %u alloc %s %llu stack %u info %u\n", (unsigned long long)e->seq,
		       e->tid, where, (unsigned long long)e->size, e->stack, e->info);
		break;
	case PT_EV_REALLOC_POOL: case PT_EV_REALLOC_SYS:
		printf("%llu tid %u realloc %s %llu stack %u info %u -> %llu stack %u info %u\n",
		       (unsigned long long)e->seq, e->tid, where, (unsigned long long)e->old_size,
		       e->old_stack, e->old_info, (unsigned long long)e->size, e->stack, e->info);
		break;
	case PT_EV_FREE:
		if (e->info)
			printf("%llu tid %u free%s %llu stack %u info %u\n",
			       (unsigned long long)e->seq, e->tid, e->temp ? " temporary" : "",
			       (unsigned long long)e->size, e->stack, e->info);
		else
			printf("%llu tid %u free unknown\n", (unsigned long long)e->seq, e->tid);
		break;
	case PT_REC_THREAD_EXIT:
		printf("%llu tid %u thread-exit\n", (unsigned long long)e->seq, e->tid);
		break;
	case PT_REC_LEAKS:
		printf("%llu leaks roots %llu entries %zu\n", (unsigned long long)e->seq,
		       (unsigned long long)e->leaks->roots_bytes, e->leaks->n);
		for (size_t i = 0; i < e->leaks->n; i++)
			printf("  info %u %s blocks %llu bytes %llu\n", e->leaks->e[i].info,
			       e->leaks->e[i].cls == PT_LEAK_DEFINITE ? "definite" :
			       e->leaks->e[i].cls == PT_LEAK_INDIRECT ? "indirect" : "reachable",
			       (unsigned long long)e->leaks->e[i].blocks,
			       (unsigned long long)e->leaks->e[i].bytes);
		break;
	case PT_REC_PINNED:
		printf("%llu pinned %s arenas %zu\n", (unsigned long long)e->seq,
		       snap_kind(e->pinned->snap_kind), e->pinned->n);
		for (size_t i = 0; i < e->pinned->n; i++) {
			const struct pt_pinned_rec *a = &e->pinned->a[i];
			printf("  arena 0x%llx blocks %llu bytes %llu:", (unsigned long long)a->base,
			       (unsigned long long)a->blocks, (unsigned long long)a->bytes);
			for (size_t k = 0; k < a->ninfos; k++)
				printf(" info %u x%llu", a->info[k].info,
				       (unsigned long long)a->info[k].blocks);
			printf("\n");
		}
		break;
	case PT_REC_END:
		printf("%llu end %s %u\n", (unsigned long long)e->seq,
		       e->end_reason == PT_END_SIGNAL ? "signal" : "exit", e->end_code);
		break;
	case PT_REC_SNAPSHOT: {
		const struct pt_snapshot *s = e->snap;
		if (s->kind == PT_SNAP_LIGHT) {
			printf("%llu snapshot light time %.3f ms rss %llu live %llu mallocs %llu "
			       "frees %llu reallocs %llu bytes %llu pool-allocs %llu pool-bytes %llu "
			       "glibc %llu\n", (unsigned long long)e->seq, s->time_ns / 1e6,
			       (unsigned long long)s->rss, (unsigned long long)s->live,
			       (unsigned long long)s->n_malloc, (unsigned long long)s->n_free,
			       (unsigned long long)s->n_realloc, (unsigned long long)s->bytes_alloc,
			       (unsigned long long)s->n_pool, (unsigned long long)s->bytes_pool,
			       (unsigned long long)s->glibc_in_use);
			break;
		}
		printf("%llu snapshot %s time %.3f ms rss %llu live %llu mallocs %llu frees %llu "
		       "reallocs %llu bytes %llu pool-allocs %llu pool-bytes %llu glibc %llu "
		       "arenas %llu pools %llu blocks-bytes %llu free-bytes %llu\n",
		       (unsigned long long)e->seq, snap_kind(s->kind), s->time_ns / 1e6,
		       (unsigned long long)s->rss, (unsigned long long)s->live,
		       (unsigned long long)s->n_malloc, (unsigned long long)s->n_free,
		       (unsigned long long)s->n_realloc, (unsigned long long)s->bytes_alloc,
		       (unsigned long long)s->n_pool, (unsigned long long)s->bytes_pool,
		       (unsigned long long)s->glibc_in_use, (unsigned long long)s->arenas_mapped,
		       (unsigned long long)s->pools_in_use,
		       (unsigned long long)s->bytes_in_blocks,
		       (unsigned long long)s->bytes_free_blocks);
		for (size_t i = 0; i < s->narenas; i++)
			printf("  arena 0x%llx pools %llu empty %llu untouched %llu blocks %llu "
			       "bytes %llu\n", (unsigned long long)s->arena[i].base,
			       (unsigned long long)s->arena[i].pools_used,
			       (unsigned long long)s->arena[i].pools_empty,
			       (unsigned long long)s->arena[i].pools_untouched,
			       (unsigned long long)s->arena[i].blocks_used,
			       (unsigned long long)s->arena[i].bytes_in_blocks);
		break;
	}
	}
	return 0;
}

static int cmd_dump(int argc, char **argv)
{
	struct dump_ctx c;
	memset(&c, 0, sizeof c);
	const char *path = NULL;
	for (int i = 0; i < argc; i++) {
		int rc = 0;
		if (strcmp(argv[i], "--summary") == 0)
			c.summary = 1;
		else if ((rc = pt_opt_trace("dump", argv[i], &path, 1)))
			return rc;
	}
	if (!path)
		return pt_opt_no_trace("dump");

	char err[512];
	struct pt_trace *t = pt_trace_open(path, err, sizeof err);
	if (!t) {
		fprintf(stderr, "pooltrace: %s\n", err);
		return 2;
	}
	const struct pt_trace_header *h = &t->hdr;
	printf("pooltrace trace version %u\n", h->version);
	printf("pid %u ppid %u%s exe %s\n", h->pid, h->ppid,
	       h->flags & PT_TRACE_F_FORKED ? " (forked)" : "", t->exe);
	printf("args");
	for (const char *a = t->args; a < t->args + h->args_len; a += strlen(a) + 1)
		printf(" %s", a);
	printf("\n");
	printf("sample %llu depth %u interval %u ms align %u classes %u arena %u pool %u "
	       "small-max %u\n", (unsigned long long)h->sample_bytes, h->depth, h->interval_ms,
	       h->align, h->nclasses, h->arena_size, h->pool_size, h->small_max);

	pt_trace_read(t, dump_event, &c);

	size_t ndef = 0;
	for (size_t i = 0; i < t->nstacks; i++)
		if (t->stack[i].nframes) {
			ndef++;
			if (c.summary)
				continue;
			printf("stack %zu gen %u:", i, t->stack[i].gen);
			for (unsigned k = 0; k < t->stack[i].nframes; k++)
				printf(" 0x%llx", (unsigned long long)t->stack[i].ip[k]);
			printf("\n");
		}
	for (size_t i = 0; i < t->nmodmaps && !c.summary; i++) {
		const struct pt_modmap *m = &t->modmap[i];
		printf("modules gen %u seq %llu count %u\n", m->gen, (unsigned long long)m->seq,
		       m->count);
		for (unsigned k = 0; k < m->count; k++) {
			const struct pt_module *mo = &m->mod[k];
			printf("  0x%llx %s build-id ", (unsigned long long)mo->base,
			       mo->path[0] ? mo->path : "-");
			for (unsigned b = 0; b < mo->build_id_len; b++)
				printf("%02x", mo->build_id[b]);
			printf("%s", mo->build_id_len ? "" : "-");
			for (unsigned s = 0; s < mo->nseg; s++)
				printf(" [0x%llx+0x%llx %c%c%c]", (unsigned long long)mo->seg[s].vaddr,
				       (unsigned long long)mo->seg[s].memsz,
				       mo->seg[s].flags & 4 ? 'r' : '-', mo->seg[s].flags & 2 ? 'w' : '-',
				       mo->seg[s].flags & 1 ? 'x' : '-');
			printf("\n");
		}
	}
	printf("summary: events %llu allocs %llu frees %llu temporary %llu reallocs %llu "
	       "bytes %llu snapshots %llu thread-exits %llu stacks %zu infos %zu module-maps %zu "
	       "chunks %zu streams %llu %s\n",
	       (unsigned long long)t->events,
	       (unsigned long long)(c.n[PT_EV_ALLOC_POOL] + c.n[PT_EV_ALLOC_SYS]),
	       (unsigned long long)c.n[PT_EV_FREE], (unsigned long long)c.temp,
	       (unsigned long long)(c.n[PT_EV_REALLOC_POOL] + c.n[PT_EV_REALLOC_SYS]),
	       (unsigned long long)c.bytes, (unsigned long long)c.n[PT_REC_SNAPSHOT],
	       (unsigned long long)c.n[PT_REC_THREAD_EXIT], ndef,
	       t->ninfos ? t->ninfos - 1 : 0, t->nmodmaps, t->nchunks,
	       (unsigned long long)t->streams_max, t->ended ? "complete" : "incomplete");
	fflush(stdout);
	if (t->chunks_out_of_order)
		fprintf(stderr, "pooltrace: warning: %s: %llu chunks came before an earlier one of "
		        "their thread (read in sequence order all the same)\n", path,
		        (unsigned long long)t->chunks_out_of_order);
	if (t->stop[0])
		fprintf(stderr, "pooltrace: warning: %s: read up to offset %llu of %zu: %s\n", path,
		        (unsigned long long)t->data_end, t->size, t->stop);
	else if (!t->ended)
		fprintf(stderr, "pooltrace: warning: %s: no end record: the program did not "
		        "exit normally\n", path);
	pt_trace_close(t);
	return 0;
}

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
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (strcmp(cmd, "dump") == 0)
		return cmd_dump(argc - 2, argv + 2);
	static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
		{ "report", pt_cmd_report }, { "leaks", pt_cmd_leaks }, { "frag", pt_cmd_frag },
		{ "html", pt_cmd_html }, { "export", pt_cmd_export }, { "diff", pt_cmd_diff },
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(argc - 2, argv + 2);
	return pt_usage_error("unknown command '%s'", cmd);
}
