/*
 * rec_hooks.c - the recorder's slow hooks (recorder.h has the inline
 * ones), in two sets chosen once at start, as memray chooses between its
 * writers:
 *
 *   full      every call recorded with its stack; every block's info kept
 *             (the exit scan and the pinned arenas need them); exact totals
 *   sampled   one allocation per POOLTRACE_SAMPLE bytes on average, a
 *             Poisson process over the bytes allocated (jemalloc's and
 *             tcmalloc's sampling); only sampled blocks are kept; the
 *             allocator's own statistics give the pool's totals
 *
 * Each hook runs under the reentrancy guard and leaves errno as it found
 * it.  The stack is taken here, inlined into the hook: libunwind spends
 * some 90 instructions stepping over each frame of ours.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "../allocator/layout.h"
#include "libc_sym.h"
#include "python.h"
#include "rec_internal.h"

struct pt_stack_table pt__rec_stacks = PT_STACK_TABLE_INIT(PT_RANK_STACKS);

const struct pt_rec_hooks *pt__rec_hooks;

/* ---- what both sets share ------------------------------------------------------ */

static size_t block_bytes(void *p)
{
	unsigned v = pt__class_of((uintptr_t)p);
	return v ? pt__class_size(v - 1) : pt__libc_usable_size(p);
}

/* The stack this thread defined last, whose outer frames the next one it
 * defines may share (the fork child's first defines its own). */
static __thread struct {
	const struct pt_stack_entry *e;
	uint32_t id;
	pid_t pid;
} last_stack __attribute__((tls_model("initial-exec")));

#define SHARED_MIN 2   /* fewer outer frames in common are written out */

/* The STACK record of new stack id: its frames but the outer ones it
 * shares with the last stack this thread defined. */
static void write_stack(struct pt_rec_thread *t, uint32_t id, unsigned gen, void *const *ip,
                        int n)
{
	struct pt_r_stack r = { .id = id, .gen = gen, .nframes = (uint32_t)n };
	if (last_stack.e && last_stack.pid == pt__rcfg.pid && last_stack.id < id) {
		const struct pt_stack_entry *e = last_stack.e;
		uint32_t k = 0;
		while (k < (uint32_t)n && k < e->nframes &&
		       (uintptr_t)ip[n - 1 - k] == e->ip[e->nframes - 1 - k])
			k++;
		if (k >= SHARED_MIN) {
			r.back = id - last_stack.id;
			r.shared = k;
		}
	}
	pt__rbuf_begin(t);
	uint8_t *p = pt__rbuf_room(t, 1 + PT_FIELDS_MAX(PT_FIELDS_STACK) +
	                              (size_t)n * PT_FRAME_MAX_BYTES);
	p = pt_enc_type(p, PT_REC_STACK);
	PT_ENCODE(p, &r, PT_FIELDS_STACK);
	struct pt_frame_state fs = { 0, 0 };
	for (int i = 0; i < n - (int)r.shared; i++)
		p = pt_enc_frame(p, &fs, (uintptr_t)ip[i]);
	t->len = (uint32_t)(p - t->buf);
	pt__rbuf_end(t);
	last_stack.e = pt__stacks_get(&pt__rec_stacks, id);
	last_stack.id = id;
	last_stack.pid = pt__rcfg.pid;
}

/*
 * Unwind the caller's stack, drop our own frames, merge its Python frames
 * in (python.h), intern it.  One frame more than the depth is unwound: a
 * stack that has it is cut, with a mark.  Writes the definition of a new
 * stack into t's buffer.
 */
