/*
 * test_recorder.c - the recording side (POOLTRACE_PROFILE=1) end to end: a
 * host program with known allocations (rec_prog.c) runs under the library,
 * and its trace is read back with report/trace_read.c.
 *
 * Every trace read here is also replayed: in sequence order no address may
 * be allocated while it is live, and no free may name a block this trace
 * never saw allocated, except blocks from before the recording began.
 *
 * usage: test_recorder BUILD_DIR
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "testutil.h"
#include "../report/trace_read.h"

static const char *B;          /* build directory */
static char dir[256];          /* this test's scratch directory */

/* ---- running the host ----------------------------------------------------- */

struct run {
	int status;                /* exit status, or 128 + signal */
	char out[8192];            /* stdout */
	char err[8192];            /* stderr */
};

static void read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	char sink[4096];
	while (read(fd, sink, sizeof sink) > 0)
		;
}

/*
 * Run argv with extra environment ("NAME=value" strings, NULL-ended).
 * preload: set LD_PRELOAD, POOLTRACE_PROFILE=1 and, unless env has it,
 * POOLTRACE_OUTPUT=dir/%e.%p.trace.  kill_after_ms > 0: SIGKILL the
 * program that long after it printed its first line.
 */
static void run_host(struct run *r, const char *const *argv, const char *const *env,
                     int preload, int kill_after_ms)
{
	int po[2], pe[2];
	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
		char lib[512], out[512];
		if (preload) {
			snprintf(lib, sizeof lib, "%s/libpooltrace.so", B);
			setenv("LD_PRELOAD", lib, 1);
			setenv("POOLTRACE_PROFILE", "1", 1);
			snprintf(out, sizeof out, "%s/%%e.%%p.trace", dir);
			setenv("POOLTRACE_OUTPUT", out, 1);
		}
		for (const char *const *e = env; e && *e; e++)
			putenv((char *)*e);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if (kill_after_ms > 0) {
		char c;
		assert_int_equal(read(po[0], &c, 1), 1);   /* it has started */
		struct timespec ts = { kill_after_ms / 1000, kill_after_ms % 1000 * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	read_all(po[0], r->out, sizeof r->out);
	read_all(pe[0], r->err, sizeof r->err);
	close(po[0]);
	close(pe[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static uint64_t out_value(const char *out, const char *name)
{
	char key[64];
	snprintf(key, sizeof key, "%s ", name);
	for (const char *p = out; (p = strstr(p, key)); p++)
		if (p == out || p[-1] == '\n')
			return strtoull(p + strlen(key), NULL, 0);
	fail_msg("no '%s' in the program's output:\n%s", name, out);
	return 0;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The traces in dir, sorted by name. */
static size_t traces(const char *pattern, char paths[][512], size_t max)
{
	char g[512];
	snprintf(g, sizeof g, "%s/%s", dir, pattern);
	glob_t gl;
	size_t n = 0;
	if (glob(g, 0, NULL, &gl) == 0) {
		for (; n < gl.gl_pathc && n < max; n++)
			snprintf(paths[n], 512, "%s", gl.gl_pathv[n]);
		globfree(&gl);
	}
	return n;
}

/* ---- reading a trace ------------------------------------------------------ */

struct ev {
	uint64_t seq, size, old_size;
	uint32_t stack, tid, stream, info, old_info;
	unsigned type;
	int temp;
};

struct tr {
	struct pt_trace *t;
	struct ev *ev;
	size_t n, cap;
	struct pt_snapshot last_snap;   /* without arenas */
	size_t nsnap, nexit, nend, nsnap_kind[4];
	size_t snap_backwards;          /* a call total below the last's */
	unsigned end_reason, end_code;
	/* replay: live blocks per info */
	int64_t *live;
	size_t live_cap, live_n;
	size_t free_of_dead, free_unknown;
};

static void replay_alloc(struct tr *r, uint32_t info)
{
	if (info >= r->live_cap) {
		size_t n = r->live_cap;
		while (n <= info)
			n *= 2;
		r->live = realloc(r->live, n * sizeof *r->live);
		memset(r->live + r->live_cap, 0, (n - r->live_cap) * sizeof *r->live);
		r->live_cap = n;
	}
	r->live[info]++;
	r->live_n++;
}

/* A free names the info of its block: some block of that info must be
 * live, in the merged order, or the events are out of order. */
static void replay_free(struct tr *r, uint32_t info)
{
	if (!info) {
		r->free_unknown++;
		return;
	}
	if (info >= r->live_cap || r->live[info] == 0) {
		r->free_of_dead++;
		return;
	}
	r->live[info]--;
	r->live_n--;
}

static int on_event(void *arg, const struct pt_event *e)
{
	struct tr *r = arg;
	switch (e->type) {
	case PT_REC_SNAPSHOT:
		if (r->nsnap && (e->snap->n_malloc < r->last_snap.n_malloc ||
		                 e->snap->n_free < r->last_snap.n_free ||
		                 e->snap->n_pool < r->last_snap.n_pool))
			r->snap_backwards++;
		r->last_snap = *e->snap;
		r->last_snap.arena = NULL;
		r->nsnap++;
		r->nsnap_kind[e->snap->kind & 3]++;
		return 0;
	case PT_REC_END:
		r->nend++;
		r->end_reason = e->end_reason;
		r->end_code = e->end_code;
		return 0;
	case PT_REC_THREAD_EXIT:
		r->nexit++;
		return 0;
	case PT_EV_FREE:
		replay_free(r, e->info);
		break;
	case PT_EV_REALLOC_POOL: case PT_EV_REALLOC_SYS:
		replay_free(r, e->old_info);
		replay_alloc(r, e->info);
		break;
	default:
		replay_alloc(r, e->info);
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4096;
		r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
	}
	r->ev[r->n++] = (struct ev){ e->seq, e->size, e->old_size, e->stack, e->tid, e->stream,
	                             e->info, e->old_info, e->type, e->temp };
	return 0;
}

static struct tr *load(const char *path)
{
	char err[512];
	struct tr *r = calloc(1, sizeof *r);
	r->t = pt_trace_open(path, err, sizeof err);
	if (!r->t)
		fail_msg("%s", err);
	r->live_cap = 1024;
	r->live = calloc(r->live_cap, sizeof *r->live);
	pt_trace_read(r->t, on_event, r);
	return r;
}

static void unload(struct tr *r)
{
	pt_trace_close(r->t);
	free(r->ev);
	free(r->live);
	free(r);
}

/* The one trace in the test's directory, read back. */
static struct tr *load_the_trace(void)
{
	char path[4][512];
	assert_int_equal(traces("*.trace", path, 4), 1);
	return load(path[0]);
}

/* Innermost frame of stack id, 0 if undefined. */
static uint64_t frame0(const struct tr *r, uint32_t id)
{
	if (id >= r->t->nstacks || !r->t->stack[id].nframes)
		return 0;
	return r->t->stack[id].ip[0];
}

static int in_fn(uint64_t ip, uint64_t fn)
{
	return ip > fn && ip < fn + 128;
}

/* Events of a type family with this size whose innermost frame is in fn. */
static size_t count_site(const struct tr *r, unsigned type, uint64_t size, uint64_t fn)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->ev[i].type == type && r->ev[i].size == size &&
		    (!fn || in_fn(frame0(r, r->ev[i].stack), fn)))
			n++;
	return n;
}

static size_t distinct_stacks(const struct tr *r, uint64_t size)
{
	uint32_t seen[64];
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (r->ev[i].size != size || r->ev[i].type > PT_EV_ALLOC_SYS)
			continue;
		size_t k = 0;
		while (k < n && seen[k] != r->ev[i].stack)
			k++;
		if (k == n && n < 64)
			seen[n++] = r->ev[i].stack;
	}
	return n;
}

static void assert_consistent(const struct tr *r)
{
	if (r->free_of_dead)
		fail_msg("%zu frees of a block of an info with none live", r->free_of_dead);
	if (r->snap_backwards)
		fail_msg("%zu snapshots count fewer calls than the one before", r->snap_backwards);
}

/* ---- fixtures ------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pooltrace-rec-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

static const char *prog(void)
{
	static char p[512];
	snprintf(p, sizeof p, "%s/tests/rec_prog", B);
	return p;
}

/* ---- tests ---------------------------------------------------------------- */

/* Known allocations through `pooltrace run`, read back with sizes, kinds,
 * stacks that point into the right functions, frees and the realloc. */
static void test_roundtrip_known(void **state)
{
	(void)state;
	char tool[512], o[512];
	snprintf(tool, sizeof tool, "%s/pooltrace", B);
	snprintf(o, sizeof o, "%s/k.%%p.trace", dir);
	const char *argv[] = { tool, "run", "-o", o, "--", prog(), "known", NULL };
	struct run r;
	run_host(&r, argv, NULL, 0, 0);
	assert_int_equal(r.status, 0);
	char path[4][512];
	assert_int_equal(traces("k.*.trace", path, 4), 1);
	assert_non_null(strstr(r.err, "pooltrace: 1 trace written: "));
	assert_non_null(strstr(r.err, path[0]));

	struct stat st;
	assert_int_equal(stat(path[0], &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	struct tr *t = load(path[0]);
	assert_string_equal(t->t->stop, "");
	assert_int_equal(t->nend, 1);
	assert_int_equal(t->end_reason, PT_END_EXIT);
	assert_non_null(strstr(t->t->exe, "rec_prog"));
	assert_int_equal(t->t->hdr.args_len, strlen(prog()) + 1 + strlen("known") + 1);
	assert_string_equal(t->t->args + strlen(t->t->args) + 1, "known");
	assert_int_equal(t->t->hdr.depth, 32);

	uint64_t a = out_value(r.out, "site_a"), b = out_value(r.out, "site_b"),
	         c = out_value(r.out, "site_c");
	assert_int_equal(count_site(t, PT_EV_ALLOC_SYS, 1001, a), 100);
	assert_int_equal(count_site(t, PT_EV_ALLOC_POOL, 24, b), 50);
	assert_int_equal(count_site(t, PT_EV_ALLOC_POOL, 63, c), 10);
	assert_int_equal(count_site(t, PT_EV_REALLOC_SYS, 2000, 0), 10);
	assert_int_equal(distinct_stacks(t, 1001), 1);
	assert_int_equal(distinct_stacks(t, 24), 1);
	assert_int_equal(distinct_stacks(t, 63), 1);

	/* the 24-byte blocks were freed, each after its allocation; the
	 * realloc moved each calloc'ed block; every free and realloc names
	 * the info of the allocation it ends */
	size_t freed24 = 0, moved = 0;
	uint32_t info24 = 0, info63 = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->ev[i].type == PT_EV_ALLOC_POOL && t->ev[i].size == 24)
			info24 = t->ev[i].info;
		if (t->ev[i].type == PT_EV_ALLOC_POOL && t->ev[i].size == 63)
			info63 = t->ev[i].info;
	}
	assert_true(info24 && info63 && info24 != info63);
	for (size_t i = 0; i < t->n; i++) {
		freed24 += t->ev[i].type == PT_EV_FREE && t->ev[i].info == info24 &&
		           t->ev[i].size == 24 && frame0(t, t->ev[i].stack) &&
		           in_fn(frame0(t, t->ev[i].stack), b);
		moved += t->ev[i].type == PT_EV_REALLOC_SYS && t->ev[i].old_info == info63 &&
		         t->ev[i].old_size == 63 && t->ev[i].size == 2000;
	}
	assert_int_equal(freed24, 50);
	assert_int_equal(moved, 10);
	assert_int_equal(t->free_unknown, 0);
	/* each 24-byte block was freed before any other allocation: a
	 * temporary; the 1001-byte blocks were kept: live at the end */
	size_t temp24 = 0, info1001 = 0;
	for (size_t i = 0; i < t->n; i++) {
		temp24 += t->ev[i].type == PT_EV_FREE && t->ev[i].temp && t->ev[i].size == 24;
		if (t->ev[i].type == PT_EV_ALLOC_SYS && t->ev[i].size == 1001)
			info1001 = t->ev[i].info;
	}
	assert_int_equal(temp24, 50);
	assert_true(info1001 && info1001 < t->live_cap);
	assert_int_equal(t->live[info1001], 100);
	assert_consistent(t);
	assert_true(t->nsnap >= 1);
	assert_int_equal(t->last_snap.kind, PT_SNAP_EXIT);
	assert_true(t->last_snap.n_malloc >= 160);
	assert_true(t->last_snap.n_realloc >= 10);
	assert_true(t->last_snap.rss > 0);
	assert_true(t->last_snap.nclasses == t->t->hdr.nclasses);
	unload(t);
}

/* Four threads, frees across threads: every event, in an order in which
 * every free names an info with a block live, and each thread's exit. */
static void test_threads(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "threads", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	assert_int_equal(r.status, 0);
	struct tr *t = load_the_trace();
	assert_string_equal(t->t->stop, "");
	uint64_t site = out_value(r.out, "thread_site");
	uint32_t tids[8];
	size_t ntid = 0, n = 0;
	for (unsigned id = 0; id < 4; id++)
		n += count_site(t, PT_EV_ALLOC_POOL, 40 + id, site);
	assert_int_equal(n, 4000);
	for (size_t i = 0; i < t->n; i++) {
		if (t->ev[i].type != PT_EV_ALLOC_POOL || t->ev[i].size < 40 || t->ev[i].size > 43)
			continue;
		size_t k = 0;
		while (k < ntid && tids[k] != t->ev[i].tid)
			k++;
		if (k == ntid && ntid < 8)
			tids[ntid++] = t->ev[i].tid;
	}
	assert_int_equal(ntid, 4);
	assert_int_equal(count_site(t, PT_EV_ALLOC_POOL, 100, 0), 4000);
	assert_true(t->nexit >= 4);
	assert_true(t->t->streams_max >= 5);
	assert_consistent(t);
	/* everything allocated was freed: only blocks of libc's own remain */
	assert_true(t->live_n < 100);
	unload(t);
}

/* Eight threads of the stress program, allocating, freeing each other's
 * blocks and reallocating as fast as they can: their buffers fill faster
 * than the snapshot thread writes them, so threads write their own, and
 * a stream's chunks must still reach the file in order.  The whole trace
 * reads back, and every free names an info with a block live. */
static void test_stress_threads(void **state)
{
	(void)state;
	char stress[512];
	snprintf(stress, sizeof stress, "%s/tests/stress", B);
	const char *argv[] = { stress, "-t", "8", "-n", "150000", "-s", "7", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	assert_int_equal(r.status, 0);
	struct tr *t = load_the_trace();
	assert_string_equal(t->t->stop, "");
	assert_int_equal(t->nend, 1);
	assert_true(t->n > 500000);
	assert_consistent(t);
	/* libunwind is loaded with dlopen: its thread-local block is malloc'ed
	 * inside the recorder (not recorded) at a thread's first stack, and
	 * freed by glibc when it frees a cached thread stack: at most one
	 * free of an unknown block per thread */
	assert_true(t->free_unknown <= 8);
	assert_int_equal(t->t->chunks_out_of_order, 0);
	assert_true(t->t->streams_max >= 9);
	unload(t);
}

/* The forked child writes its own trace, holding only its own events. */
static void test_fork(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "fork", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	assert_int_equal(r.status, 0);
	unsigned parent = (unsigned)out_value(r.out, "parent"),
	         child = (unsigned)out_value(r.out, "child");
	char path[4][512];
	assert_int_equal(traces("*.trace", path, 4), 2);
	int seen = 0;
	for (int i = 0; i < 2; i++) {
		struct tr *t = load(path[i]);
		assert_string_equal(t->t->stop, "");
		assert_int_equal(t->nend, 1);
		if (t->t->hdr.pid == parent) {
			assert_false(t->t->hdr.flags & PT_TRACE_F_FORKED);
			assert_int_equal(count_site(t, PT_EV_ALLOC_SYS, 1003, 0), 33);
			assert_int_equal(count_site(t, PT_EV_ALLOC_POOL, 77, 0), 0);
			seen |= 1;
		} else {
			assert_int_equal(t->t->hdr.pid, child);
			assert_int_equal(t->t->hdr.ppid, parent);
			assert_true(t->t->hdr.flags & PT_TRACE_F_FORKED);
			assert_int_equal(count_site(t, PT_EV_ALLOC_POOL, 77, 0), 77);
			assert_int_equal(count_site(t, PT_EV_ALLOC_SYS, 1003, 0), 0);
			assert_true(t->t->nmodmaps >= 1);
			seen |= 2;
		}
		assert_consistent(t);
		unload(t);
	}
	assert_int_equal(seen, 3);
}

/* A library loaded at run time: its frames resolve to it through a module
 * map written after the dlopen. */
static void test_dlopen(void **state)
{
	(void)state;
	char lib[512];
	snprintf(lib, sizeof lib, "%s/tests/rec_lib.so", B);
	const char *argv[] = { prog(), "dlopen", lib, NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	assert_int_equal(r.status, 0);
	struct tr *t = load_the_trace();
	uint64_t f = out_value(r.out, "rec_lib_alloc");
	assert_int_equal(count_site(t, PT_EV_ALLOC_SYS, 4242, f), 5);
	assert_true(t->t->nmodmaps >= 2);
	for (size_t i = 0; i < t->n; i++) {
		if (t->ev[i].size != 4242)
			continue;
		const struct pt_stack *s = &t->t->stack[t->ev[i].stack];
		const struct pt_module *m = pt_trace_module(t->t, s->gen, s->ip[0]);
		assert_non_null(m);
		assert_non_null(strstr(m->path, "rec_lib.so"));
		assert_true(m->build_id_len >= 16);
	}
	unload(t);
}

/* kill -9 in the middle: the trace reads up to its last flush. */
static void test_kill9(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "forever", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 1200);
	assert_int_equal(r.status, 128 + SIGKILL);
	struct tr *t = load_the_trace();
	assert_int_equal(t->nend, 0);
	assert_true(t->n > 10000);
	assert_true(t->nsnap >= 1);
	/* 1.2 s of 10 ms intervals (fewer on a loaded machine): most periodic
	 * snapshots are light, one in ten walks the allocator (the first one
	 * among them) */
	print_message("snapshots: %zu periodic, %zu light, %zu peak\n",
	              t->nsnap_kind[PT_SNAP_PERIODIC], t->nsnap_kind[PT_SNAP_LIGHT],
	              t->nsnap_kind[PT_SNAP_PEAK]);
	assert_true(t->nsnap_kind[PT_SNAP_PERIODIC] >= 1);
	assert_true(t->nsnap_kind[PT_SNAP_LIGHT] >= 5);
	assert_true(t->nsnap_kind[PT_SNAP_LIGHT] > t->nsnap_kind[PT_SNAP_PERIODIC]);
	assert_true(t->last_snap.rss > 0);
	assert_true(t->t->stop[0] == 0 || strstr(t->t->stop, "cut short"));
	assert_consistent(t);
	unload(t);
}

/* A fatal signal: buffers flushed and an end record naming it, then the
 * default action. */
static void test_crash(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "crash", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	assert_int_equal(r.status, 128 + SIGSEGV);
	struct tr *t = load_the_trace();
	assert_int_equal(t->nend, 1);
	assert_int_equal(t->end_reason, PT_END_SIGNAL);
	assert_int_equal(t->end_code, SIGSEGV);
	assert_int_equal(count_site(t, PT_EV_ALLOC_SYS, 1234, 0), 20);
	unload(t);
}

/* main() calls pthread_exit and the last worker returns: the process ends
 * with status 0, as without the library (whose snapshot thread would keep
 * it alive if it did not notice). */
static void test_pthread_exit(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "pexit", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "worker done"));
	struct tr *t = load_the_trace();
	assert_int_equal(t->nend, 1);
	assert_int_equal(count_site(t, PT_EV_ALLOC_SYS, 1111, 0), 1);
	unload(t);
}

/* A thread with a cancel request pending allocates, and the recorder
 * writes to the file from that thread (the snapshot thread asks a busy
 * thread to flush itself each interval): open and write are cancellation
 * points, yet the thread must not be cancelled inside malloc, which would
 * leave the file's lock held.  It is cancelled at its own testcancel. */
static void test_cancel_inside_malloc(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "cancel", NULL };
	const char *env[] = { "POOLTRACE_INTERVAL_MS=1", NULL };
	struct run r;
	run_host(&r, argv, env, 1, 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "allocations before cancellation: 400000 of 400000 "
	                              "(cancelled)"));
	struct tr *t = load_the_trace();
	assert_int_equal(t->nend, 1);
	unload(t);
}

