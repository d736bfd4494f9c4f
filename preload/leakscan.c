/*
 * leakscan.c - at exit, when every event is recorded, the live blocks are
 * classified as memcheck and LeakSanitizer do (heapscan.h) and written as
 * LEAKS records.
 *
 * The roots: the writable segments of every module but this library, the
 * calling thread's stack from its own frame up (registers spilled into
 * it), the stack of every other thread the recorder met (its whole
 * mapping up to the thread descriptor at its top, which holds its static
 * TLS), and the calling thread's TLS block of every module.  The kernel
 * may merge a stack's mapping with anonymous memory next to it (our own
 * tables among it): the thread pointer bounds it.  Other threads' memory
 * is read with process_vm_readv, which fails cleanly on a page that went
 * away, so a thread that exits meanwhile cannot crash the scan.  The blocks
 * themselves are read directly: the live table's lock (glibc blocks are
 * taken off the table under it before they are freed) and the allocator's
 * lock (no arena is unmapped) are held, so none of them goes away.
 * Everything here uses mmap, never malloc.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>

#include "../allocator/pool_alloc.h"
#include "heapscan.h"
#include "modules.h"
#include "python.h"
#include "rec_internal.h"

#define SCAN_RANGES_MAX 4096

struct scan_range { uintptr_t lo, hi; };

static struct {
	struct scan_range mod[SCAN_RANGES_MAX];
	unsigned nmod;
	struct scan_range tls[SCAN_RANGES_MAX];
	unsigned ntls;
	uintptr_t hint[SCAN_RANGES_MAX], tp[SCAN_RANGES_MAX];
	unsigned nhint;
	struct scan_range done[SCAN_RANGES_MAX];
	unsigned ndone;
	uint8_t buf[64 << 10] __attribute__((aligned(64)));   /* words as in memory */
} S;

/* The writable segments and this thread's TLS blocks of every module but
 * this library. */
static int module_roots(const struct pt_module_view *m, void *arg)
{
	if (m->self)
		return 0;
	for (unsigned i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *ph = &m->phdr[i];
		uintptr_t lo = m->base + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && ph->p_memsz &&
		    S.nmod < SCAN_RANGES_MAX)
			S.mod[S.nmod++] = (struct scan_range){ lo, lo + ph->p_memsz };
		if (ph->p_type == PT_TLS && m->tls_data && ph->p_memsz && S.ntls < SCAN_RANGES_MAX)
			S.tls[S.ntls++] = (struct scan_range){ (uintptr_t)m->tls_data,
			                                       (uintptr_t)m->tls_data + ph->p_memsz };
	}
	return 0;
}

/* The other threads' stacks, as their buffers remember them. */
static void thread_hints(struct pt_rec_thread *t, void *arg)
{
	if (t->state != PT_T_FREE && t != pt__rec_self && t->stack_hint &&
	    S.nhint < SCAN_RANGES_MAX) {
		S.tp[S.nhint] = t->tp;
		S.hint[S.nhint++] = t->stack_hint;
	}
}

static uintptr_t hex_(const char **pp)
{
	uintptr_t v = 0;
	const char *p = *pp;
	for (;; p++) {
		unsigned d = *p >= '0' && *p <= '9' ? (unsigned)(*p - '0')
		             : *p >= 'a' && *p <= 'f' ? (unsigned)(*p - 'a' + 10) : 16u;
		if (d > 15)
			break;
		v = v << 4 | d;
	}
	*pp = p;
	return v;
}

/*
 * The mapping of /proc/self/maps that holds a, its end bounded by the
 * thread pointer tp when tp lies in it (0: no bound).  -1 if none.
 */
static int mapping_of(uintptr_t a, uintptr_t tp, struct scan_range *r)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char line[512];
	size_t len = 0;
	int found = -1;
	for (;;) {
		ssize_t n = read(fd, line + len, sizeof line - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = 0;
		char *nl;
		while ((nl = memchr(line, '\n', len))) {
			*nl = 0;
			const char *p = line;
			uintptr_t lo = hex_(&p);
			p++;
			uintptr_t hi = hex_(&p);
			if (a >= lo && a < hi) {
				uintptr_t end = (tp + 4096 + 4095) & ~(uintptr_t)4095;
				*r = (struct scan_range){ lo, tp >= lo && tp < hi && end < hi ? end : hi };
				found = 0;
			}
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len);
			line[len] = 0;
		}
		if (len == sizeof line - 1)
			len = 0;   /* an overlong line: a path; the bounds were read */
		if (!found)
			break;
	}
	close(fd);
	return found;
}

/* Scan [lo, hi) through process_vm_readv, a page that fails skipped. */
static void scan_remote(struct hs_ctx *c, uintptr_t lo, uintptr_t hi)
{
	for (unsigned i = 0; i < S.ndone; i++)
		if (S.done[i].lo == lo && S.done[i].hi == hi)
			return;
	if (S.ndone < SCAN_RANGES_MAX)
		S.done[S.ndone++] = (struct scan_range){ lo, hi };
	pid_t pid = getpid();
	uintptr_t a = lo & ~(uintptr_t)7;
	while (a < hi) {
		size_t n = hi - a < sizeof S.buf ? hi - a : sizeof S.buf;
		struct iovec l = { S.buf, n }, r = { (void *)a, n };
		ssize_t got = syscall(SYS_process_vm_readv, pid, &l, 1UL, &r, 1UL, 0UL);
		if (got > 0) {
			hs_scan_root(c, S.buf, (size_t)got);
			a += (uintptr_t)got;
		} else {
			a = (a & ~(uintptr_t)4095) + 4096;
		}
	}
}

