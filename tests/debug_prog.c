/*
 * debug_prog.c - deliberately broken programs for POOLTRACE_DEBUG
 * (tests/test_debug.sh): each mode makes one heap error from a function of
 * its own, so that the report's stacks can be checked.  Built with -O0 -g
 * -rdynamic, so that dladdr names these functions.
 *
 *   overflow     writes 1 byte past a 24-byte block, then frees it
 *   overflow3    writes 3 bytes past a 600-byte (glibc) block
 *   underflow    writes 1 byte before a 40-byte block
 *   double       frees a block twice
 *   after        writes into a freed block; pt_debug_check() finds it
 *   afterq       writes into a freed block, then frees others until it
 *                leaves the quarantine (run with a small POOLTRACE_QUARANTINE)
 *   stack        frees the address of a local variable
 *   interior     frees a pointer 8 bytes into a block
 *   mismatch     aligned_alloc(64, 100), then free_sized(p, 100)
 *   sized        malloc(100), then free_sized(p, 90)
 *   realloc      realloc of a freed block
 *   shrunk       realloc(p, 100) of a 200-byte block keeps it in place, then
 *                writes 1 byte past its new end
 *   clean        correct use of every call: no report
 *   exitcheck    overflows a block it never frees: the check at exit finds it
 *   cancelled    a thread whose cancellation is pending frees a pointer inside
 *                a block: the line or report about it is written, and the
 *                thread is cancelled at its next cancellation point, not
 *                inside free (exit 1 if it was)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void free_sized(void *, size_t) __attribute__((weak));   /* ours; glibc 2.36 has none */
unsigned pt_debug_check(void) __attribute__((weak));

void *volatile sink;

__attribute__((noinline)) void overflow_by_one(void)
{
	char *p = malloc(24);
	memset(p, 'a', 25);
	free(p);
}

__attribute__((noinline)) void overflow_glibc(void)
{
	char *p = malloc(600);
	memset(p, 'b', 603);
	free(p);
}

__attribute__((noinline)) void underflow(void)
{
	char *p = malloc(40);
	p[-1] = 'c';
	free(p);
}

__attribute__((noinline)) void double_free(void)
{
	char *p = malloc(32);
	free(p);
	free(p);
}

__attribute__((noinline)) void write_after_free(void)
{
	char *p = malloc(48);
	free(p);
	p[10] = 'd';
	if (pt_debug_check)
		pt_debug_check();
}

__attribute__((noinline)) void write_after_free_late(void)
{
	char *p = malloc(48);
	free(p);
	p[47] = 'f';
	for (int i = 0; i < 200; i++)
		free(malloc(64));
}

__attribute__((noinline)) void free_stack_address(void)
{
	int local = 1;
	sink = &local;
	free(sink);
}

__attribute__((noinline)) void free_interior(void)
{
	char *p = malloc(64);
	free(p + 8);
}

__attribute__((noinline)) void mismatched_aligned(void)
{
	void *p = aligned_alloc(64, 128);
	free_sized(p, 128);
}

__attribute__((noinline)) void mismatched_size(void)
{
	void *p = malloc(100);
	free_sized(p, 90);
}

__attribute__((noinline)) void realloc_freed(void)
{
	void *p = malloc(16);
	free(p);
	sink = realloc(p, 32);
}

__attribute__((noinline)) void realloc_shrunk(void)
{
	char *p = malloc(200);
	memset(p, 'g', 200);
	char *q = realloc(p, 100);
	if (q != p)   /* kept in place, as glibc keeps it */
		abort();
	q[100] = 'h';
	free(q);
}

__attribute__((noinline)) void clean(void)
{
	char *a = malloc(10), *b = calloc(3, 7), *c = NULL;
	void *d = NULL;
	memset(a, 1, 10);
	b = realloc(b, 2000);
	memset(b, 2, 2000);
	b = realloc(b, 5);
	char *e = malloc(300), *f = realloc(e, 300), *g;
	if (f != e)   /* the same size: in place, as glibc */
		abort();
	memset(f, 3, 300);
	g = realloc(f, 301);   /* one more byte, in the block underneath */
	if (g != f || g[299] != 3)
		abort();
	g[300] = 4;
	free(g);
	if (posix_memalign(&d, 256, 33) || ((unsigned long)d & 255))
		abort();
	c = aligned_alloc(32, 64);
	if ((unsigned long)c & 31)
		abort();
	free_sized(a, 10);
	free(b);
	free(c);
	free(d);
	free(NULL);
	if (pt_debug_check && pt_debug_check() != 0)
		abort();
	puts("clean");
}

__attribute__((noinline)) void overflow_never_freed(void)
{
	char *p = malloc(16);
	p[16] = 'e';
	sink = p;
}

void *volatile sink2;

__attribute__((noinline)) void child_overflow(void)
{
	char *p = malloc(16);
	p[16] = 'c';
	sink2 = p;
}

/* The parent overflows a block and forks; the child overflows one of its
 * own and ends with _exit: its check reports its own block only, the
 * parent's check at exit the parent's. */
__attribute__((noinline)) void fork_exit_check(void)
{
	char *p = malloc(16);
	p[16] = 'p';
	sink = p;
	fflush(NULL);
	pid_t c = fork();
	if (c == 0) {
		child_overflow();
		_exit(0);
	}
	int st = 0;
	if (c < 0 || waitpid(c, &st, 0) != c)
		abort();
	printf("child: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT ? "aborted" : "not aborted");
	fflush(stdout);
}

static volatile int after_free;

static void *bad_free_cancelled(void *arg)
{
	char *p = malloc(64);
	pthread_cancel(pthread_self());   /* pending: acts at a cancellation point */
	free(p + 8);                      /* reported, or refused with a line */
	after_free = 1;
	pthread_testcancel();
	return arg;
}

__attribute__((noinline)) void free_while_cancelled(void)
{
	pthread_t t;
	void *ret;
	if (pthread_create(&t, NULL, bad_free_cancelled, NULL) || pthread_join(t, &ret))
		abort();
	if (ret != PTHREAD_CANCELED || !after_free) {
		fprintf(stderr, "the thread was cancelled inside free\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } modes[] = {
		{ "overflow", overflow_by_one }, { "overflow3", overflow_glibc },
		{ "underflow", underflow }, { "double", double_free },
		{ "after", write_after_free }, { "afterq", write_after_free_late },
		{ "stack", free_stack_address },
		{ "interior", free_interior }, { "mismatch", mismatched_aligned },
		{ "sized", mismatched_size }, { "realloc", realloc_freed }, { "clean", clean },
		{ "shrunk", realloc_shrunk },
		{ "exitcheck", overflow_never_freed }, { "cancelled", free_while_cancelled },
		{ "forkexit", fork_exit_check },
	};
	for (size_t i = 0; argc > 1 && i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(argv[1], modes[i].name) == 0) {
			modes[i].fn();
			return 0;
		}
	fprintf(stderr, "usage: debug_prog MODE\n");
	return 2;
}
