/*
 * leakscan.c - at exit, when every event is recorded, the live blocks are
 * classified as memcheck and LeakSanitizer do (heapscan.h) and written as
 * LEAKS records.
 *
 * The roots, as LeakSanitizer takes them:
 *  - the writable segments of every module but this library;
 *  - every thread's stack from its stack pointer up (memory below it is
 *    dead): the exiting thread's from the frame where the library's exit
 *    work began, with the registers the program left there (our own frames
 *    below hold residue of our work, which made a lost block of this thread
 *    look reachable), the others' from the stack pointer
 *    the kernel shows for a thread blocked in a system call
 *    (/proc/self/task/TID/syscall); a thread running at exit is scanned
 *    whole;
 *  - every thread's descriptor and static TLS: glibc puts the descriptor at
 *    the thread pointer with static TLS just below it (x86-64), at the top
 *    of a thread's stack mapping, or in a mapping of its own for the main
 *    thread;
 *  - blocks the dynamic linker allocated (dynamic TLS blocks, the DTVs of
 *    threads, including those of exited threads whose stacks glibc keeps
 *    in its cache): LeakSanitizer's rule, these are roots themselves.
 * A thread is found through /proc/self/task, so one that never called
 * malloc is scanned too; its descriptor (and so the top of its stack) by
 * the words glibc writes at the thread pointer (tcb == self).  The kernel
 * may merge a stack's mapping with anonymous memory next to it (our own
 * tables among it): the descriptor bounds it.
 *
 * Other threads' memory is read with process_vm_readv, which fails cleanly
 * on a page that went away, so a thread that exits meanwhile cannot crash
 * the scan.  The blocks themselves are read directly: the live table's
 * lock (glibc blocks are taken off the table under it before they are
 * freed) and the allocator's lock (no arena is unmapped) are held, so none
 * of them goes away.  Everything here uses mmap and system calls, never
 * malloc.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>

#include "../allocator/layout.h"
#include "heapscan.h"
#include "libc_sym.h"
#include "modules.h"
#include "python.h"
#include "unwind.h"
#include "rec_internal.h"

#define SCAN_RANGES_MAX 4096
#define TASKS_MAX       4096
#define DESC_SIZE_MAX   (16u << 10)   /* a sane bound on glibc's struct pthread */

struct scan_range { uintptr_t lo, hi; };

static struct {
	/* from the start */
	uintptr_t main_tp;         /* the main thread's thread pointer */
	size_t static_tls;         /* glibc's static TLS size (descriptor included) */
	size_t desc_size;          /* sizeof(struct pthread) */
	uintptr_t ld_lo, ld_hi;    /* the dynamic linker's text */

	/* one scan */
	struct scan_range mod[SCAN_RANGES_MAX];
	unsigned nmod;
	struct scan_range done[SCAN_RANGES_MAX];
	unsigned ndone;
	struct known_thread { pid_t tid; uintptr_t hint, tp; } known[TASKS_MAX];
	/* the static TLS blocks of our own modules (this library, its private
	 * libunwind), as offsets below a thread pointer: the same in every
	 * thread; their contents are ours, never roots */
	struct { uintptr_t below; size_t size; } ours_tls[4];
	unsigned nours_tls;
	unsigned nknown;           /* the threads the recorder met */
	uint8_t buf[64 << 10] __attribute__((aligned(64)));   /* words as in memory */
	unsigned nthreads, nrunning;
} S;

void pt__leak_scan_init(void)
{
	if (pt__gettid() == getpid())
		S.main_tp = (uintptr_t)pthread_self();
	const uint32_t *desc = pt__elf_lookup_object("libc.so.6", "_thread_db_sizeof_pthread");
	S.desc_size = desc && *desc && *desc <= DESC_SIZE_MAX ? *desc : 4096;
	void (*info)(size_t *, size_t *) =
		(void (*)(size_t *, size_t *))pt__elf_lookup("ld-linux-x86-64.so.2",
		                                             "_dl_get_tls_static_info");
	size_t size = 0, align = 0;
	if (info)
		info(&size, &align);
	S.static_tls = size;
	pt__modules_interp_text(&S.ld_lo, &S.ld_hi);
}

