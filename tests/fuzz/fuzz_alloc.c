/*
 * fuzz_alloc.c - libFuzzer target: pooltrace's malloc API driven by op
 * sequences decoded from the input, checked against a shadow model.
 *
 * The binary links the allocator and preload/ objects themselves, so the
 * malloc, free, realloc... of this executable ARE pooltrace's: they
 * interpose glibc's for libFuzzer, libc and the harness alike (libFuzzer's
 * own allocations are a stress bonus).  It is built with
 * -fsanitize=fuzzer,undefined and never with AddressSanitizer, which would
 * replace malloc.  LLVMFuzzerInitialize checks that the interposition
 * really happened (a malloc result and a strdup result are pool blocks);
 * otherwise it aborts, so this target can never silently test glibc.
 *
 * The model holds, in static arrays (it never allocates), every live
 * block: pointer, requested size, asked alignment, usable size, fill byte
 * and API.  Every usable byte of a block carries a pattern of its fill
 * byte and offset (blocks above SPARSE_MIN: the first and last 4 KiB and
 * 64 bytes of each page in between).  Checked, from man/libpooltrace.3 and
 * allocator/pool_alloc.h:
 *  - contents: a block's pattern is intact whenever it is touched, before
 *    free and realloc; realloc keeps min(old, new) bytes; calloc zeroes;
 *  - alignment: POOLTRACE_ALIGN=16 (default): 16 (classes 16, 32, ...
 *    512; glibc gives 16 above 512); POOLTRACE_ALIGN=8: 8 up to 512
 *    bytes, 16 above; memalign
 *    family: the alignment asked (8 .. 4096);
 *  - where a block comes from: requests of at most 512 bytes from a pool
 *    (pt_owns), the rest from glibc; aligned requests from the pool class
 *    round_up(max(n, align), align) when that is at most 512;
 *  - usable size: malloc_usable_size >= requested, and exactly the class
 *    size for pool blocks (== pt_block_size); realloc within the same
 *    class stays in place, across classes it moves;
 *  - live blocks never overlap (usable ranges, sorted, every CHECK_EVERY
 *    ops and at the end of each input);
 *  - frees of pointers that are no block start (inside a block, a pool's
 *    tail) are refused and change nothing; realloc of one fails (EINVAL);
 *  - free and free_sized preserve errno; calloc and reallocarray overflow,
 *    sizes no allocator can give (NULL, ENOMEM, a realloc'ed block left as
 *    it was) and posix_memalign with a bad alignment fail as glibc does.
 * Cross-thread frees: a batch of blocks is handed to a new thread, which
 * checks and frees them (remote frees into this thread's pools) and
 * allocates a few blocks of its own before it exits (its heap is then
 * abandoned, and adopted by the next thread; the main thread frees those
 * blocks remotely).  The main thread goes on with up to 15 ops while it
 * runs, then joins it.
 *
 * Run with POOLTRACE_ALIGN=8 too: the model reads the mode from pt_align().
 * With POOLTRACE_DEBUG=1 (the heap checker: every block has a header and
 * guards, so pools and class sizes no longer show) the model expects 16-byte
 * alignment at least and malloc_usable_size == the requested size, and no
 * report from the checker: every op sequence here is a valid one.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool_alloc.h"

/* C23, exported by libpooltrace; glibc 2.36's headers do not declare them */
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t align, size_t size);

#define MAX_LIVE        2048
#define MAX_LIVE_BYTES  (64u << 20)
#define MAX_XFER        64
#define CHECK_EVERY     32
#define SPARSE_MIN      (16u << 10)   /* bigger blocks are patterned sparsely */
#define PAGE            4096u

/* The model's byte loops and sort are not what is fuzzed: no coverage
 * callbacks in them (with them, comparing patterns took 2/3 of the time). */
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

enum api { API_MALLOC, API_ALIGNED };

struct blk {
	unsigned char *p;
	size_t size;              /* requested */
	size_t usable;            /* malloc_usable_size when it was patterned */
	size_t align;             /* asked by the memalign family; 0: none */
	uint8_t fill;
	uint8_t api;
	uint8_t pool;             /* pt_owns() */
};

