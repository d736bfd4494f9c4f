/*
 * test_preload.c - the malloc API of libpooltrace.so, case by case.
 *
 * The cmocka process itself is never interposed: every case re-executes this
 * binary as `test_preload --child CASE` with LD_PRELOAD set, runs the case
 * there, and the parent checks its exit status (and, for some, its stderr).
 * PT_LIB names the library (default build/libpooltrace.so).
 */
#include "testutil.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "pooltrace.h"

extern void *__libc_malloc(size_t);

/* volatile, so the compiler neither warns about nor folds the huge sizes */
static volatile size_t size_max = SIZE_MAX;

static char lib_path[PATH_MAX];

/* ---- child side --------------------------------------------------------- */

/*
 * An executable's .preinit_array runs before every library constructor, libc's
 * included (environ is still NULL): the earliest malloc a program can make.
 */
static size_t preinit_usable;

static void preinit(int argc, char **argv, char **envp)
{
	void *p = malloc(24);
	preinit_usable = malloc_usable_size(p);
	free(p);
}

__attribute__((section(".preinit_array"), used))
static void (*preinit_fn)(int, char **, char **) = preinit;

static bool (*owns)(const void *);

static int case_malloc_zero_is_unique(void)
{
	void *a = malloc(0), *b = malloc(0);
	CHILD_CHECK(a && b && a != b);
	CHILD_CHECK(owns(a) && owns(b));
	CHILD_CHECK(malloc_usable_size(a) == 16);
	free(a);
	free(b);
	return 0;
}

static int case_small_from_pools_large_from_glibc(void)
{
	for (size_t n = 1; n <= 600; n++) {
		char *p = malloc(n);
		CHILD_CHECK(p != NULL);
		CHILD_CHECK(owns(p) == (n <= 512));
		CHILD_CHECK(malloc_usable_size(p) >= n);
		if (n >= 16)
			CHILD_CHECK((uintptr_t)p % 16 == 0);
		memset(p, 0x7e, n);
		free(p);
	}
	return 0;
}

static int case_align8_mode_gives_classic_classes(void)
{
	void *p = malloc(24);
	CHILD_CHECK(owns(p) && malloc_usable_size(p) == 24);
	void *q = aligned_alloc(16, 24);   /* aligned requests stay aligned */
	CHILD_CHECK(owns(q) && (uintptr_t)q % 16 == 0);
	free(p);
	free(q);
	return 0;
}

static int case_preinit_allocation_sees_the_options(void)
{
	CHILD_CHECK(preinit_usable == 24);   /* POOLTRACE_ALIGN=8 was read */
	return 0;
}

static int case_calloc_zeroes_and_checks_overflow(void)
{
	for (int round = 0; round < 3; round++) {
		unsigned char *p[64];
		for (int i = 0; i < 64; i++) {
			p[i] = malloc(200);
			memset(p[i], 0xff, 200);
		}
		for (int i = 0; i < 64; i++)
			free(p[i]);
		for (int i = 0; i < 64; i++) {
			p[i] = calloc(25, 8);
			CHILD_CHECK(owns(p[i]));
			for (int j = 0; j < 200; j++)
				CHILD_CHECK(p[i][j] == 0);
		}
		for (int i = 0; i < 64; i++)
			free(p[i]);
	}
	unsigned char *big = calloc(1, 100000);
	CHILD_CHECK(big && !owns(big) && big[99999] == 0);
	free(big);
	errno = 0;
	CHILD_CHECK(calloc(size_max / 2, 3) == NULL && errno == ENOMEM);
	errno = 0;
	CHILD_CHECK(calloc(size_max >> 31, (size_t)1 << 33) == NULL && errno == ENOMEM);
	void *z = calloc(0, 0);
	CHILD_CHECK(z != NULL);
	free(z);
	return 0;
}

static int fill_check(unsigned char *p, size_t n, unsigned char seed, int check)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char v = (unsigned char)(seed + i * 7);
		if (check && p[i] != v)
			return 0;
		p[i] = v;
	}
	return 1;
}