/* The writable segments of every module but ours (this library, its
 * private libunwind), and this thread's block of each module's TLS (static
 * TLS again, or a dynamic TLS block: both are roots anyway).  Where our
 * modules' static TLS lies below the thread pointer is noted. */
static int module_roots(const struct pt_module_view *m, void *arg)
{
	uintptr_t tp = (uintptr_t)pthread_self();
	if (m->self || (m->base && m->base == pt__unwind_base())) {
		for (unsigned i = 0; i < m->phnum; i++) {
			const ElfW(Phdr) *ph = &m->phdr[i];
			uintptr_t at = (uintptr_t)m->tls_data;
			if (ph->p_type == PT_TLS && at && at < tp && tp - at <= S.static_tls &&
			    S.nours_tls < sizeof S.ours_tls / sizeof S.ours_tls[0]) {
				S.ours_tls[S.nours_tls].below = tp - at;
				S.ours_tls[S.nours_tls++].size = ph->p_memsz;
			}
		}
		return 0;
	}
	for (unsigned i = 0; i < m->phnum && S.nmod < SCAN_RANGES_MAX; i++) {
		const ElfW(Phdr) *ph = &m->phdr[i];
		uintptr_t lo = m->base + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && ph->p_memsz)
			S.mod[S.nmod++] = (struct scan_range){ lo, lo + ph->p_memsz };
		else if (ph->p_type == PT_TLS && m->tls_data && ph->p_memsz)
			S.mod[S.nmod++] = (struct scan_range){ (uintptr_t)m->tls_data,
			                                       (uintptr_t)m->tls_data + ph->p_memsz };
	}
	return 0;
}

/* ---- reading /proc without malloc ------------------------------------------------- */

