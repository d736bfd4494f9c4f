/*
 * stress.c - threaded allocator stress with content checks.
 *
 *   stress [-t THREADS] [-n OPS] [-s SEED] [-f FORKS] [-m EVERY]
 *
 * Each thread does OPS random operations on its own slots: malloc, calloc,
 * realloc chains, memalign and free of random sizes 1..1024, and hands blocks
 * to the next thread through a queue (producer/consumer: the consumer frees
 * them).  Every block carries a fill pattern derived from its size and a tag
 * that is verified before every realloc and free.  With -f the main thread
 * forks FORKS times while the workers run; each child runs a small stress of
 * its own and must exit 0.  With -m each thread calls malloc_trim(0) every
 * EVERY ops (under POOLTRACE_MESH=1: rounds that mesh its pools while the
 * others write and free theirs).  Deterministic for a given seed per thread; cross
 * thread timing varies.  Exit 0 if every check held, 1 on corruption.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXSIZE 1024
#define SLOTS   1024
#define QCAP    256

struct block {
	uint32_t size, tag;
	unsigned char *p;
};

struct queue {
	pthread_mutex_t lock;
	struct block items[QCAP];
	unsigned head, len;
};

static int nthreads = 8;
static long nops = 200000;
static unsigned long seed = 12345;
static struct queue *queues;
static volatile int failed;

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static unsigned char pattern(uint32_t tag, size_t i)
{
	return (unsigned char)((tag * 2654435761u) >> 24 ^ (i * 31));
}

static void fill(struct block *b, size_t from)
{
	for (size_t i = from; i < b->size; i++)
		b->p[i] = pattern(b->tag, i);
}

static int verify(const struct block *b, size_t upto, const char *what)
{
	for (size_t i = 0; i < upto; i++)
		if (b->p[i] != pattern(b->tag, i)) {
			fprintf(stderr, "stress: corrupt block %p size %u tag %u at byte %zu (%s)\n",
			        (void *)b->p, b->size, b->tag, i, what);
			failed = 1;
			return 0;
		}
	if (malloc_usable_size(b->p) < b->size) {
		fprintf(stderr, "stress: usable size %zu < %u\n", malloc_usable_size(b->p), b->size);
		failed = 1;
		return 0;
	}
	return 1;
}

static void release(struct block *b)
{
	if (!b->p)
		return;
	verify(b, b->size, "free");
	free(b->p);
	b->p = NULL;
}

static int push(struct queue *q, struct block b)
{
	int ok = 0;
	pthread_mutex_lock(&q->lock);
	if (q->len < QCAP) {
		q->items[(q->head + q->len++) % QCAP] = b;
		ok = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

static int pop(struct queue *q, struct block *b)
{
	int ok = 0;
	pthread_mutex_lock(&q->lock);
	if (q->len) {
		*b = q->items[q->head];
		q->head = (q->head + 1) % QCAP;
		q->len--;
		ok = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

static int new_block(struct block *b, uint64_t *rng, uint32_t tag)
{
	uint64_t r = next_rand(rng);
	b->size = 1 + (uint32_t)(r % MAXSIZE);
	b->tag = tag;
	switch ((r >> 32) % 8) {
	case 0:
		b->p = calloc(1, b->size);
		for (size_t i = 0; b->p && i < b->size; i++)
			if (b->p[i]) {
				fprintf(stderr, "stress: calloc block not zero\n");
				failed = 1;
				break;
			}
		break;
	case 1: {
		size_t align = (size_t)8 << ((r >> 40) % 7);   /* 8 .. 512 */
		if (posix_memalign((void **)&b->p, align, b->size))
			b->p = NULL;
		if (b->p && (uintptr_t)b->p % align) {
			fprintf(stderr, "stress: misaligned %p for %zu\n", (void *)b->p, align);
			failed = 1;
		}
		break;
	}
	default:
		b->p = malloc(b->size);
		break;
	}
	if (!b->p) {
		fprintf(stderr, "stress: out of memory for %u bytes\n", b->size);
		failed = 1;
		return 0;
	}
	if (b->size >= 16 && (uintptr_t)b->p % 16 && !getenv("POOLTRACE_ALIGN")) {
		fprintf(stderr, "stress: %u-byte block %p not 16-aligned\n", b->size, (void *)b->p);
		failed = 1;
	}
	fill(b, 0);
	return 1;
}

struct worker {
	int id, nthreads;
	long ops;
	uint64_t rng;
	long allocs, reallocs, handed, received;
};

static long trim_every;

