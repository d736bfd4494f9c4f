/*
 * rec_prog.c - a host program with known allocations, for the recorder
 * tests (test_recorder.c runs it under LD_PRELOAD with POOLTRACE_PROFILE=1
 * and checks the trace).  Prints what the test needs to know on stdout:
 * "name value" lines.
 *
 *   rec_prog known      3 call sites, known sizes and counts
 *   rec_prog threads    4 threads allocating, frees across threads
 *   rec_prog fork       the parent and a forked child allocate
 *   rec_prog dlopen LIB a library loaded at run time allocates
 *   rec_prog forever    allocates until killed
 *   rec_prog signal     malloc and free in a signal handler, 20k times
 *   rec_prog sample     256 MiB in random sizes, the true totals printed
 *   rec_prog fdfull     no descriptor left when the trace file is created
 *   rec_prog crash      a few allocations, then SIGSEGV
 *   rec_prog pexit      main calls pthread_exit, a worker ends the process
 *   rec_prog cancel     a thread allocates with a cancel request pending
 *   rec_prog vfork      a vfork child ends with _exit
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static void *volatile keep[4096];

NOINLINE void *site_a(size_t n)   /* glibc blocks, kept */
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

NOINLINE void *site_b(size_t n)   /* pool blocks, freed */
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

NOINLINE void *site_c(size_t n, size_t m)   /* calloc, then realloc */
{
	void *p = calloc(n, m);
	__asm__ volatile("" ::: "memory");
	return p;
}

static void print_sites(void)
{
	printf("site_a %p\nsite_b %p\nsite_c %p\n", (void *)site_a, (void *)site_b,
	       (void *)site_c);
	fflush(stdout);
}

static int known(void)
{
	print_sites();
	for (int i = 0; i < 100; i++)
		keep[i] = site_a(1001);
	for (int i = 0; i < 50; i++) {
		void *p = site_b(24);
		memset(p, 1, 24);
		free(p);
	}
	for (int i = 0; i < 10; i++) {
		char *p = site_c(7, 9);
		p = realloc(p, 2000);
		keep[100 + i] = p;
	}
	return 0;
}

struct targ {
	int id;
	void **mine;
	void **theirs;   /* blocks another thread allocated: freed here */
};

NOINLINE void *thread_site(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

static void *worker(void *arg)
{
	struct targ *a = arg;
	for (int i = 0; i < 1000; i++)
		a->mine[i] = thread_site(40 + (size_t)a->id);
	for (int i = 0; i < 1000; i++)
		free(a->theirs[i]);
	return NULL;
}

static int threads(void)
{
	enum { N = 4 };
	static void *blocks[N][1000];
	static void *given[N][1000];
	pthread_t th[N];
	struct targ a[N];
	for (int t = 0; t < N; t++)
		for (int i = 0; i < 1000; i++)
			given[t][i] = malloc(100);   /* main allocates, workers free */
	for (int t = 0; t < N; t++) {
		a[t] = (struct targ){ t, blocks[t], given[t] };
		pthread_create(&th[t], NULL, worker, &a[t]);
	}
	for (int t = 0; t < N; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < N; t++)   /* main frees what the workers allocated */
		for (int i = 0; i < 1000; i++)
			free(blocks[t][i]);
	printf("thread_site %p\n", (void *)thread_site);
	return 0;
}

static int do_fork(void)
{
	for (int i = 0; i < 33; i++)
		keep[i] = site_a(1003);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 77; i++)
			keep[100 + i] = site_b(77);
		printf("child %d\n", (int)getpid());
		fflush(stdout);
		exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("parent %d\n", (int)getpid());
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static int do_dlopen(const char *lib)
{
	/* enough events that the trace file exists, with its first module
	 * map, before the library is loaded */
	for (int i = 0; i < 40000; i++)
		free(site_b(32));
	struct timespec ts = { 0, 100 * 1000000L };
	nanosleep(&ts, NULL);
	void *h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	void *(*f)(size_t) = (void *(*)(size_t))dlsym(h, "rec_lib_alloc");
	if (!f)
		return 1;
	printf("rec_lib_alloc %p\n", (void *)f);
	for (int i = 0; i < 5; i++)
		keep[i] = f(4242);
	return 0;
}

static int forever(void)
{
	printf("ready\n");
	fflush(stdout);
	for (unsigned long i = 0; i != ~0ul; i++) {
		void *p = site_b(16 + i % 200);
		free(keep[i % 4096]);
		keep[i % 4096] = p;
	}
	return 0;
}

static volatile sig_atomic_t in_handler_allocs;

/*
 * malloc in a signal handler is only as safe as the allocator it lands in:
 * this one asks glibc for a large block while the main loop uses only the
 * pools, so what is tested is the recorder, interrupted anywhere.
 */
static void on_alarm(int sig)
{
	(void)sig;
	void *p = malloc(5000);
	if (p)
		in_handler_allocs++;
	free(p);
}

static int do_signal(void)
{
	print_sites();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 50 }, { 0, 50 } };   /* as often as the kernel will */
	setitimer(ITIMER_REAL, &it, NULL);
	int overlaps = 0;
	for (int i = 0; i < 400000; i++) {
		int *p = site_b(16 + (size_t)(i % 300));
		int *q = keep[i % 4096];
		if (q && *q != i - 4096)
			overlaps++;   /* another live block shared its memory */
		free(q);
		*p = i;
		keep[i % 4096] = p;
	}
	if (overlaps)
		printf("overlaps %d\n", overlaps);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("handler_allocs %d\n", (int)in_handler_allocs);
	return 0;
}