static inline __attribute__((always_inline)) uint32_t capture_stack(struct pt_rec_thread *t)
{
	void *ip[PT_TRACE_MAX_FRAMES];
	unsigned epoch = atomic_load_explicit(&pt__rec_epoch, memory_order_relaxed);
	/* if the walk finds its last frames again and no Python frames are
	 * merged in, the stack is the one this thread interned for that walk
	 * (a loop's call site); under PT_DEBUG it is interned and compared */
	int reuse = t->walk_stack.id && t->walk_stack.epoch == epoch &&
	            atomic_load_explicit(&pt__py.state, memory_order_relaxed) == PT_PY_OFF;
#ifdef PT_DEBUG
	int n = pt__unwind(ip, (int)pt__rcfg.depth + 1, &t->unwind_memo, 0);
	reuse &= t->unwind_memo.same;
#else
	int n = pt__unwind(ip, (int)pt__rcfg.depth + 1, &t->unwind_memo, reuse);
	if (n == PT_UNWIND_SAME)
		return t->walk_stack.id;
#endif
	if (n <= 0) {
		t->walk_stack.id = 0;
		return 0;
	}
	n = pt__py_stack(t, ip, n, (int)pt__rcfg.depth);
	int fresh;
	unsigned gen = atomic_load_explicit(&pt__rec_mod_gen, memory_order_relaxed);
	uint32_t id = pt__stacks_intern(&pt__rec_stacks, ip, n, epoch, gen, &fresh,
	                                &t->last_stack_id);
#ifdef PT_DEBUG
	pt_assert(!reuse || id == t->walk_stack.id);
#endif
	t->walk_stack.id = id;
	t->walk_stack.epoch = epoch;
	if (!fresh)
		return id;

	/* a frame the module list does not cover: was a library loaded? */
	pt__rfile_modules_check(ip, n);
	write_stack(t, id, gen, ip, n);
	return id;
}

/* An allocation (old_info == -1) or a realloc of a block of old_info. */
static void write_alloc(struct pt_rec_thread *t, uint64_t seq, int64_t old_info, uint32_t info)
{
	pt__rbuf_begin(t);
	uint8_t *q = pt__rbuf_room(t, PT_REC_EVENT_MAX);
	if (old_info < 0) {
		struct pt_r_alloc r = { .info = info };
		q = pt__rbuf_event(t, q, PT_REC_ALLOC, seq);
		PT_ENCODE(q, &r, PT_FIELDS_ALLOC);
	} else {
		struct pt_r_realloc r = { .old_info = (uint32_t)old_info, .info = info };
		q = pt__rbuf_event(t, q, PT_REC_REALLOC, seq);
		PT_ENCODE(q, &r, PT_FIELDS_REALLOC);
	}
	t->len = (uint32_t)(q - t->buf);
	pt__rbuf_end(t);
}

/* A free of a block of info (0: one the trace did not see allocated);
 * temp: it is the thread's last allocation, with no other in between. */
static void write_free(struct pt_rec_thread *t, uint64_t seq, uint32_t info, int temp)
{
	pt__rbuf_begin(t);
	uint8_t *q = pt__rbuf_room(t, PT_REC_EVENT_MAX);
	if (temp) {
		q = pt__rbuf_event(t, q, PT_REC_FREE_TEMP, seq);
	} else {
		struct pt_r_free r = { .info = info };
		q = pt__rbuf_event(t, q, PT_REC_FREE, seq);
		PT_ENCODE(q, &r, PT_FIELDS_FREE);
	}
	t->len = (uint32_t)(q - t->buf);
	pt__rbuf_end(t);
}

/* Record block p of n bytes, its stack taken here. */
static inline __attribute__((always_inline))
void record_alloc(struct pt_rec_thread *t, uint64_t seq, int64_t old_info, void *p, size_t n,
                  int pool)
{
	uint32_t stack = capture_stack(t);
	uint32_t id = pt__rinfo_get(t, n, stack, !pool);
	if (id)
		pt__rlive_put((uintptr_t)p, id);
	write_alloc(t, seq, old_info, id);
	t->last_ptr = (uintptr_t)p;
	t->last_info = id;
}

/* Record the free of p, whose info was taken from the live blocks. */
static void record_free(struct pt_rec_thread *t, uint64_t seq, void *p, uint32_t id)
{
	int temp = id && (uintptr_t)p == t->last_ptr && id == t->last_info;
	if (temp)
		t->last_ptr = 0;
	write_free(t, seq, id, temp);
}

/*
 * Around each hook: nothing is recorded from inside the recorder (its own
 * allocations come back through the malloc API), errno is left as found,
 * and the thread's buffer is taken (NULL: no memory for one).  Every
 * hook below is an entry point of its own, its body inlined: a frame
 * between malloc and the unwinder costs the unwinder some 90 instructions.
 */
struct hook {
	int entered, saved_errno;
	struct pt_rec_thread *t;
};