static int case_realloc_moves_across_512_both_ways(void)
{
	unsigned char *p = malloc(40);
	fill_check(p, 40, 1, 0);
	unsigned char *q = realloc(p, 48);          /* same class: in place */
	CHILD_CHECK(q == p);
	q = realloc(q, 33);
	CHILD_CHECK(q == p);
	q = realloc(q, 100);                        /* bigger class: moves */
	CHILD_CHECK(q != p && owns(q) && fill_check(q, 33, 1, 1));
	fill_check(q, 100, 2, 0);
	unsigned char *r = realloc(q, 5000);         /* to glibc */
	CHILD_CHECK(r && !owns(r) && fill_check(r, 100, 2, 1));
	fill_check(r, 5000, 3, 0);
	unsigned char *s = realloc(r, 300);          /* back to a pool */
	CHILD_CHECK(s && owns(s) && fill_check(s, 300, 3, 1));
	unsigned char *t = realloc(s, 1);            /* shrink to the smallest class */
	CHILD_CHECK(t && owns(t) && malloc_usable_size(t) == 16 && t[0] == 3);
	CHILD_CHECK(realloc(t, 0) == NULL);          /* glibc: frees */
	unsigned char *u = realloc(NULL, 10);        /* = malloc */
	CHILD_CHECK(u && owns(u));
	errno = 0;
	CHILD_CHECK(realloc(u, size_max - 4096) == NULL && errno == ENOMEM);
	u[0] = 9;                                    /* still ours, intact */
	free(u);
	errno = 0;
	CHILD_CHECK(reallocarray(NULL, size_max / 4, 8) == NULL && errno == ENOMEM);
	void *v = reallocarray(NULL, 10, 10);
	CHILD_CHECK(v && owns(v));
	free(v);
	return 0;
}

static int case_aligned_allocations(void)
{
	void *p;
	CHILD_CHECK(posix_memalign(&p, 3, 8) == EINVAL);
	CHILD_CHECK(posix_memalign(&p, 4, 8) == EINVAL);   /* not a multiple of void* */
	CHILD_CHECK(posix_memalign(&p, 0, 8) == EINVAL);
	/* errno ENOMEM, as glibc; called through a pointer, as GCC assumes
	 * that posix_memalign leaves errno alone */
	int (*volatile pm)(void **, size_t, size_t) = posix_memalign;
	errno = 1234;
	CHILD_CHECK(pm(&p, 8, size_max - 100000) == ENOMEM && errno == ENOMEM);
	for (size_t a = 8; a <= 8192; a <<= 1)
		for (size_t n = 1; n <= 2048; n = n * 3 + 1) {
			CHILD_CHECK(posix_memalign(&p, a, n) == 0);
			CHILD_CHECK((uintptr_t)p % a == 0 && malloc_usable_size(p) >= n);
			CHILD_CHECK(owns(p) == (a <= 512 && n <= 512));
			memset(p, 1, n);
			free(p);
			void *q = aligned_alloc(a, n), *r = memalign(a, n);
			CHILD_CHECK(q && r && (uintptr_t)q % a == 0 && (uintptr_t)r % a == 0);
			free(q);
			free(r);
		}
	void *w = memalign(24, 100);                /* glibc rounds up to 32 */
	CHILD_CHECK(w && (uintptr_t)w % 32 == 0);
	free(w);
	long page = sysconf(_SC_PAGESIZE);
	void *v = valloc(10), *pv = pvalloc(10);
	CHILD_CHECK(v && pv && (uintptr_t)v % page == 0 && (uintptr_t)pv % page == 0);
	CHILD_CHECK(malloc_usable_size(pv) >= (size_t)page);
	free(v);
	free(pv);
	return 0;
}

static int case_usable_size_and_sized_frees(void)
{
	CHILD_CHECK(malloc_usable_size(NULL) == 0);
	void *p = malloc(100);
	CHILD_CHECK(malloc_usable_size(p) == 112);
	void *g = malloc(10000);
	/* above 512 B, glibc's block for the top of the request's bin in the
	 * thread cache: at most 1/8 more, as peers' size classes */
	CHILD_CHECK(malloc_usable_size(g) >= 10000 && malloc_usable_size(g) <= 10000 + 10000 / 8 + 16);
	void (*fs)(void *, size_t) = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "free_sized");
	void (*fas)(void *, size_t, size_t) =
		(void (*)(void *, size_t, size_t))dlsym(RTLD_DEFAULT, "free_aligned_sized");
	void (*cf)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "cfree");
	CHILD_CHECK(fs && fas && cf);
	fs(p, 100);
	fs(g, 10000);
	void *a = aligned_alloc(64, 64);
	fas(a, 64, 64);
	cf(malloc(5));
	/* the freed small blocks are reused */
	void *again = malloc(100);
	CHILD_CHECK(again == p);
	free(again);
	return 0;
}

