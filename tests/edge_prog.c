/*
 * edge_prog.c - the edges of the malloc API, printed so that a run without
 * the preload (glibc's answers) and runs under it compare line by line.
 *
 *   edge_prog aligned    every aligned call (memalign, aligned_alloc,
 *                        posix_memalign, valloc, pvalloc) over alignments
 *                        and sizes that are valid, odd or impossible: the
 *                        class of the result (a block, or NULL), errno
 *                        (kept, or what was set), posix_memalign's return
 *                        value and whether it wrote *memptr; a block must
 *                        be aligned as asked (memalign rounds an alignment
 *                        up to a power of two) and hold its size
 *   edge_prog realloc    realloc to the same size keeps the block
 *   edge_prog mallinfo   mallinfo, mallinfo2 and malloc_stats count small
 *                        blocks: uordblks grows by at least what 2000
 *                        blocks of 100 bytes hold and shrinks again when
 *                        they are freed; the fields add up as glibc's do
 *   edge_prog info       malloc_info: the XML on stdout, for a parser
 *
 * Output on stdout; exit 0, or 1 with what went wrong on stderr.  Built
 * with -fno-builtin: GCC assumes that posix_memalign leaves errno alone
 * and would print the errno from before the call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"   /* mallinfo */

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
	exit(1); } } while (0)

#define SENTINEL 4242   /* errno before each call */

static const size_t sizes[] = {
	0, 1, 24, 100, 512, 513, 4096, 100000, PTRDIFF_MAX, (size_t)PTRDIFF_MAX + 1,
	SIZE_MAX - 4096, SIZE_MAX,
};

static const size_t aligns[] = {
	0, 1, 2, 3, 4, 8, 12, 16, 24, 32, 48, 64, 100, 128, 256, 512, 1024, 4096, 4097,
	65536, (size_t)1 << 20, (size_t)1 << 62, SIZE_MAX / 2, SIZE_MAX / 2 + 1,
	SIZE_MAX / 2 + 2, SIZE_MAX - 7, SIZE_MAX - 1, SIZE_MAX,
};

#define N(a) (sizeof (a) / sizeof (a)[0])

static const char *errname(int e)
{
	static char buf[32];
	switch (e) {
	case SENTINEL: return "kept";
	case ENOMEM: return "ENOMEM";
	case EINVAL: return "EINVAL";
	case 0: return "0";
	}
	snprintf(buf, sizeof buf, "%d", e);
	return buf;
}

/* The smallest power of two at least a (1 for 0), 0 above 2^63. */
static size_t pow2_up(size_t a)
{
	size_t p = 1;
	while (p && p < a)
		p <<= 1;
	return p;
}

/* "block", or what is wrong with it; writes every byte of small blocks */
static const char *judge(void *p, size_t align, size_t n)
{
	if (!p)
		return "NULL";
	if (align && (uintptr_t)p % align)
		return "block MISALIGNED";
	if (malloc_usable_size(p) < n)
		return "block SHORT";
	if (n <= 1 << 20)
		memset(p, 0x5a, n);
	return "block";
}

static void line(const char *call, size_t align, size_t n, void *p, size_t want_align, int e)
{
	printf("%s(%#zx, %#zx): %s, errno %s\n", call, align, n, judge(p, want_align, n),
	       errname(e));
	free(p);
}

static int aligned(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < N(aligns); i++)
		for (size_t j = 0; j < N(sizes); j++) {
			size_t a = aligns[i], n = sizes[j];
			errno = SENTINEL;
			void *p = memalign(a, n);
			line("memalign", a, n, p, pow2_up(a), errno);
			errno = SENTINEL;
			p = aligned_alloc(a, n);
			line("aligned_alloc", a, n, p, pow2_up(a), errno);
			void *out = &out;
			errno = SENTINEL;
			int r = posix_memalign(&out, a, n);
			int e = errno;
			printf("posix_memalign(%#zx, %#zx): returns %s, errno %s, *memptr %s\n", a, n,
			       r ? errname(r) : "0", errname(e),
			       out == &out ? "untouched" : judge(out, a, n));
			if (out != &out)
				free(out);
		}
	for (size_t j = 0; j < N(sizes); j++) {
		size_t n = sizes[j];
		errno = SENTINEL;
		void *p = valloc(n);
		line("valloc", 0, n, p, page, errno);
		errno = SENTINEL;
		p = pvalloc(n);
		line("pvalloc", 0, n, p, page, errno);
	}
	return 0;
}

