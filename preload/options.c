/*
 * options.c - environment variables, read from environ without allocating.
 *
 * Runs at the allocator's first use, possibly before any constructor, so it
 * uses neither getenv's locks nor stdio: it walks environ itself and reports
 * with write(2).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "fmt.h"
#include "options.h"

struct pt_options pt__opt = {
	.stats = 0, .align = 16, .profile = 0, .sample = 0, .depth = 32,
	.interval_ms = 10, .output = PT_OUTPUT_DEFAULT, .debug = 0,
	.quarantine = PT_QUARANTINE_DEFAULT, .python = 1,
	.symbolizer_timeout = PT_SYMBOLIZER_TIMEOUT_DEFAULT,
};

extern char **environ;
extern void *__libc_stack_end;   /* ld.so: the initial stack, at argc */

struct option_def {
	const char *name;
	unsigned min, max;          /* accepted range of the number */
	const unsigned *allowed;    /* or: the only accepted values (0-terminated) */
	const char *expect;         /* for the warning */
	unsigned dflt;
	unsigned *target;
};

static const unsigned align_values[] = { 8, 16, 0 };
static unsigned stats_value;

static const struct option_def defs[] = {
	{ "POOLTRACE_STATS", 0, 1, NULL, "0 or 1", 0, &stats_value },
	{ "POOLTRACE_ALIGN", 0, 0, align_values, "8 or 16", 16, &pt__opt.align },
	{ "POOLTRACE_PROFILE", 0, 1, NULL, "0 or 1", 0, &pt__opt.profile },
	{ "POOLTRACE_SAMPLE", 0, 0xffffffffu, NULL, "a number of bytes", 0, &pt__opt.sample },
	{ "POOLTRACE_DEPTH", 1, 256, NULL, "a number of frames from 1 to 256", 32,
	  &pt__opt.depth },
	{ "POOLTRACE_INTERVAL_MS", 1, 3600000, NULL, "milliseconds from 1 to 3600000", 10,
	  &pt__opt.interval_ms },
	{ "POOLTRACE_QUARANTINE", 0, 0xffffffffu, NULL, "a number of bytes",
	  PT_QUARANTINE_DEFAULT, &pt__opt.quarantine },
	{ "POOLTRACE_PYTHON", 0, 1, NULL, "0 or 1", 1, &pt__opt.python },
	{ "POOLTRACE_BIGCACHE", 0, PT_BIGCACHE_MAX, NULL, "a number of bytes from 0 to 67108864",
	  PT_BIGCACHE_DEFAULT, &pt__opt.bigcache },
	{ "POOLTRACE_MESH", 0, 1, NULL, "0 or 1", 0, &pt__opt.mesh },
	{ "POOLTRACE_RUN_PID", 0, 0x7fffffffu, NULL, "a process id", 0, &pt__opt.run_pid },
	{ "POOLTRACE_SYMBOLIZER_TIMEOUT", 1, 3600, NULL, "seconds from 1 to 3600",
	  PT_SYMBOLIZER_TIMEOUT_DEFAULT, &pt__opt.symbolizer_timeout },
};

static int parse_uint(const char *s, unsigned *out)
{
	unsigned long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 0xffffffffUL)
			return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static const struct option_def *find_def(const char *name)
{
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		if (strcmp(defs[i].name, name) == 0)
			return &defs[i];
	return NULL;
}

int pt__option_parse(const char *name, const char *text, unsigned *out)
{
	const struct option_def *d = find_def(name);
	unsigned v;
	if (!d || parse_uint(text, &v))
		return -1;
	if (d->allowed) {
		for (const unsigned *a = d->allowed; *a; a++)
			if (*a == v)
				goto ok;
		return -1;
	} else if (v < d->min || v > d->max) {
		return -1;
	}
ok:
	*out = v;
	return 0;
}

/*
 * The environment.  Before libc's own initialisation (an executable's
 * .preinit_array allocates before any library constructor) environ is still
 * NULL; the kernel's initial stack holds argc, argv[], NULL, envp[] then.
 */
static char **initial_environ(void)
{
	if (environ)
		return environ;
	long *sp = __libc_stack_end;
	if (!sp || sp[0] < 0 || sp[0] > (1L << 24))
		return NULL;
	char **argv = (char **)(sp + 1);
	if (argv[sp[0]] != NULL)
		return NULL;
	return argv + sp[0] + 1;
}

