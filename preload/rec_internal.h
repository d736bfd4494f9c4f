/*
 * rec_internal.h - what the files of the recorder share (recorder.h is
 * what the rest of the library sees).
 *
 *   recorder.c     options, start and exit, fork, fatal signals
 *   rec_hooks.c    the slow hooks: full recording and sampling, chosen at start
 *   rec_buffer.c   thread buffers: appending, handing over, flushing
 *   rec_file.c     the trace file: header, chunks, zstd, module records
 *   rec_info.c     infos: (size, stack, pool or glibc) interned
 *   rec_live.c     the live blocks' infos (shadow words, table, sampling filter)
 *   rec_snapshot.c snapshots, pinned arenas, the live heap's peak, the
 *                  snapshot thread
 *   leakscan.c     the exit scan's roots and LEAKS records (heapscan.c floods)
 *
 * Each file keeps its state in one struct of its own.  Locks (common.h
 * gives their order): the thread list (rec_buffer.c), the stack table,
 * the live table, the file, the modules, the infos, then the allocator's.
 */
#ifndef POOLTRACE_REC_INTERNAL_H
#define POOLTRACE_REC_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "common.h"
#include "recorder.h"
#include "stacks.h"
#include "trace_codec.h"

#define PT_REC_BUF_SIZE   (64u << 10)   /* a thread's event buffer */
#define PT_REC_EVENT_MAX  64            /* bytes an event record may take */
#define PT_REC_ICACHE     2048          /* a thread's cache of infos */
#define PT_REC_LIVE_BATCH (256 << 10)   /* live bytes a thread holds back */

/* ---- the configuration (recorder.c), fixed at start (and in a fork child) */

struct pt_rec_config {
	unsigned depth;            /* frames per stack */
	uint64_t sample;           /* mean bytes between samples; 0: every event */
	pid_t pid;
	int forked;                /* a fork child's trace */
	uint64_t t0_mono, t0_real; /* start */
};
PT_HIDDEN extern struct pt_rec_config pt__rcfg;

/* ---- thread buffers (rec_buffer.c) ---------------------------------------- */

/*
 * A thread's buffer; never freed, reused once its thread is gone.
 *
 * Only its thread appends, inside pt__rbuf_begin()/pt__rbuf_end(), which
 * cost two plain stores and a load: no atomic read-modify-write, no fence
 * (a locked instruction per event cost more than the rest of the
 * recording on memory-bound hosts).  Another thread that wants to flush it
 * (the snapshot thread, for a thread that sleeps; a fatal signal handler)
 * sets req = PT_REQ_STEAL, makes every thread execute a memory barrier
 * with membarrier(2), and then finds busy clear (the owner is outside and
 * will wait at its next begin until req is cleared) or set (it backs off).
 * Without membarrier it asks the owner to flush at its next event instead.
 */
struct pt_rec_thread {
	struct pt_rec_hot hot;     /* first: pt__rec_tl points here; a line of
	                              its own, which only the owner writes */
	atomic_int busy __attribute__((aligned(64)));   /* the owner is appending */
	atomic_int req;            /* PT_REQ_* */
	int state;                 /* PT_T_* */
	uint32_t stream, tid;
	uint64_t first_seq, last_seq;
	int chunk_events;          /* events in the current chunk (0: none yet,
	                              though stack records may precede them) */
	uintptr_t last_ptr;        /* the block of the last allocation recorded */
	uint32_t last_info;        /* ... and its info, for temporary frees */
	uintptr_t stack_hint;      /* an address in the thread's stack, and */
	uintptr_t tp;              /* its thread pointer, at the top of a
	                              glibc thread stack: the exit scan reads
	                              that mapping up to there as a root */
	uint32_t len;
	uint32_t nflush;           /* chunks written (by anyone) */
	uint32_t seen_len, seen_nflush;   /* the snapshot thread's last look */
	/* counters, written by the owner in the slow path, read by snapshots.
	 * Every call when every event is recorded; with sampling only calls
	 * served by glibc (the allocator counts the pool's), and the bytes the
	 * countdown consumed: bytes_alloc + interval - hot.sample_left */
	uint64_t n_malloc, n_free, bytes_alloc, n_pool, bytes_pool;
	int64_t interval;          /* the countdown's last start */
	int64_t live_delta;        /* block bytes not yet folded into the total */
	int tick;                  /* hooks before the next inline tick (0: at
	                              each, INT_MAX: the thread runs) */
	uint64_t rng;
	struct pt_unwind_memo unwind_memo;   /* the owner's last stack walk */
	uint32_t last_stack_id;    /* the owner's last stack (pt__stacks_intern) */
	struct {                   /* the stack of unwind_memo's last walk */
		uint32_t id, epoch;  /* id 0: none (a fork child's table is new) */
	} walk_stack;
	struct pt_rec_thread *next;
	struct {                   /* recent infos: (size, stack << 1 | glibc) -> id */
		uint64_t size;
		uint32_t key, id;
	} icache[PT_REC_ICACHE];
	/* two buffers: the thread fills one while the snapshot thread
	 * compresses and writes the other, on another core if there is one */
	uint8_t *buf;              /* space[cur], being filled */
	unsigned cur;
	struct {
		atomic_int ready;  /* full, waiting for the snapshot thread */
		uint32_t len;
		uint64_t first_seq;
	} hand[2];
	uint8_t space[2][PT_REC_BUF_SIZE];
};
enum { PT_T_LIVE, PT_T_DYING, PT_T_FREE };
enum { PT_REQ_NONE, PT_REQ_STEAL, PT_REQ_FLUSH };