static struct {
	unsigned mode;            /* pt_align(): 8 or 16 */
	int dbg;                  /* POOLTRACE_DEBUG is on */
	int err_fd;               /* a copy of stderr, for fail() */
	int null_fd;              /* /dev/null: stderr while a bad free is refused */
	struct blk live[MAX_LIVE];
	size_t nlive, live_bytes;
	uint8_t fill_gen;
	size_t order[MAX_LIVE];   /* the overlap check's sort */
} m;

/* ---- failing ------------------------------------------------------------- */

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* write(2): no stdio lock, nothing allocated, from any thread */
	static const char pre[] = "fuzz_alloc: MODEL MISMATCH: ";
	int fd = m.err_fd > 0 ? m.err_fd : 2;
	(void)!write(fd, pre, sizeof pre - 1);
	(void)!write(fd, buf, strlen(buf));
	(void)!write(fd, "\n", 1);
	if (m.err_fd > 0)
		dup2(m.err_fd, 2);   /* for libFuzzer's report */
	abort();
}

/* ---- the rules the model expects ----------------------------------------- */

static size_t round_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

/* Alignment of a malloc/calloc/realloc result of n bytes. */
static size_t default_align(size_t n)
{
	if (n > PT_SMALL_MAX)
		return 16;            /* glibc on x86-64 and aarch64 */
	return m.mode == 8 ? 8 : 16;
}

/* Class size of a pool block for n bytes with alignment align (0: none). */
static size_t class_for(size_t n, size_t align)
{
	if (align > 8)
		return round_up(n > align ? n : align, align);
	if (n <= 16)
		return 16;            /* the smallest block */
	return round_up(n, m.mode);
}

/* Does the pool serve this request (n bytes, alignment align or 0)? */
static int pool_expected(size_t n, size_t align)
{
	if (align <= 8)
		return n <= PT_SMALL_MAX;
	return align <= PT_SMALL_MAX && class_for(n, align) <= PT_SMALL_MAX;
}

/* ---- patterns ------------------------------------------------------------ */

static inline uint8_t pat(uint8_t fill, size_t i)
{
	return (uint8_t)(fill + i * 7 + (i >> 8));
}

/*
 * Fill (check == 0) or check the patterned bytes of a block of usable
 * bytes that lie below lim.  Returns the first bad offset, or SIZE_MAX.
 */
NO_COVERAGE static size_t pattern(unsigned char *p, size_t usable, size_t lim, uint8_t fill,
                                  int check)
{
	size_t ranges[3][2];
	size_t nr = 0;
	if (lim > usable)
		lim = usable;
	if (usable <= SPARSE_MIN) {
		ranges[nr][0] = 0, ranges[nr][1] = lim, nr++;
	} else {
		ranges[nr][0] = 0, ranges[nr][1] = PAGE, nr++;
		ranges[nr][0] = PAGE, ranges[nr][1] = usable - PAGE, nr++;   /* sparse */
		ranges[nr][0] = usable - PAGE, ranges[nr][1] = usable, nr++;
	}
	for (size_t r = 0; r < nr; r++) {
		size_t a = ranges[r][0], b = ranges[r][1] < lim ? ranges[r][1] : lim;
		size_t step = usable > SPARSE_MIN && r == 1 ? PAGE : 0;
		for (size_t s = a; s < b; s += step ? step : b - a) {
			size_t e = step ? s + 64 : b;
			if (e > b)
				e = b;
			for (size_t i = s; i < e; i++) {
				if (!check)
					p[i] = pat(fill, i);
				else if (p[i] != pat(fill, i))
					return i;
			}
		}
	}
	return SIZE_MAX;
}

NO_COVERAGE static size_t first_nonzero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return i;
	return SIZE_MAX;
}

static void verify(const struct blk *b, const char *when)
{
	size_t bad = pattern(b->p, b->usable, b->usable, b->fill, 1);
	if (bad != SIZE_MAX)
		fail("%s: block %p (%zu bytes asked, %zu usable, align %zu, %s) damaged at "
		     "offset %zu: 0x%02x, expected 0x%02x", when, (void *)b->p, b->size,
		     b->usable, b->align, b->pool ? "pool" : "glibc", bad, b->p[bad],
		     pat(b->fill, bad));
}

