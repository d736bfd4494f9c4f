/*
 * mesh_signal.c - a program's own SIGSEGV handling, which POOLTRACE_MESH=1
 * must leave as it is without the library (its write barrier's handler
 * stays in front, preload/faults.c): the disposition it reads back is its
 * own, its handler gets its faults with their address, signal() answers
 * with its previous handler, and with the default disposition a fault
 * kills it with SIGSEGV ("die").  The output must be the same with and
 * without the library.
 */
#include <malloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
	printf("after sigaction: %s\n",
	       (o.sa_flags & SA_SIGINFO) && o.sa_sigaction == on_segv ? "its own" : "another");

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

	char *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
