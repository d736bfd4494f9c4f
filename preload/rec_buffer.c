/*
 * rec_buffer.c - the recorder's thread buffers (struct pt_rec_thread in
 * rec_internal.h): a thread appends events to its own buffer; a full one
 * is handed to the snapshot thread, which compresses and writes it while
 * the thread fills its second one; buffers of threads that sleep are
 * flushed for them, each interval and at exit.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "rec_internal.h"

_Atomic uint64_t pt__rec_seq;
__thread struct pt_rec_thread *pt__rec_self __attribute__((tls_model("initial-exec")));

static struct {
	struct pt_lock lock;       /* the list; reuse of a free buffer */
	struct pt_rec_thread *threads;
	atomic_uint next_stream;
	pthread_key_t key;         /* its destructor: the THREAD_EXIT record */
	int key_ok;
	int membarrier_ok;
	atomic_int flushing;       /* a pt__rbuf_flush_all is under way */
} B = {
	.lock = PT_LOCK_INIT(PT_RANK_THREADS),
	.next_stream = 1,   /* 0 is the shared stream */
};

int pt__rbuf_init(void)
{
	B.membarrier_ok = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
	                          0, 0) == 0;
	B.key_ok = pthread_key_create(&B.key, pt__rbuf_thread_done) == 0;
	return 0;
}

struct pt_rec_thread *pt__rbuf_thread_slow(void)
{
	struct pt_rec_thread *t;
	pt__lock_acquire(&B.lock);
	for (t = B.threads; t; t = t->next)
		if (t->state == PT_T_FREE)
			break;
	if (!t) {
		t = pt__map(sizeof *t, 0);
		if (!t) {
			pt__lock_release(&B.lock);
			return NULL;
		}
		t->next = B.threads;
		B.threads = t;
	}
	atomic_store(&t->busy, 0);
	atomic_store(&t->req, PT_REQ_NONE);
	t->cur = 0;
	t->buf = t->space[0];
	t->state = PT_T_LIVE;
	t->stream = atomic_fetch_add(&B.next_stream, 1);
	t->tid = (uint32_t)pt__gettid();
	t->len = 0;
	t->chunk_events = 0;
	t->last_ptr = 0;
	t->stack_hint = (uintptr_t)__builtin_frame_address(0);
	t->tp = (uintptr_t)pthread_self();
	t->live_delta = 0;   /* the counters go on: snapshots sum every buffer */
	t->rng = (pt__now_ns(CLOCK_MONOTONIC) ^ ((uint64_t)t->tid << 32)) | 1;
	t->interval = pt__rcfg.sample ? pt__rhooks_sample_interval(t) : 0;
	t->hot.sample_left = t->interval;
	pt__lock_release(&B.lock);
	pt__rec_self = t;
	pt__rec_tl = &t->hot;
	if (B.key_ok)
		pthread_setspecific(B.key, t);   /* no allocation: key < 32 */
	return t;
}

/* Write t's handed-over buffer b if it still waits for the snapshot
 * thread; the file's lock held (whoever writes it checks under the lock). */
static void hand_write_locked(struct pt_rec_thread *t, unsigned b)
{
	if (!atomic_load_explicit(&t->hand[b].ready, memory_order_acquire))
		return;
	pt__rfile_write_locked(t->stream, t->tid, t->hand[b].first_seq, t->space[b],
	                       t->hand[b].len);
	__atomic_fetch_add(&t->nflush, 1, __ATOMIC_RELAXED);
	atomic_store_explicit(&t->hand[b].ready, 0, memory_order_release);
}

/*
 * A buffer it handed over and that is still waiting goes first: a
 * stream's chunks reach the file in order.  The caller owns t (its
 * thread, or a flusher that stole it).
 */
void pt__rbuf_flush(struct pt_rec_thread *t, int blocking)
{
	if (t->len == 0)
		return;
	if (blocking)
		pt__rfile_lock();
	else if (pt__rfile_trylock())
		return;
	hand_write_locked(t, t->cur ^ 1);
	pt__rfile_write_locked(t->stream, t->tid, t->first_seq, t->buf, t->len);
	pt__rfile_unlock();
	__atomic_fetch_add(&t->nflush, 1, __ATOMIC_RELAXED);
	t->len = 0;
	t->chunk_events = 0;
}

/* The owner, at its begin, found a request: flush for the snapshot
 * thread, or wait while another thread flushes for it. */
