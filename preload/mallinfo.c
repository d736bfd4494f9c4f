/*
 * mallinfo.c - mallinfo, mallinfo2, malloc_stats and malloc_info with the
 * pools added to glibc's figures, as jemalloc and tcmalloc answer them for
 * their own heaps (what each field holds: libpooltrace(3)).
 *
 * glibc's own answers come from its functions, found in libc.so.6's
 * dynamic symbol table (libc_sym.c); the pools' from pt_stats_get, which
 * reads the arena headers and allocates nothing.  malloc_info captures
 * glibc's XML through a stream of our own (its FILE comes from our malloc,
 * a pool block; its text goes to an mmap'ed buffer), then writes it with
 * the pools as one more <heap> and added into the totals.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "../allocator/pool_alloc.h"
#include "bigcache.h"
#include "fmt.h"
#include "libc_sym.h"


/* What the pools hold, in the terms of glibc's statistics. */
struct pools {
	size_t system;       /* from the system: mapped arenas, less the pools never
	                        carved and those given back (MADV_DONTNEED) */
	size_t max;          /* the most arenas mapped at once, in bytes */
	size_t aspace;       /* arenas mapped, in bytes */
	size_t free_count;   /* free blocks in pools in use, and empty pools */
	size_t free_bytes;
	size_t fast_count;   /* of those, blocks in thread caches */
	size_t fast_bytes;
	size_t in_use;       /* system - free_bytes: blocks in use, pool tails,
	                        arena headers */
	size_t keep;         /* free pools still resident: what malloc_trim gives back */
	size_t blocks;       /* blocks in use, and their bytes */
	size_t block_bytes;
	size_t bc_count;     /* glibc's chunks in the threads' caches of freed big
	                        blocks (bigcache.c): free, though glibc counts them
	                        in use; their bytes, chunk headers included */
	size_t bc_bytes;
	struct pt_stats st;
};

static void pools_get(struct pools *f)
{
	struct pt_stats *st = &f->st;
	pt_stats_get(st);
	size_t empty = (size_t)(st->pools_empty_heap + st->pools_free_dirty);
	size_t gone = (size_t)(st->pools_untouched + st->pools_free_purged);
	f->aspace = (size_t)st->arenas_mapped * PT_ARENA_SIZE;
	f->max = (size_t)st->arenas_highwater * PT_ARENA_SIZE;
	f->system = f->aspace - gone * PT_POOL_SIZE;
	f->free_count = empty;
	f->free_bytes = empty * PT_POOL_SIZE;
	f->fast_count = f->fast_bytes = f->blocks = f->block_bytes = 0;
	for (unsigned c = 0; c < st->nclasses; c++) {
		const struct pt_class_stats *cs = &st->cls[c];
		f->free_count += cs->blocks_free;
		f->free_bytes += cs->blocks_free * cs->size;
		f->fast_count += cs->blocks_cached;
		f->fast_bytes += cs->blocks_cached * cs->size;
		f->blocks += cs->blocks_used;
		f->block_bytes += cs->blocks_used * cs->size;
	}
	if (f->free_bytes > f->system)   /* figures of pools in use elsewhere: approximate */
		f->free_bytes = f->system;
	f->in_use = f->system - f->free_bytes;
	f->keep = (size_t)st->pools_free_dirty * PT_POOL_SIZE;
	pt__bc_totals(&f->bc_count, &f->bc_bytes);
}

/* The free blocks malloc_info calls "rest": the pools' free blocks outside
 * the thread caches and empty pools, and glibc's chunks in the threads'
 * caches of big blocks (free to the program, though glibc's heaps count
 * them in use). */
static size_t rest_count(const struct pools *p)
{
	return p->free_count - p->fast_count + p->bc_count;
}

static size_t rest_bytes(const struct pools *p)
{
	return p->free_bytes - p->fast_bytes + p->bc_bytes;
}