static int realloc_same(void)
{
	static const size_t rs[] = { 1, 8, 24, 100, 512, 513, 4096, 100000, 1 << 20 };
	for (size_t i = 0; i < N(rs); i++) {
		size_t n = rs[i];
		unsigned char *p = malloc(n);
		CHECK(p);
		for (size_t k = 0; k < n; k++)
			p[k] = (unsigned char)(k * 7);
		errno = SENTINEL;
		unsigned char *q = realloc(p, n);
		int e = errno;
		int intact = 1;
		for (size_t k = 0; q && k < n; k++)
			intact &= q[k] == (unsigned char)(k * 7);
		printf("realloc(malloc(%zu), %zu): %s, %s, errno %s\n", n, n,
		       q == p ? "same block" : q ? "MOVED" : "NULL",
		       intact ? "contents kept" : "CONTENTS LOST", errname(e));
		free(q);
	}
	return 0;
}

static int mallinfo_counts(void)
{
	enum { NB = 2000, SZ = 100 };
	static void *b[NB];
	struct mallinfo2 m0 = mallinfo2();
	struct mallinfo i0 = mallinfo();
	for (int i = 0; i < NB; i++)
		CHECK((b[i] = malloc(SZ)) != NULL);
	struct mallinfo2 m1 = mallinfo2();
	struct mallinfo i1 = mallinfo();
	/* what glibc keeps: arena = uordblks + fordblks, fast <= free */
	CHECK(m1.arena == m1.uordblks + m1.fordblks);
	CHECK(m1.fsmblks <= m1.fordblks && m1.smblks <= m1.ordblks);
	CHECK(m1.uordblks >= m0.uordblks + (size_t)NB * SZ);
	CHECK(m1.arena >= m0.arena + (size_t)NB * SZ);
	/* mallinfo's fields are mallinfo2's, cut to int */
	CHECK(i1.arena == (int)m1.arena && i1.uordblks == (int)m1.uordblks &&
	      i1.fordblks == (int)m1.fordblks && i1.ordblks == (int)m1.ordblks &&
	      i1.hblkhd == (int)m1.hblkhd && i1.keepcost == (int)m1.keepcost);
	CHECK((size_t)i1.uordblks >= (size_t)i0.uordblks + (size_t)NB * SZ);
	fflush(stdout);
	malloc_stats();   /* on stderr: the caller checks it */
	for (int i = 0; i < NB; i++)
		free(b[i]);
	struct mallinfo2 m2 = mallinfo2();
	CHECK(m2.arena == m2.uordblks + m2.fordblks);
	CHECK(m2.uordblks + (size_t)NB * SZ * 9 / 10 <= m1.uordblks);
	printf("mallinfo: ok\n");
	return 0;
}

static int info(void)
{
	enum { NB = 2000, SZ = 100 };
	static void *b[NB];
	for (int i = 0; i < NB; i++)
		CHECK((b[i] = malloc(SZ)) != NULL);
	for (int i = 0; i < NB; i += 2)
		free(b[i]);
	void *big = malloc(1 << 20);   /* an mmapped chunk */
	void *freed = malloc(3000);     /* a glibc chunk, freed: in this thread's cache */
	CHECK(freed != NULL);
	free(freed);
	errno = SENTINEL;
	CHECK(malloc_info(1, stdout) == EINVAL && errno == SENTINEL);
	CHECK(malloc_info(0, stdout) == 0 && errno == SENTINEL);
	free(big);
	for (int i = 1; i < NB; i += 2)
		free(b[i]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	if (strcmp(argv[1], "aligned") == 0)
		return aligned();
	if (strcmp(argv[1], "realloc") == 0)
		return realloc_same();
	if (strcmp(argv[1], "mallinfo") == 0)
		return mallinfo_counts();
	if (strcmp(argv[1], "info") == 0)
		return info();
	return 2;
}