static int case_foreign_pointers_go_to_glibc(void)
{
	void *g = __libc_malloc(64);    /* glibc's, never ours */
	CHILD_CHECK(g && !owns(g));
	CHILD_CHECK(malloc_usable_size(g) >= 64);
	void *g2 = realloc(g, 32);      /* a glibc block moves into a pool */
	CHILD_CHECK(g2 && owns(g2));
	free(g2);
	g = __libc_malloc(64);
	free(g);                        /* through us, to glibc: no crash */
	free(NULL);
	int e = errno = 4242;
	void *p = malloc(16);
	free(p);
	CHILD_CHECK(errno == e);
	return 0;
}

static void *thread_churn(void *arg)
{
	volatile int *stop = arg;
	while (!*stop) {
		void *p[32];
		for (int i = 0; i < 32; i++)
			p[i] = malloc((size_t)i * 13 + 1);
		for (int i = 0; i < 32; i++)
			free(p[i]);
	}
	return NULL;
}

static int case_fork_from_threaded_program(void)
{
	volatile int stop = 0;
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		CHILD_CHECK(pthread_create(&t[i], NULL, thread_churn, (void *)&stop) == 0);
	for (int round = 0; round < 50; round++) {
		void *keep = malloc(77);
		pid_t pid = fork();
		if (pid == 0) {
			/* the child allocates, frees parent blocks, starts a thread */
			void *p[200];
			for (int i = 0; i < 200; i++)
				p[i] = malloc((size_t)i + 1);
			free(keep);
			pthread_t ct;
			volatile int cstop = 1;
			if (pthread_create(&ct, NULL, thread_churn, (void *)&cstop) ||
			    pthread_join(ct, NULL))
				_exit(3);
			for (int i = 0; i < 200; i++)
				free(p[i]);
			_exit(0);
		}
		int st;
		CHILD_CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
		CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		free(keep);
	}
	stop = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* A pointer into our reserved range that is in no live pool goes to glibc,
 * which aborts on it: never silently into a pool. */
/* frees that would corrupt a pool are refused with a line each; the pool
 * goes on working */
static int case_bad_frees_are_refused(void)
{
	char *p = malloc(64);
	char *hdr = (char *)((uintptr_t)p & ~(uintptr_t)(256 * 1024 - 1));
	CHILD_CHECK(!owns(hdr + 64));
	free(hdr + 64);                 /* the arena's header page */
	free(p + 8);                    /* inside a block */
	CHILD_CHECK(realloc(p + 1, 10) == NULL && errno == EINVAL);
	CHILD_CHECK(malloc_usable_size(p + 16) == 0);
	memset(p, 7, 64);
	free(p);
	char *q = malloc(64);
	CHILD_CHECK(q == p);            /* p went back to its pool, once */
	CHILD_CHECK(malloc(64) != p);
	return 0;
}

/* malloc_trim gives our free pools back as well as glibc's heap top */
static int case_malloc_trim_purges_pools(void)
{
	void (*get)(struct pt_stats *) = (void (*)(struct pt_stats *))dlsym(RTLD_DEFAULT,
	                                                                     "pt_stats_get");
	CHILD_CHECK(get != NULL);
	enum { N = 20000 };
	static void *p[N];
	for (int i = 0; i < N; i++)
		p[i] = malloc(256);
	for (int i = 0; i < N; i++)
		if ((i / 16) % 10 < 3)   /* 30% of the pools: stays under the shrink rule */
			free(p[i]);
	static struct pt_stats st;
	get(&st);
	CHILD_CHECK(st.pools_free_dirty > 100);   /* resident, waiting for the delay */
	CHILD_CHECK(malloc_trim(0) == 1);
	get(&st);
	CHILD_CHECK(st.pools_free_dirty == 0 && st.pools_free_purged > 100);
	return 0;
}

/* Without the 4 GiB reservation (refused under RLIMIT_AS), arenas are plain
 * mappings and everything still works. */
static int case_arenas_outside_the_range(void)
{
	void (*get)(struct pt_stats *) = (void (*)(struct pt_stats *))dlsym(RTLD_DEFAULT,
	                                                                     "pt_stats_get");
	CHILD_CHECK(get != NULL);
	void *p[5000];
	for (int i = 0; i < 5000; i++) {
		p[i] = malloc((size_t)(i % 512) + 1);
		CHILD_CHECK(owns(p[i]));
	}
	static struct pt_stats st;
	get(&st);
	CHILD_CHECK(st.arenas_mapped > 1 && st.arenas_outside == st.arenas_mapped);
	for (int i = 0; i < 5000; i++)
		free(p[i]);
	return 0;
}

static int case_stats_are_printed_at_exit(void)
{
	void *p[100];
	for (int i = 0; i < 100; i++)
		p[i] = malloc(40);   /* left live: shows as blocks in use */
	(void)p;
	return 0;
}

/* ---- the thread cache of freed glibc blocks (preload/bigcache.c) -------- */

/* Blocks above 512 bytes come back with at least the bytes asked for, are
 * never handed out twice, and calloc clears a block the cache hands back. */
static int case_bigcache_blocks(void)
{
	enum { LIVE = 64 };
	static unsigned char *live[LIVE];
	static size_t len[LIVE];
	uint64_t rng = 12345;
	for (int i = 0; i < 100000; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		unsigned k = (unsigned)(rng >> 33) % LIVE;
		if (live[k]) {
			CHILD_CHECK(fill_check(live[k], len[k], (unsigned char)k, 1));
			free(live[k]);
		}
		len[k] = 513 + (size_t)(rng >> 40) % 40000;
		live[k] = (rng >> 20) & 1 ? malloc(len[k]) : calloc(1, len[k]);
		CHILD_CHECK(live[k] != NULL);
		CHILD_CHECK(malloc_usable_size(live[k]) >= len[k]);
		fill_check(live[k], len[k], (unsigned char)k, 0);
	}
	for (unsigned k = 0; k < LIVE; k++)
		free(live[k]);

	for (size_t n = 513; n <= 33000; n += 97) {
		unsigned char *p = malloc(n);
		CHILD_CHECK(p && malloc_usable_size(p) >= n);
		memset(p, 0xab, malloc_usable_size(p));
		free(p);
		unsigned char *q = calloc(1, n);   /* the block just freed, most likely */
		CHILD_CHECK(q && malloc_usable_size(q) >= n);
		for (size_t i = 0; i < n; i++)
			CHILD_CHECK(q[i] == 0);
		unsigned char *r = calloc(n, 1);   /* q is live: never the same block */
		CHILD_CHECK(r && r != q);
		for (size_t i = 0; i < n; i++)
			CHILD_CHECK(r[i] == 0);
		free(q);
		free(r);
	}
	/* a freed block serves the next request up to the top of its bin (8
	 * per power of two): 600 and 640 B are in [576, 640], and so on */
	static const size_t same_bin[][2] = { { 600, 640 }, { 1100, 1152 }, { 20000, 20480 } };
	for (unsigned i = 0; i < sizeof same_bin / sizeof same_bin[0]; i++) {
		void *p = malloc(same_bin[i][0]);
		CHILD_CHECK(p && malloc_usable_size(p) >= same_bin[i][1]);
		free(p);
		void *q = malloc(same_bin[i][1]);
		CHILD_CHECK(q == p);
		free(q);
	}
	void *a = NULL;
	CHILD_CHECK(posix_memalign(&a, 64, 3000) == 0 && (uintptr_t)a % 64 == 0);
	free(a);
	return 0;
}

/* mallinfo2 counts the cached blocks as free: the program freed them.  Then
 * malloc_stats prints what is cached (the parent reads it). */
static int case_bigcache_mallinfo(void)
{
	enum { N = 20 };
	void *p[N];
	for (int i = 0; i < N; i++)
		p[i] = malloc(6000);
	struct mallinfo2 m1 = mallinfo2();
	CHILD_CHECK(m1.arena == m1.uordblks + m1.fordblks);
	for (int i = 0; i < N; i++)
		free(p[i]);
	struct mallinfo2 m2 = mallinfo2();
	CHILD_CHECK(m2.arena == m2.uordblks + m2.fordblks);
	CHILD_CHECK(m2.uordblks + N * 6000 <= m1.uordblks);
	malloc_stats();
	return 0;
}

static void *bigcache_thread(void *arg)
{
	void *p[20];
	for (int i = 0; i < 20; i++)
		p[i] = malloc(6000 + (size_t)i * 100);
	for (int i = 0; i < 20; i++)
		free(p[i]);
	malloc_stats();   /* this thread's cache holds them */
	return arg;
}

/* A thread's cache goes back to glibc when the thread exits. */
static int case_bigcache_thread_exit(void)
{
	pthread_t t;
	CHILD_CHECK(pthread_create(&t, NULL, bigcache_thread, NULL) == 0);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	malloc_stats();   /* nothing cached: the thread flushed at exit */
	return 0;
}

/* A block freed twice while the first free holds it in the cache: refused
 * (glibc would have caught it; the cache must not hand it out twice). */
static int case_bigcache_double_free(void)
{
	void *p = malloc(5000);
	free(p);
	free(p);
	void *a = malloc(5000), *b = malloc(5000);
	CHILD_CHECK(a && b && a != b);
	free(a);
	free(b);
	return 0;
}

/* A block freed twice after the cache gave it back to glibc (malloc_trim
 * flushes the cache): the second free goes to glibc, which aborts on it
 * (the next chunk says this one is free), as without the library. */
static int case_bigcache_double_free_in_glibc(void)
{
	void *p = malloc(5000), *guard = malloc(5000);
	free(p);
	malloc_trim(0);
	fclose(stderr);   /* glibc's message: not the test's */
	free(p);
	free(guard);
	return 0;   /* not reached: glibc aborts */
}

static volatile sig_atomic_t handler_bad;

static void bigcache_handler(int sig)
{
	unsigned char *p = malloc(20000);
	if (!p || malloc_usable_size(p) < 20000)
		handler_bad = 1;
	else
		memset(p, 0x5a, 20000);
	free(p);
}

/*
 * A signal handler that mallocs and frees large blocks while the thread it
 * interrupted may be inside the cache.  glibc's malloc is no more
 * reentrant than anyone's: the loop frees and mallocs one size, which the
 * cache serves after the first round, so that the handler's calls never
 * interrupt glibc itself.
 */
static int case_bigcache_signal(void)
{
	struct sigaction sa = { .sa_handler = bigcache_handler };
	sigemptyset(&sa.sa_mask);
	CHILD_CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	unsigned char *p = malloc(3000);
	CHILD_CHECK(p != NULL);
	free(malloc(20000));   /* glibc grows its heap for the handler's block now */
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	CHILD_CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	for (int i = 0; i < 300000; i++) {
		fill_check(p, 600, (unsigned char)i, 0);
		CHILD_CHECK(fill_check(p, 600, (unsigned char)i, 1));
		free(p);
		p = malloc(3000);
		CHILD_CHECK(p != NULL && malloc_usable_size(p) >= 3000);
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	free(p);
	CHILD_CHECK(!handler_bad);
	return 0;
}

static int case_stats_print_api(void)
{
	void *p = malloc(24);
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	CHILD_CHECK(fd >= 0);
	void (*print)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "pt_stats_print");
	CHILD_CHECK(print != NULL);
	print(fd);
	char buf[8192];
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	CHILD_CHECK(n > 0);
	buf[n] = 0;
	CHILD_CHECK(strstr(buf, "# pool allocations (lifetime):") != NULL);
	CHILD_CHECK(strstr(buf, "POOLTRACE_ALIGN=16") != NULL);
	free(p);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "malloc_zero", case_malloc_zero_is_unique },
	{ "small_large", case_small_from_pools_large_from_glibc },
	{ "align8", case_align8_mode_gives_classic_classes },
	{ "calloc", case_calloc_zeroes_and_checks_overflow },
	{ "preinit", case_preinit_allocation_sees_the_options },
	{ "realloc", case_realloc_moves_across_512_both_ways },
	{ "aligned", case_aligned_allocations },
	{ "usable", case_usable_size_and_sized_frees },
	{ "foreign", case_foreign_pointers_go_to_glibc },
	{ "fork", case_fork_from_threaded_program },
	{ "stats_exit", case_stats_are_printed_at_exit },
	{ "bad_free", case_bad_frees_are_refused },
	{ "trim", case_malloc_trim_purges_pools },
	{ "outside", case_arenas_outside_the_range },
	{ "stats_api", case_stats_print_api },
	{ "bigcache", case_bigcache_blocks },
	{ "bigcache_mallinfo", case_bigcache_mallinfo },
	{ "bigcache_thread", case_bigcache_thread_exit },
	{ "bigcache_signal", case_bigcache_signal },
	{ "bigcache_double", case_bigcache_double_free },
	{ "bigcache_double_glibc", case_bigcache_double_free_in_glibc },
};