static uintptr_t hex_(const char **pp)
{
	uintptr_t v = 0;
	const char *p = *pp;
	if (p[0] == '0' && p[1] == 'x')
		p += 2;
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

/* The mapping of /proc/self/maps that holds a.  -1 if none. */
static int mapping_of(uintptr_t a, struct scan_range *r)
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
				*r = (struct scan_range){ lo, hi };
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

/* Copy [a, a + n) of this process's memory; the bytes read. */
static size_t peek(void *to, uintptr_t a, size_t n)
{
	struct iovec l = { to, n }, r = { (void *)a, n };
	ssize_t got = syscall(SYS_process_vm_readv, getpid(), &l, 1UL, &r, 1UL, 0UL);
	return got > 0 ? (size_t)got : 0;
}

/* The stack pointer of thread tid if it is blocked in a system call, 0 if
 * it is running or cannot be read. */
static uintptr_t blocked_sp(pid_t tid)
{
	char path[64], buf[256];
	int n = 0;
	for (const char *s = "/proc/self/task/"; *s; s++)
		path[n++] = *s;
	char digits[16];
	int k = 0;
	for (unsigned v = (unsigned)tid; v || !k; v /= 10)
		digits[k++] = (char)('0' + v % 10);
	while (k)
		path[n++] = digits[--k];
	memcpy(path + n, "/syscall", 9);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = 0;
	if (buf[0] < '0' && buf[0] != '-')
		return 0;   /* "running" */
	/* "nr a1 .. a6 sp pc" (or "-1 sp pc"): the next-to-last field */
	const char *f[9];
	int nf = 0;
	for (char *p = buf; *p && nf < 9;) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (!*p)
			break;
		f[nf++] = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	if (nf < 3)
		return 0;
	const char *sp = f[nf - 2];
	return hex_(&sp);
}

/*
 * The descriptor of the thread whose stack holds sp: the first address a
 * above sp in [sp, hi), 8-aligned, where glibc's tcbhead_t says tcb == a
 * and self == a.  0 if none.
 */
static uintptr_t find_tcb(uintptr_t sp, uintptr_t hi)
{
	uintptr_t a = sp & ~(uintptr_t)7;
	while (a < hi) {
		size_t n = hi - a < sizeof S.buf ? hi - a : sizeof S.buf;
		size_t got = peek(S.buf, a, n);
		if (!got) {
			a = (a & ~(uintptr_t)4095) + 4096;
			continue;
		}
		const uintptr_t *w = (const uintptr_t *)S.buf;
		for (size_t i = 0; i + 2 < got / 8; i++)
			if (w[i] == a + i * 8 && w[i + 2] == a + i * 8 && w[i + 1] &&
			    w[i + 1] != a + i * 8)   /* tcb, dtv, self */
				return a + i * 8;
		a += got > 16 ? got - 16 : got;   /* the words may straddle two copies */
	}
	return 0;
}

/* ---- the scan --------------------------------------------------------------------- */

/* Is the page at a in an arena of the allocator?  Its blocks are scanned
 * as blocks, never as roots. */
static int arena_page(uintptr_t a)
{
	return pt__in_region(a) || pt__radix_test(a);
}

/* Scan [lo, hi) through process_vm_readv, a page that fails or that is
 * an arena's skipped. */
static void scan_piece(struct hs_ctx *c, uintptr_t lo, uintptr_t hi)
{
	uintptr_t a = lo & ~(uintptr_t)7;
	while (a < hi) {
		uintptr_t page_end = (a & ~(uintptr_t)4095) + 4096;
		if (arena_page(a)) {
			a = page_end;
			continue;
		}
		size_t n = (hi < page_end ? hi : page_end) - a;
		size_t got = peek(S.buf, a, n);
		if (got)
			hs_scan_root(c, S.buf, got);
		a = got == n ? a + n : page_end;
	}
}

/*
 * A root range: our own mappings inside it are left out (the kernel
 * merges anonymous mappings: a table of ours next to a thread's stack or
 * TLS would look like part of it), and so is a range scanned already.
 */
static void scan_range(struct hs_ctx *c, uintptr_t lo, uintptr_t hi)
{
	static struct pt_range ours[256];
	if (hi <= lo)
		return;
	for (unsigned i = 0; i < S.ndone; i++)
		if (S.done[i].lo <= lo && hi <= S.done[i].hi)
			return;
	if (S.ndone < SCAN_RANGES_MAX)
		S.done[S.ndone++] = (struct scan_range){ lo, hi };
	unsigned n = pt__our_maps(lo, hi, ours, 256);
	for (unsigned i = 0; i < n; i++) {
		scan_piece(c, lo, ours[i].lo);
		if (ours[i].hi > lo)
			lo = ours[i].hi;
	}
	scan_piece(c, lo, hi);
}

/* A thread's descriptor and the static TLS below it, but our own
 * modules' blocks.  glibc's static TLS size counts the descriptor: the
 * blocks take static_tls - desc_size below the thread pointer (below them
 * is the thread's stack, whose dead part must not be read). */
static void scan_tls(struct hs_ctx *c, uintptr_t tp)
{
	if (!tp)
		return;
	uintptr_t lo = tp - (S.static_tls > S.desc_size ? S.static_tls - S.desc_size : 0);
	for (;;) {   /* the gaps between our blocks, from the lowest up */
		uintptr_t next = tp + S.desc_size, skip_to = next;
		for (unsigned i = 0; i < S.nours_tls; i++) {
			uintptr_t b = tp - S.ours_tls[i].below;
			if (b >= lo && b < next)
				next = b, skip_to = b + S.ours_tls[i].size;
		}
		scan_range(c, lo, next);
		if (skip_to >= tp + S.desc_size)
			return;
		lo = skip_to;
	}
}

/* The threads the recorder has buffers for: an address in each one's
 * stack and its thread pointer (taken before the scan's locks: the thread
 * list's lock ranks below them). */
static void note_thread(struct pt_rec_thread *t, void *arg)
{
	if (t->state != PT_T_FREE && S.nknown < TASKS_MAX)
		S.known[S.nknown++] = (struct known_thread){ (pid_t)t->tid, t->stack_hint, t->tp };
}

/*
 * Another thread, tid: its stack from its stack pointer (the whole mapping
 * when it is running), up to its descriptor, and its descriptor and
 * static TLS.
 */
static void scan_thread(struct hs_ctx *c, pid_t tid)
{
	struct known_thread f = { tid, 0, 0 };
	for (unsigned i = 0; i < S.nknown; i++)
		if (S.known[i].tid == tid)
			f = S.known[i];
	if (tid == getpid())
		f.tp = S.main_tp;
	uintptr_t sp = blocked_sp(tid), in = sp ? sp : f.hint;
	struct scan_range m;
	S.nthreads++;
	if (!sp)
		S.nrunning++;
	if (!in || mapping_of(in, &m)) {
		scan_tls(c, f.tp);
		return;
	}
	uintptr_t tp = f.tp ? f.tp : find_tcb(in, m.hi);
	uintptr_t lo = sp ? sp : m.lo;
	uintptr_t hi = tp >= lo && tp < m.hi ? tp : m.hi;
	scan_range(c, lo, hi);
	scan_tls(c, tp);
}

/* Every thread of the process but the caller and the snapshot thread. */
static void scan_other_threads(struct hs_ctx *c)
{
	static uint8_t dents[16 << 10] __attribute__((aligned(8)));
	pid_t self = pt__gettid(), snap = pt__rsnap_thread_tid();
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	static pid_t tids[TASKS_MAX];
	unsigned n = 0;
	for (;;) {
		long got = syscall(SYS_getdents64, fd, dents, sizeof dents);
		if (got <= 0)
			break;
		for (long off = 0; off < got;) {
			const struct { uint64_t ino; int64_t off; uint16_t reclen; uint8_t type;
			               char name[]; } *d = (const void *)(dents + off);
			off += d->reclen;
			pid_t tid = 0;
			for (const char *p = d->name; *p >= '0' && *p <= '9'; p++)
				tid = tid * 10 + (*p - '0');
			if (tid > 0 && tid != self && tid != snap && n < TASKS_MAX)
				tids[n++] = tid;
		}
	}
	close(fd);
	for (unsigned i = 0; i < n; i++)
		scan_thread(c, tids[i]);
}

/* Blocks the dynamic linker allocated are roots (dynamic TLS, DTVs). */
static void linker_blocks(struct hs_ctx *c)
{
	if (!S.ld_hi)
		return;
	uint32_t nstacks = atomic_load_explicit(&pt__rec_stacks.n, memory_order_acquire);
	for (size_t i = 0; i < c->n; i++) {
		uint32_t stack = pt__rec_infos[c->b[i].info].stack;
		if (!stack || stack >= nstacks)
			continue;
		uintptr_t ip = pt__stacks_get(&pt__rec_stacks, stack)->ip[0];
		if (ip - S.ld_lo < S.ld_hi - S.ld_lo)
			hs_mark_root(c, i);
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

void pt__leak_scan(const struct pt_exit_context *ctx)
{
	uintptr_t sp = ctx->frame;
	uintptr_t tp = (uintptr_t)pthread_self();
	struct scan_range stack;
	int have_stack = mapping_of(sp, &stack) == 0;

	S.nmod = S.ndone = S.nthreads = S.nrunning = S.nknown = S.nours_tls = 0;
	pt__modules_each(module_roots, NULL);
	pt__rbuf_each(note_thread, NULL);

	pt__rlive_lock();
	int locked = pt_arenas_lock(1);   /* no arena goes away */
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
		scan_range(&c, S.mod[i].lo, S.mod[i].hi);
	if (have_stack)   /* this thread's stack, from the exit's frame up to its descriptor */
		hs_scan_root(&c, (const void *)sp,
		             (tp > sp && tp < stack.hi ? tp : stack.hi) - sp);
	hs_scan_root(&c, ctx->regs, sizeof ctx->regs);
	scan_tls(&c, tp);
	if (S.main_tp != tp)
		scan_tls(&c, S.main_tp);
	scan_other_threads(&c);
	linker_blocks(&c);
	hs_classify(&c);
	for (size_t i = 0; i < c.n; i++) {
		const struct hs_block *b = &c.b[i];
		cnt[b->info][0][b->state - 1]++;
		cnt[b->info][1][b->state - 1] += b->size;
	}
	pt__pyobj_scan(&c, &S.mod[0].lo, S.nmod);   /* which blocks are Python objects */
out:
	if (locked > 0)
		pt_arenas_unlock();
	pt__rlive_unlock();
	if (cnt && (!n || (c.b && c.work))) {
		pt__rfile_lock();
		write_leaks_locked((const uint64_t (*)[2][3])cnt, ninfo, c.roots_bytes);
		pt__pyobj_write_locked();
		pt__rfile_unlock();
	}
	if (c.b)
		pt__unmap(c.b, bsz);
	if (c.work)
		pt__unmap(c.work, wsz);
	if (cnt)
		pt__unmap(cnt, csz);
}
