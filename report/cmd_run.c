/*
 * cmd_run.c - pooltrace run [-o FILE] [--sample BYTES] [--depth N]
 * [--interval MS] -- CMD [ARGS...]: CMD with libpooltrace.so preloaded and
 * profiling on, its options passed as the library's environment variables.
 * Exits with the program's status (128 + signal if it was killed), after
 * naming on stderr the trace files it wrote.
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
#include "python.h"
#include "trace_read.h"

#ifndef PT_LIBDIR
#define PT_LIBDIR "/usr/local/lib"
#endif

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

int pt_cmd_run(int argc, char **argv)
{
	const char *out = NULL;
	unsigned long long sample = 0, depth = 0, interval = 0;
	int have_sample = 0, pymalloc = 0, i;
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
		} else if (strcmp(a, "--pymalloc") == 0) {
			pymalloc = 1;
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

	if (!pymalloc)
		pt_python_malloc_env(argv[i]);

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