/* The process-wide event counter: every record that is ordered takes a
 * number from it. */
PT_HIDDEN extern _Atomic uint64_t pt__rec_seq;

/* While glibc says the process has one thread (no pthread_create yet, ours
 * included), a plain increment: no other thread takes numbers, and a
 * signal handler that interrupts one inside a hook records nothing (the
 * reentrancy guard).  A locked add per event was 3% of churn's time with
 * every event recorded. */
static inline uint64_t pt__rec_next_seq(void)
{
	if (pt__single_threaded()) {
		uint64_t s = atomic_load_explicit(&pt__rec_seq, memory_order_relaxed);
		atomic_store_explicit(&pt__rec_seq, s + 1, memory_order_relaxed);
		return s;
	}
	return atomic_fetch_add_explicit(&pt__rec_seq, 1, memory_order_relaxed);
}

/* This thread's buffer, NULL until its first event. */
PT_HIDDEN extern __thread struct pt_rec_thread *pt__rec_self
	__attribute__((tls_model("initial-exec")));

/* This thread's buffer, taken (or a free one reused) at its first event;
 * NULL if there is no memory for one. */
PT_HIDDEN struct pt_rec_thread *pt__rbuf_thread_slow(void);
static inline struct pt_rec_thread *pt__rbuf_thread(void)
{
	struct pt_rec_thread *t = pt__rec_self;
	return PT_LIKELY(t != NULL) ? t : pt__rbuf_thread_slow();
}

PT_HIDDEN void pt__rbuf_wait(struct pt_rec_thread *t);