static void *work(void *arg)
{
	struct worker *w = arg;
	struct block *slot = calloc(SLOTS, sizeof *slot);
	uint32_t tag = (uint32_t)w->id << 24;
	struct queue *mine = &queues[w->id], *next = &queues[(w->id + 1) % w->nthreads];

	for (long op = 0; op < w->ops && !failed; op++) {
		uint64_t r = next_rand(&w->rng);
		struct block *b = &slot[r % SLOTS];
		if (trim_every && op % trim_every == trim_every - 1)
			malloc_trim(0);
		unsigned kind = (unsigned)(r >> 40) % 16;
		if (kind < 7) {                        /* replace */
			release(b);
			if (new_block(b, &w->rng, ++tag))
				w->allocs++;
		} else if (kind < 11 && b->p) {        /* realloc chain step */
			verify(b, b->size, "before realloc");
			uint32_t old = b->size;
			uint32_t nsize = 1 + (uint32_t)(next_rand(&w->rng) % MAXSIZE);
			unsigned char *np = realloc(b->p, nsize);
			if (!np) {
				fprintf(stderr, "stress: realloc to %u failed\n", nsize);
				failed = 1;
				break;
			}
			b->p = np;
			b->size = nsize;
			verify(b, old < nsize ? old : nsize, "after realloc");
			fill(b, old < nsize ? old : nsize);
			w->reallocs++;
		} else if (kind < 14 && b->p) {        /* hand to the next thread */
			if (push(next, *b)) {
				b->p = NULL;
				w->handed++;
			}
		} else {                               /* consume what we were given */
			struct block got;
			for (int k = 0; k < 8 && pop(mine, &got); k++) {
				release(&got);
				w->received++;
			}
		}
	}
	for (int i = 0; i < SLOTS; i++)
		release(&slot[i]);
	free(slot);
	return NULL;
}

static int run(int threads, long ops, unsigned long s, long *total)
{
	pthread_t *t = calloc((size_t)threads, sizeof *t);
	struct worker *w = calloc((size_t)threads, sizeof *w);
	queues = calloc((size_t)threads, sizeof *queues);
	for (int i = 0; i < threads; i++)
		pthread_mutex_init(&queues[i].lock, NULL);
	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){ .id = i, .nthreads = threads, .ops = ops,
		                        .rng = s * 0x9E3779B97F4A7C15ull + (uint64_t)i + 1 };
		if (pthread_create(&t[i], NULL, work, &w[i])) {
			fprintf(stderr, "stress: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	/* whatever is still queued: freed here, by yet another thread */
	for (int i = 0; i < threads; i++) {
		struct block b;
		while (pop(&queues[i], &b))
			release(&b);
	}
	*total = 0;
	for (int i = 0; i < threads; i++)
		*total += w[i].allocs + w[i].reallocs + w[i].handed;
	free(t);
	free(w);
	free(queues);
	return failed;
}

struct forker_arg {
	int forks;
	int bad;
};

static void *forker(void *arg)
{
	struct forker_arg *f = arg;
	for (int i = 0; i < f->forks; i++) {
		usleep(20000);
		pid_t pid = fork();
		if (pid == 0) {
			long total;
			_exit(run(2, 20000, seed + 1000 + (unsigned long)i, &total) ? 1 : 0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "stress: forked child %d failed\n", i);
			f->bad = 1;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int forks = 0, opt;
	while ((opt = getopt(argc, argv, "t:n:s:f:m:")) != -1) {
		switch (opt) {
		case 't': nthreads = atoi(optarg); break;
		case 'n': nops = atol(optarg); break;
		case 's': seed = strtoul(optarg, NULL, 0); break;
		case 'f': forks = atoi(optarg); break;
		case 'm': trim_every = atol(optarg); break;
		default:
			fprintf(stderr, "usage: stress [-t THREADS] [-n OPS] [-s SEED] [-f FORKS] [-m EVERY]\n");
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > 64 || nops < 1) {
		fprintf(stderr, "stress: threads must be 1..64 and ops > 0\n");
		return 2;
	}
	struct forker_arg fa = { forks, 0 };
	pthread_t ft;
	if (forks)
		pthread_create(&ft, NULL, forker, &fa);
	long total;
	int bad = run(nthreads, nops, seed, &total);
	if (forks)
		pthread_join(ft, NULL);
	bad |= fa.bad;
	printf("stress: %d threads, %ld ops each, seed %lu, %d forks: %ld allocations, "
	       "reallocs and hand-overs: %s\n", nthreads, nops, seed, forks, total,
	       bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}