/*
 * A block just handed out: check where it came from, its alignment and
 * usable size, and pattern it.  Thread-safe (touches only *b).
 */
static void adopt(struct blk *b, const char *what, int zeroed, uint8_t fill)
{
	uintptr_t a = (uintptr_t)b->p;
	if (!b->p)
		fail("%s(%zu, align %zu) returned NULL", what, b->size, b->align);
	size_t want_align = b->align > 8 ? b->align : default_align(b->size);
	if (m.dbg && want_align < 16)
		want_align = 16;
	if (a % want_align)
		fail("%s(%zu, align %zu) = %p: not %zu-aligned (POOLTRACE_ALIGN=%u)", what,
		     b->size, b->align, (void *)b->p, want_align, m.mode);
	b->pool = pt_owns(b->p);
	b->usable = malloc_usable_size(b->p);
	if (m.dbg) {
		if (b->usable != b->size)
			fail("%s(%zu) = %p: malloc_usable_size %zu in debug mode, expected the "
			     "requested size", what, b->size, (void *)b->p, b->usable);
		b->pool = 0;   /* a debug block is inside a pool block or glibc's */
	} else if (b->pool != pool_expected(b->size, b->align))
		fail("%s(%zu, align %zu) = %p: served by %s, expected %s", what, b->size,
		     b->align, (void *)b->p, b->pool ? "a pool" : "glibc",
		     b->pool ? "glibc" : "a pool");
	if (b->usable < b->size)
		fail("%s(%zu) = %p: malloc_usable_size %zu < requested", what, b->size,
		     (void *)b->p, b->usable);
	if (b->pool) {
		size_t cls = class_for(b->size, b->align);
		if (b->usable != cls || pt_block_size(b->p) != cls)
			fail("%s(%zu, align %zu) = %p: usable %zu, pt_block_size %zu, expected "
			     "the class size %zu (POOLTRACE_ALIGN=%u)", what, b->size, b->align,
			     (void *)b->p, b->usable, pt_block_size(b->p), cls, m.mode);
	}
	size_t nz = zeroed ? first_nonzero(b->p, b->size) : SIZE_MAX;
	if (nz != SIZE_MAX)
		fail("%s(%zu) = %p: byte %zu is 0x%02x, not zero", what, b->size, (void *)b->p,
		     nz, b->p[nz]);
	b->fill = fill;
	pattern(b->p, b->usable, b->usable, b->fill, 0);
}

/* Free b (checked first) with free, free_sized or free_aligned_sized. */
static void release(const struct blk *b, unsigned how, const char *when)
{
	verify(b, when);
	errno = EDOM;
	if (how % 3 == 0)
		free(b->p);
	else if (b->api == API_ALIGNED)
		free_aligned_sized(b->p, b->align, b->size);
	else
		free_sized(b->p, b->size);
	if (errno != EDOM)
		fail("free of %p (%zu bytes) changed errno to %d", (void *)b->p, b->size, errno);
}

/* ---- the model ------------------------------------------------------------ */

static uint8_t next_fill(void)
{
	m.fill_gen = (uint8_t)(m.fill_gen + 37);
	return m.fill_gen;
}

static int room_for(size_t n)
{
	return m.nlive < MAX_LIVE && m.live_bytes + n <= MAX_LIVE_BYTES;
}

static void model_add(const struct blk *b)
{
	if (m.nlive >= MAX_LIVE)
		fail("model full");   /* callers check room_for() */
	m.live[m.nlive++] = *b;
	m.live_bytes += b->usable;
}

static struct blk model_take(size_t i)
{
	struct blk b = m.live[i];
	m.live_bytes -= b.usable;
	m.live[i] = m.live[--m.nlive];
	return b;
}

/* Heapsort of m.order by address: no malloc, no recursion. */
NO_COVERAGE static int less(size_t x, size_t y)
{
	return (uintptr_t)m.live[x].p < (uintptr_t)m.live[y].p;
}

