/*
 * debug.c - POOLTRACE_DEBUG, the heap checker (debug.h).
 *
 * A debug block, inside a block of the pools or of glibc:
 *
 *   base        base+off-48       base+off-16    p = base+off      p+n      p+n+16
 *   | (padding) | header, 32 bytes | guard 0xFD x16 | user, n bytes | guard 0xFD x16 |
 *
 * off is 48 rounded up to the alignment asked for.  A registry of
 * every block handed out and not yet released (live or in quarantine)
 * holds what the header holds, so that a header overwritten by an underflow
 * is reported rather than trusted, and so that a free of any other pointer
 * (inside a block, never allocated, freed twice) is recognised without
 * reading memory that is not ours.  Freed blocks are filled with 0xDD and
 * kept in a FIFO quarantine of POOLTRACE_QUARANTINE bytes; a block leaving
 * it is checked for writes after free, then released.
 *
 * Stacks (libunwind) are captured before any lock is taken: libunwind may
 * allocate, and its allocations come back here (the reentrancy counter
 * pt__inside stops them from capturing in turn).  A problem found under the lock is
 * copied into a struct report, and printed after the lock is released
 * (dladdr takes the loader's lock).  Nothing here calls glibc's malloc or
 * stdio.
 *
 * A report's frames are named by `pooltrace symbolize`, run once per report
 * for all its stacks (symbolizer.c): function (file:line) from the debug
 * information, as memcheck and ASan name them, where dladdr knows only the
 * dynamic symbols (none of a program linked without -rdynamic).  Without
 * it, or for a frame it cannot name, dladdr's name or module+offset.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../allocator/pool_alloc.h"
#include "common.h"
#include "debug.h"
#include "fmt.h"
#include "libc_sym.h"
#include "options.h"
#include "stacks.h"
#include "symbolizer.h"

#define HDR_SIZE     48u              /* header + front guard */
#define GUARD        16u
#define FILL_NEW     0xCD
#define FILL_FREED   0xDD
#define FILL_GUARD   0xFD
#define MAGIC_LIVE   0x5054444cu      /* "LDTP" */
#define MAGIC_FREED  0x50544446u      /* "FDTP" */
#define DEPTH        16               /* frames kept per stack */
#define STACKS_MAX   (1u << 20)
#define STORE_SIZE   ((size_t)STACKS_MAX * 64)   /* reserved for frames */
#define QUAR_SLOTS   (1u << 20)

struct hdr {                          /* at p - 48 */
	uint64_t size;                /* requested */
	uint32_t magic;
	uint16_t api;                 /* enum pt_dbg_api */
	uint16_t align_log2;          /* alignment asked for (0: none) */
	uint32_t off;                 /* p - base */
	uint32_t alloc_stack, free_stack;
	uint32_t serial;              /* allocation number, as CPython's */
};
_Static_assert(sizeof(struct hdr) == 32, "header then 16 guard bytes");

struct entry {                        /* the registry's copy */
	uintptr_t p;                  /* 0: empty slot */
	uint64_t size;
	uint32_t off, alloc_stack, free_stack, serial;
	uint16_t api, align_log2;
	uint32_t freed;               /* in quarantine: the free count then
	                                 (never 0); 0: live */
	pid_t alloc_tid, free_tid;
};

int pt__dbg_state;

static struct pt_lock lock = PT_LOCK_INIT(PT_RANK_DEBUG);   /* registry, quarantine */
static struct pt_stack_table stacks = PT_STACK_TABLE_INIT(PT_RANK_DEBUG_STACKS);

static struct {
	struct entry *slot;           /* open addressing, power of 2 */
	size_t cap, n;
	uintptr_t *quar;              /* FIFO of freed blocks */
	size_t qhead, qlen;
	uint64_t qbytes, qmax;
	uint32_t serial;
	uint32_t nfree;               /* frees so far (0 skipped) */
	/* a forked child: the counts at the fork; its exit checks only the
	 * blocks it allocated or freed itself (the parent checks the rest: 10,000
	 * children that each checked a quarantine of 64 MiB took minutes) */
	int forked;
	uint32_t fork_serial, fork_nfree;
	unsigned problems;
} D;

/* ---- options and set-up ---------------------------------------------------- */

