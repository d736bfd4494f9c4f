/*
 * unwind_prog.c - thread cancellation and unwinding through C frames, as a
 * preloaded library must leave them (built with -fexceptions, so that
 * pthread_cleanup_push is a cleanup region that the unwinder runs).
 *
 *   unwind_prog fputs      a thread blocked in fputs on a full pipe is
 *   unwind_prog fwrite     cancelled (or in fwrite); the stream must be
 *                          unlocked again: the next fputs would hang
 *   unwind_prog cleanup    cleanup handlers pushed in several C frames run,
 *                          innermost first, when the thread is cancelled
 *                          in read(2); the mutex they release is free
 *   unwind_prog plugin SO  dlopen a C++ plugin that throws and catches,
 *                          also through a callback of this C program
 *   unwind_prog scope      nothing of an unwinder in the global scope of a
 *                          C program that did not load one (no libgcc_s)
 *
 * Prints "CASE: ok" and exits 0, or says what went wrong and exits 1.  An
 * alarm turns a hang into a failure (exit by SIGALRM).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
	exit(1); } } while (0)

/* ---- a thread cancelled inside stdio -------------------------------------- */

static FILE *out;
static int use_fwrite;

static void *writer(void *arg)
{
	static char chunk[4096];
	(void)arg;
	memset(chunk, 'x', sizeof chunk - 1);
	/* no cancellation point outside stdio: the cancel lands inside the
	 * call, with the stream locked, in write(2) on the full pipe */
	for (;;) {
		if (use_fwrite)
			fwrite(chunk, 1, sizeof chunk - 1, out);
		else
			fputs(chunk, out);
	}
	return NULL;
}

static void drain(int fd)
{
	char buf[65536];
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fd, buf, sizeof buf) > 0)
		;
	fcntl(fd, F_SETFL, fl);
}

static int cancel_in_stdio(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	int cap = fcntl(p[1], F_GETPIPE_SZ);
	CHECK(cap > 0);
	out = fdopen(p[1], "w");
	CHECK(out != NULL);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, writer, NULL) == 0);
	/* wait until the pipe is full: from then on the writer is blocked in
	 * write(2), or will be at its next one, inside a stdio call */
	for (;;) {
		int queued = 0;
		CHECK(ioctl(p[0], FIONREAD, &queued) == 0);
		if (queued >= cap)
			break;
		usleep(1000);
	}
	CHECK(pthread_cancel(t) == 0);
	void *ret;
	CHECK(pthread_join(t, &ret) == 0);
	CHECK(ret == PTHREAD_CANCELED);
	drain(p[0]);
	/* the stream's lock must have been released by the cancellation */
	CHECK(fputs("after\n", out) >= 0);
	CHECK(fflush(out) == 0);
	drain(p[0]);
	CHECK(fclose(out) == 0);
	close(p[0]);
	return 0;
}

/* ---- cleanup handlers in several C frames --------------------------------- */

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static int order[8], norder;
static int block_fd;

static void note(void *arg)
{
	order[norder++] = (int)(long)arg;
}

static void unlock_held(void *arg)
{
	note(arg);
	pthread_mutex_unlock(&held);
}

static __attribute__((noinline)) void innermost(void)
{
	char c;
	pthread_cleanup_push(note, (void *)3);
	void *p = malloc(100);   /* an allocation inside the region */
	pthread_cleanup_push(free, p);
	for (;;)
		if (read(block_fd, &c, 1) <= 0)   /* cancellation point: blocks */
			break;
	pthread_cleanup_pop(1);
	pthread_cleanup_pop(0);
}

static __attribute__((noinline)) void middle(void)
{
	pthread_cleanup_push(note, (void *)2);
	innermost();
	pthread_cleanup_pop(0);
}

static void *cleaner(void *arg)
{
	pthread_mutex_lock(&held);
	pthread_cleanup_push(unlock_held, (void *)1);
	middle();
	pthread_cleanup_pop(0);
	return arg;
}

static int cleanup_frames(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	block_fd = p[0];
	pthread_t t;
	CHECK(pthread_create(&t, NULL, cleaner, NULL) == 0);
	CHECK(pthread_cancel(t) == 0);
	void *ret;
	CHECK(pthread_join(t, &ret) == 0);
	CHECK(ret == PTHREAD_CANCELED);
	CHECK(norder == 3 && order[0] == 3 && order[1] == 2 && order[2] == 1);
	CHECK(pthread_mutex_trylock(&held) == 0);
	pthread_mutex_unlock(&held);
	close(p[0]);
	close(p[1]);
	return 0;
}

/* ---- a C++ plugin ------------------------------------------------------- */

static int calls;

/* called by the plugin between its throw and its catch: the exception
 * passes through this C frame (built with -fexceptions) */
static void c_callback(void (*thrower)(int), int v)
{
	calls++;
	thrower(v);
}

static int plugin(const char *path)
{
	for (int round = 0; round < 2; round++) {
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			return 1;
		}
		int (*run)(void (*)(void (*)(int), int), int) =
			(int (*)(void (*)(void (*)(int), int), int))dlsym(h, "plugin_run");
		CHECK(run != NULL);
		calls = 0;
		CHECK(run(c_callback, 1000) == 1000);
		CHECK(calls > 0);
		CHECK(dlclose(h) == 0);
	}
	return 0;
}

/* ---- the global scope ---------------------------------------------------- */

static int scope(void)
{
	static const char *const names[] = {
		"_Unwind_RaiseException", "_Unwind_Resume", "_Unwind_ForcedUnwind",
		"_Unwind_GetLanguageSpecificData", "_Unwind_Backtrace", "unw_backtrace",
		"unw_getcontext", "_ULx86_64_step", "ZSTD_compress", NULL,
	};
	int bad = 0;
	for (const char *const *n = names; *n; n++)
		if (dlsym(RTLD_DEFAULT, *n)) {
			fprintf(stderr, "%s is in the global scope\n", *n);
			bad = 1;
		}
	return bad;
}

int main(int argc, char **argv)
{
	alarm(60);
	if (argc < 2)
		return 2;
	const char *what = argv[1];
	int r;
	if (strcmp(what, "fputs") == 0) {
		r = cancel_in_stdio();
	} else if (strcmp(what, "fwrite") == 0) {
		use_fwrite = 1;
		r = cancel_in_stdio();
	} else if (strcmp(what, "cleanup") == 0) {
		r = cleanup_frames();
	} else if (strcmp(what, "scope") == 0) {
		r = scope();
	} else if (strcmp(what, "plugin") == 0 && argc == 3) {
		r = plugin(argv[2]);
	} else {
		fprintf(stderr, "usage: unwind_prog fputs|fwrite|cleanup|scope|plugin SO\n");
		return 2;
	}
	if (r == 0)
		printf("%s: ok\n", what);
	return r;
}