/* glibc's mallinfo2 (its own heap only). */
struct mallinfo2 pt__libc_mallinfo2(void)
{
	static struct pt_libc_fn fn2 = { "mallinfo2", NULL, 0 }, fn1 = { "mallinfo", NULL, 0 };
	struct mallinfo2 m2;
	memset(&m2, 0, sizeof m2);
	struct mallinfo2 (*f2)(void) = (struct mallinfo2 (*)(void))pt__libc_fn(&fn2);
	if (f2)
		return f2();
	struct mallinfo (*f1)(void) = (struct mallinfo (*)(void))pt__libc_fn(&fn1);
	if (f1) {   /* glibc before 2.33 */
		struct mallinfo m = f1();
		m2.arena = (unsigned)m.arena, m2.ordblks = (unsigned)m.ordblks;
		m2.smblks = (unsigned)m.smblks, m2.hblks = (unsigned)m.hblks;
		m2.hblkhd = (unsigned)m.hblkhd, m2.usmblks = (unsigned)m.usmblks;
		m2.fsmblks = (unsigned)m.fsmblks, m2.uordblks = (unsigned)m.uordblks;
		m2.fordblks = (unsigned)m.fordblks, m2.keepcost = (unsigned)m.keepcost;
	}
	return m2;
}

PT_EXPORT struct mallinfo2 mallinfo2(void)
{
	struct pools f;
	int e = errno;
	pools_get(&f);
	struct mallinfo2 m = pt__libc_mallinfo2();
	size_t cached = f.bc_count, cached_bytes = f.bc_bytes;
	if (cached_bytes > m.uordblks)
		cached_bytes = m.uordblks;   /* racy figures: keep the identity */
	m.uordblks -= cached_bytes;
	m.fordblks += cached_bytes;
	m.ordblks += cached;
	m.arena += f.system;
	m.ordblks += f.free_count;
	m.smblks += f.fast_count;
	m.fsmblks += f.fast_bytes;
	m.uordblks += f.in_use;
	m.fordblks += f.free_bytes;
	m.keepcost += f.keep;
	errno = e;
	return m;
}

/* glibc's: mallinfo2's fields, cut to int. */
PT_EXPORT struct mallinfo mallinfo(void)
{
	struct mallinfo2 m2 = mallinfo2();
	struct mallinfo m;
	m.arena = (int)m2.arena;
	m.ordblks = (int)m2.ordblks;
	m.smblks = (int)m2.smblks;
	m.hblks = (int)m2.hblks;
	m.hblkhd = (int)m2.hblkhd;
	m.usmblks = (int)m2.usmblks;
	m.fsmblks = (int)m2.fsmblks;
	m.uordblks = (int)m2.uordblks;
	m.fordblks = (int)m2.fordblks;
	m.keepcost = (int)m2.keepcost;
	return m;
}

/* Write the n bytes of s to fp; 0 or -1. */
static int put(FILE *fp, const char *s, size_t n)
{
	return fwrite(s, 1, n, fp) == n ? 0 : -1;
}

/*
 * glibc's report on stderr, then the pools and the sum, in its format:
 *   Pools (pooltrace):
 *   system bytes     = ...
 *   in use bytes     = ...
 *   Total (incl. mmap and pools):
 *   system bytes     = ...
 *   in use bytes     = ...
 */
PT_EXPORT void malloc_stats(void)
{
	static struct pt_libc_fn fn = { "malloc_stats", NULL, 0 };
	void (*f)(void) = (void (*)(void))pt__libc_fn(&fn);
	int e = errno, cancel;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	if (f)
		f();
	struct pools p;
	pools_get(&p);
	struct mallinfo2 m = pt__libc_mallinfo2();
	size_t cached_bytes = p.bc_bytes;   /* glibc counts them in use; the program freed them */
	if (cached_bytes > m.uordblks)
		cached_bytes = m.uordblks;
	char buf[640];
	size_t n = pt__fmt(buf, sizeof buf,
		"Pools (pooltrace):\n"
		"system bytes     = %10u\n"
		"in use bytes     = %10u\n"
		"Thread caches of glibc blocks (pooltrace):\n"
		"cached bytes     = %10u\n"
		"Total (incl. mmap and pools):\n"
		"system bytes     = %10u\n"
		"in use bytes     = %10u\n",
		(unsigned)p.system, (unsigned)p.in_use, (unsigned)cached_bytes,
		(unsigned)(m.arena + m.hblkhd + p.system),
		(unsigned)(m.uordblks - cached_bytes + m.hblkhd + p.in_use));
	flockfile(stderr);
	put(stderr, buf, n < sizeof buf ? n : sizeof buf - 1);
	funlockfile(stderr);
	pthread_setcancelstate(cancel, NULL);
	errno = e;
}