/* _exit in a vfork child: the child shares the parent's memory, so the
 * library leaves everything alone there; the parent's trace goes on and
 * is complete, and the child writes none. */
static void test_vfork_child_exit(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "vfork", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "child status 3"));
	struct tr *t = load_the_trace();
	assert_int_equal(t->nend, 1);
	assert_int_equal(count_site(t, PT_EV_ALLOC_SYS, 2222, 0), 100);
	assert_int_equal(count_site(t, PT_EV_ALLOC_SYS, 3333, 0), 100);
	assert_consistent(t);
	unload(t);
}

/* An output path that cannot be created: one warning, the program runs on. */
static void test_unwritable(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "known", NULL };
	const char *env[] = { "POOLTRACE_OUTPUT=/nonexistent-dir/x.trace", NULL };
	struct run r;
	run_host(&r, argv, env, 1, 0);
	assert_int_equal(r.status, 0);
	assert_true(out_value(r.out, "site_a") != 0);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "pooltrace: warning: cannot create trace file "
	                              "/nonexistent-dir/x.trace: no such directory"));
}

/* No descriptor left when the file is created: one warning, no crash. */
static void test_fd_exhausted(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "fdfull", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "ok\n"));
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "too many open files"));
}

/* A symbolic link (or any file) at the path is never followed or
 * overwritten: the trace goes to PATH.1, mode 0600. */
