/*
 * html_prog.c - the program tests/test_html.sh profiles: over about 0.3 s
 * it builds and frees lists of small blocks (pool) and large buffers
 * (glibc), makes temporary allocations, leaks a few blocks and leaves
 * arenas pinned by a handful of live blocks, each from a function of its
 * own so the report names them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct node {
	struct node *next;
	char payload[40];
};

static void *volatile sink;
static struct node *leaked;
static void *volatile pins[5];   /* still reachable at exit */

static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

__attribute__((noinline)) static struct node *html_build_list(int n)
{
	struct node *head = NULL;
	for (int i = 0; i < n; i++) {
		struct node *x = malloc(sizeof *x);
		memset(x->payload, i, sizeof x->payload);
		x->next = head;
		head = x;
	}
	return head;
}

__attribute__((noinline)) static void html_free_list(struct node *head)
{
	while (head) {
		struct node *next = head->next;
		free(head);
		head = next;
	}
}

__attribute__((noinline)) static char *html_big_buffer(size_t size)
{
	char *b = malloc(size);
	memset(b, 1, size);
	return b;
}

__attribute__((noinline)) static void html_temporaries(int n)
{
	for (int i = 0; i < n; i++) {
		char *t = malloc(24 + i % 200);
		sink = t;
		free(t);
	}
}

__attribute__((noinline)) static void html_leak_some(void)
{
	for (int i = 0; i < 10; i++) {
		struct node *x = malloc(sizeof *x);
		x->next = leaked;
		leaked = x;
	}
	leaked = NULL;        /* now lost */
	sink = malloc(3000);  /* still reachable */
}

/* 20000 blocks of 48 bytes fill several arenas; keeping one in 4000
 * leaves each arena held by one or two blocks */
__attribute__((noinline)) static void html_pin_arenas(void)
{
	static void *all[20000];
	for (int i = 0; i < 20000; i++)
		all[i] = malloc(40);
	for (int i = 0; i < 20000; i++) {
		if (i % 4000 == 2000)
			pins[i / 4000] = all[i];
		else
			free(all[i]);
	}
}

int main(void)
{
	char *bufs[6];
	struct node *lists[6];
	for (int round = 0; round < 6; round++) {
		lists[round] = html_build_list(2000 * (round + 1));
		bufs[round] = html_big_buffer(100000 * (size_t)(round + 1));
		html_temporaries(500);
		pause_ms(25);
	}
	for (int round = 0; round < 6; round++) {
		html_free_list(lists[round]);
		free(bufs[round]);
		pause_ms(20);
	}
	html_pin_arenas();
	html_leak_some();
	return 0;
}