static inline __attribute__((always_inline)) int hook_enter(struct hook *h, int counted)
{
	h->entered = 0;
	if (pt__inside || !pt__rec_on)
		return 0;
	h->entered = 1;
	pt__inside++;
	h->saved_errno = errno;
	h->t = counted ? pt__rec_self : pt__rbuf_thread();
	if (!h->t)
		return 0;
	if (PT_UNLIKELY(--h->t->tick < 0))
		pt__rsnap_tick(h->t);   /* before the event: a snapshot due comes first */
	return 1;
}

static inline __attribute__((always_inline)) void hook_leave(struct hook *h)
{
	if (!h->entered)
		return;
	errno = h->saved_errno;
	pt__inside--;
}

/* ---- full recording ------------------------------------------------------------- */

/* A block of bsize bytes for n requested, by malloc or realloc alike. */
static void count_block(struct pt_rec_thread *t, size_t n, size_t bsize, int pool)
{
	t->bytes_alloc += n;
	if (pool) {
		t->n_pool++;
		t->bytes_pool += n;
	}
	pt__rsnap_live_add(t, (int64_t)bsize);
}

static void full_alloc(void *p, size_t n, int counted)
{
	struct hook h;
	if (!hook_enter(&h, counted))
		goto out;
	struct pt_rec_thread *t = h.t;
	int pool = pt__class_of((uintptr_t)p) != 0;
	/* the block is left as the allocator gave it: the links it may still
	 * hold are no pointers (the pools' are stored xor the free key,
	 * layout.h; glibc's tcache links are mangled, and its bins' point at
	 * chunk headers, which the exit scan does not count) */
	t->n_malloc++;
	count_block(t, n, block_bytes(p), pool);
	record_alloc(t, pt__rec_next_seq(), -1, p, n, pool);
out:
	hook_leave(&h);
}

static void full_free(void *p)
{
	struct hook h;
	if (hook_enter(&h, 0)) {
		struct pt_rec_thread *t = h.t;
		t->n_free++;
		pt__rsnap_live_add(t, -(int64_t)block_bytes(p));
		record_free(t, pt__rec_next_seq(), p, pt__rlive_take((uintptr_t)p));
	}
	hook_leave(&h);
}

/*
 * realloc is a free of old and an allocation, numbered before the call (old
 * may be handed out again inside it), with old's info taken then.  The
 * token's seq1: that seq + 1, or 0 if nothing is to be written for old.
 */
static struct pt_rec_realloc full_realloc_begin(void *old)
{
	struct pt_rec_realloc tok = { 0, 0, 0 };
	struct hook h;
	if (old && hook_enter(&h, 0)) {
		pt__rsnap_live_add(h.t, -(int64_t)block_bytes(old));
		tok.old_info = pt__rlive_take((uintptr_t)old);
		tok.seq1 = pt__rec_next_seq() + 1;
		hook_leave(&h);
	}
	return tok;
}

static void full_realloc_end(struct pt_rec_realloc tok, void *old, void *p, size_t n,
                             int counted)
{
	struct hook h;
	if (!hook_enter(&h, 0))
		goto out;
	struct pt_rec_thread *t = h.t;
	t->hot.n_realloc++;
	if (!p && n > 0) {          /* failed: old is still there, unchanged */
		if (tok.old_info)
			pt__rlive_put((uintptr_t)old, tok.old_info);
		pt__rsnap_live_add(t, (int64_t)block_bytes(old));
		goto out;
	}
	if (!p) {                   /* realloc(old, 0) freed it */
		t->n_free++;
		if (tok.seq1)
			record_free(t, tok.seq1 - 1, old, tok.old_info);
		goto out;
	}
	int pool = pt__class_of((uintptr_t)p) != 0;
	count_block(t, n, block_bytes(p), pool);
	if (tok.seq1)
		record_alloc(t, tok.seq1 - 1, tok.old_info, p, n, pool);
	else        /* begin was not recorded: an allocation */
		record_alloc(t, pt__rec_next_seq(), -1, p, n, pool);
out:
	hook_leave(&h);
}

static const struct pt_rec_hooks full = {
	full_alloc, full_free, full_realloc_begin, full_realloc_end,
};

/* ---- sampling ------------------------------------------------------------------- */