int pt__dbg_enabled(void)
{
	if (pt__dbg_state == PT_DBG_UNREAD) {
		pt__lock_acquire(&lock);
		if (pt__dbg_state == PT_DBG_UNREAD) {
			pt__options_read();
			int on = pt__opt.debug != 0;
			D.qmax = pt__opt.quarantine;
			if (on) {
				D.cap = 1u << 16;
				D.slot = pt__map(D.cap * sizeof *D.slot, 0);
				D.quar = pt__map(QUAR_SLOTS * sizeof *D.quar, 1);
				if (!D.slot || !D.quar ||
				    pt__stacks_init(&stacks, STACKS_MAX, STORE_SIZE)) {
					pt__dprintf(2, "pooltrace: warning: no memory for "
					            "POOLTRACE_DEBUG; debug mode off\n");
					on = 0;
				}
			}
			pt__dbg_set_state(!on ? (pt__opt.profile ? PT_DBG_START : PT_DBG_OFF)
			                  : pt__opt.debug == 2 ? PT_DBG_WARN : PT_DBG_ABORT);
		}
		pt__lock_release(&lock);
	}
	return pt__dbg_state >= PT_DBG_ABORT;
}

/* ---- stacks ---------------------------------------------------------------- */

/* The id of the calling thread's stack (innermost first, our frames
 * dropped), or 0 when it cannot be taken (inside libunwind's own
 * allocations, or the tables are full). */
static uint32_t capture(void)
{
	if (pt__inside > 1)
		return 0;
	pt__modules_find_self();   /* our frames are dropped */
	void *ip[DEPTH];
	int n = pt__unwind(ip, DEPTH, NULL, 0), fresh;
	return n ? pt__stacks_intern(&stacks, ip, n, 0, 0, &fresh, NULL) : 0;
}

/* A report's stacks, in the order printed, and their frames' names. */
struct names {
	const struct pt_symb *sym;    /* NULL: dladdr's */
	unsigned next;                /* the index in sym of the next stack's first frame */
};

/* Ask the symbolizer about the frames of stacks id[0..n) (0: none). */
static void names_get(struct names *nm, const uint32_t *id, unsigned n)
{
	uintptr_t ip[PT_SYMB_MAX];
	unsigned k = 0;
	nm->sym = NULL;
	nm->next = 0;
	for (unsigned s = 0; s < n; s++) {
		if (!id[s])
			continue;
		const struct pt_stack_entry *f = pt__stacks_get(&stacks, id[s]);
		for (unsigned i = 0; i < f->nframes && k < PT_SYMB_MAX; i++)
			ip[k++] = f->ip[i];
	}
	if (!k)
		return;
	char why[600];
	nm->sym = pt__symb_run(ip, k, why, sizeof why);
	if (why[0])
		pt__dprintf(2, "  (frames not symbolized: %s)\n", why);
}

static void names_done(struct names *nm)
{
	if (!nm->sym)
		return;
	for (unsigned i = 0; i < nm->sym->nnotes; i++)
		pt__dprintf(2, "  (pooltrace symbolize: %s)\n", nm->sym->note[i]);
	pt__symb_done();
	nm->sym = NULL;
}

static void print_stack(const char *title, uint32_t id, pid_t who, struct names *nm)
{
	if (who)
		pt__dprintf(2, "  %s by thread %d:\n", title, (int)who);
	else
		pt__dprintf(2, "  %s:\n", title);
	if (!id) {
		pt__dprintf(2, "    (no stack)\n");
		return;
	}
	const struct pt_stack_entry *f = pt__stacks_get(&stacks, id);
	unsigned num = 0;
	for (unsigned i = 0; i < f->nframes; i++) {
		uintptr_t ip = f->ip[i];
		unsigned k = nm->next++;
		const struct pt_symb *sy = nm->sym;
		if (sy && k < sy->n && sy->first[k] < sy->first[k + 1]) {
			/* function (file:line), then the frames it was inlined into */
			for (unsigned j = sy->first[k]; j < sy->first[k + 1]; j++)
				pt__dprintf(2, "    #%u 0x%lx %s\n", num++, (unsigned long)ip,
				            sy->line[j]);
			continue;
		}
		Dl_info di;
		/* a return address: its call is the byte before */
		if (dladdr((void *)(ip - 1), &di) && di.dli_sname && di.dli_saddr)
			pt__dprintf(2, "    #%u 0x%lx %s+0x%lx (%s)\n", num++, (unsigned long)ip,
			            di.dli_sname, (unsigned long)(ip - (uintptr_t)di.dli_saddr),
			            di.dli_fname ? di.dli_fname : "?");
		else if (dladdr((void *)(ip - 1), &di) && di.dli_fname)
			pt__dprintf(2, "    #%u 0x%lx (%s+0x%lx)\n", num++, (unsigned long)ip,
			            di.dli_fname, (unsigned long)(ip - (uintptr_t)di.dli_fbase));
		else
			pt__dprintf(2, "    #%u 0x%lx\n", num++, (unsigned long)ip);
	}
}