/* xorshift64: the next of *s */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

static int sample(void)
{
	print_sites();
	uint64_t rng = 12345, total = 0, count = 0;
	while (total < (256ull << 20)) {
		xorshift(&rng);
		/* mostly small, some big: the estimate must weigh both right */
		size_t n = rng % 16 == 0 ? 2048 + rng % 65536 : 8 + rng % 500;
		void *p = site_a(n);
		total += n;
		count++;
		free(keep[count % 4096]);
		keep[count % 4096] = p;
	}
	printf("total %llu\ncount %llu\n", (unsigned long long)total, (unsigned long long)count);
	return 0;
}

/* A heap of 1M small blocks (about 260 MiB) built and freed in a random
 * order: a walk of its pools takes long enough (~1 ms) that sampling's
 * snapshots go without one between walks. */
static int bigheap(void)
{
	enum { N = 1 << 20 };
	static void *b[N];
	uint64_t rng = 99, count = 0;
	for (unsigned i = 0; i < N; i++) {
		b[i] = site_a(8 + xorshift(&rng) % 505);
		count++;
	}
	for (unsigned i = N - 1; i > 0; i--) {
		unsigned j = (unsigned)(xorshift(&rng) % (i + 1));
		free(b[j]);
		b[j] = b[i];
	}
	free(b[0]);
	printf("count %llu\n", (unsigned long long)count);
	return 0;
}

static int fdfull(void)
{
	struct rlimit rl = { 32, 32 };
	setrlimit(RLIMIT_NOFILE, &rl);
	int n = 0;
	while (open("/dev/null", O_RDONLY) >= 0)
		n++;
	for (int i = 0; i < 200000; i++) {   /* enough to fill a buffer */
		void *p = site_b(32);
		free(keep[i % 4096]);
		keep[i % 4096] = p;
	}
	printf("fds %d\nok\n", n);
	return 0;
}

static int crash(void)
{
	for (int i = 0; i < 20; i++)
		keep[i] = site_a(1234);
	fflush(stdout);
	int *volatile bad = NULL;
	return *bad;
}

static void *late_worker(void *arg)
{
	struct timespec ts = { 0, 50 * 1000000L };
	nanosleep(&ts, NULL);
	keep[0] = site_a(1111);
	printf("worker done\n");
	return arg;
}

static int pexit(void)
{
	pthread_t t;
	pthread_create(&t, NULL, late_worker, NULL);
	pthread_exit(NULL);
}

/* A thread allocating with a cancel request pending: malloc is no
 * cancellation point, so it must run all its allocations and be cancelled
 * at the first real one after them. */
#define CANCEL_ALLOCS 400000
static volatile long cancel_done;
static volatile int cancel_started;

static void *cancel_worker(void *arg)
{
	cancel_started = 1;
	while (cancel_started != 2)
		;   /* spin: no cancellation point until the request is made */
	for (long i = 0; i < CANCEL_ALLOCS; i++) {
		void *p = malloc(16 + (size_t)(i % 200));
		free(keep[i % 4096]);
		keep[i % 4096] = p;
		cancel_done = i + 1;
	}
	pthread_testcancel();
	return arg;
}

static int do_cancel(void)
{
	pthread_t t;
	pthread_create(&t, NULL, cancel_worker, NULL);
	while (!cancel_started)
		;
	pthread_cancel(t);
	cancel_started = 2;
	void *res;
	pthread_join(t, &res);
	printf("allocations before cancellation: %ld of %d (%s)\n", cancel_done, CANCEL_ALLOCS,
	       res == PTHREAD_CANCELED ? "cancelled" : "not cancelled");
	return 0;
}

/* A vfork child shares our memory and ran no fork handler: its _exit
 * must touch nothing of the library's. */
static int do_vfork(void)
{
	for (int i = 0; i < 100; i++)
		keep[i] = site_a(2222);
	pid_t pid = vfork();
	if (pid == 0)
		_exit(3);
	int st = 0;
	waitpid(pid, &st, 0);
	for (int i = 0; i < 100; i++)
		keep[100 + i] = site_a(3333);
	printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "known"))
		return known();
	if (!strcmp(m, "threads"))
		return threads();
	if (!strcmp(m, "fork"))
		return do_fork();
	if (!strcmp(m, "dlopen") && argc > 2)
		return do_dlopen(argv[2]);
	if (!strcmp(m, "forever"))
		return forever();
	if (!strcmp(m, "signal"))
		return do_signal();
	if (!strcmp(m, "sample"))
		return sample();
	if (!strcmp(m, "bigheap"))
		return bigheap();
	if (!strcmp(m, "fdfull"))
		return fdfull();
	if (!strcmp(m, "crash"))
		return crash();
	if (!strcmp(m, "pexit"))
		return pexit();
	if (!strcmp(m, "cancel"))
		return do_cancel();
	if (!strcmp(m, "vfork"))
		return do_vfork();
	fprintf(stderr, "rec_prog: unknown mode '%s'\n", m);
	return 2;
}