/* One LEAKS record per 32 KiB or so; the file's lock held. */
static void write_leaks_locked(const uint64_t (*cnt)[2][3], uint32_t ninfo, uint64_t roots)
{
	static uint8_t rec[40 << 10];
	static const unsigned cls_of[] = { [HS_REACHABLE] = PT_LEAK_REACHABLE,
	                                   [HS_INDIRECT] = PT_LEAK_INDIRECT,
	                                   [HS_DIRECT] = PT_LEAK_DEFINITE };
	uint32_t id = 1;
	int first = 1;
	while (id < ninfo || first) {
		struct pt_r_leaks head = { .seq = pt__rec_next_seq(), .roots_bytes = first ? roots : 0 };
		uint8_t *p = pt_enc_type(rec, PT_REC_LEAKS), *count_at;
		uint64_t n = 0;
		PT_ENCODE(p, &head, PT_FIELDS_LEAKS);
		count_at = p;
		p = pt_enc_count_open(p);
		for (; id < ninfo && p < rec + (32 << 10); id++)
			for (unsigned st = HS_REACHABLE; st <= HS_DIRECT; st++) {
				if (!cnt[id][0][st - 1])
					continue;
				struct pt_r_leak e = { .info = id, .cls = cls_of[st],
				                       .blocks = cnt[id][0][st - 1],
				                       .bytes = cnt[id][1][st - 1] };
				PT_ENCODE(p, &e, PT_FIELDS_LEAK);
				n++;
			}
		p = pt_enc_count_close(count_at, p, n);
		pt__rfile_write0_locked(head.seq, rec, (size_t)(p - rec));
		first = 0;
	}
}

__attribute__((noinline)) void pt__leak_scan(void)
{
	__builtin_unwind_init();   /* callee-saved registers onto this stack */
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	struct scan_range stack;
	int have_stack = mapping_of(sp, (uintptr_t)pthread_self(), &stack) == 0;

	S.nmod = S.ntls = S.nhint = S.ndone = 0;
	pt__modules_each(module_roots, NULL);
	pt__rbuf_each(thread_hints, NULL);
	struct scan_range th[SCAN_RANGES_MAX / 16];
	unsigned nth = 0;
	for (unsigned i = 0; i < S.nhint && nth < sizeof th / sizeof th[0]; i++)
		if (mapping_of(S.hint[i], S.tp[i], &th[nth]) == 0 &&
		    !(have_stack && th[nth].lo == stack.lo))
			nth++;

	pt__rlive_lock();
	pt_fork_prepare();   /* the allocator's lock: no arena goes away */
	uint32_t ninfo = pt__rinfo_count();
	size_t n = pt__rlive_blocks(NULL, 0, ninfo);
	size_t bsz = (n * sizeof(struct hs_block) + 4095) & ~(size_t)4095;
	size_t wsz = (n * sizeof(uint32_t) + 4095) & ~(size_t)4095;
	size_t csz = ((size_t)ninfo * sizeof(uint64_t[2][3]) + 4095) & ~(size_t)4095;
	struct hs_ctx c = { .b = n ? pt__map(bsz, 0) : NULL, .work = n ? pt__map(wsz, 0) : NULL };
	uint64_t (*cnt)[2][3] = pt__map(csz, 0);
	if ((n && (!c.b || !c.work)) || !cnt)
		goto out;
	c.n = pt__rlive_blocks(c.b, n, ninfo);
	hs_sort(c.b, c.n);
	for (unsigned i = 0; i < S.nmod; i++)
		scan_remote(&c, S.mod[i].lo, S.mod[i].hi);
	if (have_stack)
		hs_scan_root(&c, (const void *)sp, stack.hi - sp);
	for (unsigned i = 0; i < nth; i++)
		scan_remote(&c, th[i].lo, th[i].hi);
	for (unsigned i = 0; i < S.ntls; i++)
		hs_scan_root(&c, (const void *)S.tls[i].lo, S.tls[i].hi - S.tls[i].lo);
	hs_classify(&c);
	for (size_t i = 0; i < c.n; i++) {
		const struct hs_block *b = &c.b[i];
		cnt[b->info][0][b->state - 1]++;
		cnt[b->info][1][b->state - 1] += b->size;
	}
	pt__pyobj_scan(&c, &S.mod[0].lo, S.nmod);   /* which blocks are Python objects */
out:
	pt_fork_parent();
	pt__rlive_unlock();
	if (cnt && (!n || (c.b && c.work))) {
		pt__rfile_lock();
		write_leaks_locked((const uint64_t (*)[2][3])cnt, ninfo, c.roots_bytes);
		pt__pyobj_write_locked();
		pt__rfile_unlock();
	}
	if (c.b)
		munmap(c.b, bsz);
	if (c.work)
		munmap(c.work, wsz);
	if (cnt)
		munmap(cnt, csz);
}