/* mean pt__rcfg.sample bytes, exponentially distributed (xorshift) */
int64_t pt__rhooks_sample_interval(struct pt_rec_thread *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	double u = ((double)(t->rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
	double v = -log(u) * (double)pt__rcfg.sample;
	return v < 1.0 ? 1 : v > 9e18 ? (int64_t)9e18 : (int64_t)v;
}

/*
 * The weight of a sampled block for the live-heap estimate that finds the
 * peak while sampling: a block of b bytes is sampled with probability
 * 1 - exp(-b/sample), so it stands for b / that many bytes.  (The
 * countdown runs on requested bytes; the block size is used at both ends
 * here, as the free does not know the request.)
 */
static int64_t sample_weight(size_t bsize)
{
	double b = bsize ? (double)bsize : 1.0;
	return (int64_t)(b / -expm1(-b / (double)pt__rcfg.sample));
}

/* The countdown has been decremented: is this allocation recorded?  When
 * it ran out, which starts the next one. */
static inline int sample_due(struct pt_rec_thread *t)
{
	if (t->hot.sample_left > 0)
		return 0;
	t->bytes_alloc += (uint64_t)(t->interval - t->hot.sample_left);
	t->interval = pt__rhooks_sample_interval(t);
	t->hot.sample_left = t->interval;
	return 1;
}

static void sampled_record(struct pt_rec_thread *t, void *p, size_t n, int pool)
{
	record_alloc(t, pt__rec_next_seq(), -1, p, n, pool);
	pt__rsnap_live_add(t, sample_weight(block_bytes(p)));
}

static void sampled_alloc(void *p, size_t n, int counted)
{
	struct hook h;
	if (!hook_enter(&h, counted))
		goto out;
	struct pt_rec_thread *t = h.t;
	int pool = pt__class_of((uintptr_t)p) != 0;
	if (!pool)
		t->n_malloc++;          /* the allocator counts the pool's */
	if (!counted)
		t->hot.sample_left -= (int64_t)n;
	if (sample_due(t))
		sampled_record(t, p, n, pool);
out:
	hook_leave(&h);
}

static void sampled_free(void *p)
{
	struct hook h;
	if (!hook_enter(&h, 0))
		goto out;
	struct pt_rec_thread *t = h.t;
	if (pt__class_of((uintptr_t)p) == 0)
		t->n_free++;            /* the allocator's count gives the pool's */
	uint32_t id = pt__rlive_take((uintptr_t)p);
	if (id) {
		pt__rsnap_live_add(t, -sample_weight(block_bytes(p)));
		record_free(t, pt__rec_next_seq(), p, id);
	}
out:
	hook_leave(&h);
}

/* Only a sampled block has anything to write. */
static struct pt_rec_realloc sampled_realloc_begin(void *old)
{
	struct pt_rec_realloc tok = { 0, 0, 0 };
	struct hook h;
	if (old && hook_enter(&h, 0)) {
		tok.old_info = pt__rlive_take((uintptr_t)old);
		if (tok.old_info) {
			pt__rsnap_live_add(h.t, -sample_weight(block_bytes(old)));
			tok.seq1 = pt__rec_next_seq() + 1;
		}
		hook_leave(&h);
	}
	return tok;
}

/* Old's free if it was sampled; then the new block is an allocation of
 * its own, sampled or not. */
static void sampled_realloc_end(struct pt_rec_realloc tok, void *old, void *p, size_t n,
                                int counted)
{
	struct hook h;
	if (!hook_enter(&h, 0))
		goto out;
	struct pt_rec_thread *t = h.t;
	if (!counted)
		t->hot.n_realloc++;
	if (!p && n > 0) {          /* failed: old is still there, unchanged */
		if (tok.old_info) {
			pt__rlive_put((uintptr_t)old, tok.old_info);
			pt__rsnap_live_add(t, sample_weight(block_bytes(old)));
		}
		goto out;
	}
	if (tok.seq1)
		record_free(t, tok.seq1 - 1, old, tok.old_info);
	if (!p)                     /* realloc(old, 0) freed it */
		goto out;
	if (!counted)
		t->hot.sample_left -= (int64_t)n;
	if (sample_due(t))
		sampled_record(t, p, n, pt__class_of((uintptr_t)p) != 0);
out:
	hook_leave(&h);
}

static const struct pt_rec_hooks sampled = {
	sampled_alloc, sampled_free, sampled_realloc_begin, sampled_realloc_end,
};

void pt__rhooks_select(void)
{
	pt__rec_hooks = pt__rcfg.sample ? &sampled : &full;
}