/* ---- the registry and the quarantine (under lock) ------------------------- */

static size_t slot_of(uintptr_t p)
{
	return (size_t)(((p >> 4) * 0x9e3779b97f4a7c15ull) >> 17) & (D.cap - 1);
}

static struct entry *reg_find(uintptr_t p)
{
	for (size_t i = slot_of(p);; i = (i + 1) & (D.cap - 1)) {
		if (D.slot[i].p == p)
			return &D.slot[i];
		if (!D.slot[i].p)
			return NULL;
	}
}

static int reg_grow(void)
{
	size_t ocap = D.cap, ncap = ocap * 2;
	struct entry *old = D.slot, *nw = pt__map(ncap * sizeof *nw, 0);
	if (!nw)
		return -1;
	D.slot = nw;
	D.cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].p) {
			size_t j = slot_of(old[i].p);
			while (nw[j].p)
				j = (j + 1) & (ncap - 1);
			nw[j] = old[i];
		}
	pt__unmap(old, ocap * sizeof *old);
	return 0;
}

static int reg_add(const struct entry *e)
{
	if ((D.n + 1) * 4 > D.cap * 3 && reg_grow())
		return -1;
	size_t i = slot_of(e->p);
	while (D.slot[i].p)
		i = (i + 1) & (D.cap - 1);
	D.slot[i] = *e;
	D.n++;
	return 0;
}

/* Remove e (a slot of the table): backward-shift deletion. */
static void reg_del(struct entry *e)
{
	size_t mask = D.cap - 1, i = (size_t)(e - D.slot), j = i;
	for (;;) {
		D.slot[i].p = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!D.slot[j].p) {
				D.n--;
				return;
			}
			size_t k = slot_of(D.slot[j].p);
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		D.slot[i] = D.slot[j];
		i = j;
	}
}

/* ---- reports --------------------------------------------------------------- */

enum kind {
	K_NONE, K_OVERFLOW, K_UNDERFLOW, K_HEADER, K_DOUBLE_FREE, K_INTERIOR, K_WILD,
	K_AFTER_FREE, K_MISMATCH,
};

/* What a K_MISMATCH got wrong (the first found, in this order). */
enum mismatch {
	M_NONE,
	M_API,                        /* the family: free of new's block, delete of malloc's... */
	M_SIZE,                       /* a sized free or delete with another size */
	M_ALIGN,                      /* an aligned free or delete with another alignment */
};

struct report {
	enum kind kind;
	const char *op;               /* the call, or the check, that found it */
	uintptr_t addr;               /* the pointer given */
	struct entry e;               /* the block concerned */
	size_t at;                    /* damaged byte: offset from the user pointer */
	long far;                     /* the damaged guard byte farthest from the
	                                 block: how far the write went */
	unsigned damaged;             /* bytes found damaged */
	uint8_t bytes[48];            /* a copy of the memory around it */
	uintptr_t bytes_at;
	unsigned nbytes;
	size_t size_given, align_given;
	enum mismatch why;
	uint32_t now_stack;
};

/* An API's names: in full for a mismatch, short for a block's line. */
static const struct {
	const char *full, *brief;
} api_names[] = {
	[PT_API_MALLOC] = { "malloc, calloc or realloc", "malloc" },
	[PT_API_ALIGNED] = { "an aligned allocation (memalign, aligned_alloc, posix_memalign, "
	                     "valloc)", "an aligned allocation" },
	[PT_API_NEW] = { "operator new", "operator new" },
	[PT_API_NEW_ARRAY] = { "operator new[]", "operator new[]" },
};

static const char *api_name(unsigned api)
{
	return api_names[api].full;
}

/* Copy up to 48 bytes around offset at of block e (within its
 * underlying block). */
static void snap_bytes(struct report *r, const struct entry *e, long at)
{
	uintptr_t base = e->p - e->off, end = e->p + e->size + GUARD;
	uintptr_t lo = e->p + (uintptr_t)at, a = lo > base + 16 ? (lo - 16) & ~(uintptr_t)15 : base;
	if (a < base)
		a = base;
	unsigned n = 0;
	while (n < sizeof r->bytes && a + n < end) {
		r->bytes[n] = ((const uint8_t *)a)[n];
		n++;
	}
	r->bytes_at = a;
	r->nbytes = n;
}