NO_COVERAGE static void sift(size_t *a, size_t root, size_t n)
{
	for (;;) {
		size_t c = 2 * root + 1;
		if (c >= n)
			return;
		if (c + 1 < n && less(a[c], a[c + 1]))
			c++;
		if (!less(a[root], a[c]))
			return;
		size_t t = a[root];
		a[root] = a[c];
		a[c] = t;
		root = c;
	}
}

static void check_all(const char *when)
{
	size_t n = m.nlive, *a = m.order;
	for (size_t i = 0; i < n; i++) {
		verify(&m.live[i], when);
		if (malloc_usable_size(m.live[i].p) != m.live[i].usable)
			fail("%s: malloc_usable_size(%p) changed from %zu to %zu", when,
			     (void *)m.live[i].p, m.live[i].usable,
			     malloc_usable_size(m.live[i].p));
		a[i] = i;
	}
	for (size_t i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (size_t end = n; end > 1; end--) {
		size_t t = a[0];
		a[0] = a[end - 1];
		a[end - 1] = t;
		sift(a, 0, end - 1);
	}
	for (size_t i = 0; i + 1 < n; i++) {
		const struct blk *x = &m.live[a[i]], *y = &m.live[a[i + 1]];
		if ((uintptr_t)x->p + x->usable > (uintptr_t)y->p)
			fail("%s: live blocks overlap: %p + %zu usable (%zu asked, %s) and %p "
			     "(%zu asked, %s)", when, (void *)x->p, x->usable, x->size,
			     x->pool ? "pool" : "glibc", (void *)y->p, y->size,
			     y->pool ? "pool" : "glibc");
	}
}

/* ---- the input ------------------------------------------------------------ */

struct in {
	const uint8_t *p, *end;
};

static unsigned get8(struct in *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static unsigned get16(struct in *in)
{
	unsigned lo = get8(in);
	return lo | get8(in) << 8;
}

/* A request size: small, any pool size, across 512 both ways, or large. */
static size_t get_size(struct in *in)
{
	unsigned b = get8(in);
	switch (b >> 6) {
	case 0:
		return b & 63;
	case 1:
		return get16(in) % (PT_SMALL_MAX + 1);
	case 2:
		return PT_SMALL_MAX - 16 + get8(in) % 33;
	default:
		if (b & 32)   /* up to ~320 KiB: glibc's mmap threshold and beyond */
			return (64u << 10) + (size_t)get16(in) * 4;
		return PT_SMALL_MAX + 1 + get16(in) % 8192;
	}
}

static size_t get_align(struct in *in)
{
	return (size_t)8 << (get8(in) % 10);   /* 8 .. 4096 */
}

/* ---- cross-thread frees ----------------------------------------------------- */

static struct {
	pthread_t th;
	int running;
	unsigned ops_left;        /* main-thread ops before the join */
	struct blk give[MAX_XFER];
	unsigned ngive;
	struct blk got[MAX_XFER];
	size_t want[MAX_XFER];
	unsigned nwant, nkeep;
	uint8_t fill;
} x;

static void *xthread_main(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < x.ngive; i++)
		release(&x.give[i], i, "remote free");
	/* allocate, free every third at once, keep the rest for main */
	x.nkeep = 0;
	for (unsigned i = 0; i < x.nwant; i++) {
		struct blk b = { .size = x.want[i], .api = API_MALLOC };
		b.p = i & 1 ? calloc(1, b.size) : malloc(b.size);
		adopt(&b, i & 1 ? "calloc in a thread" : "malloc in a thread", i & 1,
		      (uint8_t)(x.fill + i));
		if (i % 3 == 2)
			release(&b, i, "local free in a thread");
		else
			x.got[x.nkeep++] = b;
	}
	return NULL;
}

static void xthread_join(void)
{
	if (!x.running)
		return;
	int e = pthread_join(x.th, NULL);
	if (e)
		fail("pthread_join: %s", strerror(e));
	x.running = 0;
	for (unsigned i = 0; i < x.nkeep; i++) {
		if (room_for(x.got[i].usable))
			model_add(&x.got[i]);
		else
			release(&x.got[i], i, "free of a thread's block");
	}
	x.nkeep = 0;
}

static void xthread_start(struct in *in)
{
	xthread_join();
	unsigned ngive = get8(in) % (MAX_XFER + 1), nwant = get8(in) % 17;
	x.ops_left = get8(in) % 16;
	x.ngive = 0;
	for (unsigned i = 0; i < ngive && m.nlive; i++)
		x.give[x.ngive++] = model_take(get16(in) % m.nlive);
	x.nwant = 0;
	for (unsigned i = 0; i < nwant; i++) {
		size_t n = get_size(in);
		if (n <= PT_SMALL_MAX * 4)   /* the thread's blocks stay small */
			x.want[x.nwant++] = n;
	}
	x.fill = next_fill();
	int e = pthread_create(&x.th, NULL, xthread_main, NULL);
	if (e) {   /* no thread (EAGAIN): free them here */
		for (unsigned i = 0; i < x.ngive; i++)
			release(&x.give[i], i, "free");
		return;
	}
	x.running = 1;
}

/* ---- ops -------------------------------------------------------------------- */

enum op {
	OP_MALLOC, OP_CALLOC, OP_REALLOC, OP_FREE, OP_FREE_SIZED, OP_POSIX_MEMALIGN,
	OP_ALIGNED_ALLOC, OP_MEMALIGN, OP_USABLE, OP_XTHREAD, OP_JOIN, OP_CHECK,
	OP_REALLOC_ZERO, OP_REALLOCARRAY, OP_TRIM, OP_REALLOC_NULL, OP_BURST,
	OP_FREE_MANY, OP_BAD_ARGS, NOPS
};

static void do_alloc(unsigned op, size_t n, size_t align)
{
	struct blk b = { .size = n, .align = 0, .api = API_MALLOC };
	const char *what = "malloc";
	int zeroed = 0;
	if (!room_for(n + 64))
		return;
	switch (op) {
	case OP_CALLOC:
		/* split n into nmemb * size when it divides */
		b.p = n % 3 == 0 && n ? calloc(3, n / 3) : calloc(n, 1);
		what = "calloc", zeroed = 1;
		break;
	case OP_REALLOC_NULL:
		b.p = realloc(NULL, n);
		what = "realloc(NULL)";
		break;
	case OP_POSIX_MEMALIGN: {
		void *p = NULL;
		int e = posix_memalign(&p, align, n);
		if (e)
			fail("posix_memalign(%zu, %zu): %d", align, n, e);
		b.p = p;
		b.align = align, b.api = API_ALIGNED, what = "posix_memalign";
		break;
	}
	case OP_ALIGNED_ALLOC:
		b.p = aligned_alloc(align, n);
		b.align = align, b.api = API_ALIGNED, what = "aligned_alloc";
		break;
	case OP_MEMALIGN:
		b.p = memalign(align, n);
		b.align = align, b.api = API_ALIGNED, what = "memalign";
		break;
	default:
		b.p = malloc(n);
		break;
	}
	adopt(&b, what, zeroed, next_fill());
	model_add(&b);
}

/* realloc of live block i to n bytes (through reallocarray when array). */
static void do_realloc(size_t i, size_t n, int array, size_t nmemb)
{
	struct blk old = m.live[i];
	verify(&old, "before realloc");
	if (n > old.usable && !room_for(n - old.usable + 64))
		return;
	void *q = array ? reallocarray(old.p, nmemb, n / (nmemb ? nmemb : 1))
	                : realloc(old.p, n);
	if (n == 0) {   /* glibc semantics: realloc(p, 0) frees p, returns NULL */
		if (q)
			fail("realloc(%p, 0) = %p, expected NULL (the block freed)", (void *)old.p, q);
		model_take(i);
		return;
	}
	if (!q)
		fail("realloc(%p, %zu) returned NULL", (void *)old.p, n);
	int same_class = !m.dbg && old.pool && n <= PT_SMALL_MAX && class_for(n, 0) == old.usable;
	if (old.pool && same_class != (q == old.p))
		fail("realloc(%p of %zu usable, %zu) = %p: %s", (void *)old.p, old.usable, n, q,
		     same_class ? "moved within its size class" : "stayed in place across classes");
	/* the preserved bytes: min(old, new) of the requested sizes */
	struct blk moved = old;
	moved.p = q;
	size_t keep = old.size < n ? old.size : n;
	size_t bad = pattern(q, old.usable, keep, old.fill, 1);
	if (bad != SIZE_MAX)
		fail("realloc(%p, %zu -> %zu) = %p: byte %zu not kept: 0x%02x, expected 0x%02x",
		     (void *)old.p, old.size, n, q, bad, ((unsigned char *)q)[bad],
		     pat(old.fill, bad));
	m.live_bytes -= old.usable;
	struct blk b = { .p = q, .size = n, .align = 0, .api = API_MALLOC };
	adopt(&b, "realloc", 0, old.fill);
	m.live[i] = b;
	m.live_bytes += b.usable;
}

/*
 * Pointers that are no block start, inside pool block b (man/libpooltrace.3,
 * NOTES): free, free_sized and realloc refuse them with one line on stderr
 * (realloc: NULL, EINVAL) and leave the pool alone.  how 0: free of a
 * pointer inside b; 1: realloc of it; 2: free of the tail of b's pool, past
 * its last block, when its class leaves one.  Not in debug mode, whose
 * checker reports them and aborts.
 */
static void bad_pointer(unsigned how, struct blk *b, struct in *in)
{
	if (!b->pool || b->usable < 16)
		return;
	uintptr_t base = (uintptr_t)b->p & ~(uintptr_t)(PT_POOL_SIZE - 1);
	unsigned char *bad = b->p + 8 * (1 + get8(in) % (b->usable / 8 - 1));
	size_t last = (PT_POOL_SIZE / b->usable) * b->usable;
	if (how == 2) {
		if (last == PT_POOL_SIZE)
			return;
		bad = (unsigned char *)(base + last + 8 * (get8(in) % ((PT_POOL_SIZE - last) / 8)));
	}
	dup2(m.null_fd, 2);   /* the line the refusal prints */
	errno = EDOM;
	void *q = NULL;
	if (how == 1)
		q = realloc(bad, get_size(in));
	else if (get8(in) & 1)
		free_sized(bad, 8);
	else
		free(bad);
	int e = errno;
	dup2(m.err_fd, 2);
	if (how == 1 && (q || e != EINVAL))
		fail("realloc(%p), inside the block %p of %zu bytes: %p, errno %d (expected "
		     "NULL, EINVAL)", (void *)bad, (void *)b->p, b->usable, q, e);
	if (how != 1 && e != EDOM)
		fail("free(%p) (no block start) changed errno to %d", (void *)bad, e);
	verify(b, how == 2 ? "after a free of a pool's tail" : "after a refused free inside it");
	if (malloc_usable_size(b->p) != b->usable)
		fail("a refused free changed malloc_usable_size(%p)", (void *)b->p);
}

/* A size no allocator can give: NULL with ENOMEM, nothing touched. */
static size_t huge_size(struct in *in)
{
	static const size_t huge[] = { SIZE_MAX, SIZE_MAX - 4095, SIZE_MAX - 64,
	                               (size_t)PTRDIFF_MAX + 1, (size_t)1 << 62 };
	return huge[get8(in) % (sizeof huge / sizeof huge[0])];
}

static void do_bad_args(unsigned sel, struct in *in)
{
	errno = 0;
	switch (sel % 10) {
	case 0: {   /* calloc overflow */
		void *p = calloc(SIZE_MAX / 2 + 2, 2 + get8(in) % 8);
		if (p || errno != ENOMEM)
			fail("calloc overflow: %p, errno %d (expected NULL, ENOMEM)", p, errno);
		break;
	}
	case 1: {   /* reallocarray overflow: NULL, the block untouched */
		if (!m.nlive)
			break;
		struct blk *b = &m.live[get16(in) % m.nlive];
		void *p = reallocarray(b->p, SIZE_MAX / 4, 8);
		if (p || errno != ENOMEM)
			fail("reallocarray overflow: %p, errno %d (expected NULL, ENOMEM)", p, errno);
		verify(b, "after a failed reallocarray");
		break;
	}
	case 2: {   /* posix_memalign: not a power of two multiple of sizeof(void *) */
		static const size_t bad[] = { 0, 1, 2, 4, 12, 24, 48, 96, 4095, 4097 };
		void *p = (void *)1;
		size_t a = bad[get8(in) % (sizeof bad / sizeof bad[0])];
		int e = posix_memalign(&p, a, get_size(in));
		if (e != EINVAL || p != (void *)1)
			fail("posix_memalign(align %zu): %d, out %p (expected EINVAL, untouched)",
			     a, e, p);
		break;
	}
	case 3: {   /* malloc and calloc of a size nobody has */
		size_t n = huge_size(in);
		void *p = get8(in) & 1 ? calloc(1, n) : malloc(n);
		if (p || errno != ENOMEM)
			fail("malloc/calloc(%zu): %p, errno %d (expected NULL, ENOMEM)", n, p, errno);
		break;
	}
	case 4: {   /* realloc to such a size: NULL, the block untouched */
		if (!m.nlive)
			break;
		struct blk *b = &m.live[get16(in) % m.nlive];
		size_t n = huge_size(in);
		void *p = realloc(b->p, n);
		if (p || errno != ENOMEM)
			fail("realloc(%p, %zu): %p, errno %d (expected NULL, ENOMEM)", (void *)b->p,
			     n, p, errno);
		verify(b, "after a failed realloc");
		if (malloc_usable_size(b->p) != b->usable)
			fail("a failed realloc changed the usable size of %p", (void *)b->p);
		break;
	}
	case 5: {   /* the memalign family: ENOMEM, *out untouched */
		size_t a = get_align(in), n = huge_size(in);
		void *p = (void *)1;
		int e = posix_memalign(&p, a, n);
		if (e != ENOMEM || p != (void *)1)
			fail("posix_memalign(%zu, %zu): %d, out %p (expected ENOMEM, untouched)", a,
			     n, e, p);
		errno = 0;
		p = get8(in) & 1 ? aligned_alloc(a, n) : memalign(a, n);
		if (p || errno != ENOMEM)
			fail("aligned_alloc/memalign(%zu, %zu): %p, errno %d (expected NULL, "
			     "ENOMEM)", a, n, p, errno);
		break;
	}
	case 6:   /* free(NULL), free_sized(NULL): no-ops */
		errno = EDOM;
		free(NULL);
		free_sized(NULL, 0);
		if (errno != EDOM)
			fail("free(NULL) changed errno");
		break;
	default:
		if (!m.dbg && m.nlive)
			bad_pointer(sel % 10 - 7, &m.live[get16(in) % m.nlive], in);
		break;
	}
}

static void run_op(struct in *in)
{
	unsigned op = get8(in) % NOPS;
	switch (op) {
	case OP_MALLOC: case OP_CALLOC: case OP_REALLOC_NULL:
		do_alloc(op, get_size(in), 0);
		break;
	case OP_POSIX_MEMALIGN: case OP_ALIGNED_ALLOC: case OP_MEMALIGN: {
		size_t a = get_align(in);
		do_alloc(op, get_size(in), a);
		break;
	}
	case OP_REALLOC: case OP_REALLOC_ZERO: case OP_REALLOCARRAY: {
		if (!m.nlive)
			break;
		size_t i = get16(in) % m.nlive;
		unsigned nmemb = 1 + get8(in) % 4;
		size_t n = op == OP_REALLOC_ZERO ? 0 : get_size(in);
		if (op == OP_REALLOCARRAY)
			n -= n % nmemb;
		do_realloc(i, n, op == OP_REALLOCARRAY, nmemb);
		break;
	}
	case OP_FREE: case OP_FREE_SIZED: {
		if (!m.nlive)
			break;
		struct blk b = model_take(get16(in) % m.nlive);
		release(&b, op == OP_FREE ? 0 : 1, "before free");
		break;
	}
	case OP_USABLE: {   /* the whole usable size may be written */
		if (!m.nlive)
			break;
		struct blk *b = &m.live[get16(in) % m.nlive];
		verify(b, "before rewriting the usable size");
		if (malloc_usable_size(b->p) != b->usable)
			fail("malloc_usable_size(%p) changed from %zu", (void *)b->p, b->usable);
		b->fill = next_fill();
		pattern(b->p, b->usable, b->usable, b->fill, 0);
		break;
	}
	case OP_XTHREAD:
		xthread_start(in);
		return;   /* its ops_left count from the next op */
	case OP_JOIN:
		xthread_join();
		break;
	case OP_CHECK:
		check_all("check");
		break;
	case OP_TRIM: {
		unsigned k = get8(in) % 3;
		if (k == 0)
			malloc_trim(0);
		else if (k == 1)
			pt_thread_flush();
		else
			pt_purge();
		break;
	}
	case OP_BURST: {   /* many blocks of one size: full pools, fresh carving */
		unsigned cnt = 1 + get8(in) % 128;
		size_t n = get_size(in);
		if (n > 4 * PT_SMALL_MAX)
			n %= 4 * PT_SMALL_MAX;
		for (unsigned k = 0; k < cnt; k++)
			do_alloc(OP_MALLOC, n, 0);
		break;
	}
	case OP_FREE_MANY: {   /* every stride-th block: half-empty pools */
		unsigned stride = 1 + get8(in) % 4, start = get8(in);
		for (size_t i = m.nlive; i-- > 0;)
			if ((i + start) % stride == 0) {
				struct blk b = model_take(i);
				release(&b, (unsigned)i, "before free");
			}
		break;
	}
	case OP_BAD_ARGS:
		do_bad_args(get8(in), in);
		break;
	}
	if (x.running && x.ops_left-- == 0)
		xthread_join();
}

/* ---- libFuzzer ---------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	/* the interposition: our malloc, also for libc's own calls */
	void *p = malloc(24);
	char *s = strdup("pooltrace");
	if (!pt_owns(p) || !pt_owns(s)) {
		fprintf(stderr, "fuzz_alloc: malloc %s, libc's strdup %s: this binary is not "
		        "running on pooltrace's malloc; it would fuzz glibc\n",
		        pt_owns(p) ? "is ours" : "is NOT ours", pt_owns(s) ? "is ours" : "is NOT ours");
		abort();
	}
	free(s);
	free(p);
	m.mode = pt_align();
	const char *env = getenv("POOLTRACE_ALIGN");
	if (m.mode != 8 && m.mode != 16) {
		fprintf(stderr, "fuzz_alloc: pt_align() = %u\n", m.mode);
		abort();
	}
	if (env && strcmp(env, "8") == 0 && m.mode != 8) {
		fprintf(stderr, "fuzz_alloc: POOLTRACE_ALIGN=8 but pt_align() = %u: the "
		        "options hook is not in use\n", m.mode);
		abort();
	}
	m.err_fd = fcntl(2, F_DUPFD_CLOEXEC, 10);
	m.null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (m.err_fd < 0 || m.null_fd < 0) {
		perror("fuzz_alloc: stderr");
		abort();
	}
	const char *dbg = getenv("POOLTRACE_DEBUG");
	m.dbg = dbg && *dbg && strcmp(dbg, "0") != 0;
	fprintf(stderr, "fuzz_alloc: pooltrace's malloc is in use, POOLTRACE_ALIGN=%u%s\n",
	        m.mode, m.dbg ? ", POOLTRACE_DEBUG on" : "");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, data + size };
	unsigned nops = 0;
	while (in.p < in.end) {
		run_op(&in);
		if (++nops % CHECK_EVERY == 0)
			check_all("periodic check");
	}
	xthread_join();
	check_all("end of input");
	while (m.nlive) {
		struct blk b = model_take(m.nlive - 1);
		release(&b, (unsigned)m.nlive, "final free");
	}
	if (m.live_bytes)
		fail("model accounting: %zu live bytes left", m.live_bytes);
	return 0;
}