void pt__rbuf_wait(struct pt_rec_thread *t)
{
	for (;;) {
		int r = atomic_load_explicit(&t->req, memory_order_acquire);
		if (r == PT_REQ_NONE)
			return;
		if (r == PT_REQ_FLUSH) {
			pt__rbuf_flush(t, 1);
			atomic_store_explicit(&t->req, PT_REQ_NONE, memory_order_relaxed);
			return;
		}
		/* being flushed by another thread: step out, wait, step in */
		atomic_store_explicit(&t->busy, 0, memory_order_release);
		while (atomic_load_explicit(&t->req, memory_order_acquire) == PT_REQ_STEAL)
			__builtin_ia32_pause();
		atomic_store_explicit(&t->busy, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
	}
}

/* The buffer is full: hand it to the snapshot thread and go on in the
 * other one, or, if the other is still waiting to be written, write both
 * now, the other first. */
void pt__rbuf_full(struct pt_rec_thread *t)
{
	unsigned o = t->cur ^ 1;
	if (!pt__rsnap_thread_started() ||
	    atomic_load_explicit(&t->hand[o].ready, memory_order_acquire)) {
		pt__rbuf_flush(t, 1);
		return;
	}
	t->hand[t->cur].len = t->len;
	t->hand[t->cur].first_seq = t->first_seq;
	atomic_store_explicit(&t->hand[t->cur].ready, 1, memory_order_release);
	t->cur = o;
	t->buf = t->space[o];
	t->len = 0;
	t->chunk_events = 0;
	pt__rsnap_wake();
}

/* The list's lock held (or a signal handler's flush). */
static void write_ready_listed(int blocking)
{
	for (struct pt_rec_thread *t = B.threads; t; t = t->next)
		for (unsigned b = 0; b < 2; b++) {
			if (!atomic_load_explicit(&t->hand[b].ready, memory_order_acquire))
				continue;
			if (blocking)
				pt__rfile_lock();
			else if (pt__rfile_trylock())
				return;
			hand_write_locked(t, b);
			pt__rfile_unlock();
		}
}

void pt__rbuf_write_ready(int blocking)
{
	pt__lock_acquire(&B.lock);
	write_ready_listed(blocking);
	pt__lock_release(&B.lock);
}

static int membarrier_all(void)
{
	return B.membarrier_ok &&
	       syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/* A thread whose destructor ran and that is gone: its buffer is free for
 * the next new thread; its counters stay in the totals. */
static void reclaim_if_gone(struct pt_rec_thread *t)
{
	if (t->state != PT_T_DYING || t->hand[0].ready || t->hand[1].ready ||
	    syscall(SYS_tgkill, pt__rcfg.pid, t->tid, 0) == 0 || errno != ESRCH)
		return;
	pt__rsnap_fold_quiet(t);
	t->bytes_alloc += (uint64_t)(t->interval - t->hot.sample_left);
	t->interval = t->hot.sample_left;
	t->state = PT_T_FREE;
}

/*
 * Flush other threads' buffers, as described at struct pt_rec_thread, and
 * the caller's own directly.  all = 0 (the snapshot thread, each
 * interval): only buffers holding events older than an interval; a thread
 * still appending is asked to flush itself, a thread that sleeps is
 * flushed here.  all = 1: everything (exit).  in_signal: never wait for a
 * lock.
 */
void pt__rbuf_flush_all(int all, int in_signal)
{
	struct pt_rec_thread *self = pt__rec_self;
	while (atomic_exchange(&B.flushing, 1)) {
		if (in_signal)
			return;   /* another flush is under way */
		sched_yield();
	}
	if (!in_signal)
		pt__lock_acquire(&B.lock);
	write_ready_listed(!in_signal);
	unsigned marked = 0;
	for (struct pt_rec_thread *t = B.threads; t; t = t->next) {
		if (t->state == PT_T_FREE || t == self)
			continue;
		uint32_t len = __atomic_load_n(&t->len, __ATOMIC_RELAXED);
		uint32_t nf = __atomic_load_n(&t->nflush, __ATOMIC_RELAXED);
		int old = nf == t->seen_nflush && t->seen_len != 0;   /* unflushed since */
		int idle = old && len == t->seen_len;
		t->seen_len = len;
		t->seen_nflush = nf;
		if (!all && !(old && len) && t->state != PT_T_DYING)
			continue;
		if (!all && !idle && t->state != PT_T_DYING) {
			if (atomic_load_explicit(&t->req, memory_order_relaxed) == PT_REQ_NONE)
				atomic_store_explicit(&t->req, PT_REQ_FLUSH, memory_order_relaxed);
			continue;
		}
		if (!atomic_load_explicit(&t->busy, memory_order_relaxed) &&
		    atomic_load_explicit(&t->req, memory_order_relaxed) == PT_REQ_NONE) {
			atomic_store_explicit(&t->req, PT_REQ_STEAL, memory_order_relaxed);
			marked++;
		}
	}
	int mb = marked && membarrier_all();
	for (struct pt_rec_thread *t = B.threads; t && marked; t = t->next) {
		if (t->state == PT_T_FREE || t == self ||
		    atomic_load_explicit(&t->req, memory_order_relaxed) != PT_REQ_STEAL)
			continue;
		if (!mb || atomic_load_explicit(&t->busy, memory_order_acquire)) {
			/* it is appending now, or we cannot tell: it flushes itself */
			atomic_store_explicit(&t->req, t->len ? PT_REQ_FLUSH : PT_REQ_NONE,
			                      memory_order_release);
			continue;
		}
		pt__rbuf_flush(t, !in_signal);
		t->seen_len = 0;
		if (!in_signal)
			reclaim_if_gone(t);
		atomic_store_explicit(&t->req, PT_REQ_NONE, memory_order_release);
	}
	if (self && !atomic_load_explicit(&self->busy, memory_order_relaxed))
		pt__rbuf_flush(self, !in_signal);
	if (!in_signal)
		pt__lock_release(&B.lock);
	atomic_store(&B.flushing, 0);
}

/* A thread's exit: its key destructor.  Later events of the same thread
 * (other destructors) still go to its buffer, flushed by the snapshot
 * thread, which reclaims it when the thread is gone. */
void pt__rbuf_thread_done(void *arg)
{
	struct pt_rec_thread *t = arg;
	if (!t || !pt__rec_on)
		return;
	pt__inside++;
	pt__rbuf_begin(t);
	uint8_t *q = pt__rbuf_room(t, PT_REC_EVENT_MAX);
	q = pt__rbuf_event(t, q, PT_REC_THREAD_EXIT, pt__rec_next_seq());
	struct pt_r_thread_exit r = { .tid = t->tid };
	PT_ENCODE(q, &r, PT_FIELDS_THREAD_EXIT);
	t->len = (uint32_t)(q - t->buf);
	pt__rbuf_flush(t, 1);
	t->state = PT_T_DYING;
	pt__rbuf_end(t);
	pt__inside--;
}

void pt__rbuf_each(void (*fn)(struct pt_rec_thread *t, void *arg), void *arg)
{
	pt__lock_acquire(&B.lock);
	for (struct pt_rec_thread *t = B.threads; t; t = t->next)
		fn(t, arg);
	pt__lock_release(&B.lock);
}

void pt__rbuf_fork_prepare(void)
{
	pt__lock_acquire(&B.lock);
}

void pt__rbuf_fork_parent(void)
{
	pt__lock_release(&B.lock);
}

/* The child: no buffered event of the parent's; the other threads are
 * gone, their buffers free. */
void pt__rbuf_fork_child(void)
{
	pt__lock_reinit(&B.lock);
	struct pt_rec_thread *self = pt__rec_self;
	for (struct pt_rec_thread *t = B.threads; t; t = t->next) {
		atomic_store(&t->busy, 0);
		atomic_store(&t->req, PT_REQ_NONE);
		atomic_store(&t->hand[0].ready, 0);
		atomic_store(&t->hand[1].ready, 0);
		t->len = 0;
		t->chunk_events = 0;
		t->n_malloc = t->n_free = t->hot.n_realloc = t->bytes_alloc = 0;
		t->hot.realloc_pool_in = t->hot.realloc_pool_out = 0;
		t->last_ptr = 0;
		t->n_pool = t->bytes_pool = 0;
		t->live_delta = 0;
		t->interval = t->hot.sample_left;
		memset(t->icache, 0, sizeof t->icache);   /* the child's file defines no info */
		t->walk_stack.id = 0;   /* nor its stack table any stack */
		t->state = t == self ? PT_T_LIVE : PT_T_FREE;
	}
	if (self)
		self->tid = (uint32_t)pt__gettid();
	atomic_store(&B.flushing, 0);
	B.membarrier_ok = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
	                          0, 0) == 0;
}