/* The guards of a registered block: 0 or a report's kind. */
static enum kind check_guards(const struct entry *e, struct report *r)
{
	const uint8_t *p = (const uint8_t *)e->p;
	const struct hdr *h = (const struct hdr *)(p - HDR_SIZE);
	unsigned bad = 0;
	long first = 0;
	for (unsigned i = 0; i < GUARD; i++)       /* from the user area outwards */
		if (p[-1 - (long)i] != FILL_GUARD) {
			if (!bad++)
				first = -1 - (long)i;
			r->far = -1 - (long)i;
		}
	if (bad) {
		r->at = (size_t)first;
		r->damaged = bad;
		snap_bytes(r, e, first);
		return K_UNDERFLOW;
	}
	if (h->magic != (e->freed ? MAGIC_FREED : MAGIC_LIVE) || h->size != e->size ||
	    h->off != e->off) {
		snap_bytes(r, e, -(long)HDR_SIZE);
		r->at = (size_t)-(long)HDR_SIZE;
		return K_HEADER;
	}
	for (unsigned i = 0; i < GUARD; i++)
		if (p[e->size + i] != FILL_GUARD) {
			if (!bad++)
				first = (long)(e->size + i);
			r->far = (long)i + 1;
		}
	if (bad) {
		r->at = (size_t)first;
		r->damaged = bad;
		snap_bytes(r, e, first);
		return K_OVERFLOW;
	}
	return K_NONE;
}

static enum kind check_freed_fill(const struct entry *e, struct report *r)
{
	const uint8_t *p = (const uint8_t *)e->p;
	for (size_t i = 0; i < e->size; i++)
		if (p[i] != FILL_FREED) {
			unsigned bad = 0;
			for (size_t k = i; k < e->size; k++)
				bad += p[k] != FILL_FREED;
			r->at = i;
			r->damaged = bad;
			snap_bytes(r, e, (long)i);
			return K_AFTER_FREE;
		}
	return K_NONE;
}

static void print_bytes(const struct report *r)
{
	if (!r->nbytes)
		return;
	pt__dprintf(2, "  memory around it (guards fd, new cd, freed dd; [xx] the first "
	            "byte found wrong):\n");
	for (unsigned row = 0; row < r->nbytes; row += 16) {
		char line[128];
		size_t k = 0;
		long rel = (long)(r->bytes_at + row - r->e.p);
		k += pt__fmt(line + k, sizeof line - k, "    %s%ld:", rel < 0 ? "" : "+", rel);
		while (k < 12)
			line[k++] = ' ';
		for (unsigned i = row; i < row + 16 && i < r->nbytes; i++) {
			int mark = r->bytes_at + i == r->e.p + r->at;
			k += pt__fmt(line + k, sizeof line - k, mark ? "[%02x]" : " %02x ",
			             r->bytes[i]);
		}
		pt__dprintf(2, "%s\n", line);
	}
}