static const char *env_lookup(char **env, const char *name)
{
	size_t n = strlen(name);
	if (!env)
		return NULL;
	for (char **e = env; *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

void pt__options_read(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	if (getauxval(AT_SECURE))
		return;   /* setuid and friends: defaults only */
	char **env = initial_environ();
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
		const struct option_def *d = &defs[i];
		const char *text = env_lookup(env, d->name);
		*d->target = d->dflt;
		if (!text)
			continue;
		if (pt__option_parse(d->name, text, d->target) != 0) {
			pt__dprintf(2, "pooltrace: warning: %s=%s is not %s; using %u\n",
			            d->name, text, d->expect, d->dflt);
			*d->target = d->dflt;
		}
	}
	pt__opt.stats = (int)stats_value;

	const char *dbg = env_lookup(env, "POOLTRACE_DEBUG");
	if (dbg && (strcmp(dbg, "1") == 0 || strcmp(dbg, "warn") == 0))
		pt__opt.debug = dbg[0] == '1' ? 1 : 2;
	else if (dbg && strcmp(dbg, "0") != 0)
		pt__dprintf(2, "pooltrace: warning: POOLTRACE_DEBUG=%s is not 0, 1 or warn; "
		            "using 0\n", dbg);

	static const struct { const char *name; char *dest; size_t cap; } strs[] = {
		{ "POOLTRACE_RUN_LOG", pt__opt.run_log, sizeof pt__opt.run_log },
		{ "POOLTRACE_CHILDREN", pt__opt.children, sizeof pt__opt.children },
	};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		const char *v = env_lookup(env, strs[i].name);
		if (v && strlen(v) < strs[i].cap)
			memcpy(strs[i].dest, v, strlen(v) + 1);
	}

	/* the debug reports' symbolizer: 0 or none, or a path; "" the default */
	const char *sym = env_lookup(env, "POOLTRACE_SYMBOLIZER");
	if (sym && (strcmp(sym, "0") == 0 || strcmp(sym, "none") == 0))
		memcpy(pt__opt.symbolizer, "0", 2);
	else if (sym && *sym && (!strchr(sym, '/') || strlen(sym) >= sizeof pt__opt.symbolizer))
		pt__dprintf(2, "pooltrace: warning: POOLTRACE_SYMBOLIZER=%s is not 0, none or "
		            "a path (with a '/'); using the default\n", sym);
	else if (sym)
		memcpy(pt__opt.symbolizer, sym, strlen(sym) + 1);

	const char *out = env_lookup(env, "POOLTRACE_OUTPUT");
	if (out && (!*out || strlen(out) >= sizeof pt__opt.output)) {
		pt__dprintf(2, "pooltrace: warning: POOLTRACE_OUTPUT is %s; using %s\n",
		            *out ? "longer than 1023 bytes" : "empty", PT_OUTPUT_DEFAULT);
	} else if (out) {
		memcpy(pt__opt.output, out, strlen(out) + 1);
	}
}

/* ---- pooltrace run ---------------------------------------------------------------- */

/* pat matches all of s: '*' any text, '?' one character. */
static int glob_match(const char *pat, size_t plen, const char *s)
{
	for (size_t i = 0; i < plen; i++, s++) {
		if (pat[i] == '*') {
			for (const char *t = s;; t++) {
				if (glob_match(pat + i + 1, plen - i - 1, t))
					return 1;
				if (!*t)
					return 0;
			}
		}
		if (!*s || (pat[i] != '?' && pat[i] != *s))
			return 0;
	}
	return !*s;
}

int pt__opt_traced(void)
{
	extern char *program_invocation_short_name;
	const char *c = pt__opt.children;
	if (!c[0] || strcmp(c, "all") == 0)
		return 1;
	if (pt__opt.run_pid && (unsigned)getpid() == pt__opt.run_pid)
		return 1;
	if (strcmp(c, "none") == 0)
		return 0;
	static char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	const char *file = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	const char *prog = program_invocation_short_name ? program_invocation_short_name : "";
	for (const char *p = c; *p;) {
		size_t len = strcspn(p, ",");
		if (len && (glob_match(p, len, prog) || glob_match(p, len, file)))
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

void pt__opt_note_trace(const char *path)
{
	char line[1100];
	size_t len = strlen(path);
	if (!pt__opt.run_log[0] || len + 1 >= sizeof line)
		return;
	memcpy(line, path, len);
	line[len] = '\n';
	int fd = open(pt__opt.run_log, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;                   /* run is gone: nobody to tell */
	ssize_t w = write(fd, line, len + 1);
	(void)w;
	close(fd);
}
