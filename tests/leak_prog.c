/*
 * leak_prog.c - a program with known leaks, a known peak and known
 * temporaries, for the report tests (tests/test_reports.sh compares its
 * reports with golden files).  Build with -O0 -g so that every function
 * keeps its frame and line.
 *
 *   still reachable   reachable(): 100 B kept by a global, and a 3-node
 *                     list (3 x 48 B) kept by a thread-local variable
 *   definitely lost   lose_direct(): 200 B; lose_big(): 4000 B (glibc)
 *   indirectly lost   lose_list(): a 4-node list (4 x 48 B) whose head
 *                     pointer is dropped: the head is definitely lost,
 *                     the 3 others indirectly
 *   a cycle           lose_cycle(): two 64 B blocks pointing at each
 *                     other: one definitely lost, one indirectly
 *   side by side      lose_many(): 4 x 40 B from one pool, all definitely
 *                     lost (free-list links left in them must not count)
 *   the peak          peak(): 100 x 1000 B (glibc) live at once, freed
 *                     (LEAK_PROG_PEAK=N: N blocks, up to 1000)
 *   temporaries       temporaries(): 50 x 24 B, each freed at once
 */
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	char pad[40];
};

void *volatile keep_global;
static __thread struct node *keep_tls;
void *volatile sink;

/* The pointer is dropped on return; volatile sinks stop the compiler
 * from removing the allocation. */
__attribute__((noinline)) static void lose_direct(void)
{
	char *p = malloc(200);
	memset(p, 1, 200);
	sink = NULL;
}

__attribute__((noinline)) static void lose_big(void)
{
	char *p = malloc(4000);
	memset(p, 2, 4000);
}

__attribute__((noinline)) static struct node *make_list(int n)
{
	struct node *head = NULL;
	for (int i = 0; i < n; i++) {
		struct node *x = malloc(sizeof *x);
		memset(x->pad, 3, sizeof x->pad);
		x->next = head;
		head = x;
	}
	return head;
}

__attribute__((noinline)) static void lose_list(void)
{
	make_list(4);
}

__attribute__((noinline)) static void lose_cycle(void)
{
	void **a = malloc(64), **b = malloc(64);
	memset(a, 0, 64);
	memset(b, 0, 64);
	a[0] = b;
	b[0] = a;
}

__attribute__((noinline)) static void lose_many(void)
{
	for (int i = 0; i < 4; i++)
		sink = malloc(40);
	sink = NULL;
}

__attribute__((noinline)) static void reachable(void)
{
	keep_global = malloc(100);
	keep_tls = make_list(3);
}

__attribute__((noinline)) static void peak(int n)
{
	static void *p[1000];
	for (int i = 0; i < n; i++) {
		p[i] = malloc(1000);
		memset(p[i], 4, 1000);
	}
	for (int i = 0; i < n; i++)
		free(p[i]);
}

__attribute__((noinline)) static void temporaries(void)
{
	for (int i = 0; i < 50; i++) {
		char *p = malloc(24);
		p[0] = (char)i;
		sink = p;
		free(p);
	}
	sink = NULL;
}

/* Overwrite the dead frames below main's, where the pointers of the
 * functions above may linger, as a real program's later calls would. */
__attribute__((noinline)) static void clobber_stack(void)
{
	volatile char buf[16384];
	memset((char *)buf, 0, sizeof buf);
}

int main(void)
{
	reachable();
	lose_direct();
	lose_big();
	lose_list();
	lose_cycle();
	lose_many();
	const char *e = getenv("LEAK_PROG_PEAK");
	int n = e ? atoi(e) : 100;
	peak(n > 0 && n <= 1000 ? n : 100);
	temporaries();
	clobber_stack();
	return keep_tls == NULL;
}