static void print_report(const struct report *r)
{
	const struct entry *e = &r->e;
	size_t sz = (size_t)e->size;
	pt__dprintf(2, "==pooltrace== ERROR: ");
	switch (r->kind) {
	case K_OVERFLOW:
		pt__dprintf(2, "heap buffer overflow: written up to %ld byte%s past the end of "
		            "a %zu-byte block (%u of the %u guard bytes after it damaged)\n",
		            r->far, r->far == 1 ? "" : "s", sz, r->damaged, GUARD);
		break;
	case K_UNDERFLOW:
		pt__dprintf(2, "heap buffer underflow: written up to %ld byte%s before the start "
		            "of a %zu-byte block (%u of the %u guard bytes before it damaged)\n",
		            -r->far, r->far == -1 ? "" : "s", sz, r->damaged, GUARD);
		break;
	case K_HEADER:
		pt__dprintf(2, "heap buffer underflow: the header before a %zu-byte block is "
		            "overwritten\n", sz);
		break;
	case K_DOUBLE_FREE:
		pt__dprintf(2, "double free of a %zu-byte block\n", sz);
		break;
	case K_INTERIOR:
		pt__dprintf(2, "%s of a pointer %zu bytes inside a %zu-byte block, not its "
		            "start\n", r->op, (size_t)(r->addr - e->p), sz);
		break;
	case K_WILD:
		pt__dprintf(2, "%s of %p, which was never allocated\n", r->op, (void *)r->addr);
		break;
	case K_AFTER_FREE:
		pt__dprintf(2, "write after free: %u byte%s of a freed %zu-byte block changed, "
		            "the first at offset %zu (0x%02x, freed memory is 0xdd)\n", r->damaged,
		            r->damaged == 1 ? "" : "s", sz, r->at,
		            ((const uint8_t *)r->bytes)[r->e.p + r->at - r->bytes_at]);
		break;
	case K_MISMATCH:
		if (r->why == M_SIZE)
			pt__dprintf(2, "mismatched free: %s with size %zu of a %zu-byte block\n",
			            r->op, r->size_given, sz);
		else if (r->why == M_ALIGN && r->align_given && e->align_log2)
			pt__dprintf(2, "mismatched free: %s with alignment %zu of a block from %s "
			            "aligned to %zu\n", r->op, r->align_given, api_name(e->api),
			            (size_t)1 << e->align_log2);
		else if (r->why == M_ALIGN && r->align_given)
			pt__dprintf(2, "mismatched free: %s with alignment %zu of a block from %s\n",
			            r->op, r->align_given, api_name(e->api));
		else if (r->why == M_ALIGN)
			pt__dprintf(2, "mismatched free: %s without an alignment of a block from %s "
			            "aligned to %zu\n", r->op, api_name(e->api),
			            (size_t)1 << e->align_log2);
		else
			pt__dprintf(2, "mismatched free: %s of a block from %s\n", r->op,
			            api_name(e->api));
		break;
	default:
		return;
	}
	if (r->kind == K_WILD) {
		Dl_info di;
		uintptr_t here = (uintptr_t)&di;
		if (r->addr - (here & ~(uintptr_t)0xfff) < (8u << 20))
			pt__dprintf(2, "  %p is on this thread's stack\n", (void *)r->addr);
		else if (dladdr((void *)r->addr, &di) && di.dli_fname)
			pt__dprintf(2, "  %p is in the memory of %s%s%s\n", (void *)r->addr,
			            di.dli_fname, di.dli_sname ? ", near " : "",
			            di.dli_sname ? di.dli_sname : "");
		pt__dprintf(2, "  found by %s\n", r->op);
		struct names nm;
		names_get(&nm, &r->now_stack, 1);
		print_stack("the call", r->now_stack, 0, &nm);
		names_done(&nm);
		return;
	}
	pt__dprintf(2, "  block %p, %zu bytes from %s, serial %u; found by %s\n", (void *)e->p,
	            sz, api_names[e->api].brief,
	            e->serial, r->op);
	print_bytes(r);
	/* the stacks printed, in order: their frames are asked about at once */
	uint32_t ids[3] = { e->alloc_stack, e->freed ? e->free_stack : 0, r->now_stack };
	struct names nm;
	names_get(&nm, ids, 3);
	print_stack("allocated", e->alloc_stack, e->alloc_tid, &nm);
	if (e->freed)
		print_stack(r->kind == K_DOUBLE_FREE ? "first freed" : "freed", e->free_stack,
		            e->free_tid, &nm);
	if (r->now_stack)
		print_stack("the call", r->now_stack, 0, &nm);
	names_done(&nm);
}

/* Report r, then abort, or go on with POOLTRACE_DEBUG=warn.  write(2) and
 * dladdr's file access are cancellation points: a thread whose cancellation
 * is pending is not cancelled inside the call that found the problem. */
static void report(const struct report *r)
{
	int cancel;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	print_report(r);
	if (pt__dbg_state == PT_DBG_ABORT) {
		pt__dprintf(2, "==pooltrace== aborting (POOLTRACE_DEBUG=warn reports and goes on)\n");
		abort();
	}
	pthread_setcancelstate(cancel, NULL);
}

/* ---- blocks -------------------------------------------------------------- */

static void underlying_free(uintptr_t base)
{
	if (pt_owns((void *)base))
		pt_free((void *)base);
	else
		__libc_free((void *)base);
}

/* Take the oldest blocks out of the quarantine until it fits; each one is
 * checked, then really freed.  Under lock; reports into r (the first). */