static void test_no_follow(void **state)
{
	(void)state;
	char target[512], link[512], env[600], one[520];
	snprintf(target, sizeof target, "%s/target", dir);
	snprintf(link, sizeof link, "%s/t.trace", dir);
	snprintf(one, sizeof one, "%s.1", link);
	int fd = open(target, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(symlink(target, link), 0);
	snprintf(env, sizeof env, "POOLTRACE_OUTPUT=%s", link);
	const char *argv[] = { prog(), "known", NULL };
	const char *envv[] = { env, NULL };
	struct run r;
	run_host(&r, argv, envv, 1, 0);
	assert_int_equal(r.status, 0);
	struct stat st;
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(lstat(one, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* malloc and free inside a signal handler that interrupts the recorder:
 * no deadlock, no crash, every allocation of the main loop recorded. */
static void test_signal_handler_malloc(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "signal", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	assert_int_equal(r.status, 0);
	assert_true(out_value(r.out, "handler_allocs") > 0);
	struct tr *t = load_the_trace();
	assert_string_equal(t->t->stop, "");
	uint64_t b = out_value(r.out, "site_b");
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += t->ev[i].type == PT_EV_ALLOC_POOL && in_fn(frame0(t, t->ev[i].stack), b);
	assert_int_equal(n, 400000);
	assert_consistent(t);
	unload(t);
}

/* POOLTRACE_SAMPLE: few events, unbiased weights, exact totals. */
static void test_sampling(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "sample", NULL };
	const char *env[] = { "POOLTRACE_SAMPLE=65536", NULL };
	struct run r;
	run_host(&r, argv, env, 1, 0);
	assert_int_equal(r.status, 0);
	double total = (double)out_value(r.out, "total"), count = (double)out_value(r.out, "count");
	struct tr *t = load_the_trace();
	assert_int_equal(t->t->hdr.sample_bytes, 65536);
	uint64_t a = out_value(r.out, "site_a");
	double est_bytes = 0, est_count = 0, n = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct ev *e = &t->ev[i];
		if (e->type > PT_EV_ALLOC_SYS || !in_fn(frame0(t, e->stack), a))
			continue;
		double p = 1 - exp(-(double)e->size / 65536.0);
		est_bytes += (double)e->size / p;
		est_count += 1 / p;
		n++;
	}
	print_message("sampled %.0f of %.0f allocations; estimates: bytes %.3f, count %.3f "
	              "of the truth\n", n, count, est_bytes / total, est_count / count);
	assert_true(n > 1000 && n < count / 20);
	/* bytes: ~3000 samples, a standard error near 2%; the count rests
	 * on the ~400 samples of small blocks (each stands for ~250), ~5% */
	assert_true(fabs(est_bytes / total - 1) < 0.10);
	assert_true(fabs(est_count / count - 1) < 0.25);
	/* every allocation counts in the totals, sampled or not: the pool's
	 * from the allocator's counts, the bytes from the countdowns (what
	 * else the program allocates is a few buffers) */
	const struct pt_snapshot *ls = &t->last_snap;
	print_message("exit snapshot: %llu mallocs, %llu frees, %llu bytes, live %llu; "
	              "%zu periodic snapshots with a walk, %zu without\n",
	              (unsigned long long)ls->n_malloc, (unsigned long long)ls->n_free,
	              (unsigned long long)ls->bytes_alloc, (unsigned long long)ls->live,
	              t->nsnap_kind[PT_SNAP_PERIODIC], t->nsnap_kind[PT_SNAP_LIGHT]);
	assert_true((double)ls->n_malloc >= count && (double)ls->n_malloc < count + 1000);
	assert_true((double)ls->bytes_alloc >= total && (double)ls->bytes_alloc < total + (1 << 20));
	assert_true((double)ls->n_free > count - 5000 && ls->n_free <= ls->n_malloc);
	assert_consistent(t);
	unload(t);
}

/* Sampling on a heap whose walk is slow: the snapshots between the
 * allocator's walks (at most 1/50 of the time) go without one, and carry
 * the pool totals of the last walk: no call total goes back. */
static void test_sampling_light_snapshots(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "bigheap", NULL };
	const char *env[] = { "POOLTRACE_SAMPLE=524288", "POOLTRACE_INTERVAL_MS=1", NULL };
	struct run r;
	run_host(&r, argv, env, 1, 0);
	assert_int_equal(r.status, 0);
	struct tr *t = load_the_trace();
	print_message("%zu periodic snapshots with a walk, %zu without, %zu peaks; "
	              "exit: %llu mallocs\n", t->nsnap_kind[PT_SNAP_PERIODIC],
	              t->nsnap_kind[PT_SNAP_LIGHT], t->nsnap_kind[PT_SNAP_PEAK],
	              (unsigned long long)t->last_snap.n_malloc);
	assert_true(t->nsnap_kind[PT_SNAP_LIGHT] > 0);
	assert_true(t->last_snap.n_malloc >= out_value(r.out, "count"));
	assert_consistent(t);   /* among others: no total went back */
	unload(t);
}

/* exec: a program started by the traced one is traced too (the
 * environment carries over).  (dash itself leaves no trace: it ends with
 * _exit() before its first flush.) */
static void test_exec(void **state)
{
	(void)state;
	char tool[512], o[512], cmd[600];
	snprintf(tool, sizeof tool, "%s/pooltrace", B);
	snprintf(o, sizeof o, "%s/e.%%e.%%p.trace", dir);
	snprintf(cmd, sizeof cmd, "%s known; true", prog());
	const char *argv[] = { tool, "run", "-o", o, "--", "/bin/sh", "-c", cmd, NULL };
	struct run r;
	run_host(&r, argv, NULL, 0, 0);
	assert_int_equal(r.status, 0);
	char path[4][512];
	assert_int_equal(traces("e.rec_prog.*.trace", path, 4), 1);
	struct tr *t = load(path[0]);
	assert_int_equal(count_site(t, PT_EV_ALLOC_SYS, 1001, 0), 100);
	unload(t);
}

/* Damaged files: a cut trace reads to its last whole chunk with a warning;
 * a flipped byte stops reading there; a foreign file is one error line and
 * status 2.  Bad options of `run` are usage errors. */
/* An offset strictly inside the chunk that holds the middle of a trace
 * (a cut there leaves a chunk cut short; a cut on a chunk boundary would
 * leave a shorter, whole trace). */
static size_t cut_inside_a_chunk(const char *data, size_t size)
{
	struct pt_trace_header h;
	memcpy(&h, data, sizeof h);
	size_t off = h.header_size;
	while (off + sizeof(struct pt_chunk_header) <= size) {
		struct pt_chunk_header c;
		memcpy(&c, data + off, sizeof c);
		size_t end = off + sizeof c + c.stored;
		if (end > size / 2)
			return off + (sizeof c + c.stored) / 2;
		off = end;
	}
	fail_msg("no chunk holds the middle of the trace");
	return 0;
}

static void test_damaged_and_cli(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "signal", NULL };
	struct run r;
	run_host(&r, argv, NULL, 1, 0);
	char path[4][512], cut[600], flip[600], junk[600], tool[512];
	assert_int_equal(traces("*.trace", path, 4), 1);
	snprintf(tool, sizeof tool, "%s/pooltrace", B);
	int fd = open(path[0], O_RDONLY);
	struct stat st;
	fstat(fd, &st);
	char *data = malloc((size_t)st.st_size);
	assert_int_equal(read(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	snprintf(cut, sizeof cut, "%s/cut", dir);
	snprintf(flip, sizeof flip, "%s/flip", dir);
	snprintf(junk, sizeof junk, "%s/junk", dir);
	fd = open(cut, O_WRONLY | O_CREAT, 0600);
	size_t half = cut_inside_a_chunk(data, (size_t)st.st_size);
	assert_int_equal(write(fd, data, half), half);
	close(fd);
	data[st.st_size / 3] ^= 0x55;
	fd = open(flip, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	fd = open(junk, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, "#!/bin/sh\necho this is not a trace at all, nope\n", 49), 49);
	close(fd);
	free(data);

	struct tr *whole = load(path[0]), *t = load(cut);
	assert_non_null(strstr(t->t->stop, "cut short"));
	assert_true(t->n > 0 && t->n < whole->n);
	assert_consistent(t);
	unload(t);
	t = load(flip);
	assert_true(strstr(t->t->stop, "checksum") || strstr(t->t->stop, "damaged"));
	assert_true(t->n < whole->n);
	unload(t);
	unload(whole);

	const char *d1[] = { tool, "dump", "--summary", cut, NULL };
	run_host(&r, d1, NULL, 0, 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "summary: events"));
	assert_non_null(strstr(r.out, "incomplete"));
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "cut short"));

	const char *d2[] = { tool, "dump", junk, NULL };
	run_host(&r, d2, NULL, 0, 0);
	assert_int_equal(r.status, 2);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "not a pooltrace trace"));

	const char *d3[] = { tool, "run", "--depth", "0", "--", prog(), "known", NULL };
	run_host(&r, d3, NULL, 0, 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--depth"));
}

/* Bad option values: a warning naming the variable, the default, a trace. */
static void test_bad_options(void **state)
{
	(void)state;
	const char *argv[] = { prog(), "known", NULL };
	const char *env[] = { "POOLTRACE_DEPTH=0", "POOLTRACE_INTERVAL_MS=fast", NULL };
	struct run r;
	run_host(&r, argv, env, 1, 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(count_lines(r.err), 2);
	assert_non_null(strstr(r.err, "POOLTRACE_DEPTH=0"));
	assert_non_null(strstr(r.err, "POOLTRACE_INTERVAL_MS=fast"));
	struct tr *t = load_the_trace();
	assert_int_equal(t->t->hdr.depth, 32);
	assert_int_equal(t->t->hdr.interval_ms, 10);
	unload(t);
}

int main(int argc, char **argv)
{
	B = argc > 1 ? argv[1] : "build";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_known, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stress_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dlopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pthread_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_inside_malloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfork_child_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_exhausted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal_handler_malloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampling_light_snapshots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_and_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
