/*
 * mesh_signal.c - a program's own SIGSEGV handling, which POOLTRACE_MESH=1
 * must leave as it is without the library (its write barrier's handler
 * stays in front, preload/faults.c): the disposition it reads back is its
 * own, its handler gets its faults with their address, signal() answers
 * with its previous handler, and with the default disposition a fault
 * kills it with SIGSEGV ("die").  A child of vfork, which shares the
 * parent's memory but not its signal table, and a child of fork each reset
 * the handler as CPython's subprocess does before exec: the parent keeps
 * its own.  A fork child handler registered before the library's sets the
 * child's handler, which the child then has and which gets its faults.  The output must be the same with and without the library.
 */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf jb;
static void *volatile seen;
static volatile int calls;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	calls++;
	seen = si->si_addr;
	siglongjmp(jb, 1);
}

/* A handler of the program's that a fork child handler registered before
 * the library's sets (a crash reporter re-arming in the child): the child
 * has it, and gets its faults. */
static volatile int rearm;

static void on_segv_child(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	_exit(42);
}

static void rearm_in_child(void)
{
	if (!rearm)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv_child;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	char *volatile p = malloc(32);   /* the child's first write to its heap */
	if (p)
		memset(p, 1, 32);
	free(p);
}

/* before every library's constructor, so before the library's handlers */
static void register_early(void)
{
	pthread_atfork(NULL, NULL, rearm_in_child);
}
__attribute__((section(".preinit_array"), used)) static void (*preinit)(void) = register_early;

static bool is_own(const struct sigaction *a)
{
	return (a->sa_flags & SA_SIGINFO) && a->sa_sigaction == on_segv;
}

/* In a child: what it reads before and after it sets the default. */
static int child_resets(void)
{
	struct sigaction before, after, d;
	memset(&d, 0, sizeof d);
	d.sa_handler = SIG_DFL;
	sigaction(SIGSEGV, NULL, &before);
	sigaction(SIGSEGV, &d, NULL);
	sigaction(SIGSEGV, NULL, &after);
	return (is_own(&before) ? 0 : 1) | (after.sa_handler == SIG_DFL ? 0 : 2);
}

static void report_child(const char *how, pid_t c)
{
	int st = -1;
	struct sigaction o;
	waitpid(c, &st, 0);
	sigaction(SIGSEGV, NULL, &o);
	printf("a %s child resets its handler: child %s, parent keeps %s\n", how,
	       WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "wrong",
	       is_own(&o) ? "its own" : "another");
}

/* apart from main, whose locals a vfork child could clobber */
static __attribute__((noinline)) pid_t vfork_resetting(void)
{
	pid_t c = vfork();
	if (c == 0)
		_exit(child_resets());
	return c;
}

int main(int argc, char **argv)
{
	struct sigaction o, sa;
	sigaction(SIGSEGV, NULL, &o);
	printf("at start: %s\n", o.sa_handler == SIG_DFL ? "default" : "something else");

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGSEGV, NULL, &o);
	printf("after sigaction: %s\n", is_own(&o) ? "its own" : "another");

	pid_t c = vfork_resetting();
	report_child("vfork", c);
	fflush(stdout);
	c = fork();
	if (c == 0)
		_exit(child_resets());
	report_child("fork", c);

	char *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rearm = 1;
	fflush(stdout);
	c = fork();
	if (c == 0) {
		struct sigaction q;
		sigaction(SIGSEGV, NULL, &q);
		if (!((q.sa_flags & SA_SIGINFO) && q.sa_sigaction == on_segv_child))
			_exit(3);
		p[0] = 1;   /* on_segv_child: exit 42 */
		_exit(4);
	}
	rearm = 0;
	int st = -1;
	waitpid(c, &st, 0);
	printf("a fork child handler registered first re-arms SIGSEGV: %s\n",
	       WIFEXITED(st) && WEXITSTATUS(st) == 42 ? "the child has it and gets its fault" : "wrong");

	/* heap work with the handler in place: rounds may run */
	enum { N = 200000 };
	char **v = malloc(N * sizeof *v);
	for (int i = 0; i < N; i++) {
		v[i] = malloc(48 + i % 48);
		memset(v[i], i & 0xff, 48);
	}
	for (int i = 0; i < N; i++)
		if (i % 10) {
			free(v[i]);
			v[i] = NULL;
		}
	for (int i = 0; i < N / 4; i++)
		free(malloc(64));
	malloc_trim(0);   /* meshing's rounds, with the handler in place */
	long sum = 0;
	for (int i = 0; i < N; i++)
		if (v[i])
			sum += v[i][47];

	for (int i = 0; i < 3; i++)
		if (!sigsetjmp(jb, 1))
			p[i * 8] = 1;
	printf("faults caught: %d, last at the right address: %s\n", calls,
	       seen == p + 16 ? "yes" : "no");

	void (*prev)(int) = signal(SIGSEGV, SIG_DFL);
	printf("signal() gave back: %s\n", (void *)prev == (void *)on_segv ? "its handler" : "another");
	printf("survivors' sum: %ld\n", sum);
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "die") == 0)
		p[0] = 1;   /* the default action: killed by SIGSEGV */
	return 0;
}