static void quarantine_trim(struct report *r)
{
	while (D.qlen && (D.qbytes > D.qmax || D.qlen == QUAR_SLOTS)) {
		uintptr_t p = D.quar[D.qhead];
		D.qhead = (D.qhead + 1) % QUAR_SLOTS;
		D.qlen--;
		struct entry *e = reg_find(p);
		if (!e)
			continue;
		D.qbytes -= e->size;
		struct report t = { .op = "a later free, when the block left the quarantine",
		                    .e = *e };
		if (r->kind == K_NONE && ((t.kind = check_freed_fill(e, &t)) ||
		                          (t.kind = check_guards(e, &t))))
			*r = t;
		uintptr_t base = e->p - e->off;
		reg_del(e);
		underlying_free(base);
	}
}

static unsigned log2_of(size_t a)
{
	return a ? 63u - (unsigned)__builtin_clzll(a) : 0;
}

void *pt__dbg_alloc(size_t align, size_t n, unsigned api, int zero)
{
	pt__inside++;
	uint32_t stack = capture();
	size_t ualign = align > 16 ? align : 16;
	size_t off = (HDR_SIZE + ualign - 1) & ~(ualign - 1);   /* p stays aligned */
	size_t total;
	void *base = NULL;
	if (!__builtin_add_overflow(n, off + GUARD, &total)) {
		if (total <= PT_SMALL_MAX && ualign <= 16)
			base = pt_alloc_aligned(16, total);
		if (!base)
			base = __libc_memalign(ualign, total);
	}
	if (!base) {
		pt__inside--;
		errno = ENOMEM;
		return NULL;
	}
	uint8_t *p = (uint8_t *)base + off;
	struct hdr *h = (struct hdr *)(p - HDR_SIZE);
	memset(p - GUARD, FILL_GUARD, GUARD);
	memset(p, zero ? 0 : FILL_NEW, n);
	memset(p + n, FILL_GUARD, GUARD);
	struct entry e = {
		.p = (uintptr_t)p, .size = n, .off = (uint32_t)off, .alloc_stack = stack,
		.api = (uint16_t)api, .align_log2 = (uint16_t)(align ? log2_of(align) : 0),
		.alloc_tid = pt__gettid(),
	};
	pt__lock_acquire(&lock);
	e.serial = ++D.serial;
	*h = (struct hdr){ .size = n, .magic = MAGIC_LIVE, .api = e.api,
	                   .align_log2 = e.align_log2, .off = e.off, .alloc_stack = stack,
	                   .serial = e.serial };
	int failed = reg_add(&e);
	pt__lock_release(&lock);
	pt__inside--;
	if (failed) {
		underlying_free((uintptr_t)base);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

static const char *free_name(unsigned how)
{
	switch (how) {
	case PT_FREE_SIZED: return "free_sized";
	case PT_FREE_ALIGNED_SIZED: return "free_aligned_sized";
	case PT_FREE_REALLOC: return "realloc";
	case PT_FREE_DELETE: return "operator delete";
	case PT_FREE_DELETE_ARRAY: return "operator delete[]";
	default: return "free";
	}
}

/*
 * Does a free or delete (how, with the size and alignment it gives) fit
 * block e?  Each family frees its own: malloc's blocks by free, free_sized,
 * free_aligned_sized and realloc; new's by delete, new[]'s by delete[]
 * (memcheck's "mismatched free", LeakSanitizer's alloc-dealloc-mismatch).
 * A size or alignment given must be the block's (for delete, that of
 * AddressSanitizer's new-delete-type-mismatch); an unaligned delete of an
 * aligned new's block is one too.
 */
static enum mismatch mismatch_of(const struct entry *e, unsigned how, size_t size,
                                 size_t align)
{
	switch (how) {
	case PT_FREE_DELETE:
	case PT_FREE_DELETE_ARRAY:
		if (e->api != (how == PT_FREE_DELETE ? PT_API_NEW : PT_API_NEW_ARRAY))
			return M_API;
		if (size != PT_DBG_NO_SIZE && size != e->size)
			return M_SIZE;
		if (log2_of(align) != e->align_log2)
			return M_ALIGN;
		return M_NONE;
	case PT_FREE_SIZED:
		if (e->api != PT_API_MALLOC)
			return M_API;
		return size != e->size ? M_SIZE : M_NONE;
	case PT_FREE_ALIGNED_SIZED:
		if (e->api != PT_API_ALIGNED)
			return M_API;
		if (size != e->size)
			return M_SIZE;
		return log2_of(align) != e->align_log2 ? M_ALIGN : M_NONE;
	default:   /* free, realloc */
		return e->api == PT_API_NEW || e->api == PT_API_NEW_ARRAY ? M_API : M_NONE;
	}
}

/* A pointer the registry does not know: inside a block, or wild. */
static void classify_unknown(struct report *r, uintptr_t p)
{
	r->kind = K_WILD;
	for (size_t i = 0; i < D.cap; i++) {
		const struct entry *e = &D.slot[i];
		if (e->p && p > e->p - e->off && p < e->p + e->size + GUARD) {
			r->kind = K_INTERIOR;
			r->e = *e;
			return;
		}
	}
}

/*
 * Check block p for a free or realloc (how); under lock.  Returns its
 * entry if it may be released, NULL if the call must be ignored (double
 * or invalid free); r says what was wrong, if anything.
 */
static struct entry *check_for_free(uintptr_t p, unsigned how, size_t size, size_t align,
                                    struct report *r)
{
	struct entry *e = reg_find(p);
	r->op = free_name(how);
	r->addr = p;
	if (!e) {
		classify_unknown(r, p);
		return NULL;
	}
	r->e = *e;
	if (e->freed) {
		r->kind = K_DOUBLE_FREE;
		return NULL;
	}
	if ((r->kind = check_guards(e, r)))
		return e;
	r->size_given = size;
	r->align_given = align;
	r->why = mismatch_of(e, how, size, align);
	if (r->why != M_NONE)
		r->kind = K_MISMATCH;
	return e;
}

/* Into the quarantine (or released at once if it holds nothing). */
static void retire(struct entry *e, uint32_t stack, struct report *r)
{
	struct hdr *h = (struct hdr *)(e->p - HDR_SIZE);
	memset((void *)e->p, FILL_FREED, e->size);
	memset((void *)(e->p - GUARD), FILL_GUARD, GUARD);   /* as new, once reported */
	memset((void *)(e->p + e->size), FILL_GUARD, GUARD);
	if (!++D.nfree)
		D.nfree = 1;
	e->freed = D.nfree;
	e->free_stack = stack;
	e->free_tid = pt__gettid();
	*h = (struct hdr){ .size = e->size, .magic = MAGIC_FREED, .api = e->api,
	                   .align_log2 = e->align_log2, .off = e->off,
	                   .alloc_stack = e->alloc_stack, .free_stack = stack,
	                   .serial = e->serial };
	if (!D.qmax) {
		uintptr_t base = e->p - e->off;
		reg_del(e);
		underlying_free(base);
		return;
	}
	D.quar[(D.qhead + D.qlen) % QUAR_SLOTS] = e->p;
	D.qlen++;
	D.qbytes += e->size;
	quarantine_trim(r);
}

void pt__dbg_free(void *ptr, unsigned how, size_t size, size_t align)
{
	if (!ptr)
		return;
	pt__inside++;
	uint32_t stack = capture();
	struct report r = { .kind = K_NONE }, later = { .kind = K_NONE };
	pt__lock_acquire(&lock);
	struct entry *e = check_for_free((uintptr_t)ptr, how, size, align, &r);
	if (r.kind != K_NONE) {
		r.e = e ? *e : r.e;
		D.problems++;
	}
	if (e)
		retire(e, stack, &later);
	if (later.kind != K_NONE)
		D.problems++;
	pt__lock_release(&lock);
	pt__inside--;
	r.now_stack = stack;
	if (r.kind != K_NONE)
		report(&r);
	if (later.kind != K_NONE)
		report(&later);
}

/* Bytes the block under a debug block holds, from base. */
static size_t underlying_size(uintptr_t base)
{
	if (pt_owns((void *)base))
		return pt_block_size((void *)base);
	return pt__libc_usable_size((void *)base);
}

/*
 * Resize sound block e to n bytes where it is, as glibc keeps a block in
 * place when it can: the same size, smaller, or larger within the block
 * underneath.  New bytes are filled as new memory, the rear guard moves;
 * the block is then one from realloc.  Under lock; 0 if it does not fit.
 */
static int resize_in_place(struct entry *e, size_t n)
{
	uintptr_t base = e->p - e->off;
	size_t room;
	if (__builtin_add_overflow(n, (size_t)e->off + GUARD, &room) ||
	    room > underlying_size(base))
		return 0;
	uint8_t *p = (uint8_t *)e->p;
	if (n > e->size)
		memset(p + e->size, FILL_NEW, n - e->size);
	memset(p + n, FILL_GUARD, GUARD);
	e->size = n;
	e->api = PT_API_MALLOC;   /* a block from realloc, as when it moves */
	e->align_log2 = 0;
	struct hdr *h = (struct hdr *)(p - HDR_SIZE);
	h->size = n;
	h->api = PT_API_MALLOC;
	h->align_log2 = 0;
	return 1;
}

void *pt__dbg_realloc(void *ptr, size_t n)
{
	if (!ptr)
		return pt__dbg_alloc(0, n, PT_API_MALLOC, 0);
	if (n == 0) {   /* glibc: frees, returns NULL */
		pt__dbg_free(ptr, PT_FREE_REALLOC, 0, 0);
		return NULL;
	}
	/* check first: a bad pointer is reported, not copied from */
	pt__inside++;
	struct report r = { .kind = K_NONE };
	pt__lock_acquire(&lock);
	struct entry *e = check_for_free((uintptr_t)ptr, PT_FREE_REALLOC, 0, 0, &r);
	size_t old = e ? (size_t)e->size : 0;
	int kept = e && r.kind == K_NONE && resize_in_place(e, n);
	pt__lock_release(&lock);
	pt__inside--;
	if (kept)
		return ptr;
	if (!e) {
		pt__inside++;
		r.now_stack = capture();
		pt__inside--;
		pt__lock_acquire(&lock);
		D.problems++;
		pt__lock_release(&lock);
		report(&r);
		errno = EINVAL;
		return NULL;
	}
	void *q = pt__dbg_alloc(0, n, PT_API_MALLOC, 0);
	if (!q)
		return NULL;   /* the old block stays, as realloc says */
	memcpy(q, ptr, old < n ? old : n);
	pt__dbg_free(ptr, PT_FREE_REALLOC, 0, 0);   /* checks again, and reports */
	return q;
}

size_t pt__dbg_usable_size(void *ptr)
{
	if (!ptr)
		return 0;
	pt__lock_acquire(&lock);
	struct entry *e = reg_find((uintptr_t)ptr);
	size_t n = e && !e->freed ? (size_t)e->size : 0;
	pt__lock_release(&lock);
	return n;
}

void pt__dbg_set_api(void *ptr, unsigned api)
{
	if (!ptr || pt__dbg_state < PT_DBG_ABORT)
		return;
	pt__lock_acquire(&lock);
	struct entry *e = reg_find((uintptr_t)ptr);
	if (e && !e->freed) {
		e->api = (uint16_t)api;
		((struct hdr *)(e->p - HDR_SIZE))->api = (uint16_t)api;
	}
	pt__lock_release(&lock);
}

/* Did this process allocate or free e since it was forked? */
static int since_fork(const struct entry *e)
{
	return e->serial > D.fork_serial || e->freed > D.fork_nfree;
}

unsigned pt__dbg_check_all(const char *when, int all)
{
	if (pt__dbg_state < PT_DBG_ABORT)
		return 0;
	pt__inside++;
	uint32_t stack = capture();
	unsigned found = 0;
	size_t i = 0;
	for (;;) {
		struct report r = { .kind = K_NONE, .op = when, .now_stack = stack };
		pt__lock_acquire(&lock);
		for (; i < D.cap && r.kind == K_NONE; i++) {
			const struct entry *e = &D.slot[i];
			if (!e->p || (!all && D.forked && !since_fork(e)))
				continue;
			r.e = *e;
			if (!(r.kind = check_guards(e, &r)) && e->freed)
				r.kind = check_freed_fill(e, &r);
		}
		if (r.kind != K_NONE)
			D.problems++;
		pt__lock_release(&lock);
		if (r.kind == K_NONE)
			break;
		found++;
		report(&r);
	}
	pt__inside--;
	return found;
}

void pt__dbg_fork_prepare(void)
{
	if (pt__dbg_state < PT_DBG_ABORT)
		return;
	pt__lock_acquire(&lock);
	pt__lock_acquire(&stacks.lock);
}

void pt__dbg_fork_parent(void)
{
	if (pt__dbg_state < PT_DBG_ABORT)
		return;
	pt__lock_release(&stacks.lock);
	pt__lock_release(&lock);
}

void pt__dbg_fork_child(void)
{
	if (pt__dbg_state < PT_DBG_ABORT)
		return;
	pt__lock_reinit(&stacks.lock);
	pt__lock_reinit(&lock);
	D.forked = 1;
	D.fork_serial = D.serial;
	D.fork_nfree = D.nfree;
	pt__symb_fork_child();   /* a report of another thread: not in the child */
}