/* ---- malloc_info ----------------------------------------------------------- */

struct capture {
	char *buf;
	size_t len, cap;
};

static ssize_t capture_write(void *cookie, const char *s, size_t n)
{
	struct capture *c = cookie;
	if (c->len + n > c->cap) {
		size_t cap = c->cap;
		while (cap < c->len + n)
			cap *= 2;
		void *b = mremap(c->buf, c->cap, cap, MREMAP_MAYMOVE);
		if (b == MAP_FAILED)
			return -1;
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	return (ssize_t)n;
}

/* The value of attribute name="..." in [s, end), or -1. */
static long long attr(const char *s, const char *end, const char *name)
{
	size_t k = strlen(name);
	for (; s + k + 2 < end; s++)
		if (memcmp(s, name, k) == 0 && s[k] == '=' && s[k + 1] == '"') {
			long long v = 0;
			const char *d = s + k + 2;
			if (d >= end || *d < '0' || *d > '9')
				return -1;
			for (; d < end && *d >= '0' && *d <= '9'; d++)
				v = v * 10 + (*d - '0');
			return v;
		}
	return -1;
}

/* Does [s, end) start with prefix? */
static int starts(const char *s, const char *end, const char *prefix)
{
	size_t k = strlen(prefix);
	return (size_t)(end - s) >= k && memcmp(s, prefix, k) == 0;
}

/* One line of glibc's totals, [s, end) with its newline, with the pools
 * added where they belong. */
static int total_line(FILE *fp, const char *s, const char *end, const struct pools *p)
{
	char buf[256];
	size_t n = 0;
	long long count = attr(s, end, "count"), size = attr(s, end, "size");
	if (starts(s, end, "<total type=\"fast\"") && count >= 0 && size >= 0)
		n = pt__fmt(buf, sizeof buf, "<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n",
		            (size_t)count + p->fast_count, (size_t)size + p->fast_bytes);
	else if (starts(s, end, "<total type=\"rest\"") && count >= 0 && size >= 0)
		n = pt__fmt(buf, sizeof buf, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n",
		            (size_t)count + rest_count(p), (size_t)size + rest_bytes(p));
	else if (starts(s, end, "<system type=\"current\"") && size >= 0)
		n = pt__fmt(buf, sizeof buf, "<system type=\"current\" size=\"%zu\"/>\n",
		            (size_t)size + p->system);
	else if (starts(s, end, "<system type=\"max\"") && size >= 0)
		n = pt__fmt(buf, sizeof buf, "<system type=\"max\" size=\"%zu\"/>\n",
		            (size_t)size + p->max);
	else if (starts(s, end, "<aspace type=\"total\"") && size >= 0)
		n = pt__fmt(buf, sizeof buf, "<aspace type=\"total\" size=\"%zu\"/>\n",
		            (size_t)size + p->aspace);
	else if (starts(s, end, "<aspace type=\"mprotect\"") && size >= 0)
		n = pt__fmt(buf, sizeof buf, "<aspace type=\"mprotect\" size=\"%zu\"/>\n",
		            (size_t)size + p->system);
	if (n && n < sizeof buf)
		return put(fp, buf, n);
	return put(fp, s, (size_t)(end - s));   /* mmap, </malloc>, or unknown */
}

/* The pools as heap number nr, in the format of glibc's heaps, with a
 * <pooltrace> element for what glibc's format has no place for. */
static int pools_heap(FILE *fp, unsigned nr, const struct pools *p)
{
	char buf[256];
	size_t n = pt__fmt(buf, sizeof buf, "<heap nr=\"%u\">\n<sizes>\n", nr);
	int r = put(fp, buf, n);
	unsigned prev = 0;
	for (unsigned c = 0; c < p->st.nclasses; c++) {
		const struct pt_class_stats *cs = &p->st.cls[c];
		if (cs->blocks_free) {
			n = pt__fmt(buf, sizeof buf,
			            "  <size from=\"%u\" to=\"%u\" total=\"%llu\" count=\"%llu\"/>\n",
			            prev + 1, cs->size,
			            (unsigned long long)(cs->blocks_free * cs->size),
			            (unsigned long long)cs->blocks_free);
			r |= put(fp, buf, n);
		}
		prev = cs->size;
	}
	n = pt__fmt(buf, sizeof buf, "</sizes>\n"
	            "<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n"
	            "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n",
	            p->fast_count, p->fast_bytes, rest_count(p), rest_bytes(p));
	r |= put(fp, buf, n);
	n = pt__fmt(buf, sizeof buf, "<system type=\"current\" size=\"%zu\"/>\n"
	            "<system type=\"max\" size=\"%zu\"/>\n"
	            "<aspace type=\"total\" size=\"%zu\"/>\n"
	            "<aspace type=\"mprotect\" size=\"%zu\"/>\n",
	            p->system, p->max, p->aspace, p->system);
	r |= put(fp, buf, n);
	n = pt__fmt(buf, sizeof buf, "<pooltrace blocks=\"%zu\" size=\"%zu\" arenas=\"%llu\" "
	            "pools=\"%llu\" glibc_cached=\"%zu\" glibc_cached_size=\"%zu\"/>\n"
	            "</heap>\n", p->blocks, p->block_bytes,
	            (unsigned long long)p->st.arenas_mapped,
	            (unsigned long long)p->st.pools_in_use, p->bc_count, p->bc_bytes);
	return r | put(fp, buf, n);
}

PT_EXPORT int malloc_info(int options, FILE *fp)
{
	static struct pt_libc_fn fn = { "malloc_info", NULL, 0 };
	int (*f)(int, FILE *) = (int (*)(int, FILE *))pt__libc_fn(&fn);
	if (!f)
		return -1;
	if (options != 0)
		return f(options, fp);   /* glibc's answer: EINVAL */
	int e = errno;
	struct capture c = { NULL, 0, 64 << 10 };
	c.buf = mmap(NULL, c.cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c.buf == MAP_FAILED)
		return f(options, fp);
	cookie_io_functions_t io = { .write = capture_write };
	FILE *cf = fopencookie(&c, "w", io);
	int r = -1;
	if (cf) {
		setvbuf(cf, NULL, _IONBF, 0);
		r = f(options, cf);
		if (fclose(cf))
			r = -1;
	}
	struct pools p;
	pools_get(&p);
	const char *s = c.buf, *end = c.buf + c.len, *last = NULL;
	unsigned heaps = 0;
	for (const char *q = s; q < end; q++)
		if (*q == '<' && starts(q, end, "<heap nr=\""))
			heaps++;
		else if (*q == '<' && starts(q, end, "</heap>\n"))
			last = q + 8;
	if (!cf) {
		r = f(options, fp);
	} else if (r != 0 || !last) {   /* no heap to put ours after: glibc's text */
		put(fp, s, c.len);
	} else {
		put(fp, s, (size_t)(last - s));
		pools_heap(fp, heaps, &p);
		for (const char *l = last; l < end;) {
			const char *nl = memchr(l, '\n', (size_t)(end - l));
			const char *le = nl ? nl + 1 : end;
			total_line(fp, l, le, &p);
			l = le;
		}
	}
	munmap(c.buf, c.cap);
	errno = e;
	return r;   /* as glibc, whatever the stream made of the writes */
}