static int child_main(const char *name)
{
	owns = (bool (*)(const void *))dlsym(RTLD_DEFAULT, "pt_owns");
	if (!owns) {
		fprintf(stderr, "child: libpooltrace.so is not preloaded\n");
		return 99;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (strcmp(cases[i].name, name) == 0)
			return cases[i].fn();
	fprintf(stderr, "child: no case %s\n", name);
	return 98;
}

/* ---- parent side -------------------------------------------------------- */

/* When nonzero, children run with RLIMIT_AS set to this many bytes. */
static rlim_t child_as_limit;

/* Run a case under LD_PRELOAD with extra environment; its stderr goes to err. */
static int run_case(const char *name, const char *const *env_extra, char *err, size_t errcap)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	assert_true(fd >= 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd, 2);
		setenv("LD_PRELOAD", lib_path, 1);
		unsetenv("POOLTRACE_ALIGN");
		unsetenv("POOLTRACE_STATS");
		for (; env_extra && *env_extra; env_extra++)
			putenv((char *)*env_extra);
		if (child_as_limit) {
			struct rlimit rl = { child_as_limit, child_as_limit };
			setrlimit(RLIMIT_AS, &rl);
		}
		execl("/proc/self/exe", "test_preload", "--child", name, (char *)NULL);
		_exit(97);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, err, errcap - 1);
	err[n > 0 ? n : 0] = 0;
	close(fd);
	if (err[0] && !strstr(err, "pooltrace:"))
		fprintf(stderr, "[%s] %s", name, err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char errbuf[65536];

#define CASE_TEST(fn, name)                                               \
	static void fn(void **state)                                      \
	{                                                                 \
		assert_int_equal(run_case(name, NULL, errbuf, sizeof errbuf), 0); \
		assert_string_equal(errbuf, "");                          \
	}

CASE_TEST(test_malloc_0_returns_unique_pool_pointers, "malloc_zero")
CASE_TEST(test_up_to_512_bytes_from_pools_larger_from_glibc, "small_large")
CASE_TEST(test_calloc_zeroes_pool_blocks_and_refuses_overflow, "calloc")
CASE_TEST(test_realloc_moves_across_the_512_byte_boundary_both_ways, "realloc")
CASE_TEST(test_aligned_allocations_are_aligned_and_validated, "aligned")
CASE_TEST(test_usable_size_and_sized_frees, "usable")
CASE_TEST(test_foreign_pointers_go_to_glibc_and_errno_is_kept, "foreign")
CASE_TEST(test_fork_from_threaded_program_leaves_working_child, "fork")
CASE_TEST(test_stats_print_api_writes_the_table, "stats_api")
CASE_TEST(test_malloc_trim_gives_free_pools_back, "trim")
CASE_TEST(test_large_blocks_reused_from_the_thread_cache_are_big_enough_and_calloc_clears_them,
          "bigcache")
CASE_TEST(test_signal_handler_allocating_inside_the_thread_cache, "bigcache_signal")

/* The "cached bytes" figures malloc_stats printed, in order; how many. */
static int cached_figures(const char *err, unsigned long *v, int max)
{
	int n = 0;
	for (const char *c = err; n < max && (c = strstr(c, "cached bytes     = ")); c++)
		v[n++] = strtoul(c + 19, NULL, 10);
	return n;
}

static void test_mallinfo_counts_cached_blocks_as_free(void **state)
{
	unsigned long v[4];
	assert_int_equal(run_case("bigcache_mallinfo", NULL, errbuf, sizeof errbuf), 0);
	assert_int_equal(cached_figures(errbuf, v, 4), 1);
	assert_true(v[0] >= 20 * 6000);
}

static void test_thread_exit_gives_the_cache_back(void **state)
{
	unsigned long v[4];
	assert_int_equal(run_case("bigcache_thread", NULL, errbuf, sizeof errbuf), 0);
	assert_int_equal(cached_figures(errbuf, v, 4), 2);
	assert_true(v[0] >= 20 * 6000);
	assert_int_equal(v[1], 0);
}

static void test_double_free_of_a_block_given_back_to_glibc_aborts(void **state)
{
	assert_int_equal(run_case("bigcache_double_glibc", NULL, errbuf, sizeof errbuf),
	                 128 + SIGABRT);
}

static void test_double_free_of_a_cached_block_is_refused(void **state)
{
	assert_int_equal(run_case("bigcache_double", NULL, errbuf, sizeof errbuf), 0);
	assert_non_null(strstr(errbuf, "): double free (the "));
	assert_non_null(strstr(errbuf, "-byte block is already free); ignored\n"));
}

/* POOLTRACE_BIGCACHE=0 and debug mode: nothing is cached; a bad value warns. */
static void test_cache_off_when_disabled_and_under_debug_mode(void **state)
{
	unsigned long v[4];
	const char *off[] = { "POOLTRACE_BIGCACHE=0", NULL };
	const char *dbg[] = { "POOLTRACE_DEBUG=1", NULL };
	const char *bad[] = { "POOLTRACE_BIGCACHE=lots", NULL };
	assert_int_equal(run_case("bigcache_thread", off, errbuf, sizeof errbuf), 0);
	assert_int_equal(cached_figures(errbuf, v, 4), 2);
	assert_true(v[0] == 0 && v[1] == 0);
	assert_int_equal(run_case("bigcache_thread", dbg, errbuf, sizeof errbuf), 0);
	assert_int_equal(cached_figures(errbuf, v, 4), 2);
	assert_true(v[0] == 0 && v[1] == 0);
	assert_int_equal(run_case("bigcache", bad, errbuf, sizeof errbuf), 0);
	assert_string_equal(errbuf, "pooltrace: warning: POOLTRACE_BIGCACHE=lots is not a number "
	                            "of bytes from 0 to 67108864; using 262144\n");
}

static void test_align_8_mode_gives_24_byte_blocks(void **state)
{
	const char *env[] = { "POOLTRACE_ALIGN=8", NULL };
	assert_int_equal(run_case("align8", env, errbuf, sizeof errbuf), 0);
	assert_string_equal(errbuf, "");
}

static void test_allocation_before_any_constructor_reads_the_options(void **state)
{
	const char *env[] = { "POOLTRACE_ALIGN=8", NULL };
	assert_int_equal(run_case("preinit", env, errbuf, sizeof errbuf), 0);
	assert_string_equal(errbuf, "");
}

static void test_bad_align_value_warns_once_and_keeps_16(void **state)
{
	const char *env[] = { "POOLTRACE_ALIGN=12", NULL };
	assert_int_equal(run_case("small_large", env, errbuf, sizeof errbuf), 0);
	assert_string_equal(errbuf,
		"pooltrace: warning: POOLTRACE_ALIGN=12 is not 8 or 16; using 16\n");
}

static void test_frees_that_would_corrupt_a_pool_are_refused(void **state)
{
	assert_int_equal(run_case("bad_free", NULL, errbuf, sizeof errbuf), 0);
	assert_non_null(strstr(errbuf, "): inside the allocator's arenas but in no block; "
	                               "ignored\n"));
	assert_non_null(strstr(errbuf, "): not the start of a block (it points inside a "
	                               "64-byte block of a pool); ignored\n"));
	assert_non_null(strstr(errbuf, "pooltrace: realloc(0x"));
	int lines = 0;
	for (const char *c = errbuf; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, 3);
}

/* Under a 1 GiB address-space limit the reservation is refused: the API
 * cases pass on plain mappings found through the radix map. */
static void test_api_works_under_a_tight_address_space_limit(void **state)
{
	static const char *const names[] = { "outside", "malloc_zero", "small_large", "calloc",
		"realloc", "aligned", "usable", "foreign", "fork", NULL };
	child_as_limit = (rlim_t)1 << 30;
	for (const char *const *n = names; *n; n++) {
		int r = run_case(*n, NULL, errbuf, sizeof errbuf);
		if (r)
			fprintf(stderr, "under RLIMIT_AS: case %s: status %d\n", *n, r);
		assert_int_equal(r, 0);
		assert_string_equal(errbuf, "");
	}
	child_as_limit = 0;
}

static void test_stats_at_exit_show_live_pool_blocks(void **state)
{
	const char *env[] = { "POOLTRACE_STATS=1", NULL };
	assert_int_equal(run_case("stats_exit", env, errbuf, sizeof errbuf), 0);
	assert_non_null(strstr(errbuf, "pooltrace: allocator statistics"));
	/* class 2 (48 bytes) holds the 100 live 40-byte blocks */
	const char *row = strstr(errbuf, "\n    2    48 ");
	assert_non_null(row);
	unsigned long used = 0, full = 0, empty = 0, inuse = 0;
	assert_int_equal(sscanf(row, "\n %*u %*u %lu %lu %lu %lu", &used, &full, &empty, &inuse), 4);
	assert_true(inuse >= 100);
	assert_non_null(strstr(errbuf, "# pool allocations (lifetime):"));
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2]);
	const char *lib = getenv("PT_LIB") ? getenv("PT_LIB") : "build/libpooltrace.so";
	if (!realpath(lib, lib_path)) {
		fprintf(stderr, "test_preload: %s: %s (run make first)\n", lib, strerror(errno));
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malloc_0_returns_unique_pool_pointers),
		cmocka_unit_test(test_up_to_512_bytes_from_pools_larger_from_glibc),
		cmocka_unit_test(test_align_8_mode_gives_24_byte_blocks),
		cmocka_unit_test(test_calloc_zeroes_pool_blocks_and_refuses_overflow),
		cmocka_unit_test(test_realloc_moves_across_the_512_byte_boundary_both_ways),
		cmocka_unit_test(test_aligned_allocations_are_aligned_and_validated),
		cmocka_unit_test(test_usable_size_and_sized_frees),
		cmocka_unit_test(test_foreign_pointers_go_to_glibc_and_errno_is_kept),
		cmocka_unit_test(test_fork_from_threaded_program_leaves_working_child),
		cmocka_unit_test(test_allocation_before_any_constructor_reads_the_options),
		cmocka_unit_test(test_bad_align_value_warns_once_and_keeps_16),
		cmocka_unit_test(test_stats_at_exit_show_live_pool_blocks),
		cmocka_unit_test(test_frees_that_would_corrupt_a_pool_are_refused),
		cmocka_unit_test(test_stats_print_api_writes_the_table),
		cmocka_unit_test(test_malloc_trim_gives_free_pools_back),
		cmocka_unit_test(test_api_works_under_a_tight_address_space_limit),
		cmocka_unit_test(test_large_blocks_reused_from_the_thread_cache_are_big_enough_and_calloc_clears_them),
		cmocka_unit_test(test_signal_handler_allocating_inside_the_thread_cache),
		cmocka_unit_test(test_mallinfo_counts_cached_blocks_as_free),
		cmocka_unit_test(test_thread_exit_gives_the_cache_back),
		cmocka_unit_test(test_double_free_of_a_cached_block_is_refused),
		cmocka_unit_test(test_double_free_of_a_block_given_back_to_glibc_aborts),
		cmocka_unit_test(test_cache_off_when_disabled_and_under_debug_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