/* The owner appends between these two. */
static inline void pt__rbuf_begin(struct pt_rec_thread *t)
{
	atomic_store_explicit(&t->busy, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	if (PT_UNLIKELY(atomic_load_explicit(&t->req, memory_order_relaxed) != PT_REQ_NONE))
		pt__rbuf_wait(t);
}

static inline void pt__rbuf_end(struct pt_rec_thread *t)
{
	atomic_store_explicit(&t->busy, 0, memory_order_release);
}

PT_HIDDEN void pt__rbuf_full(struct pt_rec_thread *t);

/* Room for need bytes in t's buffer (begin done); flushes if full. */
static inline uint8_t *pt__rbuf_room(struct pt_rec_thread *t, size_t need)
{
	if (PT_UNLIKELY(t->len + need > PT_REC_BUF_SIZE))
		pt__rbuf_full(t);
	return t->buf + t->len;
}

/* An event's type byte and seq, the delta from the chunk's last event. */
static inline uint8_t *pt__rbuf_event(struct pt_rec_thread *t, uint8_t *p, unsigned type,
                                      uint64_t seq)
{
	if (!t->chunk_events) {
		t->first_seq = seq;
		t->last_seq = seq;
		t->chunk_events = 1;
	}
	uint64_t d = seq - t->last_seq;
	t->last_seq = seq;
	return pt_enc_event(p, type, d);
}

/* Write t's buffer out; blocking: may wait for the file's lock. */
PT_HIDDEN void pt__rbuf_flush(struct pt_rec_thread *t, int blocking);
/* Write the buffers threads handed over (the snapshot thread). */
PT_HIDDEN void pt__rbuf_write_ready(int blocking);
/* Flush other threads' buffers and this one's: all = 0, only those older
 * than an interval (each interval), 1 everything (exit); in_signal: never
 * wait for a lock.  Reclaims the buffers of threads that are gone. */
PT_HIDDEN void pt__rbuf_flush_all(int all, int in_signal);
/* The THREAD_EXIT record of a thread's key destructor. */
PT_HIDDEN void pt__rbuf_thread_done(void *arg);
/* Call fn for every buffer, under the thread list's lock. */
PT_HIDDEN void pt__rbuf_each(void (*fn)(struct pt_rec_thread *t, void *arg), void *arg);
PT_HIDDEN int pt__rbuf_init(void);
PT_HIDDEN void pt__rbuf_fork_prepare(void);
PT_HIDDEN void pt__rbuf_fork_parent(void);
PT_HIDDEN void pt__rbuf_fork_child(void);

/* ---- the file (rec_file.c) ------------------------------------------------ */

PT_HIDDEN int pt__rfile_init(void);
PT_HIDDEN void pt__rfile_lock(void);
PT_HIDDEN int pt__rfile_trylock(void);
PT_HIDDEN void pt__rfile_unlock(void);
/* The file exists (created at the first chunk written). */
PT_HIDDEN int pt__rfile_created(void);
/*
 * Append one chunk, creating the file first if need be, after the INFO
 * records of infos created since the last chunk (the chunk may use them).
 * The file's lock held.  0, or -1 after profiling was stopped (one line).
 */
PT_HIDDEN int pt__rfile_write_locked(uint32_t stream, uint32_t tid, uint64_t first_seq,
                                     const uint8_t *data, uint32_t len);
/* The same on stream 0, the shared one, numbered seq. */
PT_HIDDEN int pt__rfile_write0_locked(uint64_t seq, const uint8_t *data, size_t len);
/* A chunk of INFO definitions on stream 0 (rec_info.c, which holds its
 * own lock; the file exists). */
PT_HIDDEN int pt__rfile_write_defs_locked(const uint8_t *data, size_t len);
/* Stop profiling for good, with one warning line (errno e). */
PT_HIDDEN void pt__rfile_fail(const char *what, int e);
/* A frame that no module the trace listed covers: write a new module map
 * if the loader's list changed. */
PT_HIDDEN void pt__rfile_modules_check(void *const *ip, int n);
PT_HIDDEN void pt__rfile_modules_refresh(void);
/* The module map's generation (stored with new stacks) and the stack
 * epoch (bumped when a module was unloaded). */
PT_HIDDEN extern atomic_uint pt__rec_mod_gen, pt__rec_epoch;
PT_HIDDEN void pt__rfile_fork_prepare(void);
PT_HIDDEN void pt__rfile_fork_parent(void);
PT_HIDDEN void pt__rfile_fork_child(void);

/* ---- infos (rec_info.c) ---------------------------------------------------- */

struct pt_rec_info {
	uint64_t size;
	uint32_t stack, kind;      /* kind: 0 a pool block, 1 glibc's */
};
PT_HIDDEN extern struct pt_rec_info *pt__rec_infos;   /* by id; 0 is "unknown" */
/* Infos defined so far: ids 1..n-1 (acquire, to read their entries). */
PT_HIDDEN uint32_t pt__rinfo_count(void);
/* The id of (size, stack, kind); 0 if the table is full. */
PT_HIDDEN uint32_t pt__rinfo_get(struct pt_rec_thread *t, uint64_t size, uint32_t stack,
                                 unsigned kind);
/* Write the INFO records not yet written (the file's lock held). */
PT_HIDDEN int pt__rinfo_write_locked(void);
PT_HIDDEN int pt__rinfo_init(void);
PT_HIDDEN void pt__rinfo_fork_prepare(void);
PT_HIDDEN void pt__rinfo_fork_parent(void);
PT_HIDDEN void pt__rinfo_fork_child(void);

/* ---- live blocks (rec_live.c) ---------------------------------------------- */

/* Block p, now live, has info id (nonzero). */
PT_HIDDEN void pt__rlive_put(uintptr_t p, uint32_t id);
/* Block p is being freed: its info, forgotten, or 0 if not recorded. */
PT_HIDDEN uint32_t pt__rlive_take(uintptr_t p);
/* The info of the pool block at p (the shadow words), 0 if none or no
 * shadow.  For readers that hold no lock: the value may be stale. */
PT_HIDDEN uint32_t pt__rlive_peek(uintptr_t p);
/* Blocks of the allocator's region have shadow words. */
PT_HIDDEN int pt__rlive_has_shadow(void);
struct hs_block;
/* The live blocks with an info below ninfo, into b (NULL: count only);
 * the live table's lock held. */
PT_HIDDEN size_t pt__rlive_blocks(struct hs_block *b, size_t cap, uint32_t ninfo);
PT_HIDDEN void pt__rlive_lock(void);
PT_HIDDEN void pt__rlive_unlock(void);
PT_HIDDEN int pt__rlive_init(void);
PT_HIDDEN void pt__rlive_fork_child(void);

/* ---- the live heap, snapshots, the snapshot thread (rec_snapshot.c) --------- */

/* Fold a thread's live-byte delta into the total; a new peak asks the
 * snapshot thread for a PEAK snapshot. */
PT_HIDDEN void pt__rsnap_fold(struct pt_rec_thread *t);

/* Move the thread's live bytes by d, folded once PT_REC_LIVE_BATCH away. */
static inline void pt__rsnap_live_add(struct pt_rec_thread *t, int64_t d)
{
	t->live_delta += d;
	if (t->live_delta > PT_REC_LIVE_BATCH || t->live_delta < -PT_REC_LIVE_BATCH)
		pt__rsnap_fold(t);
}

/* Add a thread's held-back live bytes to the total now (exit, reuse). */
PT_HIDDEN void pt__rsnap_fold_quiet(struct pt_rec_thread *t);
/* Write a snapshot record (PT_SNAP_*).  Takes the file's lock (and the
 * allocator's inside); the caller holds neither. */
PT_HIDDEN void pt__rsnap_take(int kind);
/* Wake the snapshot thread (a buffer was handed over, a peak passed). */
PT_HIDDEN void pt__rsnap_wake(void);
PT_HIDDEN int pt__rsnap_thread_started(void);
/* The snapshot thread's kernel id, 0 until it runs. */
PT_HIDDEN pid_t pt__rsnap_thread_tid(void);
/* Without the snapshot thread (the program has one thread): a hook begins,
 * before its event; it takes the snapshots that are due (an interval
 * passed, by the coarse clock; a new peak).  The recorder's guard held, no
 * lock. */
PT_HIDDEN void pt__rsnap_tick(struct pt_rec_thread *t);
/* At start (and in a fork child): the thread now if the process has
 * threads already, else at the program's first pthread_create. */
PT_HIDDEN void pt__rsnap_start(void);
/* The program is about to create a thread: start ours first. */
PT_HIDDEN void pt__rsnap_threads_begin(void);
PT_HIDDEN void pt__rsnap_stop(void);
PT_HIDDEN void pt__rsnap_fork_child(void);

/* ---- the exit scan (leakscan.c) --------------------------------------------- */

/* What the exit scan needs to know from the start: the main thread's
 * thread pointer (called on the main thread), where glibc keeps static
 * TLS and thread descriptors, the dynamic linker's text. */
PT_HIDDEN void pt__leak_scan_init(void);
/* Classify the live blocks by reachability and write LEAKS records; ctx:
 * where the exiting thread's stack and registers are taken from. */
PT_HIDDEN void pt__leak_scan(const struct pt_exit_context *ctx);

/* ---- the hooks (rec_hooks.c) ----------------------------------------------- */

/* Choose full recording or sampling (pt__rcfg.sample), once at start. */
PT_HIDDEN void pt__rhooks_select(void);
/* A new countdown to the next sampled allocation. */
PT_HIDDEN int64_t pt__rhooks_sample_interval(struct pt_rec_thread *t);
/* The recorder's stack table. */
PT_HIDDEN extern struct pt_stack_table pt__rec_stacks;

#endif
